/**
 * Flow B S5 of CN103714641A: mutual authentication with AUK (claim 4), both
 * ends' state machines (the PIN pad's {@link MutualAuthInitiator}, the KMS's
 * {@link MutualAuthResponder}), the policy, what the KMS keeps in its store
 * ({@link ChallengeLedger}) and the errors of the steps it guards. The
 * messages are in `flow_b.ts`.
 *
 * Beyond the patent, against the attacks its S5 leaves open:
 * - Reflection: the KMS encrypts any Rnd1 it is sent, so an attacker could
 *   open a second challenge with Rnd1 := the first one's Rnd2 and read off
 *   Crnd2. Every Rnd1 and Rnd2 is therefore single-use per terminal across
 *   both directions ({@link ChallengeLedger.rememberNonce}), and the Rnds are
 *   one TDES block (8 bytes) so ECB/CBC block splicing cannot assemble a
 *   Crnd2 from several answers.
 * - Replay and guessing: challenges are single-use and expire after
 *   {@link FlowBPolicy.challengeTtlMs}. Both halves of S5 are signed by the
 *   PIN pad's device key (`flow_b_proof.ts`, checked by the KMS before this
 *   class runs), so only a wrong Crnd2 from the device itself on a live
 *   challenge counts towards a lock-out of the SN at
 *   {@link FlowBPolicy.maxFailures}, lifted only by the operator API.
 *   Every other refusal ({@link UNCOUNTED_REFUSALS}: an unknown, expired,
 *   answered or foreign challenge, a used or reflected Rnd) can be a replay
 *   of what someone overheard: it changes nothing and records nothing here.
 * - A failure never closes an open session: the session belongs to whoever
 *   passed S5, and its MAC key is derived from AUK and both Rnds.
 *
 * @module
 */
import { fromHex, timingSafeEqual, toHex } from "../crypto/mod.ts";
import { AuthenticationError, ConflictError, ValidationError } from "./errors.ts";
import type { ChallengeAnswer, ChallengeRequest } from "./flow_b_proof.ts";
import {
  type ChallengeResponse,
  DEFAULT_CHALLENGE_TTL_MS,
  DEFAULT_MAX_AUTH_FAILURES,
  DEFAULT_SESSION_TTL_MS,
  FLOW_B_RND_BYTES,
} from "./flow_b.ts";

/** TDES-ECB of one block under AUK, wherever AUK lives (PIN pad storage, HSM). */
export interface AukCipher {
  /** TDES-ECB encryption of one 8-byte block under AUK. */
  encrypt(block: Uint8Array): Promise<Uint8Array>;
  /** TDES-ECB decryption of one 8-byte block under AUK. */
  decrypt(block: Uint8Array): Promise<Uint8Array>;
}

function randomRnd(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(FLOW_B_RND_BYTES));
}

/** Options of {@link MutualAuthInitiator}. */
export interface MutualAuthInitiatorOptions {
  /** How long the PIN pad waits for Crnd1 + Rnd2 (default {@link DEFAULT_CHALLENGE_TTL_MS}). */
  ttlMs?: number;
  /** Clock (default `Date.now`). */
  now?: () => number;
  /** RNG for Rnd1 (default `crypto.getRandomValues`). */
  random?: () => Uint8Array;
}

/**
 * The PIN pad's end of S5: issues Rnd1, checks Crnd1, answers Rnd2. One
 * outstanding Rnd1 at a time; it is consumed by the first answer checked
 * against it, whatever the outcome.
 */
export class MutualAuthInitiator {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #random: () => Uint8Array;
  #pending: { rnd1: Uint8Array; at: number } | undefined;
  readonly #seen = new Set<string>();

  /**
   * @param options window, clock, RNG.
   * @throws {RangeError} for a window that is not a positive integer of ms.
   */
  constructor(options: MutualAuthInitiatorOptions = {}) {
    const t = options.ttlMs ?? DEFAULT_CHALLENGE_TTL_MS;
    if (!Number.isSafeInteger(t) || t <= 0) {
      throw new RangeError(`ttlMs must be a positive integer of milliseconds, got ${t}`);
    }
    this.#ttlMs = t;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? randomRnd;
  }

