/**
 * The PIN pad: the only device that ever holds TK or TMK in clear, and only
 * for the length of one operation. It keeps every key as a TR-31 key block
 * under its own storage key, keeps SHA-256(TK) and checks it each time TK
 * is stored, exported or used (CN103714639A S10-S11, S17; docs/ARCHITECTURE.md
 * "Flow A"), and offers operations, never key bytes.
 *
 * At download and acknowledgement it proves to the KMS that it holds TK,
 * then TMK: a CMAC under a key derived from each, over the serial number
 * and a KMS nonce (`src/protocol/flow_a_proof.ts`), computed inside it.
 *
 * It also runs the POS side of operator authentication (S1, S6-S9): the CA
 * root OpRCRT is written into it at flashing, and generating a TK needs a
 * fresh, successful authentication (one TK per authentication).
 *
 * @module
 */
import type { CryptoCore } from "../src/core/mod.ts";
import { fromHex, timingSafeEqual, toHex } from "../src/crypto/mod.ts";
import {
  type AuthChallenge,
  AuthenticationError,
  type AuthResponse,
  type AuthSuccess,
  ConflictError,
  IntegrityError,
  OperatorAuthenticator,
  proofMac,
  type TmkDownloadResponse,
} from "../src/protocol/mod.ts";
import {
  authCrypto,
  checkCertificate,
  generateTdesKey,
  keyKcv,
  oaepEncrypt,
  sha256,
  unwrap,
  wrap,
} from "./_crypto.ts";
import { CertificateError, CrlSet } from "../src/pki/mod.ts";

/** TR-31 header of TK at rest: version B, KEK (K0), TDES, both wrap and unwrap, exportable under a KEK. */
const TK_HEADER = "B0000K0TB00E0000";
/** TR-31 header of TMK at rest: KEK for the working keys, not exportable. */
const TMK_HEADER = "B0000K0TB00N0000";

/** Options of {@link PinPad}. */
export interface PinPadOptions {
  /** OpRCRT, the CA root written at flashing (PEM). */
  root: string;
  core: CryptoCore;
  /** Operator-authentication window in ms (S9). */
  windowMs?: number;
  /** Clock for TimeTwo (default `Date.now`). */
  now?: () => number;
  /**
   * CRLs of the root written at flashing (PEM): with them the MTMS transport
   * certificate must not be revoked; newer ones come with it ({@link PinPad.acceptCrl}).
   */
  crls?: string[];
}

/** What a TK export hands to the operator terminal (S11): nothing in clear. */
export interface TkExport {
  /** TK under the MTMS transport key, RSA-OAEP-SHA256, uppercase hex. */
  encryptedTk: string;
  tkKcv: string;
  tkHash: string;
  /** Subject of the MTMS certificate it was encrypted for. */
  mtmsSubject: string;
}

/** What the PIN pad will say about its keys: KCVs, never keys. */
export interface PinPadState {
  tkKcv?: string;
  tmkKcv?: string;
}

interface Stored {
  block: string;
  kcv: string;
}

const internals = new WeakMap<PinPad, () => PinPadInternals>();

/** Test-harness view of a PIN pad's secrets (see {@link pinPadTestHarness}). */
export interface PinPadInternals {
  /** The clear keys, unwrapped for the test that scans for them. */
  clearKeys(): Promise<{ storageKey: Uint8Array; tk?: Uint8Array; tmk?: Uint8Array }>;
  /** Replaces the stored TK by another valid TK block (a fault: its hash no longer matches). */
  corruptTk(): Promise<void>;
}

/** A PIN pad. */
export class PinPad {
  readonly #core: CryptoCore;
  readonly #storageKey: Uint8Array;
  readonly #root: string;
  readonly #auth: OperatorAuthenticator;
  readonly #now: () => number;
  #crls: CrlSet | undefined;
  #authorized: AuthSuccess | undefined;
  #tk: (Stored & { hash: Uint8Array }) | undefined;
  #tmk: Stored | undefined;

  /**
   * "Flashing": a fresh storage key from the RNG, and the CA root.
   *
   * @param options root, core, window, clock.
   * @returns the PIN pad.
   */
  static async create(options: PinPadOptions): Promise<PinPad> {
    const storageKey = await generateTdesKey(24, options.core);
    return new PinPad(options, storageKey);
  }

