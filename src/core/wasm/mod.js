// @ts-self-types="./mod.d.ts"
/**
 * @tmk/wasm-core: TDEA (NIST SP 800-67), AES (FIPS 197, constant time),
 * SHA-1 / SHA-256 (FIPS 180-4), Montgomery modular exponentiation and the
 * RSA CRT private operation (RFC 8017 section 5.1.2) in WebAssembly,
 * compiled from AssemblyScript.
 *
 * A plain ES module with no runtime-specific API: the same file runs in Deno,
 * Node.js 20+, Bun and browsers. The wasm bytes are embedded
 * (`tmk_core_wasm.js`), so loading needs no fetch and no file access.
 *
 * Each method checks its arguments first (`TypeError` for a wrong type,
 * `RangeError` for a wrong length or value, naming the argument), then copies
 * its inputs into the core's fixed buffers, runs the entry point, copies the
 * result out and zeroes every buffer that held key bytes, data or
 * intermediate values. Inputs longer than the 64 KiB IO buffer are processed
 * in chunks (CBC carries its chaining block across chunks; SHA hashes
 * incrementally).
 *
 * RSA blinding is not done here: `rsaPrivate` computes exactly `input^d mod n`
 * with a fixed sequence of operations; blind in the layer above.
 *
 * @example
 * ```js
 * import { loadWasmCore } from "@tmk/wasm-core";
 * const core = await loadWasmCore();
 * const digest = core.sha256(new TextEncoder().encode("abc"));
 * ```
 *
 * @module
 */
import {
  checkAesBlocks,
  checkAesIv,
  checkAesKey,
  checkBlocks,
  checkBytes,
  checkIv,
  checkModPow,
  checkRsaPrivate,
  checkTdesKey,
  padTo,
  stripLeadingZeros,
} from "./_args.js";
import { compileCoreAsync, coreExports, coreVariant } from "./loader.js";

export { coreVariant };

/**
 * @typedef {object} Bound
 * @property {import("./loader.d.ts").CoreExports} x
 * @property {Uint8Array} mem
 * @property {number} io
 * @property {number} ioSize
 * @property {number} key
 * @property {number} iv
 * @property {number} aesKey
 * @property {number} aesIv
 * @property {number} digest
 * @property {number} bn
 * @property {number} slot
 * @property {number} bnOut
 */

/**
 * A function that binds a build's exports on first use (and again if its
 * memory was detached), the default build if `variant` is not given.
 *
 * @param {import("./loader.d.ts").CoreVariant} [variant]
 * @returns {() => Bound}
 */
function binder(variant) {
  /** @type {Bound | null} */
  let bound = null;
  return () => {
    if (bound !== null && bound.mem.byteLength !== 0) return bound;
    const x = coreExports(variant);
    bound = {
      x,
      mem: new Uint8Array(x.memory.buffer),
      io: x.ioPtr(),
      ioSize: x.ioSize(),
      key: x.keyPtr(),
      iv: x.ivPtr(),
      aesKey: x.aesKeyPtr(),
      aesIv: x.aesIvPtr(),
      digest: x.digestPtr(),
      bn: x.bnPtr(),
      slot: x.bnSlotSize(),
      bnOut: x.bnOutPtr(),
    };
    return bound;
  };
}

/**
 * Zeroes `len` bytes of `mem` from `at`: a plain loop for a few blocks, where
 * TypedArray#fill's call into the runtime costs more than the stores.
 * @param {Uint8Array} mem
 * @param {number} at
 * @param {number} len
 */
function wipe(mem, at, len) {
  if (len <= 64) { for (let i = at; i < at + len; i++) mem[i] = 0; }
  else mem.fill(0, at, at + len);
}

/**
 * @param {Bound} b
 * @param {boolean} cbc
 * @param {boolean} decrypt
 * @param {Uint8Array} key
 * @param {Uint8Array | null} iv
 * @param {Uint8Array} data
 * @returns {Uint8Array}
 */
