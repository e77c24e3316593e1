/**
 * A pool of software HSM workers for bulk key generation under KEKs (flow A
 * S15, bulk TMK issuance: CN103714639A): N Web Workers, each holding its own
 * {@link SoftwareHsm} opened from the same LMK components, each working
 * through a batch of `generateKeyUnderKek` calls while the caller's thread
 * does something else (reads and writes the store). A pool of one worker or
 * more; generating in the caller's thread needs no pool (`issuance_pool.ts`
 * chooses between the two and owns the pool's lifecycle).
 *
 * The HSM boundary. The software HSM's boundary is this process: clear keys
 * exist only in its memory. The workers are isolates of the same process, and
 * `postMessage` between them is a copy (or, for transferred buffers, a move)
 * inside that memory, so the LMK and the clear keys stay inside the boundary.
 * How the LMK reaches a worker: not as the combined LMK, but as the
 * custodians' components, each as bytes in its own `ArrayBuffer`, made for
 * that worker and moved to it in the transfer list (the sending thread's
 * buffers are detached, holding nothing); the worker runs the HSM's own
 * start (`SoftwareHsm.open`, in the caller's mode): the known-answer
 * self-tests on its core, offline to secure, the component KCV and custodian
 * checks, XOR and the combined KCV check against the pool's expected LMK KCV
 * ({@link HsmPoolOptions.lmkKcv}), authorized; then it zeroes the received
 * component bytes whether the start succeeded or not. The audit log gets one
 * `hsm_worker_started` record per worker (the LMK's KCV), or the refusal's
 * own record naming the worker. Nothing of the LMK crosses a socket, a
 * file or a log. A worker that cannot start (a self-test or KCV refusal, a
 * module that does not load) makes {@link HsmPool.create} reject with that
 * error, naming the worker, and stops every worker it started.
 *
 * The same workers generate batches of RSA key pairs
 * ({@link HsmPool.generateRsaKeyPairs}), the private keys as blocks under
 * the LMK (flow B's key-pair pool, `servers/kms/key_pool.ts`), and run
 * single calls ({@link HsmPool.sign}, {@link HsmPool.importKeyRsa}: the RSA
 * private-key operations flow B runs per terminal) with the in-thread HSM's
 * semantics: the same result, the same refusal (an {@link HsmError}, same
 * code and message) and the same audit events, which come back with the
 * answer and go to the audit sink before it is given (`_pool_calls.ts`). A
 * call goes to the worker with the fewest calls in flight and goes ahead of
 * its batches: the worker handles it as it arrives, between two pairs of a
 * batch (`_pool_worker.ts`).
 *
 * Batches and errors. A batch goes to the least busy worker, up to two per
 * worker (the second waits in the worker, so that it has work while the
 * main thread is busy committing); the worker generates each key in order and stops at the
 * first refusal, answering with that refusal's index and its
 * {@link HsmError} (same code and message as in-thread), so a caller can
 * refuse exactly as the in-thread path does and store nothing of the batch.
 * The worker's HSM security events (a key refused) come back with the answer
 * and go to the pool's audit sink before the answer is given (fail closed:
 * an audit failure rejects the batch). A worker that fails (an uncaught
 * error, a message that does not deserialize) fails the pool: every batch in
 * flight or queued, and every call of the failed worker, is rejected with
 * {@link HsmPoolError} `worker_failed`, whole (no batch is ever answered in
 * part), and the pool shuts down as below; the owner makes a new pool.
 *
 * Shutdown. {@link HsmPool.close} (and a failure, and a start that failed)
 * rejects queued batches (`closed`), asks each live worker to zero its LMK
 * (`SoftwareHsm.destroy`) and waits for its answer (5 s at most; a batch in
 * flight is answered first, and the worker ends its calls under way before
 * it zeroes: each such call settles with its answer, events audited, as if
 * the pool had not closed), then terminates every worker. A call still
 * unanswered then is rejected (`closed`): its worker never ran it to the
 * end, so nothing of it is audited twice when its caller runs it elsewhere.
 * A worker that failed is terminated without asking: its isolate's memory
 * goes back to the runtime unzeroed, as a crashed process's would.
 *
 * @module
 */
import { packItems, unpackKeys } from "./_pool_pack.ts";
import type { KeyTemplate } from "./policy.ts";
import type {
  HsmAuditEvent,
  HsmAuditSink,
  ImportChecks,
  ImportResult,
  WrapFormat,
} from "./types.ts";
import {
  fromWire,
  type FromWorker,
  type HsmCall,
  type HsmCallResults,
  type ToWorker,
} from "./_pool_wire.ts";
import { pickSlot, rejectCalls, sendCall, settleCall } from "./_pool_calls.ts";
import { auditStarts, checkOptions, startWorker } from "./_pool_start.ts";
import {
  type HsmCallOptions,
  HsmPoolError,
  type HsmPoolOptions,
  type HsmPoolStats,
  type KekItem,
  type PairBatchResult,
  type Pending,
  type PoolBatchResult,
  type Slot,
} from "./_pool_types.ts";

