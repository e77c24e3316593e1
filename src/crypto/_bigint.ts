/**
 * BigInt helpers for the non-exponentiation arithmetic of RSA (inverses, gcd,
 * lcm, byte conversion). Modular exponentiation always runs on the core.
 *
 * Internal to `src/crypto`.
 *
 * @module
 */

/** Big-endian unsigned bytes to BigInt (eight bytes at a time). */
export function toBig(b: Uint8Array): bigint {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const head = b.length % 8;
  let x = 0n;
  let i = 0;
  for (; i < head; i++) x = (x << 8n) | BigInt(b[i]);
  for (; i < b.length; i += 8) x = (x << 64n) | view.getBigUint64(i);
  return x;
}

/** BigInt (non-negative) to big-endian bytes of exactly `length` bytes. */
export function fromBig(x: bigint, length: number): Uint8Array<ArrayBuffer> {
  if (x < 0n) throw new RangeError("fromBig: negative value");
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  let i = length;
  for (; i >= 8; i -= 8, x >>= 64n) view.setBigUint64(i - 8, BigInt.asUintN(64, x));
  for (; i > 0; i--, x >>= 8n) out[i - 1] = Number(x & 0xffn);
  if (x > 0n) throw new RangeError(`value does not fit in ${length} bytes`);
  return out;
}

/** BigInt (non-negative) to minimal big-endian bytes (0 -> one zero byte). */
export function fromBigMin(x: bigint): Uint8Array<ArrayBuffer> {
  return fromBig(x, Math.max(1, Math.ceil(bitLength(x) / 8)));
}

/** Number of bits of a non-negative BigInt (0 for 0). */
export function bitLength(x: bigint): number {
  if (x === 0n) return 0;
  const h = x.toString(16);
  return 4 * (h.length - 1) + 32 - Math.clz32(parseInt(h[0], 16));
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
