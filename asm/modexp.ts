/**
 * Big-number modular exponentiation with Montgomery multiplication
 * (Montgomery 1985; product-scanning form, Koc, Acar and Kaliski 1996), for
 * odd moduli up to 4096 bits.
 *
 * Numbers are fixed-width arrays of 27-bit digits stored in u32 words, little
 * endian. A 27-bit radix lets one u64 accumulator absorb a whole column of
 * digit products (up to 2 x 152 products of 54 bits for 4096 bits) with no
 * carry handling inside the inner loops; squarings add each cross product
 * once and double it. A modulus context holds n, k (digits), n0inv =
 * -n^-1 mod 2^27, R^2 mod n and R mod n (R = 2^(27k)), computed when its
 * modulus is set. Context 0 (modPow, whose modulus may be secret) and the p
 * and q contexts of rsa.ts are zeroed after each call; modPowPublic, for
 * moduli the caller declares public (RSA public keys), keeps the contexts
 * of the last PUBLIC_SLOTS moduli, least recently used out first.
 *
 * Exponentiation is fixed-window: the number of squarings and multiplications
 * depends only on the exponent's byte length (or, for the CRT halves, on the
 * prime's digit count), never on its bits; every window multiplies (by 1 for
 * a zero window), the table lookup reads every entry and keeps one with a
 * mask, and Montgomery's final subtraction is a masked select. For a
 * modulus with a size-specialised kernel (mont_kernels.ts, generated at
 * build time by scripts/_mont_kernels.ts), the exponentiation uses that
 * kernel's unrolled multiply and square with the same window and lookup.
 * Blinding is NOT done here: a caller that needs it (the RSA layer in
 * src/crypto) blinds the input before and unblinds after.
 */
import { ctEqMask, limb, setLimb, wipe } from "./common";
import { bnSlot, BN_OUT } from "./buffers";
import { kernelFor, kernelMul, kernelSqr, kernelWipe } from "./mont_kernels";

/** Bits per digit. */
// @ts-ignore: decorator
@inline export const DIGIT_BITS: i32 = 27;
// @ts-ignore: decorator
@inline const MASK: u32 = 0x07ffffff;
/** Maximum digits of a modulus: ceil(4096 / 27). */
// @ts-ignore: decorator
@inline export const MAX_DIGITS: i32 = 152;
// @ts-ignore: decorator
@inline export const NUM_BYTES: usize = (MAX_DIGITS + 2) * 4;
// @ts-ignore: decorator
@inline export const MAX_WINDOW: i32 = 5;

// ---- modulus contexts ---------------------------------------------------------------------------

// Layout of one context: n | r2 | one | cached modulus bytes, then k, n0inv, byte length.
// @ts-ignore: decorator
@inline const CTX_N: usize = 0;
// @ts-ignore: decorator
@inline const CTX_R2: usize = NUM_BYTES;
// @ts-ignore: decorator
@inline const CTX_ONE: usize = 2 * NUM_BYTES;
// @ts-ignore: decorator
@inline const CTX_BYTES: usize = 3 * NUM_BYTES;
// @ts-ignore: decorator
@inline const CTX_K: usize = 3 * NUM_BYTES + 512;
// @ts-ignore: decorator
@inline const CTX_N0: usize = CTX_K + 4;
// @ts-ignore: decorator
@inline const CTX_LEN: usize = CTX_K + 8;
// @ts-ignore: decorator
@inline const CTX_KERNEL: usize = CTX_K + 12;
// @ts-ignore: decorator
@inline const CTX_SIZE: usize = CTX_K + 16;

const CONTEXTS: usize = memory.data(<i32>(3 * CTX_SIZE), 16);

/**
 * Contexts of modPowPublic: public moduli only, never wiped. A server checks
 * each device's signatures on several requests, with many devices at once:
 * enough slots that a device's key stays set up between its requests.
 */
