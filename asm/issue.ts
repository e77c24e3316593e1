/**
 * Bulk TMK issuance (flow A S15) in one call per terminal: the TK's TR-31
 * version D block under the AES-256 LMK opened and checked, the TK's SHA-256
 * checked, a fresh TMK wrapped under the TK as a TR-31 version B block (ANSI
 * X9.143:2021 7.2.1: TDES CMAC key derivation, TDES-CMAC, TDES-CBC) and under
 * the LMK as version D (7.2.2: AES-CMAC, AES-CBC), and its KCV (TDES-ECB of a
 * zero block). The header checks stay with the caller, which hands over
 * only blocks whose header text it has checked; every cryptographic check of
 * the key block (MAC, key length) and the hash check are made here, and any
 * failure returns a code with nothing written out, so that the caller runs
 * its general path for that terminal and refuses exactly as it does.
 *
 * A batch: `issueBegin` takes the LMK's derived KBEK and KBAK (X9.143 7.2.2),
 * the KBAK's CMAC subkey K1, the CBC-MAC states of the LMK's KBAK over the
 * TK blocks' header and over the TMK blocks' D header (headers are whole
 * AES blocks, so the CMAC of header || payload continues from that state),
 * and the B header; it expands both AES key schedules once. Then one
 * `issueTmk` per terminal, then `issueEnd`, which zeroes the whole region
 * (the LMK's keys and schedules live here only between the two).
 *
 * Each call works on fixed offsets of one region, `ISSUE` (offsets below,
 * read by JS through `issuePtr()`): inputs are the TK block's ciphertext and
 * MAC, the expected hash, and 80 random bytes from a slot of the reserve
 * that JS fills from the platform CSPRNG (the TMK before parity, and the
 * random padding of its two payloads); outputs are the B block's ciphertext
 * and MAC, the D block's ciphertext and MAC, and the KCV. Every key, key
 * schedule, derived key and clear payload is zeroed before the call returns,
 * and so are the inputs. Constant time: no branch or address depends on a
 * key; the only branches are on the checks' outcomes, which are public.
 */
import { decryptBlock, encryptBlock, expandKey, RK } from "./aes";
import { AES_KEY, DIGEST, IO, KEY } from "./buffers";
import { loadBe64, storeBe64, wipe } from "./common";
import { sha256 } from "./sha256";
import { block, SCHEDULE, tdesSchedule } from "./tdes";

// Batch state (issueBegin .. issueEnd).
const LMK_E_RK: usize = 0; // 240: the LMK KBEK's AES-256 schedule
const LMK_M_RK: usize = 240; // 240: the LMK KBAK's schedule
const LMK_K1: usize = 480; // 16: the LMK KBAK's CMAC subkey K1
const TKH_STATE: usize = 496; // 16: CBC-MAC state over the TK blocks' header
const DH_STATE: usize = 512; // 16: CBC-MAC state over the D header
const BH: usize = 528; // 64: the B header (bhLen bytes, whole TDES blocks)
const LMK_E: usize = 592; // 32: the LMK KBEK (input of issueBegin)
const LMK_M: usize = 624; // 32: the LMK KBAK (input of issueBegin)
// Per terminal: inputs.
const TK_CT: usize = 656; // 32: the TK block's ciphertext
const TK_MAC: usize = 688; // 16: its MAC
const HASH: usize = 704; // 32: the expected SHA-256 of the TK
const RND: usize = 736; // 80: TMK (16), B padding (32), D padding (32)
// Per terminal: outputs.
const B_CT: usize = 816; // 32
const B_MAC: usize = 848; // 8
const D_CT: usize = 864; // 32
const D_MAC: usize = 896; // 16
const KCV: usize = 912; // 8
// Per terminal: scratch.
const PAY: usize = 928; // 32: a clear payload
const TK: usize = 960; // 24
const TMK: usize = 984; // 16
const KBEK: usize = 1000; // 24: the TK's derived KBEK
const KBAK: usize = 1024; // 24: the TK's derived KBAK
const ISSUE_SIZE: i32 = 1056;

const ISSUE: usize = memory.data(ISSUE_SIZE, 16);
/** Random bytes for RESERVE_SLOTS terminals, 80 each, filled by JS; each slot is zeroed once used. */
const RESERVE_SLOTS: i32 = 64;
const RESERVE: usize = memory.data(RESERVE_SLOTS * 80, 16);
const AES256_ROUNDS = 14;

/** Address of the issuance region. */
export function issuePtr(): usize {
  return ISSUE;
}

/** Address of the random reserve (`issueReserveSlots()` slots of 80 bytes). */
export function issueReservePtr(): usize {
  return RESERVE;
}

/** Number of slots of the random reserve. */
export function issueReserveSlots(): i32 {
  return RESERVE_SLOTS;
}

