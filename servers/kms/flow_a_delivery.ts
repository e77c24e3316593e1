/**
 * Flow A's TMK delivery at the KMS (CN103714639A S16-S17) with proof of
 * possession (`src/protocol/flow_a_proof.ts`): a stateless nonce per
 * download, the device's MAC under a key derived from TK before the TMK
 * goes out, and its MAC under a key derived from TMK before the terminal
 * is marked delivered. The MACs are checked in the HSM (`flow_a_keys.ts`),
 * the nonce's tag and age here (`flow_a_nonce.ts`), and a nonce is used
 * once across every KMS instance on the database (`Store.rememberNonce`).
 *
 * A request refused before its proof verified changes nothing and writes no
 * audit record: it is counted (`ServerMetrics`), logged at most once per
 * serial number per minute, and counted toward a hold-off of its serial
 * number and its source address (`servers/_lib/rate_limit.ts`, in this
 * process's memory) that delays and never locks. What a party that proved
 * its key does is audited as before.
 *
 * @module
 */
import { fromHex } from "../../src/crypto/mod.ts";
import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  proofMacInput,
  type ProofStep,
  ProtocolError,
  type TerminalStatus,
  type TmkAckProofRequest,
  type TmkChallengeResponse,
  type TmkDownloadRequest,
  type TmkDownloadResponse,
  TooManyRequestsError,
} from "../../src/protocol/mod.ts";
import { type Store, type Terminal, tmkDelivery } from "../../src/store/mod.ts";
import type { Logger } from "../_lib/log.ts";
import type { ServerMetrics } from "../_lib/metrics.ts";
import { FailureLimiter, type FailureLimits } from "../_lib/rate_limit.ts";
import { acknowledgeTmk } from "./_delivery.ts";
import type { FlowAProofOps } from "./flow_a_keys.ts";
import { NonceIssuer } from "./flow_a_nonce.ts";

/** The store scope flow A's used nonces are remembered in. */
export const FLOW_A_NONCE_SCOPE = "flow-a-nonce";

/** A refusal is logged at most once per serial number in this time. */
const LOG_EVERY_MS = 60_000;

/** Most serial numbers whose last refusal log time is kept. */
const LOG_KEYS = 10_000;

/** Options of {@link FlowADelivery}. */
export interface FlowADeliveryOptions {
  store: Store;
  /** The HSM's operations (challenge key, derived-key MACs). */
  proofs: FlowAProofOps;
  /** The terminal's status for the acknowledgement's answer. */
  status(sn: string, tx: Store): Promise<TerminalStatus>;
  /** Clock (default: the system clock). */
  now?: () => Date;
  /** How long a nonce is accepted, in ms (default two minutes). */
  nonceTtlMs?: number;
  /** The hold-off of failing serial numbers and sources. */
  limits?: Partial<FailureLimits>;
  /** Where refusals are counted. */
  metrics?: ServerMetrics;
  /** Where the sampled refusal lines go. */
  log?: Logger;
}

/** The KMS's flow A S16-S17 (see the module). */
export class FlowADelivery {
  readonly #store: Store;
  readonly #proofs: FlowAProofOps;
  readonly #status: FlowADeliveryOptions["status"];
  readonly #now: () => Date;
  readonly #nonces: NonceIssuer;
  readonly #limiter: FailureLimiter;
  readonly #metrics?: ServerMetrics;
  readonly #log?: Logger;
  readonly #logged = new Map<string, { at: number; suppressed: number }>();

  /** @param o store, HSM operations, status reader, clock, nonce lifetime, limits, metrics, log. */
  constructor(o: FlowADeliveryOptions) {
    this.#store = o.store;
    this.#proofs = o.proofs;
    this.#status = o.status;
    this.#now = o.now ?? (() => new Date());
    this.#nonces = new NonceIssuer(o.proofs, o.nonceTtlMs);
    this.#limiter = new FailureLimiter(o.limits);
    this.#metrics = o.metrics;
    this.#log = o.log;
  }

