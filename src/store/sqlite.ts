/**
 * The embedded store on SQLite (`node:sqlite`, `DatabaseSync`: works in Deno
 * without flags). A file path (WAL journal, so readers never wait for the
 * writer and a killed process loses no committed transaction) or
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
 * {@link WAL_CHECKPOINT_PAGES} pages (about 40 MB) rather than SQLite's 4 MB:
 * fewer fsyncs during bulk issuance; what a power loss can take back is what
 * the kernel has not yet written of that WAL (it writes dirty pages within
 * about 30 s on its own). The issuance's key audit records go in the same
 * transactions, so they share this durability with their keys.
 *
 * Concurrency: calls on one store are serialized by an async lock, so a
 * {@link Store.transaction} that awaits in between is never interleaved with
 * other calls on the same connection. Between connections (two stores on
 * one file, or several processes), every write transaction starts with
 * `BEGIN IMMEDIATE`; a locked database is retried asynchronously (the event
 * loop keeps running) until `busyTimeoutMs`, then `StoreError("busy")`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  checkDate,
  checkHash,
  checkHex,
  checkId,
  checkImportedTk,
  checkInt,
  checkKcv,
  checkKeyBlock,
  checkObject,
  checkOneOf,
  checkPage,
  checkStageTks,
  checkString,
  checkText,
  checkTmkIssue,
} from "./_check.ts";
import type { Store } from "./api.ts";
import { StoreError } from "./errors.ts";
import type { Migration } from "./migration.ts";
import { SQLITE_MIGRATIONS } from "./sqlite_schema.ts";
import type {
  AuditInput,
  AuditQuery,
  AuditRecord,
  AuthFailureResult,
  Challenge,
  ChallengeInput,
  CollectedTk,
  CollectedTkInput,
  ConsumeResult,
  HsmKeyInput,
  ImportedTk,
  IssueTmksOptions,
  Order,
  OrderState,
  PageOptions,
  StagedTk,
  Terminal,
  TerminalCounts,
  TerminalFilter,
  TkBatch,
  TkBatchInput,
  TkBatchResult,
  TkToIssue,
  TmkIssue,
  TransportKeyInput,
} from "./types.ts";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** How long to keep retrying a database locked by another connection, in ms (default 10000). */
  busyTimeoutMs?: number;
  /** The migrations to apply (default {@link SQLITE_MIGRATIONS}); for tests of the migrator. */
  migrations?: readonly Migration[];
}

const ORDER_STATES: readonly OrderState[] = ["collecting", "transferred", "imported"];
const FILTERS: readonly TerminalFilter[] = ["all", "without_tmk", "with_tmk"];
const MAX_CERT = 16384;
const MAX_PUBLIC_KEY = 4096;
const NONCE = /^[A-Za-z0-9+/=_.:-]{1,256}$/;
/**
 * WAL pages between automatic checkpoints (SQLite's default is 1000, 4 MB at
 * 4 KiB pages). Bulk issuance writes about 1 KB of WAL per terminal with its
 * audit record; checkpointing every 40 MB instead of 4 MB made the issuance
 * store path 12-30% faster in wall time (4 of 4 runs, same CPU time), with
 * fewer fsyncs.
 */
const WAL_CHECKPOINT_PAGES = 10000;
/** Audit records per INSERT statement of a bulk write (6 parameters each). */
const AUDIT_ROWS = 100;

type Row = Record<string, unknown>;

/** Every table of the schema and its key, for {@link SqliteStore.stateHash}. */
const HASHED_TABLES: readonly [string, string][] = [
  ["schema_version", "version"],
  ["orders", "order_id"],
  ["collected_tks", "sn"],
  ["tk_batches", "order_id"],
  ["terminals", "sn"],
  ["tk_staging", "upload_id, seq"],
  ["challenges", "id"],
  ["nonces", "scope, nonce"],
  ["audit_log", "id"],
];

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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Maps a SQLite error to a {@link StoreError} where it is a refusal, else returns it unchanged. */
function mapError(e: unknown, what: string): unknown {
  if (e instanceof StoreError || !(e instanceof Error)) return e;
  const m = e.message;
  if (/append-only/.test(m)) return new StoreError("append_only", m);
  if (/UNIQUE constraint failed|PRIMARY KEY/.test(m)) {
    return new StoreError("duplicate", `${what}: already exists (${m})`);
  }
  if (/FOREIGN KEY constraint failed/.test(m)) {
    return new StoreError("not_found", `${what}: refers to a row that does not exist`);
  }
  if (isBusy(e)) return new StoreError("busy", `${what}: database is locked by another connection`);
  return e;
}

const iso = (d: Date) => d.toISOString();
const str = (v: unknown) => v as string;
const strOrNull = (v: unknown) => (v ?? null) as string | null;

function toOrder(r: Row): Order {
  return {
    orderId: str(r.order_id),
    state: str(r.state) as OrderState,
    createdAt: str(r.created_at),
    terminals: Number(r.terminals),
  };
}

function toCollected(r: Row): CollectedTk {
  return {
    orderId: str(r.order_id),
    sn: str(r.sn),
    tkBlock: strOrNull(r.tk_block),
    tkKcv: strOrNull(r.tk_kcv),
    tkHash: strOrNull(r.tk_hash),
    mac: strOrNull(r.mac),
    uploadedAt: strOrNull(r.uploaded_at),
  };
}