/** Expands the LMK KBEK and KBAK (at LMK_E, LMK_M) into their schedules; zeroes the raw keys. */
export function issueBegin(): void {
  memory.copy(AES_KEY, ISSUE + LMK_E, 32);
  expandKey(32);
  memory.copy(ISSUE + LMK_E_RK, RK, 240);
  memory.copy(AES_KEY, ISSUE + LMK_M, 32);
  expandKey(32);
  memory.copy(ISSUE + LMK_M_RK, RK, 240);
  wipe(RK, 240);
  wipe(AES_KEY, 32);
  wipe(ISSUE + LMK_E, 64);
}

/** Zeroes the whole region: the LMK's schedules, subkey and states included. */
export function issueEnd(): void {
  wipe(ISSUE, <usize>ISSUE_SIZE);
  wipe(RESERVE, <usize>(RESERVE_SLOTS * 80));
}

/** CMAC subkey doubling in GF(2^64) (SP 800-38B 6.1, Rb = 0x1B), without a branch. */
// @ts-ignore: decorator
@inline function dbl64(l: u64): u64 {
  return (l << 1) ^ ((<u64>0 - (l >> 63)) & 0x1b);
}

/** TDES with the key at `key` (`len` bytes) scheduled for encryption. */
// @ts-ignore: decorator
@inline function tdesKey(key: usize, len: i32): void {
  memory.copy(KEY, key, <usize>len);
  tdesSchedule(len, false);
}

/**
 * The TK's KBEK and KBAK (X9.143:2021 7.2.1.1, the CMAC KDF with TDES): for
 * each, CMAC(TK, counter || usage || 00 || algorithm || length), one block
 * each, so E(M xor K1); the TK is scheduled once for K1 and every block.
 */
function deriveB(tkLen: i32): void {
  tdesKey(ISSUE + TK, tkLen);
  const k1 = dbl64(block(0));
  const algorithm: u64 = tkLen == 24 ? 1 : 0;
  const bits = <u64>(tkLen << 3);
  const perKey = tkLen >> 3;
  for (let i = 0; i < perKey; i++) {
    const m = (<u64>(i + 1) << 56) | (algorithm << 16) | bits;
    storeBe64(ISSUE + KBEK + <usize>(i << 3), block(m ^ k1)); // usage 0000: CBC encryption
    storeBe64(ISSUE + KBAK + <usize>(i << 3), block(m ^ (<u64>1 << 40) ^ k1)); // 0001: MAC
  }
}

/**
 * Writes `bits || key || padding` (X9.143 payload) at PAY: 16-byte key at
 * `key`, padding from `pad` (bytes 18..31 of a 32-byte random payload).
 */
function payload(key: usize, pad: usize): void {
  memory.copy(ISSUE + PAY, pad, 32);
  store<u8>(ISSUE + PAY, 0);
  store<u8>(ISSUE + PAY + 1, 128);
  memory.copy(ISSUE + PAY + 2, key, 16);
}

/** The TMK from its 16 random bytes: odd parity; 0 if degenerate (equal DES halves). */
function makeTmk(): i32 {
  let same: u32 = 0;
  for (let i = 0; i < 16; i++) {
    const b = <u32>load<u8>(ISSUE + RND + <usize>i) & 0xfe;
    store<u8>(ISSUE + TMK + <usize>i, <u8>(b | ((popcnt<u32>(b) & 1) ^ 1)));
  }
  for (let i = 0; i < 8; i++) {
    same |= (<u32>load<u8>(ISSUE + TMK + <usize>i) ^ <u32>load<u8>(ISSUE + TMK + 8 + <usize>i)) &
      0xfe;
  }
  return same != 0 ? 1 : 0;
}

/** The TK: its D block under the LMK decrypted and its CMAC checked; the key length in bytes, or 0. */
function openTk(): i32 {
  memory.copy(RK, ISSUE + LMK_E_RK, 240);
  const mac = v128.load(ISSUE + TK_MAC);
  const c0 = v128.load(ISSUE + TK_CT);
  const c1 = v128.load(ISSUE + TK_CT + 16);
  const p0 = v128.xor(decryptBlock(c0, AES256_ROUNDS), mac);
  const p1 = v128.xor(decryptBlock(c1, AES256_ROUNDS), c0);
  v128.store(ISSUE + PAY, p0);
  v128.store(ISSUE + PAY + 16, p1);
  memory.copy(RK, ISSUE + LMK_M_RK, 240);
  let s = encryptBlock(v128.xor(v128.load(ISSUE + TKH_STATE), p0), AES256_ROUNDS);
  s = encryptBlock(v128.xor(v128.xor(s, p1), v128.load(ISSUE + LMK_K1)), AES256_ROUNDS);
  const d = v128.xor(s, mac);
  const ok = (i64x2.extract_lane(d, 0) | i64x2.extract_lane(d, 1)) == 0;
  const bits = (<i32>load<u8>(ISSUE + PAY) << 8) | <i32>load<u8>(ISSUE + PAY + 1);
  const len = ok && (bits == 128 || bits == 192) ? bits >> 3 : 0;
  if (len != 0) memory.copy(ISSUE + TK, ISSUE + PAY + 2, <usize>len);
  return len;
}