// @ts-ignore: decorator
@inline const PUBLIC_SLOTS: i32 = 64;
const PUBLIC_CONTEXTS: usize = memory.data(<i32>(PUBLIC_SLOTS * CTX_SIZE), 16);
/** Last use of each public context (0: never used). */
const PUBLIC_STAMPS: usize = memory.data(PUBLIC_SLOTS * 4, 16);
let publicClock: u32 = 0;

/** Address of context `i` (0: modPow, 1: p, 2: q). */
// @ts-ignore: decorator
@inline export function ctx(i: i32): usize {
  return CONTEXTS + <usize>i * CTX_SIZE;
}
/** Digits of the modulus of context `c`. */
// @ts-ignore: decorator
@inline export function ctxK(c: usize): i32 {
  return load<i32>(c + CTX_K);
}
/** The modulus of context `c`. */
// @ts-ignore: decorator
@inline export function ctxN(c: usize): usize {
  return c + CTX_N;
}
/** R^2 mod n of context `c`. */
// @ts-ignore: decorator
@inline export function ctxR2(c: usize): usize {
  return c + CTX_R2;
}
/** -n^-1 mod 2^27 of context `c`. */
// @ts-ignore: decorator
@inline export function ctxN0(c: usize): u32 {
  return load<u32>(c + CTX_N0);
}

// ---- scratch --------------------------------------------------------------------------------------

const T: usize = memory.data(<i32>NUM_BYTES, 16); // Montgomery result, k + 1 digits
const MQ: usize = memory.data(<i32>NUM_BYTES, 16); // Montgomery quotient digits
const AREV: usize = memory.data(<i32>NUM_BYTES, 16); // operands, digits reversed
const BREV: usize = memory.data(<i32>NUM_BYTES, 16);
const NREV: usize = memory.data(<i32>NUM_BYTES, 16);
const TMP_SUB: usize = memory.data(<i32>NUM_BYTES, 16);
const TMP_ONE: usize = memory.data(<i32>NUM_BYTES, 16);
const TABLE: usize = memory.data(<i32>((1 << MAX_WINDOW) * NUM_BYTES), 16);
const ACC: usize = memory.data(<i32>NUM_BYTES, 16);
const SEL: usize = memory.data(<i32>NUM_BYTES, 16);
const EXP: usize = memory.data(<i32>NUM_BYTES, 16);
const TMP1: usize = memory.data(<i32>NUM_BYTES, 16);
const TMP2: usize = memory.data(<i32>NUM_BYTES, 16);
const NR: usize = memory.data(<i32>NUM_BYTES, 16); // modulus, digits reversed (kernels)

/** Zeroes every scratch buffer (table, accumulator, exponent, quotient digits). */
export function bnWipe(): void {
  wipe(T, NUM_BYTES);
  wipe(MQ, NUM_BYTES);
  wipe(AREV, NUM_BYTES);
  wipe(BREV, NUM_BYTES);
  wipe(NREV, NUM_BYTES);
  wipe(TMP_SUB, NUM_BYTES);
  wipe(TABLE, (1 << MAX_WINDOW) * NUM_BYTES);
  wipe(ACC, NUM_BYTES);
  wipe(SEL, NUM_BYTES);
  wipe(EXP, NUM_BYTES);
  wipe(TMP1, NUM_BYTES);
  wipe(TMP2, NUM_BYTES);
  wipe(NR, NUM_BYTES);
  kernelWipe();
}

// ---- byte <-> digit conversion --------------------------------------------------------------------

/** Digits needed for `bytes` bytes. */
// @ts-ignore: decorator
@inline export function digitsFor(bytes: i32): i32 {
  return (bytes * 8 + DIGIT_BITS - 1) / DIGIT_BITS;
}

