/**
 * Key usage x algorithm x mode of use x exportability x
 * HSM operation. Every combination of the TR-31 / ANSI X9.143 header fields
 * (table 2 usages, algorithms T, A and R, table 4 modes, table 6
 * exportability) is wrapped under the HSM's LMK by the test (which knows the
 * LMK) and handed to every HSM operation in every role a key plays there.
 * The expected result of each call comes from {@link ALLOW}, the allow-list
 * written out here as a table from the key roles of docs/ARCHITECTURE.md and PCI PIN
 * ("a key is used only for its purpose"): a call the table allows must
 * succeed, any other must be refused with `HsmError` `key_usage`. Any other
 * outcome is an unexpected result; the test counts them and requires 0.
 *
 * CI enumerates every usage the table names plus three it does not; `deno
 * task fuzz` every usage of X9.143 table 2.
 *
 * Prints `figure hsm-matrix[<core>]`.
 */
import nodeCrypto from "node:crypto";
import { assertEquals } from "@std/assert";
import { allCores, randomBytes } from "../_helpers.ts";
import {
  exportPkcs8Der,
  importPkcs8Der,
  publicKeyOf,
  type RsaPublicKey,
  setOddParity,
} from "../../src/crypto/mod.ts";
import { HsmError, KEY_TEMPLATES, type SoftwareHsm } from "../../src/hsm/mod.ts";
import {
  KEY_USAGES,
  type KeyBlockHeader,
  MODES_OF_USE,
  wrapKeyBlock,
} from "../../src/keyblock/mod.ts";
import type { CryptoCore } from "../../src/core/mod.ts";
import { makeHsm } from "../hsm/_fixtures.ts";
import { figure, LONG, proofCores, Tally } from "./_figures.ts";

/** What a key in one role must have; `null`: anything. */
interface Allowed {
  usages: string[] | null;
  algorithms: string[];
  modes: string[] | null;
  exportability: string[] | null;
}

/**
 * The allow-list as a table: operation and role -> the attributes allowed.
 * Written from the key roles (docs/ARCHITECTURE.md, src/hsm/policy.ts KEY_TEMPLATES)
 * and the meaning of the X9.143 fields, not copied from the HSM's RULES.
 */
const ALLOW: Record<string, Allowed> = {
  // Reading a key's attributes and KCV after checking its MAC: any key.
  "keyInfo/key": { usages: null, algorithms: ["T", "A", "R"], modes: null, exportability: null },
  // KCV and SHA-256 (TK hash): symmetric keys only.
  "keyCheckValue/key": { usages: null, algorithms: ["T", "A"], modes: null, exportability: null },
  "keyHash/key": { usages: null, algorithms: ["T", "A"], modes: null, exportability: null },
  // A key leaves in an X9.24 form (TR-31 under a KEK, RSA-OAEP) only if exportable (E or S).
  "exportKey(tr31)/exported": {
    usages: null,
    algorithms: ["T", "A"],
    modes: null,
    exportability: ["E", "S"],
  },
  "exportKeyRsa/exported": {
    usages: null,
    algorithms: ["T", "A"],
    modes: null,
    exportability: ["E", "S"],
  },
  // Plain TDES-ECB (not an X9.24 form): sensitive (S) TDES keys only.
  "exportKey(ecb)/exported": {
    usages: null,
    algorithms: ["T"],
    modes: null,
    exportability: ["S"],
  },
  // A KEK wraps with mode B or E, unwraps with B or D; usage K0 (KEK) or K1 (key block KBPK).
  "exportKey/KEK": {
    usages: ["K0", "K1"],
    algorithms: ["T", "A"],
    modes: ["B", "E"],
    exportability: null,
  },
  "generateKeyUnderKek/KEK": {
    usages: ["K0", "K1"],
    algorithms: ["T", "A"],
    modes: ["B", "E"],
    exportability: null,
  },
  "translateKeyFromRsa/KEK": {
    usages: ["K0", "K1"],
    algorithms: ["T", "A"],
    modes: ["B", "E"],
    exportability: null,
  },
  "importKey/KEK": {
    usages: ["K0", "K1"],
    algorithms: ["T", "A"],
    modes: ["B", "D"],
    exportability: null,
  },
  // Retail MAC (ISO 9797-1 algorithm 3): M3 TDES keys; generate with C or G, verify with C or V.
  "generateMac/MAK": { usages: ["M3"], algorithms: ["T"], modes: ["C", "G"], exportability: null },
  "verifyMac/MAK": { usages: ["M3"], algorithms: ["T"], modes: ["C", "V"], exportability: null },
  // A device's proof of possession: a CMAC under a key derived from a TDES KEK (flow A) or
  // from AUK (flow B's session key).
  "verifyDerivedMac/base key": {
    usages: ["K0", "D0"],
    algorithms: ["T"],
    modes: ["B", "E"],
    exportability: null,
  },
  // Data encryption (flow B challenges under AUK): D0 TDES; encrypt B or E, decrypt B or D.
  "encryptData/data key": {
    usages: ["D0"],
    algorithms: ["T"],
    modes: ["B", "E"],
    exportability: null,
  },
  "decryptData/data key": {
    usages: ["D0"],
    algorithms: ["T"],
    modes: ["B", "D"],
    exportability: null,
  },
  // RSA private key that unwraps keys sent under its public key: K3, decrypt (B or D).
  "importKeyRsa/RSA key": {
    usages: ["K3"],
    algorithms: ["R"],
    modes: ["B", "D"],
    exportability: null,
  },
  "translateKeyFromRsa/RSA key": {
    usages: ["K3"],
    algorithms: ["R"],
    modes: ["B", "D"],
    exportability: null,
  },
  // RSA signing key (KMS CA): S0 or S1, sign (S) or sign and decrypt (T).
  "sign/signing key": {
    usages: ["S0", "S1"],
    algorithms: ["R"],
    modes: ["S", "T"],
    exportability: null,
  },
};

