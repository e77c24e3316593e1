/**
 * src/crypto kdfCmacCounter (SP 800-108 counter mode, CMAC PRF, TR-31
 * encoding): the published TR-31 KBEK/KBAK derivations, and random labels,
 * contexts and lengths against an independent CMAC and KDF written here on
 * node:crypto (des-ede3-cbc; aes-*-ecb chained here), on every core; bad arguments.
 */
import { assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import nodeCrypto from "node:crypto";
import { kdfCmacCounter } from "../../src/crypto/mod.ts";
import { allCores, hex, loadVectors, randomBytes, toHex } from "../_helpers.ts";

const cores = await allCores();

interface DeriveVector {
  id: string;
  method: string;
  kbpk: string;
  kbek: string;
  kbak: string;
}
const vectors = loadVectors<{ vectors: DeriveVector[] }>("tr31_kbpk_derivation.json").vectors;

// --- an independent CMAC (SP 800-38B) and KDF on node:crypto ------------------------------

/**
 * CBC with a zero IV: node:crypto's des-ede3-cbc for TDES, and for AES its
 * ECB chained here (Deno's node:crypto has no aes-192-cbc).
 */
function nodeCbc(cipher: "tdes" | "aes", key: Uint8Array, data: Uint8Array): Uint8Array {
  if (cipher === "tdes") {
    const k = key.length === 24 ? key : new Uint8Array([...key, ...key.subarray(0, 8)]);
    const c = nodeCrypto.createCipheriv("des-ede3-cbc", k, new Uint8Array(8));
    c.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
  }
  const b = 16;
  const k = key;
  const name = `aes-${key.length * 8}-ecb`;
  const out = new Uint8Array(data.length);
  let prev = new Uint8Array(b);
  for (let off = 0; off < data.length; off += b) {
    const x = data.slice(off, off + b).map((v, i) => v ^ prev[i]);
    const c = nodeCrypto.createCipheriv(name, k, null);
    c.setAutoPadding(false);
    prev = new Uint8Array(Buffer.concat([c.update(x), c.final()]));
    out.set(prev, off);
  }
  return out;
}

function shift(x: Uint8Array, rb: number): Uint8Array {
  const out = new Uint8Array(x.length);
  let carry = 0;
  for (let i = x.length - 1; i >= 0; i--) {
    out[i] = ((x[i] << 1) | carry) & 0xff;
    carry = x[i] >> 7;
  }
  if (x[0] & 0x80) out[x.length - 1] ^= rb;
  return out;
}

function nodeCmac(cipher: "tdes" | "aes", key: Uint8Array, m: Uint8Array): Uint8Array {
  const b = cipher === "tdes" ? 8 : 16;
  const rb = cipher === "tdes" ? 0x1b : 0x87;
  const l = nodeCbc(cipher, key, new Uint8Array(b));
  const k1 = shift(l, rb);
  const k2 = shift(k1, rb);
  const whole = m.length > 0 && m.length % b === 0;
  const n = Math.max(1, Math.ceil(m.length / b));
  const padded = new Uint8Array(n * b);
  padded.set(m);
  if (!whole) padded[m.length] = 0x80;
  const sub = whole ? k1 : k2;
  for (let i = 0; i < b; i++) padded[(n - 1) * b + i] ^= sub[i];
  return nodeCbc(cipher, key, padded).slice(-b);
}

function nodeKdf(
  cipher: "tdes" | "aes",
  key: Uint8Array,
  label: Uint8Array,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const parts: number[] = [];
  for (let i = 1; parts.length < length; i++) {
    const input = [i, ...label, 0, ...context, (length * 8) >> 8, (length * 8) & 0xff];
    parts.push(...nodeCmac(cipher, key, new Uint8Array(input)));
  }
  return new Uint8Array(parts.slice(0, length));
}

const ALGORITHM: Record<string, number> = { tdes16: 0, tdes24: 1, aes16: 2, aes24: 3, aes32: 4 };

for (const core of cores) {
  Deno.test(`kdf: the TR-31 version B and D KBEK/KBAK derivations (${core.name} core)`, async () => {
    const derive = vectors.filter((v) => /version [BD]:/.test(v.method));
    assertEquals(derive.length, 5);
    for (const v of derive) {
      const kbpk = hex(v.kbpk);
      const cipher = v.method.startsWith("version B") ? "tdes" : "aes";
      const alg = ALGORITHM[`${cipher}${kbpk.length}`];
      const context = new Uint8Array([alg >> 8, alg & 0xff]);
      const kbek = await kdfCmacCounter(kbpk, new Uint8Array([0, 0]), context, kbpk.length, {
        cipher,
        core,
      });
      const kbak = await kdfCmacCounter(kbpk, new Uint8Array([0, 1]), context, kbpk.length, {
        cipher,
        core,
      });
      assertEquals(toHex(kbek), v.kbek, `${v.id} KBEK`);
      assertEquals(toHex(kbak), v.kbak, `${v.id} KBAK`);
    }
  });

  Deno.test(`kdf: equals an independent CMAC KDF on node:crypto (${core.name} core)`, async () => {
    const te = new TextEncoder();
    let runs = 0;
    for (const cipher of ["tdes", "aes"] as const) {
      for (const keyLength of cipher === "tdes" ? [16, 24] : [16, 24, 32]) {
        for (const length of [1, 7, 8, 16, 17, 24, 32, 64]) {
          const key = randomBytes(keyLength);
          const label = randomBytes(1 + (runs % 40));
          const context = randomBytes(runs % 33);
          const got = await kdfCmacCounter(key, label, context, length, { cipher, core });
          assertEquals(toHex(got), toHex(nodeKdf(cipher, key, label, context, length)));
          runs++;
        }
      }
    }
    assertEquals(runs, 40);
    // Label and context separate the keys.
    const tk = hex("0123456789ABCDEFFEDCBA9876543210");
    const sn = te.encode("SN00000001");
    const dl = await kdfCmacCounter(tk, te.encode("TMK download"), sn, 16, {
      cipher: "tdes",
      core,
    });
    const ack = await kdfCmacCounter(tk, te.encode("TMK ack"), sn, 16, { cipher: "tdes", core });
    const other = await kdfCmacCounter(tk, te.encode("TMK download"), te.encode("SN00000002"), 16, {
      cipher: "tdes",
      core,
    });
    assertNotEquals(toHex(dl), toHex(ack));
    assertNotEquals(toHex(dl), toHex(other));
  });

  Deno.test(`kdf: bad arguments are refused naming what was wrong (${core.name} core)`, async () => {
    const k = new Uint8Array(16);
    const l = new Uint8Array([1]);
    const c = new Uint8Array(0);
    const cases: [() => Promise<unknown>, ErrorConstructor, string][] = [
      [
        () => kdfCmacCounter(new Uint8Array(8), l, c, 16, { cipher: "tdes", core }),
        RangeError,
        "key must be 16, 24 bytes",
      ],
      [
        () => kdfCmacCounter(new Uint8Array(20), l, c, 16, { cipher: "aes", core }),
        RangeError,
        "key must be 16, 24, 32 bytes",
      ],
      [
        () => kdfCmacCounter(k, new Uint8Array(0), c, 16, { cipher: "tdes", core }),
        RangeError,
        "label.length",
      ],
      [
        () => kdfCmacCounter(k, new Uint8Array(256), c, 16, { cipher: "tdes", core }),
        RangeError,
        "label.length",
      ],
      [
        () => kdfCmacCounter(k, l, new Uint8Array(256), 16, { cipher: "tdes", core }),
        RangeError,
        "context.length",
      ],
      [() => kdfCmacCounter(k, l, c, 0, { cipher: "tdes", core }), RangeError, "length"],
      [() => kdfCmacCounter(k, l, c, 65, { cipher: "tdes", core }), RangeError, "length"],
      [() => kdfCmacCounter(k, l, c, 16, {} as never), TypeError, "options.cipher is required"],
      [
        () => kdfCmacCounter(k, l, c, 16, { cipher: "des" as never, core }),
        RangeError,
        "options.cipher",
      ],
      [
        () => kdfCmacCounter("k" as never, l, c, 16, { cipher: "tdes", core }),
        TypeError,
        "key must be a Uint8Array",
      ],
      [
        () => kdfCmacCounter(k, "l" as never, c, 16, { cipher: "tdes", core }),
        TypeError,
        "label must be a Uint8Array",
      ],
    ];
    for (const [f, type, msg] of cases) await assertRejects(f, type, msg);
  });
}