function tdes(b, cbc, decrypt, key, iv, data) {
  const out = new Uint8Array(data.length);
  if (data.length === 0) return out;
  const { mem, x, io, ioSize } = b;
  // keys, IVs and key block payloads are a few blocks: a plain loop beats TypedArray#set's fixed
  // cost there, and does not move a small array's bytes off the heap as `subarray` would
  for (let i = 0; i < key.length; i++) mem[b.key + i] = key[i];
  if (iv) { for (let i = 0; i < 8; i++) mem[b.iv + i] = iv[i]; }
  try {
    for (let off = 0; off < data.length; off += ioSize) {
      const len = Math.min(ioSize, data.length - off);
      if (len <= 64) { for (let i = 0; i < len; i++) mem[io + i] = data[off + i]; }
      else mem.set(data.subarray(off, off + len), io);
      if (cbc) x.tdesCbc(key.length, len, decrypt ? 1 : 0);
      else x.tdesEcb(key.length, len, decrypt ? 1 : 0);
      if (len <= 64) { for (let i = 0; i < len; i++) out[off + i] = mem[io + i]; }
      else out.set(mem.subarray(io, io + len), off);
    }
  } finally {
    wipe(mem, b.key, 24);
    wipe(mem, b.iv, 8);
    wipe(mem, io, Math.min(ioSize, data.length));
  }
  return out;
}

/**
 * @param {Bound} b
 * @param {boolean} cbc
 * @param {boolean} decrypt
 * @param {Uint8Array} key
 * @param {Uint8Array | null} iv
 * @param {Uint8Array} data
 * @returns {Uint8Array}
 */
function aes(b, cbc, decrypt, key, iv, data) {
  const n = data.length;
  const out = new Uint8Array(n);
  if (n === 0) return out;
  const { mem, x, io, ioSize } = b;
  // key blocks pass one to four blocks: a plain loop beats TypedArray#set's fixed cost there
  for (let i = 0; i < key.length; i++) mem[b.aesKey + i] = key[i];
  if (iv) { for (let i = 0; i < 16; i++) mem[b.aesIv + i] = iv[i]; }
  try {
    for (let off = 0; off < n; off += ioSize) {
      const len = Math.min(ioSize, n - off);
      if (len <= 64) { for (let i = 0; i < len; i++) mem[io + i] = data[off + i]; }
      else mem.set(data.subarray(off, off + len), io);
      if (cbc) x.aesCbc(key.length, len, decrypt ? 1 : 0);
      else x.aesEcb(key.length, len, decrypt ? 1 : 0);
      if (len <= 64) { for (let i = 0; i < len; i++) out[off + i] = mem[io + i]; }
      else out.set(mem.subarray(io, io + len), off);
    }
  } finally {
    wipe(mem, b.aesKey, 32);
    wipe(mem, b.aesIv, 16);
    wipe(mem, io, Math.min(ioSize, n));
  }
  return out;
}

/**
 * @param {Bound} b
 * @param {1 | 256} which
 * @param {Uint8Array} data
 * @returns {Uint8Array}
 */
function sha(b, which, data) {
  const { mem, x, io, ioSize } = b;
  const size = which === 1 ? 20 : 32;
  const n = data.length;
  if (n <= ioSize) {
    // short inputs: a plain loop beats TypedArray#set's fixed cost
    if (n <= 128) { for (let i = 0; i < n; i++) mem[io + i] = data[i]; }
    else mem.set(data, io);
    // the one-shot entry point zeroes IO[0..n), the state and the pending block itself
    if (which === 1) x.sha1(n);
    else x.sha256(n);
  } else {
    try {
      if (which === 1) x.sha1Init();
      else x.sha256Init();
      for (let off = 0; off < n; off += ioSize) {
        const len = Math.min(ioSize, n - off);
        mem.set(data.subarray(off, off + len), io);
        if (which === 1) x.sha1Update(len);
        else x.sha256Update(len);
      }
      if (which === 1) x.sha1Final(); // also zeroes the state and the pending block
      else x.sha256Final();
    } finally {
      mem.fill(0, io, io + ioSize);
    }
  }
  const out = new Uint8Array(size);
  const d = b.digest;
  for (let i = 0; i < size; i++) out[i] = mem[d + i];
  return out;
}

/**
 * Copies big-endian `value` (leading zeros stripped) into BN slot `i`; returns its length.
 * @param {Bound} b
 * @param {number} i
 * @param {Uint8Array} value
 */
function putBig(b, i, value) {
  const s = stripLeadingZeros(value);
  b.mem.set(s, b.bn + i * b.slot);
  return s.length;
}

/** @param {Bound} b */
function wipeBig(b) {
  b.mem.fill(0, b.bn, b.bn + 6 * b.slot);
  b.mem.fill(0, b.bnOut, b.bnOut + 4 * b.slot);
  b.x.bnWipe();
}

/**
 * `base^exponent mod modulus` on the core; `cached` keeps the modulus's
 * Montgomery setup among the core's last public moduli (modPowPublic).
 * @param {Bound} b
 * @param {boolean} cached
 * @param {Uint8Array} base
 * @param {Uint8Array} exponent
 * @param {Uint8Array} modulus
 * @returns {Uint8Array}
 */
