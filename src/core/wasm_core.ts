/**
 * The WebAssembly crypto core: TDEA (NIST SP 800-67), SHA-1 / SHA-256
 * (FIPS 180-4), Montgomery modular exponentiation and the RSA CRT private
 * operation (RFC 8017 section 5.1.2), compiled from asm/ and loaded by
 * `wasm/loader.js`.
 *
 * Each method checks its arguments with the same functions as the JS core
 * (`_args.ts`), so both throw identical errors; then copies its inputs into
 * the core's fixed buffers, calls the entry point, copies the result out and
 * zeroes every buffer that held key bytes, data or intermediate values.
 * Inputs longer than the 64 KiB IO buffer are processed in chunks (CBC
 * carries its chaining block across chunks; SHA hashes incrementally).
 *
 * RSA blinding is not done here: `rsaPrivate` computes exactly `input^d mod n`
 * with a fixed sequence of operations; the RSA layer in src/crypto blinds.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey } from "./types.ts";
import {
  checkBlocks,
  checkBytes,
  checkIv,
  checkModPow,
  checkRsaPrivate,
  checkTdesKey,
  padTo,
  stripLeadingZeros,
} from "./_args.ts";
import { type CoreExports, coreExports } from "./wasm/loader.js";

interface Bound {
  x: CoreExports;
  mem: Uint8Array;
  io: number;
  ioSize: number;
  key: number;
  iv: number;
  digest: number;
  bn: number;
  slot: number;
  bnOut: number;
}

let bound: Bound | null = null;

function core(): Bound {
  if (bound !== null && bound.mem.byteLength !== 0) return bound;
  const x = coreExports();
  bound = {
    x,
    mem: new Uint8Array(x.memory.buffer),
    io: x.ioPtr(),
    ioSize: x.ioSize(),
    key: x.keyPtr(),
    iv: x.ivPtr(),
    digest: x.digestPtr(),
    bn: x.bnPtr(),
    slot: x.bnSlotSize(),
    bnOut: x.bnOutPtr(),
  };
  return bound;
}

function tdes(
  cbc: boolean,
  decrypt: boolean,
  key: Uint8Array,
  iv: Uint8Array | null,
  data: Uint8Array,
): Uint8Array {
  const b = core();
  const out = new Uint8Array(data.length);
  if (data.length === 0) return out;
  const { mem, x, io, ioSize } = b;
  mem.set(key, b.key);
  if (iv) mem.set(iv, b.iv);
  try {
    for (let off = 0; off < data.length; off += ioSize) {
      const len = Math.min(ioSize, data.length - off);
      mem.set(data.subarray(off, off + len), io);
      if (cbc) x.tdesCbc(key.length, len, decrypt ? 1 : 0);
      else x.tdesEcb(key.length, len, decrypt ? 1 : 0);
      out.set(mem.subarray(io, io + len), off);
    }
  } finally {
    mem.fill(0, b.key, b.key + 24);
    mem.fill(0, b.iv, b.iv + 8);
    mem.fill(0, io, io + Math.min(ioSize, data.length));
  }
  return out;
}

function sha(which: 1 | 256, data: Uint8Array): Uint8Array {
  const b = core();
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

/** Copies big-endian `value` (leading zeros stripped) into BN slot `i`; returns its length. */
function putBig(b: Bound, i: number, value: Uint8Array): number {
  const s = stripLeadingZeros(value);
  b.mem.set(s, b.bn + i * b.slot);
  return s.length;
}

function wipeBig(b: Bound): void {
  b.mem.fill(0, b.bn, b.bn + 6 * b.slot);
  b.mem.fill(0, b.bnOut, b.bnOut + 4 * b.slot);
  b.x.bnWipe();
}

/** The wasm core. Use {@link loadCore} (the default, `"wasm"`) rather than this object directly. */
export const wasmCore: CryptoCore = {
  name: "wasm",
  tdesEncryptEcb(key, data) {
    checkTdesKey(key);
    checkBlocks("data", data);
    return tdes(false, false, key, null, data);
  },
  tdesDecryptEcb(key, data) {
    checkTdesKey(key);
    checkBlocks("data", data);
    return tdes(false, true, key, null, data);
  },
  tdesEncryptCbc(key, iv, data) {
    checkTdesKey(key);
    checkIv(iv);
    checkBlocks("data", data);
    return tdes(true, false, key, iv, data);
  },
  tdesDecryptCbc(key, iv, data) {
    checkTdesKey(key);
    checkIv(iv);
    checkBlocks("data", data);
    return tdes(true, true, key, iv, data);
  },
  sha1(data) {
    checkBytes("data", data);
    return sha(1, data);
  },
  sha256(data) {
    checkBytes("data", data);
    return sha(256, data);
  },
  modPow(base, exponent, modulus) {
    checkModPow(base, exponent, modulus);
    const b = core();
    try {
      const bl = putBig(b, 0, base);
      const el = putBig(b, 1, exponent);
      const ml = putBig(b, 2, modulus);
      const len = b.x.modPow(bl, el, ml);
      return padTo(b.mem.subarray(b.bnOut, b.bnOut + len), modulus.length);
    } finally {
      wipeBig(b);
    }
  },
  rsaPrivate(key: RsaPrivateKey, input) {
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
};
