/**
 * The setup ceremony the demo, the tests and the benchmarks share: a CA root
 * (OpRCRT), operator cards, certificates for server keys, and random key
 * components for the LMKs and the shared PK and MAK.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey, RsaPublicKey } from "../src/core/mod.ts";
import { generateRsaKeyPair, kcv, randomBytes, setOddParity, toHex } from "../src/crypto/mod.ts";
import { issueCertificate, issueCrl, parseCertificate } from "../src/pki/mod.ts";
import { OperatorCard } from "../devices/operator_card.ts";

/** An operator card's contents and the card itself. */
export interface IssuedOperator {
  certificate: string;
  privateKey: RsaPrivateKey;
  card: OperatorCard;
}

/** A CA and what it can issue. */
export interface DemoPki {
  /** OpRCRT (PEM): written into every PIN pad at flashing; MTMS checks operators against it. */
  rootPem: string;
  /** Issues an operator card (OpWCRT + key), valid for a day, or expired yesterday. */
  issueOperator(name: string, options?: { expired?: boolean }): Promise<IssuedOperator>;
  /** Issues an MTMS transport certificate for a public key the MTMS's HSM generated. */
  issueServer(name: string, publicKey: RsaPublicKey): Promise<string>;
  /** Issues the KMS CA (flow B: it certifies each terminal's Pu_hsm) under the same root. */
  issueKmsCa(publicKey: RsaPublicKey): Promise<string>;
  /** Issues a PIN pad's device certificate (flow B: it signs S3), serialNumber = SN. */
  issueDevice(sn: string, publicKey: RsaPublicKey): Promise<string>;
  /** Issues the KMS's TR-34 KDH certificate (`tr34-kdh`) for a key its HSM made. */
  issueKdh(publicKey: RsaPublicKey): Promise<string>;
  /** Issues a PIN pad's TR-34 KRD certificate (`tr34-krd`), serialNumber = SN. */
  issueKrd(sn: string, publicKey: RsaPublicKey): Promise<string>;
  /** The root's CRL (PEM), listing the given certificates (PEM) as revoked. */
  issueCrl(revoked: string[]): Promise<string>;
  /** An operator card from another CA (same subject as a real one). */
  foreignOperator(): Promise<IssuedOperator>;
  /** An MTMS transport certificate from another CA. */
  foreignOperatorCertificate: string;
}

const DAY = 86_400_000;

function seconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

async function makeRoot(core: CryptoCore, name: string) {
  const { publicKey, privateKey } = await generateRsaKeyPair({ bits: 2048, core });
  const now = Date.now();
  const certificate = await issueCertificate({
    profile: "root-ca",
    subject: { commonName: name, organization: "TMK Demo", country: "CN" },
    publicKey,
    notBefore: seconds(now - 30 * DAY),
    notAfter: seconds(now + 3650 * DAY),
    issuer: { privateKey },
  }, { core });
  return { certificate, privateKey };
}

/**
 * Makes a CA with three RSA-2048 keys (root, operator, a foreign root).
 *
 * @param core the crypto core.
 * @returns the CA.
 */