  private constructor(options: PinPadOptions, storageKey: Uint8Array) {
    this.#core = options.core;
    this.#storageKey = storageKey;
    this.#root = options.root;
    this.#now = options.now ?? Date.now;
    this.#crls = options.crls ? new CrlSet(options.crls) : undefined;
    this.#auth = new OperatorAuthenticator({
      root: options.root,
      windowMs: options.windowMs,
      now: this.#now,
      crypto: authCrypto(options.core),
    });
    internals.set(this, () => ({
      clearKeys: async () => ({
        storageKey: this.#storageKey.slice(),
        tk: this.#tk ? (await unwrap(this.#storageKey, this.#tk.block, this.#core)).key : undefined,
        tmk: this.#tmk
          ? (await unwrap(this.#storageKey, this.#tmk.block, this.#core)).key
          : undefined,
      }),
      corruptTk: async () => {
        if (!this.#tk) throw new ConflictError("no_tk", "no TK to corrupt");
        const other = await generateTdesKey(16, this.#core);
        this.#tk = {
          ...this.#tk,
          block: await wrap(this.#storageKey, TK_HEADER, other, this.#core),
        };
        other.fill(0);
      },
    }));
  }

  /** The operator-authentication window in ms. */
  get windowMs(): number {
    return this.#auth.windowMs;
  }

  /**
   * S1: a random `Rnd` from the PIN pad's RNG, recorded as the outstanding challenge.
   *
   * @returns the challenge for the operator terminal.
   */
  operatorChallenge(): AuthChallenge {
    const rnd = new Uint8Array(16);
    crypto.getRandomValues(rnd);
    return this.#auth.begin(rnd);
  }

  /**
   * S6-S9: checks the operator terminal's answer. On success the PIN pad may
   * generate one TK.
   *
   * @param answer OpWCRT and C.
   * @returns what each check saw.
   * @throws {AuthenticationError} with the code of the first failed check.
   */
  async verifyOperator(answer: AuthResponse): Promise<AuthSuccess> {
    this.#authorized = undefined;
    const ok = await this.#auth.verify({
      certificate: answer.certificate,
      cryptogram: fromHex(answer.cryptogram),
    });
    this.#authorized = ok;
    return ok;
  }

  /**
   * S10: generates TK (double-length TDES, odd parity), stores it as a key
   * block under the storage key with its SHA-256, and checks the stored
   * block against the hash. Replaces any earlier TK and TMK.
   *
   * @returns TK's KCV and hash.
   * @throws {AuthenticationError} `not_authenticated` without a fresh successful S1-S9.
   */
  async generateTk(): Promise<{ tkKcv: string; tkHash: string }> {
    if (!this.#authorized) {
      throw new AuthenticationError(
        "not_authenticated",
        "S10: a TK is generated only after a successful operator authentication (S1-S9)",
      );
    }
    this.#authorized = undefined;
    const tk = await generateTdesKey(16, this.#core);
    try {
      const hash = await sha256(tk, this.#core);
      const kcv = await keyKcv(tk, this.#core);
      const block = await wrap(this.#storageKey, TK_HEADER, tk, this.#core);
      this.#tk = { block, kcv, hash };
      this.#tmk = undefined;
      const back = await this.#useTk("S10 store");
      back.fill(0);
      return { tkKcv: kcv, tkHash: toHex(hash) };
    } finally {
      tk.fill(0);
    }
  }

  /** Unwraps TK and checks its hash; the caller zeroizes the result. */
  async #useTk(step: string): Promise<Uint8Array> {
    if (!this.#tk) throw new ConflictError("no_tk", `${step}: the PIN pad holds no TK`);
    const { key } = await unwrap(this.#storageKey, this.#tk.block, this.#core);
    const h = await sha256(key, this.#core);
    if (!timingSafeEqual(h, this.#tk.hash)) {
      key.fill(0);
      throw new IntegrityError(
        "tk_hash_mismatch",
        `${step}: the stored TK no longer matches its SHA-256; refused`,
      );
    }
    return key;
  }

  /**
   * Takes a newer CRL of the root, handed with the MTMS transport
   * certificate: it replaces the one held if the root signed it (checked on
   * that certificate's chain), it is current, and its cRLNumber is higher.
   *
   * @param crlPem the CRL (PEM).
   * @param mtmsCertificate the MTMS transport certificate it came with (PEM).
   * @returns whether it replaced the CRL held.
   * @throws {AuthenticationError} `crl_invalid` for a CRL that does not parse, is not
   *   the root's or is not current; the certificate's own code if it does not chain to the root.
   */
  async acceptCrl(crlPem: string, mtmsCertificate: string): Promise<boolean> {
    let next: CrlSet;
    try {
      next = new CrlSet([crlPem]);
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e;
      throw new AuthenticationError("crl_invalid", `the CRL is refused: ${e.message}`);
    }
    const at = new Date(this.#now());
    try {
      await checkCertificate(mtmsCertificate, this.#root, at, this.#core, next);
    } catch (e) {
      if (!(e instanceof AuthenticationError)) throw e;
      if (e.code === "certificate_status_unknown") {
        throw new AuthenticationError("crl_invalid", `the CRL is refused: ${e.message}`);
      }
      if (e.code !== "certificate_revoked") throw e;
    }
    const held = this.#crls?.crls[0];
    if (held && held.crlNumber >= next.crls[0].crlNumber) return false;
    this.#crls = next;
    return true;
  }

  /**
   * S11: exports TK for the MTMS: checks the MTMS certificate is valid and
   * chains to the CA root, checks TK's hash, and encrypts TK under the
   * certificate's public key with RSA-OAEP-SHA256.
   *
   * @param mtmsCertificate the MTMS transport certificate (PEM).
   * @returns the ciphertext, KCV and hash; never TK.
   * @throws {AuthenticationError} for a certificate that does not chain to the root; {@link IntegrityError} `tk_hash_mismatch`.
   */
  async exportTk(mtmsCertificate: string): Promise<TkExport> {
    const cert = await checkCertificate(
      mtmsCertificate,
      this.#root,
      new Date(this.#now()),
      this.#core,
      this.#crls,
    );
    const tk = await this.#useTk("S11 export");
    try {
      const c = await oaepEncrypt(cert.publicKey, tk, this.#core);
      return {
        encryptedTk: toHex(c),
        tkKcv: this.#tk!.kcv,
        tkHash: toHex(this.#tk!.hash),
        mtmsSubject: cert.subject,
      };
    } finally {
      tk.fill(0);
    }
  }

  /**
   * S16: proves to the KMS that this PIN pad holds TK: the CMAC under
   * KDF(TK, "TMK download", SN) over the serial number and the KMS's nonce.
   * TK's hash is checked first; TK is in clear only for this call.
   *
   * @param sn the terminal's serial number.
   * @param nonce the nonce the KMS issued for it (hex).
   * @returns the MAC, uppercase hex.
   * @throws {ConflictError} `no_tk`; {@link IntegrityError} `tk_hash_mismatch`; `ValidationError` for a bad SN or nonce.
   */
  async proveTk(sn: string, nonce: string): Promise<string> {
    const tk = await this.#useTk("S16 proof");
    try {
      return await proofMac(tk, "download", sn, nonce, { core: this.#core });
    } finally {
      tk.fill(0);
    }
  }

  /**
   * S17: proves to the KMS that this PIN pad stored the TMK: the CMAC under
   * KDF(TMK, "TMK ack", SN) over the serial number, the KMS's nonce and the
   * TMK's KCV.
   *
   * @param sn the terminal's serial number.
   * @param nonce the acknowledgement nonce the KMS sent with the TMK (hex).
   * @returns the TMK's KCV and the MAC, uppercase hex.
   * @throws {ConflictError} `no_tmk`; `ValidationError` for a bad SN or nonce.
   */
  async proveTmk(sn: string, nonce: string): Promise<{ tmkKcv: string; mac: string }> {
    if (!this.#tmk) throw new ConflictError("no_tmk", "S17 proof: the PIN pad holds no TMK");
    const { kcv } = this.#tmk;
    const { key } = await unwrap(this.#storageKey, this.#tmk.block, this.#core);
    try {
      return {
        tmkKcv: kcv,
        mac: await proofMac(key, "ack", sn, nonce, { tmkKcv: kcv, core: this.#core }),
      };
    } finally {
      key.fill(0);
    }
  }

  /**
   * S17: decrypts the TMK key block with TK (hash checked), checks its KCV
   * against the one KMS sent, and stores TMK under the storage key.
   *
   * @param download the KMS answer of S16.
   * @returns the KCV of the stored TMK (for the acknowledgement).
   * @throws {IntegrityError} `tk_hash_mismatch`, `kcv_mismatch`, `decrypt_failed` (a key block that does not verify under TK).
   */
  async installTmk(
    download: Pick<TmkDownloadResponse, "sn" | "tmkBlock" | "tmkKcv">,
  ): Promise<{ tmkKcv: string }> {
    const tk = await this.#useTk("S17 use");
    let tmk: Uint8Array;
    try {
      try {
        ({ key: tmk } = await unwrap(tk, download.tmkBlock, this.#core));
      } catch (e) {
        throw new IntegrityError(
          "decrypt_failed",
          `S17: the TMK key block does not verify under TK (${
            (e as { code?: string }).code ?? "error"
          })`,
        );
      }
    } finally {
      tk.fill(0);
    }
    try {
      if (tmk.length !== 16 && tmk.length !== 24) {
        throw new IntegrityError(
          "decrypt_failed",
          `S17: TMK must be 16 or 24 bytes, got ${tmk.length}`,
        );
      }
      const kcv = await keyKcv(tmk, this.#core);
      if (kcv !== download.tmkKcv) {
        throw new IntegrityError(
          "kcv_mismatch",
          `S17: the TMK's KCV is ${kcv}, KMS announced ${download.tmkKcv}; not stored`,
        );
      }
      this.#tmk = { block: await wrap(this.#storageKey, TMK_HEADER, tmk, this.#core), kcv };
      return { tmkKcv: kcv };
    } finally {
      tmk.fill(0);
    }
  }

  /**
   * KCVs of the keys held (never the keys).
   *
   * @returns TK and TMK KCVs, where present.
   */
  state(): PinPadState {
    return { tkKcv: this.#tk?.kcv, tmkKcv: this.#tmk?.kcv };
  }
}

/**
 * Test harness only: the clear keys of a PIN pad (for the test that scans
 * a demo run for them) and fault injection. Never used by the product code.
 *
 * @param pad a PIN pad.
 * @returns its internals.
 */
export function pinPadTestHarness(pad: PinPad): PinPadInternals {
  return internals.get(pad)!();
}