/** Big-endian bytes [src, src+len) into `k` digits at `dst` (zero-extended, truncated to k). */
export function bytesToDigits(dst: usize, src: usize, len: i32, k: i32): void {
  wipe(dst, <usize>k << 2);
  let acc: u64 = 0;
  let bits: i32 = 0;
  let d = 0;
  for (let i = len - 1; i >= 0 && d < k; i--) {
    acc |= <u64>load<u8>(src + <usize>i) << <u64>bits;
    bits += 8;
    if (bits >= DIGIT_BITS) {
      setLimb(dst, d++, <u32>acc & MASK);
      acc >>= DIGIT_BITS;
      bits -= DIGIT_BITS;
    }
  }
  if (d < k) setLimb(dst, d, <u32>acc);
}

/** `k` digits at `src` into `len` big-endian bytes at `dst` (high bits beyond `len` dropped). */
export function digitsToBytes(dst: usize, src: usize, k: i32, len: i32): void {
  let acc: u64 = 0;
  let bits: i32 = 0;
  let d = 0;
  for (let i = len - 1; i >= 0; i--) {
    if (bits < 8 && d < k) {
      acc |= <u64>limb(src, d++) << <u64>bits;
      bits += DIGIT_BITS;
    }
    store<u8>(dst + <usize>i, <u8>acc);
    acc >>= 8;
    bits -= 8;
  }
}

/** Number of significant bytes of big-endian [src, src+len). */
function significantBytes(src: usize, len: i32): i32 {
  let i = 0;
  while (i < len && load<u8>(src + <usize>i) == 0) i++;
  return len - i;
}

// ---- digit arithmetic -----------------------------------------------------------------------------

/** r = a - b over k digits; returns the borrow (0 or 1). r may alias a or b. */
function sub(r: usize, a: usize, b: usize, k: i32): u32 {
  let borrow: u32 = 0;
  for (let i = 0; i < k; i++) {
    const d = limb(a, i) - limb(b, i) - borrow;
    setLimb(r, i, d & MASK);
    borrow = d >> 31;
  }
  return borrow;
}

/** r = a + b over k digits; returns the carry. r may alias a or b. */
function add(r: usize, a: usize, b: usize, k: i32): u32 {
  let carry: u32 = 0;
  for (let i = 0; i < k; i++) {
    const s = limb(a, i) + limb(b, i) + carry;
    setLimb(r, i, s & MASK);
    carry = s >> DIGIT_BITS;
  }
  return carry;
}

/** r = mask ? x : y, digit by digit, k digits. */
// @ts-ignore: decorator
@inline function select(r: usize, mask: u32, x: usize, y: usize, k: i32): void {
  for (let i = 0; i < k; i++) setLimb(r, i, (limb(x, i) & mask) | (limb(y, i) & ~mask));
}

/** r = (t - n if t >= n else t), t being k digits plus a top digit `top`; constant time. */
export function reduceOnce(r: usize, t: usize, top: u32, n: usize, k: i32): void {
  const borrow = sub(TMP_SUB, t, n, k);
  const keepDiff = <u32>0 - (((top != 0 ? 1 : 0) | (borrow ^ 1)) & 1);
  select(r, keepDiff, TMP_SUB, t, k);
}

/** r = (a + b) mod n, for a, b < n. */
export function modAdd(r: usize, a: usize, b: usize, n: usize, k: i32): void {
  const carry = add(r, a, b, k);
  reduceOnce(r, r, carry, n, k);
}

/** x = 2x mod n, for x < n. */
function modDouble(x: usize, n: usize, k: i32): void {
  const carry = add(x, x, x, k);
  reduceOnce(x, x, carry, n, k);
}

/** r = (a - b) mod n, for a, b < n; constant time. */
export function modSub(r: usize, a: usize, b: usize, n: usize, k: i32): void {
  const borrow = sub(r, a, b, k);
  add(TMP_SUB, r, n, k);
  select(r, <u32>0 - borrow, TMP_SUB, r, k);
}

/**
 * acc + sum_{i<count} x[i] y[i]: a column of digit products, with the second
 * operand stored reversed so that both walk up. Four products per step with
 * wasm SIMD (i64x2.extmul of 32-bit lanes), then the tail one by one.
 */
