/**
 * The KMS service of flow B (CN103714641A): per-terminal HSM key (S1),
 * transport key intake (S3-S4), mutual authentication with AUK (S5, claim
 * 4), TMK under Pu_tek inside a passed session (S6) and its
 * acknowledgement (S7), plus the operator's lift of a lock-out.
 *
 * Every key operation is the HSM's ({@link FlowBKeyOps}); the store keeps
 * Pr_hsm, AUK and TMK as key blocks under the LMK, Pu_tek and the Pu_hsm
 * certificate as PEM; every security event goes to the audit log.
 *
 * Repeated S1 (`POST /v1/terminals/{sn}/hsm-key`): **rotate before S3,
 * refuse after**. Until the terminal has registered its transport key, a
 * new S1 makes a new Pu_hsm/Pr_hsm pair and the old Pr_hsm is dropped (a
 * PIN pad that lost its Pu_hsm can start again; an AUK encrypted under the
 * old Pu_hsm no longer decrypts). Once AUK and Pu_tek are stored, S1 is
 * refused with 409 `transport_key_registered`: the AUK the terminal
 * authenticates with is bound to that Pr_hsm, and nobody who merely knows
 * the SN may reset it.
 *
 * @module
 */
import { fromHex, timingSafeEqual, toHex } from "../../src/crypto/mod.ts";
import { type Store, type Terminal, tmkDelivery } from "../../src/store/mod.ts";
import {
  type AukCipher,
  AuthenticationError,
  type ChallengeAnswer,
  type ChallengeRequest,
  type ChallengeResponse,
  type ChallengeResult,
  ConflictError,
  type FlowBPolicy,
  type FlowBTerminalStatus,
  type FlowBTmkResponse,
  hsmKeyLockedError,
  type HsmKeyResponse,
  IntegrityError,
  lockedError,
  MutualAuthResponder,
  NotFoundError,
  sessionError,
  tkHashInput,
  tmkMacInput,
  type TransportKeyRequest,
  type TransportKeyResponse,
  transportKeySigningInput,
  type UnlockResponse,
} from "../../src/protocol/mod.ts";
import type {
  DeviceVerifier,
  FlowBKeyOps,
  HeldTransportKey,
  HsmKeyCertifier,
} from "./flow_b_ports.ts";
import { acknowledgeTmk } from "./_delivery.ts";

/** Options of {@link FlowBService}. */
export interface FlowBServiceOptions {
  keys: FlowBKeyOps;
  certifier: HsmKeyCertifier;
  /**
   * With it, S3 must be signed by the PIN pad's device key (certificate of
   * the `pin-pad` profile for the SN); without it, S3 is taken on the TK
   * hash alone (the patent's protocol).
   */
  devices?: DeviceVerifier;
  store: Store;
  policy?: Partial<FlowBPolicy>;
  /** Clock (default: the system clock). */
  now?: () => Date;
}

/** The KMS's flow B logic. */
export class FlowBService {
  readonly #keys: FlowBKeyOps;
  readonly #certifier: HsmKeyCertifier;
  readonly #devices: DeviceVerifier | undefined;
  readonly #store: Store;
  readonly #now: () => Date;
  readonly #auth: MutualAuthResponder;

