/**
 * The interface both crypto cores implement (docs/ARCHITECTURE.md, "Contracts
 * other code relies on").
 *
 * Byte strings are `Uint8Array`; big numbers are big-endian unsigned byte
 * strings. Every method checks its arguments and throws `TypeError` for a
 * wrong type and `RangeError` for a wrong length or value, naming the argument.
 *
 * @module
 */

/** An RSA private key with its CRT parameters, all big-endian unsigned. */
export interface RsaPrivateKey {
  n: Uint8Array;
  e: Uint8Array;
  d: Uint8Array;
  p: Uint8Array;
  q: Uint8Array;
  dp: Uint8Array;
  dq: Uint8Array;
  qi: Uint8Array;
}

/** An RSA public key, big-endian unsigned. */
export interface RsaPublicKey {
  n: Uint8Array;
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
   * 16-byte blocks. The core has AES for the AES-256 LMK's TR-31 version D
   * blocks, the largest cost of bulk issuance (bench/README.md).
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