export async function makeDemoPki(core: CryptoCore): Promise<DemoPki> {
  const root = await makeRoot(core, "OpRCRT Root CA");
  const foreign = await makeRoot(core, "OpRCRT Root CA");
  const operatorKey = await generateRsaKeyPair({ bits: 2048, core });
  const issue = async (
    ca: { certificate: string; privateKey: RsaPrivateKey },
    profile: "operator-card" | "mtms-transport" | "kms-ca" | "pin-pad" | "tr34-kdh",
    name: string,
    publicKey: RsaPublicKey,
    expired = false,
  ) => {
    const now = Date.now();
    return await issueCertificate({
      profile,
      subject: { commonName: name, organization: "TMK Demo", country: "CN" },
      publicKey,
      notBefore: seconds(expired ? now - 3 * DAY : now - DAY),
      notAfter: seconds(expired ? now - DAY : now + 365 * DAY),
      issuer: ca,
    }, { core });
  };
  const operator = async (ca: typeof root, name: string, expired = false) => {
    const certificate = await issue(ca, "operator-card", name, operatorKey.publicKey, expired);
    return {
      certificate,
      privateKey: operatorKey.privateKey,
      card: new OperatorCard(certificate, operatorKey.privateKey, { core }),
    };
  };
  return {
    rootPem: root.certificate,
    issueOperator: (name, options = {}) => operator(root, name, options.expired),
    issueServer: (name, publicKey) => issue(root, "mtms-transport", name, publicKey),
    issueKmsCa: (publicKey) => issue(root, "kms-ca", "KMS CA", publicKey),
    issueDevice: (sn, publicKey) =>
      issueCertificate({
        profile: "pin-pad",
        subject: { commonName: `PIN pad ${sn}`, serialNumber: sn, organization: "TMK Demo" },
        publicKey,
        notBefore: seconds(Date.now() - DAY),
        notAfter: seconds(Date.now() + 365 * DAY),
        issuer: root,
      }, { core }),
    issueKdh: (publicKey) => issue(root, "tr34-kdh", "KMS TR-34 KDH", publicKey),
    issueKrd: (sn, publicKey) =>
      issueCertificate({
        profile: "tr34-krd",
        subject: { commonName: `PIN pad ${sn} KRD`, serialNumber: sn, organization: "TMK Demo" },
        publicKey,
        notBefore: seconds(Date.now() - DAY),
        notAfter: seconds(Date.now() + 365 * DAY),
        issuer: root,
      }, { core }),
    issueCrl: (revoked) =>
      issueCrl({
        issuer: root,
        thisUpdate: seconds(Date.now() - 60_000),
        nextUpdate: seconds(Date.now() + 7 * DAY),
        crlNumber: 1n,
        revoked: revoked.map((pem) => ({
          serialNumber: parseCertificate(pem).serialNumber,
          revokedAt: seconds(Date.now() - 60_000),
        })),
      }, { core }),
    foreignOperator: () => operator(foreign, "Operator 0042"),
    foreignOperatorCertificate: await issue(
      foreign,
      "mtms-transport",
      "MTMS transport",
      operatorKey.publicKey,
    ),
  };
}

/**
 * Random key components as custodians enter them: `CUSTODIAN:KEY:KCV`, key
 * and KCV in uppercase hex. TDES components (16 or 24 bytes, odd parity)
 * carry the legacy KCV; AES components (32 bytes) the CMAC KCV (ANSI
 * X9.24-1:2017 annex A). Each comes from its own custodian (dual control).
 *
 * @param count how many (two or more).
 * @param length bytes each: 16 or 24 (TDES), 32 (AES).
 * @param core the crypto core (for the KCVs).
 * @param custodians their names (default `custodian-1` ... `custodian-<count>`).
 * @returns the components.
 */
export async function randomComponents(
  count: number,
  length: 16 | 24 | 32,
  core: CryptoCore,
  custodians: string[] = Array.from({ length: count }, (_, i) => `custodian-${i + 1}`),
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const raw = randomBytes(length);
    const key = length === 32 ? raw : setOddParity(raw);
    const check = length === 32
      ? await kcv(key, { method: "cmac", algorithm: "aes", length: 3, core })
      : await kcv(key, { method: "legacy", core });
    out.push(`${custodians[i]}:${toHex(key).toUpperCase()}:${toHex(check).toUpperCase()}`);
  }
  return out;
}

/**
 * Random AES-256 LMK components (CMAC KCV), each with its own custodian, as
 * the software HSM's `open` takes them.
 *
 * @param count how many (two or more).
 * @param core the crypto core (for the KCVs).
 * @returns the components.
 */
export async function randomLmkComponents(
  count: number,
  core: CryptoCore,
): Promise<{ custodian: string; key: string; kcv: string }[]> {
  return (await randomComponents(count, 32, core)).map((c) => {
    const [custodian, key, kcv] = c.split(":");
    return { custodian, key, kcv };
  });
}

/**
 * The key of a component written `[CUSTODIAN:]KEY:KCV` (hex), e.g. for a test
 * that checks the key never shows.
 *
 * @param component the component.
 * @returns the key, hex as written.
 */
export function componentKey(component: string): string {
  const parts = component.split(":");
  return parts[parts.length - 2];
}