export {
  type HsmCallOptions,
  HsmPoolError,
  type HsmPoolErrorCode,
  type HsmPoolOptions,
  type HsmPoolStats,
  type KekItem,
  type KeyUnderKek,
  type PairBatchResult,
  type PoolBatchResult,
} from "./_pool_types.ts";

/**
 * Batches sent ahead to each worker: the next one waits in the worker while
 * it works on the current one, so a worker does not idle while the main
 * thread is busy (a synchronous SQLite commit) and cannot hand it more.
 */
const PER_WORKER = 2;

/**
 * The worker pool. Create it with {@link HsmPool.create}; close it with
 * {@link HsmPool.close}.
 */
export class HsmPool {
  /** Number of workers. */
  readonly size: number;
  readonly #slots: Slot[];
  readonly #queue: Pending[] = [];
  readonly #audit: HsmAuditSink | undefined;
  #nextId = 1;
  #failure: HsmPoolError | undefined;
  #closing: Promise<void> | undefined;

  private constructor(slots: Slot[], audit: HsmAuditSink | undefined) {
    this.size = slots.length;
    this.#slots = slots;
    this.#audit = audit;
  }

  /**
   * Starts the workers and waits until each has passed its self-tests and
   * loaded the LMK.
   *
   * @param o components, LMK algorithm and KCV, core, size, audit sink.
   * @returns the running pool.
   * @throws {TypeError} / {RangeError} for bad options (naming them);
   *   {@link HsmError} a worker's start refusal (`self_test`, `component_kcv`,
   *   `combined_kcv`, ...), naming the worker; {@link HsmPoolError}
   *   `worker_failed` / `start_timeout`. No worker is left running.
   */
  static async create(o: HsmPoolOptions): Promise<HsmPool> {
    const { algorithm, core, url, timeoutMs } = checkOptions(o);
    const slots: Slot[] = [];
    const starts: Promise<HsmAuditEvent[]>[] = [];
    for (let i = 0; i < o.size; i++) {
      const slot: Slot = {
        index: i,
        worker: new Worker(url.href, { type: "module", name: `hsm-${i + 1}` }),
        jobs: [],
        calls: new Map(),
        batches: 0,
        keys: 0,
        callsDone: 0,
        busyMs: 0,
      };
      slots.push(slot);
      starts.push(startWorker(slot, o, algorithm, core, timeoutMs));
    }
    const settled = await Promise.allSettled(starts);
    const pool = new HsmPool(slots, o.audit);
    for (const s of slots) pool.#listen(s);
    try {
      // Start events first (a refusal's, or one record per worker started), then the verdict.
      await auditStarts(settled, o);
      const failed = settled.find((s) => s.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } catch (e) {
      // The workers that started zero their LMK and stop; the others are terminated.
      await pool.close();
      throw e;
    }
    return pool;
  }

  #listen(slot: Slot): void {
    const name = `HSM worker ${slot.index + 1} of ${this.size}`;
    slot.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.#answer(slot, ev.data);
    slot.worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.#fail(new HsmPoolError("worker_failed", `${name} failed: ${ev.message}`), slot);
    };
    slot.worker.onmessageerror = () => {
      this.#fail(new HsmPoolError("worker_failed", `${name}: an answer did not deserialize`), slot);
    };
  }

  async #answer(slot: Slot, m: FromWorker): Promise<void> {
    if (m.type === "closed") {
      slot.closed?.();
      return;
    }
    if (m.type === "answer") {
      // A call's answer, matched by id (calls overtake batches); a batch's is the oldest job's.
      if (!(await settleCall(slot, m, this.#audit))) {
        this.#fail(
          new HsmPoolError(
            "worker_failed",
            `HSM worker ${slot.index + 1} of ${this.size} answered a call not in flight`,
          ),
        );
      }
      return;
    }
    const job = slot.jobs[0];
    if (
      (m.type !== "done" && m.type !== "refused" && m.type !== "pairs") || !job || job.id !== m.id
    ) {
      this.#fail(
        new HsmPoolError(
          "worker_failed",
          `HSM worker ${slot.index + 1} of ${this.size} sent an unexpected ${m.type}`,
        ),
      );
      return;
    }
    slot.jobs.shift();
    slot.batches++;
    slot.busyMs += m.busyMs;
    this.#dispatch();
    try {
      for (const e of m.events) await this.#audit?.(e);
    } catch (e) {
      job.reject(e);
      return;
    }
    if (m.type === "pairs") {
      slot.keys += m.pairs.length;
      job.resolve({ ok: true, pairs: m.pairs });
    } else if (m.type === "done") {
      const keys = unpackKeys(m.keys);
      slot.keys += keys.length;
      job.resolve({ ok: true, keys });
    } else {
      slot.keys += m.index;
      job.resolve({ ok: false, index: m.index, error: fromWire(m.error) });
    }
  }

  #dispatch(): void {
    for (;;) {
      // The worker with the fewest batches, if it can take one more.
      let slot: Slot | undefined;
      for (const s of this.#slots) {
        if (!s.dead && s.jobs.length < PER_WORKER && (!slot || s.jobs.length < slot.jobs.length)) {
          slot = s;
        }
      }
      if (!slot) return;
      let p: Pending | undefined;
      while ((p = this.#queue.shift()) && p.signal?.aborted) {
        p.reject(p.signal.reason);
      }
      if (!p) return;
      const job = { ...p, id: this.#nextId++ };
      try {
        const msg: ToWorker = job.pairs
          ? { type: "rsa_pairs", id: job.id, template: job.template, ...job.pairs }
          : {
            type: "batch",
            id: job.id,
            template: job.template,
            format: job.format,
            items: packItems(job.items) ?? job.items,
          };
        const items = msg.type === "batch" ? msg.items : undefined;
        slot.worker.postMessage(
          msg,
          items !== undefined && "lengths" in items ? [items.lengths.buffer] : [],
        );
        slot.jobs.push(job);
      } catch (e) {
        job.reject(e);
      }
    }
  }

  #fail(e: HsmPoolError, dead?: Slot): void {
    if (dead) {
      dead.dead = true;
      dead.closed?.();
    }
    if (this.#failure) return;
    this.#failure = e;
    for (const s of this.#slots) {
      // A live worker still answers its calls before it closes: they settle with that answer.
      if (s.dead) rejectCalls(s, e.code, e.message);
      for (const job of s.jobs.splice(0)) {
        job.reject(
          new HsmPoolError(
            e.code,
            `${e.message}; this batch of ${
              job.pairs?.count ?? job.items.length
            } keys was not answered, no key of it is returned`,
          ),
        );
      }
    }
    for (const p of this.#queue.splice(0)) p.reject(e);
    void this.#shutdown();
  }

  /** Each live worker zeroes its LMK and answers (5 s at most), then every worker is terminated. */
  #shutdown(): Promise<void> {
    this.#closing ??= Promise.all(this.#slots.map(async (s) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        if (!s.dead) {
          // A batch in flight is answered first: the worker handles its messages in order.
          const closed = new Promise<void>((resolve) => {
            s.closed = resolve;
            timer = setTimeout(resolve, 5_000);
          });
          s.worker.postMessage({ type: "close" } satisfies ToWorker);
          await closed;
        }
      } catch {
        // the worker is gone already
      } finally {
        clearTimeout(timer);
        s.worker.terminate();
        for (const job of s.jobs.splice(0)) {
          job.reject(new HsmPoolError("closed", "the HSM pool closed before the batch ended"));
        }
        rejectCalls(s, "closed", "the HSM pool closed");
      }
    })).then(() => undefined);
    return this.#closing;
  }

  /** The failure that stopped the pool (a worker failed, or the pool was closed), if any. */
  get failure(): HsmPoolError | undefined {
    return this.#failure;
  }

  /**
   * Generates a key per item under that item's KEK (`Hsm.generateKeyUnderKek`
   * in a worker), in order, stopping at the first refusal.
   *
   * @param template the generated keys' template (TMK).
   * @param items the KEKs (TK blocks under the LMK) with their expected hashes.
   * @param options `format` of the export ("tr31" default), `signal` to drop the batch while it is queued.
   * @returns every key in item order, or the first refusal's index and error (an {@link HsmError}).
   * @throws {HsmPoolError} `worker_failed` or `closed`: no key of the batch is returned.
   */
  generateKeysUnderKeks(
    template: KeyTemplate,
    items: readonly KekItem[],
    options: { format?: WrapFormat; signal?: AbortSignal } = {},
  ): Promise<PoolBatchResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (!Array.isArray(items)) {
      return Promise.reject(new TypeError("items must be an array of { kekBlock }"));
    }
    if (items.length === 0) return Promise.resolve({ ok: true, keys: [] });
    return new Promise((resolve, reject) => {
      this.#queue.push({
        template,
        format: options.format,
        items,
        signal: options.signal,
        resolve: resolve as (r: PoolBatchResult | PairBatchResult) => void,
        reject,
      });
      this.#dispatch();
    });
  }

  /**
   * Generates `count` RSA key pairs in a worker (`Hsm.generateRsaKeyPair`),
   * each private key a block under the LMK, stopping at the first refusal.
   *
   * @param template the pairs' template (algorithm "R").
   * @param bits the modulus size.
   * @param count pairs in the batch, at least 1.
   * @returns every pair, or the first refusal's index and error (an {@link HsmError}).
   * @throws {RangeError} for a count that is not a positive integer.
   * @throws {HsmPoolError} `worker_failed` or `closed`: no pair of the batch is returned.
   */
  generateRsaKeyPairs(
    template: KeyTemplate,
    bits: number,
    count: number,
  ): Promise<PairBatchResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (!Number.isInteger(count) || count < 1) {
      return Promise.reject(new RangeError(`count must be a positive integer, got ${count}`));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({
        template,
        format: undefined,
        items: [],
        pairs: { bits, count },
        resolve: resolve as (r: PoolBatchResult | PairBatchResult) => void,
        reject,
      });
      this.#dispatch();
    });
  }

  /**
   * `Hsm.sign` in a worker: an RSASSA-PKCS1-v1_5 SHA-256 signature with a
   * signing key block under the LMK, ahead of the worker's batches.
   *
   * @param privateKeyBlock the signing key (usage S0/S1) as a block under the LMK.
   * @param message the bytes to sign.
   * @param options `audit`: where this call's HSM events go (default the pool's sink).
   * @returns the signature, as the in-thread HSM gives it.
   * @throws as `Hsm.sign` (an {@link HsmError} with the same code and message);
   *   {@link HsmPoolError} `worker_failed` or `closed`: the call was not answered.
   */
  sign(
    privateKeyBlock: string,
    message: Uint8Array,
    options: HsmCallOptions = {},
  ): Promise<Uint8Array> {
    return this.#call({ op: "sign", privateKeyBlock, message }, options);
  }

  /**
   * `Hsm.importKeyRsa` in a worker: a key sent RSA-OAEP-encrypted under an
   * HSM public key, decrypted into a block under the LMK, ahead of the
   * worker's batches.
   *
   * @param privateKeyBlock the RSA private key as a block under the LMK.
   * @param ciphertext the encrypted key.
   * @param importOptions the template, OAEP hash and expected KCV or hash, as `Hsm.importKeyRsa`.
   * @param options `audit`: where this call's HSM events go (default the pool's sink).
   * @returns the key block, its KCV and hash, as the in-thread HSM gives them.
   * @throws as `Hsm.importKeyRsa` (an {@link HsmError}, `decrypt_failed` for every failure
   *   to decrypt); {@link HsmPoolError} `worker_failed` or `closed`: the call was not answered.
   */
  importKeyRsa(
    privateKeyBlock: string,
    ciphertext: Uint8Array,
    importOptions: ImportChecks & { template: KeyTemplate; hash?: "SHA-256" | "SHA-1" },
    options: HsmCallOptions = {},
  ): Promise<ImportResult> {
    return this.#call(
      { op: "importKeyRsa", privateKeyBlock, ciphertext, options: importOptions },
      options,
    );
  }

  #call<C extends HsmCall>(call: C, options: HsmCallOptions): Promise<HsmCallResults[C["op"]]> {
    if (this.#failure) return Promise.reject(this.#failure);
    const slot = pickSlot(this.#slots);
    if (!slot) return Promise.reject(new HsmPoolError("closed", "no HSM worker is running"));
    return new Promise((resolve, reject) => {
      try {
        sendCall(slot, this.#nextId++, {
          call,
          audit: options?.audit,
          resolve: resolve as (value: unknown) => void,
          reject,
        });
      } catch (e) {
        reject(e);
      }
    });
  }

  /** Batches, keys, calls and HSM milliseconds per worker so far. */
  stats(): HsmPoolStats {
    return {
      workers: this.#slots.map((s) => ({
        batches: s.batches,
        keys: s.keys,
        calls: s.callsDone,
        busyMs: s.busyMs,
      })),
    };
  }

  /**
   * Stops the pool: queued batches are rejected (`closed`), the calls in
   * flight get their worker's answer, each worker zeroes its LMK and is
   * terminated. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#failure) {
      this.#failure = new HsmPoolError("closed", "the HSM pool is closed");
      for (const p of this.#queue.splice(0)) p.reject(this.#failure);
    }
    await this.#shutdown();
  }
}