// @ts-ignore: decorator
@inline function dot(acc: u64, x: usize, y: usize, count: i32): u64 {
  let v = i64x2.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const a = v128.load(x);
    const b = v128.load(y);
    v = i64x2.add(v, i64x2.extmul_low_i32x4_u(a, b));
    v = i64x2.add(v, i64x2.extmul_high_i32x4_u(a, b));
    x += 16;
    y += 16;
  }
  acc += i64x2.extract_lane(v, 0) + i64x2.extract_lane(v, 1);
  for (; i < count; i++) {
    acc += <u64>load<u32>(x) * <u64>load<u32>(y);
    x += 4;
    y += 4;
  }
  return acc;
}

/** acc + sum x1[i] y1[i] + sum x2[i] y2[i], i < count, in one loop. */
// @ts-ignore: decorator
@inline function dot2(acc: u64, x1: usize, y1: usize, x2: usize, y2: usize, count: i32): u64 {
  let v = i64x2.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const a = v128.load(x1);
    const b = v128.load(y1);
    const c = v128.load(x2);
    const d = v128.load(y2);
    v = i64x2.add(v, i64x2.extmul_low_i32x4_u(a, b));
    v = i64x2.add(v, i64x2.extmul_high_i32x4_u(a, b));
    v = i64x2.add(v, i64x2.extmul_low_i32x4_u(c, d));
    v = i64x2.add(v, i64x2.extmul_high_i32x4_u(c, d));
    x1 += 16;
    y1 += 16;
    x2 += 16;
    y2 += 16;
  }
  acc += i64x2.extract_lane(v, 0) + i64x2.extract_lane(v, 1);
  for (; i < count; i++) {
    acc += <u64>load<u32>(x1) * <u64>load<u32>(y1) + <u64>load<u32>(x2) * <u64>load<u32>(y2);
    x1 += 4;
    y1 += 4;
    x2 += 4;
    y2 += 4;
  }
  return acc;
}

/** dst[i] = src[k - 1 - i], i < k. */
function reverse(dst: usize, src: usize, k: i32): void {
  for (let i = 0; i < k; i++) setLimb(dst, i, limb(src, k - 1 - i));
}

/**
 * Montgomery reduction columns shared by multiply and square: `prod(s)` is
 * the column-s sum of a b (or a^2). Writes (a b + m n) / R to T (k + 1
 * digits) and the reduced result to r.
 */
// @ts-ignore: decorator
@inline function montFinish(r: usize, n: usize, k: i32): void {
  reduceOnce(r, T, load<u32>(T + (<usize>k << 2)), n, k);
}

/**
 * Montgomery product r = a b R^-1 mod n (R = 2^(27k)), for a, b < n; the
 * result is fully reduced. r may alias a or b.
 */
export function montMul(r: usize, a: usize, b: usize, n: usize, k: i32, n0: u32): void {
  // column s pairs x[i] with y[s - i] = yRev[k - 1 - s + i]
  reverse(BREV, b, k);
  reverse(NREV, n, k);
  let acc: u64 = 0;
  for (let s = 0; s < k; s++) {
    const off = <usize>s << 2;
    const rev = <usize>(k - 1 - s) << 2;
    acc = dot2(acc, a, BREV + rev, MQ, NREV + rev, s);
    acc += <u64>load<u32>(a + off) * <u64>load<u32>(BREV + (<usize>(k - 1) << 2));
    const m = (<u32>acc * n0) & MASK;
    store<u32>(MQ + off, m);
    acc += <u64>m * <u64>load<u32>(n);
    acc >>= DIGIT_BITS;
  }
  for (let s = k; s < 2 * k - 1; s++) {
    const lo = s - k + 1;
    const lo4 = <usize>lo << 2;
    acc = dot2(acc, a + lo4, BREV, MQ + lo4, NREV, k - lo);
    store<u32>(T + (<usize>(s - k) << 2), <u32>acc & MASK);
    acc >>= DIGIT_BITS;
  }
  store<u32>(T + (<usize>(k - 1) << 2), <u32>acc & MASK);
  store<u32>(T + (<usize>k << 2), <u32>(acc >> DIGIT_BITS));
  montFinish(r, n, k);
}

