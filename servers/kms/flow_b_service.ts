/**
 * The KMS service of flow B (CN103714641A): per-terminal HSM key (S1),
 * transport key intake (S3-S4), mutual authentication with AUK (S5, claim
 * 4), and the operator's lift of a lock-out; S6 and S7 are in
 * `flow_b_session.ts`.
 *
 * Every key operation is the HSM's ({@link FlowBKeyOps}); the store keeps
 * Pr_hsm, AUK and TMK as key blocks under the LMK, Pu_tek and the Pu_hsm
 * certificate as PEM; every security event goes to the audit log.
 *
 * Who may ask (beyond the patent): S1, S3 and both halves of S5 are signed
 * by the PIN pad's device key (`src/protocol/flow_b_proof.ts`), checked
 * against the device roots and CRLs. A caller that fails that check, or
 * replays a signed request, changes nothing and writes no audit record: the
 * {@link RefusalGuard} counts it and backs it off per SN and per source.
 *
 * Repeated S1: **rotate before S3, refuse after**, and only for the holder
 * of the device key. Until the terminal has registered its transport key, a
 * new S1 makes a new Pu_hsm/Pr_hsm pair and the old Pr_hsm is dropped. Once
 * AUK and Pu_tek are stored, S1 is refused with 409
 * `transport_key_registered`. S1 for an SN the KMS knows from a flow A
 * order is refused with 409 `flow_a_terminal` before anything is written.
 *
 * @module
 */
import { fromHex, timingSafeEqual, toHex } from "../../src/crypto/mod.ts";
import type { Store, Terminal } from "../../src/store/mod.ts";
import {
  answerSigningInput,
  type AukCipher,
  AuthenticationError,
  type ChallengeAnswer,
  type ChallengeRequest,
  type ChallengeResponse,
  type ChallengeResult,
  challengeSigningInput,
  ConflictError,
  type FlowBPolicy,
  type FlowBTerminalStatus,
  type FlowBTmkAckRequest,
  type FlowBTmkRequest,
  type FlowBTmkResponse,
  hsmKeyLockedError,
  type HsmKeyRequest,
  type HsmKeyResponse,
  hsmKeySigningInput,
  IntegrityError,
  lockedError,
  MutualAuthResponder,
  NotFoundError,
  type ReleaseResponse,
  S1_TIME_WINDOW_MS,
  tkHashInput,
  type TransportKeyRequest,
  type TransportKeyResponse,
  transportKeySigningInput,
  UNCOUNTED_REFUSALS,
  type UnlockResponse,
} from "../../src/protocol/mod.ts";
import type {
  DeviceVerifier,
  FlowBKeyOps,
  HeldTransportKey,
  HsmKeyCertifier,
} from "./flow_b_ports.ts";
import { RecentNonces, RefusalGuard } from "./flow_b_guard.ts";
import { acknowledgeInSession, downloadInSession } from "./flow_b_session.ts";
import { releaseTerminal, terminalStatus, unlockTerminal } from "./flow_b_operator.ts";

/** Where the caller of a device route came from (its address; "local" in process). */
export type Source = string;

/** Options of {@link FlowBService}. */
export interface FlowBServiceOptions {
  keys: FlowBKeyOps;
  certifier: HsmKeyCertifier;
  /**
   * Checks the PIN pad's device signatures on S1, S3 and S5 (certificate of
   * the `pin-pad` profile for the SN, chained to the device roots).
   */
  devices: DeviceVerifier;
  store: Store;
  policy?: Partial<FlowBPolicy>;
  /** Rate limit of unauthenticated callers (default: a {@link RefusalGuard} on `now`). */
  guard?: RefusalGuard;
  /** Clock (default: the system clock). */
  now?: () => Date;
}

