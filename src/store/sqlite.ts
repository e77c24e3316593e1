/**
 * The embedded store on SQLite (`node:sqlite`, `DatabaseSync`: works in Deno
 * without flags): the SQLite backend of the checked front
 * ({@link ./checked.ts}). A file path (WAL journal, so readers never wait
 * for the writer and a killed process loses no committed transaction) or
 * `":memory:"` for tests.
 *
 * Durability: WAL with `synchronous = NORMAL`. A commit appends its pages to
 * the WAL file (a write to the operating system, no fsync); the WAL is synced
 * at each checkpoint. So a committed transaction (an acknowledged batch, an
 * issued page) survives kill -9 of the process, the crash the KMS must
 * survive (`tests/scale/crash_test.ts`); a power loss or kernel crash can
 * lose the last commits before a checkpoint but never leaves a torn
 * database. `synchronous = FULL` would add an fsync to every commit (one per
 * issuance page) for the power-loss case; `OFF` would give up the
 * consistency after a power loss. Checkpoints every
 * {@link WAL_CHECKPOINT_PAGES} pages rather than SQLite's 1000: fewer fsyncs
 * during bulk issuance; what a power loss can take back is what the kernel
 * has not yet written of that WAL. The issuance's key audit records go in
 * the same transactions, so they share this durability with their keys.
 *
 * Concurrency: calls on one store are serialized by an async lock, so a
 * transaction that awaits in between is never interleaved with other calls
 * on the same connection. Between connections (two stores on one file, or
 * several processes), every write transaction starts with `BEGIN
 * IMMEDIATE`; a locked database is retried asynchronously (the event loop
 * keeps running) until `busyTimeoutMs`, then `StoreError("busy")`.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Backend, Exec, KeyAuditWho } from "./_backend.ts";
import { AUDIT_COLUMNS, ChainAppender } from "./_chain.ts";
import { checkId, checkImportedTk, checkInt, checkText } from "./_check.ts";
import { mapError, ONE_TK_INDEXES, type Param, type Refusal, type Row, str } from "./_rows.ts";
import { CheckedStore } from "./checked.ts";
import { StoreError } from "./errors.ts";
import {
  checkMigrationOrder,
  checkNotNewer,
  type Migration,
  migrationFailed,
} from "./migration.ts";
import { SQLITE_MIGRATIONS } from "./sqlite_schema.ts";
import type { ImportedTk, TmkIssue } from "./types.ts";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** How long to keep retrying a database locked by another connection, in ms (default 10000). */
  busyTimeoutMs?: number;
  /** The migrations to apply (default {@link SQLITE_MIGRATIONS}); for tests of the migrator. */
  migrations?: readonly Migration[];
}

/**
 * WAL pages between automatic checkpoints (40 MB at 4 KiB pages; SQLite's
 * default is 1000): bulk issuance writes its terminals and their audit
 * records in large transactions, and fewer checkpoints mean fewer fsyncs.
 */
const WAL_CHECKPOINT_PAGES = 10000;
/** Audit records per INSERT statement of a bulk write (9 parameters each). */
const AUDIT_ROWS = 100;

/** The INSERT of `k` key-lifecycle audit records (9 parameters each), its text made once per `k`. */
const auditInserts = new Map<number, string>();
function auditInsert(k: number): string {
  let sql = auditInserts.get(k);
  if (sql === undefined) {
    sql = `INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES ${
      Array(k).fill(`(?, ?, ?, ?, ?, ?, ?, 'success', NULL, ?, unhex(?))`).join(", ")
    }`;
    auditInserts.set(k, sql);
  }
  return sql;
}

/** TMKs per UPDATE statement of bulk issuance (5 parameters each). */
const ISSUE_ROWS = 50;

/**
 * The UPDATE of `k` terminals' TMKs (parameters per terminal: SN, block,
 * under TK, KCV, time), each unless it has one; returns the SNs it changed.
 * Its text is made once per `k`.
 */
