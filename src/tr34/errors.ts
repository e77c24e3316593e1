/**
 * The domain error of `src/tr34`: every check that a token, a key block or a
 * certificate fails throws a {@link Tr34Error} whose `code` names the check,
 * so a caller (the KMS route, the PIN pad, the CLI) can map it without
 * reading the message. Messages name the field and what was expected; they
 * never carry a key, a decrypted key block or a private value.
 *
 * @module
 */

/** The check that failed, one code per rule. */
export type Tr34ErrorCode =
  /** Not the DER structure the token type requires (RFC 5652, TR 34-2019 annex B). */
  | "malformed"
  /** A content type, attribute type or token type TR-34 does not define. */
  | "unknown_oid"
  /** A digest, signature, key transport or content cipher this library does not accept. */
  | "unsupported_algorithm"
  /** The RSASSA-PKCS1-v1_5 signature does not verify under the signer's key. */
  | "bad_signature"
  /** The messageDigest attribute does not match the content: the content was altered. */
  | "content_altered"
  /** The key transport or the content decryption failed (padding, length, wrong key). */
  | "decrypt_failed"
  /** The token is addressed to another KRD (recipient or KRD identifier differs). */
  | "wrong_recipient"
  /** The signer or the key block's KDH identifier is not the KDH expected. */
  | "wrong_kdh"
  /** A required attribute (nonce, signing time, header, content type, digest) is absent. */
  | "attribute_missing"
  /** The signed nonce is not the one this KRD issued. */
  | "nonce_mismatch"
  /** The signed nonce was already used by an accepted token. */
  | "nonce_replayed"
  /** The 1-pass signing time is outside the accepted window. */
  | "timestamp_window"
  /** The 1-pass signing time is not later than the last one accepted. */
  | "timestamp_replayed"
  /** The KDH certificate is past its notAfter. */
  | "kdh_expired"
  /** The KDH certificate is before its notBefore. */
  | "kdh_not_yet_valid"
  /** The KDH certificate's serial number is on the CA's CRL. */
  | "kdh_revoked"
  /** The KDH certificate is not issued by a trusted CA, or its keyUsage forbids signing. */
  | "kdh_untrusted"
  /** The KRD certificate is not issued by a trusted CA, or its keyUsage forbids key transport. */
  | "krd_untrusted"
  /** The CRL is not signed by the KDH's CA or is malformed. */
  | "crl_invalid"
  /** The signed header attribute differs from the key block's header. */
  | "header_mismatch"
  /** The key block header is one the receiving key slot's use does not allow. */
  | "header_forbidden";

/** A failed TR-34 check; `code` names it. */
export class Tr34Error extends Error {
  /** The check that failed. */
  readonly code: Tr34ErrorCode;

  /**
   * @param code the check that failed.
   * @param message what was wrong, naming the field (never key material).
   * @param options `cause`, an underlying error.
   */
  constructor(code: Tr34ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "Tr34Error";
    this.code = code;
  }
}
