/**
 * Big-number modular exponentiation with Montgomery multiplication
 * (Montgomery 1985; CIOS/FIOS form as in Koc, Acar, Kaliski 1996), for odd
 * moduli up to 4096 bits.
 *
 * Numbers are fixed-width arrays of 32-bit little-endian limbs; products are
 * u64. A modulus context holds n, k (limbs), n0inv = -n^-1 mod 2^32, R^2 mod n
 * and R mod n (the Montgomery form of 1), computed once per modulus and kept
 * while the same modulus comes back (three contexts: modPow, p and q).
 *
 * Exponentiation is fixed-window: the number of squarings and
 * multiplications depends only on the exponent's byte length (or, for the
 * CRT halves, on the prime's limb count), never on its bits; every window
 * multiplies (by 1 for a zero window), the table lookup reads every entry
 * and keeps one with a mask, and Montgomery's final subtraction is a masked
 * select. Blinding is NOT done here: a caller that needs it (the RSA layer in
 * src/crypto) blinds the input before and unblinds after.
 */
import { ctEqMask, limb, setLimb, wipe } from "./common";
import { bnSlot, BN_OUT } from "./buffers";

/** Maximum limbs of a modulus (4096 bits). */
// @ts-ignore: decorator
@inline export const MAX_LIMBS: i32 = 128;
// @ts-ignore: decorator
@inline const NUM_BYTES: usize = (MAX_LIMBS + 2) * 4;
// @ts-ignore: decorator
@inline const MAX_WINDOW: i32 = 5;

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
@inline const CTX_SIZE: usize = CTX_K + 16;

const CONTEXTS: usize = memory.data(<i32>(3 * CTX_SIZE), 16);

/** Address of context `i` (0: modPow, 1: p, 2: q). */
// @ts-ignore: decorator
@inline export function ctx(i: i32): usize {
  return CONTEXTS + <usize>i * CTX_SIZE;
}
// @ts-ignore: decorator
@inline export function ctxK(c: usize): i32 {
  return load<i32>(c + CTX_K);
}
// @ts-ignore: decorator
@inline export function ctxN(c: usize): usize {
  return c + CTX_N;
}
// @ts-ignore: decorator
@inline export function ctxR2(c: usize): usize {
  return c + CTX_R2;
}

// ---- scratch --------------------------------------------------------------------------------------

const T: usize = memory.data(<i32>NUM_BYTES, 16); // Montgomery accumulator, k + 2 limbs
const TABLE: usize = memory.data(<i32>((1 << MAX_WINDOW) * NUM_BYTES), 16);
const ACC: usize = memory.data(<i32>NUM_BYTES, 16);
const SEL: usize = memory.data(<i32>NUM_BYTES, 16);
const EXP: usize = memory.data(<i32>NUM_BYTES, 16);
export const TMP1: usize = memory.data(<i32>NUM_BYTES, 16);
export const TMP2: usize = memory.data(<i32>NUM_BYTES, 16);

/** Zeroes every scratch buffer that held a secret (table, accumulator, exponent). */
export function bnWipe(): void {
  wipe(T, NUM_BYTES);
  wipe(TABLE, (1 << MAX_WINDOW) * NUM_BYTES);
  wipe(ACC, NUM_BYTES);
  wipe(SEL, NUM_BYTES);
  wipe(EXP, NUM_BYTES);
  wipe(TMP1, NUM_BYTES);
  wipe(TMP2, NUM_BYTES);
}

// ---- byte <-> limb conversion ---------------------------------------------------------------------

/** Big-endian bytes [src, src+len) into `k` little-endian limbs at `dst` (zero-extended). */
export function bytesToLimbs(dst: usize, src: usize, len: i32, k: i32): void {
  wipe(dst, <usize>k << 2);
  for (let i = 0; i < len; i++) {
    const byteIndex = len - 1 - i; // significance of this byte
    if (byteIndex >= k * 4) continue;
    const v = <u32>load<u8>(src + <usize>i);
    const li = byteIndex >> 2;
    setLimb(dst, li, limb(dst, li) | (v << (<u32>(byteIndex & 3) << 3)));
  }
}

/** `k` limbs at `src` into 4k big-endian bytes at `dst`. */
export function limbsToBytes(dst: usize, src: usize, k: i32): void {
  for (let i = 0; i < k; i++) {
    store<u32>(dst + (<usize>(k - 1 - i) << 2), bswap<u32>(limb(src, i)));
  }
}

/** Number of significant bytes of big-endian [src, src+len). */
function significantBytes(src: usize, len: i32): i32 {
  let i = 0;
  while (i < len && load<u8>(src + <usize>i) == 0) i++;
  return len - i;
}

// ---- limb arithmetic ------------------------------------------------------------------------------

/** r = a - b over k limbs; returns the borrow (0 or 1). r may alias a or b. */
function sub(r: usize, a: usize, b: usize, k: i32): u32 {
  let borrow: u64 = 0;
  for (let i = 0; i < k; i++) {
    const d = <u64>limb(a, i) - <u64>limb(b, i) - borrow;
    setLimb(r, i, <u32>d);
    borrow = (d >> 63) & 1;
  }
  return <u32>borrow;
}