  #remember(h: string): void {
    this.#seen.add(h);
    if (this.#seen.size > 1024) this.#seen.delete(this.#seen.values().next().value!);
  }

  /**
   * S5, first message: a fresh Rnd1 (replaces an unanswered one).
   *
   * @returns `{ rnd1 }` for the KMS (the PIN pad signs it).
   * @throws {RangeError} if the RNG returns a wrong length.
   */
  begin(): Pick<ChallengeRequest, "rnd1"> {
    const rnd1 = this.#random();
    if (!(rnd1 instanceof Uint8Array) || rnd1.length !== FLOW_B_RND_BYTES) {
      throw new RangeError(`the RNG must return ${FLOW_B_RND_BYTES} bytes`);
    }
    const h = toHex(rnd1);
    this.#remember(h);
    this.#pending = { rnd1: rnd1.slice(), at: this.#now() };
    return { rnd1: h };
  }

  /**
   * S5, checks KMS's answer and computes Crnd2.
   *
   * @param answer Crnd1 and Rnd2 from the KMS (schema-checked).
   * @param auk TDES under the PIN pad's AUK.
   * @returns `{ crnd2 }` for the KMS (the PIN pad signs it) and the Rnd1 it answers.
   * @throws {AuthenticationError} `rnd_unknown` (no outstanding Rnd1), `challenge_expired`,
   *   `rnd_reflected` (Rnd2 is one of our own Rnd1s, or a Rnd2 seen before),
   *   `kms_not_authenticated` (Crnd1 does not decrypt to Rnd1 under AUK).
   */
  async answer(
    answer: Pick<ChallengeResponse, "crnd1" | "rnd2">,
    auk: AukCipher,
  ): Promise<Pick<ChallengeAnswer, "crnd2"> & { rnd1: string }> {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending) {
      throw new AuthenticationError(
        "rnd_unknown",
        "S5: no outstanding Rnd1 at the PIN pad; every Rnd1 is answered once",
      );
    }
    const age = this.#now() - pending.at;
    if (age > this.#ttlMs) {
      throw new AuthenticationError(
        "challenge_expired",
        `S5: KMS answered after ${age} ms; the PIN pad waits ${this.#ttlMs} ms`,
      );
    }
    const crnd1 = fromHex(answer.crnd1);
    const rnd2 = fromHex(answer.rnd2);
    if (crnd1.length !== FLOW_B_RND_BYTES || rnd2.length !== FLOW_B_RND_BYTES) {
      throw new ValidationError("invalid_field", "crnd1 and rnd2 must be 8 bytes each");
    }
    if (this.#seen.has(answer.rnd2)) {
      throw new AuthenticationError(
        "rnd_reflected",
        "S5: Rnd2 equals a random this PIN pad already used; refused (reflection or replay)",
      );
    }
    const rnd1x = await auk.decrypt(crnd1);
    if (!timingSafeEqual(rnd1x, pending.rnd1)) {
      throw new AuthenticationError(
        "kms_not_authenticated",
        "S5: Crnd1 does not decrypt to Rnd1 under AUK; the KMS is not the one holding AUK",
      );
    }
    this.#remember(answer.rnd2);
    return { crnd2: toHex(await auk.encrypt(rnd2)), rnd1: toHex(pending.rnd1) };
  }
}

/** Tuning of the KMS's end of S5 and S6. */
export interface FlowBPolicy {
  /** Lifetime of a challenge in ms. */
  challengeTtlMs: number;
  /** Lifetime of the download session a passed S5 opens, in ms. */
  sessionTtlMs: number;
  /** Failed answers that lock an SN. */
  maxFailures: number;
}

/**
 * Fills in and checks a policy.
 *
 * @param p partial policy.
 * @returns the policy with defaults.
 * @throws {RangeError} naming the field that is not a positive integer (maxFailures: 1-1000).
 */
