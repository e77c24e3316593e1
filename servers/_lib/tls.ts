/**
 * TLS for the servers and their clients (RFC 8446): a server's certificate
 * and key from PEM files, the client side of mutual TLS
 * (`Deno.createHttpClient` with the root and a client certificate), and the
 * check of a client certificate against the root, a purpose and the current
 * CRLs, and the socket options of a server's `main.ts`.
 *
 * @module
 */
import type { Transport } from "../../src/protocol/mod.ts";
import {
  CertificateError,
  type CertificatePurpose,
  type CrlSet,
  parseCertificate,
  verifyChain,
} from "../../src/pki/mod.ts";
import { ForbiddenError, UnauthorizedError, ValidationError } from "../../src/protocol/errors.ts";
import { type PeerIdentity, peerIdentity, type ServeLimits, type ServerTls } from "./listener.ts";
import type { Route } from "./router.ts";
import type { Logger } from "./log.ts";
import type { ServerFlags } from "./serve.ts";

/**
 * Reads a server's certificate chain and private key (PEM files).
 *
 * @param files `certFile` (leaf first) and `keyFile` (PKCS#8 or PKCS#1).
 * @param checkClient optional client certificate check ({@link clientCertificateCheck}).
 * @returns the TLS settings of `serveApp`.
 * @throws {Deno.errors.NotFound} when a file is missing; `TypeError` when one is not PEM.
 */
export async function readServerTls(
  files: { certFile: string; keyFile: string },
  checkClient?: ServerTls["checkClient"],
): Promise<ServerTls> {
  const cert = await Deno.readTextFile(files.certFile);
  const key = await Deno.readTextFile(files.keyFile);
  if (!cert.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TypeError(`${files.certFile} holds no PEM certificate`);
  }
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(key)) {
    throw new TypeError(`${files.keyFile} holds no PEM private key`);
  }
  return { cert, key, checkClient };
}

/** What a TLS client trusts and, for mutual TLS, the certificate it presents. */
export interface TlsClientOptions {
  /** Root certificates (PEM) the server's certificate must chain to. */
  caCerts: string[];
  /** The client's certificate chain (PEM), for mutual TLS. */
  cert?: string;
  /** The client's private key (PEM), with `cert`. */
  key?: string;
}

/**
 * An HTTP client that checks the server against `caCerts` only (not the
 * system roots) and presents a client certificate when one is given.
 *
 * @param o roots, and the client certificate and key for mutual TLS.
 * @returns the client; close it when done.
 * @throws {TypeError} for a certificate without its key (or the reverse).
 */
export function tlsClient(o: TlsClientOptions): Deno.HttpClient {
  if ((o.cert === undefined) !== (o.key === undefined)) {
    throw new TypeError("a client certificate needs its key, and a key its certificate");
  }
  if (o.caCerts.length === 0) throw new TypeError("caCerts must hold at least one root");
  return o.cert !== undefined && o.key !== undefined
    ? Deno.createHttpClient({ caCerts: o.caCerts, cert: o.cert, key: o.key })
    : Deno.createHttpClient({ caCerts: o.caCerts });
}

/**
 * A protocol transport over a TLS client (e.g. the MTMS's link to the KMS).
 *
 * @param client from {@link tlsClient}.
 * @returns the transport.
 */
export function clientTransport(client: Deno.HttpClient): Transport {
  return (request) => fetch(request, { client });
}

/** Options of {@link clientCertificateCheck}. */
export interface ClientCheckOptions {
  /** The root CA (PEM) client certificates must chain to. */
  roots: string[];
  /** Intermediate CA certificates (PEM), if any. */
  intermediates?: string[];
  /** What the client certificate must be for (e.g. `mtms-client`). */
  purpose: CertificatePurpose;
  /**
   * Refuse connections without a valid client certificate. Else a connection
   * without one proceeds with no identity, and one whose certificate fails
   * proceeds with the refusal in `PeerIdentity.refused`, for the routes that
   * need the identity to answer 403 naming it ({@link requireClientCertificate}).
   */
  required: boolean;
  /** The current CRLs, read on every check so a reloaded set applies at once. */
  crls?: () => CrlSet;
}

/**
 * A client certificate check for `ServerTls.checkClient`: the certificate
 * must chain to the root, be valid now, carry the purpose, and (with `crls`)
 * not be revoked.
 *
 * @param o roots, purpose, whether a certificate is required, the CRLs.
 * @returns the check; it throws `CertificateError` (its `code` says why) to refuse.
 */
