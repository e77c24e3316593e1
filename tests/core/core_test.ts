/**
 * Crypto core tests: published vectors, sweeps against node:crypto and BigInt,
 * and a table of bad arguments, on every core.
 */
import { assertEquals, assertThrows } from "@std/assert";
import nodeCrypto from "node:crypto";
import type { CryptoCore, RsaPrivateKey } from "../../src/core/types.ts";
import { fromBigInt, hex, loadVectors, randomBytes, toBigInt, toHex } from "../_helpers.ts";
import { coresUnderTest, label } from "./_variants.ts";

const cores = await coresUnderTest();

interface TdesVector {
  id: string;
  mode: "ECB" | "CBC";
  key: string;
  iv?: string;
  plaintext: string;
  ciphertext: string;
  direction?: string;
}
interface ShaVector {
  id: string;
  message?: string;
  message_spec?: string;
  sha1: string;
  sha256: string;
}

const tdesVectors = loadVectors<{ vectors: TdesVector[] }>("tdes_kat.json").vectors;
const shaVectors = loadVectors<{ vectors: ShaVector[] }>("sha.json").vectors;

// --- independent TDES on node:crypto (Deno has only des-ede3-cbc) ---------------------------

function key24(key: Uint8Array): Uint8Array {
  if (key.length === 24) return key;
  const k = new Uint8Array(24);
  k.set(key);
  k.set(key.subarray(0, 8), 16);
  return k;
}

function nodeCbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = encrypt
    ? nodeCrypto.createCipheriv("des-ede3-cbc", key24(key), iv)
    : nodeCrypto.createDecipheriv("des-ede3-cbc", key24(key), iv);
  c.setAutoPadding(false);
  const a = c.update(data);
  const b = c.final();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** ECB built from CBC one block at a time with a zero IV. */
function nodeEcb(encrypt: boolean, key: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  const zero = new Uint8Array(8);
  for (let i = 0; i < data.length; i += 8) {
    out.set(nodeCbc(encrypt, key, zero, data.subarray(i, i + 8)), i);
  }
  return out;
}

function shaMessage(v: ShaVector): Uint8Array {
  // The one vector without a hex message is FIPS 180's "'a' repeated 1,000,000 times".
  if (v.message === undefined) {
    if (v.message_spec !== "'a' repeated 1,000,000 times") {
      throw new Error(`unknown spec in ${v.id}`);
    }
    return new Uint8Array(1_000_000).fill(0x61);
  }
  return hex(v.message);
}

