/**
 * TLS for the demo and the test worlds on sockets: certificates from the
 * demo's CA for the KMS and the MTMS (`kms-server`, `localhost`), the MTMS's
 * client certificate (`mtms-client`) that S14 needs, the KMS's CRL file,
 * and the transports: the MTMS's to the KMS (mutual TLS) and the devices'
 * (the root written at flashing only).
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey } from "../src/core/mod.ts";
import { exportPkcs8Pem, generateRsaKeyPair } from "../src/crypto/mod.ts";
import { issueCertificate } from "../src/pki/mod.ts";
import type { DemoPki, TlsIdentity } from "./setup.ts";
import type { ServerTls } from "../servers/_lib/listener.ts";
import { type CrlFile, loadCrlFile } from "../servers/_lib/revocation.ts";
import { clientCertificateCheck } from "../servers/_lib/tls.ts";
import { type TlsTransport, tlsTransport } from "../src/protocol/mod.ts";

/** What servers on sockets serve and connect with. */
export interface SocketTls {
  /** The KMS's certificate; it asks for client certificates (the MTMS's, checked with the CRLs). */
  kmsServer: ServerTls;
  /** The MTMS's certificate. */
  mtmsServer: ServerTls;
  /** The MTMS's client certificate to the KMS. */
  mtmsClient: TlsIdentity;
  /** The MTMS's transport to the KMS: the root, and its client certificate. */
  mtmsToKms: TlsTransport;
  /** The devices' transport: the root written at flashing. */
  devices: TlsTransport;
  /** The KMS's CRLs (the file it reloads on SIGHUP). */
  crls: CrlFile;
  /** Publishes a new CRL of the root revoking `serials` and has the KMS reload it. */
  revoke(serials: string[]): Promise<void>;
  /** A server's base URL under the name its certificate holds (`https://localhost:PORT`). */
  url(server: { port: number }): string;
  /** Closes the transports. */
  close(): void;
}

/** The certificates of a CA, made once (RSA key generation is slow). */
const identities = new WeakMap<DemoPki, Promise<TlsIdentity[]>>();

function identitiesOf(pki: DemoPki): Promise<TlsIdentity[]> {
  if (!identities.has(pki)) {
    identities.set(
      pki,
      Promise.all([
        pki.issueTls("kms-server", "localhost"),
        pki.issueTls("kms-server", "localhost"),
        pki.issueTls("mtms-client", "MTMS"),
      ]),
    );
  }
  return identities.get(pki)!;
}

/**
 * TLS for a KMS and an MTMS on sockets.
 *
 * @param pki the CA.
 * @param dir where the CRL file goes.
 * @returns the servers' TLS, the transports, the CRLs.
 */
export async function socketTls(pki: DemoPki, dir: string): Promise<SocketTls> {
  const [kms, mtms, mtmsClient] = await identitiesOf(pki);
  const crlPath = `${dir}/crl.pem`;
  let crlNumber = 1n;
  await Deno.writeTextFile(crlPath, await pki.issueCrl(crlNumber, []));
  const crls = await loadCrlFile(crlPath);
  const mtmsToKms = tlsTransport([pki.rootPem], mtmsClient);
  const devices = tlsTransport([pki.rootPem]);
  return {
    kmsServer: {
      cert: kms.cert,
      key: kms.key,
      checkClient: clientCertificateCheck({
        roots: [pki.rootPem],
        purpose: "mtms-client",
        required: false,
        crls: crls.current,
      }),
    },
    mtmsServer: { cert: mtms.cert, key: mtms.key },
    mtmsClient,
    mtmsToKms,
    devices,
    crls,
    async revoke(serials) {
      await Deno.writeTextFile(crlPath, await pki.issueCrl(++crlNumber, serials));
      await crls.reload();
    },
    url: (server) => `https://localhost:${server.port}`,
    close() {
      mtmsToKms.close();
      devices.close();
    },
  };
}

/**
 * A server certificate (`kms-server`, `localhost`) issued by `ca`, and a
 * transport that trusts `ca`'s root only (the flow B world's terminals).
 *
 * @param ca the CA: its certificate (PEM, a root) and private key.
 * @param core the crypto core.
 * @returns the server's TLS, the transport and its close.
 */
export async function tlsUnder(
  ca: { certificate: string; key: RsaPrivateKey },
  core: CryptoCore,
): Promise<{ server: ServerTls } & TlsTransport> {
  const k = await generateRsaKeyPair({ bits: 2048, core });
  const now = Math.floor(Date.now() / 1000) * 1000;
  const cert = await issueCertificate({
    profile: "kms-server",
    subject: { commonName: "localhost" },
    publicKey: k.publicKey,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 30 * 86_400_000),
    issuer: { privateKey: ca.key, certificate: ca.certificate },
    dnsNames: ["localhost"],
  }, { core });
  return { server: { cert, key: exportPkcs8Pem(k.privateKey) }, ...tlsTransport([ca.certificate]) };
}