export function flowBPolicy(p: Partial<FlowBPolicy> = {}): FlowBPolicy {
  const out: FlowBPolicy = {
    challengeTtlMs: p.challengeTtlMs ?? DEFAULT_CHALLENGE_TTL_MS,
    sessionTtlMs: p.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    maxFailures: p.maxFailures ?? DEFAULT_MAX_AUTH_FAILURES,
  };
  for (const k of ["challengeTtlMs", "sessionTtlMs"] as const) {
    if (!Number.isSafeInteger(out[k]) || out[k] <= 0 || out[k] > 86_400_000) {
      throw new RangeError(`${k} must be an integer from 1 to 86400000 ms, got ${out[k]}`);
    }
  }
  if (!Number.isSafeInteger(out.maxFailures) || out.maxFailures < 1 || out.maxFailures > 1000) {
    throw new RangeError(`maxFailures must be an integer from 1 to 1000, got ${out.maxFailures}`);
  }
  return out;
}

/** What the KMS's S5 needs from persistence (a subset of the store, so state survives restarts and is shared by KMS instances). */
export interface ChallengeLedger {
  createChallenge(c: {
    id: string;
    sn: string;
    rnd: string;
    rnd1?: string;
    createdAt: Date;
    expiresAt: Date;
  }): Promise<void>;
  consumeChallenge(id: string, sn: string, now: Date): Promise<
    | {
      readonly ok: true;
      readonly challenge: { readonly rnd: string; readonly rnd1: string | null };
    }
    | {
      readonly ok: false;
      readonly reason: "not_found" | "wrong_terminal" | "used" | "expired";
    }
  >;
  recordAuthFailure(
    sn: string,
    options: { maxFailures: number; at: Date },
  ): Promise<{ readonly failures: number; readonly locked: boolean; readonly lockedNow: boolean }>;
  recordAuthSuccess(
    sn: string,
    options: { sessionExpiresAt: Date; at: Date; sessionContext?: string },
  ): Promise<boolean>;
  rememberNonce(scope: string, nonce: string, expiresAt: Date): Promise<boolean>;
  /**
   * Runs `fn` atomically on a view of the ledger (the store's transaction):
   * the writes of one S5 step and their events commit together or not at all.
   * Without it the steps run one write after the other.
   */
  transaction?<T>(fn: (tx: this) => Promise<T>): Promise<T>;
}

/** What happened in one S5 step, for the audit log and the trace. */
export interface AuthEvent {
  event: "challenge_opened" | "challenge_passed" | "challenge_failed" | "lockout";
  sn: string;
  /** The failure code, the failure count, the session end. */
  detail: string;
}

/** Options of {@link MutualAuthResponder}. */
export interface MutualAuthResponderOptions {
  ledger: ChallengeLedger;
  policy?: Partial<FlowBPolicy>;
  /** Clock (default: system clock). */
  now?: () => Date;
  /** RNG for Rnd2 and challenge ids (default `crypto.getRandomValues`). */
  random?: (n: number) => Uint8Array;
  /**
   * Receives each event (the service writes them to the audit log), with the
   * ledger view of the transaction the event belongs to (write the record there).
   */
  onEvent?: (e: AuthEvent, ledger: ChallengeLedger) => Promise<void> | void;
}

/**
 * Refusals of S5 that change nothing and are not recorded: whoever overheard
 * one exchange could send them again (the KMS counts them in its metrics).
 */
export const UNCOUNTED_REFUSALS: readonly string[] = [
  "rnd_replayed",
  "challenge_unknown",
  "challenge_wrong_terminal",
  "challenge_replayed",
  "challenge_expired",
];

/** How long a random stays remembered against reuse: far beyond any challenge. */
const NONCE_MEMORY_MS = 30 * 86_400_000;

/**
 * The KMS's end of S5. The caller checks the terminal exists, is a flow B
 * terminal with a transport key and is not locked, and passes the AUK
 * cipher (the HSM, TK hash checked before each use).
 *
 * The one answer that counts towards the lock-out: a wrong Crnd2 on a live
 * challenge of this SN (the caller has checked the device signature). The
 * others ({@link UNCOUNTED_REFUSALS}) change nothing and raise no event.
 */