/** r = a + b over k limbs; returns the carry. r may alias a or b. */
function add(r: usize, a: usize, b: usize, k: i32): u32 {
  let carry: u64 = 0;
  for (let i = 0; i < k; i++) {
    const s = <u64>limb(a, i) + <u64>limb(b, i) + carry;
    setLimb(r, i, <u32>s);
    carry = s >> 32;
  }
  return <u32>carry;
}

/** r = mask ? x : y, limb by limb, k limbs. */
// @ts-ignore: decorator
@inline function select(r: usize, mask: u32, x: usize, y: usize, k: i32): void {
  for (let i = 0; i < k; i++) setLimb(r, i, (limb(x, i) & mask) | (limb(y, i) & ~mask));
}

/**
 * r = (t - n if t >= n else t) for t of k limbs plus a top limb `top`;
 * constant time. r may alias t.
 */
function reduceOnce(r: usize, t: usize, top: u32, n: usize, k: i32): void {
  // SEL2 = t - n; keep it unless that borrowed past `top`.
  const borrow = sub(TMP_SUB, t, n, k);
  const keepDiff = <u32>0 - ((top | (borrow ^ 1)) & 1); // top=1 or no borrow -> t >= n
  select(r, keepDiff, TMP_SUB, t, k);
}
const TMP_SUB: usize = memory.data(<i32>NUM_BYTES, 16);

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
 * Montgomery product r = a * b * R^-1 mod n (R = 2^(32k)), for a * b < n * R;
 * the result is fully reduced (< n). r may alias a or b.
 */
export function montMul(r: usize, a: usize, b: usize, n: usize, k: i32, n0: u32): void {
  wipe(T, <usize>(k + 1) << 2);
  const n0l = <u64>limb(n, 0);
  for (let i = 0; i < k; i++) {
    const bi = <u64>limb(b, i);
    let u = <u64>limb(a, 0) * bi + <u64>load<u32>(T);
    const m = <u64>(<u32>u * n0);
    let s = m * n0l + (u & 0xffffffff);
    let c1 = u >> 32;
    let c2 = s >> 32;
    for (let j = 1; j < k; j++) {
      const tj = T + (<usize>j << 2);
      u = <u64>limb(a, j) * bi + <u64>load<u32>(tj) + c1;
      c1 = u >> 32;
      s = m * <u64>limb(n, j) + (u & 0xffffffff) + c2;
      c2 = s >> 32;
      store<u32>(tj - 4, <u32>s);
    }
    const tk = T + (<usize>k << 2);
    u = <u64>load<u32>(tk) + c1 + c2;
    store<u32>(tk - 4, <u32>u);
    store<u32>(tk, <u32>(u >> 32));
  }
  reduceOnce(r, T, load<u32>(T + (<usize>k << 2)), n, k);
}

// ---- context setup --------------------------------------------------------------------------------

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
  const k = (sig + 3) >> 2;
  const n = c + CTX_N;
  bytesToLimbs(n, start, sig, k);
  // n0inv = -n^-1 mod 2^32 by Newton iteration (each step doubles the correct bits).
  const n0 = limb(n, 0);
  let inv: u32 = n0; // correct to 3 bits for odd n0
  for (let i = 0; i < 5; i++) inv *= 2 - n0 * inv;
  store<u32>(c + CTX_N0, <u32>0 - inv);
  store<i32>(c + CTX_K, k);
  // one = R mod n: start from 2^(b-1) < n (b = bit length of n) and double 32k - b + 1 times.
  const one = c + CTX_ONE;
  const r2 = c + CTX_R2;
  const b = 32 * k - <i32>clz<u32>(limb(n, k - 1));
  wipe(one, <usize>k << 2);
  setLimb(one, (b - 1) >> 5, <u32>1 << <u32>((b - 1) & 31));
  for (let i = 0; i < 32 * k - b + 1; i++) modDouble(one, n, k);
  // r2 = R^2 mod n: write 32k = t * 2^m with t odd; 2^t R by t doublings of one, then m
  // Montgomery squarings give 2^(t 2^m) R = R^2.
  let t = 32 * k;
  let m = 0;
  while ((t & 1) == 0) {
    t >>= 1;
    m++;
  }
  memory.copy(r2, one, <usize>k << 2);
  for (let i = 0; i < t; i++) modDouble(r2, n, k);
  const n0inv = load<u32>(c + CTX_N0);
  for (let i = 0; i < m; i++) montMul(r2, r2, r2, n, k, n0inv);
  memory.copy(c + CTX_BYTES, start, <usize>sig);
  store<i32>(c + CTX_LEN, sig);
}

// ---- exponentiation -------------------------------------------------------------------------------

