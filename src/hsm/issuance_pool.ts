/**
 * Bulk key generation under KEKs (flow A S15, bulk TMK issuance:
 * CN103714639A) on an HSM, and the lifecycle of the {@link HsmPool} that
 * runs it: the workers start at the first batch (an owner that never issues
 * starts none), a pool whose worker failed is replaced by a new one at the
 * next batch, and {@link IssuancePool.close} stops them.
 *
 * The workers each open a {@link SoftwareHsm} from the LMK's components: they
 * stand for the caller's HSM only when that is a software HSM itself. Any
 * other HSM (a driver of a network HSM, or anything around a software HSM
 * that sees its calls) generates every key itself, in the caller's thread,
 * as does a pool of size 1.
 *
 * @module
 */
import type { CoreName } from "../core/mod.ts";
import type { LmkComponent } from "./lmk.ts";
import type { KeyTemplate } from "./policy.ts";
import {
  HsmPool,
  type HsmPoolStats,
  type KekItem,
  type KeyUnderKek,
  type PoolBatchResult,
} from "./pool.ts";
import { SoftwareHsm } from "./software_hsm.ts";
import type { Hsm, HsmAuditSink } from "./types.ts";

/** The largest number of workers. */
export const MAX_POOL_SIZE = 64;

/**
 * The default number of workers: the number of CPUs.
 *
 * @returns `navigator.hardwareConcurrency`, 1 to {@link MAX_POOL_SIZE}.
 */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(MAX_POOL_SIZE, navigator.hardwareConcurrency || 1));
}

/**
 * Checks a number of workers.
 *
 * @param size the number, 1 to {@link MAX_POOL_SIZE}.
 * @param name the option that gave it, for the message.
 * @throws {RangeError} for a size that is not an integer in range.
 */
export function checkPoolSize(size: number, name = "hsmWorkers"): void {
  if (!Number.isInteger(size) || size < 1 || size > MAX_POOL_SIZE) {
    throw new RangeError(`${name} must be an integer from 1 to ${MAX_POOL_SIZE}, got ${size}`);
  }
}

/** Options of {@link IssuancePool}. */
export interface IssuancePoolOptions {
  /** The HSM the keys are generated on, authorized. */
  hsm: Hsm;
  /** The LMK's components as that HSM loaded them (each with custodian and KCV): the workers' LMK. */
  components: readonly LmkComponent[];
  /** The crypto core each worker loads. */
  core: CoreName;
  /** Workers, 1 to {@link MAX_POOL_SIZE}; 1 generates in the caller's thread. */
  size: number;
  /** Where the workers' HSM security events go. */
  audit?: HsmAuditSink;
}

/** Bulk key generation under KEKs, on workers or in the caller's thread (see the module description). */
export class IssuancePool {
  /** Workers that generate keys; 1 when the keys are generated in the caller's thread. */
  readonly size: number;
  /** Batches worth having in flight at once: two per worker and one being committed by the caller. */
  readonly concurrency: number;
  readonly #o: IssuancePoolOptions;
  #pool: Promise<HsmPool> | undefined;
  #closed = false;

  /**
   * @param o the HSM, its LMK's components, the workers' core, the size, the audit sink.
   * @throws {RangeError} for a size out of range.
   */
  constructor(o: IssuancePoolOptions) {
    checkPoolSize(o.size);
    this.#o = o;
    this.size = SoftwareHsm.is(o.hsm) ? o.size : 1;
    this.concurrency = this.size === 1 ? 1 : 2 * this.size + 1;
  }

  /** The running pool, started if there is none (a pool that did not start is not kept). */
  #current(): Promise<HsmPool> {
    if (this.#closed) return Promise.reject(new Error("the HSM issuance pool is closed"));
    if (this.#pool === undefined) {
      const { hsm, components, core, audit } = this.#o;
      const p = HsmPool.create({
        mode: hsm.mode,
        components,
        lmkKcv: hsm.lmkKcv,
        lmkAlgorithm: hsm.lmkAlgorithm,
        core,
        size: this.size,
        audit,
      });
      this.#pool = p;
      p.catch(() => {
        if (this.#pool === p) this.#pool = undefined;
      });
    }
    return this.#pool;
  }

  /** Generates each key in this thread, stopping at the first refusal. */
  async #inThread(
    template: KeyTemplate,
    items: readonly KekItem[],
  ): Promise<PoolBatchResult> {
    const hsm = this.#o.hsm;
    if (SoftwareHsm.is(hsm)) {
      return await hsm.generateKeysUnderKek(template, items);
    }
    const keys: KeyUnderKek[] = [];
    for (const [i, it] of items.entries()) {
      try {
        const r = await this.#o.hsm.generateKeyUnderKek(template, it.kekBlock, {
          expectedKekHash: it.expectedKekHash,
        });
        keys.push({ keyBlock: r.keyBlock, exported: r.exported, kcv: r.kcv });
      } catch (error) {
        return { ok: false, index: i, error: error as Error };
      }
    }
    return { ok: true, keys };
  }

  /**
   * Generates a key per item under that item's KEK, in order, stopping at the
   * first refusal (as `HsmPool.generateKeysUnderKeks`).
   *
   * @param template the generated keys' template (TMK).
   * @param items the KEKs (TK blocks under the LMK) with their expected hashes.
   * @param options `signal` to drop the batch while it waits for a worker.
   * @returns every key in item order, or the first refusal's index and error.
   * @throws {HsmPoolError} a worker failed during the batch: no key of it is returned.
   */
  async generateKeysUnderKeks(
    template: KeyTemplate,
    items: readonly KekItem[],
    options: { signal?: AbortSignal } = {},
  ): Promise<PoolBatchResult> {
    if (this.size === 1) return await this.#inThread(template, items);
    let p = await this.#current();
    if (p.failure) {
      // A worker failed during an earlier batch: that pool is gone, start a new one.
      const stale = this.#pool;
      if (stale !== undefined && (await stale) === p && this.#pool === stale) {
        this.#pool = undefined;
      }
      p = await this.#current();
    }
    return await p.generateKeysUnderKeks(template, items, { signal: options.signal });
  }

  /** Batches, keys and HSM milliseconds per worker of the current pool, if one runs. */
  async stats(): Promise<HsmPoolStats | undefined> {
    return (await this.#pool?.catch(() => undefined))?.stats();
  }

  /** Stops the workers; later batches on workers are refused. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const p = this.#pool;
    this.#pool = undefined;
    await (await p?.catch(() => undefined))?.close();
  }
}
