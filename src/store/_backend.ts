/**
 * The contract between the checked front ({@link ./checked.ts}) and a
 * database backend: statements on a connection ({@link Exec}), units of
 * work (one statement, an atomic block, a transaction), and the few bulk
 * steps whose statements differ by more than SQL text. Arguments reach a
 * backend already checked; SQL text uses `?` placeholders.
 *
 * @module
 */
import type { Param, Row } from "./_rows.ts";
import type { ImportedTk, TmkIssue } from "./types.ts";

/** Statements on one connection (a pooled one, or a transaction's). */
export interface Exec {
  /** The first row of a query, or undefined. */
  get(sql: string, ...args: Param[]): Promise<Row | undefined>;
  /** Every row of a query. */
  all(sql: string, ...args: Param[]): Promise<Row[]>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, ...args: Param[]): Promise<number>;
  /** Calls `fn` on each row of a query without parameters, in order. */
  each(sql: string, fn: (row: Row) => void): Promise<void>;
}

/** Who the key-lifecycle audit records of a bulk write name. */
export interface KeyAuditWho {
  actor: string;
  /** The acting operator, or null. */
  operator: string | null;
}

/** A database behind the checked front. */
export interface Backend {
  /** Which database ("sqlite", "postgres"). */
  readonly kind: string;

  /**
   * Appended to a `SELECT` of one row inside `atomic` to lock it until the
   * transaction ends (`" FOR UPDATE"`), or `""` where a write transaction
   * already holds the whole database.
   */
  readonly lockRow: string;

  /**
   * What an `INSERT INTO audit_log (...)` with explicit ids puts before
   * `VALUES` (PostgreSQL: `OVERRIDING SYSTEM VALUE` for its identity column).
   */
  readonly auditInsert: string;

  /** SQL that turns a hex text parameter into bytes (`unhex(?)`, `decode(?, 'hex')`). */
  readonly hexParam: string;

  /**
   * Runs `fn` as one statement or a few reads (autocommit, or inside the
   * transaction of a view), mapping errors to `StoreError`.
   */
  one<T>(what: string, fn: (x: Exec) => Promise<T>): Promise<T>;

  /**
   * Runs `fn` atomically: its own transaction, or a savepoint inside a
   * transaction view. `replayable` (default true) allows running it again
   * after a deadlock.
   */
  atomic<T>(what: string, fn: (x: Exec) => Promise<T>, replayable?: boolean): Promise<T>;

  /** Runs `body` in one transaction with a view of this backend bound to it. */
  transaction<T>(body: (view: Backend) => Promise<T>): Promise<T>;

  /** Closes the database; later calls throw `StoreError("closed")`. */
  close(): Promise<void>;

  /** Inside `atomic`: waits until no other transaction holds `key` (until this one ends). */
  lockKey(x: Exec, key: string): Promise<void>;

  /** Inside `atomic`: one collection slot per SN of a new order; returns how many. */
  addSerials(x: Exec, orderId: string, sns: Iterable<string>): Promise<number>;

  /**
   * Inside `atomic`: one terminal per TK of a batch (checking each TK as it
   * is read), with its audit record (chained) if `audit` is set.
   * @returns how many; throws `StoreError("conflict")` naming an SN already known.
   */
  insertTerminals(
    x: Exec,
    orderId: string,
    at: string,
    tks: Iterable<ImportedTk> | AsyncIterable<ImportedTk>,
    audit: KeyAuditWho | undefined,
  ): Promise<number>;

  /** Stages TKs of an upload; returns -1 or the index of the first SN already staged. */
  stageTks(
    uploadId: string,
    firstSeq: number,
    tks: readonly ImportedTk[],
    at: string,
  ): Promise<number>;

  /** Issues TMKs in one transaction, with chained audit records if `audit` is set; returns how many. */
  issueTmks(issues: readonly TmkIssue[], audit: KeyAuditWho | undefined): Promise<number>;
}
