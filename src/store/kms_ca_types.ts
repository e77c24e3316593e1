/**
 * The KMS CA as the store keeps it: each installed CA is a version (1, 2,
 * ...), the highest one in force. Its private key is only a TR-31 key block
 * under the KMS's LMK; its certificate is PEM. Versions are never changed
 * or deleted, so the table is the history of who installed which CA.
 *
 * @module
 */

/** An installed KMS CA. */
export interface KmsCaRecord {
  /** 1 for the first CA installed, one more for each replacement. */
  readonly version: number;
  /** The CA certificate (PEM). */
  readonly certificate: string;
  /** The CA private key as a TR-31 key block under the KMS's LMK. */
  readonly keyBlock: string;
  /** SHA-256 of the public key's SubjectPublicKeyInfo, leftmost 8 bytes (16 hex digits). */
  readonly keyFingerprint: string;
  /** When it was installed (ISO 8601 UTC). */
  readonly installedAt: string;
  /** The operator who asked for it (`admin` for the bootstrap install from the start flags). */
  readonly requestedBy: string;
  /** The second operator who approved it; null for the bootstrap install. */
  readonly approvedBy: string | null;
}

/** A KMS CA to install. */
export interface KmsCaInput {
  /** The CA certificate (PEM). */
  certificate: string;
  /** The CA private key as a TR-31 key block under the KMS's LMK. */
  keyBlock: string;
  /** SHA-256 of the public key's SubjectPublicKeyInfo, leftmost 8 bytes (16 hex digits). */
  keyFingerprint: string;
  installedAt: Date;
  /** The operator who asked for it. */
  requestedBy: string;
  /** The second operator who approved it; null for the bootstrap install. */
  approvedBy: string | null;
  /** The version this one replaces (0 when none is installed): a compare-and-set. */
  replaces: number;
}
