/**
 * The HSM interface the servers program against. The software HSM
 * (`software_hsm.ts`) implements it; a network HSM would too.
 *
 * Conventions: keys go in and out only as TR-31 key blocks (strings) under
 * the HSM's LMK or under a KEK; KCVs and hashes are uppercase hex strings;
 * data, MACs and RSA ciphertexts are `Uint8Array`. No method returns a clear
 * key, and no error message contains one.
 *
 * @module
 */
import type { RsaPrivateKey, RsaPublicKey } from "../core/mod.ts";
import type { LmkAlgorithm, LmkComponent } from "./lmk.ts";
import type { KeyTemplate } from "./policy.ts";
import type { HsmMode, HsmState } from "./state.ts";

/** A key the HSM made or imported: its block under the LMK and its KCV. */
export interface KeyResult {
  /** The key as a TR-31 key block under the LMK. */
  readonly keyBlock: string;
  /** Its KCV (legacy TDES KCV, 3 bytes), uppercase hex. */
  readonly kcv: string;
}

/** An imported key: also the SHA-256 of the clear key, for the TK hash check. */
export interface ImportResult extends KeyResult {
  /** SHA-256 of the clear key, uppercase hex. */
  readonly hash: string;
}

/** A key exported under a KEK. */
export interface ExportResult {
  /** A TR-31 key block under the KEK (`format: "tr31"`), or uppercase hex of TDES-ECB (`"ecb"`). */
  readonly exported: string;
  /** KCV of the exported key, uppercase hex. */
  readonly kcv: string;
}

/** What {@link Hsm.keyInfo} tells about a key block under the LMK, after checking its MAC. */
export interface KeyInfo {
  readonly version: string;
  readonly keyUsage: string;
  readonly algorithm: string;
  readonly modeOfUse: string;
  readonly exportability: string;
  readonly keyVersion: string;
  /** Key length in bytes (for RSA, of the encoded private key). */
  readonly length: number;
  /** KCV for a symmetric key, null for RSA. */
  readonly kcv: string | null;
}

/** Wire forms of a key under a symmetric KEK. */
export type WrapFormat = "tr31" | "ecb";

/** Options of exports under a KEK. */
export interface ExportOptions {
  /** "tr31" (default): a TR-31 block (version B under a TDES KEK, D under AES); "ecb": TDES-ECB ciphertext, for keys with exportability "S" only. */
  format?: WrapFormat;
  /** The SHA-256 (hex) the KEK must have (the TK hash check, docs/ARCHITECTURE.md); refused with `hash_mismatch` otherwise. */
  expectedKekHash?: string;
}

/** Checks on a key being imported. */
export interface ImportChecks {
  /** The KCV the key must have (hex, 3-8 bytes). */
  expectedKcv?: string;
  /** The SHA-256 the key must have (hex). */
  expectedHash?: string;
}

/**
 * A key derivation inside the HSM (SP 800-108 counter mode, CMAC, TR-31
 * encoding): what the derived key is for and what it is bound to.
 */
export interface Derivation {
  /** 4 to 64 printable ASCII characters, e.g. "TMK download". */
  readonly label: string;
  /** 0 to 64 bytes, e.g. the terminal's serial number. */
  readonly context: Uint8Array;
}

/** A security event the HSM reports (the server adds actor, time and subject). */
export interface HsmAuditEvent {
  /**
   * "state_changed", "state_change_refused", "operation_refused" (wrong state),
   * "lmk_loaded", "lmk_load_failed", "key_refused", "self_test_failed", "hsm_refused".
   */
  readonly event: string;
  readonly outcome: "success" | "failure";
  /** The key's role and attributes, e.g. "LMK", "the KEK K0/T/B". */
  readonly keyId?: string;
  readonly kcv?: string;
  /** The error code and message (no key material). */
  readonly detail?: string;
}

/** Where the HSM sends its security events. A rejection propagates (fail closed). */
export type HsmAuditSink = (event: HsmAuditEvent) => void | Promise<void>;

