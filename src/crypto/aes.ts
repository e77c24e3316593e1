/**
 * AES (FIPS 197) block encryption in ECB, CBC (SP 800-38A, no padding) and
 * CTR (SP 800-38A, 128-bit big-endian counter) modes, on a crypto core.
 *
 * ECB and CBC are the core's (`aesEncryptEcb` ... `aesDecryptCbc`: the wasm
 * core's constant-time AES, or node-forge's on the JS core); CTR is built
 * here on the core's ECB: the counter blocks are made here and encrypted in
 * one call, then XORed with the data. The functions are synchronous and take
 * an optional `options.core`; without it they run on the wasm core (which
 * instantiates synchronously). They run on the core rather than on
 * `node:crypto` so that every runtime the core runs in has them, with no
 * cipher object made per call.
 *
 * @example
 * ```ts
 * import { aesEncryptEcb } from "./aes.ts";
 * const block = aesEncryptEcb(new Uint8Array(16), new Uint8Array(16));
 * ```
 *
 * @module
 */
import type { CryptoCore } from "../core/mod.ts";
import { checkBytes, type CoreOptions, resolveCoreSync } from "./_core.ts";

/** AES block size in bytes. */
export const AES_BLOCK = 16;

/**
 * AES-ECB encryption of whole blocks.
 *
 * @param key 16, 24 or 32 bytes.
 * @param data a whole number of 16-byte blocks (empty allowed).
 * @param options `core` (default: the wasm core).
 * @returns the ciphertext, same length as `data`.
 * @throws {TypeError} if an argument is not a `Uint8Array`, or `options.core` not a core.
 * @throws {RangeError} for a wrong key length or partial block.
 */
export function aesEncryptEcb(
  key: Uint8Array,
  data: Uint8Array,
  options?: CoreOptions,
): Uint8Array {
  return resolveCoreSync(options).aesEncryptEcb(key, data);
}

/**
 * AES-ECB decryption of whole blocks.
 *
 * @param key 16, 24 or 32 bytes.
 * @param data a whole number of 16-byte blocks.
 * @param options `core` (default: the wasm core).
 * @returns the plaintext.
 * @throws {TypeError} if an argument is not a `Uint8Array`, or `options.core` not a core.
 * @throws {RangeError} for a wrong key length or partial block.
 */
export function aesDecryptEcb(
  key: Uint8Array,
  data: Uint8Array,
  options?: CoreOptions,
): Uint8Array {
  return resolveCoreSync(options).aesDecryptEcb(key, data);
}

/**
 * AES-CBC encryption, no padding.
 *
 * @param key 16, 24 or 32 bytes.
 * @param iv 16 bytes.
 * @param data a whole number of 16-byte blocks.
 * @param options `core` (default: the wasm core).
 * @returns the ciphertext.
 * @throws {TypeError} if an argument is not a `Uint8Array`, or `options.core` not a core.
 * @throws {RangeError} for a wrong key or IV length or a partial block.
 */
export function aesEncryptCbc(
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
  options?: CoreOptions,
): Uint8Array {
  return resolveCoreSync(options).aesEncryptCbc(key, iv, data);
}

/**
 * AES-CBC decryption, no padding.
 *
 * @param key 16, 24 or 32 bytes.
 * @param iv 16 bytes.
 * @param data a whole number of 16-byte blocks.
 * @param options `core` (default: the wasm core).
 * @returns the plaintext.
 * @throws {TypeError} if an argument is not a `Uint8Array`, or `options.core` not a core.
 * @throws {RangeError} for a wrong key or IV length or a partial block.
 */
export function aesDecryptCbc(
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
  options?: CoreOptions,
): Uint8Array {
  return resolveCoreSync(options).aesDecryptCbc(key, iv, data);
}

/** CTR on `core`'s ECB: counter blocks from `iv`, encrypted in one call, XORed with `data`. */
function ctr(core: CryptoCore, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const blocks = Math.ceil(data.length / AES_BLOCK);
  const counters = new Uint8Array(blocks * AES_BLOCK);
  const c = iv.slice();
  for (let b = 0; b < blocks; b++) {
    counters.set(c, b * AES_BLOCK);
    // 128-bit big-endian increment, wrapping
    for (let i = AES_BLOCK - 1; i >= 0; i--) {
      c[i] = (c[i] + 1) & 0xff;
      if (c[i] !== 0) break;
    }
  }
  const stream = core.aesEncryptEcb(key, counters);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ stream[i];
  stream.fill(0);
  return out;
}

/**
 * AES-CTR: the counter block starts at `iv` and is incremented as one 128-bit
 * big-endian integer (wrapping). Encryption and decryption are the same.
 *
 * @param key 16, 24 or 32 bytes.
 * @param iv 16-byte initial counter block.
 * @param data any length.
 * @param options `core` (default: the wasm core).
 * @returns `data` XOR the key stream.
 * @throws {TypeError} if an argument is not a `Uint8Array`, or `options.core` not a core.
 * @throws {RangeError} for a wrong key or IV length.
 */
export function aesCtr(
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
  options?: CoreOptions,
): Uint8Array {
  const core = resolveCoreSync(options);
  checkBytes("key", key);
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`key must be 16, 24 or 32 bytes (AES), got ${key.length}`);
  }
  checkBytes("iv", iv);
  if (iv.length !== AES_BLOCK) throw new RangeError(`iv must be 16 bytes, got ${iv.length}`);
  checkBytes("data", data);
  return ctr(core, key, iv, data);
}
