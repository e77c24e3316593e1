/**
 * The key block error and its codes, in the fixed order in which
 * {@link unwrapKeyBlock} checks a block (ANSI X9.143:2021 section 6 for the
 * header, section 7 for the binding). The first check that fails names the
 * error; no later check runs and no key is returned.
 *
 * @module
 */

/**
 * Every check on a key block, in the order unwrap runs them. Wrap runs the
 * header checks (the `header` ones) on the header it is given, plus
 * `kbpk_length`.
 */
export const KEY_BLOCK_CHECKS = [
  /** A character outside printable ASCII (0x20..0x7E) anywhere in the block. */
  "characters",
  /** Shorter than the 16-character fixed header. */
  "header_length",
  /** Byte 0 is not a version in VERSIONS. */
  "version",
  /** Bytes 1-4 are not four decimal digits. */
  "length_field",
  /** The length field differs from the block's length in characters. */
  "length_mismatch",
  /** Bytes 5-6 are not in KEY_USAGES nor two digits. */
  "key_usage",
  /** Byte 7 is not in ALGORITHMS. */
  "algorithm",
  /** Byte 8 is not in MODES_OF_USE nor a digit. */
  "mode_of_use",
  /** Bytes 9-10 are not two alphanumeric characters. */
  "key_version",
  /** Byte 11 is not in EXPORTABILITY. */
  "exportability",
  /** Bytes 12-13 are not two decimal digits. */
  "optional_block_count",
  /** Byte 14 is not in KEY_CONTEXTS. */
  "key_context",
  /** Byte 15 is not "0". */
  "reserved",
  /** An optional block is cut short or its ID is not two uppercase alphanumerics. */
  "optional_block_id",
  /** An optional block's length is not hex, smaller than its own fields, or runs past the block. */
  "optional_block_length",
  /** An optional block's data breaks its format (KS, KC, KP: hex; TS: a UTC time). */
  "optional_block_data",
  /** A padding block (PB) that is not the last optional block. */
  "padding_block",
  /** Header with optional blocks not a whole number of cipher blocks. */
  "header_alignment",
  /** The KBPK length is not allowed for this version. */
  "kbpk_length",
  /** The block length is not a whole number of cipher blocks (versions A-D). */
  "block_alignment",
  /** The payload or MAC is not uppercase hex. */
  "payload_hex",
  /** The encrypted payload is too short or not whole cipher blocks. */
  "payload_length",
  /** The MAC does not verify (wrong KBPK, or the block was altered). */
  "mac",
  /** The decrypted key length field is not a whole number of bytes. */
  "key_length_bits",
  /** The decrypted key length is zero or runs past the payload. */
  "key_length",
] as const;

/** The code of a {@link KeyBlockError}: one of {@link KEY_BLOCK_CHECKS}. */
export type KeyBlockErrorCode = typeof KEY_BLOCK_CHECKS[number];

/**
 * A key block (or a header for wrap) failed a check. `code` names the first
 * check that failed; the message says what was found and what was expected,
 * and never contains key material.
 */
export class KeyBlockError extends Error {
  /** Which check failed. */
  readonly code: KeyBlockErrorCode;

  /**
   * Makes the error.
   *
   * @param code the failed check.
   * @param message what was wrong.
   */
  constructor(code: KeyBlockErrorCode, message: string) {
    super(message);
    this.name = "KeyBlockError";
    this.code = code;
  }
}