function toTerminal(r: Row): Terminal {
  return {
    sn: str(r.sn),
    orderId: strOrNull(r.order_id),
    state: str(r.state) as Terminal["state"],
    tkBlock: strOrNull(r.tk_block),
    tkHash: strOrNull(r.tk_hash),
    tkKcv: strOrNull(r.tk_kcv),
    tmkBlock: strOrNull(r.tmk_block),
    tmkUnderTk: strOrNull(r.tmk_under_tk),
    tmkKcv: strOrNull(r.tmk_kcv),
    tmkIssuedAt: strOrNull(r.tmk_issued_at),
    tmkSentAt: strOrNull(r.tmk_sent_at),
    deliveredAt: strOrNull(r.delivered_at),
    puHsmCert: strOrNull(r.pu_hsm_cert),
    prHsmBlock: strOrNull(r.pr_hsm_block),
    aukBlock: strOrNull(r.auk_block),
    puTek: strOrNull(r.pu_tek),
    authFailures: Number(r.auth_failures),
    lockedAt: strOrNull(r.locked_at),
    sessionExpiresAt: strOrNull(r.session_expires_at),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

function toChallenge(r: Row): Challenge {
  return {
    id: str(r.id),
    sn: str(r.sn),
    rnd: str(r.rnd),
    createdAt: str(r.created_at),
    expiresAt: str(r.expires_at),
    usedAt: strOrNull(r.used_at),
  };
}

function toAudit(r: Row): AuditRecord {
  return {
    id: Number(r.id),
    at: str(r.at),
    actor: str(r.actor),
    event: str(r.event),
    subject: strOrNull(r.subject),
    keyId: strOrNull(r.key_id),
    kcv: strOrNull(r.kcv),
    outcome: str(r.outcome) as AuditRecord["outcome"],
    detail: strOrNull(r.detail),
  };
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
  const migrations = options.migrations ?? SQLITE_MIGRATIONS;
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
  const store = new SqliteStore(conn, null);
  try {
    db.exec("PRAGMA busy_timeout = 0");
    if (path !== ":memory:") {
      await store._retry(() => db.exec("PRAGMA journal_mode = WAL"), "journal mode");
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    }
    db.exec("PRAGMA foreign_keys = ON");
    await migrate(store, conn, migrations);
  } catch (e) {
    db.close();
    conn.closed = true;
    throw e;
  }
  return store;
}

async function migrate(store: SqliteStore, conn: Conn, migrations: readonly Migration[]) {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError("schema", `migration ${i} must have version ${i + 1}, has ${m.version}`);
    }
  });
  await store._retry(
    () =>
      conn.db.exec(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT",
      ),
    "schema_version",
  );
  for (const m of migrations) {
    await store._atomic(() => {
      const current = currentVersion(conn);
      if (current >= m.version) return;
      try {
        conn.db.exec(m.sql);
      } catch (e) {
        throw new StoreError(
          "schema",
          `migration ${m.version} (${m.description}) failed: ${(e as Error).message}`,
        );
      }
      conn.db.prepare(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
      ).run(m.version, m.description, iso(new Date()));
    }, `migration ${m.version}`);
  }
  const v = currentVersion(conn);
  if (v > migrations.length) {
    throw new StoreError(
      "schema",
      `database schema version ${v} is newer than this code (knows ${migrations.length})`,
    );
  }
}

function currentVersion(conn: Conn): number {
  const r = conn.db.prepare("SELECT coalesce(max(version), 0) AS v FROM schema_version")
    .get() as Row;
  return Number(r.v);
}

