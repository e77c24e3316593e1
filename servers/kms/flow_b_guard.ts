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
import { RateLimitedError } from "../../src/protocol/mod.ts";

/** What the guard reports to (the server's metrics and log; both optional). */
export interface GuardSinks {
  /** Adds to an event counter (`ServerMetrics.count`). */
  count?(event: string, n?: number): void;
  /** Writes a log line (`Logger.log`). */
  log?(level: "warn", event: string, fields: Record<string, string | number>): void;
}

/** Tuning of {@link RefusalGuard}. */
export interface GuardPolicy {
  /** Refusals of one key allowed before the backoff starts. */
  freeFailures: number;
  /** First backoff, ms; it doubles with each further refusal. */
  baseMs: number;
  /** Longest backoff, ms. */
  maxMs: number;
  /** A key quiet for this long is forgotten, ms. */
  forgetMs: number;
  /** Most keys remembered (the oldest go first). */
  maxKeys: number;
}

/** Defaults: 5 free refusals, then 1 s doubling to 60 s; forgotten after 10 quiet minutes. */
export const DEFAULT_GUARD_POLICY: GuardPolicy = {
  freeFailures: 5,
  baseMs: 1_000,
  maxMs: 60_000,
  forgetMs: 600_000,
  maxKeys: 100_000,
};

interface Entry {
  failures: number;
  last: number;
  until: number;
}

/** Rate limit with backoff per SN and per source, in memory. */
export class RefusalGuard {
  readonly policy: GuardPolicy;
  readonly #entries = new Map<string, Entry>();
  readonly #logged = new Map<string, number>();
  readonly #now: () => number;
  #sinks: GuardSinks;

  /**
   * @param options policy, clock (ms), metrics and log.
   * @throws {RangeError} for a policy field that is not a positive integer.
   */
  constructor(
    options: { policy?: Partial<GuardPolicy>; now?: () => number; sinks?: GuardSinks } = {},
  ) {
    this.policy = { ...DEFAULT_GUARD_POLICY, ...options.policy };
    for (const [k, v] of Object.entries(this.policy)) {
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new RangeError(`guard policy ${k} must be a non-negative integer, got ${v}`);
      }
    }
    this.#now = options.now ?? Date.now;
    this.#sinks = options.sinks ?? {};
  }

  /** Sets where refusals are counted and logged (the server's metrics and log). */
  attach(sinks: GuardSinks): void {
    this.#sinks = sinks;
  }

  #entry(key: string, now: number): Entry | undefined {
    const e = this.#entries.get(key);
    if (e && now - e.last > this.policy.forgetMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  /**
   * Refuses a caller whose SN or source is in backoff, before any check runs.
   *
   * @param sn serial number.
   * @param source the caller's address.
   * @throws {RateLimitedError} `rate_limited`.
   */
  admit(sn: string, source: string): void {
    const now = this.#now();
    for (const key of [`sn:${sn}`, `src:${source}`]) {
      const e = this.#entry(key, now);
      if (e && e.until > now) {
        this.#report("rate_limited", sn, source);
        throw new RateLimitedError(
          "rate_limited",
          `too many unauthenticated requests for this ${
            key.startsWith("sn:") ? "serial number" : "source"
          }; retry in ${Math.ceil((e.until - now) / 1000)} s`,
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
    const now = this.#now();
    this.#report(code, sn, source);
    for (const key of [`sn:${sn}`, `src:${source}`]) {
      const e = this.#entry(key, now) ?? { failures: 0, last: now, until: 0 };
      e.failures++;
      e.last = now;
      const over = e.failures - this.policy.freeFailures;
      if (over > 0) {
        e.until = now +
          Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(over - 1, 30));
      }
      this.#entries.delete(key);
      this.#entries.set(key, e);
    }
    while (this.#entries.size > this.policy.maxKeys) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /**
   * A request for `sn` authenticated: its backoff ends (the source's stays).
   *
   * @param sn serial number.
   */
  passed(sn: string): void {
    this.#entries.delete(`sn:${sn}`);
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
