/**
 * The messages between the HSM pool (`pool.ts`) and its workers
 * (`_pool_worker.ts`), and errors as they cross between them.
 *
 * @module
 */
import type { CoreName } from "../core/mod.ts";
import { HsmError, type HsmErrorCode } from "./errors.ts";
import type { LmkAlgorithm } from "./lmk.ts";
import type { KeyTemplate } from "./policy.ts";
import type { KekItem } from "./pool.ts";
import type { Packed } from "./_pool_pack.ts";
import type { HsmMode } from "./state.ts";
import type { HsmAuditEvent, RsaKeyPairResult, WrapFormat } from "./types.ts";

/** An error as it crosses from a worker. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
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
  | { type: "closed" };

/** An error from a worker, rebuilt as the same class (HsmError with its code). */
export function fromWire(e: WireError): Error {
  if (e.name === "HsmError" && e.code) return new HsmError(e.code as HsmErrorCode, e.message);
  if (e.name === "TypeError") return new TypeError(e.message);
  if (e.name === "RangeError") return new RangeError(e.message);
  const x = new Error(e.message);
  x.name = e.name;
  return x;
}

/** An error as it crosses to the main thread (name, message, HsmError code). */
export function toWire(e: unknown): WireError {
  if (e instanceof HsmError) return { name: e.name, message: e.message, code: e.code };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}
