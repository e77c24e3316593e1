/**
 * The PIN pad's part of flow B (CN103714641A): the only place TEK's
 * private key, AUK and the downloaded TMK are ever in clear, each only for
 * the length of one operation. At rest every key is a TR-31 key block under
 * the PIN pad's storage key (claim 3 for TMK); the SHA-256 "TK hash" over
 * the SHA-256s of AUK and Pu_tek ({@link tkHashInput}) is checked each time TK is stored,
 * exported or used, and Pr_tek is checked to match Pu_tek.
 *
 * - S1: {@link PinPadFlowB.hsmKeyRequest} signs the request with the device
 *   key; {@link PinPadFlowB.installHsmKey} accepts Pu_hsm only in a
 *   `terminal-hsm` certificate for this SN issued by the KMS CA written at
 *   flashing, chained to the KMS root written at flashing (neither a fake
 *   KMS nor another CA under the root can substitute its own key).
 * - S2-S3: {@link PinPadFlowB.makeTransportKey} makes TEK (RSA-2048) and AUK
 *   (double-length TDES, odd parity), and exports AUK under Pu_hsm with
 *   RSA-OAEP-SHA256, signed by the device key made at manufacture.
 * - S5: {@link PinPadFlowB.challenge} / {@link PinPadFlowB.answer}, claim 4,
 *   both signed by the device key; a pass opens a session whose key is
 *   derived from AUK, the challenge id and both Rnds (`flow_b_proof.ts`).
 * - S6-S7: {@link PinPadFlowB.sessionMac} authenticates the download and
 *   the acknowledgement; {@link PinPadFlowB.installTmk} decrypts TMK with
 *   Pr_tek, checks its KCV and stores it as a TR-31 block.
 *
 * @module
 */
import type { CryptoCore } from "../src/core/mod.ts";
import {
  cmac,
  exportPkcs8Der,
  exportSpkiDer,
  exportSpkiPem,
  fromHex,
  generateRsaKeyPair,
  importPkcs8Der,
  importSpkiDer,
  kcv,
  kdfCmacCounter,
  oaepDecrypt,
  oaepEncrypt,
  pkcs1v15Sign,
  type RsaPrivateKey,
  type RsaPublicKey,
  setOddParity,
  timingSafeEqual,
  toHex,
  zeroize,
} from "../src/crypto/mod.ts";
import { unwrapKeyBlock, wrapKeyBlock } from "../src/keyblock/mod.ts";
import { CertificateError, decodePem, formatName, verifyChain } from "../src/pki/mod.ts";
import {
  answerSigningInput,
  AUK_BYTES,
  type AukCipher,
  AuthenticationError,
  type ChallengeAnswer,
  type ChallengeRequest,
  type ChallengeResponse,
  challengeSigningInput,
  ConflictError,
  FLOW_B_RSA_BITS,
  type FlowBTmkResponse,
  type HsmKeyRequest,
  type HsmKeyResponse,
  hsmKeySigningInput,
  IntegrityError,
  MutualAuthInitiator,
  S1_NONCE_BYTES,
  SESSION_KEY_LABEL,
  sessionContext,
  sessionMacInput,
  tkHashInput,
  tmkMacInput,
  type TransportKeyRequest,
  transportKeySigningInput,
} from "../src/protocol/mod.ts";

/** TR-31 header of AUK at rest: TDES, encrypt and decrypt, sensitive (exported once, under Pu_hsm). */
const AUK_HEADER = "B0000D0TB00S0000";
/** TR-31 header of Pr_tek at rest: RSA key for key wrapping, decrypt only, not exportable. */
const PR_TEK_HEADER = "B0000K3RD00N0000";
/** TR-31 header of TMK at rest (claim 3): KEK for the working keys, not exportable. */
const TMK_HEADER = "B0000K0TB00N0000";

