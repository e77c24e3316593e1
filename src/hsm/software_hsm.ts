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
 * @module
 */
import { type CryptoCore, loadCore, type RsaPrivateKey, type RsaPublicKey } from "../core/mod.ts";
import {
  exportPkcs8Der,
  fromHex,
  generateRsaKeyPair,
  importPkcs8Der,
  oaepDecrypt,
  oaepEncrypt,
  pkcs1v15Sign,
  publicKeyOf,
  randomBytes,
  retailMac,
  retailMacVerify,
  setOddParity,
  timingSafeEqual,
  toHex,
  validateRsaPrivateKey,
  zeroize,
} from "../crypto/mod.ts";
import { deriveKeys, zeroizeDerived } from "../keyblock/_derive.ts";
import type { KeyBlockVersion } from "../keyblock/_tables.ts";
import {
  KeyBlockError,
  type KeyBlockHeader,
  type PreparedKbpk,
  prepareKbpk,
  unwrapKeyBlock,
  wrapKeyBlock,
} from "../keyblock/mod.ts";
import { HsmError } from "./errors.ts";
import {
  checkNotDegenerate,
  combineComponents,
  keyCheckValue,
  LMK_TYPES,
  type LmkAlgorithm,
  type LmkComponent,
  testLmkSource,
} from "./lmk.ts";
import {
  HSM_STATES,
  type HsmMode,
  type HsmOperation,
  type HsmState,
  OPERATION_STATES,
  PRODUCTION_OPTIONS,
  TEST_KEY_BLOCK_ID,
  testMarker,
} from "./state.ts";
import {
  checkRule,
  checkTemplate,
  KEY_TEMPLATES,
  type KeyTemplate,
  type RoleRule,
  RULES,
} from "./policy.ts";
import type {
  ExportOptions,
  ExportResult,
  Hsm,
  HsmAuditSink,
  ImportChecks,
  ImportResult,
  KeyInfo,
  KeyResult,
  ObservedKeyOrigin,
  RsaKeyPairResult,
  TestKeyObserver,
  WrapFormat,
} from "./types.ts";

/** Options of {@link SoftwareHsm.create}. */
export interface SoftwareHsmOptions {
  /**
   * "production" or "test", required: a production HSM refuses test LMKs,
   * test keys and test-only options; a test HSM marks every key it makes.
   */
  mode: HsmMode;
  /** "aes" (default: 32-byte components, version D blocks) or "tdes" (24-byte, version B). */
  lmkAlgorithm?: LmkAlgorithm;
  /** The crypto core; default `await loadCore()`. */
  core?: CryptoCore;
  /** Where security events go (state changes, LMK loaded or refused, keys and calls refused). */
  audit?: HsmAuditSink;
  /**
   * TEST ONLY: receives a copy of every clear key this HSM creates or
   * recovers (the LMK, its components and its KBEK/KBAK; keys formed from
   * components, generated, imported, unwrapped; KBEK/KBAK derived from a KEK;
   * the private parts d, p, q, dp, dq, qi of RSA keys), so the key scan of
   * SECURITY.md section 7 knows what to search for. No server flag or
   * environment variable of the product reaches it: only the scan's test
   * entry point (`tests/harden/_key_scan_run.ts`) sets it. A production-mode
   * HSM refuses it (`test_only`, like every option not in `PRODUCTION_OPTIONS`).
   */
  testKeyObserver?: TestKeyObserver;
}

/** The LMK and who brings the HSM to work, for {@link SoftwareHsm.open}. */
export interface LmkLoad {
  /** Two or more components, each with its custodian (all different) and KCV. */
  components: readonly LmkComponent[];
  /** The LMK's KCV from the ceremony record; required in production mode. */
  lmkKcv?: string;
  /** Who changes the state, for the audit log (default "custodians"). */
  by?: string;
}

interface Opened {
  header: Required<KeyBlockHeader>;
  key: Uint8Array;
}

const TDES_KCV_BYTES = 3;
const AES_KCV_BYTES = 5;
const MAX_DATA = 4096;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "an object";
  return typeof v;
}

function checkBlockString(name: string, v: unknown): asserts v is string {
  if (typeof v !== "string") {
    throw new TypeError(`${name} must be a key block string, got ${describe(v)}`);
  }
}

