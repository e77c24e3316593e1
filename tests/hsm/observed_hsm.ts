/**
 * TESTS ONLY: an HSM that observes every clear key. {@link ObservedHsm}
 * wraps a real HSM (a {@link SoftwareHsm}) and, knowing its LMK (it sees the
 * components loaded), recovers each clear key an operation creates or
 * recovers inside the HSM: the LMK and its components with the LMK's
 * KBEK/KBAK, keys formed from components, keys generated (unwrapped from
 * the block the HSM returns), every key block given to the HSM (unwrapped
 * under the LMK or, for imports, under the KEK), the KBEK/KBAK derived from
 * each KEK, keys sent under ECB or RSA-OAEP, and the private parts of RSA
 * keys. Each goes to the observer as a copy. The key scan (SECURITY.md)
 * searches a run's artefacts for them; `observer_test.ts` checks each
 * against an independent implementation.
 *
 * The product has no such hook: a test passes {@link observedHsmFactory} where
 * a server takes its HSM factory.
 *
 * @module
 */
import {
  type CryptoCore,
  loadCore,
  type RsaPrivateKey,
  type RsaPublicKey,
} from "../../src/core/mod.ts";
import { fromHex, importPkcs8Der, kdfCmacCounter, oaepDecrypt } from "../../src/crypto/mod.ts";
import {
  combineComponents,
  type Derivation,
  type ExportOptions,
  type ExportResult,
  type Hsm,
  type HsmState,
  type ImportChecks,
  type ImportResult,
  type KeyInfo,
  type KeyResult,
  type KeyTemplate,
  type LmkAlgorithm,
  type LmkComponent,
  type LmkLoad,
  type RoleRule,
  type RsaKeyPairResult,
  RULES,
  SoftwareHsm,
  type SoftwareHsmOptions,
  type Tr34ExportOptions,
  type Tr34ExportResult,
  type WrapFormat,
} from "../../src/hsm/mod.ts";
import {
  deriveKeys,
  type KeyBlockVersion,
  type PreparedKbpk,
  prepareKbpk,
  unwrapKeyBlock,
  type UnwrappedKey,
  zeroizeDerived,
} from "../../src/keyblock/mod.ts";
import { type HsmFactory, openHsm, parseComponents } from "../../servers/_lib/hsm.ts";

/**
 * Where an observed clear key came from: the LMK and its components, a key
 * formed from components, a key the HSM generated, a key it imported
 * (decrypted from ECB or RSA-OAEP), a key block it unwrapped, a KBEK/KBAK
 * it derived from a key block protection key, or the private parts of an
 * RSA key it generated, imported or unwrapped.
 */
export type ObservedKeyOrigin =
  | "lmk"
  | "component"
  | "formed"
  | "generated"
  | "imported"
  | "unwrapped"
  | "derived"
  | "rsa-private";

/** One clear key handed to a {@link TestKeyObserver}. */
export interface ObservedKey {
  readonly origin: ObservedKeyOrigin;
  /** What it is, e.g. "a 16-byte TDES key", "KBAK of the LMK (version D)", "p of an RSA key (...)". */
  readonly what: string;
  /** A copy of the clear bytes. */
  readonly bytes: Uint8Array;
}

/** Receives each clear key an {@link ObservedHsm} sees; an exception it throws propagates. */
export type TestKeyObserver = (key: ObservedKey) => void;

const attrs = (h: { keyUsage: string; algorithm: string; modeOfUse: string }) =>
  `${h.keyUsage}/${h.algorithm}/${h.modeOfUse}`;

/** The version of the TR-31 blocks the HSM wraps under a KEK of `algorithm`. */
const kekVersion = (algorithm: string): KeyBlockVersion => algorithm === "A" ? "D" : "B";

function checkObserver(observer: unknown): void {
  if (typeof observer !== "function") {
    const got = observer === null ? "null" : typeof observer;
    throw new TypeError(`options.testKeyObserver must be a function, got ${got}`);
  }
}

/** An HSM whose clear keys go to an observer (see the module description). */
export class ObservedHsm implements Hsm {
  readonly #inner: Hsm;
  readonly #core: CryptoCore;
  readonly #observer: TestKeyObserver;
  #lmk: PreparedKbpk | undefined;

