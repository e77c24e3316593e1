/**
 * Wrap then unwrap over every version x KBPK length x key length, with and
 * without optional blocks, with and without key-length obfuscation, on every
 * core; plus the properties obfuscation must have (equal block lengths for
 * every key length of an algorithm) and the wrap-side argument checks.
 */
import { assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { allCores, randomBytes, toHex } from "../_helpers.ts";
import {
  type KeyAlgorithm,
  type KeyBlockHeader,
  type KeyBlockVersion,
  readKeyBlockHeader,
  unwrapKeyBlock,
  VERSION_PARAMS,
  wrapKeyBlock,
} from "../../src/keyblock/mod.ts";
import { KeyBlockError } from "../../src/keyblock/mod.ts";

const cores = await allCores();
const VERSIONS: KeyBlockVersion[] = ["A", "B", "C", "D", "E"];

/** Keys each version carries under a KBPK of each length (a symmetric key no longer than a same-cipher KBPK). */
function keysFor(v: KeyBlockVersion, kbpkLength: number): [KeyAlgorithm, number][] {
  const tdes: [KeyAlgorithm, number][] = [["T", 8], ["T", 16], ["T", 24]];
  if (VERSION_PARAMS[v].cipher === "tdes") return tdes.filter(([, n]) => n <= kbpkLength);
  const aes: [KeyAlgorithm, number][] = [["A", 16], ["A", 24], ["A", 32]];
  return [...tdes, ...aes.filter(([, n]) => n <= kbpkLength), ["R", 300], ["H", 20]];
}

const OPTIONAL: KeyBlockHeader["optionalBlocks"][] = [
  [],
  [
    { id: "KS", data: "00604B120F9292800000" },
    { id: "KC", data: "00CB9DEA" },
    { id: "TS", data: "20261123120000Z" },
    { id: "LB", data: "terminal TMK" },
    { id: "99", data: "x".repeat(300) }, // extended length form
  ],
];

for (const core of cores) {
  for (const v of VERSIONS) {
    Deno.test(`[${core.name}] version ${v}: round trips over KBPK length x key length x optional blocks x masking`, async () => {
      let n = 0;
      for (const kbpkLength of VERSION_PARAMS[v].kbpkLengths) {
        const kbpk = randomBytes(kbpkLength);
        for (const [algorithm, keyLength] of keysFor(v, kbpkLength)) {
          for (const optionalBlocks of OPTIONAL) {
            for (const mask of [true, false]) {
              const what = `${v} kbpk ${kbpkLength} ${algorithm}${keyLength} opt ${
                optionalBlocks!.length
              } mask ${mask}`;
              const key = randomBytes(keyLength);
              const header: KeyBlockHeader = {
                version: v,
                keyUsage: algorithm === "R" ? "S0" : "K0",
                algorithm,
                modeOfUse: algorithm === "R" ? "S" : "B",
                keyVersion: "07",
                exportability: "E",
                optionalBlocks,
              };
              const block = await wrapKeyBlock(kbpk, header, key, { core, maskKeyLength: mask });
              assertEquals(Number(block.slice(1, 5)), block.length, what);
              if (VERSION_PARAMS[v].blockAligned) {
                assertEquals(block.length % VERSION_PARAMS[v].blockSize, 0, what);
              }
              const out = await unwrapKeyBlock(kbpk, block, { core });
              assertEquals(toHex(out.key), toHex(key), what);
              // the header comes back as given, plus the PB block alignment needed
              const blocks = out.header.optionalBlocks.filter((b) => b.id !== "PB");
              assertEquals(blocks, optionalBlocks, what);
              assertEquals(
                { ...out.header, optionalBlocks: blocks },
                { ...header, keyContext: "0", optionalBlocks },
                what,
              );
              assertEquals(readKeyBlockHeader(block), out.header, what);
              n++;
            }
          }
        }
      }
      assertEquals(n > 0, true);
    });

    Deno.test(`[${core.name}] version ${v}: masking hides the key length, and the padding is random`, async () => {
      const kbpk = randomBytes(VERSION_PARAMS[v].kbpkLengths.at(-1)!);
      const h = `${v}0000K0TB00E0000`;
      const masked = new Set<number>();
      const plain = new Set<number>();
      for (const len of [8, 16, 24]) {
        const key = randomBytes(len);
        masked.add((await wrapKeyBlock(kbpk, h, key, { core })).length);
        plain.add((await wrapKeyBlock(kbpk, h, key, { core, maskKeyLength: false })).length);
        const explicit = await wrapKeyBlock(kbpk, h, key, { core, maskKeyLength: 40 });
        assertEquals(toHex((await unwrapKeyBlock(kbpk, explicit, { core })).key), toHex(key));
      }
      assertEquals(masked.size, 1);
      assertEquals(plain.size > 1, true);
      const key = randomBytes(16);
      assertNotEquals(
        await wrapKeyBlock(kbpk, h, key, { core }),
        await wrapKeyBlock(kbpk, h, key, { core }),
      );
    });
  }

  Deno.test(`[${core.name}] header strings: length field ignored, PB recomputed, extended lengths`, async () => {
    const kbpk = randomBytes(32);
    const key = randomBytes(16);
    // length field "XXXX" is ignored; KS makes 40 characters, so D needs a PB of 8.
    const block = await wrapKeyBlock(kbpk, "DXXXXP0AE00E0100KS1800604B120F9292800000", key, {
      core,
    });
    assertEquals(block.slice(16, 48), "KS1800604B120F9292800000PB080000");
    assertEquals(block.slice(12, 14), "02");
    // a caller's PB of the wrong size is replaced
    const b2 = await wrapKeyBlock(kbpk, "D0000P0AE00E0200KS1800604B120F9292800000PB05Z", key, {
      core,
    });
    assertEquals(b2.slice(16, 48), "KS1800604B120F9292800000PB080000");
    // a block given in extended form comes back in the short form when it fits
    const b3 = await wrapKeyBlock(kbpk, "D0000P0AE00E0100KS00021C00604B120F9292800000", key, {
      core,
    });
    assertEquals(b3.slice(16, 48), "KS1800604B120F9292800000PB080000");
    const big = "Q".repeat(260);
    const b4 = await wrapKeyBlock(
      kbpk,
      {
        version: "D",
        keyUsage: "D0",
        algorithm: "A",
        modeOfUse: "B",
        keyVersion: "00",
        exportability: "N",
        optionalBlocks: [{ id: "LB", data: big }],
      },
      key,
      { core },
    );
    assertEquals(b4.slice(16, 26), "LB0004010E"); // 10 + 260 = 0x10E
    assertEquals((await unwrapKeyBlock(kbpk, b4, { core })).header.optionalBlocks[0].data, big);
    // A/B/C align to 8: a 40-character header needs no PB
    const b5 = await wrapKeyBlock(
      kbpk.subarray(0, 24),
      "B0000P0TE00E0100KS1800604B120F9292800000",
      key,
      { core },
    );
    assertEquals(b5.slice(12, 14), "01");
  });

  Deno.test(`[${core.name}] wrap rejects bad arguments with the exact error`, async () => {
    const k16 = randomBytes(16);
    const cases: [
      string,
      () => Promise<unknown>,
      typeof RangeError | typeof TypeError | typeof KeyBlockError,
      string,
    ][] = [
      [
        "kbpk 8 bytes, version B",
        () => wrapKeyBlock(randomBytes(8), "B0000P0TE00E0000", k16, { core }),
        KeyBlockError,
        "kbpk_length",
      ],
      [
        "kbpk 32 bytes, version A",
        () => wrapKeyBlock(randomBytes(32), "A0000P0TE00E0000", k16, { core }),
        KeyBlockError,
        "kbpk_length",
      ],
      [
        "kbpk 20 bytes, version D",
        () => wrapKeyBlock(randomBytes(20), "D0000P0AE00E0000", k16, { core }),
        KeyBlockError,
        "kbpk_length",
      ],
      [
        "unknown version",
        () => wrapKeyBlock(k16, "F0000P0TE00E0000", k16, { core }),
        KeyBlockError,
        "version",
      ],
      [
        "bad key usage",
        () => wrapKeyBlock(k16, "B0000Z9TE00E0000", k16, { core }),
        KeyBlockError,
        "key_usage",
      ],
      [
        "bad algorithm",
        () => wrapKeyBlock(k16, "B0000P0QE00E0000", k16, { core }),
        KeyBlockError,
        "algorithm",
      ],
      [
        "bad mode",
        () => wrapKeyBlock(k16, "B0000P0TQ00E0000", k16, { core }),
        KeyBlockError,
        "mode_of_use",
      ],
      [
        "bad exportability",
        () => wrapKeyBlock(k16, "B0000P0TE00Q0000", k16, { core }),
        KeyBlockError,
        "exportability",
      ],
      [
        "reserved",
        () => wrapKeyBlock(k16, "B0000P0TE00E0001", k16, { core }),
        KeyBlockError,
        "reserved",
      ],
      [
        "header too short",
        () => wrapKeyBlock(k16, "B0000P0TE00E00", k16, { core }),
        KeyBlockError,
        "header_length",
      ],
      [
        "trailing characters",
        () => wrapKeyBlock(k16, "B0000P0TE00E0000KS08ABCD", k16, { core }),
        KeyBlockError,
        "optional_block_count",
      ],
      [
        "PB not last",
        () =>
          wrapKeyBlock(
            k16,
            {
              version: "B",
              keyUsage: "P0",
              algorithm: "T",
              modeOfUse: "E",
              keyVersion: "00",
              exportability: "E",
              optionalBlocks: [{ id: "PB", data: "" }, { id: "LB", data: "x" }],
            },
            k16,
            { core },
          ),
        KeyBlockError,
        "padding_block",
      ],
      [
        "bad optional block ID",
        () =>
          wrapKeyBlock(
            k16,
            {
              version: "B",
              keyUsage: "P0",
              algorithm: "T",
              modeOfUse: "E",
              keyVersion: "00",
              exportability: "E",
              optionalBlocks: [{ id: "K", data: "x" }],
            },
            k16,
            { core },
          ),
        KeyBlockError,
        "optional_block_id",
      ],
      [
        "non-printable optional block data",
        () =>
          wrapKeyBlock(
            k16,
            {
              version: "B",
              keyUsage: "P0",
              algorithm: "T",
              modeOfUse: "E",
              keyVersion: "00",
              exportability: "E",
              optionalBlocks: [{ id: "LB", data: "\u0000" }],
            },
            k16,
            { core },
          ),
        KeyBlockError,
        "optional_block_data",
      ],
      [
        "key context 9",
        () =>
          wrapKeyBlock(
            k16,
            {
              version: "B",
              keyUsage: "P0",
              algorithm: "T",
              modeOfUse: "E",
              keyVersion: "00",
              exportability: "E",
              keyContext: "9" as "0",
            },
            k16,
            { core },
          ),
        KeyBlockError,
        "key_context",
      ],
      [
        "block over 9999 characters",
        () => wrapKeyBlock(randomBytes(32), "D0000S0RS00N0000", randomBytes(5000), { core }),
        KeyBlockError,
        "length_field",
      ],
      [
        "TDES key of 12 bytes",
        () => wrapKeyBlock(k16, "B0000P0TE00E0000", randomBytes(12), { core }),
        RangeError,
        "key must be 8, 16, 24 bytes",
      ],
      [
        "AES key under version B",
        () => wrapKeyBlock(k16, "B0000P0AE00E0000", k16, { core }),
        RangeError,
        "use version D",
      ],
      [
        "24-byte TDES key under a 16-byte TDES KBPK",
        () => wrapKeyBlock(k16, "B0000P0TE00E0000", randomBytes(24), { core }),
        RangeError,
        "must not be longer than the kbpk",
      ],
      [
        "AES-256 key under AES-128 KBPK",
        () => wrapKeyBlock(k16, "D0000P0AE00E0000", randomBytes(32), { core }),
        RangeError,
        "must not be longer than the kbpk",
      ],
      [
        "empty key",
        () => wrapKeyBlock(k16, "D0000S0RS00E0000", new Uint8Array(0), { core }),
        RangeError,
        "key must be 1 to",
      ],
      [
        "maskKeyLength below key length",
        () => wrapKeyBlock(k16, "B0000P0TE00E0000", k16, { core, maskKeyLength: 8 }),
        RangeError,
        "maskKeyLength",
      ],
      [
        "maskKeyLength not an integer",
        () => wrapKeyBlock(k16, "B0000P0TE00E0000", k16, { core, maskKeyLength: 20.5 }),
        TypeError,
        "maskKeyLength",
      ],
    ];
    for (const [name, fn, cls, expected] of cases) {
      const e = await assertRejects(fn, cls, undefined, name);
      if (e instanceof KeyBlockError) assertEquals(e.code, expected, `${name}: ${e.message}`);
      else assertEquals(e.message.includes(expected), true, `${name}: ${e.message}`);
    }
  });
}