/** An RSA key pair made by the HSM. */
export interface RsaKeyPairResult {
  /** The private key (PKCS#8 DER) as a TR-31 key block (algorithm "R") under the LMK. */
  readonly privateKeyBlock: string;
  readonly publicKey: RsaPublicKey;
}

/** Options of {@link Hsm.exportKeyTr34}. */
export interface Tr34ExportOptions {
  /** The KRD's certificate (PEM or DER): the content key goes RSAES-OAEP under its key. */
  readonly krdCertificate: string | Uint8Array;
  /** The KDH's certificate (PEM or DER): the TR-34 key block names it. */
  readonly kdhCertificate: string | Uint8Array;
  /** Content cipher: "aes256" (default), "aes192", "aes128" or "tdes" (TDES keys only below aes256). */
  readonly cipher?: "tdes" | "aes128" | "aes192" | "aes256";
}

/** A key exported as the EnvelopedData of a TR-34 key token. */
export interface Tr34ExportResult {
  /** The EnvelopedData (DER) of the TR-34 key block, to the KRD. */
  readonly envelopedData: Uint8Array;
  /** The TR-31 header in the key block (the key's own attributes), for the signed attribute. */
  readonly header: string;
  /** KCV of the exported key, uppercase hex. */
  readonly kcv: string;
}

/** The HSM operations the flows need. */
export interface Hsm {
  /** The LMK's algorithm. */
  readonly lmkAlgorithm: LmkAlgorithm;
  /** The LMK's KCV, uppercase hex (`no_lmk` before it is loaded). */
  readonly lmkKcv: string;
  /** "production" or "test" (`state.ts`). */
  readonly mode: HsmMode;
  /** "offline", "secure" or "authorized" (`state.ts`): which operations run. */
  readonly state: HsmState;

  /** Moves to another state, audited; "authorized" needs the LMK. */
  setState(state: HsmState, by?: string): Promise<void>;

  /** Loads the LMK from two or more custodians' components (secure state only). */
  loadLmk(components: readonly LmkComponent[], options?: { lmkKcv?: string }): Promise<void>;

  /** Generates a TDES key with the template's attributes. */
  generateKey(template: KeyTemplate): Promise<KeyResult>;

  /**
   * Forms a key from clear components (dual control: PK and MAK agreed
   * between MTMS and KMS), each checked against its KCV.
   */
  importKeyFromComponents(
    components: readonly LmkComponent[],
    template: KeyTemplate,
  ): Promise<KeyResult>;

  /** Checks a key block's MAC under the LMK and reports its attributes and KCV. */
  keyInfo(keyBlock: string): Promise<KeyInfo>;

  /** The key's KCV (symmetric keys). */
  keyCheckValue(keyBlock: string): Promise<string>;

  /** SHA-256 of the clear key (the TK hash of docs/ARCHITECTURE.md), uppercase hex. */
  keyHash(keyBlock: string): Promise<string>;

  /** Exports a key under a KEK (flow A S15: TMK under TK; MTMS: TK under PK). */
  exportKey(keyBlock: string, kekBlock: string, options?: ExportOptions): Promise<ExportResult>;

  /**
   * Imports a key received under a KEK into a block under the LMK with the
   * template's attributes (flow A S14: TK from PK to the LMK).
   */
  importKey(
    wrapped: string,
    kekBlock: string,
    options: ImportChecks & { template: KeyTemplate; format?: WrapFormat },
  ): Promise<ImportResult>;

  /** Generates a key and exports it under a KEK in one call (bulk TMK issuance, S15). */
  generateKeyUnderKek(
    template: KeyTemplate,
    kekBlock: string,
    options?: ExportOptions,
  ): Promise<KeyResult & { exported: string }>;

  /** ISO 9797-1 MAC algorithm 3 (retail MAC) under a MAK; padding method 2 by default. */
  generateMac(
    makBlock: string,
    data: Uint8Array,
    options?: { padding?: 1 | 2 },
  ): Promise<Uint8Array>;

  /** Verifies a retail MAC in constant time. */
  verifyMac(
    makBlock: string,
    data: Uint8Array,
    mac: Uint8Array,
    options?: { padding?: 1 | 2 },
  ): Promise<boolean>;

