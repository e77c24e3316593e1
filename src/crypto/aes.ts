/**
 * AES (FIPS 197) block encryption in ECB, CBC (SP 800-38A, no padding) and
 * CTR (SP 800-38A, 128-bit big-endian counter) modes.
 *
 * AES is not part of the crypto core (DESIGN.md: the core has TDES, SHA and
 * modexp only). These functions use `node:crypto` `createCipheriv` with
 * `"aes-{128,192,256}-{ecb,cbc,ctr}"` and `setAutoPadding(false)`: synchronous,
 * available in Deno, Node and Bun (not in browsers). They take no `core`.
 * Deno 2.9 has no `aes-192-cbc`; where the runtime lacks a CBC cipher, CBC is
 * chained here over its ECB cipher (SP 800-38A 6.2), block by block.
 *
 * @example
 * ```ts
 * import { aesEncryptEcb } from "./aes.ts";
 * const block = aesEncryptEcb(new Uint8Array(16), new Uint8Array(16));
 * ```
 *
 * @module
 */
import nodeCrypto from "node:crypto";
import { checkBytes } from "./_core.ts";

/** AES block size in bytes. */
export const AES_BLOCK = 16;

function checkAesKey(key: unknown): asserts key is Uint8Array {
  checkBytes("key", key);
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`key must be 16, 24 or 32 bytes (AES), got ${key.length}`);
  }
}

function checkAesBlocks(data: unknown): asserts data is Uint8Array {
  checkBytes("data", data);
  if (data.length % AES_BLOCK !== 0) {
    throw new RangeError(
      `data must be a whole number of 16-byte blocks, got ${data.length} bytes`,
    );
  }
}

function checkAesIv(iv: unknown): asserts iv is Uint8Array {
  checkBytes("iv", iv);
  if (iv.length !== AES_BLOCK) throw new RangeError(`iv must be 16 bytes, got ${iv.length}`);
}

const CIPHER_NAMES = new Set(nodeCrypto.getCiphers());

/** CBC over one streaming ECB cipher object, for runtimes without `aes-N-cbc`. */
function cbcOverEcb(
  encrypt: boolean,
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const alg = `aes-${key.length * 8}-ecb`;
  const c = encrypt
    ? nodeCrypto.createCipheriv(alg, key, null)
    : nodeCrypto.createDecipheriv(alg, key, null);
  c.setAutoPadding(false);
  const out = new Uint8Array(data.length);
  const prev = iv.slice();
  const x = new Uint8Array(AES_BLOCK);
  for (let off = 0; off < data.length; off += AES_BLOCK) {
    const block = data.subarray(off, off + AES_BLOCK);
    if (encrypt) {
      for (let i = 0; i < AES_BLOCK; i++) x[i] = block[i] ^ prev[i];
      const y = c.update(x);
      out.set(y, off);
      prev.set(y);
      y.fill(0);
    } else {
      const y = c.update(block);
      for (let i = 0; i < AES_BLOCK; i++) out[off + i] = y[i] ^ prev[i];
      prev.set(block);
      y.fill(0);
    }
  }
  c.final();
  x.fill(0);
  return out;
}

function run(
  encrypt: boolean,
  mode: "ecb" | "cbc" | "ctr",
  key: Uint8Array,
  iv: Uint8Array | null,
  data: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const alg = `aes-${key.length * 8}-${mode}`;
  if (mode === "cbc" && !CIPHER_NAMES.has(alg)) return cbcOverEcb(encrypt, key, iv!, data);
  const c = encrypt
    ? nodeCrypto.createCipheriv(alg, key, iv)
    : nodeCrypto.createDecipheriv(alg, key, iv);
  c.setAutoPadding(false);
  const a = c.update(data);
  const b = c.final();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  a.fill(0);
  return out;
}

/**
 * AES-ECB encryption of whole blocks.
 *
 * @param key 16, 24 or 32 bytes.
 * @param data a whole number of 16-byte blocks (empty allowed).
 * @returns the ciphertext, same length as `data`.
 * @throws {TypeError} if an argument is not a `Uint8Array`.
 * @throws {RangeError} for a wrong key length or partial block.
 */
export function aesEncryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array<ArrayBuffer> {
  checkAesKey(key);
  checkAesBlocks(data);
  return run(true, "ecb", key, null, data);
}

/**
 * AES-ECB decryption of whole blocks.
 *
 * @param key 16, 24 or 32 bytes.
 * @param data a whole number of 16-byte blocks.
 * @returns the plaintext.
 * @throws {TypeError} if an argument is not a `Uint8Array`.
 * @throws {RangeError} for a wrong key length or partial block.
 */
export function aesDecryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array<ArrayBuffer> {
  checkAesKey(key);
  checkAesBlocks(data);
  return run(false, "ecb", key, null, data);
}

/**
 * AES-CBC encryption, no padding.
 *
 * @param key 16, 24 or 32 bytes.
 * @param iv 16 bytes.
 * @param data a whole number of 16-byte blocks.
 * @returns the ciphertext.
 * @throws {TypeError} if an argument is not a `Uint8Array`.
 * @throws {RangeError} for a wrong key or IV length or a partial block.
 */
export function aesEncryptCbc(
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Uint8Array<ArrayBuffer> {
  checkAesKey(key);
  checkAesIv(iv);
  checkAesBlocks(data);
  return run(true, "cbc", key, iv, data);
}

/**
 * AES-CBC decryption, no padding.
 *
 * @param key 16, 24 or 32 bytes.
 * @param iv 16 bytes.
 * @param data a whole number of 16-byte blocks.
 * @returns the plaintext.
 * @throws {TypeError} if an argument is not a `Uint8Array`.
 * @throws {RangeError} for a wrong key or IV length or a partial block.
 */
export function aesDecryptCbc(
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Uint8Array<ArrayBuffer> {
  checkAesKey(key);
  checkAesIv(iv);
  checkAesBlocks(data);
  return run(false, "cbc", key, iv, data);
}

/**
 * AES-CTR: the counter block starts at `iv` and is incremented as one 128-bit
 * big-endian integer (wrapping). Encryption and decryption are the same.
 *
 * @param key 16, 24 or 32 bytes.
 * @param iv 16-byte initial counter block.
 * @param data any length.
 * @returns `data` XOR the key stream.
 * @throws {TypeError} if an argument is not a `Uint8Array`.
 * @throws {RangeError} for a wrong key or IV length.
 */
export function aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array<ArrayBuffer> {
  checkAesKey(key);
  checkAesIv(iv);
  checkBytes("data", data);
  return run(true, "ctr", key, iv, data);
}
