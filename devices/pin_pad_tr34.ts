/**
 * The TR-34 application of a PIN pad (ASC X9 TR 34-2019): the key receiving
 * device (KRD) of 2-pass key transport, on the library's {@link Krd}.
 *
 * - At manufacture it gets a device key pair and its `tr34-krd` certificate
 *   (serialNumber = SN); the private key is kept as a TR-31 block under the
 *   PIN pad's storage key and unwrapped only for each RSAES-OAEP decryption.
 * - At flashing it gets the root, the CA it trusts to issue KDH certificates.
 * - Binding: it sends its credential token CT_KRD and takes the KDH's
 *   CT_KDH: the KDH certificate must be issued by the root, valid, allowed
 *   to sign, and not on the CA's CRL; the PIN pad binds itself to it.
 * - Key transport: it issues a random number token RT_KRD and opens the key
 *   token KT_KDH only if it is signed by the bound KDH over that very random
 *   number (used once), enveloped to this PIN pad, and its key block header
 *   is one the TMK slot's use allows ({@link TMK_POLICY}). The TMK's KCV must
 *   be the one the KMS announced; the TMK is stored as a TR-31 block under
 *   the storage key, not exportable.
 * - Acknowledgement: it proves it holds the TMK with a CMAC under a key
 *   derived from it, over its SN, the KMS's nonce and the KCV (flow A's
 *   construction, `src/protocol/flow_a_proof.ts`); the KCV alone is not a
 *   proof, since anyone who saw the key token's answer has it.
 *
 * Each refusal is the library's {@link Tr34Error} with its code.
 *
 * @module
 */
import type { CryptoCore } from "../src/core/mod.ts";
import {
  exportPkcs8Der,
  fromHex,
  importPkcs8Der,
  kcv,
  oaepDecrypt,
  type RsaPrivateKey,
  toHex,
  zeroize,
} from "../src/crypto/mod.ts";
import { unwrapKeyBlock, wrapKeyBlock } from "../src/keyblock/mod.ts";
import { ConflictError, IntegrityError, proofMac } from "../src/protocol/mod.ts";
import {
  type KeyTransport,
  type KeyUsePolicy,
  Krd,
  readCertificate,
  readHeader,
  TMK_POLICY,
} from "../src/tr34/mod.ts";

/** TR-31 header of the KRD private key at rest: RSA key for key transport, decrypt only. */
const KRD_KEY_HEADER = "B0000K3RD00N0000";

/** Options of {@link PinPadTr34.create}. */
export interface PinPadTr34Options {
  /** The root written at flashing (PEM): it issues the KDH certificate. */
  root: string;
  core: CryptoCore;
  /** The PIN pad's storage key (TDES, 16 or 24 bytes), shared with its other applications. */
  storageKey: Uint8Array;
  /** The device credential made at manufacture: its key and `tr34-krd` certificate (PEM). */
  device: { privateKey: RsaPrivateKey; certificate: string };
  /** Which key block headers the TMK slot takes (default {@link TMK_POLICY}). */
  policy?: KeyUsePolicy;
  /** Clock (default `Date.now`). */
  now?: () => number;
}

/** What the PIN pad will say about its TR-34 state: names and KCVs, never keys. */
export interface PinPadTr34State {
  /** Subject of the KDH certificate it is bound to. */
  boundKdh?: string;
  tmkKcv?: string;
  /** The key block header the TMK came with. */
  tmkHeader?: string;
}

/** Test-harness view of the TR-34 secrets (see {@link pinPadTr34TestHarness}). */
export interface PinPadTr34Internals {
  /** The clear keys, unwrapped for the tests that scan for them. */
  clearKeys(): Promise<{ tmk?: Uint8Array; krdPkcs8: Uint8Array }>;
}

const internals = new WeakMap<PinPadTr34, () => PinPadTr34Internals>();

/** The TR-34 application of a PIN pad. */
export class PinPadTr34 {
  readonly #core: CryptoCore;
  readonly #storageKey: Uint8Array;
  readonly #certificate: string;
  readonly #krd: Krd;
  readonly #now: () => number;
  readonly #keyBlock: string;
  #tmk: { block: string; kcv: string; header: string } | undefined;

