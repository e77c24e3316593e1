/**
 * Byte-string helpers: constant-time comparison, zeroization, concatenation
 * and XOR.
 *
 * {@link timingSafeEqual} follows the idea of denoland/std
 * `crypto/timing_safe_equal.ts`: the time taken depends only on the lengths,
 * never on where the contents differ.
 *
 * @module
 */
import { checkBytes } from "./_core.ts";

/**
 * Compares two byte strings in time that depends only on their lengths.
 *
 * Lengths are not secret: strings of different lengths compare unequal, after
 * the same amount of work as a comparison of the longer length.
 *
 * @param a first byte string.
 * @param b second byte string.
 * @returns `true` if `a` and `b` have the same length and contents.
 * @throws {TypeError} if either is not a `Uint8Array`.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  checkBytes("a", a);
  checkBytes("b", b);
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) {
    // Out-of-range reads give undefined; `| 0` makes them 0 without a branch.
    diff |= (a[i] | 0) ^ (b[i] | 0);
  }
  return diff === 0;
}

/**
 * Overwrites byte strings with zeros (clear keys after use).
 *
 * @param arrays the arrays to clear; `undefined` and `null` are skipped.
 * @throws {TypeError} if an argument is neither a `Uint8Array` nor absent.
 */
export function zeroize(...arrays: (Uint8Array | undefined | null)[]): void {
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i];
    if (a === undefined || a === null) continue;
    // The argument's name is only built for the error: this runs for every key zeroed.
    if (!(a instanceof Uint8Array)) checkBytes(`arrays[${i}]`, a);
    if (a.length <= 64) { for (let j = 0; j < a.length; j++) a[j] = 0; }
    else a.fill(0);
  }
}

/**
 * Concatenates byte strings.
 *
 * @param parts the byte strings, in order.
 * @returns a new array.
 * @throws {TypeError} if a part is not a `Uint8Array`.
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let n = 0;
  for (let i = 0; i < parts.length; i++) {
    if (!(parts[i] instanceof Uint8Array)) checkBytes(`parts[${i}]`, parts[i]);
    n += parts[i].length;
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * XORs two byte strings of the same length.
 *
 * @returns a new array `a ^ b`.
 * @throws {TypeError} if either is not a `Uint8Array`.
 * @throws {RangeError} if the lengths differ.
 */
export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  checkBytes("a", a);
  checkBytes("b", b);
  if (a.length !== b.length) {
    throw new RangeError(`a and b must have the same length, got ${a.length} and ${b.length}`);
  }
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}
