/**
 * The KMS as a TR-34 key distribution host (ASC X9 TR 34-2019, 2-pass key
 * transport, sections 5.4 and 5.5): binding (the KRD's credential token in,
 * the KDH's out), the key token that carries the terminal's TMK, and its
 * acknowledgement.
 *
 * The TMK is made by the HSM under the LMK and leaves it only inside the
 * EnvelopedData the HSM builds to the KRD's key (`Hsm.exportKeyTr34`); the
 * HSM signs the token with the KDH key block (`Hsm.sign`). The TMK is
 * recorded in the store (block under the LMK, KCV) with its audit records,
 * as in the other flows.
 *
 * Which terminals are TR-34's: those the binding registered, with no
 * production order (flow A) and no HSM key of flow B. Every KRD certificate
 * must chain to a KRD root for the `tr34-krd` purpose and name the SN. Each
 * random number is taken once per terminal (the nonce memory of the store).
 *
 * The acknowledgement proves possession of the TMK as flow A's does
 * (`src/protocol/flow_a_proof.ts`): the key token's answer carries a fresh
 * KMS nonce (flow A's stateless format, `flow_a_nonce.ts`), and the PIN pad
 * answers with a CMAC under `KDF(TMK, "TMK ack", SN)` that the HSM checks
 * from the TMK block (`Hsm.verifyDerivedMac`). The nonce is used once, in
 * the scope of flow A's nonces. An acknowledgement refused before its proof
 * verified (unknown, nothing sent, nonce, MAC, replay) changes nothing and
 * writes no audit record: it is counted in the metrics
 * (`tr34_ack_refused_<code>`).
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { fromHex, toHex } from "../../src/crypto/mod.ts";
import { type Hsm, KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { CertificateError, verifyChain } from "../../src/pki/mod.ts";
import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  proofMacInput,
  ProtocolError,
  TR34_NONCE_BYTES,
  type Tr34AckRequest,
  type Tr34BindRequest,
  type Tr34BindResponse,
  type Tr34KeyTokenRequest,
  type Tr34KeyTokenResponse,
  type Tr34TerminalStatus,
  ValidationError,
} from "../../src/protocol/mod.ts";
import { type Store, type Terminal, tmkDelivery } from "../../src/store/mod.ts";
import {
  buildCredentialToken,
  checkKrdCertificate,
  type ContentCipher,
  readCertificate,
  readCredentialToken,
  readRandomNumberToken,
  signKeyToken,
  Tr34Error,
} from "../../src/tr34/mod.ts";
import type { ServerMetrics } from "../_lib/metrics.ts";
import { acknowledgeTmk } from "./_delivery.ts";
import { FLOW_A_NONCE_SCOPE } from "./flow_a_delivery.ts";
import type { FlowAProofOps } from "./flow_a_keys.ts";
import { NonceIssuer } from "./flow_a_nonce.ts";
import type { Tr34Kdh } from "./tr34_kdh.ts";

/** How long the KMS remembers a KRD's random number (it is refused again until then). */
export const TR34_NONCE_MEMORY_MS = 5 * 365 * 86_400_000;

/** Options of {@link Tr34Service}. */
export interface Tr34ServiceOptions {
  /** The KMS's HSM: its LMK holds the KDH key block and the TMKs. */
  hsm: Hsm;
  store: Store;
  core: CryptoCore;
  /** The KDH: certificate, key block, KRD roots, CRL. */
  kdh: Tr34Kdh;
  /** The HSM's nonce tags and derived-key MACs (flow A's challenge key, same LMK). */
  proofs: FlowAProofOps;
  /** Content cipher of the key tokens (default aes256). */
  cipher?: ContentCipher;
  /** Clock (default: system clock). */
  now?: () => Date;
  /** How long an acknowledgement nonce is accepted, in ms (default flow A's). */
  nonceTtlMs?: number;
  /** Where refused acknowledgements are counted. */
  metrics?: ServerMetrics;
}

/** The HTTP error a refused TR-34 check becomes; its code is the {@link Tr34Error}'s. */
export function tr34HttpError(e: Tr34Error): ProtocolError {
  switch (e.code) {
    case "malformed":
    case "unknown_oid":
    case "unsupported_algorithm":
      return new ValidationError(e.code, e.message);
    default:
      return new AuthenticationError(e.code, e.message);
  }
}

