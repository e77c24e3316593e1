/**
 * A software HSM: holds its LMK (from two or more key components, see
 * `lmk.ts`) in a private field and nothing else; every other key lives
 * outside it as a TR-31 / ANSI X9.143 key block under the LMK (version D for
 * the default AES-256 LMK, B for a TDES LMK). Each operation unwraps the
 * blocks it needs, checks their attributes against the allow-list
 * (`policy.ts`), computes, zeroizes the clear keys and returns only key
 * blocks, ciphertexts, MACs and KCVs.
 *
 * Wire forms it produces:
 * - keys under a KEK: a TR-31 block (version B under a TDES KEK, D under an
 *   AES KEK), or TDES-ECB ciphertext for keys with exportability "S";
 * - keys under an RSA public key: RSA-OAEP (RFC 8017) with SHA-256;
 * - RSA private keys under the LMK: PKCS#8 DER in a block with algorithm "R".
 *
 * States and modes (`state.ts`): a new HSM is `offline` with no LMK; the
 * custodians bring it to `secure`, load the LMK (`loadLmk`, two or more
 * components from distinct custodians) and move it to `authorized`, where
 * key operations run. {@link SoftwareHsm.open} does those steps in one call.
 *
 * This class is the front: it checks its options, runs the self-tests
 * (`self_tests.ts`) and hands each call to the module of its job: the state
 * machine (`_machine.ts`), the LMK's lifecycle (`_lmk_life.ts`), the
 * symmetric operations (`_symmetric.ts`), the MACs under derived keys
 * (`_derived.ts`) and the RSA operations (`_rsa.ts`).
 *
 * @module
 */
import { type CryptoCore, loadCore, type RsaPrivateKey, type RsaPublicKey } from "../core/mod.ts";
import { describe } from "./_args.ts";
import { destroyLmk, loadLmk } from "./_lmk_life.ts";
import { type HsmContext, lmkKcvOf, refuse, setState } from "./_machine.ts";
import * as bulk from "./_bulk.ts";
import { verifyDerivedMac } from "./_derived.ts";
import * as rsa from "./_rsa.ts";
import { exportSuccessorKey, importSuccessorKey } from "./_successor.ts";
import * as sym from "./_symmetric.ts";
import { exportKeyTr34 } from "./_tr34.ts";
import { HsmError } from "./errors.ts";
import { LMK_TYPES, type LmkAlgorithm, type LmkComponent } from "./lmk.ts";
import type { KeyTemplate } from "./policy.ts";
import type { KekItem, PoolBatchResult } from "./pool.ts";
import { runSelfTests } from "./self_tests.ts";
import { type HsmMode, type HsmState, PRODUCTION_OPTIONS } from "./state.ts";
import type {
  Derivation,
  ExportOptions,
  ExportResult,
  Hsm,
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

/** Options of {@link SoftwareHsm.create}. */
export interface SoftwareHsmOptions {
  /**
   * "production" or "test", required: a production HSM refuses test LMKs,
   * test keys and any option not listed here; a test HSM marks every key it makes.
   */
  mode: HsmMode;
  /** "aes" (default: 32-byte components, version D blocks) or "tdes" (24-byte, version B). */
  lmkAlgorithm?: LmkAlgorithm;
  /** The crypto core; default `await loadCore()`. */
  core?: CryptoCore;
  /** Where security events go (state changes, LMK loaded or refused, keys and calls refused). */
  audit?: HsmAuditSink;
}

/** The LMK and who brings the HSM to work, for {@link SoftwareHsm.open}. */
export interface LmkLoad {
  /** Two or more components, each with its custodian (all different) and KCV. */
  components: readonly LmkComponent[];
  /** The LMK's KCV from the key ceremony record; required in production mode. */
  lmkKcv?: string;
  /** Who changes the state, for the audit log (default "custodians"). */
  by?: string;
}

/** Checks the options of {@link SoftwareHsm.create}; an unknown one in production is refused, audited. */
async function checkOptions(
  options: SoftwareHsmOptions,
): Promise<{ mode: HsmMode; algorithm: LmkAlgorithm; audit: HsmAuditSink | undefined }> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  for (const moved of ["components", "lmkKcv"]) {
    if ((options as unknown as Record<string, unknown>)[moved] !== undefined) {
      throw new TypeError(
        `options.${moved}: the LMK is loaded with loadLmk in the secure state ` +
          "(or SoftwareHsm.open), not at create",
      );
    }
  }
  const mode = options.mode as unknown;
  if (mode !== "production" && mode !== "test") {
    throw new RangeError(
      `options.mode must be "production" or "test", got ${
        mode === undefined ? "nothing" : JSON.stringify(mode)
      }`,
    );
  }
  const algorithm = options.lmkAlgorithm ?? "aes";
  if (algorithm !== "aes" && algorithm !== "tdes") {
    throw new RangeError(
      `options.lmkAlgorithm must be "aes" or "tdes", got ${JSON.stringify(algorithm)}`,
    );
  }
  const audit = options.audit;
  if (audit !== undefined && typeof audit !== "function") {
    throw new TypeError(`options.audit must be a function, got ${describe(audit)}`);
  }
  const extra = Object.entries(options).filter(([k, v]) =>
    v !== undefined && !PRODUCTION_OPTIONS.includes(k)
  ).map(([k]) => k);
  if (mode === "production" && extra.length > 0) {
    const e = new HsmError(
      "test_only",
      `production mode refuses the test-only option${extra.length > 1 ? "s" : ""} ${
        extra.map((k) => `options.${k}`).join(", ")
      } (allowed: ${PRODUCTION_OPTIONS.join(", ")})`,
    );
    await refuse(audit, "hsm_refused", "HSM", e);
  }
  return { mode, algorithm, audit };
}

