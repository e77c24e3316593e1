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
  type CertificatePurpose,
  type CrlSet,
  parseCertificate,
  verifyChain,
} from "../../src/pki/mod.ts";
import { ValidationError } from "../../src/protocol/errors.ts";
import type { PeerIdentity, ServeLimits, ServerTls } from "./listener.ts";
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
  /** Refuse connections without a client certificate (else they proceed with no identity). */
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
    await verifyChain(certificate, {
      roots: o.roots,
      intermediates: o.intermediates,
      purpose: o.purpose,
      crls: o.crls?.(),
    });
    return { subject: parseCertificate(certificate).subjectText, certificate };
  };
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
