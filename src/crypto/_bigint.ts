/**
 * BigInt helpers for the non-exponentiation arithmetic of RSA (inverses, gcd,
 * lcm, byte conversion). Modular exponentiation always runs on the core.
 *
 * Internal to `src/crypto`.
 *
 * @module
 */

/** Big-endian unsigned bytes to BigInt. */
export function toBig(b: Uint8Array): bigint {
  let h = "0x0";
  for (const x of b) h += x.toString(16).padStart(2, "0");
  return BigInt(h);
}

/** BigInt (non-negative) to big-endian bytes of exactly `length` bytes. */
export function fromBig(x: bigint, length: number): Uint8Array<ArrayBuffer> {
  if (x < 0n) throw new RangeError("fromBig: negative value");
  const h = x.toString(16);
  if (h.length > 2 * length) throw new RangeError(`value does not fit in ${length} bytes`);
  const p = h.padStart(2 * length, "0");
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(p.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** BigInt (non-negative) to minimal big-endian bytes (0 -> one zero byte). */
export function fromBigMin(x: bigint): Uint8Array<ArrayBuffer> {
  return fromBig(x, Math.max(1, Math.ceil(bitLength(x) / 8)));
}

/** Number of bits of a non-negative BigInt (0 for 0). */
export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** Greatest common divisor. */
export function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Least common multiple. */
export function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}

/** `a^-1 mod m`; throws `RangeError` if it does not exist. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError("value has no inverse modulo m");
  return ((s0 % m) + m) % m;
}

/** Strips leading zero bytes (a view). */
export function stripZeros(x: Uint8Array): Uint8Array {
  let i = 0;
  while (i < x.length - 1 && x[i] === 0) i++;
  return x.subarray(i);
}