/** The SQLite implementation of {@link Store}. Get one from {@link openSqliteStore}. */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly #conn: Conn;
  /** For a transaction view: whether its transaction is still open; null for the store itself. */
  readonly #tx: { active: boolean } | null;

  /** @internal use {@link openSqliteStore}. */
  constructor(conn: Conn, tx: { active: boolean } | null) {
    this.#conn = conn;
    this.#tx = tx;
  }

  /** The database file path (or ":memory:"). */
  get path(): string {
    return this.#conn.path;
  }

  #alive(): void {
    if (this.#conn.closed) throw new StoreError("closed", "the store is closed");
    if (this.#tx && !this.#tx.active) {
      throw new StoreError("closed", "this transaction has ended; use the store, not the old tx");
    }
  }

  #st(sql: string): StatementSync {
    let s = this.#conn.statements.get(sql);
    if (!s) {
      s = this.#conn.db.prepare(sql);
      this.#conn.statements.set(sql, s);
    }
    return s;
  }

  #get(sql: string, ...args: (string | number | null)[]): Row | undefined {
    return this.#st(sql).get(...args) as Row | undefined;
  }

  #all(sql: string, ...args: (string | number | null)[]): Row[] {
    return this.#st(sql).all(...args) as Row[];
  }

  #run(sql: string, ...args: (string | number | null)[]): number {
    return Number(this.#st(sql).run(...args).changes);
  }

  /** @internal retries `fn` while the database is locked by another connection. */
  async _retry<T>(fn: () => T, what: string): Promise<T> {
    const deadline = Date.now() + this.#conn.busyTimeoutMs;
    let wait = 1;
    for (;;) {
      try {
        return fn();
      } catch (e) {
        if (!isBusy(e) || Date.now() >= deadline) throw mapError(e, what);
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 50);
    }
  }

  /** One statement (autocommit outside a transaction). */
  async #one<T>(what: string, fn: () => T): Promise<T> {
    this.#alive();
    if (this.#tx) {
      try {
        return fn();
      } catch (e) {
        throw mapError(e, what);
      }
    }
    const release = await this.#conn.lock.acquire();
    try {
      this.#alive();
      return await this._retry(fn, what);
    } finally {
      release();
    }
  }

  /**
   * @internal runs `fn` atomically: its own `BEGIN IMMEDIATE` transaction, or
   * a savepoint inside a transaction view.
   */
  async _atomic<T>(fn: () => T | Promise<T>, what: string): Promise<T> {
    this.#alive();
    const db = this.#conn.db;
    if (this.#tx) {
      const name = `sp${++this.#conn.savepoints}`;
      db.exec(`SAVEPOINT ${name}`);
      try {
        const r = await fn();
        db.exec(`RELEASE ${name}`);
        return r;
      } catch (e) {
        db.exec(`ROLLBACK TO ${name}`);
        db.exec(`RELEASE ${name}`);
        throw mapError(e, what);
      } finally {
        this.#conn.savepoints--;
      }
    }
    const release = await this.#conn.lock.acquire();
    try {
      this.#alive();
      await this._retry(() => db.exec("BEGIN IMMEDIATE"), what);
      try {
        const r = await fn();
        db.exec("COMMIT");
        return r;
      } catch (e) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw mapError(e, what);
      }
    } finally {
      release();
    }
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (typeof fn !== "function") {
      throw new TypeError(`fn must be a function, got ${typeof fn}`);
    }
    if (this.#tx) return await this._atomic(() => fn(this), "transaction");
    const state = { active: true };
    const view = new SqliteStore(this.#conn, state);
    try {
      return await this._atomic(() => fn(view), "transaction");
    } finally {
      state.active = false;
    }
  }

  schemaVersion(): Promise<number> {
    return this.#one("schema version", () => currentVersion(this.#conn));
  }

  stateHash(): Promise<string> {
    return this.#one("state hash", () => {
      const h = createHash("sha256");
      for (const [table, key] of HASHED_TABLES) {
        h.update(`\u0000${table}\u0000`);
        for (const row of this.#st(`SELECT * FROM ${table} ORDER BY ${key}`).iterate()) {
          h.update(JSON.stringify(Object.values(row as Row)));
          h.update("\n");
        }
      }
      return h.digest("hex").toUpperCase();
    });
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

  // ---- orders ----

  createOrder(
    order: {
      orderId: string;
      state: OrderState;
      createdAt: Date;
      serialNumbers?: Iterable<string>;
    },
  ): Promise<Order> {
    checkObject("order", order);
    checkId("order.orderId", order.orderId);
    checkOneOf("order.state", order.state, ORDER_STATES);
    checkDate("order.createdAt", order.createdAt);
    const sns = order.serialNumbers;
    if (sns !== undefined && (sns === null || typeof sns[Symbol.iterator] !== "function")) {
      throw new TypeError("order.serialNumbers must be an iterable of strings");
    }
    const { orderId, state } = order;
    const createdAt = iso(order.createdAt);
    return this._atomic(() => {
      if (this.#get("SELECT 1 FROM orders WHERE order_id = ?", orderId)) {
        throw new StoreError("duplicate", `order ${orderId} already exists`);
      }
      this.#run(
        "INSERT INTO orders (order_id, state, terminals, created_at) VALUES (?, ?, 0, ?)",
        orderId,
        state,
        createdAt,
      );
      let n = 0;
      for (const sn of sns ?? []) {
        checkId(`order.serialNumbers[${n}]`, sn);
        const other = this.#get("SELECT order_id FROM collected_tks WHERE sn = ?", sn);
        if (other) {
          throw new StoreError(
            "duplicate",
            `serial number ${sn} is already in order ${str(other.order_id)}`,
          );
        }
        this.#run("INSERT INTO collected_tks (sn, order_id) VALUES (?, ?)", sn, orderId);
        n++;
      }
      this.#run("UPDATE orders SET terminals = ? WHERE order_id = ?", n, orderId);
      return { orderId, state, createdAt, terminals: n };
    }, `order ${orderId}`);
  }

  getOrder(orderId: string): Promise<Order | null> {
    checkId("orderId", orderId);
    return this.#one("order", () => {
      const r = this.#get("SELECT * FROM orders WHERE order_id = ?", orderId);
      return r ? toOrder(r) : null;
    });
  }

  setOrderState(orderId: string, from: OrderState, to: OrderState): Promise<boolean> {
    checkId("orderId", orderId);
    checkOneOf("from", from, ORDER_STATES);
    checkOneOf("to", to, ORDER_STATES);
    return this.#one(`order ${orderId}`, () => {
      const n = this.#run(
        "UPDATE orders SET state = ? WHERE order_id = ? AND state = ?",
        to,
        orderId,
        from,
      );
      if (n === 0 && !this.#get("SELECT 1 FROM orders WHERE order_id = ?", orderId)) {
        throw new StoreError("not_found", `order ${orderId} does not exist`);
      }
      return n === 1;
    });
  }

  // ---- MTMS ----

  putCollectedTk(tk: CollectedTkInput): Promise<"stored" | "same"> {
    checkObject("tk", tk);
    checkId("tk.orderId", tk.orderId);
    checkId("tk.sn", tk.sn);
    checkKeyBlock("tk.tkBlock", tk.tkBlock);
    checkKcv("tk.tkKcv", tk.tkKcv);
    checkHash("tk.tkHash", tk.tkHash);
    if (tk.mac !== undefined && tk.mac !== null) checkHex("tk.mac", tk.mac, 8, 64);
    checkDate("tk.uploadedAt", tk.uploadedAt);
    const { orderId, sn } = tk;
    return this.#one(`TK of ${sn}`, () => {
      const n = this.#run(
        `UPDATE collected_tks SET tk_block = ?, tk_kcv = ?, tk_hash = ?, mac = ?, uploaded_at = ?
         WHERE sn = ? AND order_id = ? AND tk_block IS NULL
           AND (SELECT state FROM orders WHERE order_id = ?) = 'collecting'`,
        tk.tkBlock,
        tk.tkKcv,
        tk.tkHash,
        tk.mac ?? null,
        iso(tk.uploadedAt),
        sn,
        orderId,
        orderId,
      );
      if (n === 1) return "stored";
      const row = this.#get(
        "SELECT c.order_id, c.tk_hash, o.state FROM collected_tks c JOIN orders o USING (order_id) WHERE c.sn = ?",
        sn,
      );
      if (!row || row.order_id !== orderId) {
        throw new StoreError("not_found", `serial number ${sn} is not in order ${orderId}`);
      }
      if (row.tk_hash === tk.tkHash) return "same";
      if (row.tk_hash !== null) {
        throw new StoreError("conflict", `a different TK is already stored for ${sn}`);
      }
      throw new StoreError(
        "conflict",
        `order ${orderId} is ${str(row.state)}: it no longer accepts TKs`,
      );
    });
  }

  getCollectedTk(sn: string): Promise<CollectedTk | null> {
    checkId("sn", sn);
    return this.#one("collected TK", () => {
      const r = this.#get("SELECT * FROM collected_tks WHERE sn = ?", sn);
      return r ? toCollected(r) : null;
    });
  }

  countCollected(orderId: string): Promise<{ terminals: number; collected: number }> {
    checkId("orderId", orderId);
    return this.#one(`order ${orderId}`, () => {
      if (!this.#get("SELECT 1 FROM orders WHERE order_id = ?", orderId)) {
        throw new StoreError("not_found", `order ${orderId} does not exist`);
      }
      const r = this.#get(
        "SELECT count(*) AS t, count(tk_block) AS c FROM collected_tks WHERE order_id = ?",
        orderId,
      )!;
      return { terminals: Number(r.t), collected: Number(r.c) };
    });
  }

  listCollectedTks(orderId: string, page: PageOptions): Promise<CollectedTk[]> {
    checkId("orderId", orderId);
    const { after, limit } = checkPage(page);
    return this.#one(`order ${orderId}`, () =>
      this.#all(
        `SELECT * FROM collected_tks WHERE order_id = ? AND sn > ? AND tk_block IS NOT NULL
         ORDER BY sn LIMIT ?`,
        orderId,
        after,
        limit,
      ).map(toCollected));
  }

  // ---- KMS: batches and terminals ----

  importTkBatch(batch: TkBatchInput): Promise<TkBatchResult> {
    checkObject("batch", batch);
    checkId("batch.orderId", batch.orderId);
    checkHash("batch.bodyHash", batch.bodyHash);
    checkDate("batch.receivedAt", batch.receivedAt);
    const tks = batch.tks as unknown;
    if (
      tks === null || typeof tks !== "object" ||
      (typeof (tks as Iterable<unknown>)[Symbol.iterator] !== "function" &&
        typeof (tks as AsyncIterable<unknown>)[Symbol.asyncIterator] !== "function")
    ) {
      throw new TypeError("batch.tks must be an iterable or async iterable of TKs");
    }
    const actor = batch.auditActor;
    if (actor !== undefined) checkText("batch.auditActor", actor, 200);
    const { orderId, bodyHash } = batch;
    const at = iso(batch.receivedAt);
    return this._atomic(async () => {
      const prior = this.#get("SELECT * FROM tk_batches WHERE order_id = ?", orderId);
      if (prior) {
        if (prior.body_hash === bodyHash) return { duplicate: true, tks: Number(prior.tks) };
        throw new StoreError(
          "conflict",
          `order ${orderId} already has a different TK batch (received ${str(prior.received_at)})`,
        );
      }
      if (this.#get("SELECT 1 FROM orders WHERE order_id = ?", orderId)) {
        throw new StoreError("conflict", `order ${orderId} already exists without a batch`);
      }
      this.#run(
        "INSERT INTO orders (order_id, state, terminals, created_at) VALUES (?, 'imported', 0, ?)",
        orderId,
        at,
      );
      let n = 0;
      const exists = this.#st("SELECT 1 FROM terminals WHERE sn = ?");
      const insert = this.#st(
        `INSERT INTO terminals (sn, order_id, state, tk_block, tk_hash, tk_kcv, created_at, updated_at)
         VALUES (?, ?, 'tk_received', ?, ?, ?, ?, ?)`,
      );
      const audit = actor === undefined ? null : this.#keyAudit(actor, "tk_imported", "TK");
      for await (const t of tks as AsyncIterable<ImportedTk>) {
        checkImportedTk(n, t);
        if (exists.get(t.sn)) {
          throw new StoreError("conflict", `serial number ${t.sn} is already known to KMS`);
        }
        insert.run(t.sn, orderId, t.tkBlock, t.tkHash, t.tkKcv, at, at);
        audit?.add(at, t.sn, t.tkKcv);
        n++;
      }
      audit?.flush();
      if (n === 0) throw new RangeError("batch.tks must hold at least one TK, got none");
      this.#run(
        "INSERT INTO tk_batches (order_id, body_hash, tks, received_at) VALUES (?, ?, ?, ?)",
        orderId,
        bodyHash,
        n,
        at,
      );
      this.#run("UPDATE orders SET terminals = ? WHERE order_id = ?", n, orderId);
      return { duplicate: false, tks: n };
    }, `batch of order ${orderId}`);
  }

  getTkBatch(orderId: string): Promise<TkBatch | null> {
    checkId("orderId", orderId);
    return this.#one("batch", () => {
      const r = this.#get("SELECT * FROM tk_batches WHERE order_id = ?", orderId);
      return r
        ? {
          orderId: str(r.order_id),
          bodyHash: str(r.body_hash),
          tks: Number(r.tks),
          receivedAt: str(r.received_at),
        }
        : null;
    });
  }

  stageTks(
    uploadId: string,
    firstSeq: number,
    tks: readonly ImportedTk[],
    at: Date,
  ): Promise<number> {
    checkStageTks(uploadId, firstSeq, tks, at);
    const when = iso(at);
    return this._atomic(() => {
      const insert = this.#st(
        `INSERT INTO tk_staging (upload_id, seq, sn, tk_block, tk_kcv, tk_hash, staged_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (upload_id, sn) DO NOTHING`,
      );
      for (const [i, t] of tks.entries()) {
        const r = insert.run(uploadId, firstSeq + i, t.sn, t.tkBlock, t.tkKcv, t.tkHash, when);
        if (Number(r.changes) === 0) return i;
      }
      return -1;
    }, `upload ${uploadId}`);
  }

  listStagedTks(uploadId: string, page: { after: number; limit: number }): Promise<StagedTk[]> {
    checkId("uploadId", uploadId);
    checkObject("page", page);
    checkInt("page.after", page.after, -1, 2 ** 31 - 1);
    checkInt("page.limit", page.limit, 1, 10000);
    return this.#one(`upload ${uploadId}`, () =>
      this.#all(
        "SELECT * FROM tk_staging WHERE upload_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        uploadId,
        page.after,
        page.limit,
      ).map((r) => ({
        seq: Number(r.seq),
        sn: str(r.sn),
        tkBlock: str(r.tk_block),
        tkKcv: str(r.tk_kcv),
        tkHash: str(r.tk_hash),
      })));
  }

  dropStaged(uploadId: string): Promise<number> {
    checkId("uploadId", uploadId);
    return this._atomic(
      () => this.#run("DELETE FROM tk_staging WHERE upload_id = ?", uploadId),
      `upload ${uploadId}`,
    );
  }

  purgeStaged(idleBefore: Date): Promise<number> {
    checkDate("idleBefore", idleBefore);
    return this._atomic(
      () =>
        this.#run(
          `DELETE FROM tk_staging WHERE upload_id IN
           (SELECT upload_id FROM tk_staging GROUP BY upload_id HAVING max(staged_at) < ?)`,
          iso(idleBefore),
        ),
      "staged uploads",
    );
  }

  registerTerminal(sn: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("at", at);
    return this.#one(`terminal ${sn}`, () =>
      this.#run(
        `INSERT INTO terminals (sn, state, created_at, updated_at) VALUES (?, 'registered', ?, ?)
         ON CONFLICT (sn) DO NOTHING`,
        sn,
        iso(at),
        iso(at),
      ) === 1);
  }

  getTerminal(sn: string): Promise<Terminal | null> {
    checkId("sn", sn);
    return this.#one("terminal", () => {
      const r = this.#get("SELECT * FROM terminals WHERE sn = ?", sn);
      return r ? toTerminal(r) : null;
    });
  }

  listTerminals(
    orderId: string,
    page: PageOptions & { filter?: TerminalFilter },
  ): Promise<Terminal[]> {
    checkId("orderId", orderId);
    const { after, limit } = checkPage(page);
    const filter = page.filter ?? "all";
    checkOneOf("page.filter", filter, FILTERS);
    const cond = filter === "all"
      ? ""
      : filter === "without_tmk"
      ? "AND tmk_block IS NULL"
      : "AND tmk_block IS NOT NULL";
    return this.#one(`order ${orderId}`, () =>
      this.#all(
        `SELECT * FROM terminals WHERE order_id = ? AND sn > ? ${cond} ORDER BY sn LIMIT ?`,
        orderId,
        after,
        limit,
      ).map(toTerminal));
  }

  listTksToIssue(orderId: string, page: PageOptions): Promise<TkToIssue[]> {
    checkId("orderId", orderId);
    const { after, limit } = checkPage(page);
    return this.#one(`order ${orderId}`, () =>
      this.#all(
        `SELECT sn, tk_block, tk_hash FROM terminals
         WHERE order_id = ? AND sn > ? AND tmk_block IS NULL ORDER BY sn LIMIT ?`,
        orderId,
        after,
        limit,
      ).map((r) => ({
        sn: str(r.sn),
        tkBlock: strOrNull(r.tk_block),
        tkHash: strOrNull(r.tk_hash),
      })));
  }

  countTerminals(orderId: string): Promise<TerminalCounts> {
    checkId("orderId", orderId);
    return this.#one(`order ${orderId}`, () => {
      const r = this.#get(
        `SELECT count(*) AS t, count(tmk_block) AS i, count(delivered_at) AS d
         FROM terminals WHERE order_id = ?`,
        orderId,
      )!;
      return { terminals: Number(r.t), withTmk: Number(r.i), delivered: Number(r.d) };
    });
  }

  static readonly #ISSUE = `UPDATE terminals
    SET tmk_block = ?, tmk_under_tk = ?, tmk_kcv = ?, tmk_issued_at = ?, updated_at = ?,
        state = 'tmk_issued'
    WHERE sn = ? AND tmk_block IS NULL`;

  issueTmk(issue: TmkIssue): Promise<boolean> {
    checkTmkIssue("issue", issue);
    return this.#one(`TMK of ${issue.sn}`, () => {
      const at = iso(issue.issuedAt);
      const n = this.#run(
        SqliteStore.#ISSUE,
        issue.tmkBlock,
        issue.tmkUnderTk,
        issue.tmkKcv,
        at,
        at,
        issue.sn,
      );
      if (n === 0 && !this.#get("SELECT 1 FROM terminals WHERE sn = ?", issue.sn)) {
        throw new StoreError("not_found", `terminal ${issue.sn} does not exist`);
      }
      return n === 1;
    });
  }

  /**
   * Key-lifecycle audit records of a bulk write, inside its transaction:
   * `add` one per key, in order; they go to the log in multi-row INSERTs of
   * up to {@link AUDIT_ROWS} (one statement per row cost about 10% more of
   * the issuance store path). Call `flush` before the transaction ends.
   */
  #keyAudit(actor: string, event: string, keyId: string) {
    const rows: (string | null)[] = [];
    const insert = (k: number) => {
      if (k === 0) return;
      this.#st(
        `INSERT INTO audit_log (at, actor, event, subject, key_id, kcv, outcome) VALUES ${
          Array(k).fill(`(?, ?, ?, ?, ?, ?, 'success')`).join(", ")
        }`,
      ).run(...rows);
      rows.length = 0;
    };
    return {
      add(at: string, subject: string, kcv: string) {
        rows.push(at, actor, event, subject, keyId, kcv);
        if (rows.length === AUDIT_ROWS * 6) insert(AUDIT_ROWS);
      },
      flush: () => insert(rows.length / 6),
    };
  }

  issueTmks(issues: readonly TmkIssue[], options: IssueTmksOptions = {}): Promise<number> {
    if (!Array.isArray(issues)) {
      throw new TypeError("issues must be an array of TMK issues");
    }
    issues.forEach((t, i) => checkTmkIssue(`issues[${i}]`, t));
    checkObject("options", options);
    const actor = options.auditActor;
    if (actor !== undefined) checkText("options.auditActor", actor, 200);
    return this._atomic(() => {
      const st = this.#st(SqliteStore.#ISSUE);
      const audit = actor === undefined ? null : this.#keyAudit(actor, "tmk_issued", "TMK");
      let n = 0;
      for (const t of issues) {
        const at = iso(t.issuedAt);
        if (Number(st.run(t.tmkBlock, t.tmkUnderTk, t.tmkKcv, at, at, t.sn).changes) === 1) {
          audit?.add(at, t.sn, t.tmkKcv);
          n++;
        }
      }
      audit?.flush();
      return n;
    }, "bulk TMK issuance");
  }

  markTmkSent(sn: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("at", at);
    return this.#one(`terminal ${sn}`, () =>
      this.#run(
        `UPDATE terminals SET state = 'tmk_sent', tmk_sent_at = ?, updated_at = ?
         WHERE sn = ? AND tmk_block IS NOT NULL AND delivered_at IS NULL`,
        iso(at),
        iso(at),
        sn,
      ) === 1);
  }

  markDelivered(sn: string, tmkKcv: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkKcv("tmkKcv", tmkKcv);
    checkDate("at", at);
    return this.#one(`terminal ${sn}`, () =>
      this.#run(
        `UPDATE terminals SET state = 'delivered', delivered_at = ?, updated_at = ?
         WHERE sn = ? AND tmk_kcv = ? AND tmk_sent_at IS NOT NULL AND delivered_at IS NULL`,
        iso(at),
        iso(at),
        sn,
        tmkKcv,
      ) === 1);
  }

  // ---- KMS: flow B ----

  #mustExist(sn: string): void {
    if (!this.#get("SELECT 1 FROM terminals WHERE sn = ?", sn)) {
      throw new StoreError("not_found", `terminal ${sn} does not exist`);
    }
  }

  setHsmKey(sn: string, key: HsmKeyInput): Promise<boolean> {
    checkId("sn", sn);
    checkObject("key", key);
    checkText("key.puHsmCert", key.puHsmCert, MAX_CERT);
    checkKeyBlock("key.prHsmBlock", key.prHsmBlock);
    checkDate("key.at", key.at);
    if (key.replace !== undefined && typeof key.replace !== "boolean") {
      throw new TypeError(`key.replace must be a boolean, got ${typeof key.replace}`);
    }
    const at = iso(key.at);
    return this.#one(`terminal ${sn}`, () => {
      const n = key.replace
        ? this.#run(
          `UPDATE terminals SET pu_hsm_cert = ?, pr_hsm_block = ?, auk_block = NULL, pu_tek = NULL,
             tk_hash = NULL, tk_kcv = NULL, state = 'hsm_key_issued', updated_at = ?
           WHERE sn = ? AND tmk_block IS NULL AND order_id IS NULL`,
          key.puHsmCert,
          key.prHsmBlock,
          at,
          sn,
        )
        : this.#run(
          `UPDATE terminals SET pu_hsm_cert = ?, pr_hsm_block = ?, state = 'hsm_key_issued',
             updated_at = ?
           WHERE sn = ? AND pr_hsm_block IS NULL AND tmk_block IS NULL AND order_id IS NULL`,
          key.puHsmCert,
          key.prHsmBlock,
          at,
          sn,
        );
      if (n === 0) this.#mustExist(sn);
      return n === 1;
    });
  }

  setTransportKey(sn: string, tk: TransportKeyInput): Promise<boolean> {
    checkId("sn", sn);
    checkObject("tk", tk);
    checkKeyBlock("tk.aukBlock", tk.aukBlock);
    checkText("tk.puTek", tk.puTek, MAX_PUBLIC_KEY);
    checkHash("tk.tkHash", tk.tkHash);
    checkKcv("tk.tkKcv", tk.tkKcv);
    checkDate("tk.at", tk.at);
    return this.#one(`terminal ${sn}`, () => {
      const n = this.#run(
        `UPDATE terminals SET auk_block = ?, pu_tek = ?, tk_hash = ?, tk_kcv = ?,
           state = 'tk_received', updated_at = ?
         WHERE sn = ? AND pr_hsm_block IS NOT NULL AND auk_block IS NULL AND tmk_block IS NULL`,
        tk.aukBlock,
        tk.puTek,
        tk.tkHash,
        tk.tkKcv,
        iso(tk.at),
        sn,
      );
      if (n === 0) this.#mustExist(sn);
      return n === 1;
    });
  }

  recordAuthFailure(
    sn: string,
    options: { maxFailures: number; at: Date },
  ): Promise<AuthFailureResult> {
    checkId("sn", sn);
    checkObject("options", options);
    checkInt("options.maxFailures", options.maxFailures, 1, 1_000_000);
    checkDate("options.at", options.at);
    const at = iso(options.at);
    return this._atomic(() => {
      const before = this.#get("SELECT locked_at FROM terminals WHERE sn = ?", sn);
      if (!before) throw new StoreError("not_found", `terminal ${sn} does not exist`);
      const r = this.#get(
        `UPDATE terminals SET auth_failures = auth_failures + 1, session_expires_at = NULL,
           locked_at = CASE WHEN locked_at IS NULL AND auth_failures + 1 >= ? THEN ? ELSE locked_at END,
           updated_at = ?
         WHERE sn = ? RETURNING auth_failures, locked_at`,
        options.maxFailures,
        at,
        at,
        sn,
      )!;
      const locked = r.locked_at !== null;
      return {
        failures: Number(r.auth_failures),
        locked,
        lockedNow: locked && before.locked_at === null,
      };
    }, `terminal ${sn}`);
  }

  recordAuthSuccess(
    sn: string,
    options: { sessionExpiresAt: Date; at: Date },
  ): Promise<boolean> {
    checkId("sn", sn);
    checkObject("options", options);
    checkDate("options.sessionExpiresAt", options.sessionExpiresAt);
    checkDate("options.at", options.at);
    return this.#one(`terminal ${sn}`, () => {
      const n = this.#run(
        `UPDATE terminals SET auth_failures = 0, session_expires_at = ?, updated_at = ?
         WHERE sn = ? AND locked_at IS NULL`,
        iso(options.sessionExpiresAt),
        iso(options.at),
        sn,
      );
      if (n === 0) this.#mustExist(sn);
      return n === 1;
    });
  }

  consumeSession(sn: string, now: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("now", now);
    return this.#one(`terminal ${sn}`, () =>
      this.#run(
        `UPDATE terminals SET session_expires_at = NULL, updated_at = ?
         WHERE sn = ? AND session_expires_at > ? AND locked_at IS NULL`,
        iso(now),
        sn,
        iso(now),
      ) === 1);
  }

  unlockTerminal(sn: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("at", at);
    return this.#one(`terminal ${sn}`, () => {
      const n = this.#run(
        `UPDATE terminals SET locked_at = NULL, auth_failures = 0, updated_at = ?
         WHERE sn = ? AND locked_at IS NOT NULL`,
        iso(at),
        sn,
      );
      if (n === 0) this.#mustExist(sn);
      return n === 1;
    });
  }

  createChallenge(c: ChallengeInput): Promise<void> {
    checkObject("challenge", c);
    checkId("challenge.id", c.id);
    checkId("challenge.sn", c.sn);
    checkHex("challenge.rnd", c.rnd, 16, 128);
    checkDate("challenge.createdAt", c.createdAt);
    checkDate("challenge.expiresAt", c.expiresAt);
    if (c.expiresAt.getTime() <= c.createdAt.getTime()) {
      throw new RangeError("challenge.expiresAt must be after challenge.createdAt");
    }
    return this.#one(`challenge ${c.id}`, () => {
      this.#mustExist(c.sn);
      if (this.#get("SELECT 1 FROM challenges WHERE id = ?", c.id)) {
        throw new StoreError("duplicate", `challenge ${c.id} already exists`);
      }
      this.#run(
        "INSERT INTO challenges (id, sn, rnd, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        c.id,
        c.sn,
        c.rnd,
        iso(c.createdAt),
        iso(c.expiresAt),
      );
    });
  }

  consumeChallenge(id: string, sn: string, now: Date): Promise<ConsumeResult> {
    checkId("id", id);
    checkId("sn", sn);
    checkDate("now", now);
    const t = iso(now);
    return this.#one(`challenge ${id}`, (): ConsumeResult => {
      const r = this.#get(
        `UPDATE challenges SET used_at = ?
         WHERE id = ? AND sn = ? AND used_at IS NULL AND expires_at > ? RETURNING *`,
        t,
        id,
        sn,
        t,
      );
      if (r) return { ok: true, challenge: toChallenge(r) };
      const c = this.#get("SELECT * FROM challenges WHERE id = ?", id);
      if (!c) return { ok: false, reason: "not_found" };
      if (c.sn !== sn) return { ok: false, reason: "wrong_terminal" };
      if (c.used_at !== null) return { ok: false, reason: "used" };
      return { ok: false, reason: "expired" };
    });
  }

  // ---- nonces ----

  rememberNonce(scope: string, nonce: string, expiresAt: Date): Promise<boolean> {
    checkId("scope", scope);
    checkString("nonce", nonce);
    if (!NONCE.test(nonce)) {
      throw new RangeError("nonce must be 1-256 characters of A-Z a-z 0-9 + / = _ . : -");
    }
    checkDate("expiresAt", expiresAt);
    return this.#one("nonce", () =>
      this.#run(
        `INSERT INTO nonces (scope, nonce, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (scope, nonce) DO NOTHING`,
        scope,
        nonce,
        iso(expiresAt),
      ) === 1);
  }

  purgeNonces(now: Date): Promise<number> {
    checkDate("now", now);
    return this.#one(
      "nonces",
      () => this.#run("DELETE FROM nonces WHERE expires_at < ?", iso(now)),
    );
  }

  // ---- audit ----

  appendAudit(e: AuditInput): Promise<number> {
    checkObject("event", e);
    checkDate("event.at", e.at);
    checkText("event.actor", e.actor, 200);
    checkString("event.event", e.event);
    if (!/^[a-z][a-z0-9_.]{0,63}$/.test(e.event)) {
      throw new RangeError(
        `event.event must be a lowercase name of 1-64 characters a-z 0-9 _ ., got ${
          JSON.stringify(e.event.slice(0, 64))
        }`,
      );
    }
    if (e.subject != null) checkText("event.subject", e.subject, 200);
    if (e.keyId != null) checkText("event.keyId", e.keyId, 200);
    if (e.kcv != null) checkKcv("event.kcv", e.kcv);
    checkOneOf("event.outcome", e.outcome, ["success", "failure"] as const);
    if (e.detail != null) checkText("event.detail", e.detail, 500);
    return this.#one("audit", () => {
      const r = this.#get(
        `INSERT INTO audit_log (at, actor, event, subject, key_id, kcv, outcome, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        iso(e.at),
        e.actor,
        e.event,
        e.subject ?? null,
        e.keyId ?? null,
        e.kcv ?? null,
        e.outcome,
        e.detail ?? null,
      )!;
      return Number(r.id);
    });
  }

  listAudit(q: AuditQuery): Promise<AuditRecord[]> {
    checkObject("query", q);
    checkInt("query.limit", q.limit, 1, 10000);
    const afterId = q.afterId ?? 0;
    checkInt("query.afterId", afterId, 0, Number.MAX_SAFE_INTEGER);
    if (q.subject !== undefined) checkText("query.subject", q.subject, 200);
    if (q.event !== undefined) checkText("query.event", q.event, 64);
    return this.#one("audit", () =>
      this.#all(
        `SELECT * FROM audit_log WHERE id > ? AND (? IS NULL OR subject = ?)
           AND (? IS NULL OR event = ?) ORDER BY id LIMIT ?`,
        afterId,
        q.subject ?? null,
        q.subject ?? null,
        q.event ?? null,
        q.event ?? null,
        q.limit,
      ).map(toAudit));
  }

  /**
   * Runs raw SQL on the connection; for tests and maintenance tools only (it
   * bypasses every check; the audit triggers still apply).
   *
   * @param sql one statement.
   * @param args its parameters.
   * @returns the rows, for a query.
   */
  _unsafeSql(sql: string, ...args: (string | number | null)[]): Promise<Row[]> {
    return this.#one("raw SQL", () => this.#conn.db.prepare(sql).all(...args) as Row[]);
  }
}