export class MutualAuthResponder {
  readonly policy: FlowBPolicy;
  readonly #ledger: ChallengeLedger;
  readonly #now: () => Date;
  readonly #random: (n: number) => Uint8Array;
  readonly #onEvent: (e: AuthEvent, ledger: ChallengeLedger) => Promise<void> | void;

  /**
   * @param options ledger, policy, clock, RNG, event sink.
   * @throws {RangeError} for a bad policy.
   */
  constructor(options: MutualAuthResponderOptions) {
    this.policy = flowBPolicy(options.policy);
    this.#ledger = options.ledger;
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ??
      ((n) => crypto.getRandomValues(new Uint8Array(n)));
    this.#onEvent = options.onEvent ?? (() => {});
  }

  /** Runs `fn` in one ledger transaction (when the ledger has them). */
  #atomic<T>(fn: (l: ChallengeLedger) => Promise<T>): Promise<T> {
    const l = this.#ledger;
    return l.transaction ? l.transaction((tx) => fn(tx)) : fn(l);
  }

  async #fresh(l: ChallengeLedger, sn: string, rnd: string, at: Date): Promise<boolean> {
    return await l.rememberNonce(
      `flowb-rnd:${sn}`,
      rnd,
      new Date(at.getTime() + NONCE_MEMORY_MS),
    );
  }

  /**
   * S5: takes Rnd1, returns Crnd1 = TDES(AUK, Rnd1) and a fresh Rnd2.
   *
   * @param sn serial number (checked by the caller).
   * @param request `{ rnd1 }`.
   * @param auk TDES under the terminal's AUK.
   * @returns the challenge.
   * @throws {AuthenticationError} `rnd_replayed` if this Rnd1 was seen before for the SN, as
   *   an Rnd1 or as one of KMS's own Rnd2 (a reflection).
   */
  async open(
    sn: string,
    request: Pick<ChallengeRequest, "rnd1">,
    auk: AukCipher,
  ): Promise<ChallengeResponse> {
    const at = this.#now();
    // The HSM first: a failure there leaves nothing behind. Then the writes (both randoms
    // remembered, the challenge, its event) in one transaction.
    const crnd1 = await auk.encrypt(fromHex(request.rnd1));
    const id = toHex(this.#random(16));
    const expiresAt = new Date(at.getTime() + this.policy.challengeTtlMs);
    const rnd2 = await this.#atomic(async (l) => {
      if (!(await this.#fresh(l, sn, request.rnd1, at))) return null;
      let r: Uint8Array;
      do {
        r = this.#random(FLOW_B_RND_BYTES);
      } while (!(await this.#fresh(l, sn, toHex(r), at)));
      await l.createChallenge({
        id,
        sn,
        rnd: toHex(r),
        rnd1: request.rnd1.toUpperCase(),
        createdAt: at,
        expiresAt,
      });
      await this.#onEvent({
        event: "challenge_opened",
        sn,
        detail: `expires ${expiresAt.toISOString()}`,
      }, l);
      return r;
    });
    if (!rnd2) {
      throw new AuthenticationError(
        "rnd_replayed",
        `S5: this Rnd1 was already used with ${sn} (as Rnd1 or as a KMS Rnd2); send a fresh one`,
      );
    }
    return {
      challengeId: id,
      crnd1: toHex(crnd1),
      rnd2: toHex(rnd2),
      expiresAt: expiresAt.toISOString(),
    };
  }

  /** Records a counted failed answer and its events, on the transaction's view `l`. */
  async #fail(l: ChallengeLedger, sn: string, code: string, at: Date): Promise<void> {
    const r = await l.recordAuthFailure(sn, {
      maxFailures: this.policy.maxFailures,
      at,
    });
    await this.#onEvent({
      event: "challenge_failed",
      sn,
      detail: `${code}; failures ${r.failures}/${this.policy.maxFailures}`,
    }, l);
    if (r.lockedNow) {
      await this.#onEvent(
        { event: "lockout", sn, detail: `after ${r.failures} failed answers` },
        l,
      );
    }
  }

  /**
   * S5: checks Crnd2 against the challenge's Rnd2; the challenge is
   * consumed whatever the outcome. On success a download session opens.
   *
   * @param sn serial number in the path.
   * @param challengeId the challenge.
   * @param answer `{ crnd2 }`.
   * @param auk TDES under the terminal's AUK.
   * @returns the session (the challenge's id) and its end.
   * @throws {AuthenticationError} `challenge_unknown`, `challenge_wrong_terminal`,
   *   `challenge_replayed`, `challenge_expired`, `terminal_not_authenticated` (Crnd2 wrong),
   *   `terminal_locked` (locked meanwhile).
   */
  async verify(
    sn: string,
    challengeId: string,
    answer: Pick<ChallengeAnswer, "crnd2">,
    auk: AukCipher,
  ): Promise<{ sessionId: string; sessionExpiresAt: string }> {
    const at = this.#now();
    // The HSM first (a failure there leaves the challenge unused); then the challenge used up,
    // the outcome recorded and its events, in one transaction; the refusal after it commits.
    const rnd2x = await auk.decrypt(fromHex(answer.crnd2));
    const sessionExpiresAt = new Date(at.getTime() + this.policy.sessionTtlMs);
    const refusal = await this.#atomic(async (l) => {
      const r = await l.consumeChallenge(challengeId, sn, at);
      if (!r.ok) {
        const [code, msg] = {
          not_found: ["challenge_unknown", `S5: no challenge ${challengeId}`],
          wrong_terminal: [
            "challenge_wrong_terminal",
            `S5: challenge ${challengeId} was not issued to ${sn}`,
          ],
          used: ["challenge_replayed", `S5: challenge ${challengeId} was already answered`],
          expired: [
            "challenge_expired",
            `S5: challenge ${challengeId} expired (lifetime ${this.policy.challengeTtlMs} ms)`,
          ],
        }[r.reason] as [string, string];
        return new AuthenticationError(code, msg);
      }
      if (!timingSafeEqual(rnd2x, fromHex(r.challenge.rnd))) {
        await this.#fail(l, sn, "terminal_not_authenticated", at);
        return new AuthenticationError(
          "terminal_not_authenticated",
          "S5: Crnd2 does not decrypt to Rnd2 under AUK; the terminal is not the one holding AUK",
        );
      }
      const sessionContext = `${challengeId}${r.challenge.rnd1 ?? ""}${r.challenge.rnd}`
        .toUpperCase();
      if (!(await l.recordAuthSuccess(sn, { sessionExpiresAt, at, sessionContext }))) {
        return new AuthenticationError(
          "terminal_locked",
          `${sn} is locked out after repeated failures; the operator API can lift it`,
        );
      }
      await this.#onEvent({
        event: "challenge_passed",
        sn,
        detail: `session until ${sessionExpiresAt.toISOString()}`,
      }, l);
      return null;
    });
    if (refusal) throw refusal;
    return { sessionId: challengeId, sessionExpiresAt: sessionExpiresAt.toISOString() };
  }
}

/**
 * The error for an SN that is locked out.
 *
 * @param sn serial number.
 * @returns the error (`terminal_locked`).
 */
export function lockedError(sn: string): AuthenticationError {
  return new AuthenticationError(
    "terminal_locked",
    `${sn} is locked out after repeated failed authentications; the operator API can lift it`,
  );
}

/**
 * The error for a TMK request without a usable session.
 *
 * @param sn serial number.
 * @param expired whether a session existed but expired.
 * @returns the error (`session_required` or `session_expired`).
 */
export function sessionError(sn: string, expired: boolean): AuthenticationError {
  return expired
    ? new AuthenticationError(
      "session_expired",
      `S6: the download session of ${sn} expired; pass S5 again`,
    )
    : new AuthenticationError(
      "session_required",
      `S6: ${sn} has no passed mutual authentication (S5) to download with`,
    );
}

/** Refusal of a repeated S1 after S3 (`flow_b_service.ts`: rotate before S3, refuse after). */
export function hsmKeyLockedError(sn: string): ConflictError {
  return new ConflictError(
    "transport_key_registered",
    `S1: ${sn} already registered its transport key under the current Pu_hsm; a new Pu_hsm is refused`,
  );
}
