/**
 * Both exponentiations of an RSA CRT private operation (RFC 8017 section
 * 5.1.2: m1 = c^dP mod p, m2 = c^dQ mod q) at once, on the paired f64
 * Montgomery kernels of fma_kernels.ts: lane 0 of every f64x2 limb works mod
 * p, lane 1 mod q. Only the relaxed-SIMD build has those kernels; in the
 * other build `pairLimbsFor` is 0 and rsa.ts takes the one-modulus path.
 *
 * Numbers cross between the 27-bit digits of modexp.ts and the 51-bit limbs
 * of the kernels by bit repacking. The kernels' Montgomery radix is
 * R' = 2^(51 kl) against R = 2^(27 k), with d = 51 kl - 27 k >= 0, so
 * x R' = x R 2^d: R' mod n is the 27-bit Montgomery product of R^2 mod n and
 * 2^d, and x R' the one of x R and R' mod n.
 *
 * Constant time as modexp.ts: a fixed window set by the digit count, every
 * window multiplies, and the table lookup reads every entry of both lanes
 * and keeps one per lane with a mask. Every buffer is zeroed before return.
 */
import { ctEqMask, limb, setLimb, wipe } from "./common";
import {
  bytesToDigits,
  ctxK,
  ctxN,
  ctxN0,
  ctxR2,
  DIGIT_BITS,
  MAX_WINDOW,
  montMul,
  NUM_BYTES,
  reduceOnce,
  windowFor,
} from "./modexp";
import {
  PAIR_KERNELS,
  PAIR_MAX_LIMBS,
  pairKernelWipe,
  pairMul,
  pairPrepare,
  pairSqr,
} from "./pair_kernels";

// @ts-ignore: decorator
@inline const LIMB_BITS: i32 = 51;
// @ts-ignore: decorator
@inline const LIMB_MASK: u64 = (<u64>1 << 51) - 1;
// @ts-ignore: decorator
@inline const DIGIT_MASK: u64 = 0x07ffffff;
// @ts-ignore: decorator
@inline const PAIR_BYTES: usize = <usize>(16 * PAIR_MAX_LIMBS);

const PN: usize = memory.data(<i32>PAIR_BYTES, 16); // p | q
const PN0: usize = memory.data(16, 16); // -n^-1 mod 2^51, per lane
const PUNIT: usize = memory.data(<i32>PAIR_BYTES, 16); // the plain number 1, both lanes
const PACC: usize = memory.data(<i32>PAIR_BYTES, 16);
const PSEL: usize = memory.data(<i32>PAIR_BYTES, 16);
const PTABLE: usize = memory.data(<i32>((1 << MAX_WINDOW) * PAIR_BYTES), 16);
const PMASK: usize = memory.data(16 << MAX_WINDOW, 16); // lookup masks, one per entry
const EXPP: usize = memory.data(<i32>NUM_BYTES, 16);
const EXPQ: usize = memory.data(<i32>NUM_BYTES, 16);
const RP: usize = memory.data(<i32>NUM_BYTES, 16); // R' mod n, 27-bit digits
const TD: usize = memory.data(<i32>NUM_BYTES, 16);

/**
 * Limbs of the pair kernel for the contexts cp and cq, or 0 if there is none
 * (the moduli differ in digit count, no kernel of that size, or 4n > R').
 */
export function pairLimbsFor(cp: usize, cq: usize): i32 {
  const k = ctxK(cp);
  if (ctxK(cq) != k) return 0;
  const kl = (DIGIT_BITS * k + LIMB_BITS - 1) / LIMB_BITS;
  if (!PAIR_KERNELS || kl > PAIR_MAX_LIMBS || LIMB_BITS * kl < DIGIT_BITS * k + 2) return 0;
  return kl;
}

/** Digit i of k digits at src (0 past the end). */
// @ts-ignore: decorator
@inline function digitAt(src: usize, i: i32, k: i32): u64 {
  return i < k ? <u64>limb(src, i) : 0;
}

/** Limb j of lane `lane` of a kl-limb pair number (0 past the end). */
// @ts-ignore: decorator
@inline function limbAt(src: usize, lane: i32, j: i32, kl: i32): u64 {
  return j < kl ? <u64>load<f64>(src + (<usize>j << 4) + (<usize>lane << 3)) : 0;
}

