/**
 * Flow B's HSM key-pair pool (CN103714641A S1): the RSA key pairs the KMS
 * hands to terminals as Pu_hsm / Pr_hsm, generated ahead so that an S1 does
 * not wait for a key generation.
 *
 * - Where pairs come from: the HSM pool's workers (`src/hsm/pool.ts`
 *   {@link HsmPool.generateRsaKeyPairs}), each a software HSM opened from
 *   the same LMK components, off the request thread. An HSM that is not a
 *   software HSM itself (a driver, a wrapper that sees its calls), or
 *   `workers: 0`, generates the pairs on the HSM in this thread instead.
 * - What the pool holds: the public key and the private key as a TR-31 key
 *   block under the LMK (`K3/R/D`), as `Hsm.generateRsaKeyPair` returns them;
 *   no clear private key ever leaves an HSM, and the pool is in memory only.
 * - Water marks: a take that leaves `low` pairs or fewer starts a refill up
 *   to `high`, in batches of `batch` pairs. {@link KeyPairPool.start} fills
 *   the pool to `high` at the start.
 * - Each pair is taken once: {@link KeyPairPool.take} removes it (one
 *   synchronous step, so two concurrent S1s never get the same pair).
 *   An empty pool answers nothing, and S1 generates its pair inline.
 * - Audit: one `key_pool_refilled` record per batch, naming the number of
 *   pairs and the LMK's KCV, written before the batch enters the pool (an
 *   audit failure drops the batch); `key_pool_flushed` when pairs are
 *   dropped because the LMK changed.
 * - LMK change: the pool remembers the KCV of the LMK its pairs are under;
 *   a take or a finished batch that finds the HSM on another LMK (or none)
 *   drops every pair, stops the workers (they hold the old LMK) and answers
 *   nothing from then on.
 * - The other RSA private-key operations of a terminal: S1's KMS CA
 *   signature over Pu_hsm's certificate and S3's recovery of AUK under
 *   Pr_hsm ({@link KeyPairPool.rsaOps}) run on the same workers (the pool's
 *   call lane, ahead of its batches), so that the KMS's thread is left the
 *   rest of the terminal's work. One rule: the workers run an operation
 *   only while the HSM in this thread would, in a state that allows it and
 *   on the pool's LMK; otherwise that HSM runs it (and refuses it, audited,
 *   as without a pool), as it does when a call's worker fails or stops
 *   before answering it (a call it answered is never run twice, so it is
 *   audited once). A worker's refusal is the HSM's own (same error), and its audit
 *   records go where the HSM's do. A worker that fails stops its whole
 *   worker pool; the next call starts a new one in the background (a start
 *   that fails is tried again 5 s later), and calls run in this thread
 *   until it runs.
 * - Metrics: `tmk_key_pool_pairs{kind}` (pairs ready, low and high water) and the events
 *   `key_pool_generated`, `key_pool_taken`, `key_pool_empty` (S1s that found
 *   the pool empty and generated inline) and `key_pool_worker_call`
 *   (operations the workers answered) in `tmk_events_total`.
 *
 * @module
 */
import type { CoreName } from "../../src/core/mod.ts";
import {
  type Hsm,
  type HsmAuditSink,
  type HsmCallOptions,
  HsmPool,
  HsmPoolError,
  KEY_TEMPLATES,
  type KeyTemplate,
  type LmkComponent,
  OPERATION_STATES,
  type PairBatchResult,
  type RsaKeyPairResult,
  SoftwareHsm,
} from "../../src/hsm/mod.ts";
import { FLOW_B_RSA_BITS } from "../../src/protocol/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { parseComponents } from "../_lib/hsm.ts";
import type { Logger } from "../_lib/log.ts";
import type { ServerMetrics } from "../_lib/metrics.ts";

/** The RSA private-key operations flow B runs per terminal (S1's signature, S3's AUK recovery). */
export type RsaPrivateOps = Pick<Hsm, "sign" | "importKeyRsa">;

/** Water marks, workers and batch size of the pool. */
export interface KeyPoolPolicy {
  /** A take that leaves this many pairs or fewer starts a refill. */
  low: number;
  /** A refill stops at this many pairs. 0 turns the pool off (every S1 generates inline). */
  high: number;
  /** HSM workers that generate the pairs; 0 generates them on the HSM in this thread. */
  workers: number;
  /** Pairs per worker batch (and per audit record). */
  batch: number;
}