/** Whether the SHA-256 of the TK equals HASH (compared in full). */
function hashMatches(tkLen: i32): bool {
  memory.copy(IO, ISSUE + TK, <usize>tkLen);
  sha256(tkLen); // zeroes IO[0..tkLen)
  let d: u64 = 0;
  for (let i = 0; i < 32; i += 8) {
    d |= load<u64>(DIGEST + <usize>i) ^ load<u64>(ISSUE + HASH + <usize>i);
  }
  wipe(DIGEST, 32);
  return d == 0;
}

/** The B block under the TK: TDES-CMAC over B header || payload, then TDES-CBC with the MAC as IV. */
function wrapB(tkLen: i32, bhLen: i32): void {
  deriveB(tkLen);
  payload(ISSUE + TMK, ISSUE + RND + 16);
  tdesKey(ISSUE + KBAK, tkLen);
  const k1 = dbl64(block(0));
  let chain: u64 = 0;
  for (let off = 0; off < bhLen; off += 8) chain = block(chain ^ loadBe64(ISSUE + BH + <usize>off));
  for (let off = 0; off < 32; off += 8) {
    const last = off == 24 ? k1 : 0;
    chain = block(chain ^ loadBe64(ISSUE + PAY + <usize>off) ^ last);
  }
  storeBe64(ISSUE + B_MAC, chain);
  tdesKey(ISSUE + KBEK, tkLen);
  for (let off = 0; off < 32; off += 8) {
    chain = block(chain ^ loadBe64(ISSUE + PAY + <usize>off));
    storeBe64(ISSUE + B_CT + <usize>off, chain);
  }
}

/** The D block under the LMK: AES-CMAC from the D header's state, then AES-CBC with the MAC as IV. */
function wrapD(): void {
  payload(ISSUE + TMK, ISSUE + RND + 48);
  const p0 = v128.load(ISSUE + PAY);
  const p1 = v128.load(ISSUE + PAY + 16);
  memory.copy(RK, ISSUE + LMK_M_RK, 240);
  let s = encryptBlock(v128.xor(v128.load(ISSUE + DH_STATE), p0), AES256_ROUNDS);
  s = encryptBlock(v128.xor(v128.xor(s, p1), v128.load(ISSUE + LMK_K1)), AES256_ROUNDS);
  v128.store(ISSUE + D_MAC, s);
  memory.copy(RK, ISSUE + LMK_E_RK, 240);
  const c0 = encryptBlock(v128.xor(p0, s), AES256_ROUNDS);
  v128.store(ISSUE + D_CT, c0);
  v128.store(ISSUE + D_CT + 16, encryptBlock(v128.xor(p1, c0), AES256_ROUNDS));
}

/**
 * One terminal. `bhLen` is the B header's length (whole TDES blocks, at
 * most 64); `checkHash` 1 to check the TK's SHA-256 against HASH; `slot`
 * the reserve slot whose random bytes this terminal takes (zeroed here).
 *
 * @returns 0 with the outputs written; 1 the TK block does not verify or
 *   its key is not a 16- or 24-byte key; 2 the hash differs; 3 the TMK is
 *   degenerate. Nothing is written out on a refusal.
 */
export function issueTmk(bhLen: i32, checkHash: i32, slot: i32): i32 {
  const rnd = RESERVE + <usize>(slot * 80);
  memory.copy(ISSUE + RND, rnd, 80);
  wipe(rnd, 80);
  let result = 0;
  const tkLen = openTk();
  if (tkLen == 0) result = 1;
  else if (checkHash != 0 && !hashMatches(tkLen)) result = 2;
  else if (makeTmk() == 0) result = 3;
  else {
    wrapB(tkLen, bhLen);
    tdesKey(ISSUE + TMK, 16);
    storeBe64(ISSUE + KCV, block(0));
    wrapD();
  }
  wipe(SCHEDULE, 48 * 8);
  wipe(KEY, 24);
  wipe(RK, 240);
  wipe(ISSUE + TK_CT, <usize>(B_CT - TK_CT)); // the inputs
  wipe(ISSUE + PAY, <usize>(ISSUE_SIZE - <i32>PAY)); // payload, TK, TMK, KBEK, KBAK
  return result;
}

/** Zeroes the outputs of the last terminal (once read). */
export function issueWipeOutputs(): void {
  wipe(ISSUE + B_CT, <usize>(PAY - B_CT));
}
