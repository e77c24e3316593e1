/**
 * TDEA (Triple DES, NIST SP 800-67 Rev. 2) in ECB and CBC mode, with 2-key
 * (K1, K2, K1) and 3-key bundles. Single DES is legacy and only used inside TDEA.
 *
 * Implementation: the DES round uses eight combined S-box/permutation tables
 * (SP[g][v] = P(Sg(v)), 8 x 64 words) and expands R with two rotations, so
 * that the eight 6-bit E(R) groups sit at bits 2..7 of the byte lanes of two
 * words: `rotr(R, 1)` holds groups 1, 3, 5, 7 and `rotl(R, 3)` groups 2, 4,
 * 6, 8 (FIPS 46-3 numbering), so a masked byte is directly a table offset.
 * Round keys are stored in that same lane layout.
 * IP and IP^-1 (const.ts) are computed as five masked exchanges of bit
 * groups between the two 32-bit halves, with no table and no
 * data-dependent address; PC-1 and PC-2 are byte-indexed lookup tables.
 * Every table is derived once, at instantiation, from the standard's tables
 * in const.ts.
 *
 * The key schedule runs on every call (no key is cached), into a fixed
 * 384-byte buffer that is zeroed before the call returns. Nothing allocates.
 * Table lookups are indexed by secret data, as in every table-based DES.
 */
import { P, PC1, PC2, S, SHIFTS } from "./const";
import { loadBe64, storeBe64, wipe } from "./common";
import { IO, IV, KEY } from "./buffers";

const SP: usize = memory.data(8 * 64 * 4, 16); // u32 [8][64]
const PC1T: usize = memory.data(8 * 256 * 8, 16); // u64 [8][256]
const PC2T: usize = memory.data(8 * 128 * 8, 16); // u64 [8][128]
/** 48 round keys (3 x 16) in the order the rounds use them. */
const SCHEDULE: usize = memory.data(48 * 8, 16);

// ---- table derivation (runs once, at instantiation) ---------------------------------------------

function buildTables(): void {
  // SP[g][v] = P(Sg(v) at output bits 4g+1..4g+4)
  for (let g = 0; g < 8; g++) {
    for (let v = 0; v < 64; v++) {
      const row = ((v >> 4) & 2) | (v & 1);
      const col = (v >> 1) & 15;
      const s = <u32>load<u8>(S + <usize>(g * 64 + row * 16 + col));
      const x = s << <u32>(28 - 4 * g);
      let out: u32 = 0;
      for (let i = 1; i <= 32; i++) {
        const from = <u32>load<u8>(P + <usize>(i - 1));
        if ((x >> (32 - from)) & 1) out |= <u32>1 << <u32>(32 - i);
      }
      store<u32>(SP + <usize>((g * 64 + v) * 4), out);
    }
  }
  // PC-1: key byte p -> C0 || D0 as 56 bits, output bit j (1..56) at position 56 - j.
  for (let p = 0; p < 8; p++) {
    for (let val = 0; val < 256; val++) {
      let cd: u64 = 0;
      for (let j = 1; j <= 56; j++) {
        const a = <i32>load<u8>(PC1 + <usize>(j - 1)) - 1;
        if ((a >> 3) == p && ((val >> (7 - (a & 7))) & 1)) cd |= <u64>1 << <u64>(56 - j);
      }
      store<u64>(PC1T + <usize>((p * 256 + val) * 8), cd);
    }
  }
  // PC-2: 7-bit chunk c of CnDn (bits 7c+1..7c+7) -> round key in lane layout:
  // group g (0-based) goes to byte lane 3 - (g >> 1) of the even (high) or odd (low) word.
  for (let c = 0; c < 8; c++) {
    for (let val = 0; val < 128; val++) {
      let k: u64 = 0;
      for (let o = 1; o <= 48; o++) {
        const a = <i32>load<u8>(PC2 + <usize>(o - 1)) - 1; // 0-based bit of CD
        if (a / 7 != c || !((val >> (6 - a % 7)) & 1)) continue;
        const g = (o - 1) / 6;
        const t = (o - 1) % 6;
        const shift = 26 - 8 * (g >> 1) + (5 - t) + ((g & 1) == 0 ? 32 : 0);
        k |= <u64>1 << <u64>shift;
      }
      store<u64>(PC2T + <usize>((c * 128 + val) * 8), k);
    }
  }
}
buildTables();

