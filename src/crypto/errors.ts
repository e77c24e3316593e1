/**
 * Domain errors of `src/crypto`. Each has a stable `code` callers can switch on;
 * no message ever contains key material or decrypted data.
 *
 * @module
 */

/** Base class of the domain errors of `src/crypto`. */
export class CryptoError extends Error {
  /** A stable machine-readable code. */
  readonly code: string;
  /**
   * Makes the error.
   *
   * @param code the stable code.
   * @param message a human-readable message.
   */
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Every RSA decryption failure (wrong ciphertext length, ciphertext not below
 * the modulus, bad OAEP or PKCS#1 v1.5 padding, wrong label, fault check):
 * always this class with this one message and code, so callers and attackers
 * cannot tell the causes apart (RFC 8017 7.1.2 note, 7.2.2 note; Manger 2001,
 * Bleichenbacher 1998).
 */
export class DecryptionError extends CryptoError {
  /** The one message every decryption failure carries. */
  static readonly MESSAGE = "decryption failed";
  constructor() {
    super("DECRYPTION_FAILED", DecryptionError.MESSAGE);
  }
}

/** A signature with message recovery (type-1 public decrypt) did not verify. */
export class SignatureError extends CryptoError {
  /** The one message every recovery failure carries. */
  static readonly MESSAGE = "signature verification failed";
  constructor() {
    super("SIGNATURE_INVALID", SignatureError.MESSAGE);
  }
}

/** An RSA key that is malformed or inconsistent (import, validation). */
export class RsaKeyError extends CryptoError {
  /**
   * Makes the error, code `RSA_KEY_INVALID`.
   *
   * @param message what is wrong (never key material).
   */
  constructor(message: string) {
    super("RSA_KEY_INVALID", message);
  }
}

/**
 * The RSA private operation produced a result that does not re-encrypt to its
 * input (a computation fault or an inconsistent key); the result is discarded
 * (defence against CRT fault attacks, Boneh-DeMillo-Lipton 1997).
 */
export class RsaFaultError extends CryptoError {
  constructor() {
    super("RSA_FAULT", "the RSA private operation failed its consistency check");
  }
}
