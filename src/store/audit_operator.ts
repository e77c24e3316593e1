/**
 * The operator on whose request the current code runs, so that every audit
 * record written while serving it names that operator, however deep the
 * call that writes it (a service, a bulk issuance page). The router sets it
 * around an operator request's handler; the store reads it when an audit
 * record does not name an operator itself.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AuditInput } from "./types.ts";

const current = new AsyncLocalStorage<string>();
const preface = new AsyncLocalStorage<AuditPreface>();

/**
 * Runs `fn` with `operator` as the acting operator of every audit record it writes.
 *
 * @param operator the operator id.
 * @param fn the work.
 * @returns what `fn` returns.
 */
export function withAuditOperator<T>(operator: string, fn: () => T): T {
  return current.run(operator, fn);
}

/** The acting operator, or null outside an operator request. */
export function currentAuditOperator(): string | null {
  return current.getStore() ?? null;
}

/**
 * What is written with a request's first success record, in the same
 * atomic write (so in the request's own transaction when it writes its
 * record there): facts that hold only if the request did something — a
 * dual-control waiver, an approval granted and executed, and that approval
 * marked done. A request that fails writes none of it.
 */
export interface AuditPreface {
  /** Records written before the success record. */
  records: AuditInput[];
  /** An approval to mark done (`approved` to `done`) with this status. */
  finishApproval?: { id: string; status: number };
  /** Set when it was written. */
  written: boolean;
  /** Failure records written meanwhile (counted here). */
  failures?: number;
}

/**
 * Runs `fn` with `p` written before the first success record it writes.
 *
 * @param p the preface (its `written` tells the caller whether it was written).
 * @param fn the work.
 * @returns what `fn` returns.
 */
export function withAuditPreface<T>(p: AuditPreface, fn: () => T): T {
  return preface.run(p, fn);
}

/**
 * The preface still to write before a success record, or null.
 *
 * @param outcome the outcome of the record about to be written.
 */
export function pendingAuditPreface(outcome: AuditInput["outcome"]): AuditPreface | null {
  const p = preface.getStore();
  if (p && outcome === "failure") p.failures = (p.failures ?? 0) + 1;
  return !p || p.written || outcome !== "success" ? null : p;
}
