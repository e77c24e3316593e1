/**
 * SHA-1 (FIPS 180-4, section 6.1). Legacy: kept for RSA-OAEP with SHA-1 and
 * interoperability only. Same ABI as sha256.ts: `sha1(len)` one-shot over
 * IO, or `sha1Init` / `sha1Update(len)` / `sha1Final`; digest (20 bytes) to
 * DIGEST. Static state only; nothing allocates.
 */
import { H160, K160_0, K160_1, K160_2, K160_3 } from "./const";
import { loadBe32, storeBe32, wipe } from "./common";
import { DIGEST, IO } from "./buffers";

const H: usize = memory.data(20, 16);
const W: usize = memory.data(80 * 4, 16);
const PENDING: usize = memory.data(64, 16);
let pendingLen: i32 = 0;
let totalLen: u64 = 0;

// @ts-ignore: decorator
@inline function w(i: i32): u32 {
  return load<u32>(W + (<usize>i << 2));
}

function compress(p: usize): void {
  for (let i = 0; i < 16; i++) store<u32>(W + (<usize>i << 2), loadBe32(p + (<usize>i << 2)));
  for (let i = 16; i < 80; i++) {
    store<u32>(W + (<usize>i << 2), rotl<u32>(w(i - 3) ^ w(i - 8) ^ w(i - 14) ^ w(i - 16), 1));
  }
  let a = load<u32>(H, 0);
  let b = load<u32>(H, 4);
  let c = load<u32>(H, 8);
  let d = load<u32>(H, 12);
  let e = load<u32>(H, 16);
  for (let i = 0; i < 20; i++) {
    const t = rotl<u32>(a, 5) + ((b & c) | (~b & d)) + e + K160_0 + w(i);
    e = d;
    d = c;
    c = rotl<u32>(b, 30);
    b = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    const t = rotl<u32>(a, 5) + (b ^ c ^ d) + e + K160_1 + w(i);
    e = d;
    d = c;
    c = rotl<u32>(b, 30);
    b = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    const t = rotl<u32>(a, 5) + ((b & c) | (b & d) | (c & d)) + e + K160_2 + w(i);
    e = d;
    d = c;
    c = rotl<u32>(b, 30);
    b = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    const t = rotl<u32>(a, 5) + (b ^ c ^ d) + e + K160_3 + w(i);
    e = d;
    d = c;
    c = rotl<u32>(b, 30);
    b = a;
    a = t;
  }
  store<u32>(H, load<u32>(H, 0) + a, 0);
  store<u32>(H, load<u32>(H, 4) + b, 4);
  store<u32>(H, load<u32>(H, 8) + c, 8);
  store<u32>(H, load<u32>(H, 12) + d, 12);
  store<u32>(H, load<u32>(H, 16) + e, 16);
}

/** Starts a new hash. */
export function sha1Init(): void {
  memory.copy(H, H160, 20);
  pendingLen = 0;
  totalLen = 0;
}

/** Absorbs IO[0..len). */
export function sha1Update(len: i32): void {
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

/** Pads and writes the 20-byte digest to DIGEST. */
export function sha1Final(): void {
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
  for (let i = 0; i < 5; i++) storeBe32(DIGEST + (<usize>i << 2), load<u32>(H + (<usize>i << 2)));
  sha1Wipe();
}

/** SHA-1 of IO[0..len) into DIGEST, in one call; then zeroes IO[0..len). */
export function sha1(len: i32): void {
  sha1Init();
  sha1Update(len);
  sha1Final();
  wipe(IO, <usize>len);
}

/** Zeroes the state, the schedule and the pending block. */
export function sha1Wipe(): void {
  wipe(H, 20);
  wipe(W, 80 * 4);
  wipe(PENDING, 64);
  pendingLen = 0;
  totalLen = 0;
}
