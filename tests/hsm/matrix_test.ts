/**
 * The key usage x mode of use x exportability x HSM operation matrix:
 * every combination of the attributes this HSM creates,
 * through every symmetric operation, in every role, against the policy
 * written out here from TR-31 / X9.143's tables (usage 6.3.1, mode of use
 * 6.3.3, exportability 6.3.5) as a specification: allowed combinations
 * must succeed, every other one must be refused with `key_usage`. Prints
 * the number of cases and of unexpected results (must be 0).
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { generateRsaKeyPair, setOddParity } from "../../src/crypto/mod.ts";
import { HsmError, KEY_TEMPLATES, type KeyTemplate } from "../../src/hsm/mod.ts";
import { unwrapKeyBlock, wrapKeyBlock } from "../../src/keyblock/mod.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { makeHsm } from "./_fixtures.ts";

const USAGES = ["K0", "K1", "M3", "D0"] as const;
const MODES = ["B", "C", "D", "E", "G", "N", "S", "T", "V", "X", "Y"] as const;
const EXPORTABILITY = ["E", "N", "S"] as const;

/** The policy as a specification: which roles each attribute set may play. */
const SPEC = {
  /** ISO 9797-1 algorithm 3 MAC generation: a M3 key for generating (C both, G generate). */
  generateMac: (k: KeyTemplate) => k.keyUsage === "M3" && "CG".includes(k.modeOfUse),
  /** MAC verification: M3, C both or V verify. */
  verifyMac: (k: KeyTemplate) => k.keyUsage === "M3" && "CV".includes(k.modeOfUse),
  /** Data encryption: D0, B both or E encrypt. */
  encryptData: (k: KeyTemplate) => k.keyUsage === "D0" && "BE".includes(k.modeOfUse),
  /** Data decryption: D0, B both or D decrypt. */
  decryptData: (k: KeyTemplate) => k.keyUsage === "D0" && "BD".includes(k.modeOfUse),
  /** Exported as a TR-31 block or under RSA-OAEP (X9.24 forms): exportability E or S. */
  exportTrusted: (k: KeyTemplate) => "ES".includes(k.exportability),
  /** Exported as bare ECB: sensitive keys (S) only. */
  exportEcb: (k: KeyTemplate) => k.exportability === "S",
  /** A KEK that wraps: key encryption (K0) or TR-31 KBPK (K1), mode B or E. */
  kekWrap: (k: KeyTemplate) => "K0 K1".includes(k.keyUsage) && "BE".includes(k.modeOfUse),
  /** A KEK that unwraps: K0 or K1, mode B or D. */
  kekUnwrap: (k: KeyTemplate) => "K0 K1".includes(k.keyUsage) && "BD".includes(k.modeOfUse),
  /** KCV and SHA-256 fingerprints: any symmetric key. */
  checkValue: (_k: KeyTemplate) => true,
};