/** Column s of a^2 over digits [lo, hi]: cross products once, doubled, plus the square. */
// @ts-ignore: decorator
@inline function sqrColumn(a: usize, s: i32, lo: i32, k: i32): u64 {
  // pairs (i, s - i) with lo <= i < s - i <= k - 1; a[s - i] = AREV[k - 1 - s + i]
  const count = ((s + 1) >> 1) - lo;
  let cross: u64 = 0;
  if (count > 0) cross = dot(0, a + (<usize>lo << 2), AREV + (<usize>(k - 1 - s + lo) << 2), count);
  let col = cross << 1;
  if ((s & 1) == 0) {
    const d = <u64>load<u32>(a + (<usize>(s >> 1) << 2));
    col += d * d;
  }
  return col;
}

/** Montgomery square r = a^2 R^-1 mod n, for a < n. r may alias a. */
export function montSqr(r: usize, a: usize, n: usize, k: i32, n0: u32): void {
  reverse(AREV, a, k);
  reverse(NREV, n, k);
  let acc: u64 = 0;
  for (let s = 0; s < k; s++) {
    const off = <usize>s << 2;
    acc += sqrColumn(a, s, 0, k);
    acc = dot(acc, MQ, NREV + (<usize>(k - 1 - s) << 2), s);
    const m = (<u32>acc * n0) & MASK;
    store<u32>(MQ + off, m);
    acc += <u64>m * <u64>load<u32>(n);
    acc >>= DIGIT_BITS;
  }
  for (let s = k; s < 2 * k - 1; s++) {
    const lo = s - k + 1;
    const lo4 = <usize>lo << 2;
    acc += sqrColumn(a, s, lo, k);
    acc = dot(acc, MQ + lo4, NREV, k - lo);
    store<u32>(T + (<usize>(s - k) << 2), <u32>acc & MASK);
    acc >>= DIGIT_BITS;
  }
  store<u32>(T + (<usize>(k - 1) << 2), <u32>acc & MASK);
  store<u32>(T + (<usize>k << 2), <u32>(acc >> DIGIT_BITS));
  montFinish(r, n, k);
}

// ---- context setup --------------------------------------------------------------------------------

/** Bits of 27k reached by modular doublings alone when R^2 mod n is set up (see setModulus). */
// @ts-ignore: decorator
@inline const R2_TOP_BITS: i32 = 7;

/** Forgets context `c` (zeroes the modulus and its constants). */
export function forgetModulus(c: usize): void {
  wipe(c, CTX_SIZE);
}

/**
 * Prepares context `c` for the modulus in big-endian [src, src+len) (odd,
 * > 1, at most 4096 bits: checked by the caller). Returns at once if the
 * context already holds this modulus.
 */