/**
 * The software HSM. Create it with {@link SoftwareHsm.create} (offline, no
 * LMK), then `setState("secure")`, `loadLmk`, `setState("authorized")`; or
 * all four with {@link SoftwareHsm.open}. A wrong component makes `loadLmk`
 * reject and keeps no LMK.
 */
export class SoftwareHsm implements Hsm {
  readonly lmkAlgorithm: LmkAlgorithm;
  /** "production" or "test", fixed at creation. */
  readonly mode: HsmMode;
  readonly #ctx: HsmContext;

  private constructor(ctx: HsmContext) {
    this.#ctx = ctx;
    this.mode = ctx.mode;
    this.lmkAlgorithm = ctx.lmkAlgorithm;
  }

  /**
   * Whether `x` is a software HSM itself: false for anything around one (a
   * proxy, a wrapper), whose calls the software HSM alone would not see.
   */
  static is(x: unknown): x is SoftwareHsm {
    return typeof x === "object" && x !== null && #ctx in x;
  }

  /** The HSM's state: "offline" (new), "secure" or "authorized". */
  get state(): HsmState {
    return this.#ctx.state;
  }

  /** Whether an LMK is loaded. */
  get hasLmk(): boolean {
    return this.#ctx.lmk !== undefined;
  }

  /**
   * The LMK's KCV, uppercase hex.
   *
   * @throws {HsmError} `no_lmk` before the LMK is loaded.
   */
  get lmkKcv(): string {
    return lmkKcvOf(this.#ctx);
  }

  /**
   * Creates the HSM: runs the known-answer self-tests and returns it
   * `offline`, with no LMK. Bring it to work with {@link setState} and
   * {@link loadLmk}, or with {@link SoftwareHsm.open}.
   *
   * @param options mode (required), LMK algorithm, core, audit sink; in production mode nothing else.
   * @returns the HSM, offline.
   * @throws {TypeError} for a wrong argument type, or LMK options (they go to {@link loadLmk}).
   * @throws {RangeError} for an unknown mode or LMK algorithm.
   * @throws {HsmError} `test_only` for an unknown option in production mode; `self_test`.
   * @example
   * ```ts
   * const hsm = await SoftwareHsm.create({ mode: "production", audit });
   * await hsm.setState("secure", "alice+bob");
   * await hsm.loadLmk([{ custodian: "alice", key: "<64 hex>", kcv: "<KCV>" },
   *   { custodian: "bob", key: "<64 hex>", kcv: "<KCV>" }], { lmkKcv: "<LMK KCV>" });
   * await hsm.setState("authorized", "alice+bob");
   * ```
   */
  static async create(options: SoftwareHsmOptions): Promise<SoftwareHsm> {
    const { mode, algorithm, audit } = await checkOptions(options);
    const core = options.core ?? await loadCore();
    try {
      runSelfTests(core);
    } catch (e) {
      await refuse(audit, "self_test_failed", "HSM", e);
    }
    return new SoftwareHsm({
      mode,
      lmkAlgorithm: algorithm,
      version: LMK_TYPES[algorithm].version,
      core,
      audit,
      state: "offline",
      lmk: undefined,
      lmkKcv: undefined,
      lmkKbpk: undefined,
      marker: undefined,
      audited: new WeakSet(),
    });
  }

  /**
   * Creates the HSM and brings it to work: `secure`, the LMK loaded from its
   * components, `authorized` (each step audited). The path servers, the demo
   * and tests take; a wrong component rejects and leaves no HSM.
   *
   * @param options as {@link create}.
   * @param lmk the components (each with custodian and KCV), the LMK's KCV, who acts.
   * @returns the HSM, authorized.
   * @throws as {@link create}, {@link loadLmk}.
   */
  static async open(options: SoftwareHsmOptions, lmk: LmkLoad): Promise<SoftwareHsm> {
    if (lmk === null || typeof lmk !== "object") {
      throw new TypeError(
        `lmk must be an object { components, lmkKcv?, by? }, got ${describe(lmk)}`,
      );
    }
    const hsm = await SoftwareHsm.create(options);
    const by = lmk.by ?? "custodians";
    await hsm.setState("secure", by);
    await hsm.loadLmk(lmk.components, { lmkKcv: lmk.lmkKcv });
    await hsm.setState("authorized", by);
    return hsm;
  }

  /**
   * Moves the HSM to `state` (any state to any other); the change is audited
   * (`state_changed`). Asking for the current state changes nothing.
   *
   * @param state "offline", "secure" or "authorized".
   * @param by who asks (for the audit log).
   * @throws {RangeError} for an unknown state.
   * @throws {HsmError} `no_lmk` for "authorized" without an LMK.
   */
  setState(state: HsmState, by = "operator"): Promise<void> {
    return setState(this.#ctx, state, by);
  }

  /**
   * Loads the LMK (secure state only): two or more components, each with its
   * custodian (all different) and KCV; the combination is checked against
   * `lmkKcv` (required in production mode), and a production HSM refuses a
   * published test LMK. A refusal keeps nothing (no partial LMK) and writes
   * exactly one audit entry (`lmk_load_failed`, or `operation_refused` for
   * the wrong state); a success one (`lmk_loaded`, with the KCV and the
   * custodians).
   *
   * @param components the custodians' components.
   * @param options the LMK's expected KCV.
   * @throws {TypeError} for a wrong argument type.
   * @throws {RangeError} for a KCV or component that is not hex.
   * @throws {HsmError} `wrong_state`, `lmk_present`, `components`, `custodian`, `component_kcv`,
   *   `weak_key`, `combined_kcv`, `test_lmk`.
   */
  loadLmk(components: readonly LmkComponent[], options: { lmkKcv?: string } = {}): Promise<void> {
    return loadLmk(this.#ctx, components, options);
  }

  /**
   * Zeroes the LMK and its prepared key block keys and puts the HSM offline
   * with no LMK, so it refuses every operation (`wrong_state`) until an LMK
   * is loaded again. Used when an HSM instance ends before its process does
   * (an issuance worker's HSM at shutdown, see `pool.ts`). Not audited: the
   * instance is going away.
   */
  destroy(): Promise<void> {
    return destroyLmk(this.#ctx);
  }

  generateKey(template: KeyTemplate): Promise<KeyResult> {
    return sym.generateKey(this.#ctx, template);
  }

  importKeyFromComponents(
    components: readonly LmkComponent[],
    template: KeyTemplate,
  ): Promise<KeyResult> {
    return sym.importKeyFromComponents(this.#ctx, components, template);
  }

  keyInfo(keyBlock: string): Promise<KeyInfo> {
    return sym.keyInfo(this.#ctx, keyBlock);
  }

  keyCheckValue(keyBlock: string): Promise<string> {
    return sym.keyCheckValue(this.#ctx, keyBlock);
  }

  keyHash(keyBlock: string): Promise<string> {
    return sym.keyHash(this.#ctx, keyBlock);
  }

  exportKey(
    keyBlock: string,
    kekBlock: string,
    options: ExportOptions = {},
  ): Promise<ExportResult> {
    return sym.exportKey(this.#ctx, keyBlock, kekBlock, options);
  }

  importKey(
    wrapped: string,
    kekBlock: string,
    options: ImportChecks & { template: KeyTemplate; format?: WrapFormat },
  ): Promise<ImportResult> {
    return sym.importKey(this.#ctx, wrapped, kekBlock, options);
  }

  generateKeyUnderKek(
    template: KeyTemplate,
    kekBlock: string,
    options: ExportOptions = {},
  ): Promise<KeyResult & { exported: string }> {
    return sym.generateKeyUnderKek(this.#ctx, template, kekBlock, options);
  }

  /**
   * {@link generateKeyUnderKek} for each item of a batch, in order, stopping
   * at the first refusal (bulk TMK issuance; `_bulk.ts` describes its fast
   * path on the wasm core).
   *
   * @returns every key in item order, or the first refusal's index and error.
   */
  generateKeysUnderKek(
    template: KeyTemplate,
    items: readonly KekItem[],
    options: { format?: WrapFormat } = {},
  ): Promise<PoolBatchResult> {
    return bulk.generateKeysUnderKek(this.#ctx, template, items, options.format);
  }

  generateMac(
    makBlock: string,
    data: Uint8Array,
    options?: { padding?: 1 | 2 },
  ): Promise<Uint8Array> {
    return sym.generateMac(this.#ctx, makBlock, data, options);
  }

  verifyMac(
    makBlock: string,
    data: Uint8Array,
    mac: Uint8Array,
    options?: { padding?: 1 | 2 },
  ): Promise<boolean> {
    return sym.verifyMac(this.#ctx, makBlock, data, mac, options);
  }

  verifyDerivedMac(
    keyBlock: string,
    derivation: Derivation,
    data: Uint8Array,
    mac: Uint8Array,
  ): Promise<boolean> {
    return verifyDerivedMac(this.#ctx, keyBlock, derivation, data, mac);
  }

  exportSuccessorKey(
    keyBlock: string,
    currentBlock: string,
    context: Uint8Array,
  ): Promise<ExportResult> {
    return exportSuccessorKey(this.#ctx, keyBlock, currentBlock, context);
  }

  importSuccessorKey(
    wrapped: string,
    currentBlock: string,
    options: { context: Uint8Array; expectedKcv: string },
  ): Promise<KeyResult> {
    return importSuccessorKey(this.#ctx, wrapped, currentBlock, options);
  }

  encryptData(keyBlock: string, data: Uint8Array): Promise<Uint8Array> {
    return sym.ecbData(this.#ctx, "encryptData", keyBlock, data);
  }

  decryptData(keyBlock: string, data: Uint8Array): Promise<Uint8Array> {
    return sym.ecbData(this.#ctx, "decryptData", keyBlock, data);
  }

  generateRsaKeyPair(
    options: { bits?: number; template?: KeyTemplate } = {},
  ): Promise<RsaKeyPairResult> {
    return rsa.generateRsaKeyPair(this.#ctx, options);
  }

  importRsaPrivateKey(privateKey: RsaPrivateKey, template: KeyTemplate): Promise<RsaKeyPairResult> {
    return rsa.importRsaPrivateKey(this.#ctx, privateKey, template);
  }

  sign(privateKeyBlock: string, message: Uint8Array): Promise<Uint8Array> {
    return rsa.sign(this.#ctx, privateKeyBlock, message);
  }

  importKeyRsa(
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    options: ImportChecks & { template: KeyTemplate; hash?: "SHA-256" | "SHA-1" },
  ): Promise<ImportResult> {
    return rsa.importKeyRsa(this.#ctx, privateKeyBlock, ciphertext, options);
  }

  translateKeyFromRsa(
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    kekBlock: string,
    options: ImportChecks & { template: KeyTemplate; hash?: "SHA-256" | "SHA-1" },
  ): Promise<ExportResult & { hash: string }> {
    return rsa.translateKeyFromRsa(this.#ctx, privateKeyBlock, ciphertext, kekBlock, options);
  }

  exportKeyRsa(
    keyBlock: string,
    publicKey: RsaPublicKey,
    options: { hash?: "SHA-256" | "SHA-1" } = {},
  ): Promise<{ ciphertext: Uint8Array; kcv: string }> {
    return rsa.exportKeyRsa(this.#ctx, keyBlock, publicKey, options);
  }

  exportKeyTr34(keyBlock: string, options: Tr34ExportOptions): Promise<Tr34ExportResult> {
    return exportKeyTr34(this.#ctx, keyBlock, options);
  }
}