/**
 * The defaults: refill at 32 pairs up to 256 (a burst of 256 S1s without a
 * key generation, filled in about half a minute of one CPU), on one worker
 * (a second CPU stays with the requests), in batches of 8 (a batch in flight
 * delays a shutdown by about a second).
 */
export const KEY_POOL_DEFAULTS: Readonly<KeyPoolPolicy> = Object.freeze({
  low: 32,
  high: 256,
  workers: 1,
  batch: 8,
});

/** How long after a failed refill the next one may start. */
const RETRY_MS = 5_000;

/** The largest high water mark taken. */
export const MAX_KEY_POOL_PAIRS = 100_000;

/**
 * Checks a pool policy, filling in the defaults.
 *
 * @param p the policy's fields given.
 * @returns the whole policy.
 * @throws {RangeError} naming the field that is out of range.
 */
export function keyPoolPolicy(p: Partial<KeyPoolPolicy> = {}): KeyPoolPolicy {
  const o = { ...KEY_POOL_DEFAULTS, ...p };
  const int = (name: keyof KeyPoolPolicy, min: number, max: number) => {
    const v = o[name];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`key pool ${name} must be an integer from ${min} to ${max}, got ${v}`);
    }
  };
  int("high", 0, MAX_KEY_POOL_PAIRS);
  int("low", 0, MAX_KEY_POOL_PAIRS);
  int("workers", 0, 64);
  int("batch", 1, 1_000);
  if (o.high > 0 && o.low >= o.high) {
    throw new RangeError(`key pool low (${o.low}) must be below high (${o.high})`);
  }
  return o;
}

/** What the pool has done, for metrics and tests. */
export interface KeyPoolStats {
  /** Pairs ready. */
  size: number;
  /** Pairs that entered the pool. */
  generated: number;
  /** Pairs handed out. */
  taken: number;
  /** Takes that found the pool empty. */
  empty: number;
  /** Refill batches audited. */
  batches: number;
  /** Pairs dropped on an LMK change. */
  flushed: number;
}

/** Options of {@link KeyPairPool}. */
export interface KeyPoolOptions {
  /** Flow B's HSM: the LMK the pairs are under, and the generator without workers. */
  hsm: Hsm;
  /** The LMK's components as that HSM loaded them: the workers' LMK. */
  components: readonly LmkComponent[];
  /** The crypto core each worker loads. */
  core: CoreName;
  policy?: Partial<KeyPoolPolicy>;
  /** Where the pool's records go (`key_pool_refilled`, `key_pool_flushed`, the workers' starts). */
  audit: HsmAuditSink;
  /**
   * Where the workers' HSM records of {@link KeyPairPool.rsaOps} go (a key
   * refused): the HSM's own sink, as if it had run them (default `audit`).
   */
  hsmAudit?: HsmAuditSink;
  /** Counts the pool's events (`ServerMetrics.count`). */
  count?: (event: string, n?: number) => void;
  /**
   * Told of a refill or a worker restart that failed (a log line); a take
   * below `low`, or a call, 5 s later tries again.
   */
  onError?: (e: unknown) => void;
  /** The pairs' modulus size (default flow B's, 2048). */
  bits?: number;
  /** The pairs' template (default `RSA_TRANSPORT`, as S1 generates inline). */
  template?: KeyTemplate;
  /** The HSM workers' module (default the HSM pool's own); a test may wrap it to inject a crash. */
  workerUrl?: URL;
}

/** Flow B's key-pair pool (see the module description). */
export class KeyPairPool {
  /** Water marks, workers and batch size in force. */
  readonly policy: KeyPoolPolicy;
  readonly #o: KeyPoolOptions;
  readonly #template: KeyTemplate;
  readonly #bits: number;
  #pairs: RsaKeyPairResult[] = [];
  /** Pairs asked of the generator and not back yet. */
  #pending = 0;
  #stats = { generated: 0, taken: 0, empty: 0, batches: 0, flushed: 0 };
  /** The KCV of the LMK the pairs are under; undefined once the pool stopped for an LMK change. */
  #lmkKcv: string | undefined;
  #workers: Promise<HsmPool> | undefined;
  /** The worker pool once started (until stopped): where {@link rsaOps} runs. */
  #running: HsmPool | undefined;
  /** Worker pools being stopped (an LMK change stops them without waiting). */
  readonly #stops: Promise<void>[] = [];
  #filling: Promise<void> | undefined;
  /** The failed worker pool being stopped and a new one started (`#replaceWorkers`). */
  #replacing: Promise<HsmPool> | undefined;
  /** After a failed refill, no new one starts before this time (ms since the epoch). */
  #retryAt = 0;
  #closed = false;

