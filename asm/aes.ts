/**
 * AES (FIPS 197) encryption and decryption of 16-byte blocks in ECB and CBC
 * mode (SP 800-38A), AES-128, AES-192 and AES-256.
 *
 * Constant time, with no table lookup indexed by secret data. The state is
 * one v128 (WebAssembly SIMD), the 16 bytes in FIPS 197 order (byte r + 4c is
 * row r, column c). SubBytes reads the whole 256-byte S-box for every state:
 * the table is sixteen 16-byte rows at fixed addresses, each row loaded into
 * a register and indexed with `i8x16.swizzle` by `state - 16 * row`; lanes
 * whose byte is not in that row get an out-of-range index and so zero, and
 * the sixteen results are ORed. The only secret-dependent operation is the
 * in-register byte shuffle (x86 `pshufb`, ARM `tbl`), whose time does not
 * depend on its indices; no memory address depends on a key or data byte,
 * so there is no cache-timing channel (the same argument as M. Hamburg's
 * vector-permute AES, CHES 2009). ShiftRows is a constant shuffle,
 * MixColumns is xtime (shift, sign mask, XOR) on rotated copies of the
 * state, InvMixColumns is MixColumns after a multiply by 04x^2 + 05 (the
 * factorisation d(x) = c(x)(04x^2 + 05) mod x^4 + 1 of FIPS 197 5.3.3).
 *
 * A bitsliced design (BearSSL aes_ct / aes_ct64) is the other constant-time
 * option; it pays off when many independent blocks run at once, while the
 * key blocks of this project mostly run one to three dependent blocks (CBC
 * encryption, CMAC), where the SIMD scan does one state for the price of one.
 *
 * The S-box and its inverse are computed once at instantiation from their
 * definition (FIPS 197 5.1.1: inverse in GF(2^8), then the affine map), not
 * typed in. The key schedule (FIPS 197 5.2) runs on every call into a fixed
 * 240-byte buffer that is zeroed before the call returns; no key is cached
 * and nothing allocates.
 */
import { AES_IV, AES_KEY, IO } from "./buffers";
import { wipe } from "./common";

/** The S-box and the inverse S-box, 16 rows of 16 bytes each. */
const SBOX: usize = memory.data(256, 16);
const INV_SBOX: usize = memory.data(256, 16);
/** Round keys: up to 15 (AES-256) of 16 bytes, in FIPS 197 byte order. */
export const RK: usize = memory.data(240, 16);

// ---- table derivation (runs once, at instantiation, on public values) ----------------------------

/** Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (FIPS 197 4.2). */
function gmul(a: u32, b: u32): u32 {
  let p: u32 = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    a = ((a << 1) ^ ((a >> 7) * 0x1b)) & 0xff;
    b >>= 1;
  }
  return p;
}

function buildSbox(): void {
  for (let x: u32 = 0; x < 256; x++) {
    // x^254 is the inverse of x (and 0 for 0)
    let inv: u32 = 1;
    for (let i = 0; i < 254; i++) inv = gmul(inv, x);
    if (x == 0) inv = 0;
    let s = inv;
    for (let k: u32 = 1; k <= 4; k++) s ^= ((inv << k) | (inv >> (8 - k))) & 0xff;
    s ^= 0x63;
    store<u8>(SBOX + <usize>x, <u8>s);
    store<u8>(INV_SBOX + <usize>s, <u8>x);
  }
}
buildSbox();

// ---- round functions ----------------------------------------------------------------------------

/** Every byte of `s` through the 256-byte table at `table`, reading all of it. */
// @ts-ignore: decorator
@inline function subBytes(s: v128, table: usize): v128 {
  const step = i8x16.splat(16);
  let idx = s;
  let r = i8x16.swizzle(v128.load(table), idx);
  for (let row: usize = 1; row < 16; row++) {
    idx = i8x16.sub(idx, step);
    r = v128.or(r, i8x16.swizzle(v128.load(table + (row << 4)), idx));
  }
  return r;
}

/** Multiplication by x (02) of every byte: x + x, and 1B where the top bit was set (no branch). */
// @ts-ignore: decorator
@inline function xtime(x: v128): v128 {
  const top = i8x16.lt_s(x, i8x16.splat(0)); // all ones where the byte's top bit is set
  return v128.xor(i8x16.add(x, x), v128.and(top, i8x16.splat(0x1b)));
}