for (const core of cores) {
  Deno.test(`[${label(core)}] TDES known answers (tdes_kat.json)`, () => {
    assertEquals(tdesVectors.length, 30);
    for (const v of tdesVectors) {
      const key = hex(v.key);
      const pt = hex(v.plaintext);
      const ct = hex(v.ciphertext);
      if (v.mode === "ECB") {
        assertEquals(toHex(core.tdesEncryptEcb(key, pt)), toHex(ct), v.id);
        assertEquals(toHex(core.tdesDecryptEcb(key, ct)), toHex(pt), v.id);
      } else {
        const iv = hex(v.iv!);
        assertEquals(toHex(core.tdesEncryptCbc(key, iv, pt)), toHex(ct), v.id);
        assertEquals(toHex(core.tdesDecryptCbc(key, iv, ct)), toHex(pt), v.id);
      }
    }
  });

  Deno.test(`[${label(core)}] TDES random against node:crypto (2- and 3-key, ECB and CBC)`, () => {
    for (const keyLen of [16, 24]) {
      for (const blocks of [0, 1, 2, 3, 7, 16, 65, 512]) {
        for (let round = 0; round < 4; round++) {
          const key = randomBytes(keyLen);
          const iv = randomBytes(8);
          const data = randomBytes(blocks * 8);
          const tag = `key ${keyLen} B, ${blocks} blocks`;
          const ecb = core.tdesEncryptEcb(key, data);
          assertEquals(toHex(ecb), toHex(nodeEcb(true, key, data)), `ECB enc ${tag}`);
          assertEquals(
            toHex(core.tdesDecryptEcb(key, data)),
            toHex(nodeEcb(false, key, data)),
            `ECB dec ${tag}`,
          );
          assertEquals(toHex(core.tdesDecryptEcb(key, ecb)), toHex(data), `ECB round trip ${tag}`);
          if (blocks === 0) continue;
          const cbc = core.tdesEncryptCbc(key, iv, data);
          assertEquals(toHex(cbc), toHex(nodeCbc(true, key, iv, data)), `CBC enc ${tag}`);
          assertEquals(
            toHex(core.tdesDecryptCbc(key, iv, data)),
            toHex(nodeCbc(false, key, iv, data)),
            `CBC dec ${tag}`,
          );
        }
      }
    }
  });

  Deno.test(`[${label(core)}] SHA-1 and SHA-256 known answers (sha.json)`, () => {
    assertEquals(shaVectors.length, 10);
    for (const v of shaVectors) {
      const m = shaMessage(v);
      assertEquals(toHex(core.sha1(m)), v.sha1.toUpperCase(), `${v.id} sha1`);
      assertEquals(toHex(core.sha256(m)), v.sha256.toUpperCase(), `${v.id} sha256`);
    }
  });

  Deno.test(`[${label(core)}] SHA-1/SHA-256 every length 0..300 and large ones against node:crypto`, () => {
    const data = randomBytes(300);
    for (let len = 0; len <= 300; len++) {
      const m = data.subarray(0, len);
      assertEquals(
        toHex(core.sha1(m)),
        nodeCrypto.createHash("sha1").update(m).digest("hex").toUpperCase(),
        `sha1 len ${len}`,
      );
      assertEquals(
        toHex(core.sha256(m)),
        nodeCrypto.createHash("sha256").update(m).digest("hex").toUpperCase(),
        `sha256 len ${len}`,
      );
    }
    for (const len of [1023, 1024, 4097, 65536 + 55, 1 << 20]) {
      const m = randomBytes(len);
      assertEquals(
        toHex(core.sha1(m)),
        nodeCrypto.createHash("sha1").update(m).digest("hex").toUpperCase(),
        `sha1 len ${len}`,
      );
      assertEquals(
        toHex(core.sha256(m)),
        nodeCrypto.createHash("sha256").update(m).digest("hex").toUpperCase(),
        `sha256 len ${len}`,
      );
    }
  });

  Deno.test(`[${label(core)}] SHA-256 against WebCrypto`, async () => {
    for (const len of [0, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const m = randomBytes(len);
      const web = new Uint8Array(await crypto.subtle.digest("SHA-256", m));
      assertEquals(toHex(core.sha256(m)), toHex(web), `len ${len}`);
      const web1 = new Uint8Array(await crypto.subtle.digest("SHA-1", m));
      assertEquals(toHex(core.sha1(m)), toHex(web1), `sha1 len ${len}`);
    }
  });

  Deno.test(`[${label(core)}] raw RSA modexp and CRT (rsa_modexp_raw_2048.json)`, () => {
    interface ModexpFile {
      key: Record<string, string>;
      vectors: { id: string; operation: string; base: string; expected: string }[];
    }
    const f = loadVectors<ModexpFile>("rsa_modexp_raw_2048.json");
    const k = f.key;
    const norm = (h: string) => hex(h.length % 2 ? "0" + h : h);
    const key: RsaPrivateKey = {
      n: norm(k.n),
      e: norm(k.e),
      d: norm(k.d),
      p: norm(k.p),
      q: norm(k.q),
      dp: norm(k.dp),
      dq: norm(k.dq),
      qi: norm(k.qinv),
    };
    const n = key.n;
    const fixed = key;
    assertEquals(f.vectors.length, 16);
    for (const v of f.vectors) {
      const input = norm(v.base);
      const want = toHex(fromBigInt(toBigInt(norm(v.expected)), n.length));
      if (v.operation.startsWith("m^e")) {
        assertEquals(toHex(core.modPow(input, fixed.e, n)), want, v.id);
      } else {
        assertEquals(toHex(core.modPow(input, fixed.d, n)), want, `${v.id} (modPow)`);
        assertEquals(toHex(core.rsaPrivate(fixed, input)), want, `${v.id} (CRT)`);
      }
    }
  });
}

// --- bad arguments: the same error, class and message, from every core ----------------------

type BadCase = [string, (c: CryptoCore) => unknown, typeof TypeError | typeof RangeError, string];
const k16 = new Uint8Array(16);
const b8 = new Uint8Array(8);
const oddMod = hex("C5");
const badCases: BadCase[] = [
  [
    "key not bytes",
    (c) => c.tdesEncryptEcb("00" as unknown as Uint8Array, b8),
    TypeError,
    "key must be a Uint8Array, got string",
  ],
  [
    "key 8 bytes",
    (c) => c.tdesEncryptEcb(new Uint8Array(8), b8),
    RangeError,
    "key must be 16 or 24 bytes (TDES), got 8",
  ],
  [
    "key 32 bytes",
    (c) => c.tdesDecryptEcb(new Uint8Array(32), b8),
    RangeError,
    "key must be 16 or 24 bytes (TDES), got 32",
  ],
  [
    "partial block",
    (c) => c.tdesEncryptEcb(k16, new Uint8Array(9)),
    RangeError,
    "data must be a whole number of 8-byte blocks, got 9 bytes",
  ],
  [
    "partial block CBC",
    (c) => c.tdesDecryptCbc(k16, b8, new Uint8Array(7)),
    RangeError,
    "data must be a whole number of 8-byte blocks, got 7 bytes",
  ],
  [
    "iv 16 bytes",
    (c) => c.tdesEncryptCbc(k16, new Uint8Array(16), b8),
    RangeError,
    "iv must be 8 bytes, got 16",
  ],
  [
    "iv array",
    (c) => c.tdesEncryptCbc(k16, [0] as unknown as Uint8Array, b8),
    TypeError,
    "iv must be a Uint8Array, got an array",
  ],
  [
    "sha data null",
    (c) => c.sha256(null as unknown as Uint8Array),
    TypeError,
    "data must be a Uint8Array, got null",
  ],
  [
    "sha1 data string",
    (c) => c.sha1("abc" as unknown as Uint8Array),
    TypeError,
    "data must be a Uint8Array, got string",
  ],
  [
    "even modulus",
    (c) => c.modPow(hex("02"), hex("03"), hex("C4")),
    RangeError,
    "modulus must be odd",
  ],
  [
    "zero modulus",
    (c) => c.modPow(hex("00"), hex("03"), hex("0000")),
    RangeError,
    "modulus must not be zero",
  ],
  [
    "modulus 1",
    (c) => c.modPow(hex("00"), hex("03"), hex("01")),
    RangeError,
    "modulus must be greater than 1",
  ],
  [
    "base = modulus",
    (c) => c.modPow(oddMod, hex("03"), oddMod),
    RangeError,
    "base must be less than modulus",
  ],
  [
    "modulus too big",
    (c) => c.modPow(hex("02"), hex("03"), new Uint8Array(513).fill(0xff)),
    RangeError,
    "modulus must be at most 4096 bits, got 4104",
  ],
  [
    "exponent not bytes",
    (c) => c.modPow(hex("02"), 3 as unknown as Uint8Array, oddMod),
    TypeError,
    "exponent must be a Uint8Array, got number",
  ],
  [
    "rsa key null",
    (c) => c.rsaPrivate(null as unknown as RsaPrivateKey, b8),
    TypeError,
    "key must be an RsaPrivateKey object, got null",
  ],
  [
    "rsa key missing qi",
    (c) =>
      c.rsaPrivate(
        {
          n: oddMod,
          e: oddMod,
          d: oddMod,
          p: oddMod,
          q: oddMod,
          dp: oddMod,
          dq: oddMod,
        } as unknown as RsaPrivateKey,
        b8,
      ),
    TypeError,
    "key.qi must be a Uint8Array, got undefined",
  ],
];

for (const core of cores) {
  Deno.test(`[${label(core)}] bad arguments throw the documented error`, () => {
    for (const [name, fn, cls, message] of badCases) {
      const err = assertThrows(() => fn(core), cls, undefined, name);
      assertEquals(err.message, message, name);
    }
  });
}