function pow(b, cached, base, exponent, modulus) {
  checkModPow(base, exponent, modulus);
  try {
    const bl = putBig(b, 0, base);
    const el = putBig(b, 1, exponent);
    const ml = putBig(b, 2, modulus);
    const len = cached ? b.x.modPowPublic(bl, el, ml) : b.x.modPow(bl, el, ml);
    return padTo(b.mem.subarray(b.bnOut, b.bnOut + len), modulus.length);
  } finally {
    wipeBig(b);
  }
}

/**
 * The core's methods on the build that `core` binds.
 *
 * @param {() => Bound} core
 * @returns {import("./mod.d.ts").CryptoCore}
 */
function makeCore(core) {
  return Object.freeze({
    name: "wasm",
    tdesEncryptEcb(key, data) {
      checkTdesKey(key);
      checkBlocks("data", data);
      return tdes(core(), false, false, key, null, data);
    },
    tdesDecryptEcb(key, data) {
      checkTdesKey(key);
      checkBlocks("data", data);
      return tdes(core(), false, true, key, null, data);
    },
    tdesEncryptCbc(key, iv, data) {
      checkTdesKey(key);
      checkIv(iv);
      checkBlocks("data", data);
      return tdes(core(), true, false, key, iv, data);
    },
    tdesDecryptCbc(key, iv, data) {
      checkTdesKey(key);
      checkIv(iv);
      checkBlocks("data", data);
      return tdes(core(), true, true, key, iv, data);
    },
    aesEncryptEcb(key, data) {
      checkAesKey(key);
      checkAesBlocks(data);
      return aes(core(), false, false, key, null, data);
    },
    aesDecryptEcb(key, data) {
      checkAesKey(key);
      checkAesBlocks(data);
      return aes(core(), false, true, key, null, data);
    },
    aesEncryptCbc(key, iv, data) {
      checkAesKey(key);
      checkAesIv(iv);
      checkAesBlocks(data);
      return aes(core(), true, false, key, iv, data);
    },
    aesDecryptCbc(key, iv, data) {
      checkAesKey(key);
      checkAesIv(iv);
      checkAesBlocks(data);
      return aes(core(), true, true, key, iv, data);
    },
    sha1(data) {
      checkBytes("data", data);
      return sha(core(), 1, data);
    },
    sha256(data) {
      checkBytes("data", data);
      return sha(core(), 256, data);
    },
    modPow(base, exponent, modulus) {
      return pow(core(), false, base, exponent, modulus);
    },
    modPowPublic(base, exponent, modulus) {
      return pow(core(), true, base, exponent, modulus);
    },
    rsaPrivate(key, input) {
      checkRsaPrivate(key, input);
      const b = core();
      try {
        const il = putBig(b, 0, input);
        const pl = putBig(b, 1, key.p);
        const ql = putBig(b, 2, key.q);
        const dpl = putBig(b, 3, key.dp);
        const dql = putBig(b, 4, key.dq);
        const qil = putBig(b, 5, key.qi);
        const len = b.x.rsaPrivate(il, pl, ql, dpl, dql, qil);
        return padTo(b.mem.subarray(b.bnOut, b.bnOut + len), key.n.length);
      } finally {
        wipeBig(b);
      }
    },
  });
}

/** @type {import("./mod.d.ts").CryptoCore} */
export const wasmCore = makeCore(binder());

/** @type {Record<string, import("./mod.d.ts").CryptoCore>} */
const byVariant = {};

/**
 * The core on one build, whichever the runtime would choose: for tests and
 * benchmarks that compare the two. The "fma" build computes RSA correctly
 * only where `f64x2.relaxed_madd` is fused (`fusedMultiplyAdd()` in loader.js).
 *
 * @param {import("./loader.d.ts").CoreVariant} variant
 * @returns {import("./mod.d.ts").CryptoCore}
 */
export function wasmCoreFor(variant) {
  if (variant !== "simd" && variant !== "fma") {
    throw new RangeError(`variant must be "simd" or "fma", got ${JSON.stringify(variant)}`);
  }
  byVariant[variant] ??= makeCore(binder(variant));
  return byVariant[variant];
}

/**
 * Compiles the module asynchronously (allowed on a browser's main thread),
 * instantiates it, and returns the core. Later calls resolve to the same object.
 *
 * @returns {Promise<import("./mod.d.ts").CryptoCore>}
 */
export async function loadWasmCore() {
  await compileCoreAsync();
  wasmCore.sha256(new Uint8Array(0)); // instantiates the chosen build
  return wasmCore;
}
