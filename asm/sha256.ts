/**
 * SHA-256 (FIPS 180-4, section 6.2), one-shot or incremental over the IO
 * buffer. The state, the message schedule W and the partial-block buffer are
 * fixed static memory: nothing allocates.
 *
 * Entry points: `sha256(len)` hashes IO[0..len) in one call (the hot path for
 * short inputs); `sha256Init()`, `sha256Update(len)` (any number of times,
 * each with up to IO_SIZE bytes of IO) and `sha256Final()` hash longer
 * inputs in chunks. The digest is written to DIGEST. `sha256Wipe()` zeroes
 * the state, schedule and pending block.
 */
import { H256, K256 } from "./const";
import { loadBe32, storeBe32, wipe } from "./common";
import { DIGEST, IO } from "./buffers";

const H: usize = memory.data(32, 16); // 8 x u32 state
const W: usize = memory.data(64 * 4, 16); // message schedule
const PENDING: usize = memory.data(64, 16); // partial block
let pendingLen: i32 = 0;
let totalLen: u64 = 0;

// @ts-ignore: decorator
@inline function w(i: i32): u32 {
  return load<u32>(W + (<usize>i << 2));
}

/** Compresses one 64-byte block at `p` into H. */
function compress(p: usize): void {
  for (let i = 0; i < 16; i++) store<u32>(W + (<usize>i << 2), loadBe32(p + (<usize>i << 2)));
  for (let i = 16; i < 64; i++) {
    const x = w(i - 15);
    const y = w(i - 2);
    const s0 = rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >> 3);
    const s1 = rotr<u32>(y, 17) ^ rotr<u32>(y, 19) ^ (y >> 10);
    store<u32>(W + (<usize>i << 2), w(i - 16) + s0 + w(i - 7) + s1);
  }
  let a = load<u32>(H, 0);
  let b = load<u32>(H, 4);
  let c = load<u32>(H, 8);
  let d = load<u32>(H, 12);
  let e = load<u32>(H, 16);
  let f = load<u32>(H, 20);
  let g = load<u32>(H, 24);
  let h = load<u32>(H, 28);
  for (let i = 0; i < 64; i++) {
    const t1 = h + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g)) +
      load<u32>(K256 + (<usize>i << 2)) + w(i);
    const t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) +
      ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
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
  pendingLen = 0;
}

/** SHA-256 of IO[0..len) into DIGEST, in one call. */
export function sha256(len: i32): void {
  sha256Init();
  sha256Update(len);
  sha256Final();
}

/** Zeroes the state, the schedule and the pending block. */
export function sha256Wipe(): void {
  wipe(H, 32);
  wipe(W, 64 * 4);
  wipe(PENDING, 64);
  pendingLen = 0;
  totalLen = 0;
}