  /**
   * @param inner the HSM observed.
   * @param core the crypto core the observer unwraps with.
   * @param observer where the keys go.
   */
  constructor(inner: Hsm, core: CryptoCore, observer: TestKeyObserver) {
    checkObserver(observer);
    this.#inner = inner;
    this.#core = core;
    this.#observer = observer;
  }

  get lmkAlgorithm(): LmkAlgorithm {
    return this.#inner.lmkAlgorithm;
  }
  get lmkKcv(): string {
    return this.#inner.lmkKcv;
  }
  get mode(): SoftwareHsmOptions["mode"] {
    return this.#inner.mode;
  }
  get state(): HsmState {
    return this.#inner.state;
  }

  setState(state: HsmState, by?: string): Promise<void> {
    return this.#inner.setState(state, by);
  }

  async loadLmk(components: readonly LmkComponent[], options?: { lmkKcv?: string }) {
    await this.#inner.loadLmk(components, options);
    await this.observeLmk(components);
  }

  /** Observes the LMK of an HSM that loaded it from `components` (and the components). */
  async observeLmk(components: readonly LmkComponent[]): Promise<void> {
    this.#seeComponents(components, (i) => `LMK component ${i + 1}`);
    const { key } = await combineComponents(components, this.lmkAlgorithm, this.#core);
    this.#see("lmk", "LMK", key);
    await this.#seeDerived("the LMK", this.lmkAlgorithm === "aes" ? "D" : "B", key);
    this.#lmk = await prepareKbpk(key, { core: this.#core });
  }

  #see(origin: ObservedKeyOrigin, what: string, bytes: Uint8Array): void {
    this.#observer({ origin, what, bytes: bytes.slice() });
  }

