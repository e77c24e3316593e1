/**
 * TLS for the servers and their clients (RFC 8446): a server's certificate
 * and key from PEM files, the client side of mutual TLS
 * (`Deno.createHttpClient` with the root and a client certificate), and the
 * check of a client certificate against the root, a purpose and the current
 * CRLs, and a CRL file that a server reloads without a restart.
 *
 * @module
 */
import type { Transport } from "../../src/protocol/mod.ts";
import {
  type CertificatePurpose,
  CrlSet,
  parseCertificate,
  verifyChain,
} from "../../src/pki/mod.ts";
import type { PeerIdentity, ServerTls } from "./listener.ts";

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

/** The current CRLs of a server, read from a PEM file and replaced on {@link CrlFile.reload}. */
export interface CrlFile {
  /** The CRLs in force (for `ClientCheckOptions.crls` and `verifyChain`'s `crls`). */
  current(): CrlSet;
  /**
   * Reads the file again and puts its CRLs in force. A file that does not
   * parse, or whose CRL of an issuer is older (lower cRLNumber) than the one
   * in force, leaves the CRLs in force unchanged and throws.
   */
  reload(): Promise<void>;
}

/** Splits a PEM file into its `X509 CRL` blocks. */
function crlBlocks(path: string, text: string): string[] {
  const blocks = text.match(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g) ?? [];
  if (blocks.length === 0) throw new TypeError(`${path} holds no PEM CRL (X509 CRL)`);
  return blocks;
}

/**
 * Loads the CRLs of a PEM file (one or more `X509 CRL` blocks, e.g. one per CA).
 *
 * @param path the file.
 * @returns the CRLs in force and their reload.
 * @throws {Deno.errors.NotFound} for a missing file; `TypeError` for a file
 *   without CRLs; `CertificateError` naming the CRL that does not parse.
 */
export async function loadCrlFile(path: string): Promise<CrlFile> {
  const read = async () => new CrlSet(crlBlocks(path, await Deno.readTextFile(path)));
  let set = await read();
  return {
    current: () => set,
    async reload() {
      const next = await read();
      for (const old of set.crls) {
        const same = next.crls.filter((c) => c.issuerText === old.issuerText);
        if (same.length > 0 && same.every((c) => c.crlNumber < old.crlNumber)) {
          throw new RangeError(
            `${path}: the CRL of "${old.issuerText}" is older (cRLNumber ${
              same.map((c) => c.crlNumber).join(", ")
            }) than the one in force (${old.crlNumber})`,
          );
        }
      }
      set = next;
    },
  };
}
