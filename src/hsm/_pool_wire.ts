/**
 * The messages between the HSM pool (`pool.ts`) and its workers
 * (`_pool_worker.ts`), and errors as they cross between them.
 *
 * @module
 */
import type { CoreName } from "../core/mod.ts";
import { KeyBlockError, type KeyBlockErrorCode } from "../keyblock/errors.ts";
import { HsmError, type HsmErrorCode } from "./errors.ts";
import type { LmkAlgorithm } from "./lmk.ts";
import type { KeyTemplate } from "./policy.ts";
import type { KekItem } from "./pool.ts";
import type { Packed } from "./_pool_pack.ts";
import type { HsmMode } from "./state.ts";
import type {
  HsmAuditEvent,
  ImportChecks,
  ImportResult,
  RsaKeyPairResult,
  WrapFormat,
} from "./types.ts";

/** An error as it crosses from a worker. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  /** An HsmError's state and operation (`wrong_state`, `no_lmk`). */
  state?: string;
  operation?: string;
  /** The error under it (a KeyBlockError under `key_block`), one level deep. */
  cause?: WireError;
}

/** One HSM operation a worker runs as a call (`_pool_calls.ts`), with its arguments. */
export type HsmCall =
  | { op: "sign"; privateKeyBlock: string; message: Uint8Array }
  | {
    op: "importKeyRsa";
    privateKeyBlock: string;
    ciphertext: Uint8Array;
    options: ImportChecks & { template: KeyTemplate; hash?: "SHA-256" | "SHA-1" };
  };

/** What each call answers when the HSM does not refuse it. */
export interface HsmCallResults {
  sign: Uint8Array;
  importKeyRsa: ImportResult;
}

/** Main thread to worker. */
export type ToWorker =
  | {
    type: "init";
    mode: HsmMode;
    by: string;
    components: { custodian?: string; key: Uint8Array; kcv: string }[];
    lmkAlgorithm: LmkAlgorithm;
    lmkKcv: string;
    core: CoreName;
  }
  | {
    type: "batch";
    id: number;
    template: KeyTemplate;
    format: WrapFormat | undefined;
    /** The items packed (`_pool_pack.ts`), or as they are when they do not pack. */
    items: Packed | readonly KekItem[];
  }
  | { type: "rsa_pairs"; id: number; template: KeyTemplate; bits: number; count: number }
  | { type: "call"; id: number; call: HsmCall }
  | { type: "close" };

/** Worker to main thread. */
export type FromWorker =
  | { type: "ready"; events: HsmAuditEvent[] }
  | { type: "init_failed"; error: WireError; events: HsmAuditEvent[] }
  | { type: "done"; id: number; keys: Packed; events: HsmAuditEvent[]; busyMs: number }
  | {
    type: "pairs";
    id: number;
    pairs: RsaKeyPairResult[];
    events: HsmAuditEvent[];
    busyMs: number;
  }
  | {
    type: "refused";
    id: number;
    index: number;
    error: WireError;
    events: HsmAuditEvent[];
    busyMs: number;
  }
  | {
    type: "answer";
    id: number;
    /** The call's result, or its refusal. */
    result: { ok: true; value: HsmCallResults[HsmCall["op"]] } | { ok: false; error: WireError };
    events: HsmAuditEvent[];
    busyMs: number;
  }
  | { type: "closed" };

/**
 * An error from a worker, rebuilt as the same class: an HsmError with its
 * code, state, operation and cause, a KeyBlockError with its code.
 */
export function fromWire(e: WireError): Error {
  if (e.name === "HsmError" && e.code) {
    return new HsmError(e.code as HsmErrorCode, e.message, {
      cause: e.cause === undefined ? undefined : fromWire(e.cause),
      state: e.state,
      operation: e.operation,
    });
  }
  if (e.name === "KeyBlockError" && e.code) {
    return new KeyBlockError(e.code as KeyBlockErrorCode, e.message);
  }
  if (e.name === "TypeError") return new TypeError(e.message);
  if (e.name === "RangeError") return new RangeError(e.message);
  const x = new Error(e.message);
  x.name = e.name;
  return x;
}

/** An error as it crosses to the main thread (name, message, code, state, operation, cause). */
export function toWire(e: unknown, depth = 0): WireError {
  if (!(e instanceof Error)) return { name: "Error", message: String(e) };
  const w: WireError = { name: e.name, message: e.message };
  if (e instanceof HsmError || e instanceof KeyBlockError) w.code = e.code;
  if (e instanceof HsmError) {
    if (e.state !== undefined) w.state = e.state;
    if (e.operation !== undefined) w.operation = e.operation;
  }
  if (e.cause instanceof Error && depth === 0) w.cause = toWire(e.cause, 1);
  return w;
}