// ---- key schedule ---------------------------------------------------------------------------------

/** Writes the 16 round keys of the DES key at `key` to `out`, reversed for decryption. */
function desSchedule(key: usize, out: usize, reverse: bool): void {
  let cd: u64 = 0;
  for (let p = 0; p < 8; p++) {
    cd |= load<u64>(PC1T + <usize>((p << 8 | <i32>load<u8>(key + <usize>p)) << 3));
  }
  let c = <u32>(cd >> 28);
  let d = <u32>cd & 0x0fffffff;
  for (let r = 0; r < 16; r++) {
    const s = <u32>load<u8>(SHIFTS + <usize>r);
    c = ((c << s) | (c >> (28 - s))) & 0x0fffffff;
    d = ((d << s) | (d >> (28 - s))) & 0x0fffffff;
    const x = (<u64>c << 28) | <u64>d;
    let k: u64 = 0;
    for (let j = 0; j < 8; j++) {
      const v = <i32>(x >> <u64>(49 - 7 * j)) & 0x7f;
      k |= load<u64>(PC2T + <usize>((j << 7 | v) << 3));
    }
    store<u64>(out + <usize>((reverse ? 15 - r : r) << 3), k);
  }
}

/** Builds the 48-round schedule: E(K1) D(K2) E(K3) to encrypt, D(K3) E(K2) D(K1) to decrypt. */
function tdesSchedule(keyLen: i32, decrypt: bool): void {
  const k1 = KEY;
  const k2 = KEY + 8;
  const k3 = keyLen == 24 ? KEY + 16 : KEY;
  if (decrypt) {
    desSchedule(k3, SCHEDULE, true);
    desSchedule(k2, SCHEDULE + 128, false);
    desSchedule(k1, SCHEDULE + 256, true);
  } else {
    desSchedule(k1, SCHEDULE, false);
    desSchedule(k2, SCHEDULE + 128, true);
    desSchedule(k3, SCHEDULE + 256, false);
  }
}

// ---- block function -------------------------------------------------------------------------------

/** SP[g][v] where `x` holds 4v in its low byte (the lane layout keeps groups at bits 2..7). */
// @ts-ignore: decorator
@inline function sp(g: usize, x: u32): u32 {
  return load<u32>(SP + (g << 8) + <usize>(x & 0xfc));
}

// @ts-ignore: decorator
@inline function f(r: u32, k: u64): u32 {
  const a = rotr<u32>(r, 1) ^ <u32>(k >> 32);
  const b = rotl<u32>(r, 3) ^ <u32>k;
  return sp(0, a >> 24) | sp(2, a >> 16) | sp(4, a >> 8) | sp(6, a) |
    sp(1, b >> 24) | sp(3, b >> 16) | sp(5, b >> 8) | sp(7, b);
}

/** x with bit groups of its halves exchanged: `t = ((x >> 32 + s) ^ x) & m` moved both ways. */
// @ts-ignore: decorator
@inline function exchangeLr(x: u64, s: u32, m: u32): u64 {
  const l = <u32>(x >> 32);
  const r = <u32>x;
  const t = ((l >> s) ^ r) & m;
  return (<u64>(l ^ (t << s)) << 32) | <u64>(r ^ t);
}

/** The same exchange from the right half into the left. */
// @ts-ignore: decorator
@inline function exchangeRl(x: u64, s: u32, m: u32): u64 {
  const l = <u32>(x >> 32);
  const r = <u32>x;
  const t = ((r >> s) ^ l) & m;
  return (<u64>(l ^ t) << 32) | <u64>(r ^ (t << s));
}

/** IP as five exchanges of bit groups between the halves (the table's columns become rows). */
// @ts-ignore: decorator
@inline function ip(x: u64): u64 {
  x = exchangeLr(x, 4, 0x0f0f0f0f);
  x = exchangeLr(x, 16, 0x0000ffff);
  x = exchangeRl(x, 2, 0x33333333);
  x = exchangeRl(x, 8, 0x00ff00ff);
  return exchangeLr(x, 1, 0x55555555);
}

