/**
 * Tampered and malformed key blocks, each with the exact KeyBlockError code
 * its first failed check must give (the order of KEY_BLOCK_CHECKS), on every
 * version and core. Each case starts from a block wrapped here, changes one
 * thing, and must be rejected: never a key returned.
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { allCores, hex } from "../_helpers.ts";
import {
  KEY_BLOCK_CHECKS,
  KeyBlockError,
  type KeyBlockVersion,
  unwrapKeyBlock,
  VERSION_PARAMS,
  wrapKeyBlock,
} from "../../src/keyblock/mod.ts";
import { referenceSeal } from "./_reference.ts";
import type { CryptoCore } from "../../src/core/mod.ts";

const cores = await allCores();
const VERSIONS: KeyBlockVersion[] = ["A", "B", "C", "D", "E"];
const KS = "KS1800604B120F9292800000";

/** Replaces characters of `s` at `at` with `by`. */
function put(s: string, at: number, by: string): string {
  return s.slice(0, at) + by + s.slice(at + by.length);
}

/** Rewrites the length field to the string's length. */
function fixLength(s: string): string {
  return put(s, 1, String(s.length).padStart(4, "0"));
}

/** Flips the lowest bit of the hex digit at `at`. */
function flipHex(s: string, at: number): string {
  const d = (parseInt(s[at], 16) ^ 1).toString(16).toUpperCase();
  return put(s, at, d);
}

/**
 * A block whose MAC is valid but whose payload is chosen by the test (for the
 * checks after the MAC), sealed by the independent reference.
 */
function craft(version: KeyBlockVersion, kbpk: Uint8Array, payload: Uint8Array): string {
  const p = VERSION_PARAMS[version];
  const total = 16 + 2 * payload.length + 2 * p.macLength;
  const header = `${version}${String(total).padStart(4, "0")}P0TE00E0000`;
  return referenceSeal(kbpk, header, payload);
}

interface Case {
  name: string;
  code: typeof KEY_BLOCK_CHECKS[number];
  block: string;
  kbpk?: Uint8Array;
}

