/** Shared helpers of the RSA tests. */
import type { RsaPrivateKey } from "../../src/core/types.ts";
import { hex } from "../_helpers.ts";

/** A Wycheproof private key object (hex fields). */
export interface WycheproofPrivateKey {
  modulus: string;
  privateExponent: string;
  publicExponent: string;
  prime1: string;
  prime2: string;
  exponent1: string;
  exponent2: string;
  coefficient: string;
}

/** Converts a Wycheproof private key to the core's key type. */
export function wycheproofKey(k: WycheproofPrivateKey): RsaPrivateKey {
  return {
    n: hex(k.modulus),
    e: hex(k.publicExponent),
    d: hex(k.privateExponent),
    p: hex(k.prime1),
    q: hex(k.prime2),
    dp: hex(k.exponent1),
    dq: hex(k.exponent2),
    qi: hex(k.coefficient),
  };
}

/** Integer cube root (floor) of a non-negative BigInt, by Newton's method. */
export function icbrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 3) + 1);
  for (;;) {
    const y = (2n * x + n / (x * x)) / 3n;
    if (y >= x) break;
    x = y;
  }
  while (x * x * x > n) x--;
  while ((x + 1n) ** 3n <= n) x++;
  return x;
}

/** The cube root of an odd `a` modulo 2^m (Hensel lifting one bit at a time). */
export function cbrtMod2k(a: bigint, m: number): bigint {
  const mod = 1n << BigInt(m);
  let x = 1n;
  for (let i = 1; i < m; i++) {
    if ((((x ** 3n - a) % mod + mod) % mod >> BigInt(i)) & 1n) x += 1n << BigInt(i);
  }
  return x;
}
