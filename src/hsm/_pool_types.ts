/**
 * The HSM pool's (`pool.ts`) error, options, results and stats, and what it
 * keeps per worker (shared with `_pool_start.ts` and `_pool_calls.ts`).
 *
 * @module
 */
import type { CoreName } from "../core/mod.ts";
import type { LmkAlgorithm, LmkComponent } from "./lmk.ts";
import type { KeyTemplate } from "./policy.ts";
import type { HsmMode } from "./state.ts";
import type { HsmAuditSink, RsaKeyPairResult, WrapFormat } from "./types.ts";
import type { HsmCall } from "./_pool_wire.ts";

/** Why the pool refused or failed. */
export type HsmPoolErrorCode =
  /** A worker failed (uncaught error, undeliverable message): its batch and the queued ones are lost. */
  | "worker_failed"
  /** A worker did not answer its start within the time allowed. */
  | "start_timeout"
  /** The pool was closed (or failed before) and takes no batch. */
  | "closed";

/** A failure of the pool itself (not an HSM refusal of a key). */
export class HsmPoolError extends Error {
  /** What failed. */
  readonly code: HsmPoolErrorCode;

  /**
   * @param code what failed.
   * @param message which worker and what became of the batches.
   */
  constructor(code: HsmPoolErrorCode, message: string) {
    super(message);
    this.name = "HsmPoolError";
    this.code = code;
  }
}

/** Options of `HsmPool.create`. */
export interface HsmPoolOptions {
  /** "production" or "test": the workers' HSMs are created in this mode (as the caller's HSM). */
  mode: HsmMode;
  /** The LMK's components (two or more, each with its custodian and KCV), as `loadLmk` takes them. */
  components: readonly LmkComponent[];
  /** "aes" (default) or "tdes". */
  lmkAlgorithm?: LmkAlgorithm;
  /** The LMK's KCV: every worker's combined LMK must match it (`combined_kcv` otherwise). */
  lmkKcv: string;
  /** The crypto core each worker loads: "wasm" (default) or "js". */
  core?: CoreName;
  /** Number of workers, 1 to 64. */
  size: number;
  /** Where the workers' HSM security events go (a rejection fails the batch). */
  audit?: HsmAuditSink;
  /** Milliseconds a worker may take to start (default 60,000). */
  startTimeoutMs?: number;
  /** The worker module (default `./_pool_worker.ts`); a test may wrap it to inject a crash. */
  workerUrl?: URL;
}

/** One key generation of a batch: the KEK's block under the LMK and its expected hash. */
export interface KekItem {
  /** The KEK (TK) as a key block under the LMK. */
  kekBlock: string;
  /** The SHA-256 (hex) the KEK must have (TK hash check). */
  expectedKekHash?: string;
}

/** A key generated under a KEK, as `Hsm.generateKeyUnderKek` returns it. */
export interface KeyUnderKek {
  keyBlock: string;
  exported: string;
  kcv: string;
}

/** A batch's answer: every key in order, or the first refusal. */
export type PoolBatchResult =
  | { ok: true; keys: KeyUnderKek[] }
  | { ok: false; index: number; error: Error };

/** A batch of RSA key pairs: every pair, or the first refusal (as {@link PoolBatchResult}). */
export type PairBatchResult =
  | { ok: true; pairs: RsaKeyPairResult[] }
  | { ok: false; index: number; error: Error };

/** Per worker: batches, keys and calls done and milliseconds spent in its HSM. */
export interface HsmPoolStats {
  workers: { batches: number; keys: number; calls: number; busyMs: number }[];
}

/** Options of one call (`HsmPool.sign`, `HsmPool.importKeyRsa`). */
export interface HsmCallOptions {
  /** Where this call's HSM security events go (default the pool's sink; a rejection fails the call). */
  audit?: HsmAuditSink;
}

/** A batch, queued or sent to a worker. */
export interface Pending {
  template: KeyTemplate;
  format: WrapFormat | undefined;
  items: readonly KekItem[];
  /** An RSA key pair batch instead of keys under KEKs (`items` is then empty). */
  pairs?: { bits: number; count: number };
  signal?: AbortSignal;
  resolve: (r: PoolBatchResult | PairBatchResult) => void;
  reject: (e: unknown) => void;
}

/** A call sent to a worker and not answered yet. */
export interface PendingCall {
  call: HsmCall;
  audit: HsmAuditSink | undefined;
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
}

/** A worker and what it has been given. */
export interface Slot {
  index: number;
  worker: Worker;
  /** Batches sent to the worker and not answered yet, oldest first (answered in that order). */
  jobs: (Pending & { id: number })[];
  /** Calls sent to the worker and not answered yet, by id (answered in any order). */
  calls: Map<number, PendingCall>;
  batches: number;
  keys: number;
  /** Calls answered. */
  callsDone: number;
  busyMs: number;
  /** Resolves the wait for the worker's "closed" answer. */
  closed?: () => void;
  /** The worker failed: nothing more is asked of it. */
  dead?: boolean;
}