  private constructor(o: PinPadTr34Options, keyBlock: string) {
    this.#core = o.core;
    this.#storageKey = o.storageKey;
    this.#certificate = o.device.certificate;
    this.#now = o.now ?? Date.now;
    this.#keyBlock = keyBlock;
    this.#krd = new Krd({
      certificate: o.device.certificate,
      key: this.#transport(),
      kdhCas: [o.root],
      policy: o.policy ?? TMK_POLICY,
      core: o.core,
    });
    internals.set(this, () => ({
      clearKeys: async () => ({
        tmk: this.#tmk ? await this.#unwrap(this.#tmk.block) : undefined,
        krdPkcs8: await this.#unwrap(this.#keyBlock),
      }),
    }));
  }

  /**
   * Makes the application: the device key goes under the storage key.
   *
   * @throws {TypeError} / {@link RangeError} for a storage key that is not 16 or 24 bytes,
   *   or a root or certificate that is not PEM text.
   */
  static async create(o: PinPadTr34Options): Promise<PinPadTr34> {
    if (!(o.storageKey instanceof Uint8Array)) throw new TypeError("storageKey must be bytes");
    if (o.storageKey.length !== 16 && o.storageKey.length !== 24) {
      throw new RangeError(`storageKey must be 16 or 24 bytes, got ${o.storageKey.length}`);
    }
    if (typeof o.root !== "string") throw new TypeError("root must be a PEM string");
    readCertificate(o.device.certificate, "device certificate");
    const der = exportPkcs8Der(o.device.privateKey);
    try {
      const block = await wrapKeyBlock(o.storageKey, KRD_KEY_HEADER, der, { core: o.core });
      return new PinPadTr34(o, block);
    } finally {
      zeroize(der);
    }
  }

  async #unwrap(block: string): Promise<Uint8Array> {
    return (await unwrapKeyBlock(this.#storageKey, block, { core: this.#core })).key;
  }

  /** RSAES-OAEP with the device key, unwrapped for the one decryption. */
  #transport(): KeyTransport {
    return async (ciphertext, params) => {
      const der = await this.#unwrap(this.#keyBlock);
      const key = importPkcs8Der(der);
      zeroize(der);
      try {
        return await oaepDecrypt(key, ciphertext, { ...params, core: this.#core });
      } finally {
        zeroize(key.d, key.p, key.q, key.dp, key.dq, key.qi);
      }
    };
  }

  /** The credential token CT_KRD (DER, hex): this PIN pad's certificate. */
  async credentialToken(): Promise<string> {
    return toHex(await this.#krd.credentialToken());
  }

  /**
   * Takes the KDH's credential token and binds to its KDH.
   *
   * @returns the KDH certificate's subject.
   * @throws {Tr34Error} `kdh_untrusted`, `kdh_expired`, `kdh_not_yet_valid`, `kdh_revoked`,
   *   `crl_invalid`, `malformed`; `wrong_kdh` when bound to another KDH.
   */
  async acceptKdhCredential(tokenHex: string): Promise<{ kdh: string }> {
    await this.#krd.acceptKdhCredential(fromHex(tokenHex), new Date(this.#now()));
    return { kdh: readCertificate(this.#krd.boundKdh!, "KDH certificate").subjectText };
  }

  /** A fresh random number token RT_KRD (DER, hex), 16 bytes. */
  randomNumberToken(): string {
    return toHex(this.#krd.randomNumberToken(16));
  }

  /**
   * Opens the key token and stores the TMK as a TR-31 block under the
   * storage key.
   *
   * @param tokenHex the key token (DER, hex).
   * @param announcedKcv the KCV the KMS sent with it.
   * @returns the TMK's KCV and header.
   * @throws {Tr34Error} the first check the token fails; {@link IntegrityError} `kcv_mismatch`.
   */
  async installTmk(
    tokenHex: string,
    announcedKcv: string,
  ): Promise<{ tmkKcv: string; header: string; cipher: string }> {
    const opened = await this.#krd.openKeyToken(fromHex(tokenHex), new Date(this.#now()));
    try {
      const k = toHex(await kcv(opened.key, { method: "legacy", core: this.#core }));
      if (k !== announcedKcv) {
        throw new IntegrityError(
          "kcv_mismatch",
          `the TMK's KCV is ${k}, KMS announced ${announcedKcv}; not stored`,
        );
      }
      const h = readHeader(opened.header, opened.key);
      const atRest = `B0000${h.keyUsage}${h.algorithm}${h.modeOfUse}${h.keyVersion}N0000`;
      const block = await wrapKeyBlock(this.#storageKey, atRest, opened.key, {
        core: this.#core,
      });
      this.#tmk = { block, kcv: k, header: opened.header };
      return { tmkKcv: k, header: opened.header, cipher: opened.cipher };
    } finally {
      zeroize(opened.key);
    }
  }

  /**
   * The acknowledgement's proof of the stored TMK: a CMAC-TDES under
   * `KDF(TMK, "TMK ack", SN)` over the SN, the KMS's nonce and the KCV.
   *
   * @param sn the terminal's serial number.
   * @param nonce the nonce of the key token's answer (hex).
   * @returns the acknowledgement's body.
   * @throws {ConflictError} `no_tmk` before a TMK is stored; `ValidationError` for a
   *   malformed serial number or nonce.
   */
  async proveTmk(
    sn: string,
    nonce: string,
  ): Promise<{ tmkKcv: string; nonce: string; mac: string }> {
    if (!this.#tmk) throw new ConflictError("no_tmk", "TR-34 ack proof: the PIN pad holds no TMK");
    const tmkKcv = this.#tmk.kcv;
    const key = await this.#unwrap(this.#tmk.block);
    try {
      return {
        tmkKcv,
        nonce,
        mac: await proofMac(key, "ack", sn, nonce, { tmkKcv, core: this.#core }),
      };
    } finally {
      zeroize(key);
    }
  }

  /** The device certificate (PEM). */
  get certificate(): string {
    return this.#certificate;
  }

  /** Names and KCVs of the TR-34 state (never keys). */
  state(): PinPadTr34State {
    const kdh = this.#krd.boundKdh;
    return {
      boundKdh: kdh ? readCertificate(kdh, "KDH certificate").subjectText : undefined,
      tmkKcv: this.#tmk?.kcv,
      tmkHeader: this.#tmk?.header,
    };
  }
}

/**
 * Test harness only: the clear TR-34 keys of a PIN pad. Never used by the
 * product code.
 *
 * @param pad the TR-34 application.
 * @returns its internals.
 */
export function pinPadTr34TestHarness(pad: PinPadTr34): PinPadTr34Internals {
  return internals.get(pad)!();
}