/** The KMS's flow B logic. */
export class FlowBService {
  readonly #keys: FlowBKeyOps;
  readonly #certifier: HsmKeyCertifier;
  readonly #devices: DeviceVerifier;
  readonly #store: Store;
  readonly #now: () => Date;
  readonly #auth: MutualAuthResponder;
  /** Counts and backs off callers that fail to authenticate (attach metrics and log to it). */
  readonly guard: RefusalGuard;
  readonly #recentS1 = new RecentNonces();

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
    this.guard = options.guard ?? new RefusalGuard({ now: () => this.#now().getTime() });
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
        // The order is not named: the answer goes to callers that proved nothing.
        `${sn} is a flow A terminal (it belongs to a production order); flow B does not apply`,
      );
    }
    if (t.lockedAt !== null) throw lockedError(sn);
    return t;
  }

  /**
   * Refuses an unauthenticated caller: nothing changes, nothing is audited;
   * the guard counts it and backs the SN and the source off.
   */
  #refuse(sn: string, source: Source, e: AuthenticationError): AuthenticationError {
    this.guard.refused(sn, source, e.code);
    return e;
  }

  /**
   * Checks a device signature; a refusal is the caller's ({@link #refuse}).
   *
   * @throws {AuthenticationError} `device_certificate_untrusted`, `device_signature_invalid`.
   */
  async #signed(
    sn: string,
    source: Source,
    proof: { deviceCertificate: string; signature: string },
    input: Uint8Array,
  ): Promise<void> {
    try {
      await this.#devices.verify(sn, proof.deviceCertificate, input, fromHex(proof.signature));
    } catch (e) {
      if (e instanceof AuthenticationError) throw this.#refuse(sn, source, e);
      throw e;
    }
  }

  /**
   * S1's freshness: its time within the window and its nonce not seen by
   * this instance; `remember` writes the nonce in the caller's transaction,
   * `done` notes it here after the commit.
   *
   * @throws {AuthenticationError} `request_stale`, `request_replayed` (the caller's refusal).
   */
  #s1Nonce(sn: string, source: Source, req: HsmKeyRequest, at: Date) {
    if (Math.abs(Date.parse(req.time) - at.getTime()) > S1_TIME_WINDOW_MS) {
      throw this.#refuse(
        sn,
        source,
        new AuthenticationError(
          "request_stale",
          `S1: time ${req.time} is more than ${S1_TIME_WINDOW_MS / 1000} s from the KMS clock`,
        ),
      );
    }
    const key = `flowb-s1:${sn}:${req.nonce}`;
    const until = at.getTime() + 2 * S1_TIME_WINDOW_MS;
    const replayed = () =>
      this.#refuse(
        sn,
        source,
        new AuthenticationError("request_replayed", "S1: this signed request was already used"),
      );
    if (this.#recentS1.has(key, at.getTime())) throw replayed();
    return {
      remember: (tx: Store) => tx.rememberNonce(`flowb-s1:${sn}`, req.nonce, new Date(until)),
      replayed,
      done: () => {
        this.#recentS1.add(key, until);
        this.guard.passed(sn);
      },
    };
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

  /** What S6 and S7 need of this service (`flow_b_session.ts`). */
  #session() {
    return {
      store: this.#store,
      keys: this.#keys,
      now: this.#now,
      terminal: (sn: string) => this.#terminal(sn),
      held: (t: Terminal, step: string) => this.#held(t, step),
      audit: this.#audit.bind(this),
      refuse: (sn: string, source: Source, e: AuthenticationError) => this.#refuse(sn, source, e),
      passed: (sn: string) => this.guard.passed(sn),
      status: (sn: string, tx: Store) => this.status(sn, tx),
    };
  }

  #cipher(tk: HeldTransportKey): AukCipher {
    return {
      encrypt: (b) => this.#keys.aukCipher(tk.aukBlock, "encrypt", b),
      decrypt: (b) => this.#keys.aukCipher(tk.aukBlock, "decrypt", b),
    };
  }

  /**
   * S1: a Pu_hsm/Pr_hsm pair for the terminal, Pu_hsm certified by the KMS
   * CA, for the holder of the device key only (signed SN, time and nonce).
   *
   * @param sn serial number.
   * @param req the signed request.
   * @param source the caller's address (rate limit).
   * @returns the certificate (and whether an earlier pair was replaced), and 201 or 200.
   * @throws {ConflictError} `flow_a_terminal`, `transport_key_registered` (S1 after S3);
   *   {@link AuthenticationError} `device_certificate_untrusted`, `device_signature_invalid`,
   *   `request_stale`, `request_replayed`, `terminal_locked`; `TooManyRequestsError` `rate_limited`.
   */
  async issueHsmKey(
    sn: string,
    req: HsmKeyRequest,
    source: Source = "local",
  ): Promise<{ created: boolean; body: HsmKeyResponse }> {
    this.guard.admit(sn, source);
    const existing = await this.#store.getTerminal(sn);
    if (existing) await this.#terminal(sn); // flow A terminal, lock-out: nothing written
    await this.#signed(sn, source, req, hsmKeySigningInput(sn, req));
    const at = this.#now();
    const nonce = this.#s1Nonce(sn, source, req, at);
    if (existing && (existing.aukBlock !== null || existing.tmkBlock !== null)) {
      // Refused and audited once: the nonce is used up with the audit record.
      const fresh = await this.#store.transaction(async (tx) => {
        if (!(await nonce.remember(tx))) return false;
        await this.#audit("hsm_key_issued", "failure", {
          subject: sn,
          detail: "transport_key_registered",
        }, tx);
        return true;
      });
      if (!fresh) throw nonce.replayed();
      nonce.done();
      throw hsmKeyLockedError(sn);
    }
    // Key pair and certificate first: if either fails, nothing is left behind (not even the
    // nonce, so the same request may be sent again).
    const pair = await this.#keys.generateHsmKeyPair();
    const cert = await this.#certifier.certify(sn, pair.publicKey);
    // The nonce, the terminal row, its key and the audit record commit together.
    const stored = await this.#store.transaction(async (tx) => {
      if (!(await nonce.remember(tx))) return "replayed";
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
    if (stored === "replayed") throw nonce.replayed();
    if (!stored) {
      // Another S1 or S3 for this SN won the race; nothing of ours was stored.
      throw new ConflictError(
        "concurrent_request",
        `S1: ${sn} changed while its HSM key was made; retry`,
      );
    }
    nonce.done();
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
   * @param req the validated request, signed by the device key.
   * @param source the caller's address (rate limit).
   * @returns what was stored (KCV, size), `duplicate: "yes"` for the same transport key again.
   * @throws {ValidationError} `pu_tek_invalid`; {@link IntegrityError} `auk_undecryptable`,
   *   `kcv_mismatch`, `tk_hash_mismatch`; {@link ConflictError} `hsm_key_required`,
   *   `transport_key_registered` (a different one); {@link AuthenticationError} `terminal_locked`.
   */
  async registerTransportKey(
    sn: string,
    req: TransportKeyRequest,
    source: Source = "local",
  ): Promise<TransportKeyResponse> {
    this.guard.admit(sn, source);
    const t = await this.#terminal(sn);
    if (!t.prHsmBlock) {
      throw new ConflictError("hsm_key_required", `S3: ${sn} has no Pu_hsm yet; S1 first`);
    }
    const tek = this.#keys.parsePuTek(req.puTek);
    await this.#signed(sn, source, req, transportKeySigningInput(sn, req));
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
   * @param req `{ rnd1 }`, signed by the device key.
   * @param source the caller's address (rate limit).
   * @returns the challenge.
   * @throws {AuthenticationError} `terminal_locked`, `rnd_replayed`, the device checks;
   *   {@link ConflictError} `transport_key_required`.
   */
  async openChallenge(
    sn: string,
    req: ChallengeRequest,
    source: Source = "local",
  ): Promise<ChallengeResponse> {
    this.guard.admit(sn, source);
    const t = await this.#terminal(sn);
    const tk = await this.#held(t, "S5");
    await this.#signed(sn, source, req, challengeSigningInput(sn, req.rnd1));
    return await this.#uncounted(sn, source, () => this.#auth.open(sn, req, this.#cipher(tk)));
  }

  /** Runs an S5 step; its uncounted refusals (replays) are the guard's, not the audit log's. */
  async #uncounted<T>(sn: string, source: Source, step: () => Promise<T>): Promise<T> {
    try {
      const r = await step();
      this.guard.passed(sn);
      return r;
    } catch (e) {
      if (e instanceof AuthenticationError && UNCOUNTED_REFUSALS.includes(e.code)) {
        throw this.#refuse(sn, source, e);
      }
      throw e;
    }
  }

  /**
   * S5, second half: checks Crnd2; a pass opens a download session bound to
   * the challenge (its id, Rnd1 and Rnd2). Only a wrong Crnd2 signed by the
   * device key counts towards the lock-out.
   *
   * @param sn serial number in the path.
   * @param challengeId the challenge.
   * @param answer `{ crnd2 }`, signed by the device key.
   * @param source the caller's address (rate limit).
   * @returns the session's id and end.
   * @throws {AuthenticationError} the code of the failed check (see {@link MutualAuthResponder.verify}).
   */
  async answerChallenge(
    sn: string,
    challengeId: string,
    answer: ChallengeAnswer,
    source: Source = "local",
  ): Promise<ChallengeResult> {
    this.guard.admit(sn, source);
    const t = await this.#terminal(sn);
    const tk = await this.#held(t, "S5");
    await this.#signed(sn, source, answer, answerSigningInput(sn, challengeId, answer.crnd2));
    const r = await this.#uncounted(
      sn,
      source,
      () => this.#auth.verify(sn, challengeId, answer, this.#cipher(tk)),
    );
    return {
      sn,
      authenticated: "yes",
      sessionId: r.sessionId,
      sessionExpiresAt: r.sessionExpiresAt,
    };
  }

  /**
   * S6: TMK under Pu_tek with a tag under AUK, for the holder of the open
   * session only (its MAC under the session key); see `flow_b_session.ts`.
   *
   * @param sn serial number.
   * @param sessionId the session (the passed challenge's id).
   * @param req the session MAC.
   * @param source the caller's address (rate limit).
   * @returns the ciphertext, KCV and tag.
   */
  async downloadTmk(
    sn: string,
    sessionId: string,
    req: FlowBTmkRequest,
    source: Source = "local",
  ): Promise<FlowBTmkResponse> {
    this.guard.admit(sn, source);
    return await downloadInSession(this.#session(), sn, sessionId, req, source);
  }

  /**
   * S7 acknowledgement in the session that downloaded the TMK (its MAC
   * under the session key); the KCV must equal the issued TMK's.
   *
   * @param sn serial number.
   * @param sessionId the session.
   * @param req the KCV and the session MAC.
   * @param source the caller's address (rate limit).
   * @returns the terminal's status (`delivered`).
   */
  async acknowledge(
    sn: string,
    sessionId: string,
    req: FlowBTmkAckRequest,
    source: Source = "local",
  ): Promise<FlowBTerminalStatus> {
    this.guard.admit(sn, source);
    return await acknowledgeInSession(this.#session(), sn, sessionId, req, source);
  }

  /**
   * State, KCVs and lock-out of a flow B terminal (operator API).
   *
   * @param sn serial number.
   * @param store the store or a transaction of it to read from.
   * @returns the status, never keys.
   * @throws {NotFoundError} `unknown_terminal`.
   */
  status(sn: string, store: Store = this.#store): Promise<FlowBTerminalStatus> {
    return terminalStatus(store, sn);
  }

  /**
   * Lifts a lock-out (operator API); audited with the operator who lifted it.
   *
   * @param sn serial number.
   * @param operator who asked (named in the audit record).
   * @returns whether it was locked.
   * @throws {NotFoundError} `unknown_terminal`.
   */
  unlock(sn: string, operator = "operator"): Promise<UnlockResponse> {
    return unlockTerminal(this.#operatorContext(), sn, operator);
  }

  /**
   * Drops a flow B registration that blocks its SN, e.g. for an order's batch (operator API).
   *
   * @param sn serial number.
   * @param operator who asked (named in the audit record).
   * @returns `released: "yes"`.
   * @throws {NotFoundError} `unknown_terminal` (no flow B registration without a delivered TMK).
   */
  release(sn: string, operator = "operator"): Promise<ReleaseResponse> {
    return releaseTerminal(this.#operatorContext(), sn, operator);
  }

  #operatorContext = () => ({ store: this.#store, now: this.#now, audit: this.#audit.bind(this) });
}