export function setModulus(c: usize, src: usize, len: i32): void {
  const sig = significantBytes(src, len);
  const start = src + <usize>(len - sig);
  if (load<i32>(c + CTX_LEN) == sig && memory.compare(c + CTX_BYTES, start, <usize>sig) == 0) {
    return;
  }
  const n = c + CTX_N;
  // k = digits of the significant bits
  const top = <i32>load<u8>(start);
  const nbits = sig * 8 - (<i32>clz<u32>(<u32>top) - 24);
  const k = (nbits + DIGIT_BITS - 1) / DIGIT_BITS;
  bytesToDigits(n, start, sig, k);
  // n0inv = -n^-1 mod 2^27, by Newton iteration mod 2^32 (each step doubles the correct bits).
  const n0 = limb(n, 0);
  let inv: u32 = n0; // correct to 3 bits for odd n0
  for (let i = 0; i < 5; i++) inv *= 2 - n0 * inv;
  store<u32>(c + CTX_N0, (<u32>0 - inv) & MASK);
  store<i32>(c + CTX_K, k);
  // the specialised kernels skip the final subtraction, which needs 4n <= R
  store<i32>(c + CTX_KERNEL, nbits <= DIGIT_BITS * k - 2 ? kernelFor(k) : 0);
  // one = R mod n: start from 2^(b-1) < n (b = bit length of n) and double 27k - b + 1 times.
  const one = c + CTX_ONE;
  const r2 = c + CTX_R2;
  wipe(one, <usize>k << 2);
  setLimb(one, (nbits - 1) / DIGIT_BITS, <u32>1 << <u32>((nbits - 1) % DIGIT_BITS));
  for (let i = 0; i < DIGIT_BITS * k - nbits + 1; i++) modDouble(one, n, k);
  // r2 = R^2 mod n = 2^(27k) R, the Montgomery form of 2^(27k): from 2^v R, v the top
  // R2_TOP_BITS bits of 27k (v modular doublings of R), then left to right over the other
  // bits of 27k (public), a Montgomery squaring doubles the power of two and a modular
  // doubling adds one to it. A doubling is linear in k and a squaring quadratic, so the
  // top bits cost less as doublings than as squarings.
  const e = DIGIT_BITS * k;
  const n0inv = load<u32>(c + CTX_N0);
  const low = max(0, 32 - <i32>clz<i32>(e) - R2_TOP_BITS);
  memory.copy(r2, one, <usize>k << 2);
  for (let i = 0; i < e >> low; i++) modDouble(r2, n, k);
  for (let b = low - 1; b >= 0; b--) {
    montSqr(r2, r2, n, k, n0inv);
    if (((e >> b) & 1) != 0) modDouble(r2, n, k);
  }
  memory.copy(c + CTX_BYTES, start, <usize>sig);
  store<i32>(c + CTX_LEN, sig);
}

// ---- exponentiation -------------------------------------------------------------------------------

/** Window width for an exponent of `bits` bits (public: a function of its length only). */
export function windowFor(bits: i32): i32 {
  if (bits <= 32) return 2;
  if (bits <= 128) return 3;
  if (bits <= 512) return 4;
  return MAX_WINDOW;
}

/** Bits [pos, pos + w) of the exponent digits at EXP (`el` digits). */
// @ts-ignore: decorator
@inline function window(pos: i32, w: i32, el: i32): u32 {
  const li = pos / DIGIT_BITS;
  const sh = <u64>(pos % DIGIT_BITS);
  let v = <u64>limb(EXP, li);
  if (li + 1 < el) v |= <u64>limb(EXP, li + 1) << DIGIT_BITS;
  return <u32>(v >> sh) & ((<u32>1 << <u32>w) - 1);
}

/**
 * SEL = TABLE[idx], reading every one of the 2^w entries, 4 digits at a time
 * under a mask (SEL digits past k, copied from past the entries' k digits,
 * are never read).
 */
function lookup(idx: u32, w: i32, k: i32): void {
  const groups = (k + 3) >> 2;
  const entries = 1 << w;
  for (let g = 0; g < groups; g++) {
    const off = <usize>g << 4;
    let v = i32x4.splat(0);
    for (let e = 0; e < entries; e++) {
      const mask = i32x4.splat(<i32>ctEqMask(<u32>e, idx));
      v = v128.or(v, v128.and(v128.load(TABLE + <usize>e * NUM_BYTES + off), mask));
    }
    v128.store(SEL + off, v);
  }
}

/**
 * r = x^e in Montgomery form: `xm` is x R mod n (k digits), the exponent is in
 * EXP as `el` digits and `bits` is its public bit length (never trimmed to
 * the value). The sequence of operations depends on `bits` and k only.
 */
