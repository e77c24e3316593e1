/**
 * DES key parity (FIPS 46-3 / SP 800-67): each key byte has an odd number of
 * one bits; the low bit of each byte is the parity bit.
 *
 * @module
 */
import { checkBytes } from "./_core.ts";

function oddParityByte(b: number): number {
  let x = b >> 1;
  x ^= x >> 4;
  x ^= x >> 2;
  x ^= x >> 1;
  // x & 1 is the parity of the 7 key bits; the parity bit makes the total odd.
  return (b & 0xfe) | (~x & 1);
}

/**
 * Returns a copy of `key` with each byte's low bit set for odd parity.
 *
 * @param key DES/TDES key bytes (any length).
 * @returns a new array with odd parity.
 * @throws {TypeError} if `key` is not a `Uint8Array`.
 */
export function setOddParity(key: Uint8Array): Uint8Array<ArrayBuffer> {
  checkBytes("key", key);
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = oddParityByte(key[i]);
  return out;
}

/**
 * Whether every byte of `key` has odd parity (in time independent of the key).
 *
 * @param key DES/TDES key bytes.
 * @returns `true` if every byte has an odd number of one bits.
 * @throws {TypeError} if `key` is not a `Uint8Array`.
 */
export function hasOddParity(key: Uint8Array): boolean {
  checkBytes("key", key);
  let bad = 0;
  for (let i = 0; i < key.length; i++) bad |= key[i] ^ oddParityByte(key[i]);
  return bad === 0;
}