export function clientCertificateCheck(
  o: ClientCheckOptions,
): (certificate: Uint8Array | undefined) => Promise<PeerIdentity | undefined> {
  return async (certificate) => {
    if (certificate === undefined) {
      if (o.required) throw new Error("a client certificate is required");
      return undefined;
    }
    try {
      await verifyChain(certificate, {
        roots: o.roots,
        intermediates: o.intermediates,
        purpose: o.purpose,
        crls: o.crls?.(),
      });
    } catch (e) {
      if (o.required || !(e instanceof CertificateError)) throw e;
      return {
        subject: subjectOf(certificate),
        certificate,
        refused: { code: e.code, message: e.message },
      };
    }
    return { subject: parseCertificate(certificate).subjectText, certificate };
  };
}

/** A certificate's subject for messages, or a note that it does not parse. */
function subjectOf(certificate: Uint8Array): string {
  try {
    return parseCertificate(certificate).subjectText;
  } catch {
    return "(a certificate that does not parse)";
  }
}

/** The error code of a refused client certificate, by the check that failed. */
function refusalCode(code: string): string {
  if (code === "revoked") return "client_certificate_revoked";
  if (code === "key_usage" || code === "extended_key_usage") {
    return "client_certificate_wrong_purpose";
  }
  if (code.startsWith("crl_")) return "client_certificate_status_unknown";
  return "client_certificate_invalid";
}

/**
 * The identity a request's client certificate proved (mutual TLS), for a
 * route only one party may call.
 *
 * @param request the request, as the listener passed it.
 * @param what the route, for messages (e.g. `POST /v1/tk-batches`).
 * @returns the identity.
 * @throws {UnauthorizedError} `client_certificate_required` when none was
 *   presented (or the server asks for none); {@link ForbiddenError}
 *   `client_certificate_revoked`, `client_certificate_wrong_purpose`,
 *   `client_certificate_status_unknown` (no usable CRL) or
 *   `client_certificate_invalid` (chain, validity) for one that failed the check.
 */
export function requireClientCertificate(request: Request, what: string): PeerIdentity {
  const peer = peerIdentity(request);
  if (!peer) {
    throw new UnauthorizedError(
      "client_certificate_required",
      `${what} is for the MTMS only: it needs its client certificate (mutual TLS, profile ` +
        "mtms-client, from the project's CA); none was presented",
    );
  }
  if (peer.refused) {
    throw new ForbiddenError(
      refusalCode(peer.refused.code),
      `${what}: the client certificate "${peer.subject}" is refused: ${peer.refused.message}`,
    );
  }
  return peer;
}

/**
 * Routes that only the MTMS calls (S14's TK batches), guarded by its client
 * certificate: the handler runs only for a request whose connection proved
 * an `mtms-client` certificate ({@link requireClientCertificate}); the MAC
 * under MAK is checked as well, inside the handler.
 *
 * @param routes the route table.
 * @param operationIds the routes to guard.
 * @returns the table, those routes guarded.
 */
export function mutualTlsOnly(routes: Route[], operationIds: readonly string[]): Route[] {
  return routes.map((r) =>
    operationIds.includes(r.operationId)
      ? {
        ...r,
        summary: `${r.summary}. Mutual TLS: the MTMS's client certificate (mtms-client)`,
        handler: (request, input) => {
          requireClientCertificate(request, `${r.method} ${r.path}`);
          return r.handler(request, input);
        },
      }
      : r
  );
}

/**
 * The socket options `main.ts` serves with: HTTPS from `--tls-cert-file` and
 * `--tls-key-file`, or plain HTTP when `--insecure-http` asks for it (logged
 * at warn as `<name>.insecure_http`); the default socket limits either way.
 *
 * @param name the server's name in log events.
 * @param flags the parsed TLS flags.
 * @param log where the warning goes.
 * @param checkClient the client certificate check, if the server asks for one.
 * @returns `tls` and `limits` for `serveApp`.
 * @throws {ValidationError} `tls_required` when neither TLS files nor `--insecure-http` are given.
 */
export async function serverSocket(
  name: string,
  flags: Pick<ServerFlags, "tls" | "insecureHttp">,
  log: Logger,
  checkClient?: ServerTls["checkClient"],
): Promise<{ tls?: ServerTls; limits: Partial<ServeLimits> }> {
  if (flags.tls) return { tls: await readServerTls(flags.tls, checkClient), limits: {} };
  if (!flags.insecureHttp) {
    throw new ValidationError(
      "tls_required",
      "serving needs --tls-cert-file and --tls-key-file (HTTPS), or --insecure-http for plain HTTP",
    );
  }
  log.log("warn", `${name}.insecure_http`, {
    detail: "plain HTTP asked for with --insecure-http: no server identity, no confidentiality",
  });
  return { limits: {} };
}
