/**
 * Every TR-31 / X9.143 vector of `tests/vectors/tr31_keyblocks.json` (34 valid,
 * 15 invalid) and `tr31_kbpk_derivation.json`, on every core. Valid blocks must
 * unwrap to the expected key, header fields, optional blocks and KCV (the KCV
 * computed independently on node:crypto); invalid ones must throw
 * KeyBlockError with the code mapped below, never a key. Nothing is skipped:
 * a vector that does not decode fails the test.
 */
import { assertEquals, assertRejects } from "@std/assert";
import { allCores, hex, loadVectors, toHex } from "../_helpers.ts";
import {
  deriveKeys,
  KeyBlockError,
  readKeyBlockHeader,
  unwrapKeyBlock,
  wrapKeyBlock,
} from "../../src/keyblock/mod.ts";
import type { KeyBlockVersion } from "../../src/keyblock/mod.ts";
import { aesCmac, cmacKcv, legacyKcv } from "./_reference.ts";

interface BlockVector {
  id: string;
  source: string;
  kbpk: string;
  key_block: string;
  header?: string;
  expected_key?: string;
  header_fields?: {
    version: string;
    length: number;
    key_usage: string;
    algorithm: string;
    mode_of_use: string;
    key_version: string;
    exportability: string;
    num_optional_blocks: number;
  };
  valid: boolean;
  expected_kcv?: string;
  kcv_method?: string;
  expected_optional_blocks?: Record<string, string>;
  expected_error?: string;
}

interface DerivationVector {
  id: string;
  source: string;
  method: string;
  kbpk: string;
  kbek: string;
  kbak: string;
}

const blocks = loadVectors<{ vectors: BlockVector[] }>("tr31_keyblocks.json").vectors;
const derivations = loadVectors<{ vectors: DerivationVector[] }>("tr31_kbpk_derivation.json")
  .vectors;
const cores = await allCores();

/**
 * The vectors' error classes (the words before any parenthesis) and the
 * KeyBlockError code each must produce.
 */
const ERROR_CODE_FOR: Record<string, string> = {
  length_field_mismatch: "length_mismatch",
  length_not_multiple_of_block: "block_alignment",
  mac_mismatch: "mac",
  kbpk_wrong_length_for_version: "kbpk_length",
  payload_key_length_not_multiple_of_8_bits: "key_length_bits",
  payload_key_length_exceeds_payload: "key_length",
};

Deno.test("tr31_keyblocks.json holds 34 valid and 15 invalid vectors", () => {
  assertEquals(blocks.length, 49);
  assertEquals(blocks.filter((v) => v.valid).length, 34);
  assertEquals(blocks.filter((v) => !v.valid).length, 15);
});

Deno.test("reference AES-CMAC matches RFC 4493 example 1 and 2", () => {
  const k = hex("2B7E151628AED2A6ABF7158809CF4F3C");
  assertEquals(toHex(aesCmac(k, new Uint8Array(0))), "BB1D6929E95937287FA37D129B756746");
  assertEquals(
    toHex(aesCmac(k, hex("6BC1BEE22E409F96E93D7E117393172A"))),
    "070A16B46B4D4144F79BDD9DD04A287C",
  );
});

for (const core of cores) {
  for (const v of blocks.filter((v) => v.valid)) {
    Deno.test(`[${core.name}] valid ${v.id} unwraps to the expected key and header`, async () => {
      const kbpk = hex(v.kbpk);
      const { header, key } = await unwrapKeyBlock(kbpk, v.key_block, { core });
      assertEquals(toHex(key), v.expected_key);
      const f = v.header_fields!;
      assertEquals(f.length, v.key_block.length);
      assertEquals(
        {
          version: header.version,
          key_usage: header.keyUsage,
          algorithm: header.algorithm,
          mode_of_use: header.modeOfUse,
          key_version: header.keyVersion,
          exportability: header.exportability,
          num_optional_blocks: header.optionalBlocks.length,
        },
        {
          version: f.version,
          key_usage: f.key_usage,
          algorithm: f.algorithm,
          mode_of_use: f.mode_of_use,
          key_version: f.key_version,
          exportability: f.exportability,
          num_optional_blocks: f.num_optional_blocks,
        },
      );
      assertEquals(header.keyContext, "0");
      for (const [id, expected] of Object.entries(v.expected_optional_blocks ?? {})) {
        const data = expected.split(" ")[0]; // drop the vectors' "(explanation)"
        assertEquals(header.optionalBlocks.find((b) => b.id === id)?.data, data, id);
      }
      // the header as the MAC covered it: the unauthenticated reader agrees
      assertEquals(readKeyBlockHeader(v.key_block), header);
      if (v.expected_kcv) {
        const n = v.expected_kcv.length / 2;
        const kcv = v.kcv_method!.startsWith("AES-CMAC") ? cmacKcv(key, n) : legacyKcv(key, n);
        assertEquals(toHex(kcv), v.expected_kcv);
      }
    });

    Deno.test(`[${core.name}] valid ${v.id} re-wraps with the same header`, async () => {
      const kbpk = hex(v.kbpk);
      const key = hex(v.expected_key!);
      const block = await wrapKeyBlock(kbpk, v.header!, key, { core, maskKeyLength: false });
      // Same header text except the length field (the vector may mask the key length).
      assertEquals(
        block.slice(0, 1) + block.slice(5, v.header!.length),
        v.header![0] + v.header!.slice(5),
      );
      assertEquals(Number(block.slice(1, 5)), block.length);
      const out = await unwrapKeyBlock(kbpk, block, { core });
      assertEquals(toHex(out.key), v.expected_key);
      assertEquals(out.header, (await unwrapKeyBlock(kbpk, v.key_block, { core })).header);
    });
  }

  for (const v of blocks.filter((v) => !v.valid)) {
    const code = ERROR_CODE_FOR[v.expected_error!.split(" ")[0]];
    Deno.test(`[${core.name}] invalid ${v.id} is rejected with ${code}`, async () => {
      assertEquals(typeof code, "string", `no code mapped for ${v.expected_error}`);
      const e = await assertRejects(
        () => unwrapKeyBlock(hex(v.kbpk), v.key_block, { core }),
        KeyBlockError,
      );
      assertEquals((e as KeyBlockError).code, code);
    });
  }

  for (const d of derivations) {
    const versions: KeyBlockVersion[] = d.method.startsWith("variant")
      ? ["A", "C"]
      : [d.method.startsWith("version B") ? "B" : d.method.startsWith("version D") ? "D" : "E"];
    for (const version of versions) {
      Deno.test(`[${core.name}] KBPK derivation ${d.id} (version ${version})`, async () => {
        const { kbek, kbak } = await deriveKeys(version, hex(d.kbpk), core);
        assertEquals({ kbek: toHex(kbek), kbak: toHex(kbak) }, { kbek: d.kbek, kbak: d.kbak });
      });
    }
  }
}