/** Lane `lane` of the kl-limb pair number at dst = the k digits at src. */
function toLimbs(dst: usize, lane: i32, src: usize, k: i32, kl: i32): void {
  for (let j = 0; j < kl; j++) {
    const b = j * LIMB_BITS;
    const i = b / DIGIT_BITS;
    const o = <u64>(b % DIGIT_BITS);
    let v = digitAt(src, i, k) >> o;
    v |= digitAt(src, i + 1, k) << (<u64>DIGIT_BITS - o);
    v |= digitAt(src, i + 2, k) << (<u64>(2 * DIGIT_BITS) - o);
    store<f64>(dst + (<usize>j << 4) + (<usize>lane << 3), <f64>(v & LIMB_MASK));
  }
}

/** k digits at dst = lane `lane` of the kl-limb pair number at src (truncated to k digits). */
function fromLimbs(dst: usize, src: usize, lane: i32, kl: i32, k: i32): void {
  for (let i = 0; i < k; i++) {
    const b = i * DIGIT_BITS;
    const j = b / LIMB_BITS;
    const o = <u64>(b % LIMB_BITS);
    const v = (limbAt(src, lane, j, kl) >> o) | (limbAt(src, lane, j + 1, kl) << (<u64>LIMB_BITS - o));
    setLimb(dst, i, <u32>(v & DIGIT_MASK));
  }
}

/**
 * Sets up lane `lane` for context c: the modulus, -n^-1 mod 2^51, table
 * entries 0 (R' mod n) and 1 (x R' mod n, from xm = x R mod n).
 */
function setLane(lane: i32, c: usize, xm: usize, kl: i32): void {
  const k = ctxK(c);
  const n = ctxN(c);
  toLimbs(PN, lane, n, k, kl);
  const n0 = (<u64>limb(n, 0) | (<u64>limb(n, 1) << DIGIT_BITS)) & LIMB_MASK;
  let inv: u64 = n0; // correct to 3 bits for odd n0; each step doubles them
  for (let i = 0; i < 6; i++) inv *= 2 - n0 * inv;
  store<u64>(PN0 + (<usize>lane << 3), (<u64>0 - inv) & LIMB_MASK);
  // R' mod n = R 2^d mod n: the Montgomery product of R^2 mod n and 2^d (d < 51 < 27 k + 27)
  const d = LIMB_BITS * kl - DIGIT_BITS * k;
  wipe(TD, <usize>k << 2);
  setLimb(TD, d / DIGIT_BITS, <u32>1 << <u32>(d % DIGIT_BITS));
  montMul(RP, ctxR2(c), TD, n, k, ctxN0(c));
  toLimbs(PTABLE, lane, RP, k, kl);
  montMul(TD, xm, RP, n, k, ctxN0(c));
  toLimbs(PTABLE + PAIR_BYTES, lane, TD, k, kl);
}

/** Bits [pos, pos + w) of the `el` exponent digits at e. */
// @ts-ignore: decorator
@inline function windowAt(e: usize, pos: i32, w: i32, el: i32): u32 {
  const li = pos / DIGIT_BITS;
  let v = <u64>limb(e, li);
  if (li + 1 < el) v |= <u64>limb(e, li + 1) << DIGIT_BITS;
  return <u32>(v >> <u64>(pos % DIGIT_BITS)) & ((<u32>1 << <u32>w) - 1);
}

/**
 * PSEL = lane 0 of PTABLE[ip] | lane 1 of PTABLE[iq], reading every entry:
 * one mask per entry and lane (all ones for the wanted entry), then every
 * limb of every entry ANDed with its mask and ORed together.
 */
