/**
 * The HSM's states and modes, after what payment HSMs promise (Thales
 * payShield: offline, online, secure, with "authorized" activities; PCI PIN
 * security requirements 5 and 6: LMK loading under dual control in a secure
 * state, test keys never live):
 *
 * - `offline`: the HSM refuses every operation but a state change. A new HSM
 *   starts offline, after its self-tests.
 * - `secure`: the custodians' state: the LMK is loaded from its components
 *   (`loadLmk`, allowed only here), and clear keys can be entered under dual
 *   control (key components, a CA private key from a key ceremony).
 * - `authorized`: the working state: every key operation on key blocks, and
 *   clear key entry. Entering it needs a loaded LMK (`no_lmk` otherwise).
 *
 * Any state can move to any other; each change goes to the audit log
 * (`state_changed`), and each call refused for its state too
 * (`operation_refused`, code `wrong_state` naming the state and the operation).
 *
 * Modes: `test` (the demo and the tests) and `production`. A production HSM
 * refuses every option but {@link PRODUCTION_OPTIONS} (`test_only`), an LMK
 * in `TEST_LMKS` (`test_lmk`), an LMK without its KCV from the ceremony record
 * (`combined_kcv`), and every key block that carries the test marker
 * {@link TEST_KEY_BLOCK_ID} (`test_key`), under its LMK or under a KEK: a test
 * HSM puts that optional block in every key block it makes under its LMK and
 * every TR-31 block it exports under a KEK, bound by the block's MAC.
 *
 * @module
 */

/** The HSM's states. */
export type HsmState = "offline" | "secure" | "authorized";

/** Every state, in the order of the module description. */
export const HSM_STATES: readonly HsmState[] = ["offline", "secure", "authorized"];

/** `production` refuses test LMKs, test keys and unknown options; `test` marks its keys. */
export type HsmMode = "production" | "test";

/** The states each HSM operation is allowed in; every other state refuses it (`wrong_state`). */
export const OPERATION_STATES = {
  loadLmk: ["secure"],
  importKeyFromComponents: ["secure", "authorized"],
  importRsaPrivateKey: ["secure", "authorized"],
  generateKey: ["authorized"],
  keyInfo: ["authorized"],
  keyCheckValue: ["authorized"],
  keyHash: ["authorized"],
  exportKey: ["authorized"],
  importKey: ["authorized"],
  generateKeyUnderKek: ["authorized"],
  generateMac: ["authorized"],
  verifyMac: ["authorized"],
  verifyDerivedMac: ["authorized"],
  encryptData: ["authorized"],
  decryptData: ["authorized"],
  sign: ["authorized"],
  generateRsaKeyPair: ["authorized"],
  importKeyRsa: ["authorized"],
  translateKeyFromRsa: ["authorized"],
  exportKeyRsa: ["authorized"],
  exportKeyTr34: ["authorized"],
  exportSuccessorKey: ["authorized"],
  importSuccessorKey: ["authorized"],
} as const satisfies Record<string, readonly HsmState[]>;

/** An HSM operation that {@link OPERATION_STATES} governs (`setState` is allowed in every state). */
export type HsmOperation = keyof typeof OPERATION_STATES;

/**
 * The options a production HSM accepts; it refuses anything else with
 * `test_only` (an option it does not know can only be a test's).
 */
export const PRODUCTION_OPTIONS: readonly string[] = ["mode", "lmkAlgorithm", "core", "audit"];

/**
 * The optional block a test HSM puts in every key block under its LMK and
 * every TR-31 block it exports under a KEK: a proprietary ID (X9.143 reserves numeric IDs for proprietary blocks) whose
 * data is `TESTLMK` and the LMK's KCV. The block's MAC covers it, so it cannot
 * be removed without the LMK.
 */
export const TEST_KEY_BLOCK_ID = "90";

/** The data of the test marker for an LMK with KCV `lmkKcv`. */
export function testMarker(lmkKcv: string): string {
  return `TESTLMK${lmkKcv}`;
}
