/**
 * A limit on the failures of callers that proved nothing (a device route
 * answered without a valid proof of possession): each failure is counted
 * under every key it concerns (e.g. the serial number and the source
 * address); past `freeFailures` in a window, the key is held off for a
 * time that doubles with each further failure, up to `maxMs`. A held-off
 * key is refused before any work (no HSM call, no store call) and is
 * released when its time is up: the limit delays, it never locks.
 *
 * The counts live in this process's memory: each server instance limits on
 * its own (several KMS instances behind a balancer each allow their share).
 * Memory is bounded: at most `maxKeys` keys, the stalest dropped first.
 *
 * @module
 */

/**
 * The key a source address is limited under: an IPv4 address as it is
 * (also when IPv4-mapped), an IPv6 address by its /64 (one host commonly
 * holds a whole /64), and one key for every call without a socket.
 *
 * @param address the remote address, or undefined.
 * @returns the key.
 */
export function sourceKey(address: string | undefined): string {
  if (address === undefined) return "local";
  const ip = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  if (!ip.includes(":")) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) return mapped[1];
  const [head, tail] = ip.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined
    ? left
    : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(":")}::/64`;
}

/** Settings of a {@link FailureLimiter}. */
export interface FailureLimits {
  /** Failures of a key allowed in `windowMs` before it is held off. */
  freeFailures: number;
  /** The first hold-off; each further failure doubles it. */
  baseMs: number;
  /** The longest hold-off. */
  maxMs: number;
  /** A key with no failure for this long starts again from zero. */
  windowMs: number;
  /** Most keys tracked at once. */
  maxKeys: number;
}

/** The limits a server gets unless told otherwise. */
export const DEFAULT_FAILURE_LIMITS: Readonly<FailureLimits> = {
  freeFailures: 5,
  baseMs: 1_000,
  maxMs: 60_000,
  windowMs: 10 * 60_000,
  maxKeys: 100_000,
};

interface Entry {
  failures: number;
  last: number;
  until: number;
}

/** Counts failures per key and holds off keys that fail too often (see the module). */
export class FailureLimiter {
  readonly #limits: FailureLimits;
  readonly #keys = new Map<string, Entry>();

  /**
   * @param limits overrides of {@link DEFAULT_FAILURE_LIMITS}.
   * @throws {RangeError} for a limit that is not a non-negative integer, or `maxMs` below `baseMs`.
   */
  constructor(limits: Partial<FailureLimits> = {}) {
    const l = { ...DEFAULT_FAILURE_LIMITS, ...limits };
    for (const [k, v] of Object.entries(l)) {
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new RangeError(`limits.${k} must be a non-negative integer, got ${v}`);
      }
    }
    if (l.maxMs < l.baseMs) {
      throw new RangeError(
        `limits.maxMs (${l.maxMs}) must be at least limits.baseMs (${l.baseMs})`,
      );
    }
    if (l.maxKeys < 1) throw new RangeError("limits.maxKeys must be at least 1");
    this.#limits = l;
  }

  /**
   * How long the longest hold-off among `keys` still lasts.
   *
   * @param keys the keys of a request.
   * @param now the time in ms.
   * @returns 0 if the request may go on, else the ms to wait.
   */
  retryAfter(keys: readonly string[], now: number): number {
    let wait = 0;
    for (const k of keys) {
      const e = this.#keys.get(k);
      if (e && e.until > now) wait = Math.max(wait, e.until - now);
    }
    return wait;
  }

  /**
   * Counts a failure under each of `keys`.
   *
   * @param keys the keys of the failed request.
   * @param now the time in ms.
   */
  fail(keys: readonly string[], now: number): void {
    const l = this.#limits;
    for (const k of keys) {
      let e = this.#keys.get(k);
      if (e && now - e.last > l.windowMs) e = undefined;
      e ??= { failures: 0, last: now, until: 0 };
      e.failures++;
      e.last = now;
      const over = e.failures - l.freeFailures;
      if (over > 0) e.until = now + Math.min(l.maxMs, l.baseMs * 2 ** Math.min(over - 1, 30));
      // Re-insert so that the map's order is the order of last failure (stalest first).
      this.#keys.delete(k);
      this.#keys.set(k, e);
    }
    while (this.#keys.size > l.maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
  }

  /**
   * Forgets a key: its count starts again from zero (a caller that proved who it is).
   *
   * @param key the key.
   */
  forget(key: string): void {
    this.#keys.delete(key);
  }

  /** How many keys are tracked (for tests and metrics). */
  get size(): number {
    return this.#keys.size;
  }
}