  /** The limiter's keys of a request. */
  #keys(sn: string, source: string | undefined): string[] {
    return [`sn:${sn}`, `source:${source ?? "unknown"}`];
  }

  /** Logs a refusal at most once per SN per {@link LOG_EVERY_MS}, with the count it stood for. */
  #sample(step: string, sn: string, code: string, source: string | undefined): void {
    const now = this.#now().getTime();
    const last = this.#logged.get(sn);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.suppressed++;
      return;
    }
    this.#logged.delete(sn);
    this.#logged.set(sn, { at: now, suppressed: 0 });
    if (this.#logged.size > LOG_KEYS) this.#logged.delete(this.#logged.keys().next().value!);
    this.#log?.log("warn", "flow_a.refused", {
      step,
      sn,
      code,
      source: source ?? "unknown",
      suppressedBefore: last?.suppressed ?? 0,
    });
  }

  /**
   * Refuses a request whose caller proved nothing: counted, sampled, held
   * against its SN and source; nothing stored.
   */
  #refuse(step: string, sn: string, source: string | undefined, e: ProtocolError): never {
    this.#metrics?.count(`flow_a_${step}_refused_${e.code}`);
    this.#sample(step, sn, e.code, source);
    if (!(e instanceof TooManyRequestsError)) {
      this.#limiter.fail(this.#keys(sn, source), this.#now().getTime());
    }
    throw e;
  }

  /** Refuses at once a request whose SN or source is held off. */
  #admit(step: string, sn: string, source: string | undefined): void {
    const wait = this.#limiter.retryAfter(this.#keys(sn, source), this.#now().getTime());
    if (wait > 0) {
      this.#refuse(
        step,
        sn,
        source,
        new TooManyRequestsError(
          "rate_limited",
          `too many failed requests for ${sn} or from this address; try again in ${
            Math.ceil(wait / 1000)
          } s`,
          wait,
        ),
      );
    }
  }

  /**
   * Runs the checks of a request before its proof: any refusal is an
   * unproved one ({@link #refuse}).
   */
  async #unproved<T>(
    step: string,
    sn: string,
    source: string | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    this.#admit(step, sn, source);
    try {
      return await fn();
    } catch (e) {
      if (e instanceof AuthenticationError || e instanceof NotFoundError) {
        this.#refuse(step, sn, source, e);
      }
      if (e instanceof ConflictError && (e.code === "not_issued" || e.code === "not_sent")) {
        this.#refuse(step, sn, source, e);
      }
      throw e;
    }
  }

  /** The flow A terminal with the key block the step's proof is under. */
  async #terminal(sn: string, step: ProofStep): Promise<Terminal & { keyBlock: string }> {
    const t = await this.#store.getTerminal(sn);
    if (!t || !t.orderId || !t.tkBlock) {
      throw new NotFoundError("unknown_terminal", `KMS knows no flow A terminal ${sn}`);
    }
    const keyBlock = step === "download" ? t.tkBlock : t.tmkBlock;
    if (!keyBlock || !t.tmkUnderTk || !t.tmkKcv) {
      throw new ConflictError("not_issued", `no TMK has been issued for ${sn} yet`);
    }
    if (step === "ack" && tmkDelivery(t) === "issued") {
      throw new ConflictError("not_sent", `no TMK has been sent to ${sn}; nothing to acknowledge`);
    }
    return { ...t, keyBlock };
  }

  /**
   * Checks a request's nonce and proof.
   *
   * @returns when the nonce expires (how long to remember it once used).
   * @throws {AuthenticationError} `nonce_expired`, `nonce_invalid`, `proof_invalid`.
   */
  async #prove(
    step: ProofStep,
    t: Terminal & { keyBlock: string },
    body: { nonce: string; mac: string; tmkKcv?: string },
  ): Promise<Date> {
    const expiresAt = await this.#nonces.check(t.sn, body.nonce, this.#now());
    const data = proofMacInput(step, t.sn, body.nonce, body.tmkKcv);
    if (!(await this.#proofs.verifyProof(t.keyBlock, step, t.sn, data, fromHex(body.mac)))) {
      throw new AuthenticationError(
        "proof_invalid",
        step === "download"
          ? `the MAC does not prove the TK of ${t.sn}`
          : `the MAC does not prove the TMK of ${t.sn}`,
      );
    }
    return expiresAt;
  }

  /**
   * Uses the nonce of a proven request up and runs `fn` in the same
   * transaction. A refusal `fn` throws (a {@link ProtocolError}, audited in
   * `tx`) is committed with the nonce, so a replay cannot write it again; any
   * other failure rolls both back, so the same request can be retried. A nonce
   * already used is a replay: refused as unproved.
   */
  async #commit<T>(
    step: ProofStep,
    sn: string,
    source: string | undefined,
    nonce: { nonce: string; expiresAt: Date },
    fn: (tx: Store) => Promise<T>,
  ): Promise<T> {
    const r = await this.#store.transaction(
      async (tx): Promise<{ replayed: true } | { value: T } | { error: ProtocolError }> => {
        if (!(await tx.rememberNonce(FLOW_A_NONCE_SCOPE, nonce.nonce, nonce.expiresAt))) {
          return { replayed: true };
        }
        try {
          return { value: await fn(tx) };
        } catch (e) {
          if (e instanceof ProtocolError) return { error: e };
          throw e;
        }
      },
    );
    if ("replayed" in r) {
      this.#refuse(
        step,
        sn,
        source,
        new AuthenticationError(
          "nonce_used",
          "this nonce was already used (a replay); ask for a new one at POST .../tmk/challenge",
        ),
      );
    }
    if ("error" in r) throw r.error;
    return r.value;
  }

  /**
   * A fresh nonce for a download or an acknowledgement of `sn`. Writes nothing.
   *
   * @param sn the serial number.
   * @param source the caller's address (for the hold-off).
   * @returns the nonce and when it expires.
   * @throws {TooManyRequestsError} `rate_limited`.
   */
  async challenge(sn: string, source?: string): Promise<TmkChallengeResponse> {
    this.#admit("challenge", sn, source);
    const { nonce, expiresAt } = await this.#nonces.issue(sn, this.#now());
    return { sn, nonce, expiresAt: expiresAt.toISOString() };
  }

  /**
   * S16: the TMK under TK, to the holder of TK, with a nonce for the acknowledgement.
   *
   * @param sn the serial number.
   * @param body the nonce and the proof of TK.
   * @param source the caller's address (for the hold-off).
   * @returns the TR-31 block under TK, the KCV and the acknowledgement's nonce.
   * @throws {TooManyRequestsError}, {@link NotFoundError} `unknown_terminal`, {@link ConflictError}
   *   `not_issued`, for the acknowledgement `not_sent` (none of these stored); {@link AuthenticationError} (not stored); after the
   *   proof, {@link ConflictError} `already_delivered` (audited).
   */
  async download(
    sn: string,
    body: TmkDownloadRequest,
    source?: string,
  ): Promise<TmkDownloadResponse> {
    const { t, expiresAt } = await this.#unproved("download", sn, source, async () => {
      const t = await this.#terminal(sn, "download");
      return { t, expiresAt: await this.#prove("download", t, body) };
    });
    // The acknowledgement's nonce first: nothing may fail after the commit.
    const ack = await this.#nonces.issue(sn, this.#now());
    await this.#commit("download", sn, source, { nonce: body.nonce, expiresAt }, async (tx) => {
      const audit = (outcome: "success" | "failure", detail?: string) =>
        tx.appendAudit({
          at: this.#now(),
          actor: "kms",
          event: "tmk_sent",
          outcome,
          subject: sn,
          ...(outcome === "success" ? { kcv: t.tmkKcv! } : {}),
          ...(detail ? { detail } : {}),
        });
      if (tmkDelivery(t) === "delivered" || !(await tx.markTmkSent(sn, this.#now()))) {
        await audit("failure", "already_delivered");
        throw new ConflictError("already_delivered", `the TMK of ${sn} was already delivered`);
      }
      await audit("success");
    });
    return { sn, tmkBlock: t.tmkUnderTk!, tmkKcv: t.tmkKcv!, ackNonce: ack.nonce };
  }

  /**
   * S17: the holder of the TMK confirms its KCV; only then is the terminal delivered.
   *
   * @param sn the serial number.
   * @param body the KCV, a nonce and the proof of TMK.
   * @param source the caller's address (for the hold-off).
   * @returns the terminal's status (`delivered`).
   * @throws as {@link download} before the proof; after it, {@link ConflictError} `not_sent`,
   *   `already_delivered`, `IntegrityError` `kcv_mismatch` (audited).
   */
  async acknowledge(
    sn: string,
    body: TmkAckProofRequest,
    source?: string,
  ): Promise<TerminalStatus> {
    const { t, expiresAt } = await this.#unproved("ack", sn, source, async () => {
      const t = await this.#terminal(sn, "ack");
      return { t, expiresAt: await this.#prove("ack", t, body) };
    });
    return await this.#commit(
      "ack",
      sn,
      source,
      { nonce: body.nonce, expiresAt },
      (tx) =>
        acknowledgeTmk({
          store: tx,
          terminal: t,
          tmkKcv: body.tmkKcv,
          now: this.#now,
          status: (inner) => this.#status(sn, inner),
        }),
    );
  }
}
