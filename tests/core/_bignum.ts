/**
 * The independent references of the modular-exponentiation tests: BigInt
 * square-and-multiply, and random odd moduli of an exact bit length.
 *
 * @module
 */
import { randomBytes } from "../_helpers.ts";

/** Square-and-multiply on BigInt: the independent reference. */
export function bigModPow(b: bigint, e: bigint, n: bigint): bigint {
  let r = 1n % n;
  b %= n;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % n;
    b = (b * b) % n;
    e >>= 1n;
  }
  return r;
}

/** A random odd modulus of exactly `bits` bits. */
export function randomOddModulus(bits: number): Uint8Array {
  const bytes = randomBytes(Math.ceil(bits / 8));
  const extra = bytes.length * 8 - bits;
  bytes[0] &= 0xff >> extra;
  bytes[0] |= 0x80 >> extra;
  bytes[bytes.length - 1] |= 1;
  return bytes;
}
