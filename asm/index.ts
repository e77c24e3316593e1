/**
 * The TMK crypto core, compiled to WebAssembly: TDEA (SP 800-67), AES
 * (FIPS 197), SHA-1 and SHA-256 (FIPS 180-4), Montgomery modular
 * exponentiation and the RSA CRT private operation (RFC 8017).
 *
 * AES is here for the AES-256 LMK's TR-31 version D blocks, two per issued
 * TMK and the largest cost of bulk issuance: a constant-time AES in the
 * core, its key schedule zeroed after each call, runs in every runtime the
 * core runs in (node:crypto has no browser form). Figures in
 * bench/README.md.
 *
 * Built twice (scripts/build_wasm.ts): with wasm SIMD, and with relaxed SIMD
 * too, where the RSA CRT private operation runs both halves at once on the
 * paired f64 kernels of pair_kernels.ts (`pairFused` tells the loader whether
 * this runtime fuses their multiply-add).
 *
 * Also the bulk TMK issuance kernel (issue.ts): a terminal's whole TR-31
 * issuance in one call, with its own fixed region, for the software HSM's
 * batches (`src/core/tmk_issuance.ts`).
 *
 * The ABI is fixed buffers plus `fn(len...)` entry points: JS reads the
 * buffer addresses once (`ioPtr()` and friends), copies inputs in, calls an
 * entry point and copies the result out. See buffers.ts for the layout.
 */
import { AES_IV, AES_KEY, BN, BN_OUT, BN_SLOT_SIZE, DIGEST, IO, IO_SIZE, IV, KEY } from "./buffers";

export { tdesCbc, tdesEcb } from "./tdes";
export { aesCbc, aesEcb } from "./aes";
export { sha1, sha1Final, sha1Init, sha1Update, sha1Wipe } from "./sha1";
export { sha256, sha256Final, sha256Init, sha256Update, sha256Wipe } from "./sha256";
export { bnWipe, modPow, modPowPublic } from "./modexp";
export { rsaPrivate } from "./rsa";
export { pairFused } from "./pair_kernels";
export {
  issueBegin,
  issueEnd,
  issuePtr,
  issueReservePtr,
  issueReserveSlots,
  issueTmk,
  issueWipeOutputs,
} from "./issue";

/** Address of the IO buffer. */
export function ioPtr(): usize {
  return IO;
}
/** Size of the IO buffer in bytes. */
export function ioSize(): i32 {
  return IO_SIZE;
}
/** Address of the 24-byte TDES key buffer. */
export function keyPtr(): usize {
  return KEY;
}
/** Address of the 8-byte CBC chaining buffer. */
export function ivPtr(): usize {
  return IV;
}
/** Address of the 32-byte AES key buffer. */
export function aesKeyPtr(): usize {
  return AES_KEY;
}
/** Address of the 16-byte AES CBC chaining buffer. */
export function aesIvPtr(): usize {
  return AES_IV;
}
/** Address of the 32-byte digest buffer. */
export function digestPtr(): usize {
  return DIGEST;
}
/** Address of big-number input slot 0 (slots are contiguous, `bnSlotSize()` bytes apart). */
export function bnPtr(): usize {
  return BN;
}
/** Size of one big-number input slot. */
export function bnSlotSize(): i32 {
  return BN_SLOT_SIZE;
}
/** Address of the big-number output buffer (2 KiB). */
export function bnOutPtr(): usize {
  return BN_OUT;
}
