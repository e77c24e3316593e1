/**
 * src/pki: issuing one per-terminal `Pu_hsm` certificate (flow B step 1, the
 * KMS does it once per terminal) on each crypto core, and verifying it up to
 * the root through the KMS CA (pkijs on WebCrypto, the same for both cores).
 *
 * Setup (keys from node:crypto, the root and KMS CA certificates) is outside
 * the timed part; each iteration checks its result.
 *
 * Run: `deno bench --allow-all bench/pki_bench.ts`
 */
import nodeCrypto from "node:crypto";
import { allCores } from "./_cores.ts";
import { importPrivateKeyPem, publicKeyOf } from "../src/crypto/mod.ts";
import { issueCertificate, verifyChain } from "../src/pki/mod.ts";

const cores = await allCores();
const key = () =>
  importPrivateKeyPem(
    nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    }) as string,
  );
const rootKey = key();
const caKey = key();
const terminalKey = publicKeyOf(key());
const notBefore = new Date("2026-01-01T00:00:00Z");
const notAfter = new Date("2036-01-01T00:00:00Z");
const at = new Date("2027-01-01T00:00:00Z");
const root = await issueCertificate({
  profile: "root-ca",
  subject: { commonName: "Bench Root" },
  publicKey: publicKeyOf(rootKey),
  notBefore,
  notAfter,
  issuer: { privateKey: rootKey },
}, { core: cores[0] });
const kmsCa = await issueCertificate({
  profile: "kms-ca",
  subject: { commonName: "Bench KMS CA" },
  publicKey: publicKeyOf(caKey),
  notBefore,
  notAfter,
  issuer: { privateKey: rootKey, certificate: root },
}, { core: cores[0] });

function terminal(core: (typeof cores)[number], sn: string): Promise<string> {
  return issueCertificate({
    profile: "terminal-hsm",
    subject: { commonName: "Pu_hsm", serialNumber: sn },
    publicKey: terminalKey,
    notBefore,
    notAfter,
    issuer: { privateKey: caKey, certificate: kmsCa },
  }, { core });
}

for (const core of cores) {
  Deno.bench({
    name: `issue a terminal Pu_hsm certificate, RSA-2048 (${core.name})`,
    group: "pki-issue",
    baseline: core.name === "js",
    n: 30,
    async fn() {
      const pem = await terminal(core, "SN1");
      if (!pem.startsWith("-----BEGIN CERTIFICATE-----")) throw new Error("no certificate");
    },
  });
}

const leaf = await terminal(cores[0], "SN2");
Deno.bench({
  name: "verifyChain terminal -> KMS CA -> root (strict-DER reading, WebCrypto)",
  group: "pki-verify",
  n: 50,
  async fn() {
    const v = await verifyChain(leaf, {
      roots: [root],
      intermediates: [kmsCa],
      purpose: "terminal-hsm",
      subjectSerialNumber: "SN2",
      at,
    });
    if (v.path.length !== 3) throw new Error("bad path");
  },
});