async function cases(core: CryptoCore, v: KeyBlockVersion, kbpk: Uint8Array): Promise<Case[]> {
  const p = VERSION_PARAMS[v];
  const key = hex("0123456789ABCDEFFEDCBA9876543210");
  const plain = await wrapKeyBlock(kbpk, `${v}0000P0TE00E0000`, key, { core });
  const withKs = await wrapKeyBlock(kbpk, `${v}0000P0TE00E0100${KS}`, key, { core });
  const hl = 16 + KS.length + (v === "D" || v === "E" ? 8 : 0); // D/E add a PB04 + 4 chars
  const end = withKs.length;
  const macStart = end - 2 * p.macLength;
  const list: Case[] = [
    { name: "non-ASCII character", code: "characters", block: put(withKs, 30, "\u00e9") },
    { name: "control character", code: "characters", block: put(withKs, end - 1, "\n") },
    { name: "truncated inside the fixed header", code: "header_length", block: plain.slice(0, 15) },
    { name: "empty", code: "header_length", block: "" },
    { name: "unknown version", code: "version", block: put(withKs, 0, "Z") },
    { name: "lowercase version", code: "version", block: put(withKs, 0, v.toLowerCase()) },
    { name: "length field not decimal", code: "length_field", block: put(withKs, 1, "00A0") },
    { name: "length field with a space", code: "length_field", block: put(withKs, 1, " 120") },
    { name: "truncated by one hex digit", code: "length_mismatch", block: withKs.slice(0, -1) },
    { name: "truncated by one block", code: "length_mismatch", block: withKs.slice(0, -16) },
    { name: "extended by two hex digits", code: "length_mismatch", block: withKs + "00" },
    {
      name: "length field one too large",
      code: "length_mismatch",
      block: put(withKs, 1, String(end + 1).padStart(4, "0")),
    },
    { name: "key usage not in table 2", code: "key_usage", block: put(withKs, 5, "ZZ") },
    { name: "key usage P9", code: "key_usage", block: put(withKs, 5, "P9") },
    { name: "key usage half digit", code: "key_usage", block: put(withKs, 5, "0P") },
    { name: "algorithm X", code: "algorithm", block: put(withKs, 7, "X") },
    { name: "mode of use Q", code: "mode_of_use", block: put(withKs, 8, "Q") },
    { name: "key version with a dash", code: "key_version", block: put(withKs, 9, "0-") },
    { name: "exportability X", code: "exportability", block: put(withKs, 11, "X") },
    {
      name: "optional block count not decimal",
      code: "optional_block_count",
      block: put(withKs, 12, "0A"),
    },
    { name: "key context 3", code: "key_context", block: put(withKs, 14, "3") },
    { name: "reserved byte 1", code: "reserved", block: put(withKs, 15, "1") },
    {
      name: "optional block ID lowercase",
      code: "optional_block_id",
      block: put(withKs, 16, "ks"),
    },
    {
      name: "optional block ID punctuation",
      code: "optional_block_id",
      block: put(withKs, 16, "K-"),
    },
    {
      name: "one optional block more than present",
      code: "optional_block_id",
      block: fixLength(`${v}0000P0TE00E0100`),
    },
    {
      name: "optional block length not hex",
      code: "optional_block_length",
      block: put(withKs, 18, "1Z"),
    },
    {
      name: "optional block length lowercase hex",
      code: "optional_block_length",
      block: put(withKs, 18, "1a"),
    },
    {
      name: "optional block length below its fields",
      code: "optional_block_length",
      block: put(withKs, 18, "03"),
    },
    {
      name: "optional block length past the end",
      code: "optional_block_length",
      block: put(withKs, 18, "FF"),
    },
    {
      name: "extended length-of-length 00",
      code: "optional_block_length",
      block: put(withKs, 18, "0000"),
    },
    {
      name: "extended length not hex",
      code: "optional_block_length",
      block: put(withKs, 18, "0002ZZ"),
    },
    {
      name: "extended length past the end",
      code: "optional_block_length",
      block: put(withKs, 18, "0004FFFF"),
    },
    { name: "KS data not hex", code: "optional_block_data", block: put(withKs, 20, "0060XB12") },
    {
      name: "TS data not a time",
      code: "optional_block_data",
      block: fixLength(put(withKs, 16, "TS18" + "2020-08-18 22:12:18Z")),
    },
    {
      name: "KC data without KCV algorithm",
      code: "optional_block_data",
      block: put(withKs, 16, "KC18" + "A0604B120F9292800000"),
    },
    {
      name: "PB before another block",
      code: "padding_block",
      block: fixLength(`${v}0000P0TE00E0200PB08ABCD${KS}` + withKs.slice(hl)),
    },
    {
      name: "optional block count one less than present",
      code: v === "D" || v === "E" ? "header_alignment" : "payload_hex",
      block: put(withKs, 12, v === "D" || v === "E" ? "01" : "00"),
    },
    {
      name: "header not a whole cipher block",
      code: "header_alignment",
      block: fixLength(put(withKs, 16, "KS17").slice(0, 39) + withKs.slice(40)),
    },
    { name: "KBPK of 8 bytes", code: "kbpk_length", block: withKs, kbpk: kbpk.subarray(0, 8) },
    { name: "KBPK of 20 bytes", code: "kbpk_length", block: withKs, kbpk: new Uint8Array(20) },
    { name: "KBPK of 0 bytes", code: "kbpk_length", block: withKs, kbpk: new Uint8Array(0) },
    { name: "payload with G", code: "payload_hex", block: put(withKs, hl + 2, "G") },
    { name: "payload lowercase hex", code: "payload_hex", block: put(withKs, hl + 2, "a") },
    { name: "MAC with a space", code: "payload_hex", block: put(withKs, end - 1, " ") },
    { name: "payload bit flipped", code: "mac", block: flipHex(withKs, hl + 3) },
    { name: "last payload bit flipped", code: "mac", block: flipHex(withKs, macStart - 1) },
    { name: "MAC bit flipped", code: "mac", block: flipHex(withKs, end - 1) },
    { name: "MAC first bit flipped", code: "mac", block: flipHex(withKs, macStart) },
    {
      name: "header field changed (exportability E to N)",
      code: "mac",
      block: put(withKs, 11, "N"),
    },
    { name: "header field changed (key usage P0 to K0)", code: "mac", block: put(withKs, 5, "K0") },
    { name: "optional block data changed", code: "mac", block: put(withKs, 25, "9") },
    {
      name: "version changed to its twin",
      code: v === "A" || v === "C" ? "mac" : v === "B" ? "header_alignment" : "kbpk_length",
      block: put(withKs, 0, v === "A" ? "C" : v === "C" ? "A" : v === "B" ? "D" : "B"),
    },
    { name: "wrong KBPK", code: "mac", block: withKs, kbpk: kbpk.map((b) => b ^ 0x10) },
    {
      name: "wrong KBPK, last byte",
      code: "mac",
      block: withKs,
      kbpk: kbpk.map((b, i) => i === kbpk.length - 1 ? b ^ 0x80 : b),
    },
    {
      name: "MAC of another block",
      code: "mac",
      block: withKs.slice(0, macStart) + plain.slice(plain.length - 2 * p.macLength),
    },
  ];
  // Two faults at once: the earlier check in KEY_BLOCK_CHECKS names the error.
  const short = kbpk.subarray(0, 8);
  list.push(
    {
      name: "two faults: version and truncation",
      code: "version",
      block: put(withKs, 0, "Z").slice(0, -2),
    },
    {
      name: "two faults: key usage and algorithm",
      code: "key_usage",
      block: put(put(withKs, 5, "ZZ"), 7, "X"),
    },
    {
      name: "two faults: reserved and key context",
      code: "key_context",
      block: put(put(withKs, 15, "1"), 14, "3"),
    },
    {
      name: "two faults: algorithm and KBPK length",
      code: "algorithm",
      block: put(withKs, 7, "X"),
      kbpk: short,
    },
    {
      name: "two faults: KBPK length and MAC",
      code: "kbpk_length",
      block: flipHex(withKs, end - 1),
      kbpk: short,
    },
    {
      name: "two faults: payload hex and wrong KBPK",
      code: "payload_hex",
      block: put(withKs, hl, "G"),
      kbpk: kbpk.map((b) => b ^ 0x10),
    },
  );
  if (p.blockAligned) {
    list.push(
      {
        name: "one extra hex digit, length fixed",
        code: "block_alignment",
        block: fixLength(withKs + "0"),
      },
      {
        name: "half a cipher block removed, length fixed",
        code: "payload_length",
        block: fixLength(withKs.slice(0, hl) + withKs.slice(hl + p.blockSize)),
      },
      {
        name: "payload removed, MAC kept",
        code: "payload_length",
        block: fixLength(withKs.slice(0, hl) + withKs.slice(macStart)),
      },
    );
  } else {
    list.push(
      { name: "odd number of hex digits", code: "payload_hex", block: fixLength(withKs + "0") },
      {
        name: "payload of 2 bytes",
        code: "payload_length",
        block: fixLength(withKs.slice(0, hl) + withKs.slice(macStart - 4)),
      },
    );
  }
  if (v !== "E") {
    // after the fixed-header error on a version whose alignment differs
    list.push({
      name: "a whole cipher block removed, length fixed",
      code: "mac",
      block: fixLength(withKs.slice(0, hl) + withKs.slice(hl + 2 * p.blockSize)),
    });
  }
  // Checks after the MAC: blocks with a valid MAC over a bad payload.
  const n = p.blockAligned ? p.blockSize * 2 : 20;
  const badBits = new Uint8Array(n);
  badBits.set([0x00, 0x81]);
  const tooLong = new Uint8Array(n);
  tooLong.set([0x01, 0x00]); // 32 bytes
  const zero = new Uint8Array(n);
  list.push(
    {
      name: "key length 129 bits (MAC valid)",
      code: "key_length_bits",
      block: craft(v, kbpk, badBits),
    },
    {
      name: "key length past the payload (MAC valid)",
      code: "key_length",
      block: craft(v, kbpk, tooLong),
    },
    {
      name: "key length 0 (MAC valid)",
      code: "key_length",
      block: craft(v, kbpk, zero),
    },
  );
  return list;
}