function allowed(
  a: Allowed,
  h: { keyUsage: string; algorithm: string; modeOfUse: string; exportability: string },
) {
  return (a.usages === null || a.usages.includes(h.keyUsage)) &&
    a.algorithms.includes(h.algorithm) &&
    (a.modes === null || a.modes.includes(h.modeOfUse)) &&
    (a.exportability === null || a.exportability.includes(h.exportability));
}

const cores = proofCores(await allCores());

/** Fixed material: an RSA-1024 key (small keeps the R blocks short), OAEP ciphertexts, KEKs. */
async function fixtures(hsm: SoftwareHsm, lmk: Uint8Array, core: CryptoCore) {
  const pair = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 1024 });
  const rsaDer = new Uint8Array(pair.privateKey.export({ type: "pkcs8", format: "der" }));
  const rsa = importPkcs8Der(rsaDer);
  const rsaPub: RsaPublicKey = publicKeyOf(rsa);
  const wrapLmk = (h: Omit<KeyBlockHeader, "version" | "keyContext">, key: Uint8Array) =>
    wrapKeyBlock(lmk, { version: "D", keyContext: "1", ...h } as KeyBlockHeader, key, { core });
  const oaep = nodeCrypto.publicEncrypt(
    {
      key: pair.publicKey,
      padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: "sha256",
    },
    setOddParity(randomBytes(16)),
  );
  const aesKek = await wrapLmk(
    { keyUsage: "K0", algorithm: "A", modeOfUse: "B", keyVersion: "00", exportability: "N" },
    randomBytes(32),
  );
  const tdesKek = (await hsm.generateKey({ ...KEY_TEMPLATES.TMK, exportability: "N" })).keyBlock;
  const tmk = (await hsm.generateKey(KEY_TEMPLATES.TMK)).keyBlock;
  const rsaKey = (await hsm.importRsaPrivateKey(rsa, KEY_TEMPLATES.RSA_TRANSPORT)).privateKeyBlock;
  return {
    rsaDer: exportPkcs8Der(rsa),
    rsaPub,
    oaep: new Uint8Array(oaep),
    aesKek,
    tdesKek,
    tmk,
    rsaKey,
    wrapLmk,
  };
}