function checkBytes(name: string, v: unknown): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(v)}`);
  }
}

function parseHexCheck(name: string, v: unknown, min: number, max: number): Uint8Array {
  if (typeof v !== "string") {
    throw new TypeError(`${name} must be a hex string, got ${describe(v)}`);
  }
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(v) || v.length < 2 * min || v.length > 2 * max) {
    throw new RangeError(`${name} must be ${min === max ? min : `${min} to ${max}`} bytes of hex`);
  }
  return fromHex(v.toUpperCase());
}

function checkPadding(options: unknown): 1 | 2 {
  if (options === undefined) return 2;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const p = (options as { padding?: unknown }).padding ?? 2;
  if (p !== 1 && p !== 2) {
    throw new RangeError(`options.padding must be 1 or 2, got ${JSON.stringify(p)}`);
  }
  return p;
}

function checkOaepHash(v: unknown): "SHA-256" | "SHA-1" {
  const h = v ?? "SHA-256";
  if (h !== "SHA-256" && h !== "SHA-1") {
    throw new RangeError(`options.hash must be "SHA-256" or "SHA-1", got ${JSON.stringify(h)}`);
  }
  return h;
}

function checkFormat(v: unknown): WrapFormat {
  const f = v ?? "tr31";
  if (f !== "tr31" && f !== "ecb") {
    throw new RangeError(`options.format must be "tr31" or "ecb", got ${JSON.stringify(f)}`);
  }
  return f;
}

function attrs(h: { keyUsage: string; algorithm: string; modeOfUse: string }): string {
  return `${h.keyUsage}/${h.algorithm}/${h.modeOfUse}`;
}

/** A known answer: what a primitive of the core must give for a fixed input. */
interface KnownAnswer {
  readonly name: string;
  readonly run: (core: CryptoCore) => Uint8Array;
  readonly expected: string;
}

const h = (x: string) => fromHex(x);

/**
 * Known-answer self-tests run before the LMK is loaded (FIPS 140-3 style
 * pre-operational tests): TDES (SP 800-67 appendix B example), SHA-1 and
 * SHA-256 of "abc" (FIPS 180-4 examples), and the RSA modular exponentiation
 * (the textbook key n = 3233, e = 17, d = 2753).
 */
export const SELF_TESTS: readonly KnownAnswer[] = [
  {
    name: "TDES-ECB encrypt",
    run: (c) =>
      c.tdesEncryptEcb(
        h("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123"),
        h("5468652071756663"),
      ),
    expected: "A826FD8CE53B855F",
  },
  {
    name: "TDES-ECB decrypt",
    run: (c) =>
      c.tdesDecryptEcb(
        h("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123"),
        h("A826FD8CE53B855F"),
      ),
    expected: "5468652071756663",
  },
  {
    name: "SHA-1",
    run: (c) => c.sha1(new TextEncoder().encode("abc")),
    expected: "A9993E364706816ABA3E25717850C26C9CD0D89D",
  },
  {
    name: "SHA-256",
    run: (c) => c.sha256(new TextEncoder().encode("abc")),
    expected: "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
  },
  { name: "RSA public", run: (c) => c.modPow(h("0041"), h("11"), h("0CA1")), expected: "0AE6" },
  { name: "RSA private", run: (c) => c.modPow(h("0AE6"), h("0AC1"), h("0CA1")), expected: "0041" },
];

/**
 * Runs {@link SELF_TESTS} on a core.
 *
 * @param core the crypto core.
 * @throws {HsmError} `self_test` naming the first test that failed.
 */
export function runSelfTests(core: CryptoCore): void {
  for (const t of SELF_TESTS) {
    let got: string;
    try {
      got = toHex(t.run(core));
    } catch (e) {
      throw new HsmError(
        "self_test",
        `self-test ${t.name} threw on the ${core.name} core: ${(e as Error).message}`,
      );
    }
    if (got !== t.expected) {
      throw new HsmError(
        "self_test",
        `self-test ${t.name} failed on the ${core.name} core: the HSM does not start`,
      );
    }
  }
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
  #state: HsmState = "offline";
  #lmk: Uint8Array | undefined;
  #lmkKcv: string | undefined;
  /**
   * The LMK prepared for key blocks: a copy of the LMK with its KBEK/KBAK
   * (derived once, at first use), held here for the HSM's lifetime like the
   * LMK itself, so LMK blocks do not run the CMAC KDF per block.
   */
  #lmkKbpk: PreparedKbpk | undefined;
  /** Test mode: the marker optional block every LMK block and every TR-31 export carries. */
  #marker: { id: string; data: string } | undefined;
  readonly #version: "B" | "D";
  readonly #core: CryptoCore;
  readonly #audit: HsmAuditSink | undefined;
  readonly #observer: TestKeyObserver | undefined;

  private constructor(
    mode: HsmMode,
    algorithm: LmkAlgorithm,
    core: CryptoCore,
    audit: HsmAuditSink | undefined,
    observer: TestKeyObserver | undefined,
  ) {
    this.mode = mode;
    this.lmkAlgorithm = algorithm;
    this.#version = LMK_TYPES[algorithm].version;
    this.#core = core;
    this.#audit = audit;
    this.#observer = observer;
  }

  /** The HSM's state: "offline" (new), "secure" or "authorized". */
  get state(): HsmState {
    return this.#state;
  }

  /** Whether an LMK is loaded. */
  get hasLmk(): boolean {
    return this.#lmk !== undefined;
  }

  /**
   * The LMK's KCV, uppercase hex.
   *
   * @throws {HsmError} `no_lmk` before the LMK is loaded.
   */
  get lmkKcv(): string {
    if (this.#lmkKcv === undefined) {
      throw new HsmError("no_lmk", `lmkKcv: no LMK is loaded (state ${this.#state})`, {
        state: this.#state,
        operation: "lmkKcv",
      });
    }
    return this.#lmkKcv;
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
   * @throws {HsmError} `test_only` for a test-only option in production mode; `self_test`.
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
    if (mode === "production") {
      const extra = Object.entries(options).filter(([k, v]) =>
        v !== undefined && !PRODUCTION_OPTIONS.includes(k)
      ).map(([k]) => k);
      if (extra.length > 0) {
        const e = new HsmError(
          "test_only",
          `production mode refuses the test-only option${extra.length > 1 ? "s" : ""} ${
            extra.map((k) => `options.${k}`).join(", ")
          } (allowed: ${PRODUCTION_OPTIONS.join(", ")})`,
        );
        await audit?.({
          event: "hsm_refused",
          outcome: "failure",
          keyId: "HSM",
          detail: `${e.code}: ${e.message}`,
        });
        throw e;
      }
    }
    const observer = options.testKeyObserver;
    if (observer !== undefined && typeof observer !== "function") {
      throw new TypeError(`options.testKeyObserver must be a function, got ${describe(observer)}`);
    }
    const core = options.core ?? await loadCore();
    try {
      runSelfTests(core);
    } catch (e) {
      await audit?.({
        event: "self_test_failed",
        outcome: "failure",
        keyId: "HSM",
        detail: e instanceof HsmError ? `${e.code}: ${e.message}` : (e as Error).message,
      });
      throw e;
    }
    return new SoftwareHsm(mode, algorithm, core, audit, observer);
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
  async setState(state: HsmState, by = "operator"): Promise<void> {
    if (!HSM_STATES.includes(state)) {
      throw new RangeError(
        `state must be one of ${HSM_STATES.join(", ")}, got ${JSON.stringify(state)}`,
      );
    }
    if (typeof by !== "string") throw new TypeError(`by must be a string, got ${describe(by)}`);
    const from = this.#state;
    if (state === from) return;
    if (state === "authorized" && this.#lmk === undefined) {
      const e = new HsmError(
        "no_lmk",
        `setState: the HSM cannot enter the authorized state without an LMK (state ${from}; load it in secure)`,
        { state: from, operation: "setState" },
      );
      await this.#audit?.({
        event: "state_change_refused",
        outcome: "failure",
        keyId: "HSM",
        detail: `${e.code}: ${e.message}`,
      });
      throw e;
    }
    this.#state = state;
    await this.#audit?.({
      event: "state_changed",
      outcome: "success",
      keyId: "HSM",
      detail: `${from} -> ${state} by ${by.slice(0, 100)} (${this.mode} mode)`,
    });
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
  async loadLmk(
    components: readonly LmkComponent[],
    options: { lmkKcv?: string } = {},
  ): Promise<void> {
    if (!this.#allows("loadLmk")) await this.#refuseState("loadLmk");
    let combined: { key: Uint8Array; kcv: string };
    try {
      if (this.#lmk !== undefined) {
        throw new HsmError(
          "lmk_present",
          `loadLmk: an LMK (KCV ${this.#lmkKcv}) is already loaded; a new LMK needs a new HSM`,
        );
      }
      if (options === null || typeof options !== "object") {
        throw new TypeError(`options must be an object { lmkKcv? }, got ${describe(options)}`);
      }
      if (this.mode === "production" && options.lmkKcv === undefined) {
        throw new HsmError(
          "combined_kcv",
          "loadLmk: production mode needs the LMK's KCV from the key ceremony record (lmkKcv)",
        );
      }
      combined = await combineComponents(components, this.lmkAlgorithm, this.#core, {
        expectedKcv: options.lmkKcv,
        requireCustodians: true,
      });
      if (this.mode === "production") {
        const source = testLmkSource(combined.key, this.lmkAlgorithm);
        if (source !== undefined) {
          zeroize(combined.key);
          throw new HsmError(
            "test_lmk",
            `loadLmk: the combined LMK (KCV ${combined.kcv}) is a published test key (${source}); ` +
              "production mode refuses it",
          );
        }
      }
    } catch (e) {
      await this.#audit?.({
        event: "lmk_load_failed",
        outcome: "failure",
        keyId: "LMK",
        detail: e instanceof HsmError ? `${e.code}: ${e.message}` : (e as Error).message,
      });
      throw e;
    }
    this.#lmkKbpk = await prepareKbpk(combined.key, { core: this.#core });
    this.#lmk = combined.key;
    this.#lmkKcv = combined.kcv;
    if (this.mode === "test") {
      this.#marker = { id: TEST_KEY_BLOCK_ID, data: testMarker(combined.kcv) };
    }
    if (this.#observer) {
      for (const [i, c] of components.entries()) {
        const bytes = typeof c.key === "string" ? fromHex(c.key.toUpperCase()) : c.key;
        this.#see("component", `LMK component ${i + 1}`, bytes);
      }
      this.#see("lmk", "LMK", combined.key);
      await this.#seeDerived("the LMK", this.#version, combined.key);
    }
    const names = components.map((c) => c.custodian as string).join(", ");
    await this.#audit?.({
      event: "lmk_loaded",
      outcome: "success",
      keyId: "LMK",
      kcv: combined.kcv,
      detail: `${
        this.lmkAlgorithm === "aes" ? "AES-256" : "TDES"
      } LMK from ${components.length} components (custodians ${
        names.length > 300 ? `${names.slice(0, 300)}...` : names
      }; ${this.mode} mode)`,
    });
  }

  /**
   * Zeroes the LMK and its prepared key block keys and puts the HSM offline
   * with no LMK, so it refuses every operation (`wrong_state`) until an LMK
   * is loaded again. Used when an HSM instance ends before its process does
   * (an issuance worker's HSM at shutdown, see `pool.ts`). Not audited: the
   * instance is going away.
   */
  async destroy(): Promise<void> {
    const lmk = this.#lmk;
    const kbpk = this.#lmkKbpk;
    this.#lmk = undefined;
    this.#lmkKbpk = undefined;
    this.#lmkKcv = undefined;
    this.#marker = undefined;
    this.#state = "offline";
    zeroize(lmk);
    await kbpk?.destroy();
  }

  // ---- internals ----

  /** Test only: hands a copy of a clear key to the test key observer, if one is set. */
  #see(origin: ObservedKeyOrigin, what: string, bytes: Uint8Array): void {
    this.#observer?.({ origin, what, bytes: bytes.slice() });
  }

  /** Test only: the private parts of an RSA key (PKCS#8 DER or parsed) to the observer. */
  #seeRsa(origin: string, key: Uint8Array | RsaPrivateKey): void {
    if (!this.#observer) return;
    const k = key instanceof Uint8Array ? importPkcs8Der(key) : key;
    try {
      for (const part of ["d", "p", "q", "dp", "dq", "qi"] as const) {
        this.#see("rsa-private", `${part} of an RSA key (${origin})`, k[part]);
      }
    } finally {
      if (k !== key) zeroize(k.d, k.p, k.q, k.dp, k.dq, k.qi);
    }
  }

  /** Test only: the KBEK and KBAK a key block of `version` derives from `kbpk`, to the observer. */
  async #seeDerived(name: string, version: string, kbpk: Uint8Array): Promise<void> {
    if (!this.#observer || !"ABCDE".includes(version) || version.length !== 1) return;
    const keys = await deriveKeys(version as KeyBlockVersion, kbpk, this.#core);
    try {
      this.#see("derived", `KBEK of ${name} (version ${version})`, keys.kbek);
      this.#see("derived", `KBAK of ${name} (version ${version})`, keys.kbak);
    } finally {
      zeroizeDerived(keys); // with the KBAK's CMAC subkeys
    }
  }

  /** Whether the state allows `op` now (and an LMK is loaded, for every operation but loadLmk). */
  #allows(op: HsmOperation): boolean {
    return (OPERATION_STATES[op] as readonly HsmState[]).includes(this.#state) &&
      (this.#lmk !== undefined || op === "loadLmk");
  }

  /** Refuses `op` for the state (`wrong_state`) or the missing LMK (`no_lmk`), audited. */
  async #refuseState(op: HsmOperation): Promise<never> {
    const allowed: readonly HsmState[] = OPERATION_STATES[op];
    if (allowed.includes(this.#state)) {
      if (this.#lmk === undefined && op !== "loadLmk") {
        const e = new HsmError(
          "no_lmk",
          `${op}: no LMK is loaded (state ${this.#state}); load it in the secure state first`,
          { state: this.#state, operation: op },
        );
        await this.#audit?.({
          event: "operation_refused",
          outcome: "failure",
          keyId: "HSM",
          detail: `${e.code}: ${e.message}`,
        });
        throw e;
      }
    }
    const e = new HsmError(
      "wrong_state",
      `${op} is refused in the ${this.#state} state (allowed in: ${allowed.join(", ")})`,
      { state: this.#state, operation: op },
    );
    await this.#audit?.({
      event: "operation_refused",
      outcome: "failure",
      keyId: "HSM",
      detail: `${e.code}: ${e.message}`,
    });
    throw e;
  }

  /** Errors already written to the audit log (an error passes several layers). */
  readonly #audited = new WeakSet<HsmError>();

  async #refuse(e: HsmError, keyId: string): Promise<never> {
    if (this.#audited.has(e)) throw e;
    this.#audited.add(e);
    await this.#audit?.({
      event: "key_refused",
      outcome: "failure",
      keyId,
      detail: `${e.code}: ${e.message}`,
    });
    throw e;
  }

  /** Unwraps a block under `kbpk` (the LMK by default) and checks it against `rule`. */
  async #open(
    op: string,
    rule: RoleRule,
    name: string,
    keyBlock: unknown,
    kbpk: Uint8Array | PreparedKbpk = this.#lmkKbpk as PreparedKbpk,
    under = "the LMK",
  ): Promise<Opened> {
    checkBlockString(name, keyBlock);
    let r: Opened;
    try {
      r = await unwrapKeyBlock(kbpk, keyBlock, { core: this.#core });
    } catch (e) {
      if (e instanceof KeyBlockError) {
        return await this.#refuse(
          new HsmError(
            "key_block",
            `${op}: ${rule.role} (${name}) does not unwrap under ${under}: ${e.code}: ${e.message}`,
            { cause: e },
          ),
          rule.role,
        );
      }
      throw e;
    }
    try {
      if (
        this.mode === "production" &&
        r.header.optionalBlocks.some((b) => b.id === TEST_KEY_BLOCK_ID)
      ) {
        throw new HsmError(
          "test_key",
          `${op}: ${rule.role} (${name}) is a test key (optional block ${TEST_KEY_BLOCK_ID}): ` +
            "production mode refuses it",
        );
      }
      checkRule(op, rule, r.header);
      if (r.header.algorithm === "T" && r.key.length !== 16 && r.key.length !== 24) {
        throw new HsmError(
          "key_usage",
          `${op}: ${rule.role} is a ${r.key.length}-byte TDES key; 16 or 24 bytes required`,
        );
      }
    } catch (e) {
      zeroize(r.key);
      if (e instanceof HsmError) return await this.#refuse(e, `${rule.role} ${attrs(r.header)}`);
      throw e;
    }
    if (this.#observer) {
      if (kbpk instanceof Uint8Array) await this.#seeDerived(under, r.header.version, kbpk);
      if (r.header.algorithm === "R") this.#seeRsa(`${op}: ${name} ${attrs(r.header)}`, r.key);
      else this.#see("unwrapped", `${op}: ${rule.role} ${attrs(r.header)}`, r.key);
    }
    return r;
  }

  async #kcv(key: Uint8Array, algorithm: string): Promise<string> {
    return algorithm === "A"
      ? await keyCheckValue(key, "aes", AES_KCV_BYTES, this.#core)
      : await keyCheckValue(key, "tdes", TDES_KCV_BYTES, this.#core);
  }

  #hash(key: Uint8Array): string {
    return toHex(this.#core.sha256(key));
  }

  #lmkHeader(t: Required<KeyTemplate>): KeyBlockHeader {
    return {
      version: this.#version,
      keyUsage: t.keyUsage as KeyBlockHeader["keyUsage"],
      algorithm: t.algorithm,
      modeOfUse: t.modeOfUse as KeyBlockHeader["modeOfUse"],
      keyVersion: t.keyVersion,
      exportability: t.exportability,
      keyContext: "1",
      optionalBlocks: this.#marker ? [this.#marker] : [],
    };
  }

  async #wrapLmk(t: Required<KeyTemplate>, key: Uint8Array): Promise<string> {
    return await wrapKeyBlock(this.#lmkKbpk as PreparedKbpk, this.#lmkHeader(t), key, {
      core: this.#core,
    });
  }

  #newTdesKey(length: 16 | 24): Uint8Array {
    for (;;) {
      const raw = randomBytes(length);
      const key = setOddParity(raw);
      this.#see("generated", "random bytes of a TDES key (before parity)", raw);
      this.#see("generated", `a ${length}-byte TDES key`, key);
      zeroize(raw);
      try {
        checkNotDegenerate("key", key, "tdes");
        return key;
      } catch {
        zeroize(key);
      }
    }
  }

  async #checkImport(
    key: Uint8Array,
    algorithm: string,
    checks: ImportChecks,
  ): Promise<{ kcv: string; hash: string }> {
    const kcv = await this.#kcv(key, algorithm);
    const hash = this.#hash(key);
    if (checks.expectedKcv !== undefined) {
      const want = parseHexCheck("options.expectedKcv", checks.expectedKcv, 2, 16);
      const got = fromHex(
        await keyCheckValue(key, algorithm === "A" ? "aes" : "tdes", want.length, this.#core),
      );
      if (!timingSafeEqual(got, want)) {
        throw new HsmError(
          "kcv_mismatch",
          `the imported key's KCV differs from the expected ${toHex(want)}`,
        );
      }
    }
    if (checks.expectedHash !== undefined) {
      const want = parseHexCheck("options.expectedHash", checks.expectedHash, 32, 32);
      if (!timingSafeEqual(fromHex(hash), want)) {
        throw new HsmError(
          "hash_mismatch",
          "the imported key's SHA-256 differs from the expected hash",
        );
      }
    }
    return { kcv, hash };
  }

  #checkKekHash(kek: Uint8Array, expected: string | undefined): void {
    if (expected === undefined) return;
    const want = parseHexCheck("options.expectedKekHash", expected, 32, 32);
    if (!timingSafeEqual(this.#core.sha256(kek), want)) {
      throw new HsmError(
        "hash_mismatch",
        "the KEK's SHA-256 differs from the expected hash (TK hash check)",
      );
    }
  }

  /** Wraps `key` (attributes `h`) under the clear KEK `kek` (attributes `kekHeader`) in `format`. */
  async #wrapUnderKek(
    op: string,
    key: Uint8Array,
    h: {
      keyUsage: string;
      algorithm: string;
      modeOfUse: string;
      exportability: string;
      keyVersion: string;
    },
    kek: Uint8Array,
    kekAlgorithm: string,
    format: WrapFormat,
    checkExportable = true,
  ): Promise<string> {
    if (checkExportable) checkRule(op, format === "ecb" ? RULES.exportEcb : RULES.exportTrusted, h);
    if (format === "ecb") {
      if (kekAlgorithm !== "T") {
        throw new HsmError(
          "key_usage",
          `${op}: ECB export needs a TDES KEK, got algorithm ${kekAlgorithm}`,
        );
      }
      if (key.length > kek.length) {
        throw new HsmError(
          "key_usage",
          `${op}: a ${key.length}-byte key cannot be exported under a weaker ${kek.length}-byte KEK`,
        );
      }
      return toHex(this.#core.tdesEncryptEcb(kek, key));
    }
    const header: KeyBlockHeader = {
      version: kekAlgorithm === "A" ? "D" : "B",
      keyUsage: h.keyUsage as KeyBlockHeader["keyUsage"],
      algorithm: h.algorithm as KeyBlockHeader["algorithm"],
      modeOfUse: h.modeOfUse as KeyBlockHeader["modeOfUse"],
      keyVersion: h.keyVersion,
      exportability: h.exportability as KeyBlockHeader["exportability"],
      keyContext: "2",
      // A test HSM's keys stay recognisable where they go: the marker travels too.
      optionalBlocks: this.#marker ? [this.#marker] : [],
    };
    try {
      await this.#seeDerived(`the KEK of ${op}`, header.version, kek);
      return await wrapKeyBlock(kek, header, key, { core: this.#core });
    } catch (e) {
      if (e instanceof RangeError) {
        throw new HsmError("key_usage", `${op}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  async #guard<T>(fn: () => Promise<T>, keyId: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (
        e instanceof HsmError &&
        (e.code === "key_usage" || e.code === "kcv_mismatch" || e.code === "hash_mismatch" ||
          e.code === "decrypt_failed" || e.code === "weak_key")
      ) {
        return await this.#refuse(e, keyId);
      }
      throw e;
    }
  }

  // ---- operations ----

  async generateKey(template: KeyTemplate): Promise<KeyResult> {
    if (!this.#allows("generateKey")) await this.#refuseState("generateKey");
    const t = checkTemplate("template", template);
    if (t.algorithm !== "T") {
      throw new RangeError(
        'template.algorithm must be "T" for generateKey; use generateRsaKeyPair for RSA',
      );
    }
    const key = this.#newTdesKey(t.length);
    try {
      return { keyBlock: await this.#wrapLmk(t, key), kcv: await this.#kcv(key, "T") };
    } finally {
      zeroize(key);
    }
  }

  async importKeyFromComponents(
    components: readonly LmkComponent[],
    template: KeyTemplate,
  ): Promise<KeyResult> {
    if (!this.#allows("importKeyFromComponents")) {
      await this.#refuseState("importKeyFromComponents");
    }
    const t = checkTemplate("template", template);
    if (t.algorithm !== "T") {
      throw new RangeError('template.algorithm must be "T" for key components');
    }
    // The LMK's component rules apply: two or more, each checked against its KCV; in production
    // mode each names its custodian, all different (dual control, as for the LMK).
    const { key, kcv } = await this.#guard(
      () =>
        combineComponents(components, "tdes", this.#core, {
          length: t.length,
          what: "key",
          requireCustodians: this.mode === "production",
        }),
      `the key ${attrs(t)} from components`,
    );
    if (this.#observer) {
      for (const [i, c] of components.entries()) {
        const bytes = typeof c.key === "string" ? fromHex(c.key.toUpperCase()) : c.key;
        this.#see("component", `component ${i + 1} of the key ${attrs(t)}`, bytes);
      }
      this.#see("formed", `the key ${attrs(t)} from components`, key);
    }
    try {
      return { keyBlock: await this.#wrapLmk(t, key), kcv };
    } finally {
      zeroize(key);
    }
  }

  async keyInfo(keyBlock: string): Promise<KeyInfo> {
    if (!this.#allows("keyInfo")) await this.#refuseState("keyInfo");
    const rule: RoleRule = {
      role: "the key",
      usages: null,
      algorithms: ["T", "A", "R"],
      modes: null,
      exportability: null,
    };
    const { header, key } = await this.#open("keyInfo", rule, "keyBlock", keyBlock);
    try {
      return {
        version: header.version,
        keyUsage: header.keyUsage,
        algorithm: header.algorithm,
        modeOfUse: header.modeOfUse,
        exportability: header.exportability,
        keyVersion: header.keyVersion,
        length: key.length,
        kcv: header.algorithm === "R" ? null : await this.#kcv(key, header.algorithm),
      };
    } finally {
      zeroize(key);
    }
  }

  async keyCheckValue(keyBlock: string): Promise<string> {
    if (!this.#allows("keyCheckValue")) await this.#refuseState("keyCheckValue");
    const { header, key } = await this.#open(
      "keyCheckValue",
      RULES.checkValue,
      "keyBlock",
      keyBlock,
    );
    try {
      return await this.#kcv(key, header.algorithm);
    } finally {
      zeroize(key);
    }
  }

  async keyHash(keyBlock: string): Promise<string> {
    if (!this.#allows("keyHash")) await this.#refuseState("keyHash");
    const { key } = await this.#open("keyHash", RULES.checkValue, "keyBlock", keyBlock);
    try {
      return this.#hash(key);
    } finally {
      zeroize(key);
    }
  }

  async exportKey(
    keyBlock: string,
    kekBlock: string,
    options: ExportOptions = {},
  ): Promise<ExportResult> {
    if (!this.#allows("exportKey")) await this.#refuseState("exportKey");
    const format = checkFormat(options?.format);
    const kek = await this.#open("exportKey", RULES.kekWrap, "kekBlock", kekBlock);
    let k: Opened | undefined;
    try {
      return await this.#guard(async () => {
        this.#checkKekHash(kek.key, options.expectedKekHash);
        k = await this.#open(
          "exportKey",
          format === "ecb" ? RULES.exportEcb : RULES.exportTrusted,
          "keyBlock",
          keyBlock,
        );
        const exported = await this.#wrapUnderKek(
          "exportKey",
          k.key,
          k.header,
          kek.key,
          kek.header.algorithm,
          format,
        );
        return { exported, kcv: await this.#kcv(k.key, k.header.algorithm) };
      }, `the exported key under ${attrs(kek.header)}`);
    } finally {
      zeroize(kek.key, k?.key);
    }
  }

  async importKey(
    wrapped: string,
    kekBlock: string,
    options: ImportChecks & { template: KeyTemplate; format?: WrapFormat },
  ): Promise<ImportResult> {
    if (!this.#allows("importKey")) await this.#refuseState("importKey");
    if (options === null || typeof options !== "object") {
      throw new TypeError(`options must be an object with a template, got ${describe(options)}`);
    }
    const t = checkTemplate("options.template", options.template);
    if (t.algorithm !== "T") throw new RangeError('options.template.algorithm must be "T"');
    const format = checkFormat(options.format);
    if (typeof wrapped !== "string") {
      throw new TypeError(`wrapped must be a string, got ${describe(wrapped)}`);
    }
    const kek = await this.#open("importKey", RULES.kekUnwrap, "kekBlock", kekBlock);
    let key: Uint8Array | undefined;
    try {
      if (format === "ecb") {
        const ct = parseHexCheck("wrapped", wrapped, t.length, t.length);
        if (kek.header.algorithm !== "T") {
          throw new HsmError(
            "key_usage",
            `importKey: ECB import needs a TDES KEK, got algorithm ${kek.header.algorithm}`,
          );
        }
        key = this.#core.tdesDecryptEcb(kek.key, ct);
        this.#see("imported", `importKey (ECB): ${attrs(t)}`, key);
      } else {
        const inner = await this.#open(
          "importKey",
          {
            role: "the imported key",
            usages: [t.keyUsage],
            algorithms: [t.algorithm],
            modes: null,
            exportability: null,
          },
          "wrapped",
          wrapped,
          kek.key,
          "the KEK",
        );
        key = inner.key;
        if (key.length !== t.length) {
          throw new HsmError(
            "key_usage",
            `importKey: the imported key is ${key.length} bytes, the template says ${t.length}`,
          );
        }
      }
      const k = key;
      return await this.#guard(async () => {
        checkNotDegenerate("the imported key", k, "tdes");
        const { kcv, hash } = await this.#checkImport(k, "T", options);
        return { keyBlock: await this.#wrapLmk(t, k), kcv, hash };
      }, `the imported key ${attrs(t)}`);
    } finally {
      zeroize(kek.key, key);
    }
  }

  async generateKeyUnderKek(
    template: KeyTemplate,
    kekBlock: string,
    options: ExportOptions = {},
  ): Promise<KeyResult & { exported: string }> {
    if (!this.#allows("generateKeyUnderKek")) await this.#refuseState("generateKeyUnderKek");
    const t = checkTemplate("template", template);
    if (t.algorithm !== "T") throw new RangeError('template.algorithm must be "T"');
    const format = checkFormat(options?.format);
    const kek = await this.#open("generateKeyUnderKek", RULES.kekWrap, "kekBlock", kekBlock);
    const key = this.#newTdesKey(t.length);
    try {
      return await this.#guard(async () => {
        this.#checkKekHash(kek.key, options.expectedKekHash);
        const exported = await this.#wrapUnderKek(
          "generateKeyUnderKek",
          key,
          t,
          kek.key,
          kek.header.algorithm,
          format,
        );
        return { keyBlock: await this.#wrapLmk(t, key), exported, kcv: await this.#kcv(key, "T") };
      }, `the generated key ${attrs(t)}`);
    } finally {
      zeroize(kek.key, key);
    }
  }

  async generateMac(
    makBlock: string,
    data: Uint8Array,
    options?: { padding?: 1 | 2 },
  ): Promise<Uint8Array> {
    if (!this.#allows("generateMac")) await this.#refuseState("generateMac");
    const padding = checkPadding(options);
    checkBytes("data", data);
    const { key } = await this.#open("generateMac", RULES.macGenerate, "makBlock", makBlock);
    try {
      if (key.length !== 16) {
        throw new HsmError(
          "key_usage",
          `generateMac: the MAC key must be 16 bytes (K || K'), got ${key.length}`,
        );
      }
      return await retailMac(key, data, { padding, core: this.#core });
    } finally {
      zeroize(key);
    }
  }

  async verifyMac(
    makBlock: string,
    data: Uint8Array,
    mac: Uint8Array,
    options?: { padding?: 1 | 2 },
  ): Promise<boolean> {
    if (!this.#allows("verifyMac")) await this.#refuseState("verifyMac");
    const padding = checkPadding(options);
    checkBytes("data", data);
    checkBytes("mac", mac);
    if (mac.length < 4 || mac.length > 8) {
      throw new RangeError(`mac must be 4 to 8 bytes, got ${mac.length}`);
    }
    const { key } = await this.#open("verifyMac", RULES.macVerify, "makBlock", makBlock);
    try {
      if (key.length !== 16) {
        throw new HsmError(
          "key_usage",
          `verifyMac: the MAC key must be 16 bytes (K || K'), got ${key.length}`,
        );
      }
      return await retailMacVerify(key, data, mac, { padding, core: this.#core });
    } finally {
      zeroize(key);
    }
  }

  async #ecb(
    op: "encryptData" | "decryptData",
    keyBlock: string,
    data: Uint8Array,
  ): Promise<Uint8Array> {
    if (!this.#allows(op)) await this.#refuseState(op);
    checkBytes("data", data);
    if (data.length === 0 || data.length % 8 !== 0 || data.length > MAX_DATA) {
      throw new RangeError(
        `data must be whole 8-byte blocks, 8 to ${MAX_DATA} bytes, got ${data.length}`,
      );
    }
    const { key } = await this.#open(
      op,
      op === "encryptData" ? RULES.encrypt : RULES.decrypt,
      "keyBlock",
      keyBlock,
    );
    try {
      return op === "encryptData"
        ? this.#core.tdesEncryptEcb(key, data)
        : this.#core.tdesDecryptEcb(key, data);
    } finally {
      zeroize(key);
    }
  }

  encryptData(keyBlock: string, data: Uint8Array): Promise<Uint8Array> {
    return this.#ecb("encryptData", keyBlock, data);
  }

  decryptData(keyBlock: string, data: Uint8Array): Promise<Uint8Array> {
    return this.#ecb("decryptData", keyBlock, data);
  }

  async generateRsaKeyPair(
    options: { bits?: number; template?: KeyTemplate } = {},
  ): Promise<RsaKeyPairResult> {
    if (!this.#allows("generateRsaKeyPair")) await this.#refuseState("generateRsaKeyPair");
    if (options === null || typeof options !== "object") {
      throw new TypeError(`options must be an object, got ${describe(options)}`);
    }
    const t = checkTemplate("options.template", options.template ?? KEY_TEMPLATES.RSA_TRANSPORT);
    if (t.algorithm !== "R") {
      throw new RangeError('options.template.algorithm must be "R" for an RSA key pair');
    }
    const { privateKey, publicKey } = await generateRsaKeyPair({
      bits: options.bits ?? 2048,
      core: this.#core,
    });
    this.#seeRsa(`generateRsaKeyPair ${attrs(t)}`, privateKey);
    const der = exportPkcs8Der(privateKey);
    try {
      return { privateKeyBlock: await this.#wrapLmk(t, der), publicKey };
    } finally {
      zeroize(
        der,
        privateKey.d,
        privateKey.p,
        privateKey.q,
        privateKey.dp,
        privateKey.dq,
        privateKey.qi,
      );
    }
  }

  async importRsaPrivateKey(
    privateKey: RsaPrivateKey,
    template: KeyTemplate,
  ): Promise<RsaKeyPairResult> {
    if (!this.#allows("importRsaPrivateKey")) await this.#refuseState("importRsaPrivateKey");
    const t = checkTemplate("template", template);
    if (t.algorithm !== "R") {
      throw new RangeError('template.algorithm must be "R" for an RSA private key');
    }
    validateRsaPrivateKey(privateKey);
    this.#seeRsa(`importRsaPrivateKey ${attrs(t)}`, privateKey);
    const der = exportPkcs8Der(privateKey);
    try {
      return { privateKeyBlock: await this.#wrapLmk(t, der), publicKey: publicKeyOf(privateKey) };
    } finally {
      zeroize(der);
    }
  }

  async sign(privateKeyBlock: string, message: Uint8Array): Promise<Uint8Array> {
    if (!this.#allows("sign")) await this.#refuseState("sign");
    checkBytes("message", message);
    const pk = await this.#open("sign", RULES.sign, "privateKeyBlock", privateKeyBlock);
    let privateKey: RsaPrivateKey;
    try {
      privateKey = importPkcs8Der(pk.key);
    } finally {
      zeroize(pk.key);
    }
    try {
      return await pkcs1v15Sign(privateKey, message, { core: this.#core });
    } finally {
      zeroize(
        privateKey.d,
        privateKey.p,
        privateKey.q,
        privateKey.dp,
        privateKey.dq,
        privateKey.qi,
      );
    }
  }

  /** RSA-OAEP-decrypts a key with an HSM private key; the same `decrypt_failed` for every failure. */
  async #rsaUnwrap(
    op: string,
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    hash: "SHA-256" | "SHA-1",
    length: number,
  ): Promise<Uint8Array> {
    checkBytes("ciphertext", ciphertext);
    const pk = await this.#open(op, RULES.rsaUnwrap, "privateKeyBlock", privateKeyBlock);
    let privateKey;
    try {
      privateKey = importPkcs8Der(pk.key);
    } finally {
      zeroize(pk.key);
    }
    let key: Uint8Array | undefined;
    try {
      key = await oaepDecrypt(privateKey, ciphertext, { hash, core: this.#core });
    } catch {
      // Whatever failed (length, range, padding): one error, one message.
    } finally {
      zeroize(
        privateKey.d,
        privateKey.p,
        privateKey.q,
        privateKey.dp,
        privateKey.dq,
        privateKey.qi,
      );
    }
    if (key !== undefined) this.#see("imported", `${op}: the RSA-encrypted key`, key);
    if (key === undefined || key.length !== length) {
      zeroize(key);
      return await this.#refuse(
        new HsmError("decrypt_failed", `${op}: the RSA-encrypted key does not decrypt`),
        "the RSA private key",
      );
    }
    return key;
  }

  async importKeyRsa(
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    options: ImportChecks & { template: KeyTemplate; hash?: "SHA-256" | "SHA-1" },
  ): Promise<ImportResult> {
    if (!this.#allows("importKeyRsa")) await this.#refuseState("importKeyRsa");
    if (options === null || typeof options !== "object") {
      throw new TypeError(`options must be an object with a template, got ${describe(options)}`);
    }
    const t = checkTemplate("options.template", options.template);
    if (t.algorithm !== "T") throw new RangeError('options.template.algorithm must be "T"');
    const hash = checkOaepHash(options.hash);
    const key = await this.#rsaUnwrap("importKeyRsa", privateKeyBlock, ciphertext, hash, t.length);
    try {
      return await this.#guard(async () => {
        checkNotDegenerate("the imported key", key, "tdes");
        const c = await this.#checkImport(key, "T", options);
        return { keyBlock: await this.#wrapLmk(t, key), ...c };
      }, `the imported key ${attrs(t)}`);
    } finally {
      zeroize(key);
    }
  }

  async translateKeyFromRsa(
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    kekBlock: string,
    options: ImportChecks & { template: KeyTemplate; hash?: "SHA-256" | "SHA-1" },
  ): Promise<ExportResult & { hash: string }> {
    if (!this.#allows("translateKeyFromRsa")) await this.#refuseState("translateKeyFromRsa");
    if (options === null || typeof options !== "object") {
      throw new TypeError(`options must be an object with a template, got ${describe(options)}`);
    }
    const t = checkTemplate("options.template", options.template);
    if (t.algorithm !== "T") throw new RangeError('options.template.algorithm must be "T"');
    const hash = checkOaepHash(options.hash);
    const kek = await this.#open("translateKeyFromRsa", RULES.kekWrap, "kekBlock", kekBlock);
    let key: Uint8Array | undefined;
    try {
      key = await this.#rsaUnwrap(
        "translateKeyFromRsa",
        privateKeyBlock,
        ciphertext,
        hash,
        t.length,
      );
      const k = key;
      return await this.#guard(async () => {
        checkNotDegenerate("the imported key", k, "tdes");
        const c = await this.#checkImport(k, "T", options);
        // The key arrived under the HSM's public key to be re-encrypted, so
        // its exportability is that of its new home; it crosses as a TR-31 block.
        const exported = await this.#wrapUnderKek(
          "translateKeyFromRsa",
          k,
          t,
          kek.key,
          kek.header.algorithm,
          "tr31",
          false,
        );
        return { exported, ...c };
      }, `the translated key ${attrs(t)}`);
    } finally {
      zeroize(kek.key, key);
    }
  }

  async exportKeyRsa(
    keyBlock: string,
    publicKey: RsaPublicKey,
    options: { hash?: "SHA-256" | "SHA-1" } = {},
  ): Promise<{ ciphertext: Uint8Array; kcv: string }> {
    if (!this.#allows("exportKeyRsa")) await this.#refuseState("exportKeyRsa");
    if (options === null || typeof options !== "object") {
      throw new TypeError(`options must be an object, got ${describe(options)}`);
    }
    const hash = checkOaepHash(options.hash);
    if (publicKey === null || typeof publicKey !== "object") {
      throw new TypeError(
        `publicKey must be an RSA public key { n, e }, got ${describe(publicKey)}`,
      );
    }
    const k = await this.#open("exportKeyRsa", RULES.exportTrusted, "keyBlock", keyBlock);
    try {
      const ciphertext = await oaepEncrypt(publicKey, k.key, { hash, core: this.#core });
      return { ciphertext, kcv: await this.#kcv(k.key, k.header.algorithm) };
    } finally {
      zeroize(k.key);
    }
  }
}
