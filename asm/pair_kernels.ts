/**
 * Paired f64 Montgomery multiply and square for the relaxed-SIMD build.
 *
 * A "pair" number holds two numbers side by side, one per f64x2 lane: limb j
 * of both is the v128 at offset 16 j. The lanes carry the two halves of an
 * RSA CRT private operation (mod p and mod q), so one instruction stream does
 * both exponentiations and no lane ever reads the other.
 *
 * Limbs are 51-bit integers held exactly in f64. A product x y (< 2^102) is
 * split with two fused multiply-adds (`f64x2.relaxed_madd`; the loader uses
 * this build only where a probe shows that the multiply-add is fused):
 *
 *   h = fma(x, y, 2^103)                   = 2^103 + H, H = x y rounded to a multiple of 2^51
 *   l = fma(x, y, (2^103 + 3 2^51) - h)    = x y - H + 3 2^51, in [2^52, 2^53)
 *
 * so the bit patterns of h and l, read as i64, are H / 2^51 and x y - H
 * (signed, |x y - H| <= 2^50) plus constant offsets. A column sums the bit
 * patterns of its terms in i64x2 lanes and removes the offsets (its count of
 * terms times a constant) once, at its end: carries are delayed to the
 * column's end. This is Emmart's f64 limb arithmetic (ZPrize 2022) on a
 * 51-bit radix, which keeps every low half in one binade, in the
 * product-scanning Montgomery form (Koc, Acar and Kaliski 1996).
 *
 * The kernels skip Montgomery's final subtraction: for inputs below 2n and
 * 4n <= R = 2^(51 k) the result stays below 2n. Loop bounds depend on k and
 * the column only; no branch or address depends on a limb's value.
 *
 * In the build without relaxed SIMD (ASC_FEATURE_RELAXED_SIMD false) the
 * bodies compile to nothing and `PAIR_KERNELS` is false.
 */

/** Whether this build has the paired kernels. */
export const PAIR_KERNELS: bool = ASC_FEATURE_RELAXED_SIMD;
/** Most limbs of a pair number: 41 hold a 2048-bit modulus (RSA-4096's halves). */
// @ts-ignore: decorator
@inline export const PAIR_MAX_LIMBS: i32 = 41;

// @ts-ignore: decorator
@inline const BITS: i32 = 51;
// @ts-ignore: decorator
@inline const HI_BITS: i64 = 0x4660000000000000; // 2^103
// @ts-ignore: decorator
@inline const LO_BITS: i64 = 0x4338000000000000; // 3 2^51

const PQ: usize = memory.data(16 * PAIR_MAX_LIMBS, 16); // Montgomery quotient limbs
const PH: usize = memory.data(16, 16); // the high half of the newest m_s n_0
// 2^103, 2^103 + 3 2^51, 2^51 - 1, 2^52, 2^52 + 1: f64 bit patterns (but the mask), two
// lanes each; loaded, not literal, so that the optimizer does not copy them into every use
const PK: usize = memory.data<u64>([
  0x4660000000000000, 0x4660000000000000,
  0x4660000000000003, 0x4660000000000003,
  0x0007ffffffffffff, 0x0007ffffffffffff,
  0x4330000000000000, 0x4330000000000000,
  0x4330000000000001, 0x4330000000000001,
], 16);

/**
 * 1 if this build has the paired kernels and `f64x2.relaxed_madd` is fused
 * here (relaxed SIMD lets a runtime round once or twice): with a = 2^52 + 1
 * and hi = fl(a a) = 2^104 + 2^53, fma(a, a, -hi) is 1 when fused (a a - hi
 * exactly) and 0 when not. The loader uses this build only if it returns 1.
 */
export function pairFused(): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const a = v128.load(PK, 64);
    const r = f64x2.relaxed_madd(a, a, f64x2.neg(f64x2.mul(a, a)));
    return i32(f64x2.extract_lane(r, 0) == 1 && f64x2.extract_lane(r, 1) == 1);
  }
  return 0;
}

/** Zeroes the kernels' scratch (the quotient limbs). */
export function pairKernelWipe(): void {
  memory.fill(PQ, 0, 16 * PAIR_MAX_LIMBS);
  memory.fill(PH, 0, 16);
}

/**
 * The correction of a column that summed `lo` low and `hi` high halves, plus
 * `bias`. Columns add 2^57 so that their sums are never negative (a sum is
 * above -2^57) and an unsigned shift gives the carry, plus 64; the next
 * column takes the 64 off again.
 */
// @ts-ignore: decorator
@inline function offset(lo: i32, hi: i32, bias: i64): i64 {
  return bias - (<i64>lo * LO_BITS + <i64>hi * HI_BITS);
}

// @ts-ignore: decorator
@inline const COLUMN_BIAS: i64 = (<i64>1 << 57) - 64;

// Each column's correction (i64) for k limbs, multiply then square: 2k entries each.
const OFF_MUL: usize = memory.data(16 * PAIR_MAX_LIMBS, 16);
const OFF_SQR: usize = memory.data(16 * PAIR_MAX_LIMBS, 16);