for (const core of cores) {
  Deno.test(`usage x algorithm x mode x exportability x HSM operation, 0 unexpected (${core.name} core)`, async () => {
    const { hsm, lmk } = await makeHsm(core);
    const f = await fixtures(hsm, lmk, core);
    // CI: every usage the table names plus three it does not (the others behave like
    // these three: nothing allows them by usage); the long run: every X9.143 usage.
    const usages = LONG
      ? Object.keys(KEY_USAGES)
      : ["K0", "K1", "K3", "M3", "D0", "S0", "S1", "P0", "B0", "M1"];
    const modes = Object.keys(MODES_OF_USE);
    const exps = ["E", "N", "S"];
    const algs = ["T", "A", "R"];
    const results = new Tally();
    const unexpected: string[] = [];
    let combos = 0;
    for (const alg of algs) {
      for (const keyUsage of usages) {
        for (const modeOfUse of modes) {
          for (const exportability of exps) {
            const h = { keyUsage, algorithm: alg, modeOfUse, keyVersion: "00", exportability };
            // The clear key of this block (the test keeps it to make the KEK cases).
            const clear = alg === "T"
              ? setOddParity(randomBytes(16))
              : alg === "A"
              ? randomBytes(32)
              : f.rsaDer;
            const block = await f.wrapLmk(
              h as Omit<KeyBlockHeader, "version" | "keyContext">,
              clear,
            );
            combos++;
            // A key under this block as KEK, for importKey (a TDES K0 key, TR-31 B or D).
            const inner = alg === "R" ? "B0000K0TB00N0000" : await wrapKeyBlock(
              clear,
              {
                version: alg === "T" ? "B" : "D",
                keyUsage: "K0",
                algorithm: "T",
                modeOfUse: "B",
                keyVersion: "00",
                exportability: "N",
                keyContext: "0",
              },
              setOddParity(randomBytes(16)),
              { core },
            );
            const calls: [string, () => Promise<unknown>][] = [
              ["keyInfo/key", () => hsm.keyInfo(block)],
              ["keyCheckValue/key", () => hsm.keyCheckValue(block)],
              ["keyHash/key", () => hsm.keyHash(block)],
              ["exportKey(tr31)/exported", () => hsm.exportKey(block, f.aesKek)],
              ["exportKey(ecb)/exported", () => hsm.exportKey(block, f.tdesKek, { format: "ecb" })],
              ["exportKeyRsa/exported", () => hsm.exportKeyRsa(block, f.rsaPub)],
              ["exportKey/KEK", () => hsm.exportKey(f.tmk, block)],
              ["generateKeyUnderKek/KEK", () => hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, block)],
              [
                "translateKeyFromRsa/KEK",
                () =>
                  hsm.translateKeyFromRsa(f.rsaKey, f.oaep, block, { template: KEY_TEMPLATES.TK }),
              ],
              ["importKey/KEK", () => hsm.importKey(inner, block, { template: KEY_TEMPLATES.TK })],
              ["generateMac/MAK", () => hsm.generateMac(block, new Uint8Array(16))],
              ["verifyMac/MAK", () => hsm.verifyMac(block, new Uint8Array(16), new Uint8Array(8))],
              [
                "verifyDerivedMac/base key",
                () =>
                  hsm.verifyDerivedMac(
                    block,
                    { label: "TMK download", context: new Uint8Array(10) },
                    new Uint8Array(16),
                    new Uint8Array(8),
                  ),
              ],
              ["encryptData/data key", () => hsm.encryptData(block, new Uint8Array(8))],
              ["decryptData/data key", () => hsm.decryptData(block, new Uint8Array(8))],
              [
                "importKeyRsa/RSA key",
                () => hsm.importKeyRsa(block, f.oaep, { template: KEY_TEMPLATES.AUK }),
              ],
              [
                "translateKeyFromRsa/RSA key",
                () =>
                  hsm.translateKeyFromRsa(block, f.oaep, f.aesKek, { template: KEY_TEMPLATES.TK }),
              ],
              ["sign/signing key", () => hsm.sign(block, new Uint8Array([1, 2, 3]))],
            ];
            for (const [name, run] of calls) {
              const want = allowed(ALLOW[name], h) ? "ok" : "key_usage";
              let got: string;
              try {
                await run();
                got = "ok";
              } catch (e) {
                if (!(e instanceof HsmError)) throw e;
                got = e.code;
              }
              results.add(`${want === "ok" ? "allowed" : "refused"}`);
              if (got !== want) {
                unexpected.push(
                  `${name} ${keyUsage}/${alg}/${modeOfUse}/${exportability}: want ${want}, got ${got}`,
                );
              }
            }
          }
        }
      }
    }
    assertEquals(combos, usages.length * modes.length * exps.length * algs.length);
    figure(
      `hsm-matrix[${core.name}]`,
      `${usages.length} usages x 3 algorithms x ${modes.length} modes x 3 exportability = ${combos} keys, ` +
        `x ${
          Object.keys(ALLOW).length
        } operation roles = ${results.total} HSM calls: ${results}; ` +
        `${unexpected.length} unexpected`,
    );
    assertEquals(unexpected.slice(0, 20), []);
  });
}
