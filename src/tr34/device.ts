/**
 * A TR-34 key receiving device's state (ASC X9 TR 34-2019 sections 5.4, 5.5):
 * its certificate and key, the CAs it trusts for KDH certificates, the KDH
 * it is bound to, the random numbers it has issued (each accepted once), and
 * the last 1-pass signing time it accepted. The simulated PIN pad holds one.
 *
 * @example
 * ```ts
 * import { Krd, TMK_POLICY } from "./mod.ts";
 * import type { RsaPrivateKey } from "../core/mod.ts";
 * declare const cert: string, key: RsaPrivateKey, kmsCa: string;
 * declare function send(rt: Uint8Array): Promise<Uint8Array>;
 * const krd = new Krd({ certificate: cert, key, kdhCas: [kmsCa], policy: TMK_POLICY });
 * const token = await send(krd.randomNumberToken());
 * const { header, key: tmk } = await krd.openKeyToken(token);
 * ```
 *
 * @module
 */
import { type CryptoCore, loadCore, type RsaPrivateKey } from "../core/mod.ts";
import { randomBytes, toHex } from "../crypto/mod.ts";
import { sameBytes } from "./_der.ts";
import { checkKdhCertificate, readCertificate } from "./certs.ts";
import { readCrls } from "./crl.ts";
import type { KeyTransport } from "./enveloped.ts";
import { Tr34Error } from "./errors.ts";
import type { KeyUsePolicy } from "./keyblock.ts";
import {
  type BindingResult,
  type FreshnessCheck,
  openBindingToken,
  type OpenedKeyToken,
  openKeyToken,
} from "./krd.ts";
import { buildCredentialToken, buildRandomNumberToken, readCredentialToken } from "./tokens.ts";

/** A KRD's configuration. */
export interface KrdConfig {
  /** The KRD's certificate (PEM or DER). */
  certificate: string | Uint8Array;
  /** Its private key, or a function doing its RSAES-OAEP decryption. */
  key: RsaPrivateKey | KeyTransport;
  /** CA certificates trusted to issue KDH certificates. */
  kdhCas: (string | Uint8Array)[];
  /** The KDH the KRD is bound to; absent: the first KDH whose key token passes binds it. */
  kdh?: string | Uint8Array;
  /** The KDH CA's CRL held by the KRD. */
  crl?: Uint8Array;
  /** Which key block headers the receiving key slot accepts. */
  policy?: KeyUsePolicy;
  /** 1-pass window in ms. */
  timestampWindowMs?: number;
  core?: CryptoCore;
}

/** Random numbers a KRD keeps outstanding at most (older ones are dropped). */
const MAX_PENDING = 8;

/** A key receiving device. */
export class Krd {
  readonly #config: KrdConfig;
  #kdh: Uint8Array | undefined;
  #pending: Uint8Array[] = [];
  readonly #used = new Set<string>();
  #lastTime: Date | undefined;

  /** @param config the device's certificate, key, trust and policy. */
  constructor(config: KrdConfig) {
    readCertificate(config.certificate, "KRD certificate");
    this.#config = config;
    if (config.kdh !== undefined) this.#kdh = readCertificate(config.kdh, "KDH certificate").der;
  }

  /** The bound KDH certificate (DER), if any. */
  get boundKdh(): Uint8Array | undefined {
    return this.#kdh;
  }

  /** The KRD credential token CT_KRD (B.7). */
  async credentialToken(): Promise<Uint8Array> {
    const cert = readCertificate(this.#config.certificate, "KRD certificate");
    return buildCredentialToken([cert.der], [], this.#config.core ?? await loadCore());
  }

  /**
   * Takes a KDH credential token CT_KDH (B.6): checks the KDH certificate
   * (trusted CA, validity, the token's or the KRD's CRL) and binds the KRD to
   * it when unbound.
   *
   * @throws {Tr34Error} the KDH certificate checks; `wrong_kdh` when bound to another KDH.
   */
  async acceptKdhCredential(token: Uint8Array, at: Date = new Date()): Promise<void> {
    const c = this.#config;
    const core = c.core ?? await loadCore();
    const { certificates, crls } = readCredentialToken(token);
    const kdh = readCertificate(certificates[0], "KDH certificate");

    const cas = c.kdhCas.map((x, i) => readCertificate(x, `kdhCas[${i}]`));
    if (cas.length === 0) {
      throw new Tr34Error("kdh_untrusted", "a KDH credential token needs kdhCas to be checked");
    }
    await checkKdhCertificate(kdh, { cas, at, crls: readCrls([...crls, c.crl]) }, core);
    if (this.#kdh !== undefined && !sameBytes(this.#kdh, kdh.der)) {
      throw new Tr34Error("wrong_kdh", "the KRD is bound to another KDH");
    }
    this.#kdh = kdh.der;
  }

  /** Issues a fresh random number and returns its token RT_KRD (B.12). */
  randomNumberToken(length = 16): Uint8Array {
    const nonce = randomBytes(length);
    const token = buildRandomNumberToken(nonce);
    this.#pending.push(nonce);
    if (this.#pending.length > MAX_PENDING) this.#pending.shift();
    return token;
  }

  #freshness(): FreshnessCheck {
    return {
      nonce: (n) => {
        const hex = toHex(n);
        if (this.#used.has(hex)) {
          throw new Tr34Error("nonce_replayed", "the random number was already used by a token");
        }
        const i = this.#pending.findIndex((p) => sameBytes(p, n));
        if (i < 0) {
          throw new Tr34Error("nonce_mismatch", "the random number is not one this KRD issued");
        }
        this.#pending.splice(i, 1);
        this.#used.add(hex);
      },
      timestamp: (t) => {
        if (this.#lastTime && t <= this.#lastTime) {
          throw new Tr34Error(
            "timestamp_replayed",
            `the signing time ${t.toISOString()} is not after the last accepted one`,
          );
        }
        this.#lastTime = t;
      },
    };
  }

  /**
   * Checks and opens a key token; on success binds the KRD to its KDH if unbound.
   *
   * @throws {Tr34Error} see `openKeyToken`.
   */
  async openKeyToken(token: Uint8Array, at?: Date): Promise<OpenedKeyToken> {
    const c = this.#config;
    const out = await openKeyToken(token, {
      krdCertificate: c.certificate,
      krdKey: c.key,
      kdhCertificate: this.#kdh,
      kdhCas: c.kdhCas,
      crl: c.crl,
      policy: c.policy,
      at,
      timestampWindowMs: c.timestampWindowMs,
      freshness: this.#freshness(),
      core: c.core,
    });
    this.#kdh ??= out.kdh.der;
    return out;
  }

  /**
   * Applies a rebind or unbind token from the bound KDH, or from `ca` (a
   * higher level authority) when given.
   *
   * @throws {Tr34Error} see `openBindingToken`; `wrong_kdh` if no KDH is bound.
   */
  async applyBindingToken(
    token: Uint8Array,
    options: { ca?: string | Uint8Array; at?: Date } = {},
  ): Promise<BindingResult> {
    if (this.#kdh === undefined) throw new Tr34Error("wrong_kdh", "the KRD is not bound to a KDH");
    const c = this.#config;
    const r = await openBindingToken(token, {
      krdCertificate: c.certificate,
      kdhCertificate: this.#kdh,
      caCertificate: options.ca,
      kdhCas: c.kdhCas,
      crl: c.crl,
      at: options.at,
      timestampWindowMs: c.timestampWindowMs,
      freshness: this.#freshness(),
      core: c.core,
    });
    this.#kdh = r.kind === "rebind" ? r.newKdh!.der : undefined;
    return r;
  }
}
