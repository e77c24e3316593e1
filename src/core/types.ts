/**
 * The interface both crypto cores implement (DESIGN.md, "Contracts").
 *
 * Byte strings are `Uint8Array`; big numbers are big-endian unsigned byte
 * strings. Every method checks its arguments and throws `TypeError` for a
 * wrong type and `RangeError` for a wrong length or value, naming the argument.
 *
 * @module
 */

/** An RSA private key with its CRT parameters, all big-endian unsigned. */
export interface RsaPrivateKey {
  /** The modulus. */
  n: Uint8Array;
  /** The public exponent. */
  e: Uint8Array;
  /** The private exponent. */
  d: Uint8Array;
  /** The first prime factor. */
  p: Uint8Array;
  /** The second prime factor. */
  q: Uint8Array;
  /** d mod (p - 1). */
  dp: Uint8Array;
  /** d mod (q - 1). */
  dq: Uint8Array;
  /** q^-1 mod p. */
  qi: Uint8Array;
}

/** An RSA public key, big-endian unsigned. */
export interface RsaPublicKey {
  /** The modulus. */
  n: Uint8Array;
  /** The public exponent. */
  e: Uint8Array;
}

/** The primitives every other module builds on. */
export interface CryptoCore {
  /** Which implementation this is. */
  readonly name: "wasm" | "js";
  /** TDES (SP 800-67) ECB encryption. `key` is 16 (K1K2K1) or 24 bytes; `data` whole 8-byte blocks. */
  tdesEncryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** TDES ECB decryption. */
  tdesDecryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** TDES CBC encryption, no padding; `iv` is 8 bytes. */
  tdesEncryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** TDES CBC decryption, no padding. */
  tdesDecryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * AES (FIPS 197) ECB encryption. `key` is 16, 24 or 32 bytes; `data` whole
   * 16-byte blocks. (Beyond DESIGN.md's TDES/SHA/modexp core: added for the
   * AES-256 LMK's TR-31 D blocks because measurement justified it, issue 7;
   * see bench/README.md.)
   */
  aesEncryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES ECB decryption. */
  aesDecryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES CBC encryption (SP 800-38A), no padding; `iv` is 16 bytes. */
  aesEncryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES CBC decryption, no padding. */
  aesDecryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** SHA-1 (FIPS 180-4). Legacy: kept for OAEP-SHA1 and interop only. */
  sha1(data: Uint8Array): Uint8Array;
  /** SHA-256 (FIPS 180-4). */
  sha256(data: Uint8Array): Uint8Array;
  /** `base^exponent mod modulus`, returned with the length of `modulus`. Odd modulus, `base < modulus`. */
  modPow(base: Uint8Array, exponent: Uint8Array, modulus: Uint8Array): Uint8Array;
  /** RSA private operation with CRT: `input^d mod n`, returned with the length of `n`. */
  rsaPrivate(key: RsaPrivateKey, input: Uint8Array): Uint8Array;
}