export function powMont(r: usize, xm: usize, bits: i32, el: i32, c: usize): void {
  const kid = load<i32>(c + CTX_KERNEL);
  if (kid != 0) {
    powKernel(r, xm, bits, el, c, kid);
    return;
  }
  const k = ctxK(c);
  const n = ctxN(c);
  const n0 = ctxN0(c);
  const w = windowFor(bits);
  const entries = 1 << w;
  // TABLE[i] = x^i R mod n
  memory.copy(TABLE, c + CTX_ONE, <usize>k << 2);
  memory.copy(TABLE + NUM_BYTES, xm, <usize>k << 2);
  for (let i = 2; i < entries; i++) {
    montMul(TABLE + <usize>i * NUM_BYTES, TABLE + <usize>(i - 1) * NUM_BYTES, xm, n, k, n0);
  }
  const windows = (bits + w - 1) / w;
  lookup(window((windows - 1) * w, w, el), w, k);
  memory.copy(ACC, SEL, <usize>k << 2);
  for (let i = windows - 2; i >= 0; i--) {
    for (let j = 0; j < w; j++) montSqr(ACC, ACC, n, k, n0);
    lookup(window(i * w, w, el), w, k);
    montMul(ACC, ACC, SEL, n, k, n0);
  }
  memory.copy(r, ACC, <usize>k << 2);
}

/**
 * powMont with the size-specialised kernel `kid` (mont_kernels.ts): the same
 * fixed window and full-table lookup; intermediates stay below 2n (no final
 * subtraction in the kernels), and the result is reduced once at the end.
 */
function powKernel(r: usize, xm: usize, bits: i32, el: i32, c: usize, kid: i32): void {
  const k = ctxK(c);
  const n = ctxN(c);
  const n0 = ctxN0(c);
  reverse(NR, n, k);
  const w = windowFor(bits);
  const entries = 1 << w;
  memory.copy(TABLE, c + CTX_ONE, <usize>k << 2);
  memory.copy(TABLE + NUM_BYTES, xm, <usize>k << 2);
  for (let i = 2; i < entries; i++) {
    kernelMul(kid, TABLE + <usize>i * NUM_BYTES, TABLE + <usize>(i - 1) * NUM_BYTES, xm, n, NR, n0);
  }
  const windows = (bits + w - 1) / w;
  lookup(window((windows - 1) * w, w, el), w, k);
  memory.copy(ACC, SEL, <usize>k << 2);
  for (let i = windows - 2; i >= 0; i--) {
    for (let j = 0; j < w; j++) kernelSqr(kid, ACC, ACC, n, NR, n0);
    lookup(window(i * w, w, el), w, k);
    kernelMul(kid, ACC, ACC, SEL, n, NR, n0);
  }
  reduceOnce(r, ACC, 0, n, k);
}

/**
 * r = xm^e for a public exponent e (EXP, `el` digits, `bits` bits) in
 * Montgomery form: left-to-right square and multiply from e's top set bit,
 * on the size-specialised kernel where there is one. Its running time
 * follows e's bits, so it serves public exponents only (modPowPublic).
 */
function powPublic(r: usize, xm: usize, bits: i32, el: i32, c: usize): void {
  const kid = load<i32>(c + CTX_KERNEL);
  const k = ctxK(c);
  const n = ctxN(c);
  const n0 = ctxN0(c);
  if (kid != 0) reverse(NR, n, k);
  let top = bits - 1;
  while (top > 0 && window(top, 1, el) == 0) top--;
  memory.copy(ACC, window(top, 1, el) != 0 ? xm : c + CTX_ONE, <usize>k << 2);
  for (let i = top - 1; i >= 0; i--) {
    if (kid != 0) kernelSqr(kid, ACC, ACC, n, NR, n0);
    else montSqr(ACC, ACC, n, k, n0);
    if (window(i, 1, el) == 0) continue;
    if (kid != 0) kernelMul(kid, ACC, ACC, xm, n, NR, n0);
    else montMul(ACC, ACC, xm, n, k, n0);
  }
  if (kid != 0) reduceOnce(r, ACC, 0, n, k);
  else memory.copy(r, ACC, <usize>k << 2);
}

