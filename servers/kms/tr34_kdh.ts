/**
 * The KMS as a TR-34 key distribution host (ASC X9 TR 34-2019): its KDH
 * certificate (profile `tr34-kdh`, issued by the project's CA, the root the
 * PIN pads are flashed with), its signing key only as a TR-31 key block under
 * the HSM's LMK (template `RSA_KDH`, `S0/R/S/N`), and the CA's CRL it hands
 * to the KRDs. The key pair is made inside an HSM on the KMS's LMK by the
 * custodians ({@link generateKdhKey}); the CA certifies the public key; the
 * KMS loads the certificate and the block from files ({@link loadTr34Kdh})
 * and checks them on its HSM at the start ({@link checkTr34Kdh}).
 *
 * @module
 */
import type { CryptoCore, RsaPublicKey } from "../../src/core/mod.ts";
import { pkcs1v15Verify } from "../../src/crypto/mod.ts";
import { type Hsm, type HsmMode, KEY_TEMPLATES, SoftwareHsm } from "../../src/hsm/mod.ts";
import { CertificateError, decodePem, parseCertificate, verifyChain } from "../../src/pki/mod.ts";
import { ValidationError } from "../../src/protocol/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { readCrl } from "../../src/tr34/mod.ts";
import { parseComponents, publicKeyFingerprint } from "../_lib/hsm.ts";

/** The KDH as the KMS holds it. */
export interface Tr34Kdh {
  /** The KDH certificate (PEM), profile `tr34-kdh`. */
  certificate: string;
  /** Its private key, a key block under the KMS's LMK (template `RSA_KDH`). */
  privateKeyBlock: string;
  /** The CA certificates the KRD certificates must chain to (PEM): the device roots. */
  krdRoots: string[];
  /** The KDH CA's CRL (DER), carried to the KRDs in credential and key tokens. */
  crl?: Uint8Array;
}

/**
 * Reads the KDH from files: certificate (PEM), key block (one line), and
 * optionally the CA's CRL (PEM `X509 CRL` or DER).
 *
 * @throws {ValidationError} `invalid_kdh` naming the file that does not hold what it should.
 */
export async function loadTr34Kdh(o: {
  certificatePath: string;
  keyBlockPath: string;
  krdRootPaths: string[];
  crlPath?: string;
}): Promise<Tr34Kdh> {
  const bad = (path: string, what: string) =>
    new ValidationError("invalid_kdh", `${path} is not ${what}`);
  const certificate = await Deno.readTextFile(o.certificatePath);
  try {
    parseCertificate(certificate);
  } catch {
    throw bad(o.certificatePath, "a PEM certificate");
  }
  const privateKeyBlock = (await Deno.readTextFile(o.keyBlockPath)).trim();
  if (!/^[\x21-\x7e]{16,}$/.test(privateKeyBlock) || privateKeyBlock.startsWith("-")) {
    throw bad(o.keyBlockPath, "a TR-31 key block (one line of printable ASCII)");
  }
  const krdRoots = await Promise.all(o.krdRootPaths.map((p) => Deno.readTextFile(p)));
  let crl: Uint8Array | undefined;
  if (o.crlPath !== undefined) {
    const raw = await Deno.readFile(o.crlPath);
    try {
      const text = new TextDecoder().decode(raw);
      crl = readCrl(text.startsWith("-----") ? decodePem(text, "X509 CRL") : raw).der;
    } catch {
      throw bad(o.crlPath, "a CRL (PEM or DER)");
    }
  }
  return { certificate, privateKeyBlock, krdRoots, crl };
}

/**
 * Checks the KDH on the HSM at the start: the certificate chains to a KRD
 * root for the `tr34-kdh` purpose (the PIN pads check the same), the key
 * block is a signing key under this LMK, and a signature it makes verifies
 * under the certificate's key.
 *
 * @throws {ValidationError} `invalid_kdh` naming what is wrong.
 */
export async function checkTr34Kdh(hsm: Hsm, kdh: Tr34Kdh, core: CryptoCore): Promise<void> {
  let publicKey: RsaPublicKey;
  try {
    ({ publicKey } = await verifyChain(kdh.certificate, {
      roots: kdh.krdRoots,
      purpose: "tr34-kdh",
    }));
  } catch (e) {
    const why = e instanceof CertificateError ? e.code : (e as Error).message;
    throw new ValidationError("invalid_kdh", `the KDH certificate is refused (${why})`);
  }
  const probe = new TextEncoder().encode("TR-34 KDH key block check");
  const signature = await hsm.sign(kdh.privateKeyBlock, probe).catch((e) => {
    throw new ValidationError(
      "invalid_kdh",
      `the KDH key block is not a signing key under this LMK (${(e as Error).message})`,
    );
  });
  if (!(await pkcs1v15Verify(publicKey, probe, signature, { core }))) {
    throw new ValidationError(
      "invalid_kdh",
      "the KDH key block does not hold the private key of the KDH certificate",
    );
  }
}

/**
 * The custodians' step: an HSM on the KMS's LMK makes the KDH key pair
 * (RSA-2048, template `RSA_KDH`); the key block goes to `outPath`, the
 * public key to the CA to certify. The private key is never in clear outside
 * the HSM. Audited in the KMS's store (`kdh_key_generated`, the KCV field the
 * public key's fingerprint).
 *
 * @returns the key block and the public key.
 * @throws {ValidationError} `invalid_component`; `Deno.errors.AlreadyExists` if `outPath` exists.
 */
export async function generateKdhKey(o: {
  outPath: string;
  lmkComponents: string[];
  lmkKcv?: string;
  hsmMode: HsmMode;
  core: CryptoCore;
  store: Store;
}): Promise<{ privateKeyBlock: string; publicKey: RsaPublicKey }> {
  const components = parseComponents(o.lmkComponents, "LMK component", { custodians: true });
  const hsm = await SoftwareHsm.open({
    mode: o.hsmMode,
    core: o.core,
    audit: async (e) => {
      await o.store.appendAudit({ at: new Date(), actor: "kms hsm", ...e });
    },
  }, { components, lmkKcv: o.lmkKcv, by: "kms custodians (TR-34 KDH key)" });
  try {
    const pair = await hsm.generateRsaKeyPair({ bits: 2048, template: KEY_TEMPLATES.RSA_KDH });
    await Deno.writeTextFile(o.outPath, pair.privateKeyBlock + "\n", {
      createNew: true,
      mode: 0o600,
    });
    await o.store.appendAudit({
      at: new Date(),
      actor: "kms custodian",
      event: "kdh_key_generated",
      keyId: "TR-34 KDH",
      kcv: publicKeyFingerprint(pair.publicKey, o.core),
      outcome: "success",
      detail: `RSA-2048 made in the HSM under the LMK (KCV ${hsm.lmkKcv}) as RSA_KDH S0/R/S/N; ` +
        "KCV field = fingerprint of the public key",
    });
    return { privateKeyBlock: pair.privateKeyBlock, publicKey: pair.publicKey };
  } finally {
    await hsm.setState("offline", "TR-34 KDH key made");
  }
}
