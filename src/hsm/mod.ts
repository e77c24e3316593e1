/**
 * The HSM: the only place outside the devices where keys are ever in clear.
 * {@link Hsm} is the interface servers use; {@link SoftwareHsm} implements it
 * in-process, with its LMK from two or more key components and every other
 * key as a TR-31 / ANSI X9.143 key block under the LMK, checked against an
 * allow-list of key attributes on every operation ({@link RULES}).
 *
 * @example
 * ```ts
 * import { KEY_TEMPLATES, SoftwareHsm } from "./mod.ts";
 * const hsm = await SoftwareHsm.create({ mode: "production", audit: (e) => store.appendAudit({ ...e, at: new Date(), actor: "hsm" }) });
 * await hsm.setState("secure", "alice+bob");
 * await hsm.loadLmk([c1, c2, c3], { lmkKcv }); // each { custodian, key, kcv }
 * await hsm.setState("authorized", "alice+bob");
 * const tk = await hsm.importKey(tkUnderPk, pkBlock, { template: KEY_TEMPLATES.TK, expectedHash: tkHash });
 * const tmk = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tk.keyBlock, { expectedKekHash: tkHash });
 * // tmk.keyBlock (under the LMK), tmk.exported (TR-31 under TK), tmk.kcv
 * ```
 *
 * @module
 */
export { HsmError, type HsmErrorCode } from "./errors.ts";
export {
  checkNotDegenerate,
  combineComponents,
  type CombineOptions,
  CUSTODIAN_PATTERN,
  keyCheckValue,
  LMK_TYPES,
  type LmkAlgorithm,
  type LmkComponent,
  TEST_LMKS,
  testLmkSource,
} from "./lmk.ts";
export {
  HSM_STATES,
  type HsmMode,
  type HsmOperation,
  type HsmState,
  OPERATION_STATES,
  PRODUCTION_OPTIONS,
  TEST_KEY_BLOCK_ID,
  testMarker,
} from "./state.ts";
export {
  checkRule,
  checkTemplate,
  GENERATED_USAGES,
  KEY_TEMPLATES,
  type KeyAttributes,
  type KeyTemplate,
  type RoleRule,
  RULES,
} from "./policy.ts";
export type {
  Derivation,
  ExportOptions,
  ExportResult,
  Hsm,
  HsmAuditEvent,
  HsmAuditSink,
  ImportChecks,
  ImportResult,
  KeyInfo,
  KeyResult,
  RsaKeyPairResult,
  Tr34ExportOptions,
  Tr34ExportResult,
  WrapFormat,
} from "./types.ts";
export { type KnownAnswer, runSelfTests, SELF_TESTS } from "./self_tests.ts";
export {
  checkPoolSize,
  defaultPoolSize,
  IssuancePool,
  type IssuancePoolOptions,
  MAX_POOL_SIZE,
} from "./issuance_pool.ts";
export {
  type HsmCallOptions,
  HsmPool,
  HsmPoolError,
  type HsmPoolErrorCode,
  type HsmPoolStats,
  type KekItem,
  type KeyUnderKek,
  type PairBatchResult,
  type PoolBatchResult,
} from "./pool.ts";
export { type LmkLoad, SoftwareHsm, type SoftwareHsmOptions } from "./software_hsm.ts";
