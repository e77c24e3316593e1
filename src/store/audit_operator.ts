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

const current = new AsyncLocalStorage<string>();

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