const issueUpdates = new Map<number, string>();
function issueUpdate(k: number): string {
  let sql = issueUpdates.get(k);
  if (sql === undefined) {
    sql = `UPDATE terminals SET tmk_block = v.column2, tmk_under_tk = v.column3,
        tmk_kcv = v.column4, tmk_issued_at = v.column5, updated_at = v.column5,
        state = 'tmk_issued'
      FROM (VALUES ${Array(k).fill("(?, ?, ?, ?, ?)").join(", ")}) AS v
      WHERE terminals.sn = v.column1 AND terminals.tmk_block IS NULL
      RETURNING sn`;
    issueUpdates.set(k, sql);
  }
  return sql;
}

/** A FIFO async lock. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => release = r);
    const prev = this.#tail;
    this.#tail = prev.then(() => next);
    await prev;
    return release;
  }
}

interface Conn {
  db: DatabaseSync;
  path: string;
  statements: Map<string, StatementSync>;
  lock: Mutex;
  closed: boolean;
  busyTimeoutMs: number;
  savepoints: number;
}

function isBusy(e: unknown): boolean {
  return e instanceof Error && /database (table )?is locked|database is busy/.test(e.message);
}

/** How SQLite words a refusal. */
function refusal(e: Error): Refusal | null {
  const m = e.message;
  if (/UNIQUE constraint failed|PRIMARY KEY/.test(m)) {
    return ONE_TK_INDEXES.test(m) ? "tk_reused" : "duplicate";
  }
  if (/FOREIGN KEY constraint failed/.test(m)) return "missing";
  return isBusy(e) ? "locked" : null;
}

const sqliteError = (e: unknown, what: string) => mapError(e, what, refusal);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Statements on the connection, each prepared once and cached. */
class SqliteExec implements Exec {
  readonly #conn: Conn;
  constructor(conn: Conn) {
    this.#conn = conn;
  }

  st(sql: string): StatementSync {
    let s = this.#conn.statements.get(sql);
    if (!s) {
      s = this.#conn.db.prepare(sql);
      this.#conn.statements.set(sql, s);
    }
    return s;
  }

  // deno-lint-ignore require-await
  async get(sql: string, ...args: Param[]): Promise<Row | undefined> {
    return this.st(sql).get(...args) as Row | undefined;
  }

  // deno-lint-ignore require-await
  async all(sql: string, ...args: Param[]): Promise<Row[]> {
    return this.st(sql).all(...args) as Row[];
  }

  // deno-lint-ignore require-await
  async run(sql: string, ...args: Param[]): Promise<number> {
    return Number(this.st(sql).run(...args).changes);
  }

  // deno-lint-ignore require-await
  async each(sql: string, fn: (row: Row) => void): Promise<void> {
    for (const row of this.st(sql).iterate()) fn(row as Row);
  }
}

/** The SQLite backend: one connection, an async lock, `BEGIN IMMEDIATE` transactions. */
class SqliteBackend implements Backend {
  readonly kind = "sqlite";
  readonly lockRow = "";
  readonly auditInsert = "";
  readonly hexParam = "unhex(?)";
  readonly #conn: Conn;
  readonly #x: SqliteExec;
  /** For a transaction view: whether its transaction is still open; null for the store itself. */
  readonly #tx: { active: boolean } | null;

  constructor(conn: Conn, tx: { active: boolean } | null) {
    this.#conn = conn;
    this.#x = new SqliteExec(conn);
    this.#tx = tx;
  }

  get path(): string {
    return this.#conn.path;
  }

  #alive(): void {
    if (this.#conn.closed) throw new StoreError("closed", "the store is closed");
    if (this.#tx && !this.#tx.active) {
      throw new StoreError("closed", "this transaction has ended; use the store, not the old tx");
    }
  }

