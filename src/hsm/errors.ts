/**
 * The HSM's domain error. `code` names the check that refused the operation;
 * the message names the key's role, its attributes and KCVs, never key bytes.
 *
 * @module
 */

/** Why the HSM refused an operation. */
export type HsmErrorCode =
  /** Fewer than two key components (LMK, PK, MAK), or a component of the wrong length. */
  | "components"
  /** A key component does not match its KCV. */
  | "component_kcv"
  /** The combined key does not match its expected KCV. */
  | "combined_kcv"
  /** A key (or LMK component / combination) that is all zeros or otherwise degenerate. */
  | "weak_key"
  /** A key block does not unwrap (wrong LMK / KEK, altered, malformed); `cause` holds the KeyBlockError. */
  | "key_block"
  /** A key's attributes (usage, algorithm, mode of use, exportability) do not allow the operation. */
  | "key_usage"
  /** A key's KCV differs from the one expected. */
  | "kcv_mismatch"
  /** A key's SHA-256 differs from the one expected. */
  | "hash_mismatch"
  /** An RSA-encrypted key does not decrypt (one error whatever the cause). */
  | "decrypt_failed"
  /** A known-answer self-test at start gave a wrong answer: the HSM does not start. */
  | "self_test";

/** A refusal by the HSM, with a stable `code`. */
export class HsmError extends Error {
  /** Which check refused. */
  readonly code: HsmErrorCode;

  /**
   * @param code which check refused.
   * @param message what was refused and why (no key material).
   * @param options the underlying error, if any.
   */
  constructor(code: HsmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HsmError";
    this.code = code;
  }
}