/** IP^-1: the same exchanges in reverse order (each one is its own inverse). */
// @ts-ignore: decorator
@inline function fp(x: u64): u64 {
  x = exchangeLr(x, 1, 0x55555555);
  x = exchangeRl(x, 8, 0x00ff00ff);
  x = exchangeRl(x, 2, 0x33333333);
  x = exchangeLr(x, 16, 0x0000ffff);
  return exchangeLr(x, 4, 0x0f0f0f0f);
}

/** One TDEA block (the 64-bit value big-endian) through the 48 scheduled rounds. */
function block(x: u64): u64 {
  const y = ip(x);
  let l = <u32>(y >> 32);
  let r = <u32>y;
  let ks = SCHEDULE;
  for (let d = 0; d < 3; d++) {
    for (let i = 0; i < 8; i++) {
      l ^= f(r, load<u64>(ks));
      r ^= f(l, load<u64>(ks, 8));
      ks += 16;
    }
    const t = l;
    l = r;
    r = t;
  }
  return fp((<u64>l << 32) | <u64>r);
}

/**
 * Two independent TDEA blocks (ECB) at `p` and `p + 8`, in place, their
 * rounds interleaved so that the CPU overlaps the two dependency chains.
 */
function block2(p: usize): void {
  const x = ip(loadBe64(p));
  const y = ip(loadBe64(p + 8));
  let l = <u32>(x >> 32);
  let r = <u32>x;
  let l2 = <u32>(y >> 32);
  let r2 = <u32>y;
  let ks = SCHEDULE;
  for (let d = 0; d < 3; d++) {
    for (let i = 0; i < 8; i++) {
      const k0 = load<u64>(ks);
      const k1 = load<u64>(ks, 8);
      l ^= f(r, k0);
      l2 ^= f(r2, k0);
      r ^= f(l, k1);
      r2 ^= f(l2, k1);
      ks += 16;
    }
    const t = l;
    l = r;
    r = t;
    const t2 = l2;
    l2 = r2;
    r2 = t2;
  }
  storeBe64(p, fp((<u64>l << 32) | <u64>r));
  storeBe64(p + 8, fp((<u64>l2 << 32) | <u64>r2));
}

// ---- entry points ---------------------------------------------------------------------------------

/**
 * TDEA ECB over `len` bytes of IO, in place.
 * @param keyLen 16 (2-key) or 24 (3-key), key in KEY
 * @param len a multiple of 8, at most IO_SIZE
 * @param decrypt 0 to encrypt, 1 to decrypt
 */
export function tdesEcb(keyLen: i32, len: i32, decrypt: i32): void {
  tdesSchedule(keyLen, decrypt != 0);
  let off = 0;
  for (; off + 16 <= len; off += 16) block2(IO + <usize>off);
  if (off < len) storeBe64(IO + <usize>off, block(loadBe64(IO + <usize>off)));
  wipe(SCHEDULE, 48 * 8);
}

/**
 * TDEA CBC over `len` bytes of IO, in place; the IV is read from IV and the
 * last ciphertext block written back to IV, so a long input can be processed
 * in consecutive calls.
 * @param keyLen 16 or 24, key in KEY
 * @param len a multiple of 8, at most IO_SIZE
 * @param decrypt 0 to encrypt, 1 to decrypt
 */
export function tdesCbc(keyLen: i32, len: i32, decrypt: i32): void {
  tdesSchedule(keyLen, decrypt != 0);
  let chain = loadBe64(IV);
  if (decrypt != 0) {
    // decryption of each block is independent: two at a time, chained afterwards
    let off = 0;
    for (; off + 16 <= len; off += 16) {
      const p = IO + <usize>off;
      const c1 = loadBe64(p);
      const c2 = loadBe64(p + 8);
      block2(p);
      storeBe64(p, loadBe64(p) ^ chain);
      storeBe64(p + 8, loadBe64(p + 8) ^ c1);
      chain = c2;
    }
    if (off < len) {
      const p = IO + <usize>off;
      const c = loadBe64(p);
      storeBe64(p, block(c) ^ chain);
      chain = c;
    }
  } else {
    for (let off = 0; off < len; off += 8) {
      const p = IO + <usize>off;
      chain = block(loadBe64(p) ^ chain);
      storeBe64(p, chain);
    }
  }
  storeBe64(IV, chain);
  wipe(SCHEDULE, 48 * 8);
}
