/**
 * AES (FIPS 197) on every core, ECB and CBC (SP 800-38A), 128/192/256-bit
 * keys: the FIPS 197 and SP 800-38A vectors of tests/vectors/aes.json both
 * ways; random keys, IVs and data of every length 0..200 bytes (whole blocks
 * against node:crypto, the rest refused with the exact error), some long
 * inputs past the wasm core's 64 KiB buffer; the two cores against each
 * other; inputs left unchanged; and a table of bad arguments.
 */
import { assertEquals, assertThrows } from "@std/assert";
import nodeCrypto from "node:crypto";
import type { CryptoCore } from "../../src/core/types.ts";
import { hex, loadVectors, randomBytes, toHex } from "../_helpers.ts";
import { coresUnderTest, label } from "./_variants.ts";

const cores = await coresUnderTest();

interface AesVector {
  id: string;
  mode: "ECB" | "CBC" | "CTR";
  key: string;
  iv?: string;
  plaintext: string;
  ciphertext: string;
}
const aesVectors = loadVectors<{ vectors: AesVector[] }>("aes.json").vectors;

// --- independent AES on node:crypto: ECB, and CBC chained here over ECB (Deno has no aes-192-cbc)

function nodeEcb(encrypt: boolean, key: Uint8Array, data: Uint8Array): Uint8Array {
  const alg = `aes-${key.length * 8}-ecb`;
  const c = encrypt
    ? nodeCrypto.createCipheriv(alg, key, null)
    : nodeCrypto.createDecipheriv(alg, key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

function nodeCbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let prev: Uint8Array = iv.slice();
  for (let o = 0; o < data.length; o += 16) {
    const block = data.slice(o, o + 16);
    if (encrypt) {
      const y = nodeEcb(true, key, block.map((b, i) => b ^ prev[i]));
      out.set(y, o);
      prev = y;
    } else {
      const y = nodeEcb(false, key, block);
      out.set(y.map((b, i) => b ^ prev[i]), o);
      prev = block;
    }
  }
  return out;
}

function run(
  core: CryptoCore,
  mode: "ecb" | "cbc",
  encrypt: boolean,
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  if (mode === "ecb") {
    return encrypt ? core.aesEncryptEcb(key, data) : core.aesDecryptEcb(key, data);
  }
  return encrypt ? core.aesEncryptCbc(key, iv, data) : core.aesDecryptCbc(key, iv, data);
}

for (const core of cores) {
  Deno.test(`[${label(core)}] AES known answers (aes.json: FIPS 197 C.1-C.3, SP 800-38A F.2.1)`, () => {
    const used = aesVectors.filter((v) => v.mode !== "CTR");
    assertEquals(used.length, 4);
    for (const v of used) {
      const key = hex(v.key);
      const pt = hex(v.plaintext);
      const ct = hex(v.ciphertext);
      if (v.mode === "ECB") {
        assertEquals(toHex(core.aesEncryptEcb(key, pt)), v.ciphertext, v.id);
        assertEquals(toHex(core.aesDecryptEcb(key, ct)), v.plaintext, v.id);
      } else {
        assertEquals(toHex(core.aesEncryptCbc(key, hex(v.iv!), pt)), v.ciphertext, v.id);
        assertEquals(toHex(core.aesDecryptCbc(key, hex(v.iv!), ct)), v.plaintext, v.id);
      }
    }
  });

  Deno.test(`[${label(core)}] AES random against node:crypto, every length 0..200, 128/192/256, ECB and CBC`, () => {
    for (const keyLen of [16, 24, 32]) {
      for (let n = 0; n <= 200; n++) {
        const key = randomBytes(keyLen);
        const iv = randomBytes(16);
        const data = randomBytes(n);
        const keep = data.slice();
        for (const mode of ["ecb", "cbc"] as const) {
          for (const encrypt of [true, false]) {
            const tag = `${mode} ${encrypt ? "enc" : "dec"} key ${keyLen} B, ${n} B`;
            if (n % 16 !== 0) {
              const e = assertThrows(() => run(core, mode, encrypt, key, iv, data), RangeError);
              assertEquals(
                e.message,
                `data must be a whole number of 16-byte blocks, got ${n} bytes`,
                tag,
              );
              continue;
            }
            const got = run(core, mode, encrypt, key, iv, data);
            const want = mode === "ecb"
              ? nodeEcb(encrypt, key, data)
              : nodeCbc(encrypt, key, iv, data);
            assertEquals(toHex(got), toHex(want), tag);
            assertEquals(
              toHex(run(core, mode, !encrypt, key, iv, got)),
              toHex(data),
              `round trip ${tag}`,
            );
          }
        }
        assertEquals(data, keep, "the input is not changed");
      }
    }
  });

  Deno.test(`[${label(core)}] AES inputs past 64 KiB (the wasm core's buffer) against node:crypto`, () => {
    for (const keyLen of [16, 24, 32]) {
      const key = randomBytes(keyLen);
      const iv = randomBytes(16);
      const data = randomBytes(65536 + 48);
      assertEquals(toHex(core.aesEncryptEcb(key, data)), toHex(nodeEcb(true, key, data)));
      assertEquals(toHex(core.aesDecryptEcb(key, data)), toHex(nodeEcb(false, key, data)));
      assertEquals(toHex(core.aesEncryptCbc(key, iv, data)), toHex(nodeCbc(true, key, iv, data)));
      assertEquals(
        toHex(core.aesDecryptCbc(key, iv, data)),
        toHex(nodeCbc(false, key, iv, data)),
      );
    }
  });
}

Deno.test("AES: the wasm and JS cores agree on random keys and data", () => {
  const [a, b] = cores;
  for (let i = 0; i < 50; i++) {
    const key = randomBytes([16, 24, 32][i % 3]);
    const iv = randomBytes(16);
    const data = randomBytes(16 * (i % 7));
    for (const mode of ["ecb", "cbc"] as const) {
      for (const encrypt of [true, false]) {
        assertEquals(
          toHex(run(a, mode, encrypt, key, iv, data)),
          toHex(run(b, mode, encrypt, key, iv, data)),
          `${a.name} vs ${b.name} ${mode} ${encrypt} ${key.length}`,
        );
      }
    }
  }
});

type BadCase = [string, (c: CryptoCore) => unknown, typeof TypeError | typeof RangeError, string];
const k16 = new Uint8Array(16);
const b16 = new Uint8Array(16);
const badCases: BadCase[] = [
  [
    "key not bytes",
    (c) => c.aesEncryptEcb("00" as unknown as Uint8Array, b16),
    TypeError,
    "key must be a Uint8Array, got string",
  ],
  ...[0, 8, 15, 17, 31, 33, 64].map((n): BadCase => [
    `key ${n} bytes`,
    (c) => c.aesDecryptEcb(new Uint8Array(n), b16),
    RangeError,
    `key must be 16, 24 or 32 bytes (AES), got ${n}`,
  ]),
  [
    "data not bytes",
    (c) => c.aesEncryptCbc(k16, b16, [1, 2] as unknown as Uint8Array),
    TypeError,
    "data must be a Uint8Array, got an array",
  ],
  [
    "partial block CBC",
    (c) => c.aesDecryptCbc(k16, b16, new Uint8Array(8)),
    RangeError,
    "data must be a whole number of 16-byte blocks, got 8 bytes",
  ],
  [
    "iv not bytes",
    (c) => c.aesEncryptCbc(k16, null as unknown as Uint8Array, b16),
    TypeError,
    "iv must be a Uint8Array, got null",
  ],
  ...[0, 8, 15, 17, 32].map((n): BadCase => [
    `iv ${n} bytes`,
    (c) => c.aesDecryptCbc(k16, new Uint8Array(n), b16),
    RangeError,
    `iv must be 16 bytes, got ${n}`,
  ]),
  [
    "key checked before data",
    (c) => c.aesEncryptCbc(new Uint8Array(20), new Uint8Array(3), new Uint8Array(5)),
    RangeError,
    "key must be 16, 24 or 32 bytes (AES), got 20",
  ],
];

for (const core of cores) {
  Deno.test(`[${label(core)}] AES bad arguments throw the documented error`, () => {
    for (const [name, fn, cls, message] of badCases) {
      const err = assertThrows(() => fn(core), cls, undefined, name);
      assertEquals(err.message, message, name);
    }
  });
}