/** Loads an exponent (big-endian bytes) into EXP as `el` digits. */
export function loadExponent(src: usize, len: i32, el: i32): void {
  bytesToDigits(EXP, src, len, el);
  setLimb(EXP, el, 0);
}

/** r = x R mod n, the Montgomery form of x (k digits, x < n). */
export function toMont(r: usize, x: usize, c: usize): void {
  montMul(r, x, ctxR2(c), ctxN(c), ctxK(c), ctxN0(c));
}

/** r = x R^-1 mod n: out of Montgomery form. */
export function fromMont(r: usize, x: usize, c: usize): void {
  const k = ctxK(c);
  wipe(TMP_ONE, <usize>k << 2);
  setLimb(TMP_ONE, 0, 1);
  montMul(r, x, TMP_ONE, ctxN(c), k, ctxN0(c));
}

/**
 * base^exponent mod modulus on context `c`, whose modulus is already set (see
 * modPow); `pub` for a public exponent (powPublic), else the fixed window.
 */
function powIn(c: usize, pub: bool, baseLen: i32, expLen: i32, modLen: i32): i32 {
  const k = ctxK(c);
  bytesToDigits(TMP1, bnSlot(0), baseLen, k);
  toMont(TMP2, TMP1, c);
  const eBytes = max(expLen, 1); // an empty exponent is one zero byte
  const el = digitsFor(eBytes);
  loadExponent(bnSlot(1), expLen, el);
  if (pub) powPublic(TMP1, TMP2, eBytes * 8, el, c);
  else powMont(TMP1, TMP2, eBytes * 8, el, c);
  fromMont(TMP2, TMP1, c);
  digitsToBytes(BN_OUT, TMP2, k, modLen);
  bnWipe();
  return modLen;
}

/**
 * base^exponent mod modulus. Inputs, big-endian: base in BN slot 0 (`baseLen`
 * bytes, base < modulus), exponent in slot 1 (`expLen` bytes, at most 512),
 * modulus in slot 2 (`modLen` bytes; odd, > 1, at most 4096 bits), all
 * checked by the JS caller. Writes the result as `modLen` big-endian bytes to
 * BN_OUT and returns `modLen`.
 */
export function modPow(baseLen: i32, expLen: i32, modLen: i32): i32 {
  const c = ctx(0);
  setModulus(c, bnSlot(2), modLen);
  const len = powIn(c, false, baseLen, expLen, modLen);
  forgetModulus(c); // the modulus may be secret (a candidate prime in key generation)
  return len;
}

/**
 * modPow for a public modulus and exponent (an RSA public key's): the same
 * inputs and result, with the modulus's context kept among the last
 * PUBLIC_SLOTS public moduli, so that a modulus that comes back skips the
 * setup (R mod n, R^2 mod n), and square and multiply over the exponent's bits.
 */
export function modPowPublic(baseLen: i32, expLen: i32, modLen: i32): i32 {
  const src = bnSlot(2);
  const sig = significantBytes(src, modLen);
  const start = src + <usize>(modLen - sig);
  let slot = 0;
  let oldest: u32 = u32.MAX_VALUE;
  for (let i = 0; i < PUBLIC_SLOTS; i++) {
    const c = PUBLIC_CONTEXTS + <usize>i * CTX_SIZE;
    if (load<i32>(c + CTX_LEN) == sig && memory.compare(c + CTX_BYTES, start, <usize>sig) == 0) {
      slot = i;
      break;
    }
    const stamp = load<u32>(PUBLIC_STAMPS + (<usize>i << 2));
    if (stamp < oldest) {
      oldest = stamp;
      slot = i;
    }
  }
  const c = PUBLIC_CONTEXTS + <usize>slot * CTX_SIZE;
  setModulus(c, src, modLen); // returns at once when the slot holds this modulus
  publicClock += 1; // wraps after 2^32 calls: the choice of slot degrades, never the result
  store<u32>(PUBLIC_STAMPS + (<usize>slot << 2), publicClock);
  return powIn(c, true, baseLen, expLen, modLen);
}
