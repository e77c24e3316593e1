/**
 * The store's domain error. Its `code` names what the database refused, so
 * servers can map it to an HTTP status in one place. Messages name tables,
 * fields, serial numbers and order ids, never key material (the store never
 * sees clear keys in the first place).
 *
 * @module
 */

/** Why the store refused an operation. */
export type StoreErrorCode =
  /** A row with the same key exists and differs (e.g. a second batch for an order with other content). */
  | "conflict"
  /** A row with the same unique key exists. */
  | "duplicate"
  /** A TK (by its hash) already held by another terminal: one TK per terminal. */
  | "tk_reused"
  /** The order, terminal or challenge does not exist. */
  | "not_found"
  /** An UPDATE or DELETE of the append-only audit log. */
  | "append_only"
  /** The database stayed locked by another connection longer than the busy timeout. */
  | "busy"
  /** The database's schema is newer than this code, or a migration failed. */
  | "schema"
  /** The store was closed. */
  | "closed";

/** A database refusal (constraint, state, lock) with a stable `code`. */
export class StoreError extends Error {
  /** What was refused. */
  readonly code: StoreErrorCode;

  /**
   * @param code what was refused.
   * @param message what, where (table, SN, order id), never key material.
   */
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = "StoreError";
    this.code = code;
  }
}