  /** Retries `fn` while the database is locked by another connection. */
  async retry<T>(fn: () => T | Promise<T>, what: string): Promise<T> {
    const deadline = Date.now() + this.#conn.busyTimeoutMs;
    let wait = 1;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (!isBusy(e) || Date.now() >= deadline) throw sqliteError(e, what);
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 50);
    }
  }

  async one<T>(what: string, fn: (x: Exec) => Promise<T>): Promise<T> {
    this.#alive();
    if (this.#tx) {
      try {
        return await fn(this.#x);
      } catch (e) {
        throw sqliteError(e, what);
      }
    }
    const release = await this.#conn.lock.acquire();
    try {
      this.#alive();
      return await this.retry(() => fn(this.#x), what);
    } finally {
      release();
    }
  }

  async atomic<T>(what: string, fn: (x: Exec) => T | Promise<T>): Promise<T> {
    this.#alive();
    const db = this.#conn.db;
    if (this.#tx) {
      const name = `sp${++this.#conn.savepoints}`;
      db.exec(`SAVEPOINT ${name}`);
      try {
        const r = await fn(this.#x);
        db.exec(`RELEASE ${name}`);
        return r;
      } catch (e) {
        db.exec(`ROLLBACK TO ${name}`);
        db.exec(`RELEASE ${name}`);
        throw sqliteError(e, what);
      } finally {
        this.#conn.savepoints--;
      }
    }
    const release = await this.#conn.lock.acquire();
    try {
      this.#alive();
      await this.retry(() => db.exec("BEGIN IMMEDIATE"), what);
      try {
        const r = await fn(this.#x);
        db.exec("COMMIT");
        return r;
      } catch (e) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw sqliteError(e, what);
      }
    } finally {
      release();
    }
  }

  async transaction<T>(body: (view: Backend) => Promise<T>): Promise<T> {
    if (this.#tx) return await this.atomic("transaction", () => body(this));
    const state = { active: true };
    const view = new SqliteBackend(this.#conn, state);
    try {
      return await this.atomic("transaction", () => body(view));
    } finally {
      state.active = false;
    }
  }

  async close(): Promise<void> {
    if (this.#tx) throw new TypeError("close the store, not a transaction");
    if (this.#conn.closed) return;
    const release = await this.#conn.lock.acquire();
    try {
      if (this.#conn.closed) return;
      this.#conn.closed = true;
      this.#conn.statements.clear();
      this.#conn.db.close();
    } finally {
      release();
    }
  }

  /** `BEGIN IMMEDIATE` already holds the database for the whole transaction. */
  async lockKey(): Promise<void> {}

  // deno-lint-ignore require-await
  async addSerials(_x: Exec, orderId: string, sns: Iterable<string>): Promise<number> {
    let n = 0;
    for (const sn of sns) {
      checkId(`order.serialNumbers[${n}]`, sn);
      const other = this.#x.st("SELECT order_id FROM collected_tks WHERE sn = ?").get(sn) as
        | Row
        | undefined;
      if (other) {
        throw new StoreError(
          "duplicate",
          `serial number ${sn} is already in order ${str(other.order_id)}`,
        );
      }
      this.#x.st("INSERT INTO collected_tks (sn, order_id) VALUES (?, ?)").run(sn, orderId);
      n++;
    }
    return n;
  }

  /**
   * Key-lifecycle audit records of a bulk write, inside its transaction:
   * `add` one per key, in order; they are linked into the chain and go to
   * the log {@link AUDIT_ROWS} at a time, one multi-row INSERT each, fewer
   * statements than one per row. Call `flush` before the transaction ends.
   */
  async #keyAudit(who: KeyAuditWho, event: string, keyId: string) {
    const chain = await ChainAppender.open(this.#x, this);
    const fixed = { ...who, event, keyId };
    const ats: string[] = [];
    const subjects: string[] = [];
    const kcvs: string[] = [];
    const rows: Param[] = [];
    const insert = () => {
      const k = ats.length;
      if (k === 0) return;
      const { first, prevHashes } = chain.linkKeyRecords(fixed, ats, subjects, kcvs);
      const { actor, operator } = who;
      for (let i = 0; i < k; i++) {
        rows.push(
          first + i,
          ats[i],
          actor,
          event,
          subjects[i],
          keyId,
          kcvs[i],
          operator,
          prevHashes[i],
        );
      }
      this.#x.st(auditInsert(k)).run(...rows);
      rows.length = 0;
      ats.length = 0;
      subjects.length = 0;
      kcvs.length = 0;
    };
    return {
      add(at: string, subject: string, kcv: string) {
        ats.push(at);
        subjects.push(subject);
        kcvs.push(kcv);
        if (ats.length === AUDIT_ROWS) insert();
      },
      flush: insert,
    };
  }

  async insertTerminals(
    _x: Exec,
    orderId: string,
    at: string,
    tks: Iterable<ImportedTk> | AsyncIterable<ImportedTk>,
    who: KeyAuditWho | undefined,
  ): Promise<number> {
    let n = 0;
    const exists = this.#x.st("SELECT 1 FROM terminals WHERE sn = ?");
    const insert = this.#x.st(
      `INSERT INTO terminals (sn, order_id, state, tk_block, tk_hash, tk_kcv, created_at, updated_at)
       VALUES (?, ?, 'tk_received', ?, ?, ?, ?, ?)`,
    );
    const audit = who === undefined ? null : await this.#keyAudit(who, "tk_imported", "TK");
    for await (const t of tks) {
      checkImportedTk(n, t);
      if (exists.get(t.sn)) {
        throw new StoreError("conflict", `serial number ${t.sn} is already known to KMS`);
      }
      insert.run(t.sn, orderId, t.tkBlock, t.tkHash, t.tkKcv, at, at);
      audit?.add(at, t.sn, t.tkKcv);
      n++;
    }
    audit?.flush();
    return n;
  }

  stageTks(uploadId: string, firstSeq: number, tks: readonly ImportedTk[], at: string) {
    return this.atomic(`upload ${uploadId}`, () => {
      const insert = this.#x.st(
        `INSERT INTO tk_staging (upload_id, seq, sn, tk_block, tk_kcv, tk_hash, staged_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (upload_id, sn) DO NOTHING`,
      );
      for (const [i, t] of tks.entries()) {
        const r = insert.run(uploadId, firstSeq + i, t.sn, t.tkBlock, t.tkKcv, t.tkHash, at);
        if (Number(r.changes) === 0) return i;
      }
      return -1;
    });
  }

  issueTmks(issues: readonly TmkIssue[], who: KeyAuditWho | undefined): Promise<number> {
    return this.atomic("bulk TMK issuance", async () => {
      const audit = who === undefined ? null : await this.#keyAudit(who, "tmk_issued", "TMK");
      // The first issue of an SN counts, as if applied one by one.
      const seen = new Set<string>();
      const chunk: TmkIssue[] = [];
      const ats: string[] = [];
      const params: Param[] = [];
      let n = 0;
      const update = () => {
        const k = chunk.length;
        if (k === 0) return;
        for (let i = 0; i < k; i++) {
          const t = chunk[i];
          params.push(t.sn, t.tmkBlock, t.tmkUnderTk, t.tmkKcv, ats[i]);
        }
        const changed = new Set<unknown>();
        for (const r of this.#x.st(issueUpdate(k)).all(...params) as Row[]) changed.add(r.sn);
        // Audited in the page's order, each TMK this call stored.
        for (let i = 0; i < k; i++) {
          if (!changed.has(chunk[i].sn)) continue;
          audit?.add(ats[i], chunk[i].sn, chunk[i].tmkKcv);
          n++;
        }
        chunk.length = 0;
        ats.length = 0;
        params.length = 0;
      };
      // A page's TMKs share one time: its text is made once.
      let when: Date | undefined;
      let at = "";
      for (const t of issues) {
        if (seen.has(t.sn)) continue;
        seen.add(t.sn);
        if (t.issuedAt !== when) {
          when = t.issuedAt;
          at = when.toISOString();
        }
        chunk.push(t);
        ats.push(at);
        if (chunk.length === ISSUE_ROWS) update();
      }
      update();
      audit?.flush();
      return n;
    });
  }

  /** Raw SQL, uncached; see {@link SqliteStore._unsafeSql}. */
  unsafe(sql: string, args: Param[]): Promise<Row[]> {
    return this.one(
      "raw SQL",
      () => Promise.resolve(this.#conn.db.prepare(sql).all(...args) as Row[]),
    );
  }

  /** Applies the migrations not yet applied, each in its own transaction. */
  async migrate(migrations: readonly Migration[]): Promise<void> {
    checkMigrationOrder(migrations);
    const db = this.#conn.db;
    await this.retry(
      () =>
        db.exec(
          "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT",
        ),
      "schema_version",
    );
    const version = () =>
      Number(
        (db.prepare("SELECT coalesce(max(version), 0) AS v FROM schema_version").get() as Row).v,
      );
    for (const m of migrations) {
      await this.atomic(`migration ${m.version}`, () => {
        if (version() >= m.version) return;
        try {
          db.exec(m.sql);
        } catch (e) {
          throw migrationFailed(m, e);
        }
        db.prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")
          .run(m.version, m.description, new Date().toISOString());
      });
    }
    checkNotNewer(version(), migrations);
  }
}

/** The SQLite implementation of the store. Get one from {@link openSqliteStore}. */
export class SqliteStore extends CheckedStore {
  readonly #sqlite: SqliteBackend;

  /** @internal use {@link openSqliteStore}. */
  constructor(backend: SqliteBackend) {
    super(backend);
    this.#sqlite = backend;
  }

  /** The database file path (or ":memory:"). */
  get path(): string {
    return this.#sqlite.path;
  }

  /**
   * Runs raw SQL on the connection; for tests and maintenance tools only (it
   * bypasses every check; the audit triggers still apply).
   *
   * @param sql one statement.
   * @param args its parameters.
   * @returns the rows, for a query.
   */
  _unsafeSql(sql: string, ...args: Param[]): Promise<Row[]> {
    return this.#sqlite.unsafe(sql, args);
  }
}

/**
 * Opens (creating if needed) a SQLite store and brings its schema up to date.
 *
 * @param path a file path, or `":memory:"` (a private database, for tests).
 * @param options busy timeout and migrations.
 * @returns the store.
 * @throws {TypeError} if `path` is not a string.
 * @throws {StoreError} `schema` if the database is newer than this code or a migration fails.
 */
export async function openSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): Promise<SqliteStore> {
  checkText("path", path, 4096);
  const busyTimeoutMs = options.busyTimeoutMs ?? 10000;
  checkInt("options.busyTimeoutMs", busyTimeoutMs, 0, 3_600_000);
  const db = new DatabaseSync(path);
  const conn: Conn = {
    db,
    path,
    statements: new Map(),
    lock: new Mutex(),
    closed: false,
    busyTimeoutMs,
    savepoints: 0,
  };
  const backend = new SqliteBackend(conn, null);
  try {
    db.exec("PRAGMA busy_timeout = 0");
    if (path !== ":memory:") {
      await backend.retry(() => db.exec("PRAGMA journal_mode = WAL"), "journal mode");
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    }
    db.exec("PRAGMA foreign_keys = ON");
    await backend.migrate(options.migrations ?? SQLITE_MIGRATIONS);
  } catch (e) {
    db.close();
    conn.closed = true;
    throw e;
  }
  return new SqliteStore(backend);
}