/** Window width for an exponent of `bits` bits (public: a function of its length only). */
function windowFor(bits: i32): i32 {
  if (bits <= 32) return 2;
  if (bits <= 128) return 3;
  if (bits <= 512) return 4;
  return MAX_WINDOW;
}

/** Bits [pos, pos + w) of the exponent limbs at EXP (zero past `bits`). */
// @ts-ignore: decorator
@inline function window(pos: i32, w: i32, el: i32): u32 {
  const li = pos >> 5;
  const sh = <u64>(pos & 31);
  let v = <u64>limb(EXP, li);
  if (li + 1 < el) v |= <u64>limb(EXP, li + 1) << 32;
  return <u32>(v >> sh) & ((<u32>1 << <u32>w) - 1);
}

/** SEL = TABLE[idx], reading every one of the 2^w entries. */
function lookup(idx: u32, w: i32, k: i32): void {
  wipe(SEL, <usize>k << 2);
  const entries = 1 << w;
  for (let e = 0; e < entries; e++) {
    const mask = ctEqMask(<u32>e, idx);
    const src = TABLE + <usize>e * NUM_BYTES;
    for (let i = 0; i < k; i++) setLimb(SEL, i, limb(SEL, i) | (limb(src, i) & mask));
  }
}

/**
 * r = x^e in Montgomery form: `xm` is x*R mod n (k limbs), the exponent is in
 * EXP as `el` limbs and `bits` is its public bit length (a multiple of the
 * byte or limb size, never trimmed to the value). The sequence of operations
 * depends on `bits` and k only.
 */
export function powMont(r: usize, xm: usize, bits: i32, el: i32, c: usize): void {
  const k = ctxK(c);
  const n = ctxN(c);
  const n0 = load<u32>(c + CTX_N0);
  const w = windowFor(bits);
  const entries = 1 << w;
  // TABLE[i] = x^i R mod n
  memory.copy(TABLE, c + CTX_ONE, <usize>k << 2);
  memory.copy(TABLE + NUM_BYTES, xm, <usize>k << 2);
  for (let i = 2; i < entries; i++) {
    montMul(TABLE + <usize>i * NUM_BYTES, TABLE + <usize>(i - 1) * NUM_BYTES, xm, n, k, n0);
  }
  const windows = (bits + w - 1) / w;
  let pos = (windows - 1) * w;
  lookup(window(pos, w, el), w, k);
  memory.copy(ACC, SEL, <usize>k << 2);
  for (let i = windows - 2; i >= 0; i--) {
    for (let j = 0; j < w; j++) montMul(ACC, ACC, ACC, n, k, n0);
    pos = i * w;
    lookup(window(pos, w, el), w, k);
    montMul(ACC, ACC, SEL, n, k, n0);
  }
  memory.copy(r, ACC, <usize>k << 2);
}

/** Loads an exponent (big-endian bytes) into EXP as `el` limbs. */
export function loadExponent(src: usize, len: i32, el: i32): void {
  bytesToLimbs(EXP, src, len, el);
  setLimb(EXP, el, 0);
}

/** r = the Montgomery form (x R mod n) of x given as k limbs, x < n. */
export function toMont(r: usize, x: usize, c: usize): void {
  montMul(r, x, ctxR2(c), ctxN(c), ctxK(c), load<u32>(c + CTX_N0));
}

/** r = x R^-1 mod n: out of Montgomery form. */
export function fromMont(r: usize, x: usize, c: usize): void {
  const k = ctxK(c);
  wipe(TMP_ONE, <usize>k << 2);
  setLimb(TMP_ONE, 0, 1);
  montMul(r, x, TMP_ONE, ctxN(c), k, load<u32>(c + CTX_N0));
}
const TMP_ONE: usize = memory.data(<i32>NUM_BYTES, 16);

/** Montgomery constant of context `c`. */
export function ctxN0(c: usize): u32 {
  return load<u32>(c + CTX_N0);
}

/**
 * base^exponent mod modulus. Inputs, big-endian: base in BN slot 0 (`baseLen`
 * bytes, base < modulus), exponent in slot 1 (`expLen` bytes, at most 512),
 * modulus in slot 2 (`modLen` bytes; odd, > 1, at most 4096 bits). All
 * checked by the JS caller. Writes 4k big-endian bytes to BN_OUT and returns
 * that length (k = limbs of the modulus).
 */
export function modPow(baseLen: i32, expLen: i32, modLen: i32): i32 {
  const c = ctx(0);
  setModulus(c, bnSlot(2), modLen);
  const k = ctxK(c);
  bytesToLimbs(TMP1, bnSlot(0), baseLen, k);
  toMont(TMP2, TMP1, c);
  const eBytes = max(expLen, 1); // an empty exponent is one zero byte
  const el = (eBytes + 3) >> 2;
  loadExponent(bnSlot(1), expLen, el);
  powMont(TMP1, TMP2, eBytes * 8, el, c);
  fromMont(TMP2, TMP1, c);
  limbsToBytes(BN_OUT, TMP2, k);
  bnWipe();
  return k * 4;
}