  #seeComponents(components: readonly LmkComponent[], what: (i: number) => string): void {
    for (const [i, c] of components.entries()) {
      this.#see("component", what(i), typeof c.key === "string" ? fromHex(c.key) : c.key);
    }
  }

  /** The private parts of an RSA key (PKCS#8 DER or parsed). */
  #seeRsa(origin: string, key: Uint8Array | RsaPrivateKey): void {
    const k = key instanceof Uint8Array ? importPkcs8Der(key) : key;
    for (const part of ["d", "p", "q", "dp", "dq", "qi"] as const) {
      this.#see("rsa-private", `${part} of an RSA key (${origin})`, k[part]);
    }
  }

  /** The KBEK and KBAK a key block of `version` derives from `kbpk`. */
  async #seeDerived(name: string, version: KeyBlockVersion, kbpk: Uint8Array): Promise<void> {
    const keys = await deriveKeys(version, kbpk, this.#core);
    this.#see("derived", `KBEK of ${name} (version ${version})`, keys.kbek);
    this.#see("derived", `KBAK of ${name} (version ${version})`, keys.kbak);
    zeroizeDerived(keys);
  }

  /** Unwraps a block under `kbpk` (the LMK by default); undefined where the HSM would refuse it. */
  async #unwrap(block: unknown, kbpk?: Uint8Array): Promise<UnwrappedKey | undefined> {
    const under = kbpk ?? this.#lmk;
    if (typeof block !== "string" || under === undefined) return undefined;
    try {
      return await unwrapKeyBlock(under, block, { core: this.#core });
    } catch {
      return undefined;
    }
  }

  /** Observes a key block given to `op` in `rule`'s role; returns the clear key. */
  async #seeBlock(
    op: string,
    rule: RoleRule,
    name: string,
    block: unknown,
  ): Promise<UnwrappedKey | undefined> {
    const r = await this.#unwrap(block);
    if (r?.header.algorithm === "R") this.#seeRsa(`${op}: ${name} ${attrs(r.header)}`, r.key);
    else if (r) this.#see("unwrapped", `${op}: ${rule.role} ${attrs(r.header)}`, r.key);
    return r;
  }

  /** Observes a TDES key the HSM generated, from the block under the LMK it returned. */
  async #seeGenerated(keyBlock: string): Promise<void> {
    const r = await this.#unwrap(keyBlock);
    if (r) this.#see("generated", `a ${r.key.length}-byte TDES key`, r.key);
  }

  /** Observes a key sent RSA-OAEP-encrypted under an HSM private key (and the private key). */
  async #seeRsaImport(
    op: string,
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    hash: "SHA-256" | "SHA-1" | undefined,
  ): Promise<void> {
    const r = await this.#seeBlock(op, RULES.rsaUnwrap, "privateKeyBlock", privateKeyBlock);
    if (r?.header.algorithm !== "R") return;
    const pk = importPkcs8Der(r.key);
    try {
      const key = await oaepDecrypt(pk, ciphertext, { hash: hash ?? "SHA-256", core: this.#core });
      this.#see("imported", `${op}: the RSA-encrypted key`, key);
    } catch {
      // the HSM refuses it: no key
    }
  }

  async generateKey(template: KeyTemplate): Promise<KeyResult> {
    const r = await this.#inner.generateKey(template);
    await this.#seeGenerated(r.keyBlock);
    return r;
  }

  async importKeyFromComponents(
    components: readonly LmkComponent[],
    template: KeyTemplate,
  ): Promise<KeyResult> {
    const r = await this.#inner.importKeyFromComponents(components, template);
    this.#seeComponents(components, (i) => `component ${i + 1} of the key ${attrs(template)}`);
    const formed = await this.#unwrap(r.keyBlock);
    if (formed) this.#see("formed", `the key ${attrs(template)} from components`, formed.key);
    return r;
  }

  async keyInfo(keyBlock: string): Promise<KeyInfo> {
    await this.#seeBlock("keyInfo", { ...RULES.checkValue, role: "the key" }, "keyBlock", keyBlock);
    return await this.#inner.keyInfo(keyBlock);
  }

  async keyCheckValue(keyBlock: string): Promise<string> {
    await this.#seeBlock("keyCheckValue", RULES.checkValue, "keyBlock", keyBlock);
    return await this.#inner.keyCheckValue(keyBlock);
  }

  async keyHash(keyBlock: string): Promise<string> {
    await this.#seeBlock("keyHash", RULES.checkValue, "keyBlock", keyBlock);
    return await this.#inner.keyHash(keyBlock);
  }

  /** Observes a KEK under the LMK and, for a TR-31 export, the KBEK/KBAK derived from it. */
  async #seeKek(op: string, kekBlock: string, format: WrapFormat | undefined): Promise<void> {
    const kek = await this.#seeBlock(op, RULES.kekWrap, "kekBlock", kekBlock);
    if (kek && format !== "ecb") {
      await this.#seeDerived(`the KEK of ${op}`, kekVersion(kek.header.algorithm), kek.key);
    }
  }

  async exportKey(
    keyBlock: string,
    kekBlock: string,
    options?: ExportOptions,
  ): Promise<ExportResult> {
    await this.#seeKek("exportKey", kekBlock, options?.format);
    const rule = options?.format === "ecb" ? RULES.exportEcb : RULES.exportTrusted;
    await this.#seeBlock("exportKey", rule, "keyBlock", keyBlock);
    return await this.#inner.exportKey(keyBlock, kekBlock, options);
  }

  async importKey(
    wrapped: string,
    kekBlock: string,
    options: ImportChecks & { template: KeyTemplate; format?: WrapFormat },
  ): Promise<ImportResult> {
    const kek = await this.#seeBlock("importKey", RULES.kekUnwrap, "kekBlock", kekBlock);
    if (kek && options?.format === "ecb" && /^([0-9A-Fa-f]{16}){2,3}$/.test(wrapped)) {
      const key = this.#core.tdesDecryptEcb(kek.key, fromHex(wrapped));
      this.#see("imported", `importKey (ECB): ${attrs(options.template)}`, key);
    } else if (kek) {
      const r = await this.#unwrap(wrapped, kek.key);
      if (r) {
        await this.#seeDerived("the KEK", r.header.version, kek.key);
        this.#see("unwrapped", `importKey: the imported key ${attrs(r.header)}`, r.key);
      }
    }
    return await this.#inner.importKey(wrapped, kekBlock, options);
  }

  async generateKeyUnderKek(
    template: KeyTemplate,
    kekBlock: string,
    options?: ExportOptions,
  ): Promise<KeyResult & { exported: string }> {
    await this.#seeKek("generateKeyUnderKek", kekBlock, options?.format);
    const r = await this.#inner.generateKeyUnderKek(template, kekBlock, options);
    await this.#seeGenerated(r.keyBlock);
    return r;
  }

  async generateMac(
    makBlock: string,
    data: Uint8Array,
    options?: { padding?: 1 | 2 },
  ): Promise<Uint8Array> {
    await this.#seeBlock("generateMac", RULES.macGenerate, "makBlock", makBlock);
    return await this.#inner.generateMac(makBlock, data, options);
  }

  async verifyMac(
    makBlock: string,
    data: Uint8Array,
    mac: Uint8Array,
    options?: { padding?: 1 | 2 },
  ): Promise<boolean> {
    await this.#seeBlock("verifyMac", RULES.macVerify, "makBlock", makBlock);
    return await this.#inner.verifyMac(makBlock, data, mac, options);
  }

  async verifyDerivedMac(
    keyBlock: string,
    derivation: Derivation,
    data: Uint8Array,
    mac: Uint8Array,
  ): Promise<boolean> {
    const base = await this.#seeBlock(
      "verifyDerivedMac",
      RULES.deriveMacVerify,
      "keyBlock",
      keyBlock,
    );
    if (base && typeof derivation?.label === "string" && derivation.context instanceof Uint8Array) {
      const label = new TextEncoder().encode(derivation.label);
      if (label.length > 0 && label.length <= 255 && derivation.context.length <= 255) {
        const k = await kdfCmacCounter(base.key, label, derivation.context, base.key.length, {
          cipher: "tdes",
          core: this.#core,
        });
        this.#see("derived", `the key derived for "${derivation.label}"`, k);
      }
    }
    return await this.#inner.verifyDerivedMac(keyBlock, derivation, data, mac);
  }

  /** Observes a successor hand-over: the current key, the key exchange key derived from it. */
  async #seeSuccessorKek(
    op: string,
    currentBlock: string,
    context: unknown,
  ): Promise<Uint8Array | undefined> {
    const base = await this.#seeBlock(op, RULES.successorBase, "currentBlock", currentBlock);
    if (!base || !(context instanceof Uint8Array) || context.length === 0) return undefined;
    const label = new TextEncoder().encode("HSM successor key exchange");
    const kek = await kdfCmacCounter(base.key, label, context, 24, {
      cipher: "tdes",
      core: this.#core,
    });
    this.#see("derived", `${op}: the successor's key exchange key`, kek);
    await this.#seeDerived(`the key exchange key of ${op}`, "B", kek);
    return kek;
  }

  async exportSuccessorKey(
    keyBlock: string,
    currentBlock: string,
    context: Uint8Array,
  ): Promise<ExportResult> {
    await this.#seeSuccessorKek("exportSuccessorKey", currentBlock, context);
    await this.#seeBlock("exportSuccessorKey", RULES.successorBase, "keyBlock", keyBlock);
    return await this.#inner.exportSuccessorKey(keyBlock, currentBlock, context);
  }

  async importSuccessorKey(
    wrapped: string,
    currentBlock: string,
    options: { context: Uint8Array; expectedKcv: string },
  ): Promise<KeyResult> {
    const kek = await this.#seeSuccessorKek("importSuccessorKey", currentBlock, options?.context);
    const r = kek ? await this.#unwrap(wrapped, kek) : undefined;
    if (r) this.#see("imported", "importSuccessorKey: the successor", r.key);
    return await this.#inner.importSuccessorKey(wrapped, currentBlock, options);
  }

  async encryptData(keyBlock: string, data: Uint8Array): Promise<Uint8Array> {
    await this.#seeBlock("encryptData", RULES.encrypt, "keyBlock", keyBlock);
    return await this.#inner.encryptData(keyBlock, data);
  }

  async decryptData(keyBlock: string, data: Uint8Array): Promise<Uint8Array> {
    await this.#seeBlock("decryptData", RULES.decrypt, "keyBlock", keyBlock);
    return await this.#inner.decryptData(keyBlock, data);
  }

  async importRsaPrivateKey(
    privateKey: RsaPrivateKey,
    template: KeyTemplate,
  ): Promise<RsaKeyPairResult> {
    const r = await this.#inner.importRsaPrivateKey(privateKey, template);
    this.#seeRsa(`importRsaPrivateKey ${attrs(template)}`, privateKey);
    return r;
  }

  async sign(privateKeyBlock: string, message: Uint8Array): Promise<Uint8Array> {
    await this.#seeBlock("sign", RULES.sign, "privateKeyBlock", privateKeyBlock);
    return await this.#inner.sign(privateKeyBlock, message);
  }

  async generateRsaKeyPair(
    options?: { bits?: number; template?: KeyTemplate },
  ): Promise<RsaKeyPairResult> {
    const r = await this.#inner.generateRsaKeyPair(options);
    const block = await this.#unwrap(r.privateKeyBlock);
    if (block) this.#seeRsa(`generateRsaKeyPair ${attrs(block.header)}`, block.key);
    return r;
  }

  async importKeyRsa(
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    options: ImportChecks & { template: KeyTemplate; hash?: "SHA-256" | "SHA-1" },
  ): Promise<ImportResult> {
    await this.#seeRsaImport("importKeyRsa", privateKeyBlock, ciphertext, options?.hash);
    return await this.#inner.importKeyRsa(privateKeyBlock, ciphertext, options);
  }

  async translateKeyFromRsa(
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    kekBlock: string,
    options: ImportChecks & { template: KeyTemplate; hash?: "SHA-256" | "SHA-1" },
  ): Promise<ExportResult & { hash: string }> {
    await this.#seeKek("translateKeyFromRsa", kekBlock, "tr31");
    await this.#seeRsaImport("translateKeyFromRsa", privateKeyBlock, ciphertext, options?.hash);
    return await this.#inner.translateKeyFromRsa(privateKeyBlock, ciphertext, kekBlock, options);
  }

  async exportKeyRsa(
    keyBlock: string,
    publicKey: RsaPublicKey,
    options?: { hash?: "SHA-256" | "SHA-1" },
  ): Promise<{ ciphertext: Uint8Array; kcv: string }> {
    await this.#seeBlock("exportKeyRsa", RULES.exportTrusted, "keyBlock", keyBlock);
    return await this.#inner.exportKeyRsa(keyBlock, publicKey, options);
  }

  async exportKeyTr34(keyBlock: string, options: Tr34ExportOptions): Promise<Tr34ExportResult> {
    await this.#seeBlock("exportKeyTr34", RULES.exportTrusted, "keyBlock", keyBlock);
    return await this.#inner.exportKeyTr34(keyBlock, options);
  }
}

