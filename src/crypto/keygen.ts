/**
 * RSA key generation (FIPS 186-5 appendix A.1.3 / B.3.3 style probable primes)
 * on a crypto core.
 *
 * - Sizes: 1024 to 4096 bits in steps of 256 (default 2048); e = 65537.
 * - p and q: random, exactly half the modulus size each, top two bits set
 *   (so n has exactly the requested size), odd, with gcd(e, p - 1) = 1.
 * - Candidates are searched upward from a random odd start: a window of them
 *   is first sieved by the odd primes below 2^16 (and by e, for gcd(e, p - 1)
 *   = 1), then each survivor is tested by Miller-Rabin (FIPS 186-5 B.3.1) with random bases, the modular
 *   exponentiation on the core's `modPow` and the squarings in BigInt. Rounds
 *   per FIPS 186-5 table B.1 (error probability at most 2^-112 for 1024-bit
 *   primes): 5 for primes of 1024 bits, 4 from 1536 bits; 7 for 512-bit primes
 *   (FIPS 186-4 table C.3).
 * - |p - q| > 2^(nlen/2 - 100); d = e^-1 mod lcm(p - 1, q - 1) with
 *   d > 2^(nlen/2) (FIPS 186-5 A.1.1); CRT values dp, dq, qi (p > q).
 * - The key is checked (n = pq and the CRT relations, BigInt) and a pairwise
 *   consistency test encrypts and decrypts a random value on the core.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey, RsaPublicKey } from "../core/mod.ts";
import { bitLength, fromBig, fromBigMin, gcd, lcm, modInverse, toBig } from "./_bigint.ts";
import { checkInt, type CoreOptions, optionsRecord, resolveCore } from "./_core.ts";
import { rsaPrivateRaw, rsaPublicRaw } from "./_rsa.ts";
import { timingSafeEqual } from "./bytes.ts";
import { RsaKeyError } from "./errors.ts";
import { randomBytes } from "./random.ts";
import { validateRsaPrivateKey } from "./rsa_keys.ts";

/** The public exponent of every generated key. */
export const PUBLIC_EXPONENT = 65537n;

/** Options of {@link generateRsaKeyPair}. */
export interface RsaKeyGenOptions extends CoreOptions {
  /** Modulus size in bits: 1024 to 4096 in steps of 256; default 2048. */
  bits?: number;
}

/** A generated key pair. */
export interface RsaKeyPair {
  /** The public key (n, e). */
  publicKey: RsaPublicKey;
  /** The private key with its CRT parameters. */
  privateKey: RsaPrivateKey;
}

/** The odd primes below 2^16: each candidate window is sieved by all of them. */
const SMALL_PRIMES: number[] = (() => {
  const limit = 1 << 16;
  const composite = new Uint8Array(limit);
  const out: number[] = [];
  for (let i = 3; i < limit; i += 2) {
    if (composite[i]) continue;
    out.push(i);
    for (let j = i * i; j < limit; j += 2 * i) composite[j] = 1;
  }
  return out;
})();

/** Odd candidates start, start + 2, ... sieved per window. */
const WINDOW = 1 << 15;

/**
 * Marks the candidates start + 2i (i < WINDOW) divisible by a small prime, or
 * with start + 2i = 1 mod e (gcd(e, p - 1) would not be 1), in `out` (1:
 * skip). `start` is odd and far above every small prime.
 */
function sieveWindow(start: bigint, e: number, out: Uint8Array): void {
  out.fill(0);
  for (const p of [...SMALL_PRIMES, e]) {
    const target = p === e ? 1 : 0;
    // first i with start + 2i = target (mod p): 2i = target - start, and 2^-1 = (p + 1) / 2
    const diff = (target - Number(start % BigInt(p)) + p) % p;
    let i = (diff * ((p + 1) / 2)) % p;
    for (; i < WINDOW; i += p) out[i] = 1;
  }
}

/** Miller-Rabin rounds for a prime of `bits` bits (FIPS 186-5 table B.1, 186-4 table C.3). */
export function millerRabinRounds(bits: number): number {
  if (bits >= 1536) return 4;
  if (bits >= 1024) return 5;
  return 7;
}

/** Uniform random integer in [2, w - 2]. */
function randomBase(w: bigint): bigint {
  const bits = bitLength(w);
  const bytes = Math.ceil(bits / 8);
  const topMask = 0xff >> (bytes * 8 - bits);
  for (;;) {
    const r = randomBytes(bytes);
    r[0] &= topMask;
    const b = toBig(r);
    if (b >= 2n && b <= w - 2n) return b;
  }
}

/**
 * Miller-Rabin probabilistic primality test (FIPS 186-5 B.3.1) for an odd
 * `w > 3`, with `rounds` random bases; `b^m mod w` on the core.
 *
 * @returns `false` if `w` is certainly composite, `true` if probably prime.
 */
