/**
 * SHA-256 (FIPS 180-4, section 6.2), one-shot or incremental over the IO
 * buffer. The state and the partial-block buffer are fixed static memory and
 * the message schedule lives in locals: nothing allocates.
 *
 * Entry points: `sha256(len)` hashes IO[0..len) in one call (the hot path for
 * short inputs); `sha256Init()`, `sha256Update(len)` (any number of times,
 * each with up to IO_SIZE bytes of IO) and `sha256Final()` hash longer
 * inputs in chunks. The digest is written to DIGEST. `sha256Wipe()` zeroes
 * the state and the pending block (the schedule lives in locals).
 */
import { H256, K256 } from "./const";
import { loadBe32, storeBe32, wipe } from "./common";
import { DIGEST, IO } from "./buffers";

const H: usize = memory.data(32, 16); // 8 x u32 state
const PENDING: usize = memory.data(64, 16); // partial block
let pendingLen: i32 = 0;
let totalLen: u64 = 0;

/**
 * Compresses one 64-byte block at `p` into H. The message schedule lives in
 * sixteen locals updated in place (W[t] overwrites W[t - 16]); the 64 rounds
 * run as four passes of 16, each unrolled so that round j uses the working
 * variables rotated j places and nothing is moved.
 */
function compress(p: usize): void {
  let w0 = loadBe32(p + 0);
  let w1 = loadBe32(p + 4);
  let w2 = loadBe32(p + 8);
  let w3 = loadBe32(p + 12);
  let w4 = loadBe32(p + 16);
  let w5 = loadBe32(p + 20);
  let w6 = loadBe32(p + 24);
  let w7 = loadBe32(p + 28);
  let w8 = loadBe32(p + 32);
  let w9 = loadBe32(p + 36);
  let w10 = loadBe32(p + 40);
  let w11 = loadBe32(p + 44);
  let w12 = loadBe32(p + 48);
  let w13 = loadBe32(p + 52);
  let w14 = loadBe32(p + 56);
  let w15 = loadBe32(p + 60);
  let a = load<u32>(H, 0);
  let b = load<u32>(H, 4);
  let c = load<u32>(H, 8);
  let d = load<u32>(H, 12);
  let e = load<u32>(H, 16);
  let f = load<u32>(H, 20);
  let g = load<u32>(H, 24);
  let h = load<u32>(H, 28);
  for (let i = 0; i < 64; i += 16) {
    if (i > 0) {
      w0 += (rotr<u32>(w14, 17) ^ rotr<u32>(w14, 19) ^ (w14 >>> 10)) + w9 +
        (rotr<u32>(w1, 7) ^ rotr<u32>(w1, 18) ^ (w1 >>> 3));
      w1 += (rotr<u32>(w15, 17) ^ rotr<u32>(w15, 19) ^ (w15 >>> 10)) + w10 +
        (rotr<u32>(w2, 7) ^ rotr<u32>(w2, 18) ^ (w2 >>> 3));
      w2 += (rotr<u32>(w0, 17) ^ rotr<u32>(w0, 19) ^ (w0 >>> 10)) + w11 +
        (rotr<u32>(w3, 7) ^ rotr<u32>(w3, 18) ^ (w3 >>> 3));
      w3 += (rotr<u32>(w1, 17) ^ rotr<u32>(w1, 19) ^ (w1 >>> 10)) + w12 +
        (rotr<u32>(w4, 7) ^ rotr<u32>(w4, 18) ^ (w4 >>> 3));
      w4 += (rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10)) + w13 +
        (rotr<u32>(w5, 7) ^ rotr<u32>(w5, 18) ^ (w5 >>> 3));
      w5 += (rotr<u32>(w3, 17) ^ rotr<u32>(w3, 19) ^ (w3 >>> 10)) + w14 +
        (rotr<u32>(w6, 7) ^ rotr<u32>(w6, 18) ^ (w6 >>> 3));
      w6 += (rotr<u32>(w4, 17) ^ rotr<u32>(w4, 19) ^ (w4 >>> 10)) + w15 +
        (rotr<u32>(w7, 7) ^ rotr<u32>(w7, 18) ^ (w7 >>> 3));
      w7 += (rotr<u32>(w5, 17) ^ rotr<u32>(w5, 19) ^ (w5 >>> 10)) + w0 +
        (rotr<u32>(w8, 7) ^ rotr<u32>(w8, 18) ^ (w8 >>> 3));
      w8 += (rotr<u32>(w6, 17) ^ rotr<u32>(w6, 19) ^ (w6 >>> 10)) + w1 +
        (rotr<u32>(w9, 7) ^ rotr<u32>(w9, 18) ^ (w9 >>> 3));
      w9 += (rotr<u32>(w7, 17) ^ rotr<u32>(w7, 19) ^ (w7 >>> 10)) + w2 +
        (rotr<u32>(w10, 7) ^ rotr<u32>(w10, 18) ^ (w10 >>> 3));
      w10 += (rotr<u32>(w8, 17) ^ rotr<u32>(w8, 19) ^ (w8 >>> 10)) + w3 +
        (rotr<u32>(w11, 7) ^ rotr<u32>(w11, 18) ^ (w11 >>> 3));
      w11 += (rotr<u32>(w9, 17) ^ rotr<u32>(w9, 19) ^ (w9 >>> 10)) + w4 +
        (rotr<u32>(w12, 7) ^ rotr<u32>(w12, 18) ^ (w12 >>> 3));
      w12 += (rotr<u32>(w10, 17) ^ rotr<u32>(w10, 19) ^ (w10 >>> 10)) + w5 +
        (rotr<u32>(w13, 7) ^ rotr<u32>(w13, 18) ^ (w13 >>> 3));
      w13 += (rotr<u32>(w11, 17) ^ rotr<u32>(w11, 19) ^ (w11 >>> 10)) + w6 +
        (rotr<u32>(w14, 7) ^ rotr<u32>(w14, 18) ^ (w14 >>> 3));
      w14 += (rotr<u32>(w12, 17) ^ rotr<u32>(w12, 19) ^ (w12 >>> 10)) + w7 +
        (rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3));
      w15 += (rotr<u32>(w13, 17) ^ rotr<u32>(w13, 19) ^ (w13 >>> 10)) + w8 +
        (rotr<u32>(w0, 7) ^ rotr<u32>(w0, 18) ^ (w0 >>> 3));
    }
    const kp = K256 + (<usize>i << 2);
    h += (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + (g ^ (e & (f ^ g))) +
      load<u32>(kp, 0) + w0;
    d += h;
    h += (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) | (c & (a | b)));
    g += (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25)) + (f ^ (d & (e ^ f))) +
      load<u32>(kp, 4) + w1;
    c += g;
    g += (rotr<u32>(h, 2) ^ rotr<u32>(h, 13) ^ rotr<u32>(h, 22)) + ((h & a) | (b & (h | a)));
    f += (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25)) + (e ^ (c & (d ^ e))) +
      load<u32>(kp, 8) + w2;
    b += f;
    f += (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22)) + ((g & h) | (a & (g | h)));
    e += (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25)) + (d ^ (b & (c ^ d))) +
      load<u32>(kp, 12) + w3;
    a += e;
    e += (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22)) + ((f & g) | (h & (f | g)));
    d += (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25)) + (c ^ (a & (b ^ c))) +
      load<u32>(kp, 16) + w4;
    h += d;
    d += (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22)) + ((e & f) | (g & (e | f)));
    c += (rotr<u32>(h, 6) ^ rotr<u32>(h, 11) ^ rotr<u32>(h, 25)) + (b ^ (h & (a ^ b))) +
      load<u32>(kp, 20) + w5;
    g += c;
    c += (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22)) + ((d & e) | (f & (d | e)));
    b += (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25)) + (a ^ (g & (h ^ a))) +
      load<u32>(kp, 24) + w6;
    f += b;
    b += (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22)) + ((c & d) | (e & (c | d)));
    a += (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25)) + (h ^ (f & (g ^ h))) +
      load<u32>(kp, 28) + w7;
    e += a;
    a += (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22)) + ((b & c) | (d & (b | c)));
    h += (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + (g ^ (e & (f ^ g))) +
      load<u32>(kp, 32) + w8;
    d += h;
    h += (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) | (c & (a | b)));
    g += (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25)) + (f ^ (d & (e ^ f))) +
      load<u32>(kp, 36) + w9;
    c += g;
    g += (rotr<u32>(h, 2) ^ rotr<u32>(h, 13) ^ rotr<u32>(h, 22)) + ((h & a) | (b & (h | a)));
    f += (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25)) + (e ^ (c & (d ^ e))) +
      load<u32>(kp, 40) + w10;
    b += f;
    f += (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22)) + ((g & h) | (a & (g | h)));
    e += (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25)) + (d ^ (b & (c ^ d))) +
      load<u32>(kp, 44) + w11;
    a += e;
    e += (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22)) + ((f & g) | (h & (f | g)));
    d += (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25)) + (c ^ (a & (b ^ c))) +
      load<u32>(kp, 48) + w12;
    h += d;
    d += (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22)) + ((e & f) | (g & (e | f)));
    c += (rotr<u32>(h, 6) ^ rotr<u32>(h, 11) ^ rotr<u32>(h, 25)) + (b ^ (h & (a ^ b))) +
      load<u32>(kp, 52) + w13;
    g += c;
    c += (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22)) + ((d & e) | (f & (d | e)));
    b += (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25)) + (a ^ (g & (h ^ a))) +
      load<u32>(kp, 56) + w14;
    f += b;
    b += (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22)) + ((c & d) | (e & (c | d)));
    a += (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25)) + (h ^ (f & (g ^ h))) +
      load<u32>(kp, 60) + w15;
    e += a;
    a += (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22)) + ((b & c) | (d & (b | c)));
  }
  store<u32>(H, load<u32>(H, 0) + a, 0);
  store<u32>(H, load<u32>(H, 4) + b, 4);
  store<u32>(H, load<u32>(H, 8) + c, 8);
  store<u32>(H, load<u32>(H, 12) + d, 12);
  store<u32>(H, load<u32>(H, 16) + e, 16);
  store<u32>(H, load<u32>(H, 20) + f, 20);
  store<u32>(H, load<u32>(H, 24) + g, 24);
  store<u32>(H, load<u32>(H, 28) + h, 28);
}

