/**
 * Random bytes from the platform CSPRNG (`crypto.getRandomValues`, Web Crypto
 * API), of any length.
 *
 * @module
 */
import { checkInt } from "./_core.ts";

/** `crypto.getRandomValues` fills at most this many bytes per call (Web Crypto API). */
const MAX_CHUNK = 65536;

/**
 * Returns `length` cryptographically random bytes.
 *
 * @example
 * ```ts
 * import { randomBytes } from "./random.ts";
 * const rnd = randomBytes(8);
 * ```
 *
 * @param length number of bytes, 0 to 2^31 - 1.
 * @returns a new array of random bytes.
 * @throws {TypeError} if `length` is not a number.
 * @throws {RangeError} if `length` is not a non-negative integer.
 */
export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  checkInt("length", length, 0, 0x7fffffff);
  const out = new Uint8Array(length);
  // One call for the usual short lengths: `subarray` would move a small array off the heap.
  if (length <= MAX_CHUNK) {
    crypto.getRandomValues(out);
    return out;
  }
  for (let i = 0; i < length; i += MAX_CHUNK) {
    crypto.getRandomValues(out.subarray(i, Math.min(i + MAX_CHUNK, length)));
  }
  return out;
}
