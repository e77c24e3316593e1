/**
 * A TR-34 test PKI issued by the project's CA (src/pki): a root, a KDH CA
 * (the KMS CA), two KDH certificates (one expiring early, one to revoke),
 * two KRD certificates, with RSA keys from node:crypto; files written for
 * `openssl cms` and the CLI.
 *
 * @module
 */
import type { RsaPrivateKey } from "../../src/core/mod.ts";
import { exportPkcs8Pem } from "../../src/crypto/mod.ts";
import { issueCertificate } from "../../src/pki/mod.ts";
import { nodeRsaKey, type TestKey } from "../pki/_keys.ts";

/** One party: certificate PEM and key. */
export interface Party {
  cert: string;
  key: RsaPrivateKey;
  /** Paths of the PEM certificate and PKCS#8 key in {@link TestPki.dir}. */
  certFile: string;
  keyFile: string;
}

/** The test PKI. */
export interface TestPki {
  dir: string;
  root: Party;
  kdhCa: Party;
  kdh: Party;
  kdh2: Party;
  kdhShort: Party;
  krd: Party;
  krd2: Party;
}

const T = (s: string) => new Date(s);
/** Time at which every certificate below except `kdhShort` is valid. */
export const AT = T("2027-06-01T00:00:00Z");
const ORG = { organization: "TR34 Test", country: "US" };

/** Issues the test PKI into a fresh temporary directory. */
export async function makePki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "tr34_" });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  const write = async (name: string, cert: string, k: TestKey): Promise<Party> => {
    const certFile = `${dir}/${name}.crt`;
    const keyFile = `${dir}/${name}.key`;
    await Deno.writeTextFile(certFile, cert);
    await Deno.writeTextFile(keyFile, exportPkcs8Pem(k.privateKey));
    return { cert, key: k.privateKey, certFile, keyFile };
  };
  const rk = nodeRsaKey();
  const root = await write(
    "root",
    await issueCertificate({
      profile: "root-ca",
      subject: { commonName: "TR34 Test Root", ...ORG },
      publicKey: rk.publicKey,
      notBefore: T("2026-01-01T00:00:00Z"),
      notAfter: T("2046-01-01T00:00:00Z"),
      issuer: { privateKey: rk.privateKey },
    }),
    rk,
  );
  const ck = nodeRsaKey();
  const kdhCa = await write(
    "kdh_ca",
    await issueCertificate({
      profile: "kms-ca",
      subject: { commonName: "TR34 Test CA KDH", ...ORG },
      publicKey: ck.publicKey,
      notBefore: T("2026-01-01T00:00:00Z"),
      notAfter: T("2041-01-01T00:00:00Z"),
      issuer: { privateKey: rk.privateKey, certificate: root.cert },
    }),
    ck,
  );
  const ee = async (
    name: string,
    profile: "kms-server" | "terminal-hsm",
    cn: string,
    notAfter = "2031-01-01T00:00:00Z",
  ) => {
    const k = nodeRsaKey();
    const serialNumber = profile === "terminal-hsm" ? `SN-${name}` : undefined;
    const cert = await issueCertificate({
      profile,
      subject: { commonName: cn, serialNumber, ...ORG },
      publicKey: k.publicKey,
      notBefore: T("2026-01-01T00:00:00Z"),
      notAfter: T(notAfter),
      issuer: { privateKey: ck.privateKey, certificate: kdhCa.cert },
    });
    return await write(name, cert, k);
  };
  return {
    dir,
    root,
    kdhCa,
    kdh: await ee("kdh", "kms-server", "TR34 Test KDH 1"),
    kdh2: await ee("kdh2", "kms-server", "TR34 Test KDH 2"),
    kdhShort: await ee("kdh_short", "kms-server", "TR34 Test KDH short", "2027-01-01T00:00:00Z"),
    krd: await ee("krd", "terminal-hsm", "TR34 Test KRD 1"),
    krd2: await ee("krd2", "terminal-hsm", "TR34 Test KRD 2"),
  };
}

/** Runs a command; returns its exit code, stdout and stderr. */
export async function run(
  cmd: string,
  args: string[],
  stdin?: Uint8Array,
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}