/** Starts a new hash. */
export function sha256Init(): void {
  memory.copy(H, H256, 32);
  pendingLen = 0;
  totalLen = 0;
}

/** Absorbs IO[0..len). */
export function sha256Update(len: i32): void {
  totalLen += <u64>len;
  let off = 0;
  if (pendingLen > 0) {
    const take = min(64 - pendingLen, len);
    memory.copy(PENDING + <usize>pendingLen, IO, <usize>take);
    pendingLen += take;
    off = take;
    if (pendingLen < 64) return;
    compress(PENDING);
    pendingLen = 0;
  }
  while (len - off >= 64) {
    compress(IO + <usize>off);
    off += 64;
  }
  if (off < len) {
    memory.copy(PENDING, IO + <usize>off, <usize>(len - off));
    pendingLen = len - off;
  }
}

/** Pads, compresses the last block(s) and writes the 32-byte digest to DIGEST. */
export function sha256Final(): void {
  const bits = totalLen << 3;
  store<u8>(PENDING + <usize>pendingLen, 0x80);
  pendingLen++;
  if (pendingLen > 56) {
    wipe(PENDING + <usize>pendingLen, <usize>(64 - pendingLen));
    compress(PENDING);
    pendingLen = 0;
  }
  wipe(PENDING + <usize>pendingLen, <usize>(56 - pendingLen));
  storeBe32(PENDING + 56, <u32>(bits >> 32));
  storeBe32(PENDING + 60, <u32>bits);
  compress(PENDING);
  for (let i = 0; i < 8; i++) storeBe32(DIGEST + (<usize>i << 2), load<u32>(H + (<usize>i << 2)));
  sha256Wipe();
}

/** SHA-256 of IO[0..len) into DIGEST, in one call; then zeroes IO[0..len). */
export function sha256(len: i32): void {
  sha256Init();
  sha256Update(len);
  sha256Final();
  wipe(IO, <usize>len);
}

/** Zeroes the state and the pending block. */
export function sha256Wipe(): void {
  wipe(H, 32);
  wipe(PENDING, 64);
  pendingLen = 0;
  totalLen = 0;
}