/** The KMS's TR-34 logic. */
export class Tr34Service {
  readonly #o: Tr34ServiceOptions;
  readonly #now: () => Date;
  readonly #nonces: NonceIssuer;

  /** @param options HSM, store, core, KDH, proof operations, cipher, clock, metrics. */
  constructor(options: Tr34ServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#nonces = new NonceIssuer(options.proofs, options.nonceTtlMs);
  }

  async #audit(
    event: string,
    outcome: "success" | "failure",
    fields: { subject: string; kcv?: string; detail?: string },
    store: Store = this.#o.store,
  ): Promise<void> {
    await store.appendAudit({ at: this.#now(), actor: "kms", event, outcome, ...fields });
  }

  /** Whether a terminal row is a TR-34 one (no order, no flow B key). */
  static isTr34(t: Terminal): boolean {
    return t.orderId === null && t.prHsmBlock === null && t.aukBlock === null;
  }

  /**
   * Whether `sn` is a TR-34 terminal.
   *
   * @param sn serial number.
   */
  async owns(sn: string): Promise<boolean> {
    const t = await this.#o.store.getTerminal(sn);
    return t !== null && Tr34Service.isTr34(t);
  }

  /**
   * Reads the KRD certificate from a credential token and checks it: chain
   * to a KRD root, purpose `tr34-krd`, serialNumber = SN, valid now,
   * keyUsage keyEncipherment. Refusals are audited under `event`.
   */
  async #krd(sn: string, tokenHex: string, event: string): Promise<Uint8Array> {
    try {
      const { certificates } = readCredentialToken(fromHex(tokenHex));
      const der = certificates[0];
      try {
        await verifyChain(der, {
          roots: this.#o.kdh.krdRoots,
          purpose: "tr34-krd",
          subjectSerialNumber: sn,
          at: this.#now(),
        });
      } catch (e) {
        if (!(e instanceof CertificateError)) throw e;
        throw new Tr34Error(
          "krd_untrusted",
          `the KRD certificate is refused for ${sn} (${e.code})`,
        );
      }
      await checkKrdCertificate(
        readCertificate(der, "KRD certificate"),
        undefined,
        this.#now(),
        this.#o.core,
      );
      return der;
    } catch (e) {
      if (!(e instanceof Tr34Error)) throw e;
      await this.#audit(event, "failure", { subject: sn, detail: e.code });
      throw tr34HttpError(e);
    }
  }

  async #terminal(sn: string): Promise<Terminal> {
    const t = await this.#o.store.getTerminal(sn);
    if (!t || !Tr34Service.isTr34(t)) {
      throw new NotFoundError(
        "not_bound",
        `KMS has no TR-34 binding for ${sn}; POST /v1/terminals/${sn}/tr34/bind first`,
      );
    }
    return t;
  }

  /**
   * Binding: checks the KRD's credential token and registers the terminal
   * for TR-34; answers with the KDH's credential token (its certificate and
   * the CA's CRL). Binding again answers the same.
   *
   * @throws {ConflictError} `flow_a_terminal`, `flow_b_terminal`;
   *   {@link AuthenticationError} `krd_untrusted`; {@link ValidationError} `malformed`.
   */
  async bind(sn: string, req: Tr34BindRequest): Promise<Tr34BindResponse> {
    const existing = await this.#o.store.getTerminal(sn);
    if (existing && !Tr34Service.isTr34(existing)) {
      const code = existing.orderId !== null ? "flow_a_terminal" : "flow_b_terminal";
      await this.#audit("tr34_bound", "failure", { subject: sn, detail: code });
      throw new ConflictError(
        code,
        `${sn} is a ${code === "flow_a_terminal" ? "flow A" : "flow B"} terminal; TR-34 ` +
          "does not apply",
      );
    }
    const krd = await this.#krd(sn, req.credentialToken, "tr34_bound");
    const cert = readCertificate(krd, "KRD certificate");
    const created = await this.#o.store.transaction(async (tx) => {
      const fresh = await tx.registerTerminal(sn, this.#now());
      await this.#audit("tr34_bound", "success", {
        subject: sn,
        detail: `${fresh ? "bound" : "bound again"}: KRD certificate serial ${
          toHex(cert.id.serial)
        } (${cert.subjectText})`,
      }, tx);
      return fresh;
    });
    const kdh = readCertificate(this.#o.kdh.certificate, "KDH certificate");
    const token = await buildCredentialToken(
      [kdh.der],
      this.#o.kdh.crl ? [this.#o.kdh.crl] : [],
      this.#o.core,
    );
    return { sn, kdhCredentialToken: toHex(token), bound: created ? "new" : "again" };
  }

  /** The KRD's random number, taken once per terminal. */
  async #nonce(sn: string, tokenHex: string): Promise<Uint8Array> {
    let nonce: Uint8Array;
    try {
      nonce = readRandomNumberToken(fromHex(tokenHex));
      const { min, max } = TR34_NONCE_BYTES;
      if (nonce.length < min || nonce.length > max) {
        throw new Tr34Error(
          "malformed",
          `the random number must be ${min} to ${max} bytes, got ${nonce.length}`,
        );
      }
      const expires = new Date(this.#now().getTime() + TR34_NONCE_MEMORY_MS);
      if (!(await this.#o.store.rememberNonce(`tr34:${sn}`, toHex(nonce), expires))) {
        throw new Tr34Error("nonce_replayed", `this random number of ${sn} was already used`);
      }
    } catch (e) {
      if (!(e instanceof Tr34Error)) throw e;
      await this.#audit("tmk_sent", "failure", { subject: sn, detail: e.code });
      throw tr34HttpError(e);
    }
    return nonce;
  }

  /**
   * 2-pass key transport: the TMK (made on the first request, kept under
   * the LMK until acknowledged) in a key token signed over the KRD's random
   * number.
   *
   * @throws {NotFoundError} `not_bound`; {@link ConflictError} `already_delivered`;
   *   {@link AuthenticationError} `krd_untrusted`, `nonce_replayed`; {@link ValidationError} `malformed`.
   */
  async keyToken(sn: string, req: Tr34KeyTokenRequest): Promise<Tr34KeyTokenResponse> {
    const t = await this.#terminal(sn);
    if (tmkDelivery(t) === "delivered") {
      await this.#audit("tmk_sent", "failure", { subject: sn, detail: "already_delivered" });
      throw new ConflictError("already_delivered", `the TMK of ${sn} was already delivered`);
    }
    const krd = await this.#krd(sn, req.credentialToken, "tmk_sent");
    const nonce = await this.#nonce(sn, req.randomNumberToken);
    const { hsm, kdh, core } = this.#o;
    // Every HSM operation first: a failure there leaves nothing behind.
    const fresh = t.tmkBlock === null ? await hsm.generateKey(KEY_TEMPLATES.TMK) : null;
    const tmkBlock = fresh ? fresh.keyBlock : t.tmkBlock!;
    const out = await hsm.exportKeyTr34(tmkBlock, {
      krdCertificate: krd,
      kdhCertificate: kdh.certificate,
      cipher: this.#o.cipher,
    });
    const token = await signKeyToken(
      { certificate: kdh.certificate, sign: (m) => hsm.sign(kdh.privateKeyBlock, m) },
      {
        envelopedData: out.envelopedData,
        header: out.header,
        nonce,
        crl: kdh.crl,
        includeCertificate: true,
        core,
      },
    );
    const now = this.#now();
    // The acknowledgement's nonce first: nothing may fail after the commit.
    const ack = await this.#nonces.issue(sn, now);
    const outcome = await this.#o.store.transaction(async (tx) => {
      if (fresh) {
        const mine = await tx.issueTmk({
          sn,
          tmkBlock,
          tmkUnderTk: null,
          tmkKcv: out.kcv,
          issuedAt: now,
        });
        if (!mine) return "raced";
        await this.#audit(
          "tmk_issued",
          "success",
          { subject: sn, kcv: out.kcv, detail: "TR-34" },
          tx,
        );
      }
      if (!(await tx.markTmkSent(sn, now))) return "already_delivered";
      await this.#audit("tmk_sent", "success", {
        subject: sn,
        kcv: out.kcv,
        detail: `TR-34 2-pass key token (${out.header}, ${this.#o.cipher ?? "aes256"})`,
      }, tx);
      return "sent";
    });
    if (outcome === "raced") {
      throw new ConflictError(
        "concurrent_request",
        `another key token request for ${sn} issued its TMK first; retry`,
      );
    }
    if (outcome === "already_delivered") {
      throw new ConflictError("already_delivered", `the TMK of ${sn} was already delivered`);
    }
    return { sn, keyToken: toHex(token), tmkKcv: out.kcv, ackNonce: ack.nonce };
  }

  /**
   * Runs the checks of an acknowledgement before and of its proof: a
   * refusal there is counted and thrown, nothing stored.
   */
  async #unproved<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ProtocolError) this.#o.metrics?.count(`tr34_ack_refused_${e.code}`);
      throw e;
    }
  }

  /** The terminal an acknowledgement is for, its nonce and its proof checked. */
  async #proven(sn: string, body: Tr34AckRequest): Promise<{ t: Terminal; expiresAt: Date }> {
    const t = await this.#terminal(sn);
    const d = tmkDelivery(t);
    if (d === "none" || d === "issued") {
      throw new ConflictError("not_sent", `no TMK has been sent to ${sn}; nothing to acknowledge`);
    }
    let expiresAt: Date;
    try {
      expiresAt = await this.#nonces.check(sn, body.nonce, this.#now());
    } catch (e) {
      if (!(e instanceof AuthenticationError)) throw e;
      throw new AuthenticationError(
        e.code,
        `${
          e.code === "nonce_expired"
            ? "the nonce is expired (or not from this KMS)"
            : `the nonce was not issued by this KMS for ${sn}`
        }; ask for a new key token at POST .../tr34/key-token`,
      );
    }
    const data = proofMacInput("ack", sn, body.nonce, body.tmkKcv);
    if (!(await this.#o.proofs.verifyProof(t.tmkBlock!, "ack", sn, data, fromHex(body.mac)))) {
      throw new AuthenticationError("proof_invalid", `the MAC does not prove the TMK of ${sn}`);
    }
    return { t, expiresAt };
  }

  /**
   * The PIN pad's acknowledgement: the proof of its TMK over the key token's
   * nonce, then its KCV must equal the issued TMK's. The nonce is used up in
   * the transaction that records the outcome: a refusal after the proof
   * (audited) is committed with it, so a replay cannot write it again.
   *
   * @throws before the proof (counted, not stored): {@link NotFoundError} `not_bound`,
   *   {@link ConflictError} `not_sent`, {@link AuthenticationError} `nonce_expired`,
   *   `nonce_invalid`, `proof_invalid`, `nonce_used`; after it, {@link ConflictError}
   *   `already_delivered`, `IntegrityError` `kcv_mismatch` (audited).
   */
  async acknowledge(sn: string, body: Tr34AckRequest): Promise<Tr34TerminalStatus> {
    const { t, expiresAt } = await this.#unproved(() => this.#proven(sn, body));
    const r = await this.#o.store.transaction(async (tx) => {
      if (!(await tx.rememberNonce(FLOW_A_NONCE_SCOPE, body.nonce, expiresAt))) return null;
      try {
        return {
          value: await acknowledgeTmk({
            store: tx,
            terminal: t,
            tmkKcv: body.tmkKcv,
            now: this.#now,
            detail: "TR-34",
            status: (inner) => this.status(sn, inner),
          }),
        };
      } catch (e) {
        if (e instanceof ProtocolError) return { error: e };
        throw e;
      }
    });
    if (r === null) {
      return await this.#unproved(() => {
        throw new AuthenticationError(
          "nonce_used",
          "this nonce was already used (a replay); ask for a new key token",
        );
      });
    }
    if ("error" in r) throw r.error;
    return r.value;
  }

  /**
   * State and KCV of a TR-34 terminal (operator API), never keys.
   *
   * @throws {NotFoundError} `unknown_terminal`.
   */
  async status(sn: string, store: Store = this.#o.store): Promise<Tr34TerminalStatus> {
    const t = await store.getTerminal(sn);
    if (!t || !Tr34Service.isTr34(t)) {
      throw new NotFoundError("unknown_terminal", `KMS knows no TR-34 terminal ${sn}`);
    }
    const s: Tr34TerminalStatus = {
      sn,
      flow: "TR-34",
      state: t.state as Tr34TerminalStatus["state"],
      updatedAt: t.updatedAt,
    };
    if (t.tmkKcv) s.tmkKcv = t.tmkKcv;
    return s;
  }
}