for (const core of await allCores()) {
  Deno.test(`[${core.name}] hsm matrix: usage x mode x exportability x operation, 0 unexpected`, async () => {
    const { hsm, lmk } = await makeHsm(core, "aes");
    const kek = await hsm.generateKey(KEY_TEMPLATES.PK);
    const tmk = await hsm.generateKey(KEY_TEMPLATES.TMK);
    const tmkClear = (await unwrapKeyBlock(lmk, tmk.keyBlock, { core })).key;
    const { publicKey } = await generateRsaKeyPair({ bits: 1024, core });
    const data = new Uint8Array(8);
    let cases = 0;
    const unexpected: string[] = [];
    const check = async (name: string, allowed: boolean, fn: () => Promise<unknown>) => {
      cases++;
      try {
        await fn();
        if (!allowed) unexpected.push(`${name}: allowed, the policy refuses it`);
      } catch (e) {
        if (!(e instanceof HsmError) || e.code !== "key_usage") {
          unexpected.push(`${name}: ${(e as Error).name} ${(e as Error).message}`);
        } else if (allowed) {
          unexpected.push(`${name}: refused (${e.message}), the policy allows it`);
        }
      }
    };
    for (const keyUsage of USAGES) {
      for (const modeOfUse of MODES) {
        for (const exportability of EXPORTABILITY) {
          const t: KeyTemplate = { keyUsage, algorithm: "T", modeOfUse, exportability, length: 16 };
          const tag = `${keyUsage}/T/${modeOfUse}/${exportability}`;
          const k = await hsm.generateKey(t);
          const clear = (await unwrapKeyBlock(lmk, k.keyBlock, { core })).key;
          await check(
            `${tag} generateMac`,
            SPEC.generateMac(t),
            () => hsm.generateMac(k.keyBlock, data),
          );
          await check(
            `${tag} verifyMac`,
            SPEC.verifyMac(t),
            () => hsm.verifyMac(k.keyBlock, data, data),
          );
          await check(
            `${tag} encryptData`,
            SPEC.encryptData(t),
            () => hsm.encryptData(k.keyBlock, data),
          );
          await check(
            `${tag} decryptData`,
            SPEC.decryptData(t),
            () => hsm.decryptData(k.keyBlock, data),
          );
          await check(
            `${tag} exportKey tr31`,
            SPEC.exportTrusted(t),
            () => hsm.exportKey(k.keyBlock, kek.keyBlock),
          );
          await check(
            `${tag} exportKey ecb`,
            SPEC.exportEcb(t),
            () => hsm.exportKey(k.keyBlock, kek.keyBlock, { format: "ecb" }),
          );
          await check(
            `${tag} exportKeyRsa`,
            SPEC.exportTrusted(t),
            () => hsm.exportKeyRsa(k.keyBlock, publicKey),
          );
          await check(
            `${tag} as KEK: exportKey`,
            SPEC.kekWrap(t),
            () => hsm.exportKey(tmk.keyBlock, k.keyBlock),
          );
          await check(
            `${tag} as KEK: generateKeyUnderKek`,
            SPEC.kekWrap(t),
            () => hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, k.keyBlock),
          );
          const wrapped = await wrapKeyBlock(clear, "B0000K0TB00E0000", tmkClear, { core });
          await check(
            `${tag} as KEK: importKey`,
            SPEC.kekUnwrap(t),
            () => hsm.importKey(wrapped, k.keyBlock, { template: KEY_TEMPLATES.TMK }),
          );
          await check(
            `${tag} keyCheckValue`,
            SPEC.checkValue(t),
            () => hsm.keyCheckValue(k.keyBlock),
          );
          await check(`${tag} keyHash`, SPEC.checkValue(t), () => hsm.keyHash(k.keyBlock));
          clear.fill(0);
        }
      }
    }
    // The RSA key roles: a K3 decryption key cannot sign, wrap, MAC or be hashed; an S1 key cannot unwrap.
    const k3 = await hsm.generateRsaKeyPair({ bits: 1024 });
    const s1 = await hsm.generateRsaKeyPair({ bits: 1024, template: KEY_TEMPLATES.RSA_CA });
    const auk = setOddParity(randomBytes(16));
    const { oaepEncrypt } = await import("../../src/crypto/mod.ts");
    await check("K3/R/D sign", false, () => hsm.sign(k3.privateKeyBlock, data));
    await check(
      "K3/R/D importKeyRsa",
      true,
      async () =>
        hsm.importKeyRsa(k3.privateKeyBlock, await oaepEncrypt(k3.publicKey, auk, { core }), {
          template: KEY_TEMPLATES.AUK,
        }),
    );
    await check("K3/R/D as KEK", false, () => hsm.exportKey(tmk.keyBlock, k3.privateKeyBlock));
    await check("K3/R/D generateMac", false, () => hsm.generateMac(k3.privateKeyBlock, data));
    await check("K3/R/D keyHash", false, () => hsm.keyHash(k3.privateKeyBlock));
    await check("S1/R/S sign", true, () => hsm.sign(s1.privateKeyBlock, data));
    await check(
      "S1/R/S importKeyRsa",
      false,
      async () =>
        hsm.importKeyRsa(s1.privateKeyBlock, await oaepEncrypt(s1.publicKey, auk, { core }), {
          template: KEY_TEMPLATES.AUK,
        }),
    );
    await check(
      "S1/R/S exportKeyRsa",
      false,
      () => hsm.exportKeyRsa(s1.privateKeyBlock, publicKey),
    );
    console.log(`hsm matrix [${core.name}]: ${cases} cases, ${unexpected.length} unexpected`);
    assertEquals(unexpected, []);
    assertEquals(cases, USAGES.length * MODES.length * EXPORTABILITY.length * 12 + 8);
  });
}