/**
 * Fills the column corrections for k limbs (public: they count the terms of
 * each column, a function of k alone). Call before the kernels for k.
 */
export function pairPrepare(k: i32): void {
  let hi = 0; // high halves carried into the column (multiply)
  let sqHi = 0; // the same for the square, and its cross products'
  let crossHi = 0;
  for (let s = 0; s < 2 * k; s++) {
    const first = max(0, s - k + 1);
    const q = s < k ? 1 : 0; // m_s n_0, whose low half the quotient step adds
    // a_i b_(s-i) and m_i n_(s-i) in pairs, a_s b_0 and m_s n_0 while s < k
    const lo = s < 2 * k - 1 ? 2 * (min(s, k) - first + q) : 0;
    const bias = s < 2 * k - 1 ? COLUMN_BIAS : -64;
    store<i64>(OFF_MUL + (<usize>s << 3), offset(lo, hi, bias));
    hi = lo;
    const cross = s < 2 * k - 1 ? ((s + 1) >> 1) - first : 0;
    const sqLo = s < 2 * k - 1 ? min(s, k) - first + (1 - (s & 1)) + q : 0;
    const sq = offset(sqLo, sqHi, bias) + 2 * offset(cross, crossHi, 0);
    store<i64>(OFF_SQR + (<usize>s << 3), sq);
    sqHi = sqLo;
    crossHi = cross;
  }
}

/** u64 lanes (below 2^52) as f64 lanes. */
// @ts-ignore: decorator
@inline function asF64(v: v128): v128 {
  const e52 = v128.load(PK, 48);
  return f64x2.sub(v128.or(v, e52), e52);
}

/**
 * Closes a lower column (s < k): t is its biased sum; derives quotient limb
 * s, stores it, adds m_s n_0 and returns the biased carry; the high half of
 * m_s n_0, for the next column, is left in PH.
 */
// @ts-ignore: decorator
@inline function quotient(t: v128, s: i32, n: usize, n0p: usize): v128 {
  const m = asF64(v128.and(i64x2.mul(t, v128.load(n0p)), v128.load(PK, 32)));
  v128.store(PQ + (<usize>s << 4), m);
  const y = v128.load(n);
  const h = f64x2.relaxed_madd(m, y, v128.load(PK));
  const l = f64x2.relaxed_madd(m, y, f64x2.sub(v128.load(PK, 16), h));
  v128.store(PH, h);
  return i64x2.shr_u(i64x2.add(t, l), BITS);
}

/**
 * Closes column s with biased sum t: a quotient limb (s < k, returns the
 * carry and leaves m_s n_0's high half in PH) or output limb s - k.
 */
// @ts-ignore: decorator
@inline function closeColumn(t: v128, s: i32, k: i32, r: usize, n: usize, n0p: usize): v128 {
  if (s < k) return quotient(t, s, n, n0p);
  v128.store(r + (<usize>(s - k) << 4), asF64(v128.and(t, v128.load(PK, 32))));
  return i64x2.shr_u(t, BITS);
}

/** r = a b R^-1 mod n per lane, k limbs (r may alias a or b); n0p: -n^-1 mod 2^51 per lane. */
export function pairMul(r: usize, a: usize, b: usize, n: usize, n0p: usize, k: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const c1 = v128.load(PK);
    const c2 = v128.load(PK, 16);
    let carry = i64x2.splat(64);
    let hc = i64x2.splat(0);
    for (let s = 0; s < 2 * k - 1; s++) {
      // a_i b_(s-i) and m_i n_(s-i) for i in [first, min(s - 1, k - 1)], then a_s b_0 if s < k
      const first = max(0, s - k + 1);
      const pairs = min(s, k) - first;
      let pa = a + (<usize>first << 4);
      let pq = PQ + (<usize>first << 4);
      let pb = b + (<usize>(s - first) << 4);
      let pn = n + (<usize>(s - first) << 4);
      const end = pa + (<usize>pairs << 4);
      let lo = i64x2.splat(0);
      let hn = lo;
      for (; pa < end; pa += 16, pq += 16, pb -= 16, pn -= 16) {
        let x = v128.load(pa);
        let y = v128.load(pb);
        let h = f64x2.relaxed_madd(x, y, c1);
        hn = i64x2.add(hn, h);
        lo = i64x2.add(lo, f64x2.relaxed_madd(x, y, f64x2.sub(c2, h)));
        x = v128.load(pq);
        y = v128.load(pn);
        h = f64x2.relaxed_madd(x, y, c1);
        hn = i64x2.add(hn, h);
        lo = i64x2.add(lo, f64x2.relaxed_madd(x, y, f64x2.sub(c2, h)));
      }
      if (s < k) {
        const x = v128.load(pa);
        const y = v128.load(b);
        const h = f64x2.relaxed_madd(x, y, c1);
        hn = i64x2.add(hn, h);
        lo = i64x2.add(lo, f64x2.relaxed_madd(x, y, f64x2.sub(c2, h)));
      }
      const off = v128.load64_splat(OFF_MUL + (<usize>s << 3));
      const t = i64x2.add(i64x2.add(lo, hc), i64x2.add(carry, off));
      carry = closeColumn(t, s, k, r, n, n0p);
      hc = s < k ? i64x2.add(hn, v128.load(PH)) : hn;
    }
    const top = i64x2.add(i64x2.add(hc, carry), v128.load64_splat(OFF_MUL + (<usize>(2 * k - 1) << 3)));
    v128.store(r + (<usize>(k - 1) << 4), asF64(top));
  }
}

