/**
 * A plain BigInt RSA, the benchmark's reference point: left-to-right binary
 * square-and-multiply with `%`, and the CRT private operation of RFC 8017
 * section 5.1.2. Not constant time; for benchmarks only.
 *
 * @module
 */
import type { RsaPrivateKey } from "../src/core/types.ts";

/** Big-endian bytes to BigInt. */
export function toBig(b: Uint8Array): bigint {
  let h = "";
  for (const x of b) h += x.toString(16).padStart(2, "0");
  return h.length ? BigInt("0x" + h) : 0n;
}

/** BigInt to big-endian bytes of `len`. */
export function fromBig(x: bigint, len: number): Uint8Array {
  const h = x.toString(16).padStart(len * 2, "0");
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** base^exp mod n, left to right. */
export function bigModPow(base: bigint, exp: bigint, n: bigint): bigint {
  let r = 1n;
  base %= n;
  for (let i = exp.toString(2), j = 0; j < i.length; j++) {
    r = (r * r) % n;
    if (i[j] === "1") r = (r * base) % n;
  }
  return r;
}

/** The key's numbers as BigInt, converted once. */
export interface BigRsaKey {
  n: bigint;
  e: bigint;
  p: bigint;
  q: bigint;
  dp: bigint;
  dq: bigint;
  qi: bigint;
  len: number;
}

/** Converts a key once (outside the timed part). */
export function bigKey(k: RsaPrivateKey): BigRsaKey {
  return {
    n: toBig(k.n),
    e: toBig(k.e),
    p: toBig(k.p),
    q: toBig(k.q),
    dp: toBig(k.dp),
    dq: toBig(k.dq),
    qi: toBig(k.qi),
    len: k.n.length,
  };
}

/** RSA private operation with CRT on BigInt (bytes in, bytes out). */
export function bigRsaPrivate(k: BigRsaKey, input: Uint8Array): Uint8Array {
  const c = toBig(input);
  const m1 = bigModPow(c % k.p, k.dp, k.p);
  const m2 = bigModPow(c % k.q, k.dq, k.q);
  let h = ((m1 - m2) * k.qi) % k.p;
  if (h < 0n) h += k.p;
  return fromBig(m2 + h * k.q, k.len);
}

/** RSA public operation on BigInt (bytes in, bytes out). */
export function bigRsaPublic(k: BigRsaKey, input: Uint8Array): Uint8Array {
  return fromBig(bigModPow(toBig(input), k.e, k.n), k.len);
}