export function millerRabin(core: CryptoCore, w: bigint, rounds: number): boolean {
  const wm1 = w - 1n;
  let a = 0;
  let m = wm1;
  while ((m & 1n) === 0n) {
    m >>= 1n;
    a++;
  }
  const len = Math.ceil(bitLength(w) / 8);
  const wBytes = fromBig(w, len);
  const mBytes = fromBigMin(m);
  for (let i = 0; i < rounds; i++) {
    const b = randomBase(w);
    let z = toBig(core.modPow(fromBig(b, len), mBytes, wBytes));
    if (z === 1n || z === wm1) continue;
    let composite = true;
    for (let j = 1; j < a; j++) {
      z = (z * z) % w;
      if (z === wm1) {
        composite = false;
        break;
      }
      if (z === 1n) break;
    }
    if (composite) return false;
  }
  return true;
}

/** A random probable prime of exactly `bits` bits with the top two bits set and gcd(e, p-1) = 1. */
function generatePrime(core: CryptoCore, bits: number): bigint {
  const rounds = millerRabinRounds(bits);
  const e = Number(PUBLIC_EXPONENT);
  const top = 3n << BigInt(bits - 2);
  const skip = new Uint8Array(WINDOW);
  for (;;) {
    const r = randomBytes(bits / 8);
    r[0] |= 0xc0;
    r[r.length - 1] |= 1;
    const start = toBig(r);
    r.fill(0);
    // Search upward by 2 over a sieved window; restart from a fresh random start after it.
    sieveWindow(start, e, skip);
    for (let i = 0; i < WINDOW; i++) {
      if (skip[i]) continue;
      const w = start + BigInt(2 * i);
      if ((w & top) !== top || bitLength(w) !== bits) break;
      if (millerRabin(core, w, rounds)) {
        skip.fill(0); // the sieve says which offsets near the prime are divisible by what
        return w;
      }
    }
  }
}

/**
 * Generates an RSA key pair with e = 65537.
 *
 * @example
 * ```ts
 * import { generateRsaKeyPair } from "./keygen.ts";
 * import { loadCore } from "../core/mod.ts";
 * const { publicKey, privateKey } = await generateRsaKeyPair({ bits: 1024, core: await loadCore("js") });
 * ```
 *
 * @param options `bits` (1024-4096 in steps of 256, default 2048) and `core`.
 * @returns the public and private keys (minimal big-endian fields).
 * @throws {TypeError} if `bits` is not a number.
 * @throws {RangeError} if `bits` is not an allowed size.
 * @throws {RsaKeyError} if the generated key fails its own checks (a core fault).
 */
export async function generateRsaKeyPair(options?: RsaKeyGenOptions): Promise<RsaKeyPair> {
  const o = optionsRecord(options);
  const bits = o.bits === undefined ? 2048 : checkInt("options.bits", o.bits, 1024, 4096);
  if (bits % 256 !== 0) {
    throw new RangeError(`options.bits must be a multiple of 256 from 1024 to 4096, got ${bits}`);
  }
  const core = await resolveCore(options);
  const half = bits / 2;
  const minDiff = 1n << BigInt(half - 100);
  const minD = 1n << BigInt(half);
  for (;;) {
    const a = generatePrime(core, half);
    const b = generatePrime(core, half);
    const [p, q] = a > b ? [a, b] : [b, a];
    if (p - q <= minDiff) continue;
    const n = p * q;
    const l = lcm(p - 1n, q - 1n);
    if (gcd(PUBLIC_EXPONENT, l) !== 1n) continue;
    const d = modInverse(PUBLIC_EXPONENT, l);
    if (d <= minD) continue;
    const k = bits / 8;
    const privateKey: RsaPrivateKey = {
      n: fromBig(n, k),
      e: fromBigMin(PUBLIC_EXPONENT),
      d: fromBigMin(d),
      p: fromBigMin(p),
      q: fromBigMin(q),
      dp: fromBigMin(d % (p - 1n)),
      dq: fromBigMin(d % (q - 1n)),
      qi: fromBigMin(modInverse(q, p)),
    };
    validateRsaPrivateKey(privateKey);
    // Pairwise consistency test (FIPS 186-5 / SP 800-56B 6.4.1.1 style).
    const x = fromBig(toBig(randomBytes(k - 1)) + 2n, k);
    const y = rsaPublicRaw(core, privateKey, x);
    if (!timingSafeEqual(rsaPrivateRaw(core, privateKey, y), x)) {
      throw new RsaKeyError("generated key failed its pairwise consistency test");
    }
    return { publicKey: { n: privateKey.n.slice(), e: privateKey.e.slice() }, privateKey };
  }
}
