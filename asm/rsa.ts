/**
 * The RSA private operation with the Chinese Remainder Theorem (PKCS #1 v2.2,
 * RFC 8017 section 5.1.2, RSADP with the (p, q, dP, dQ, qInv) representation):
 *
 *   m1 = c^dP mod p, m2 = c^dQ mod q, h = qInv (m1 - m2) mod p, m = m2 + q h.
 *
 * The sequence of operations is fixed by the digit counts of p and q and the
 * byte length of c: both exponentiations run over every bit position of a
 * k-digit exponent with the fixed-window, full-table-scan code of modexp.ts,
 * and the subtraction mod p is a masked select.
 *
 * Blinding is the caller's job: this function computes exactly c^d for the c
 * it is given. The RSA layer (src/crypto) blinds c with r^e before the call
 * and multiplies by r^-1 after it.
 *
 * The p and q contexts (p, q, their Montgomery constants) and every scratch
 * buffer are zeroed before the call returns; only the public result stays,
 * in BN_OUT, which the JS caller copies out and zeroes.
 */
import { bnSlot, BN_OUT } from "./buffers";
import { limb, setLimb, wipe } from "./common";
import {
  bnWipe,
  bytesToDigits,
  ctx,
  ctxK,
  ctxN,
  ctxN0,
  ctxR2,
  forgetModulus,
  fromMont,
  digitsFor,
  digitsToBytes,
  DIGIT_BITS,
  loadExponent,
  NUM_BYTES,
  modAdd,
  modSub,
  montMul,
  powMont,
  setModulus,
  toMont,
} from "./modexp";
import { pairLimbsFor, pairPow } from "./pair";

const CIN: usize = memory.data(<i32>NUM_BYTES, 16);
const CH: usize = memory.data(<i32>NUM_BYTES, 16);
const XM: usize = memory.data(<i32>NUM_BYTES, 16);
const XMQ: usize = memory.data(<i32>NUM_BYTES, 16);
const M1: usize = memory.data(<i32>NUM_BYTES, 16);
const M2: usize = memory.data(<i32>NUM_BYTES, 16);
const M2P: usize = memory.data(<i32>NUM_BYTES, 16);
const QI: usize = memory.data(<i32>NUM_BYTES, 16);
const HH: usize = memory.data(<i32>NUM_BYTES, 16);
const OUT: usize = memory.data(<i32>(2 * NUM_BYTES), 16);
const MASK: u32 = 0x07ffffff;

/**
 * dst = x R mod n (Montgomery form) for x given as `lc` limbs at `src`, of any
 * size: Horner's rule over k-limb chunks, v <- v R + chunk, each step in
 * Montgomery form (chunk R = MontMul(chunk, R^2), v R R = MontMul(v R, R^2)).
 */
function reduceToMont(dst: usize, src: usize, lc: i32, c: usize): void {
  const k = ctxK(c);
  const n = ctxN(c);
  const r2 = ctxR2(c);
  const n0 = ctxN0(c);
  const chunks = (lc + k - 1) / k;
  for (let ch = chunks - 1; ch >= 0; ch--) {
    wipe(CH, <usize>k << 2);
    const from = ch * k;
    const to = min(lc, from + k);
    memory.copy(CH, src + (<usize>from << 2), <usize>(to - from) << 2);
    montMul(CH, CH, r2, n, k, n0);
    if (ch == chunks - 1) {
      memory.copy(dst, CH, <usize>k << 2);
    } else {
      montMul(dst, dst, r2, n, k, n0);
      modAdd(dst, dst, CH, n, k);
    }
  }
}

/**
 * RSA private operation with CRT. Inputs in BN slots, big-endian, all
 * checked by the JS caller: 0 the input c (< n), 1 p, 2 q (odd, > 1, at
 * most 4096 bits), 3 dP (< p), 4 dQ (< q), 5 qInv (< p). Writes m as
 * ceil(27 (kp + kq) / 8) big-endian bytes to BN_OUT (kp, kq: 27-bit digits
 * of p and q) and returns that length.
 */
export function rsaPrivate(
  inLen: i32,
  pLen: i32,
  qLen: i32,
  dpLen: i32,
  dqLen: i32,
  qiLen: i32,
): i32 {
  const cp = ctx(1);
  const cq = ctx(2);
  setModulus(cp, bnSlot(1), pLen);
  setModulus(cq, bnSlot(2), qLen);
  const kp = ctxK(cp);
  const kq = ctxK(cq);
  const lc = max(digitsFor(inLen), 1);
  bytesToDigits(CIN, bnSlot(0), inLen, lc);

  const kl = pairLimbsFor(cp, cq);
  if (kl != 0) {
    // both at once on the paired kernels; m1 back into Montgomery form
    reduceToMont(XM, CIN, lc, cp);
    reduceToMont(XMQ, CIN, lc, cq);
    pairPow(M1, M2, XM, XMQ, cp, cq, kl, bnSlot(3), dpLen, bnSlot(4), dqLen);
    toMont(M1, M1, cp);
  } else {
    // m1 = c^dP mod p, kept in Montgomery form
    reduceToMont(XM, CIN, lc, cp);
    loadExponent(bnSlot(3), dpLen, kp);
    powMont(M1, XM, DIGIT_BITS * kp, kp, cp);
    // m2 = c^dQ mod q, out of Montgomery form
    reduceToMont(XM, CIN, lc, cq);
    loadExponent(bnSlot(4), dqLen, kq);
    powMont(M2, XM, DIGIT_BITS * kq, kq, cq);
    fromMont(M2, M2, cq);
  }
  // h = qInv (m1 - m2) mod p: MontMul((m1 - m2) R, qInv) = (m1 - m2) qInv
  reduceToMont(M2P, M2, kq, cp);
  modSub(M1, M1, M2P, ctxN(cp), kp);
  bytesToDigits(QI, bnSlot(5), qiLen, kp);
  montMul(HH, M1, QI, ctxN(cp), kp, ctxN0(cp));
  // m = m2 + q h
  const kn = kp + kq;
  wipe(OUT, <usize>kn << 2);
  memory.copy(OUT, M2, <usize>kq << 2);
  const q = ctxN(cq);
  for (let i = 0; i < kp; i++) {
    const hi = <u64>limb(HH, i);
    let carry: u64 = 0;
    for (let j = 0; j < kq; j++) {
      const t = hi * <u64>limb(q, j) + <u64>limb(OUT, i + j) + carry;
      setLimb(OUT, i + j, <u32>t & MASK);
      carry = t >> DIGIT_BITS;
    }
    setLimb(OUT, i + kq, <u32>carry);
  }
  const outLen = (kn * DIGIT_BITS + 7) >> 3;
  digitsToBytes(BN_OUT, OUT, kn, outLen);

  wipe(CIN, NUM_BYTES);
  wipe(CH, NUM_BYTES);
  wipe(XM, NUM_BYTES);
  wipe(XMQ, NUM_BYTES);
  wipe(M1, NUM_BYTES);
  wipe(M2, NUM_BYTES);
  wipe(M2P, NUM_BYTES);
  wipe(QI, NUM_BYTES);
  wipe(HH, NUM_BYTES);
  wipe(OUT, 2 * NUM_BYTES);
  forgetModulus(cp);
  forgetModulus(cq);
  bnWipe();
  return outLen;
}