/** r = a^2 R^-1 mod n per lane, k limbs (r may alias a): cross products once, doubled. */
export function pairSqr(r: usize, a: usize, n: usize, n0p: usize, k: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const c1 = v128.load(PK);
    const c2 = v128.load(PK, 16);
    let carry = i64x2.splat(64);
    let hc = i64x2.splat(0);
    let chc = hc;
    for (let s = 0; s < 2 * k - 1; s++) {
      const first = max(0, s - k + 1);
      // cross products a_i a_(s-i), i in [first, s - i), two at a time
      const crossCount = ((s + 1) >> 1) - first;
      let px = a + (<usize>first << 4);
      let py = a + (<usize>(s - first) << 4);
      let end = px + (<usize>(crossCount & ~1) << 4);
      let clo = i64x2.splat(0);
      let chn = clo;
      for (; px < end; px += 32, py -= 32) {
        let x = v128.load(px);
        let y = v128.load(py);
        let h = f64x2.relaxed_madd(x, y, c1);
        chn = i64x2.add(chn, h);
        clo = i64x2.add(clo, f64x2.relaxed_madd(x, y, f64x2.sub(c2, h)));
        x = v128.load(px, 16);
        y = v128.load(py - 16);
        h = f64x2.relaxed_madd(x, y, c1);
        chn = i64x2.add(chn, h);
        clo = i64x2.add(clo, f64x2.relaxed_madd(x, y, f64x2.sub(c2, h)));
      }
      // the odd one out of the cross products, and the square a_(s/2)^2, as one product each
      let lo = i64x2.splat(0);
      let hn = lo;
      if ((crossCount & 1) != 0) {
        const x = v128.load(px);
        const y = v128.load(py);
        const h = f64x2.relaxed_madd(x, y, c1);
        chn = i64x2.add(chn, h);
        clo = i64x2.add(clo, f64x2.relaxed_madd(x, y, f64x2.sub(c2, h)));
      }
      if ((s & 1) == 0) {
        const x = v128.load(a + (<usize>(s >> 1) << 4));
        const h = f64x2.relaxed_madd(x, x, c1);
        hn = h;
        lo = f64x2.relaxed_madd(x, x, f64x2.sub(c2, h));
      }
      // the quotient terms m_j n_(s-j), j in [first, min(s - 1, k - 1)], two at a time
      const redCount = min(s, k) - first;
      px = PQ + (<usize>first << 4);
      py = n + (<usize>(s - first) << 4);
      end = px + (<usize>(redCount & ~1) << 4);
      for (; px < end; px += 32, py -= 32) {
        let x = v128.load(px);
        let y = v128.load(py);
        let h = f64x2.relaxed_madd(x, y, c1);
        hn = i64x2.add(hn, h);
        lo = i64x2.add(lo, f64x2.relaxed_madd(x, y, f64x2.sub(c2, h)));
        x = v128.load(px, 16);
        y = v128.load(py - 16);
        h = f64x2.relaxed_madd(x, y, c1);
        hn = i64x2.add(hn, h);
        lo = i64x2.add(lo, f64x2.relaxed_madd(x, y, f64x2.sub(c2, h)));
      }
      if ((redCount & 1) != 0) {
        const x = v128.load(px);
        const y = v128.load(py);
        const h = f64x2.relaxed_madd(x, y, c1);
        hn = i64x2.add(hn, h);
        lo = i64x2.add(lo, f64x2.relaxed_madd(x, y, f64x2.sub(c2, h)));
      }
      const off = v128.load64_splat(OFF_SQR + (<usize>s << 3));
      let t = i64x2.add(i64x2.add(lo, hc), i64x2.add(carry, off));
      t = i64x2.add(t, i64x2.shl(i64x2.add(clo, chc), 1));
      carry = closeColumn(t, s, k, r, n, n0p);
      hc = s < k ? i64x2.add(hn, v128.load(PH)) : hn;
      chc = chn;
    }
    const top = i64x2.add(i64x2.add(hc, carry), v128.load64_splat(OFF_SQR + (<usize>(2 * k - 1) << 3)));
    v128.store(r + (<usize>(k - 1) << 4), asF64(i64x2.add(top, i64x2.shl(chc, 1))));
  }
}
