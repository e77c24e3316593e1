/**
 * The blinding pairs `(r^e mod n, r^-1 mod n)` of RSA private operations
 * (Kocher 1996), kept per public key as OpenSSL's BN_BLINDING does: a random
 * `r` coprime to n for a key's first use, then both values squared after
 * each use (`(r^2)^e`, `(r^2)^-1`: again a matching pair), and a fresh `r`
 * after {@link BLINDING_USES} uses. A fresh pair costs an inverse modulo n
 * and an exponentiation by e; a squared one two BigInt products.
 *
 * The pairs hold no part of the private key: a pair is random and public-key
 * arithmetic. At most {@link BLINDING_KEYS} keys are remembered (the least
 * recently used go first), keyed by the whole modulus and exponent, so a pair
 * only ever serves the key it was made for.
 *
 * Internal to `src/crypto`.
 *
 * @module
 */
import type { CryptoCore, RsaPublicKey } from "../core/mod.ts";
import { fromBig, modInverse, toBig } from "./_bigint.ts";
import { toHex } from "./hex.ts";
import { randomBytes } from "./random.ts";

/** Uses of one pair (squared in between) before a fresh `r` is drawn. */
export const BLINDING_USES = 32;
/** Keys whose next pair is remembered. */
export const BLINDING_KEYS = 64;

interface Pair {
  /** `r^e mod n`. */
  re: bigint;
  /** `r^-1 mod n`. */
  rInv: bigint;
  /** Uses so far of this `r` (squared `uses` times). */
  uses: number;
}

const pairs = new Map<string, Pair>();

/** A fresh pair: `r` uniform in [2, n) and invertible modulo n. */
function freshPair(core: CryptoCore, key: RsaPublicKey, n: bigint): Pair {
  const k = key.n.length;
  for (;;) {
    const r = toBig(randomBytes(k)) % n;
    if (r < 2n) continue;
    let rInv: bigint;
    try {
      rInv = modInverse(r, n);
    } catch {
      continue; // r shares a factor with n
    }
    const rBytes = fromBig(r, k);
    const re = toBig(core.modPowPublic(rBytes, key.e, key.n));
    rBytes.fill(0);
    return { re, rInv, uses: 0 };
  }
}

/**
 * The blinding pair for one private operation with `key` (whose modulus is
 * `n`); the next call for the same key gets the squares, or a fresh pair.
 *
 * @param core the core for `r^e`.
 * @param key the key's public part (minimal bytes).
 * @param n its modulus as a BigInt.
 * @returns `re = r^e mod n` and `rInv = r^-1 mod n`, and `discard` to drop the key's
 *   pairs (after a failed fault check, so the next operation starts afresh).
 */
export function blindingPair(
  core: CryptoCore,
  key: RsaPublicKey,
  n: bigint,
): { re: bigint; rInv: bigint; discard: () => void } {
  const id = `${toHex(key.e)}:${toHex(key.n)}`;
  let pair = pairs.get(id);
  pairs.delete(id);
  if (pair === undefined || pair.uses >= BLINDING_USES) pair = freshPair(core, key, n);
  const { re, rInv } = pair;
  pairs.set(id, { re: (re * re) % n, rInv: (rInv * rInv) % n, uses: pair.uses + 1 });
  while (pairs.size > BLINDING_KEYS) pairs.delete(pairs.keys().next().value!);
  return { re, rInv, discard: () => pairs.delete(id) };
}