  /**
   * @param options key operations, certifier, store, policy, clock.
   * @throws {RangeError} for a bad policy.
   */
  constructor(options: FlowBServiceOptions) {
    this.#keys = options.keys;
    this.#certifier = options.certifier;
    this.#devices = options.devices;
    this.#store = options.store;
    this.#now = options.now ?? (() => new Date());
    this.#auth = new MutualAuthResponder({
      ledger: options.store,
      policy: options.policy,
      now: this.#now,
      // The ledger is this store; `l` is the view of the transaction the event belongs to.
      onEvent: (e, l) =>
        this.#audit(
          e.event,
          e.event.endsWith("_failed") || e.event === "lockout" ? "failure" : "success",
          {
            subject: e.sn,
            detail: e.event === "challenge_opened" ? `opened, ${e.detail}` : e.detail,
          },
          l as Store,
        ),
    });
  }

  /** The policy in force (challenge and session lifetimes, lock-out threshold). */
  get policy(): FlowBPolicy {
    return this.#auth.policy;
  }

  /** Appends an audit record; `store` is the transaction of the change it records, if any. */
  async #audit(
    event: string,
    outcome: "success" | "failure",
    fields: { subject?: string; kcv?: string; detail?: string },
    store: Store = this.#store,
  ): Promise<void> {
    await store.appendAudit({ at: this.#now(), actor: "kms", event, outcome, ...fields });
  }

  /**
   * Whether `sn` is a flow B terminal (registered in the field, no order).
   *
   * @param sn serial number.
   * @returns true if KMS knows it and it has no production order.
   */
  async owns(sn: string): Promise<boolean> {
    const t = await this.#store.getTerminal(sn);
    return t !== null && t.orderId === null;
  }

  async #terminal(sn: string): Promise<Terminal> {
    const t = await this.#store.getTerminal(sn);
    if (!t) {
      throw new NotFoundError("unknown_terminal", `KMS knows no terminal ${sn}; start with S1`);
    }
    if (t.orderId !== null) {
      throw new ConflictError(
        "flow_a_terminal",
        `${sn} belongs to production order ${t.orderId} (flow A); flow B does not apply`,
      );
    }
    if (t.lockedAt !== null) throw lockedError(sn);
    return t;
  }

  /** SHA-256 of tkHashInput(SHA-256(AUK), SHA-256(Pu_tek)), as hex. */
  async #tkHash(aukDigest: Uint8Array, puTekDer: Uint8Array): Promise<string> {
    const puTekDigest = await this.#keys.sha256(puTekDer);
    return toHex(await this.#keys.sha256(tkHashInput(aukDigest, puTekDigest)));
  }

  /**
   * The terminal's transport key, after checking the TK hash: AUK (by the
   * hash the HSM reports) and the stored Pu_tek against the hash stored at S4.
   */
  async #held(t: Terminal, step: string): Promise<HeldTransportKey> {
    if (!t.aukBlock || !t.puTek || !t.tkHash) {
      throw new ConflictError(
        "transport_key_required",
        `${t.sn} has not registered its transport key (S3) yet`,
      );
    }
    const tek = this.#keys.parsePuTek(t.puTek);
    const h = await this.#tkHash(await this.#keys.aukDigest(t.aukBlock), tek.der);
    if (!timingSafeEqual(new TextEncoder().encode(h), new TextEncoder().encode(t.tkHash))) {
      await this.#audit("key_refused", "failure", {
        subject: t.sn,
        detail: `${step}: tk_hash_mismatch`,
      });
      throw new IntegrityError(
        "tk_hash_mismatch",
        `${step}: the stored transport key of ${t.sn} no longer matches its TK hash; refused`,
      );
    }
    return { aukBlock: t.aukBlock, puTek: tek.key, puTekDer: tek.der };
  }

  #cipher(tk: HeldTransportKey): AukCipher {
    return {
      encrypt: (b) => this.#keys.aukCipher(tk.aukBlock, "encrypt", b),
      decrypt: (b) => this.#keys.aukCipher(tk.aukBlock, "decrypt", b),
    };
  }

  /**
   * S1: a Pu_hsm/Pr_hsm pair for the terminal, Pu_hsm certified by the KMS CA.
   *
   * @param sn serial number.
   * @returns the certificate (and whether an earlier pair was replaced), and 201 or 200.
   * @throws {ConflictError} `flow_a_terminal`, `transport_key_registered` (S1 after S3);
   *   {@link AuthenticationError} `terminal_locked`.
   */
  async issueHsmKey(sn: string): Promise<{ created: boolean; body: HsmKeyResponse }> {
    const existing = await this.#store.getTerminal(sn);
    if (existing) {
      const t = await this.#terminal(sn); // flow A terminal, lock-out
      if (t.aukBlock !== null || t.tmkBlock !== null) {
        await this.#audit("hsm_key_issued", "failure", {
          subject: sn,
          detail: "transport_key_registered",
        });
        throw hsmKeyLockedError(sn);
      }
    }
    // Key pair and certificate first: if either fails, no terminal row is left behind.
    const pair = await this.#keys.generateHsmKeyPair();
    const cert = await this.#certifier.certify(sn, pair.publicKey);
    const at = this.#now();
    // The terminal row, its key and the audit record commit together.
    const stored = await this.#store.transaction(async (tx) => {
      const created = await tx.registerTerminal(sn, at);
      const rotate = !created && existing !== null && existing.prHsmBlock !== null;
      const ok = await tx.setHsmKey(sn, {
        puHsmCert: cert.certificate,
        prHsmBlock: pair.prHsmBlock,
        at,
        replace: rotate,
      });
      if (!ok) return null;
      await this.#audit("hsm_key_issued", "success", {
        subject: sn,
        detail: rotate ? "rotated: the earlier Pr_hsm is dropped" : "first key pair",
      }, tx);
      return { created, rotate };
    });
    if (!stored) {
      // Another S1 or S3 for this SN won the race; nothing of ours was stored.
      throw new ConflictError(
        "concurrent_request",
        `S1: ${sn} changed while its HSM key was made; retry`,
      );
    }
    const { created, rotate } = stored;
    return {
      created,
      body: {
        sn,
        certificate: cert.certificate,
        caCertificate: cert.caCertificate,
        rotated: rotate ? "yes" : "no",
      },
    };
  }

  /**
   * S3-S4: the HSM recovers AUK under Pr_hsm, checks its KCV and the TK
   * hash over AUK and Pu_tek, and the KMS stores AUK (under the LMK) and Pu_tek.
   *
   * @param sn serial number.
   * @param req the validated request.
   * @returns what was stored (KCV, size), `duplicate: "yes"` for the same transport key again.
   * @throws {ValidationError} `pu_tek_invalid`; {@link IntegrityError} `auk_undecryptable`,
   *   `kcv_mismatch`, `tk_hash_mismatch`; {@link ConflictError} `hsm_key_required`,
   *   `transport_key_registered` (a different one); {@link AuthenticationError} `terminal_locked`.
   */
  async registerTransportKey(sn: string, req: TransportKeyRequest): Promise<TransportKeyResponse> {
    const t = await this.#terminal(sn);
    if (!t.prHsmBlock) {
      throw new ConflictError("hsm_key_required", `S3: ${sn} has no Pu_hsm yet; S1 first`);
    }
    const tek = this.#keys.parsePuTek(req.puTek);
    if (this.#devices) {
      if (!req.deviceCertificate || !req.signature) {
        await this.#audit("tk_imported", "failure", {
          subject: sn,
          detail: "device_signature_required",
        });
        throw new AuthenticationError(
          "device_signature_required",
          "S3: this KMS takes a transport key only signed by the PIN pad's device key",
        );
      }
      try {
        await this.#devices.verify(
          sn,
          req.deviceCertificate,
          transportKeySigningInput(sn, req),
          fromHex(req.signature),
        );
      } catch (e) {
        if (e instanceof AuthenticationError) {
          await this.#audit("tk_imported", "failure", { subject: sn, detail: e.code });
        }
        throw e;
      }
    }
    if (t.aukBlock !== null) {
      if (t.tkHash === req.tkHash && t.puTek === tek.pem && t.tkKcv === req.aukKcv) {
        return { sn, aukKcv: req.aukKcv, tekBits: tek.bits, duplicate: "yes" };
      }
      await this.#audit("tk_imported", "failure", {
        subject: sn,
        detail: "transport_key_registered",
      });
      throw new ConflictError(
        "transport_key_registered",
        `S3: ${sn} already registered a different transport key; it is not replaced`,
      );
    }
    let aukBlock: string;
    try {
      const r = await this.#keys.importAuk(t.prHsmBlock, fromHex(req.encryptedAuk), req.aukKcv);
      aukBlock = r.aukBlock;
      const h = await this.#tkHash(r.aukDigest, tek.der);
      if (!timingSafeEqual(new TextEncoder().encode(h), new TextEncoder().encode(req.tkHash))) {
        throw new IntegrityError(
          "tk_hash_mismatch",
          "S4: the TK hash over AUK and Pu_tek differs from the one sent; nothing stored",
        );
      }
    } catch (e) {
      if (e instanceof IntegrityError) {
        await this.#audit("tk_imported", "failure", { subject: sn, detail: e.code });
      }
      throw e;
    }
    const ok = await this.#store.transaction(async (tx) => {
      const set = await tx.setTransportKey(sn, {
        aukBlock,
        puTek: tek.pem,
        tkHash: req.tkHash,
        tkKcv: req.aukKcv,
        at: this.#now(),
      });
      if (!set) return false;
      await this.#audit("tk_imported", "success", {
        subject: sn,
        kcv: req.aukKcv,
        detail: `flow B: AUK and Pu_tek (${tek.bits} bits)`,
      }, tx);
      return true;
    });
    if (!ok) {
      throw new ConflictError(
        "concurrent_request",
        `S3: ${sn} changed while its transport key was imported; retry`,
      );
    }
    return { sn, aukKcv: req.aukKcv, tekBits: tek.bits, duplicate: "no" };
  }

  /**
   * S5, first half: Crnd1 = TDES(AUK, Rnd1) and a fresh Rnd2.
   *
   * @param sn serial number.
   * @param req `{ rnd1 }`.
   * @returns the challenge.
   * @throws {AuthenticationError} `terminal_locked`, `rnd_replayed`; {@link ConflictError} `transport_key_required`.
   */
  async openChallenge(sn: string, req: ChallengeRequest): Promise<ChallengeResponse> {
    const t = await this.#terminal(sn);
    return await this.#auth.open(sn, req, this.#cipher(await this.#held(t, "S5")));
  }

  /**
   * S5, second half: checks Crnd2; a pass opens a download session.
   *
   * @param sn serial number in the path.
   * @param challengeId the challenge.
   * @param answer `{ crnd2 }`.
   * @returns the session's end.
   * @throws {AuthenticationError} the code of the failed check (see {@link MutualAuthResponder.verify}).
   */
  async answerChallenge(
    sn: string,
    challengeId: string,
    answer: ChallengeAnswer,
  ): Promise<ChallengeResult> {
    const t = await this.#terminal(sn);
    const r = await this.#auth.verify(
      sn,
      challengeId,
      answer,
      this.#cipher(await this.#held(t, "S5")),
    );
    return { sn, authenticated: "yes", sessionExpiresAt: r.sessionExpiresAt };
  }

  /**
   * S6: TMK under Pu_tek with a tag under AUK ({@link tmkMacInput}), inside
   * a passed, unexpired session, which it uses up.
   * The TMK is generated on the first download and kept under the LMK; a
   * later download (a lost answer) sends the same TMK under a fresh OAEP
   * encryption until it is acknowledged.
   *
   * @param sn serial number.
   * @returns the ciphertext and KCV.
   * @throws {AuthenticationError} `session_required`, `session_expired`, `terminal_locked`;
   *   {@link ConflictError} `already_delivered`, `transport_key_required`; {@link IntegrityError} `tk_hash_mismatch`.
   */
  async downloadTmk(sn: string): Promise<FlowBTmkResponse> {
    const t = await this.#terminal(sn);
    if (tmkDelivery(t) === "delivered") {
      await this.#audit("tmk_sent", "failure", { subject: sn, detail: "already_delivered" });
      throw new ConflictError("already_delivered", `the TMK of ${sn} was already delivered`);
    }
    const tk = await this.#held(t, "S6");
    const now = this.#now();
    if (t.sessionExpiresAt === null || Date.parse(t.sessionExpiresAt) <= now.getTime()) {
      const expired = t.sessionExpiresAt !== null;
      await this.#audit("tmk_sent", "failure", {
        subject: sn,
        detail: expired ? "session_expired" : "session_required",
      });
      throw sessionError(sn, expired);
    }
    // Every HSM operation first (a new TMK on the first download, its export under Pu_tek,
    // the tag under AUK): a failure there leaves nothing behind.
    const fresh = !t.tmkBlock || !t.tmkKcv ? await this.#keys.generateTmk() : null;
    const tmkBlock = fresh ? fresh.tmkBlock : t.tmkBlock!;
    const tmkKcv = fresh ? fresh.tmkKcv : t.tmkKcv!;
    const encryptedTmk = toHex(await this.#keys.exportTmk(tmkBlock, tk.puTek));
    const h = await this.#keys.sha256(tmkMacInput(sn, encryptedTmk, tmkKcv));
    const tmkMac = toHex(await this.#keys.aukCipher(tk.aukBlock, "decrypt", h.subarray(0, 8)));
    // Then, in one transaction: the new TMK kept, the session used up (of concurrent
    // downloads exactly one gets it), the TMK marked sent, and the audit records.
    const outcome = await this.#store.transaction(async (tx) => {
      if (fresh) {
        const mine = await tx.issueTmk({
          sn,
          tmkBlock,
          tmkUnderTk: null,
          tmkKcv,
          issuedAt: now,
        });
        // Another first download kept its TMK and used the session with it.
        if (!mine) return "session_used";
      }
      if (!(await tx.consumeSession(sn, this.#now()))) return "session_used";
      if (!(await tx.markTmkSent(sn, this.#now()))) return "already_delivered";
      if (fresh) {
        await this.#audit(
          "tmk_issued",
          "success",
          { subject: sn, kcv: tmkKcv, detail: "flow B" },
          tx,
        );
      }
      await this.#audit(
        "tmk_sent",
        "success",
        { subject: sn, kcv: tmkKcv, detail: "under Pu_tek" },
        tx,
      );
      return "sent";
    });
    if (outcome === "session_used") {
      await this.#audit("tmk_sent", "failure", { subject: sn, detail: "session_expired" });
      throw sessionError(sn, true);
    }
    if (outcome === "already_delivered") {
      throw new ConflictError("already_delivered", `the TMK of ${sn} was already delivered`);
    }
    return { sn, encryptedTmk, tmkKcv, tmkMac };
  }

  /**
   * S7 acknowledgement: the PIN pad's KCV must equal the issued TMK's.
   *
   * @param sn serial number.
   * @param tmkKcv the PIN pad's KCV.
   * @returns the terminal's status (`delivered`).
   * @throws {ConflictError} `not_sent`, `already_delivered`; {@link IntegrityError} `kcv_mismatch`.
   */
  async acknowledge(sn: string, tmkKcv: string): Promise<FlowBTerminalStatus> {
    return await acknowledgeTmk({
      store: this.#store,
      terminal: await this.#terminal(sn),
      tmkKcv,
      now: this.#now,
      detail: "flow B",
      status: (tx) => this.status(sn, tx),
    });
  }

  /**
   * State, KCVs and lock-out of a flow B terminal (operator API).
   *
   * @param sn serial number.
   * @param store the store or a transaction of it to read from.
   * @returns the status, never keys.
   * @throws {NotFoundError} `unknown_terminal`.
   */
  async status(sn: string, store: Store = this.#store): Promise<FlowBTerminalStatus> {
    const t = await store.getTerminal(sn);
    if (!t || t.orderId !== null || t.state === "registered") {
      throw new NotFoundError("unknown_terminal", `KMS knows no flow B terminal ${sn}`);
    }
    const s: FlowBTerminalStatus = {
      sn,
      flow: "B",
      state: t.state as FlowBTerminalStatus["state"],
      authFailures: t.authFailures,
      locked: t.lockedAt !== null ? "yes" : "no",
      updatedAt: t.updatedAt,
    };
    if (t.tkKcv) s.aukKcv = t.tkKcv;
    if (t.tmkKcv) s.tmkKcv = t.tmkKcv;
    return s;
  }

  /**
   * Lifts a lock-out (operator API); audited.
   *
   * @param sn serial number.
   * @param operator who asked (for the audit log).
   * @returns whether it was locked.
   * @throws {NotFoundError} `unknown_terminal`.
   */
  async unlock(sn: string, operator = "operator"): Promise<UnlockResponse> {
    const t = await this.#store.getTerminal(sn);
    if (!t || t.orderId !== null) {
      throw new NotFoundError("unknown_terminal", `KMS knows no flow B terminal ${sn}`);
    }
    const done = await this.#store.transaction(async (tx) => {
      const lifted = await tx.unlockTerminal(sn, this.#now());
      await this.#audit("unlock", lifted ? "success" : "failure", {
        subject: sn,
        detail: lifted ? `lifted by ${operator}` : "was not locked",
      }, tx);
      return lifted;
    });
    return { sn, unlocked: done ? "yes" : "no" };
  }
}
