/**
 * The RSA primitives of RFC 8017 section 5 on a crypto core: RSAEP/RSAVP1
 * (`core.modPow`) and RSADP/RSASP1 (`core.rsaPrivate`, CRT) with
 *
 * - blinding: the core exponentiates `c * r^e mod n` for a random `r`
 *   coprime to n, and the result is multiplied by `r^-1 mod n`, so the secret
 *   exponentiation never sees the caller's input (Kocher 1996). The pair
 *   `(r^e, r^-1)` comes from `_blinding.ts`: fresh for a key's first use, then
 *   squared per use and replaced after a fixed number of uses. The
 *   multiplications use BigInt (they do not involve the private exponent);
 * - a fault check: the result is raised to `e` again and must give the input
 *   back, or nothing is returned (Boneh-DeMillo-Lipton 1997 CRT faults).
 *
 * Internal to `src/crypto`.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey, RsaPublicKey } from "../core/mod.ts";
import { fromBig, toBig } from "./_bigint.ts";
import { blindingPair } from "./_blinding.ts";
import { timingSafeEqual } from "./bytes.ts";
import { RsaFaultError } from "./errors.ts";

/** Hash functions the RSA schemes support. */
export type RsaHash = "SHA-1" | "SHA-256";

/** Digest length in bytes. */
export const HASH_LENGTH: Record<RsaHash, number> = { "SHA-1": 20, "SHA-256": 32 };

/** Hashes `data` on the core. */
export function digest(core: CryptoCore, hash: RsaHash, data: Uint8Array): Uint8Array {
  return hash === "SHA-1" ? core.sha1(data) : core.sha256(data);
}

/** Whether `x` (k bytes) is below the modulus `n` (k bytes); public values, plain comparison. */
export function lessThan(x: Uint8Array, n: Uint8Array): boolean {
  if (x.length !== n.length) return x.length < n.length;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== n[i]) return x[i] < n[i];
  }
  return false;
}

/** RSAEP / RSAVP1: `x^e mod n`. `key` minimal, `x` of k bytes and below n. */
export function rsaPublicRaw(core: CryptoCore, key: RsaPublicKey, x: Uint8Array): Uint8Array {
  return core.modPowPublic(x, key.e, key.n);
}

/**
 * RSADP / RSASP1 with blinding and the fault check. `key` minimal, `x` of k
 * bytes and below n.
 *
 * @throws {RsaFaultError} if the result does not re-encrypt to `x`.
 */
export function rsaPrivateRaw(core: CryptoCore, key: RsaPrivateKey, x: Uint8Array): Uint8Array {
  const k = key.n.length;
  const n = toBig(key.n);
  const pair = blindingPair(core, key, n);
  const blinded = fromBig((toBig(x) * pair.re) % n, k);
  const y = core.rsaPrivate(key, blinded);
  const result = fromBig((toBig(y) * pair.rInv) % n, k);
  blinded.fill(0);
  y.fill(0);
  const check = core.modPowPublic(result, key.e, key.n);
  if (!timingSafeEqual(check, x)) {
    result.fill(0);
    pair.discard();
    throw new RsaFaultError();
  }
  return result;
}

/** MGF1 (RFC 8017 B.2.1) with the given hash. */
export function mgf1(
  core: CryptoCore,
  hash: RsaHash,
  seed: Uint8Array,
  length: number,
): Uint8Array {
  const hLen = HASH_LENGTH[hash];
  const out = new Uint8Array(Math.ceil(length / hLen) * hLen);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  for (let counter = 0, off = 0; off < length; counter++, off += hLen) {
    new DataView(input.buffer).setUint32(seed.length, counter, false);
    out.set(digest(core, hash, input), off);
  }
  input.fill(0);
  const mask = out.slice(0, length);
  out.fill(0);
  return mask;
}

// Constant-time helpers on small non-negative integers (bytes, indices < 2^31).

/** 1 if `a === b` else 0, for bytes. */
export function ctEqByte(a: number, b: number): number {
  return (((a ^ b) - 1) >>> 31) & 1;
}

/** `cond ? a : b` for `cond` in {0, 1}, without a branch. */
export function ctSelect(cond: number, a: number, b: number): number {
  const mask = -cond;
  return (a & mask) | (b & ~mask);
}

/** 1 if `a >= b` else 0, for 0 <= a, b < 2^31. */
export function ctGe(a: number, b: number): number {
  return (((a - b) >>> 31) & 1) ^ 1;
}