/** Options of {@link PinPadFlowB}. */
export interface PinPadFlowBOptions {
  /** The KMS root CA certificate written at flashing (PEM). */
  kmsRoot: string;
  core: CryptoCore;
  /** The PIN pad's storage key (TDES, 16 or 24 bytes), shared with its other applications. */
  storageKey: Uint8Array;
  /** Clock (default `Date.now`). */
  now?: () => number;
  /** How long the PIN pad waits for the KMS's S5 answer, ms. */
  challengeTtlMs?: number;
  /**
   * The KMS CA certificate written at flashing (PEM): Pu_hsm is accepted
   * only in a certificate this CA issued.
   */
  kmsCa: string;
  /**
   * The device credential made at manufacture: a key pair and its `pin-pad`
   * certificate (serialNumber = SN), or the manufacturer's provisioning of
   * it for the SN at first use. It signs S1, S3 and S5.
   */
  device: DeviceCredential | ((sn: string) => Promise<DeviceCredential>);
  /**
   * Makes the TEK key pair of S2 (default: a new RSA-2048 pair, generated
   * there); a load generator passes pairs made ahead. The PIN pad zeroes
   * the private key it gets once it is stored.
   */
  makeTek?: () => Promise<{ publicKey: RsaPublicKey; privateKey: RsaPrivateKey }>;
}

/** A PIN pad's device key and its `pin-pad` certificate. */
export interface DeviceCredential {
  privateKey: RsaPrivateKey;
  certificate: string;
}

interface HeldTk {
  aukBlock: string;
  prTekBlock: string;
  puTekDer: Uint8Array;
  hash: Uint8Array;
  aukKcv: string;
}

const internals = new WeakMap<PinPadFlowB, () => PinPadFlowBInternals>();

/** Test-harness view of the flow B secrets (see {@link pinPadFlowBTestHarness}). */
export interface PinPadFlowBInternals {
  /** The clear keys, unwrapped for the tests that scan for them. */
  clearKeys(): Promise<{ auk?: Uint8Array; tmk?: Uint8Array; prTekPkcs8?: Uint8Array }>;
  /** Replaces the stored AUK by another valid AUK block (a fault: the TK hash no longer matches). */
  corruptAuk(): Promise<void>;
}

/** What the PIN pad will say about its flow B keys: identifiers and KCVs, never keys. */
export interface PinPadFlowBState {
  /** Subject serialNumber of the installed Pu_hsm certificate. */
  hsmKeyFor?: string;
  aukKcv?: string;
  tekBits?: number;
  tmkKcv?: string;
}

/** The flow B application of a PIN pad. */
export class PinPadFlowB {
  readonly #core: CryptoCore;
  readonly #storageKey: Uint8Array;
  readonly #kmsRoot: string;
  readonly #now: () => number;
  readonly #auth: MutualAuthInitiator;
  readonly #kmsCaDer: Uint8Array;
  #device: PinPadFlowBOptions["device"];
  readonly #makeTek: PinPadFlowBOptions["makeTek"];
  /** The Rnd1 of the outstanding challenge and the session a pass opened. */
  #session: { id: string; rnd1: string; rnd2: string } | undefined;
  #hsm: { sn: string; publicKey: RsaPublicKey } | undefined;
  #tk: HeldTk | undefined;
  #tmk: { block: string; kcv: string } | undefined;