/**
 * A software HSM behind an {@link ObservedHsm}, brought to work as
 * `SoftwareHsm.open` does (the LMK's load observed).
 *
 * @param options the software HSM's options and the observer.
 * @param lmk the components, the LMK's KCV, who acts.
 * @returns the observed HSM, authorized.
 * @throws {TypeError} for an observer that is not a function; as `SoftwareHsm.open`.
 */
export async function openObservedHsm(
  options: SoftwareHsmOptions & { testKeyObserver: TestKeyObserver },
  lmk: LmkLoad,
): Promise<ObservedHsm> {
  const { testKeyObserver, ...rest } = options;
  checkObserver(testKeyObserver);
  const core = rest.core ?? await loadCore();
  const hsm = new ObservedHsm(await SoftwareHsm.create({ ...rest, core }), core, testKeyObserver);
  const by = lmk.by ?? "custodians";
  await hsm.setState("secure", by);
  await hsm.loadLmk(lmk.components, { lmkKcv: lmk.lmkKcv });
  await hsm.setState("authorized", by);
  return hsm;
}

/**
 * A server HSM factory whose HSMs are observed: each is the software HSM
 * `openHsm` opens, wrapped in an {@link ObservedHsm} that saw its LMK.
 *
 * @param observer where every clear key goes.
 * @returns the factory, for the servers' `hsmFactory` option.
 */
export function observedHsmFactory(observer: TestKeyObserver): HsmFactory {
  return async (start) => {
    const hsm = new ObservedHsm(await openHsm(start), start.core, observer);
    await hsm.observeLmk(
      parseComponents(start.lmkComponents, "LMK component", { custodians: true }),
    );
    return hsm;
  };
}