for (const core of cores) {
  for (const v of VERSIONS) {
    Deno.test(`[${core.name}] version ${v}: every tampered or malformed block has its exact code`, async () => {
      const kbpk = hex(
        "89E88CF7931444F334BD7547FC3F380C5DB50B454F8389ADCE573BE50861F2BF".slice(
          0,
          VERSION_PARAMS[v].cipher === "aes" ? 64 : 48,
        ),
      );
      const list = await cases(core, v, kbpk);
      for (const c of list) {
        const e = await assertRejects(
          () => unwrapKeyBlock(c.kbpk ?? kbpk, c.block, { core }),
          KeyBlockError,
          undefined,
          `${v}: ${c.name}`,
        );
        assertEquals((e as KeyBlockError).code, c.code, `${v}: ${c.name}: ${(e as Error).message}`);
      }
    });
  }

  Deno.test(`[${core.name}] wrong argument types are TypeErrors`, async () => {
    const kbpk = new Uint8Array(16);
    const block = await wrapKeyBlock(kbpk, "A0000P0TE00E0000", new Uint8Array(16), { core });
    await assertRejects(
      () => unwrapKeyBlock("00" as unknown as Uint8Array, block, { core }),
      TypeError,
      "kbpk",
    );
    await assertRejects(
      () => unwrapKeyBlock([...kbpk] as unknown as Uint8Array, block, { core }),
      TypeError,
      "kbpk",
    );
    await assertRejects(
      () => unwrapKeyBlock(kbpk, 42 as unknown as string, { core }),
      TypeError,
      "keyBlock",
    );
    await assertRejects(
      () => wrapKeyBlock(kbpk, "A0000P0TE00E0000", "00" as unknown as Uint8Array, { core }),
      TypeError,
      "key",
    );
    await assertRejects(
      () => wrapKeyBlock(kbpk, 7 as unknown as string, new Uint8Array(16), { core }),
      TypeError,
      "header",
    );
  });
}

Deno.test("KeyBlockError is an Error with a code and names no key", () => {
  const e = new KeyBlockError("mac", "m");
  assertEquals(e instanceof Error, true);
  assertEquals([e.name, e.code, e.message], ["KeyBlockError", "mac", "m"]);
  assertThrows(() => {
    throw e;
  }, KeyBlockError);
});

Deno.test("the tamper tables reach every check of KEY_BLOCK_CHECKS", async () => {
  const seen = new Set<string>();
  for (const v of VERSIONS) {
    const kbpk = new Uint8Array(VERSION_PARAMS[v].cipher === "aes" ? 32 : 24).fill(0x5a);
    for (const c of await cases(cores[0], v, kbpk)) seen.add(c.code);
  }
  assertEquals([...KEY_BLOCK_CHECKS].filter((c) => !seen.has(c)), []);
});
