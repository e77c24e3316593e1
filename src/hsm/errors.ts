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
  | "self_test"
  /** The operation is not allowed in the HSM's current state; `state` and `operation` name them. */
  | "wrong_state"
  /** The operation (or entering the authorized state) needs an LMK and none is loaded. */
  | "no_lmk"
  /** An LMK is already loaded: a second one is refused (a new LMK needs a new HSM). */
  | "lmk_present"
  /** A key component without its custodian's identity, a malformed one, or the same custodian twice. */
  | "custodian"
  /** Production mode: the LMK is a published test LMK (`TEST_LMKS` in lmk.ts). */
  | "test_lmk"
  /** Production mode: the key block is marked as made by a test HSM. */
  | "test_key"
  /** Production mode: a test-only option was given. */
  | "test_only";

/** A refusal by the HSM, with a stable `code`. */
export class HsmError extends Error {
  /** Which check refused. */
  readonly code: HsmErrorCode;
  /** For `wrong_state` (and `no_lmk`): the HSM's state when it refused. */
  readonly state?: string;
  /** For `wrong_state` (and `no_lmk`): the operation refused. */
  readonly operation?: string;

  /**
   * @param code which check refused.
   * @param message what was refused and why (no key material).
   * @param options the underlying error, if any; the state and operation of a state refusal.
   */
  constructor(
    code: HsmErrorCode,
    message: string,
    options?: { cause?: unknown; state?: string; operation?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HsmError";
    this.code = code;
    if (options?.state !== undefined) this.state = options.state;
    if (options?.operation !== undefined) this.operation = options.operation;
  }
}