  /**
   * @param options KMS root, core, storage key, clock.
   * @throws {TypeError} / {@link RangeError} for a storage key that is not 16 or 24 bytes.
   */
  constructor(options: PinPadFlowBOptions) {
    if (!(options.storageKey instanceof Uint8Array)) {
      throw new TypeError("storageKey must be a Uint8Array");
    }
    if (options.storageKey.length !== 16 && options.storageKey.length !== 24) {
      throw new RangeError(`storageKey must be 16 or 24 bytes, got ${options.storageKey.length}`);
    }
    if (typeof options.kmsRoot !== "string") throw new TypeError("kmsRoot must be a PEM string");
    if (typeof options.kmsCa !== "string") throw new TypeError("kmsCa must be a PEM string");
    if (!options.device) throw new TypeError("device must be the PIN pad's device credential");
    this.#kmsCaDer = decodePem(options.kmsCa, "CERTIFICATE");
    this.#core = options.core;
    this.#storageKey = options.storageKey;
    this.#kmsRoot = options.kmsRoot;
    this.#now = options.now ?? Date.now;
    this.#device = options.device;
    this.#makeTek = options.makeTek;
    this.#auth = new MutualAuthInitiator({ now: this.#now, ttlMs: options.challengeTtlMs });
    internals.set(this, () => ({
      clearKeys: async () => ({
        auk: this.#tk ? (await this.#unwrap(this.#tk.aukBlock)) : undefined,
        tmk: this.#tmk ? (await this.#unwrap(this.#tmk.block)) : undefined,
        prTekPkcs8: this.#tk ? (await this.#unwrap(this.#tk.prTekBlock)) : undefined,
      }),
      corruptAuk: async () => {
        if (!this.#tk) throw new ConflictError("no_transport_key", "no AUK to corrupt");
        const other = setOddParity(crypto.getRandomValues(new Uint8Array(AUK_BYTES)));
        this.#tk = { ...this.#tk, aukBlock: await this.#wrap(AUK_HEADER, other) };
        zeroize(other);
      },
    }));
  }

  /** The device credential (provisioned for `sn` at first use). */
  async #credential(sn: string): Promise<DeviceCredential> {
    if (typeof this.#device === "function") this.#device = await this.#device(sn);
    return this.#device;
  }

  /** `{ deviceCertificate, signature }` over `input` with the device key. */
  async #sign(sn: string, input: Uint8Array): Promise<
    { deviceCertificate: string; signature: string }
  > {
    const d = await this.#credential(sn);
    return {
      deviceCertificate: d.certificate,
      signature: toHex(await pkcs1v15Sign(d.privateKey, input, { core: this.#core })),
    };
  }

  /**
   * S1: the request for Pu_hsm, signed by the device key over the SN, the
   * time and a fresh nonce.
   *
   * @param sn this terminal's serial number.
   * @returns the request body.
   */
  async hsmKeyRequest(sn: string): Promise<HsmKeyRequest> {
    const r = {
      time: new Date(this.#now()).toISOString(),
      nonce: toHex(crypto.getRandomValues(new Uint8Array(S1_NONCE_BYTES))),
    };
    return { ...r, ...(await this.#sign(sn, hsmKeySigningInput(sn, r))) };
  }

  async #wrap(header: string, key: Uint8Array): Promise<string> {
    return await wrapKeyBlock(this.#storageKey, header, key, { core: this.#core });
  }

  async #unwrap(block: string): Promise<Uint8Array> {
    return (await unwrapKeyBlock(this.#storageKey, block, { core: this.#core })).key;
  }

  /**
   * S1: checks the Pu_hsm certificate (issued by the KMS CA written at
   * flashing, whatever CA the answer names; chain to the KMS root,
   * `terminal-hsm` purpose, subject serialNumber = SN, validity now) and
   * stores Pu_hsm. Replaces an earlier Pu_hsm and drops any transport key
   * made for it (a new S1 starts a new download).
   *
   * @param sn this terminal's serial number.
   * @param answer the KMS's S1 answer.
   * @returns the certificate's subject.
   * @throws {AuthenticationError} `hsm_certificate_untrusted` naming the failed check; nothing is stored.
   */
  async installHsmKey(
    sn: string,
    answer: Pick<HsmKeyResponse, "certificate" | "caCertificate">,
  ): Promise<{ subject: string }> {
    let verified;
    try {
      verified = await verifyChain(answer.certificate, {
        roots: [this.#kmsRoot],
        intermediates: [this.#kmsCaDer],
        purpose: "terminal-hsm",
        at: new Date(this.#now()),
        subjectSerialNumber: sn,
      });
      const issuer = verified.path[verified.path.length - 2];
      if (!issuer || !timingSafeEqual(issuer.der, this.#kmsCaDer)) {
        throw new AuthenticationError(
          "hsm_certificate_untrusted",
          "S1: the Pu_hsm certificate is refused (not_kms_ca): its issuer is not the KMS CA " +
            "set at flashing",
        );
      }
    } catch (e) {
      if (e instanceof CertificateError) {
        throw new AuthenticationError(
          "hsm_certificate_untrusted",
          `S1: the Pu_hsm certificate is refused (${e.code}); is this the KMS?`,
        );
      }
      throw e;
    }
    this.#hsm = { sn, publicKey: verified.publicKey };
    this.#tk = undefined;
    this.#tmk = undefined;
    this.#session = undefined;
    return { subject: formatName(verified.certificate.subject) };
  }

  /** SHA-256(tkHashInput(SHA-256(AUK), SHA-256(Pu_tek))). */
  #tkHash(auk: Uint8Array, puTekDer: Uint8Array): Uint8Array {
    const core = this.#core;
    return core.sha256(tkHashInput(core.sha256(auk), core.sha256(puTekDer)));
  }

  /** Unwraps AUK and checks the TK hash (and that Pr_tek matches Pu_tek); the caller zeroizes. */
  async #useAuk(step: string): Promise<Uint8Array> {
    if (!this.#tk) {
      throw new ConflictError("no_transport_key", `${step}: the PIN pad holds no transport key`);
    }
    const auk = await this.#unwrap(this.#tk.aukBlock);
    const h = this.#tkHash(auk, this.#tk.puTekDer);
    if (!timingSafeEqual(h, this.#tk.hash)) {
      zeroize(auk);
      throw new IntegrityError(
        "tk_hash_mismatch",
        `${step}: the stored TK no longer matches its SHA-256; refused`,
      );
    }
    return auk;
  }

  /**
   * S2-S3: makes TK = TEK (RSA-2048) + AUK (double-length TDES, odd
   * parity), stores both under the storage key with the TK hash (checked
   * right after storing), and exports AUK under Pu_hsm (RSA-OAEP-SHA256,
   * empty label) with Pu_tek, AUK's KCV and the TK hash.
   *
   * @returns the S3 request body; no key in clear.
   * @throws {ConflictError} `no_hsm_key` before a trusted S1; {@link IntegrityError} `tk_hash_mismatch`.
   */
  async makeTransportKey(): Promise<TransportKeyRequest> {
    const hsm = this.#hsm;
    if (!hsm) {
      throw new ConflictError("no_hsm_key", "S2: the PIN pad has no trusted Pu_hsm; S1 first");
    }
    const core = this.#core;
    const tek = this.#makeTek
      ? await this.#makeTek()
      : await generateRsaKeyPair({ bits: FLOW_B_RSA_BITS, core });
    const puTekDer = exportSpkiDer(tek.publicKey);
    const pkcs8 = exportPkcs8Der(tek.privateKey);
    const auk = setOddParity(crypto.getRandomValues(new Uint8Array(AUK_BYTES)));
    try {
      const hash = this.#tkHash(auk, puTekDer);
      const aukKcv = toHex(await kcv(auk, { method: "legacy", core }));
      this.#tk = {
        aukBlock: await this.#wrap(AUK_HEADER, auk),
        prTekBlock: await this.#wrap(PR_TEK_HEADER, pkcs8),
        puTekDer,
        hash,
        aukKcv,
      };
      this.#tmk = undefined;
      const back = await this.#useAuk("S2 store");
      zeroize(back);
      return await this.#exportAuk(hsm);
    } finally {
      zeroize(auk, pkcs8);
      for (const k of Object.values(tek.privateKey)) if (k instanceof Uint8Array) zeroize(k);
    }
  }

  async #exportAuk(hsm: { sn: string; publicKey: RsaPublicKey }): Promise<TransportKeyRequest> {
    const auk = await this.#useAuk("S3 export");
    try {
      const c = await oaepEncrypt(hsm.publicKey, auk, { hash: "SHA-256", core: this.#core });
      const req = {
        encryptedAuk: toHex(c),
        aukKcv: this.#tk!.aukKcv,
        puTek: exportSpkiPem(importSpkiDer(this.#tk!.puTekDer)),
        tkHash: toHex(this.#tk!.hash),
      };
      return { ...req, ...(await this.#sign(hsm.sn, transportKeySigningInput(hsm.sn, req))) };
    } finally {
      zeroize(auk);
    }
  }

  #cipher(step: string): AukCipher {
    const run = async (mode: "e" | "d", block: Uint8Array) => {
      const auk = await this.#useAuk(step);
      try {
        return mode === "e"
          ? this.#core.tdesEncryptEcb(auk, block)
          : this.#core.tdesDecryptEcb(auk, block);
      } finally {
        zeroize(auk);
      }
    };
    return { encrypt: (b) => run("e", b), decrypt: (b) => run("d", b) };
  }

  /**
   * S5: a fresh Rnd1 for the KMS, signed by the device key.
   *
   * @param sn this terminal's serial number.
   * @returns `{ rnd1, deviceCertificate, signature }`.
   * @throws {ConflictError} `no_transport_key` before S3.
   */
  async challenge(sn: string): Promise<ChallengeRequest> {
    if (!this.#tk) {
      throw new ConflictError("no_transport_key", "S5: the PIN pad holds no transport key");
    }
    const { rnd1 } = this.#auth.begin();
    return { rnd1, ...(await this.#sign(sn, challengeSigningInput(sn, rnd1))) };
  }

  /**
   * S5: checks Crnd1 (the KMS holds AUK) and returns Crnd2, signed by the
   * device key; remembers the session the KMS opens on a pass (the
   * challenge id, Rnd1 and Rnd2: the context of its key).
   *
   * @param sn this terminal's serial number.
   * @param kms the KMS's challenge answer.
   * @returns `{ crnd2, deviceCertificate, signature }`.
   * @throws {AuthenticationError} `kms_not_authenticated`, `rnd_reflected`, `rnd_unknown`,
   *   `challenge_expired`; {@link IntegrityError} `tk_hash_mismatch`.
   */
  async answer(
    sn: string,
    kms: Pick<ChallengeResponse, "challengeId" | "crnd1" | "rnd2">,
  ): Promise<ChallengeAnswer> {
    const { crnd2, rnd1 } = await this.#auth.answer(kms, this.#cipher("S5 use"));
    this.#session = { id: kms.challengeId, rnd1, rnd2: kms.rnd2.toUpperCase() };
    return {
      crnd2,
      ...(await this.#sign(sn, answerSigningInput(sn, kms.challengeId, crnd2))),
    };
  }

  /**
   * S6/S7: the MAC of a request in the session S5 opened: CMAC-TDES under
   * KDF(AUK, {@link SESSION_KEY_LABEL}, challenge id || Rnd1 || Rnd2).
   *
   * @param step `"S6"` (download) or `"S7"` (acknowledgement, with the KCV).
   * @param sn this terminal's serial number.
   * @param tmkKcv S7: the KCV acknowledged.
   * @returns the session id and the MAC (hex).
   * @throws {ConflictError} `no_session` before a passed S5.
   */
  async sessionMac(
    step: "S6" | "S7",
    sn: string,
    tmkKcv?: string,
  ): Promise<{ sessionId: string; mac: string }> {
    const s = this.#session;
    if (!s) throw new ConflictError("no_session", `${step}: the PIN pad has no session; S5 first`);
    const auk = await this.#useAuk(`${step} session key`);
    let key: Uint8Array | undefined;
    try {
      key = await kdfCmacCounter(
        auk,
        new TextEncoder().encode(SESSION_KEY_LABEL),
        sessionContext(s.id, s.rnd1, s.rnd2),
        16,
        { cipher: "tdes", core: this.#core },
      );
      const mac = await cmac(key, sessionMacInput(step, sn, s.id, tmkKcv), {
        cipher: "tdes",
        core: this.#core,
      });
      return { sessionId: s.id, mac: toHex(mac) };
    } finally {
      zeroize(auk, key);
    }
  }

  /**
   * S7 (claim 3): checks the TK hash, the answer's tag under AUK (only the
   * KMS holding AUK can make it), decrypts TMK with Pr_tek (checked
   * against Pu_tek), checks its length and KCV, and stores it as a TR-31
   * block under the storage key.
   *
   * @param sn this terminal's serial number (part of the tagged bytes).
   * @param download the KMS's S6 answer.
   * @returns the KCV of the stored TMK (for the acknowledgement).
   * @throws {IntegrityError} `mac_invalid`, `decrypt_failed` (one error for every decryption fault),
   *   `kcv_mismatch`, `tk_hash_mismatch`; nothing is stored on any failure.
   */
  async installTmk(
    sn: string,
    download: Pick<FlowBTmkResponse, "encryptedTmk" | "tmkKcv" | "tmkMac">,
  ): Promise<{ tmkKcv: string }> {
    const auk = await this.#useAuk("S7 use");
    try {
      const h = this.#core.sha256(tmkMacInput(sn, download.encryptedTmk, download.tmkKcv));
      const back = this.#core.tdesEncryptEcb(auk, fromHex(download.tmkMac));
      if (!timingSafeEqual(back, h.subarray(0, 8))) {
        throw new IntegrityError(
          "mac_invalid",
          "S7: the TMK answer's tag does not verify under AUK; it is not from the KMS; refused",
        );
      }
    } finally {
      zeroize(auk);
    }
    const pkcs8 = await this.#unwrap(this.#tk!.prTekBlock);
    const prTek = importPkcs8Der(pkcs8);
    zeroize(pkcs8);
    let tmk: Uint8Array | undefined;
    try {
      if (!timingSafeEqual(exportSpkiDer({ n: prTek.n, e: prTek.e }), this.#tk!.puTekDer)) {
        throw new IntegrityError("tk_hash_mismatch", "S7: the stored Pr_tek does not match Pu_tek");
      }
      try {
        tmk = await oaepDecrypt(prTek, fromHex(download.encryptedTmk), {
          hash: "SHA-256",
          core: this.#core,
        });
      } catch {
        throw new IntegrityError(
          "decrypt_failed",
          "S7: the TMK ciphertext does not decrypt under Pr_tek",
        );
      }
      if (tmk.length !== 16) {
        throw new IntegrityError(
          "decrypt_failed",
          "S7: the TMK ciphertext does not decrypt under Pr_tek",
        );
      }
      const k = toHex(await kcv(tmk, { method: "legacy", core: this.#core }));
      if (k !== download.tmkKcv) {
        throw new IntegrityError(
          "kcv_mismatch",
          `S7: the TMK's KCV is ${k}, KMS announced ${download.tmkKcv}; not stored`,
        );
      }
      this.#tmk = { block: await this.#wrap(TMK_HEADER, tmk), kcv: k };
      return { tmkKcv: k };
    } finally {
      zeroize(tmk);
      for (const v of Object.values(prTek)) if (v instanceof Uint8Array) zeroize(v);
    }
  }

  /**
   * Identifiers and KCVs of the flow B keys (never keys).
   *
   * @returns what the PIN pad holds.
   */
  state(): PinPadFlowBState {
    return {
      hsmKeyFor: this.#hsm?.sn,
      aukKcv: this.#tk?.aukKcv,
      tekBits: this.#tk ? FLOW_B_RSA_BITS : undefined,
      tmkKcv: this.#tmk?.kcv,
    };
  }
}

/**
 * Test harness only: the clear flow B keys of a PIN pad and fault
 * injection. Never used by the product code.
 *
 * @param pad the flow B application.
 * @returns its internals.
 */
export function pinPadFlowBTestHarness(pad: PinPadFlowB): PinPadFlowBInternals {
  return internals.get(pad)!();
}
