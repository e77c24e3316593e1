/**
 * Wrap checked by an independent implementation: a reference unwrap on
 * node:crypto (`_reference.ts`, with its own CMAC, KDF and modes) must read
 * every block the module wraps, for every version and KBPK length, on every
 * core. The reference is itself first checked against every valid vector.
 */
import { assertEquals } from "@std/assert";
import { allCores, hex, loadVectors, randomBytes, toHex } from "../_helpers.ts";
import { type KeyBlockVersion, VERSION_PARAMS, wrapKeyBlock } from "../../src/keyblock/mod.ts";
import { referenceUnwrap, tdesCmac } from "./_reference.ts";

const cores = await allCores();
const vectors = loadVectors<
  {
    vectors: {
      id: string;
      valid: boolean;
      kbpk: string;
      key_block: string;
      expected_key?: string;
    }[];
  }
>("tr31_keyblocks.json").vectors;

Deno.test("reference TDES-CMAC matches SP 800-38B D.2 (empty message) and pyca/cryptography (16 bytes)", () => {
  // NIST SP 800-38B Appendix D.2 (three-key TDEA), empty message; the 16-byte
  // tag was computed with pyca/cryptography 48 (OpenSSL 3) CMAC(TripleDES).
  const k = hex("8AA83BF8CBDA10620BC1BF19FBB6CD58BC313D4A371CA8B5");
  assertEquals(toHex(tdesCmac(k, new Uint8Array(0))), "B7A688E122FFAF95");
  assertEquals(toHex(tdesCmac(k, hex("6BC1BEE22E409F96E93D7E117393172A"))), "286D394673448197");
});

Deno.test("reference unwrap reads every valid vector", () => {
  for (const v of vectors.filter((v) => v.valid)) {
    assertEquals(toHex(referenceUnwrap(hex(v.kbpk), v.key_block)), v.expected_key, v.id);
  }
});

for (const core of cores) {
  for (const v of ["A", "B", "C", "D", "E"] as KeyBlockVersion[]) {
    Deno.test(`[${core.name}] version ${v}: the reference unwrap reads what wrap writes`, async () => {
      for (const kbpkLength of VERSION_PARAMS[v].kbpkLengths) {
        const kbpk = randomBytes(kbpkLength);
        for (
          const header of [
            `${v}0000K0TB00E0000`,
            `${v}0000B0TX12S0200KS1800604B120F9292800000TS1320261123120000Z`,
          ]
        ) {
          for (const mask of [true, false]) {
            const key = randomBytes(16);
            const block = await wrapKeyBlock(kbpk, header, key, { core, maskKeyLength: mask });
            assertEquals(
              toHex(referenceUnwrap(kbpk, block)),
              toHex(key),
              `${v} ${kbpkLength} ${header} ${mask}`,
            );
          }
        }
      }
    });
  }
}