  /**
   * @param o the HSM, its LMK's components, core, policy, audit and metric sinks.
   * @throws {RangeError} for a policy out of range; {@link HsmError} `no_lmk` for an HSM without LMK.
   */
  constructor(o: KeyPoolOptions) {
    this.policy = keyPoolPolicy(o.policy);
    this.#o = o;
    this.#template = o.template ?? KEY_TEMPLATES.RSA_TRANSPORT;
    this.#bits = o.bits ?? FLOW_B_RSA_BITS;
    this.#lmkKcv = o.hsm.lmkKcv;
    if (!SoftwareHsm.is(o.hsm)) this.policy = { ...this.policy, workers: 0 };
  }

  /** Starts filling the pool to its high water mark (returns at once). */
  start(): void {
    this.#refill();
  }

  /** Waits until no refill runs (a test's and the benchmark's warm-up). */
  async settled(): Promise<void> {
    while (this.#filling) await this.#filling;
  }

  /**
   * Takes a pair out of the pool: it is handed out once, never again.
   *
   * @returns a pair under the HSM's current LMK, or undefined when the pool
   *   is empty, off, closed or stopped by an LMK change (S1 then generates inline).
   */
  take(): RsaKeyPairResult | undefined {
    const usable = !this.#closed && this.#lmkKcv !== undefined && this.#sameLmk();
    const pair = usable ? this.#pairs.shift() : undefined;
    if (pair) {
      this.#stats.taken++;
      this.#count("key_pool_taken");
    } else {
      this.#stats.empty++;
      this.#count("key_pool_empty");
    }
    if (usable && this.#pairs.length <= this.policy.low) this.#refill();
    return pair;
  }

  /**
   * Flow B's RSA private-key operations on the pool's workers while the
   * HSM in this thread would run them (in a state that allows the
   * operation, on the pool's LMK, as {@link take} checks it) and the
   * workers run; on `hsm` otherwise, and when a call's worker fails or
   * stops before answering it.
   *
   * @param hsm the HSM in this thread (the pool's).
   * @returns `sign` and `importKeyRsa`, with that HSM's results and refusals.
   */
  rsaOps(hsm: RsaPrivateOps): RsaPrivateOps {
    const run = async <T>(
      op: keyof RsaPrivateOps,
      onWorkers: (workers: HsmPool, o: HsmCallOptions) => Promise<T>,
      inThread: () => Promise<T>,
    ): Promise<T> => {
      const workers = this.#workersFor(op);
      if (workers) {
        let answered = true;
        try {
          return await onWorkers(workers, { audit: this.#o.hsmAudit ?? this.#o.audit });
        } catch (e) {
          // Not answered (the workers failed or closed): the HSM here runs it.
          if (!(e instanceof HsmPoolError)) throw e;
          answered = false;
        } finally {
          if (answered) this.#count("key_pool_worker_call");
        }
      }
      return await inThread();
    };
    return {
      sign: (block, message) =>
        run("sign", (w, o) => w.sign(block, message, o), () => hsm.sign(block, message)),
      importKeyRsa: (block, ciphertext, options) =>
        run(
          "importKeyRsa",
          (w, o) => w.importKeyRsa(block, ciphertext, options, o),
          () => hsm.importKeyRsa(block, ciphertext, options),
        ),
    };
  }

  /** The running workers, if the HSM in this thread would run `op` now. */
  #workersFor(op: keyof RsaPrivateOps): HsmPool | undefined {
    const workers = this.#running;
    if (workers?.failure) this.#restartWorkers();
    if (!workers || workers.failure || this.#closed || this.#lmkKcv === undefined) return;
    if (!(OPERATION_STATES[op] as readonly string[]).includes(this.#o.hsm.state)) return;
    return this.#sameLmk() ? workers : undefined;
  }

  /** Pairs ready and counts so far. */
  stats(): KeyPoolStats {
    return { size: this.#pairs.length, ...this.#stats };
  }

  /** Stops refills and the workers and drops every pair; waits for the refill in flight. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pairs = [];
    await this.#replacing?.catch(() => undefined);
    await this.#stopWorkers();
    await Promise.all(this.#stops);
    await this.settled();
  }

  #count(event: string, n = 1): void {
    this.#o.count?.(event, n);
  }

  /** Whether the HSM is still on the pool's LMK; drops every pair (audited) when it is not. */
  #sameLmk(): boolean {
    let now: string | undefined;
    try {
      now = this.#o.hsm.lmkKcv;
    } catch {
      now = undefined;
    }
    if (now === this.#lmkKcv) return true;
    const was = this.#lmkKcv;
    const dropped = this.#pairs.length;
    this.#lmkKcv = undefined;
    this.#pairs = [];
    this.#stats.flushed += dropped;
    void this.#stopWorkers();
    void Promise.resolve(this.#o.audit({
      event: "key_pool_flushed",
      outcome: "success",
      keyId: "Pr_hsm",
      kcv: was,
      detail: `${dropped} key pairs under the LMK (KCV ${was}) dropped: the HSM is on ${
        now === undefined ? "no LMK" : `another LMK (KCV ${now})`
      }; S1 generates inline from now on`,
    })).catch((e) => this.#o.onError?.(e));
    return false;
  }

  /** Stops the current workers; {@link close} waits for every stop begun. */
  #stopWorkers(): Promise<void> {
    const w = this.#workers;
    this.#workers = undefined;
    this.#running = undefined;
    const stop = (async () => await (await w?.catch(() => undefined))?.close())();
    this.#stops.push(stop);
    return stop;
  }

  /**
   * After a worker failed (its whole pool stops): the failed pool is stopped
   * and a new one started, in the background, at most once per
   * {@link RETRY_MS} after a start that failed; calls go to the HSM in this
   * thread until it runs.
   */
  #restartWorkers(): void {
    if (this.#replacing || !this.#live() || Date.now() < this.#retryAt) return;
    this.#replaceWorkers().catch((e) => {
      if (this.#closed) return;
      this.#retryAt = Date.now() + RETRY_MS;
      this.#o.onError?.(e);
    });
  }

  /**
   * Stops the failed worker pool and starts a new one; a refill and a call
   * that find the failure at once share one replacement.
   */
  #replaceWorkers(): Promise<HsmPool> {
    this.#replacing ??= (async () => {
      await this.#stopWorkers();
      return await this.#workerPool();
    })().finally(() => this.#replacing = undefined);
    return this.#replacing;
  }

  #refill(): void {
    if (this.#filling || this.#closed || this.#lmkKcv === undefined) return;
    if (this.policy.high === 0 || Date.now() < this.#retryAt) return;
    this.#filling = this.#fill()
      .catch((e) => {
        if (this.#closed) return;
        this.#retryAt = Date.now() + RETRY_MS;
        this.#o.onError?.(e);
      })
      .finally(() => this.#filling = undefined);
  }

  /** Batches in flight until the pool (with the pairs on their way) reaches `high`. */
  async #fill(): Promise<void> {
    const { high, batch, workers } = this.policy;
    const parallel = Math.max(1, 2 * workers);
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    for (;;) {
      while (
        failure === undefined && this.#live() && inFlight.size < parallel &&
        this.#pairs.length + this.#pending < high
      ) {
        const n = Math.min(batch, high - this.#pairs.length - this.#pending);
        this.#pending += n;
        const p: Promise<void> = this.#batch(n)
          .catch((e) => void (failure ??= e))
          .finally(() => {
            this.#pending -= n;
            inFlight.delete(p);
          });
        inFlight.add(p);
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight);
    }
    if (failure !== undefined) throw failure;
  }

  #live(): boolean {
    return !this.#closed && this.#lmkKcv !== undefined;
  }

  /** One batch: generated, audited, then in the pool (dropped if the pool closed or the LMK changed). */
  async #batch(n: number): Promise<void> {
    const kcv = this.#lmkKcv;
    const r = this.policy.workers > 0 ? await this.#onWorkers(n) : await this.#inThread(n);
    if (!r.ok) throw r.error;
    // Nothing of a batch made under an LMK the HSM no longer has (that drops the pool too).
    if (!this.#live() || kcv !== this.#lmkKcv || !this.#sameLmk()) return;
    n = r.pairs.length;
    const by = this.policy.workers > 0 ? `${this.policy.workers} HSM workers` : "the HSM";
    await this.#o.audit({
      event: "key_pool_refilled",
      outcome: "success",
      keyId: "Pr_hsm",
      kcv,
      detail: `${n} RSA-${this.#bits} key pairs generated by ${by}, private keys under the ` +
        `LMK (KCV ${kcv}); ${this.#pairs.length + n} in the pool (low ${this.policy.low}, ` +
        `high ${this.policy.high})`,
    });
    if (!this.#live() || kcv !== this.#lmkKcv || !this.#sameLmk()) return;
    this.#pairs.push(...r.pairs);
    this.#stats.generated += n;
    this.#stats.batches++;
    this.#count("key_pool_generated", n);
  }

  async #onWorkers(n: number): Promise<PairBatchResult> {
    let pool = await this.#workerPool();
    // A worker failed earlier: that pool is gone, start a new one.
    if (pool.failure && !this.#closed) pool = await this.#replaceWorkers();
    return await pool.generateRsaKeyPairs(this.#template, this.#bits, n);
  }

  /** The running worker pool, started if there is none (a pool that did not start is not kept). */
  #workerPool(): Promise<HsmPool> {
    if (this.#closed) return Promise.reject(new Error("the key pool is closed"));
    if (this.#workers === undefined) {
      const hsm = this.#o.hsm;
      const p = HsmPool.create({
        mode: hsm.mode,
        components: this.#o.components,
        lmkKcv: hsm.lmkKcv,
        lmkAlgorithm: hsm.lmkAlgorithm,
        core: this.#o.core,
        size: this.policy.workers,
        audit: this.#o.audit,
        workerUrl: this.#o.workerUrl,
      });
      this.#workers = p;
      p.then((pool) => {
        if (this.#workers === p) this.#running = pool;
      }, () => {
        if (this.#workers === p) this.#workers = undefined;
      });
    }
    return this.#workers;
  }

  async #inThread(n: number): Promise<PairBatchResult> {
    const pairs: RsaKeyPairResult[] = [];
    for (let i = 0; i < n && this.#live(); i++) {
      try {
        pairs.push(
          await this.#o.hsm.generateRsaKeyPair({
            bits: this.#bits,
            template: this.#template,
          }),
        );
      } catch (error) {
        return { ok: false, index: i, error: error as Error };
      }
    }
    return { ok: true, pairs };
  }
}

/** Options of {@link startKeyPool}. */
export interface KeyPoolStart {
  /** Flow B's HSM, authorized, its LMK from `lmkComponents`. */
  hsm: Hsm;
  /** The LMK components as the server took them (`CUSTODIAN:KEY:KCV`). */
  lmkComponents: string[];
  core: CoreName;
  policy?: Partial<KeyPoolPolicy>;
  store: Pick<Store, "appendAudit">;
  metrics: ServerMetrics;
  log?: Logger;
}

/**
 * Starts the KMS's key-pair pool: audited in the store as `kms key pool`,
 * `tmk_key_pool_pairs` and its events in the server's metrics, a failed
 * refill logged as `key_pool.refill_failed`; the first fill begins at once.
 *
 * @param o the HSM, components, core, policy, store, metrics and log.
 * @returns the running pool; the caller closes it.
 * @throws {RangeError} for a policy out of range; `ValidationError` for malformed components.
 */
export function startKeyPool(o: KeyPoolStart): KeyPairPool {
  const pool = new KeyPairPool({
    hsm: o.hsm,
    components: parseComponents(o.lmkComponents, "LMK component", { custodians: true }),
    core: o.core,
    policy: o.policy,
    audit: async (e) => {
      await o.store.appendAudit({ at: new Date(), actor: "kms key pool", ...e });
    },
    // The workers' refusals of flow B's calls, recorded as the KMS's HSM records its own.
    hsmAudit: async (e) => {
      await o.store.appendAudit({ at: new Date(), actor: "kms hsm", ...e });
    },
    count: (event, n) => o.metrics.count(event, n),
    onError: (e) =>
      o.log?.log("error", "key_pool.refill_failed", {
        error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
      }),
  });
  o.metrics.gauge(
    "tmk_key_pool_pairs",
    "RSA key pairs ready in flow B's HSM key-pair pool, and its water marks",
    ["kind"],
    () => [
      { labels: { kind: "ready" }, value: pool.stats().size },
      { labels: { kind: "low" }, value: pool.policy.low },
      { labels: { kind: "high" }, value: pool.policy.high },
    ],
  );
  pool.start();
  return pool;
}