function pairLookup(ip: u32, iq: u32, w: i32, kl: i32): void {
  const entries = 1 << w;
  for (let e = 0; e < entries; e++) {
    const mask = i64x2.splat(<i64><i32>ctEqMask(<u32>e, ip));
    v128.store(PMASK + (<usize>e << 4), i64x2.replace_lane(mask, 1, <i64><i32>ctEqMask(<u32>e, iq)));
  }
  const maskEnd = PMASK + (<usize>entries << 4);
  for (let j = 0; j < kl; j++) {
    const off = <usize>j << 4;
    let v = i64x2.splat(0);
    let t = PTABLE + off;
    // four entries a turn (a window has at least two bits)
    for (let m = PMASK; m < maskEnd; m += 64, t += 4 * PAIR_BYTES) {
      const v01 = v128.or(
        v128.and(v128.load(t), v128.load(m)),
        v128.and(v128.load(t, PAIR_BYTES), v128.load(m, 16)),
      );
      const v23 = v128.or(
        v128.and(v128.load(t, 2 * PAIR_BYTES), v128.load(m, 32)),
        v128.and(v128.load(t, 3 * PAIR_BYTES), v128.load(m, 48)),
      );
      v = v128.or(v, v128.or(v01, v23));
    }
    v128.store(PSEL + off, v);
  }
}

/**
 * m1 = x^dP mod p and m2 = x^dQ mod q (plain, k digits each) from xp = x R
 * mod p and xq = x R mod q, for contexts cp and cq of k digits each with a
 * kl-limb pair kernel (`pairLimbsFor`). dP and dQ are big-endian bytes
 * [dp, dp + dpLen) and [dq, dq + dqLen); both exponentiations run over all
 * 27 k bit positions.
 */
export function pairPow(
  m1: usize,
  m2: usize,
  xp: usize,
  xq: usize,
  cp: usize,
  cq: usize,
  kl: i32,
  dp: usize,
  dpLen: i32,
  dq: usize,
  dqLen: i32,
): void {
  const k = ctxK(cp);
  pairPrepare(kl);
  setLane(0, cp, xp, kl);
  setLane(1, cq, xq, kl);
  bytesToDigits(EXPP, dp, dpLen, k);
  bytesToDigits(EXPQ, dq, dqLen, k);
  const bits = DIGIT_BITS * k;
  const w = windowFor(bits);
  const entries = 1 << w;
  for (let i = 2; i < entries; i++) {
    const t = PTABLE + <usize>i * PAIR_BYTES;
    pairMul(t, t - PAIR_BYTES, PTABLE + PAIR_BYTES, PN, PN0, kl);
  }
  const windows = (bits + w - 1) / w;
  let pos = (windows - 1) * w;
  pairLookup(windowAt(EXPP, pos, w, k), windowAt(EXPQ, pos, w, k), w, kl);
  memory.copy(PACC, PSEL, <usize>kl << 4);
  for (let i = windows - 2; i >= 0; i--) {
    for (let j = 0; j < w; j++) pairSqr(PACC, PACC, PN, PN0, kl);
    pos = i * w;
    pairLookup(windowAt(EXPP, pos, w, k), windowAt(EXPQ, pos, w, k), w, kl);
    pairMul(PACC, PACC, PSEL, PN, PN0, kl);
  }
  // out of Montgomery form (a product with 1 gives at most n), then reduce once
  wipe(PUNIT, PAIR_BYTES);
  v128.store(PUNIT, f64x2.splat(1));
  pairMul(PACC, PACC, PUNIT, PN, PN0, kl);
  fromLimbs(TD, PACC, 0, kl, k);
  reduceOnce(m1, TD, 0, ctxN(cp), k);
  fromLimbs(TD, PACC, 1, kl, k);
  reduceOnce(m2, TD, 0, ctxN(cq), k);
  pairWipe();
}

/** Zeroes every pair buffer and the kernels' scratch. */
function pairWipe(): void {
  wipe(PN, PAIR_BYTES);
  wipe(PN0, 16);
  wipe(PACC, PAIR_BYTES);
  wipe(PSEL, PAIR_BYTES);
  wipe(PTABLE, (1 << MAX_WINDOW) * PAIR_BYTES);
  wipe(PMASK, 16 << MAX_WINDOW);
  wipe(EXPP, NUM_BYTES);
  wipe(EXPQ, NUM_BYTES);
  wipe(RP, NUM_BYTES);
  wipe(TD, NUM_BYTES);
  pairKernelWipe();
}
