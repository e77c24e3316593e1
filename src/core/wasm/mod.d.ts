/**
 * Types of mod.js: the CryptoCore API of the WebAssembly crypto core.
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

/**
 * The primitives of the core. Byte strings are `Uint8Array`; big numbers are
 * big-endian unsigned byte strings. Every method checks its arguments and throws
 * `TypeError` for a wrong type and `RangeError` for a wrong length or value,
 * naming the argument.
 */
export interface CryptoCore {
  /** Which implementation this is. */
  readonly name: "wasm" | "js";
  /**
   * TDES (SP 800-67) ECB encryption.
   * @param key 16 (K1K2K1) or 24 bytes
   * @param data whole 8-byte blocks (empty allowed)
   * @returns the ciphertext, same length as `data`
   * @throws {TypeError} if an argument is not a Uint8Array
   * @throws {RangeError} for a key not 16 or 24 bytes, or a partial block
   */
  tdesEncryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** TDES ECB decryption; same arguments and errors as {@link tdesEncryptEcb}. */
  tdesDecryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * TDES CBC encryption, no padding.
   * @param key 16 or 24 bytes
   * @param iv 8 bytes
   * @param data whole 8-byte blocks
   * @throws {RangeError} for a wrong key or IV length, or a partial block
   */
  tdesEncryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** TDES CBC decryption, no padding; same arguments and errors as {@link tdesEncryptCbc}. */
  tdesDecryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * AES (FIPS 197) ECB encryption, constant time.
   * @param key 16, 24 or 32 bytes
   * @param data whole 16-byte blocks (empty allowed)
   * @returns the ciphertext, same length as `data`
   * @throws {TypeError} if an argument is not a Uint8Array
   * @throws {RangeError} for a key not 16, 24 or 32 bytes, or a partial block
   */
  aesEncryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES ECB decryption; same arguments and errors as {@link aesEncryptEcb}. */
  aesDecryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * AES CBC encryption (SP 800-38A), no padding.
   * @param key 16, 24 or 32 bytes
   * @param iv 16 bytes
   * @param data whole 16-byte blocks
   * @throws {RangeError} for a wrong key or IV length, or a partial block
   */
  aesEncryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES CBC decryption, no padding; same arguments and errors as {@link aesEncryptCbc}. */
  aesDecryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * SHA-1 (FIPS 180-4). Legacy: for OAEP-SHA1 and interoperability only.
   * @returns 20 bytes
   */
  sha1(data: Uint8Array): Uint8Array;
  /**
   * SHA-256 (FIPS 180-4).
   * @returns 32 bytes
   */
  sha256(data: Uint8Array): Uint8Array;
  /**
   * `base^exponent mod modulus`.
   * @returns the result with the length of `modulus`
   * @throws {RangeError} for an even, zero or 1 modulus, one over 4096 bits, or `base >= modulus`
   */
  modPow(base: Uint8Array, exponent: Uint8Array, modulus: Uint8Array): Uint8Array;
  /**
   * {@link modPow} for a public modulus and exponent (an RSA public key's): the same
   * result; the core keeps the modulus's Montgomery setup for its last 64 public moduli,
   * and its time follows the exponent's bits. Never pass a secret modulus or exponent.
   * @returns the result with the length of `modulus`
   * @throws {RangeError} as modPow
   */
  modPowPublic(base: Uint8Array, exponent: Uint8Array, modulus: Uint8Array): Uint8Array;
  /**
   * RSA private operation with CRT (RFC 8017 5.1.2): `input^d mod n`, not blinded.
   * @returns the result with the length of `key.n`
   * @throws {TypeError} if `key` is not an object or a field is not a Uint8Array
   * @throws {RangeError} for a bad modulus or prime, `dp >= p`, `dq >= q`, `qi >= p`, `input >= n`
   */
  rsaPrivate(key: RsaPrivateKey, input: Uint8Array): Uint8Array;
}

/** The wasm core (instantiated synchronously on first use), on the build {@link coreVariant} names. */
export const wasmCore: CryptoCore;

/**
 * The build the core uses in this runtime: "fma" (relaxed SIMD; the RSA CRT
 * private operation on paired f64 kernels) where `f64x2.relaxed_madd` is
 * fused, else "simd". Decided once.
 */
export function coreVariant(): "simd" | "fma";

/**
 * The core on one build, whichever the runtime would choose (for tests and
 * benchmarks comparing the two). The "fma" build computes RSA correctly only
 * where `f64x2.relaxed_madd` is fused.
 * @throws {RangeError} for another name
 */
export function wasmCoreFor(variant: "simd" | "fma"): CryptoCore;

/**
 * Compiles the module asynchronously (required on a browser's main thread for
 * large modules), instantiates it and returns {@link wasmCore}.
 */
export function loadWasmCore(): Promise<CryptoCore>;