/** Byte r + 4c of the result is byte ((r + 1) mod 4) + 4c of `x`: each column rotated up by one. */
// @ts-ignore: decorator
@inline function rot1(x: v128): v128 {
  return i8x16.shuffle(x, x, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
}

// @ts-ignore: decorator
@inline function rot2(x: v128): v128 {
  return i8x16.shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}

// @ts-ignore: decorator
@inline function rot3(x: v128): v128 {
  return i8x16.shuffle(x, x, 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
}

/** ShiftRows (FIPS 197 5.1.2): row r moves r columns to the left. */
// @ts-ignore: decorator
@inline function shiftRows(x: v128): v128 {
  return i8x16.shuffle(x, x, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
}

/** InvShiftRows (FIPS 197 5.3.1): row r moves r columns to the right. */
// @ts-ignore: decorator
@inline function invShiftRows(x: v128): v128 {
  return i8x16.shuffle(x, x, 0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3);
}

/** MixColumns (FIPS 197 5.1.3): b_r = 02 a_r + 03 a_(r+1) + a_(r+2) + a_(r+3). */
// @ts-ignore: decorator
@inline function mixColumns(a: v128): v128 {
  const a1 = rot1(a);
  return v128.xor(v128.xor(xtime(v128.xor(a, a1)), a1), v128.xor(rot2(a), rot3(a)));
}

/** InvMixColumns (FIPS 197 5.3.3) as MixColumns of a_r + 04 (a_r + a_(r+2)). */
// @ts-ignore: decorator
@inline function invMixColumns(a: v128): v128 {
  const t = xtime(xtime(v128.xor(a, rot2(a))));
  return mixColumns(v128.xor(a, t));
}

// @ts-ignore: decorator
@inline function roundKey(i: i32): v128 {
  return v128.load(RK + (<usize>i << 4));
}

/** FIPS 197 5.1 Cipher. */
export function encryptBlock(x: v128, rounds: i32): v128 {
  let s = v128.xor(x, roundKey(0));
  for (let r = 1; r < rounds; r++) {
    s = v128.xor(mixColumns(shiftRows(subBytes(s, SBOX))), roundKey(r));
  }
  return v128.xor(shiftRows(subBytes(s, SBOX)), roundKey(rounds));
}

/** FIPS 197 5.3 InvCipher. */
export function decryptBlock(x: v128, rounds: i32): v128 {
  let s = v128.xor(x, roundKey(rounds));
  for (let r = rounds - 1; r > 0; r--) {
    s = invMixColumns(v128.xor(subBytes(invShiftRows(s), INV_SBOX), roundKey(r)));
  }
  return v128.xor(subBytes(invShiftRows(s), INV_SBOX), roundKey(0));
}

// ---- key schedule -------------------------------------------------------------------------------

/** SubWord (FIPS 197 5.2) of a word held as 4 bytes in memory order (little-endian u32). */
// @ts-ignore: decorator
@inline function subWord(w: u32): u32 {
  return i32x4.extract_lane(subBytes(i32x4.splat(<i32>w), SBOX), 0);
}

/**
 * KeyExpansion (FIPS 197 5.2) of the `keyLen`-byte key in AES_KEY into RK.
 * @returns the number of rounds (10, 12 or 14)
 */
export function expandKey(keyLen: i32): i32 {
  const nk = keyLen >> 2;
  const rounds = nk + 6;
  const words = 4 * (rounds + 1);
  memory.copy(RK, AES_KEY, <usize>keyLen);
  let rcon: u32 = 1;
  let prev = load<u32>(RK + <usize>((nk - 1) << 2));
  for (let i = nk; i < words; i++) {
    const m = i % nk;
    if (m == 0) {
      // RotWord: bytes [a0 a1 a2 a3] -> [a1 a2 a3 a0], a rotation right by 8 in little-endian
      prev = subWord(rotr<u32>(prev, 8)) ^ rcon;
      rcon = ((rcon << 1) ^ ((rcon >> 7) * 0x1b)) & 0xff;
    } else if (nk > 6 && m == 4) {
      prev = subWord(prev);
    }
    prev ^= load<u32>(RK + <usize>((i - nk) << 2));
    store<u32>(RK + <usize>(i << 2), prev);
  }
  return rounds;
}

// ---- entry points -------------------------------------------------------------------------------

/**
 * AES-ECB over `len` bytes of IO, in place.
 * @param keyLen 16, 24 or 32, key in AES_KEY
 * @param len a multiple of 16, at most IO_SIZE
 * @param decrypt 0 to encrypt, 1 to decrypt
 */
export function aesEcb(keyLen: i32, len: i32, decrypt: i32): void {
  const rounds = expandKey(keyLen);
  if (decrypt != 0) {
    for (let off = 0; off < len; off += 16) {
      const p = IO + <usize>off;
      v128.store(p, decryptBlock(v128.load(p), rounds));
    }
  } else {
    for (let off = 0; off < len; off += 16) {
      const p = IO + <usize>off;
      v128.store(p, encryptBlock(v128.load(p), rounds));
    }
  }
  wipe(RK, 240);
}

/**
 * AES-CBC over `len` bytes of IO, in place; the IV is read from AES_IV and the
 * last ciphertext block written back to it, so a long input can be processed
 * in consecutive calls.
 * @param keyLen 16, 24 or 32, key in AES_KEY
 * @param len a multiple of 16, at most IO_SIZE
 * @param decrypt 0 to encrypt, 1 to decrypt
 */
export function aesCbc(keyLen: i32, len: i32, decrypt: i32): void {
  const rounds = expandKey(keyLen);
  let chain = v128.load(AES_IV);
  if (decrypt != 0) {
    for (let off = 0; off < len; off += 16) {
      const p = IO + <usize>off;
      const c = v128.load(p);
      v128.store(p, v128.xor(decryptBlock(c, rounds), chain));
      chain = c;
    }
  } else {
    for (let off = 0; off < len; off += 16) {
      const p = IO + <usize>off;
      chain = encryptBlock(v128.xor(v128.load(p), chain), rounds);
      v128.store(p, chain);
    }
  }
  v128.store(AES_IV, chain);
  wipe(RK, 240);
}
