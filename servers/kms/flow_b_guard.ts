/**
 * Flow B's answer to callers that fail to authenticate (a bad or missing
 * device signature, a replay, a session MAC that does not verify): they
 * change nothing and write no audit record. Each refusal is counted in the
 * metrics and logged for the 1st, 10th, 100th, ... of its code, and after a
 * few the serial number and the source are refused for a while with
 * exponential backoff. The memory is per KMS instance and never locks a
 * terminal: the backoff ends by itself, and a request that authenticates
 * clears its serial number's.
 *
 * @module
 */
import { TooManyRequestsError } from "../../src/protocol/mod.ts";
import { FailureLimiter, type FailureLimits } from "../_lib/rate_limit.ts";

/** What the guard reports to (the server's metrics and log; both optional). */
export interface GuardSinks {
  /** Adds to an event counter (`ServerMetrics.count`). */
  count?(event: string, n?: number): void;
  /** Writes a log line (`Logger.log`). */
  log?(level: "warn", event: string, fields: Record<string, string | number>): void;
}

/**
 * Tuning of {@link RefusalGuard}: the limits of its {@link FailureLimiter}
 * (`windowMs`: a key quiet for this long is forgotten).
 */
export type GuardPolicy = FailureLimits;

/** Rate limit with backoff per SN and per source, in memory ({@link FailureLimiter}). */
export class RefusalGuard {
  readonly #limiter: FailureLimiter;
  readonly #logged = new Map<string, number>();
  readonly #now: () => number;
  #sinks: GuardSinks;

  /**
   * @param options policy (overrides of the limiter's defaults: 5 free refusals, then 1 s
   *   doubling to 60 s, forgotten after 10 quiet minutes), clock (ms), metrics and log.
   * @throws {RangeError} for a policy field that is not a non-negative integer.
   */
  constructor(
    options: { policy?: Partial<GuardPolicy>; now?: () => number; sinks?: GuardSinks } = {},
  ) {
    this.#limiter = new FailureLimiter(options.policy);
    this.#now = options.now ?? Date.now;
    this.#sinks = options.sinks ?? {};
  }

  /** Sets where refusals are counted and logged (the server's metrics and log). */
  attach(sinks: GuardSinks): void {
    this.#sinks = sinks;
  }

  /**
   * Refuses a caller whose SN or source is in backoff, before any check runs.
   *
   * @param sn serial number.
   * @param source the caller's address.
   * @throws {TooManyRequestsError} `rate_limited`, with the time to wait.
   */
  admit(sn: string, source: string): void {
    const now = this.#now();
    for (const [key, what] of [[`sn:${sn}`, "serial number"], [`src:${source}`, "source"]]) {
      const wait = this.#limiter.retryAfter([key], now);
      if (wait > 0) {
        this.#report("rate_limited", sn, source);
        throw new TooManyRequestsError(
          "rate_limited",
          `too many unauthenticated requests for this ${what}; retry in ${
            Math.ceil(wait / 1000)
          } s`,
          wait,
        );
      }
    }
  }

  /**
   * Records an unauthenticated refusal: counted, sampled in the log, and
   * one step further into the backoff of the SN and of the source.
   *
   * @param sn serial number.
   * @param source the caller's address.
   * @param code the refusal's error code.
   */
  refused(sn: string, source: string, code: string): void {
    this.#report(code, sn, source);
    this.#limiter.fail([`sn:${sn}`, `src:${source}`], this.#now());
  }

  /**
   * A request for `sn` authenticated: its backoff ends (the source's stays).
   *
   * @param sn serial number.
   */
  passed(sn: string): void {
    this.#limiter.forget(`sn:${sn}`);
  }

  #report(code: string, sn: string, source: string): void {
    this.#sinks.count?.(`flow_b_refused_${code}`);
    const n = (this.#logged.get(code) ?? 0) + 1;
    this.#logged.set(code, n);
    if (Number.isInteger(Math.log10(n))) {
      this.#sinks.log?.("warn", "flow_b.unauthenticated_refused", { code, sn, source, total: n });
    }
  }
}

/**
 * Single-use values this instance saw in requests it committed (S1 nonces),
 * until they expire: a replay is refused before the costly work (an RSA key
 * pair). The store's nonce memory, written in the same transaction as the
 * work, is what decides across instances.
 */
export class RecentNonces {
  readonly #until = new Map<string, number>();
  readonly #max: number;

  /** @param max most values remembered (the oldest go first). */
  constructor(max = 100_000) {
    this.#max = max;
  }

  /**
   * @param key the value (with its scope).
   * @param now the time, ms.
   * @returns whether it was seen and has not expired.
   */
  has(key: string, now: number): boolean {
    const u = this.#until.get(key);
    if (u === undefined) return false;
    if (u > now) return true;
    this.#until.delete(key);
    return false;
  }

  /**
   * Remembers a value until `until` (ms).
   *
   * @param key the value (with its scope).
   * @param until when it may be forgotten.
   */
  add(key: string, until: number): void {
    this.#until.set(key, until);
    while (this.#until.size > this.#max) this.#until.delete(this.#until.keys().next().value!);
  }
}
