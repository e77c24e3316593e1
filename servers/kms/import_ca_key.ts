/**
 * The custodian's one-time `--import-ca-key` step: the KMS CA's private key
 * goes from a PEM file under the LMK (template `RSA_CA`) into a key block
 * file; the KMS then runs with `--kms-ca-key-block FILE` and the PEM goes
 * back to the custodian's safe. The step is audited in the KMS's store.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey } from "../../src/core/mod.ts";
import { importPrivateKeyPem, publicKeyOf } from "../../src/crypto/mod.ts";
import { type HsmMode, KEY_TEMPLATES, SoftwareHsm } from "../../src/hsm/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { ValidationError } from "../../src/protocol/mod.ts";
import { parseComponents, publicKeyFingerprint } from "../_lib/hsm.ts";

/**
 * Takes the KMS CA private key from a PEM file under the LMK (template
 * `RSA_CA`) and writes only the key block to `outPath` (`deno task kms
 * --import-ca-key PEM --out FILE`).
 *
 * The HSM is brought to the secure state with the LMK loaded (the state for
 * clear key entry); its steps, and the import itself, go to the store's
 * audit log: one `kms_ca_key_imported` record (actor `kms custodian`, key
 * `KMS CA`, outcome success, or failure with the reason) whose KCV field is
 * the key's fingerprint (`publicKeyFingerprint`), never the key.
 *
 * @param o PEM path, output path, LMK components (`CUSTODIAN:KEY:KCV`) and KCV, HSM mode,
 *   core, and the KMS's store (audit log).
 * @returns the key block written and the key's fingerprint.
 * @throws {ValidationError} `invalid_kms_ca` for a file that is not an RSA private key in PEM;
 *   `invalid_component` for bad components; `Deno.errors.AlreadyExists` if `outPath` exists.
 */
export async function importKmsCaKey(o: {
  pemPath: string;
  outPath: string;
  lmkComponents: string[];
  lmkKcv?: string;
  hsmMode: HsmMode;
  core: CryptoCore;
  store: Store;
}): Promise<{ keyBlock: string; fingerprint: string }> {
  const audit = (outcome: "success" | "failure", detail: string, kcv?: string) =>
    o.store.appendAudit({
      at: new Date(),
      actor: "kms custodian",
      event: "kms_ca_key_imported",
      keyId: "KMS CA",
      kcv,
      outcome,
      detail,
    });
  const components = parseComponents(o.lmkComponents, "LMK component", { custodians: true });
  const hsm = await SoftwareHsm.create({
    mode: o.hsmMode,
    core: o.core,
    audit: async (e) => {
      await o.store.appendAudit({ at: new Date(), actor: "kms hsm", ...e });
    },
  });
  const by = `kms --import-ca-key (custodians ${components.map((c) => c.custodian).join(", ")})`;
  await hsm.setState("secure", by);
  await hsm.loadLmk(components, { lmkKcv: o.lmkKcv });
  let privateKey: RsaPrivateKey;
  try {
    privateKey = importPrivateKeyPem(await Deno.readTextFile(o.pemPath));
  } catch (e) {
    const err = new ValidationError(
      "invalid_kms_ca",
      `${o.pemPath} is not an RSA private key in PEM (${(e as Error).name})`,
    );
    await audit("failure", `${err.code}: ${err.message}`);
    throw err;
  }
  try {
    const fingerprint = publicKeyFingerprint(publicKeyOf(privateKey), o.core);
    try {
      const { privateKeyBlock } = await hsm.importRsaPrivateKey(privateKey, KEY_TEMPLATES.RSA_CA);
      await Deno.writeTextFile(o.outPath, privateKeyBlock + "\n", {
        createNew: true,
        mode: 0o600,
      });
      await audit(
        "success",
        `RSA-${
          8 * publicKeyOf(privateKey).n.length
        } private key under the LMK (KCV ${hsm.lmkKcv}) as RSA_CA S1/R/S/N; KCV field = ` +
          "fingerprint (SHA-256 of the public key's SubjectPublicKeyInfo, leftmost 8 bytes)",
        fingerprint,
      );
      return { keyBlock: privateKeyBlock, fingerprint };
    } catch (e) {
      await audit(
        "failure",
        `${(e as Error).name}: ${(e as Error).message}`.slice(0, 500),
        fingerprint,
      );
      throw e;
    }
  } finally {
    for (const x of [privateKey.d, privateKey.p, privateKey.q]) x.fill(0);
    for (const x of [privateKey.dp, privateKey.dq, privateKey.qi]) x.fill(0);
    await hsm.setState("offline", "kms --import-ca-key done");
  }
}