  /**
   * Verifies a CMAC-TDES over `data` under a key derived in the HSM from a
   * key block (flow A: a device's proof that it holds TK or TMK). The base
   * key must be a TDES KEK (policy `deriveMacVerify`); the derived key never
   * leaves the HSM.
   */
  verifyDerivedMac(
    keyBlock: string,
    derivation: Derivation,
    data: Uint8Array,
    mac: Uint8Array,
  ): Promise<boolean>;

  /** TDES-ECB encryption of whole 8-byte blocks under a data key (flow B: Crnd = TDES(AUK, Rnd)). */
  encryptData(keyBlock: string, data: Uint8Array): Promise<Uint8Array>;

  /** TDES-ECB decryption under a data key. */
  decryptData(keyBlock: string, data: Uint8Array): Promise<Uint8Array>;

  /**
   * Takes an RSA private key made elsewhere (e.g. a CA key from a key
   * ceremony) under the LMK with the template's attributes.
   */
  importRsaPrivateKey(privateKey: RsaPrivateKey, template: KeyTemplate): Promise<RsaKeyPairResult>;

  /** RSASSA-PKCS1-v1_5 SHA-256 signature with a signing key (usage S0/S1, mode S or T). */
  sign(privateKeyBlock: string, message: Uint8Array): Promise<Uint8Array>;

  /** Generates an RSA key pair; the private key stays under the LMK (flow B S1: Pu_hsm/Pr_hsm). */
  generateRsaKeyPair(
    options?: { bits?: number; template?: KeyTemplate },
  ): Promise<RsaKeyPairResult>;

  /**
   * Decrypts a key sent RSA-OAEP-encrypted under an HSM public key into a
   * block under the LMK (flow B S4: AUK). Every decryption failure is the
   * same `decrypt_failed` error.
   */
  importKeyRsa(
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    options: ImportChecks & { template: KeyTemplate; hash?: "SHA-256" | "SHA-1" },
  ): Promise<ImportResult>;

  /**
   * Decrypts a key sent RSA-OAEP-encrypted under an HSM public key and
   * re-encrypts it under a KEK, never holding it under the LMK (flow A
   * S12-S13 at MTMS: TK from the transport key to PK).
   */
  translateKeyFromRsa(
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    kekBlock: string,
    options: ImportChecks & { template: KeyTemplate; hash?: "SHA-256" | "SHA-1" },
  ): Promise<ExportResult & { hash: string }>;

  /** Exports a key RSA-OAEP-encrypted under a public key (flow B S6: TMK under Pu_tek). */
  exportKeyRsa(
    keyBlock: string,
    publicKey: RsaPublicKey,
    options?: { hash?: "SHA-256" | "SHA-1" },
  ): Promise<{ ciphertext: Uint8Array; kcv: string }>;

  /**
   * Exports a key as the EnvelopedData of a TR-34 key token (ASC X9 TR
   * 34-2019 B.9): the key and its own TR-31 header in a TR-34 key block
   * naming the KDH, under a fresh content key, that key RSAES-OAEP-SHA256
   * under the KRD's public key (TR-34 2-pass: the KMS's KDH, TMK to the PIN pad).
   */
  exportKeyTr34(keyBlock: string, options: Tr34ExportOptions): Promise<Tr34ExportResult>;

  /**
   * Exports the successor of a key two servers share (PK, MAK: same
   * attributes, never exportable otherwise) as a TR-31 block under a key
   * exchange key derived from the current key (SP 800-108 CMAC KDF, a label
   * of the HSM's own, `context` binding it to this hand-over).
   */
  exportSuccessorKey(
    keyBlock: string,
    currentBlock: string,
    context: Uint8Array,
  ): Promise<ExportResult>;

  /**
   * Imports a successor that {@link exportSuccessorKey} sent (same current
   * key, same context) into a block under the LMK, its KCV checked.
   */
  importSuccessorKey(
    wrapped: string,
    currentBlock: string,
    options: { context: Uint8Array; expectedKcv: string },
  ): Promise<KeyResult>;
}
