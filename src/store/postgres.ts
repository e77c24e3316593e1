/**
 * The PostgreSQL store, for several KMS or MTMS instances on one database
 * (scale-out): the PostgreSQL backend of the checked front
 * ({@link ./checked.ts}), on the npm `postgres` client (a connection pool;
 * every statement is prepared and cached per connection). It passes the
 * same repository suite as the SQLite store (`tests/store/store_suite.ts`).
 *
 * Semantics across instances:
 * - Every state change is one conditional statement (`UPDATE ... WHERE
 *   tmk_block IS NULL`, `... AND used_at IS NULL`) or one transaction:
 *   PostgreSQL re-checks the condition on the row a concurrent writer just
 *   committed, so of two issuers exactly one wins.
 * - Bulk issuance locks the batch's rows in SN order before updating them,
 *   so two instances issuing one order never deadlock; a deadlock or
 *   serialization failure of a replayable call is retried.
 * - A TK batch import is one transaction under an advisory lock on its
 *   order id: concurrent imports of one order serialize, the second sees
 *   the first's batch and answers `duplicate`. A process killed mid-import
 *   leaves nothing (the transaction never committed).
 * - The audit log is append-only by trigger (UPDATE, DELETE, TRUNCATE raise).
 *
 * Calls on the store itself run on pooled connections; calls inside
 * `Store.transaction` run on that transaction's connection, and the
 * outer store meanwhile sees only committed data.
 *
 * @module
 */
import postgres from "postgres";
import type { Backend, Exec, KeyAuditWho } from "./_backend.ts";
import { type ChainHead, keyAudit, pageForeseenWrong, tmkPage } from "./_pg_bulk.ts";
import { checkId, checkImportedTk, checkInt, checkString, checkText } from "./_check.ts";
import { mapError, ONE_TK_INDEXES, type Param, type Refusal, type Row, str } from "./_rows.ts";
import { CheckedStore } from "./checked.ts";
import { StoreError } from "./errors.ts";
import {
  checkMigrationOrder,
  checkNotNewer,
  type Migration,
  migrationFailed,
} from "./migration.ts";
import { POSTGRES_MIGRATIONS } from "./postgres_schema.ts";
import type { ImportedTk, TmkIssue } from "./types.ts";

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * The schema holding the tables (created if absent; default "public").
   * Lowercase letters, digits and `_`, starting with a letter or `_`.
   */
  schema?: string;
  /** Pool size: connections to the database (default 10). */
  maxConnections?: number;
  /** The migrations to apply (default {@link POSTGRES_MIGRATIONS}). */
  migrations?: readonly Migration[];
  /** Shown in `pg_stat_activity` (default "tmk-store"). */
  applicationName?: string;
}

// deno-lint-ignore no-explicit-any
type Sql = postgres.Sql<any>;
// deno-lint-ignore no-explicit-any
type Q = postgres.Sql<any> | postgres.TransactionSql<any>;

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;
/** Rows per INSERT in a streamed import (one round trip each). */
const CHUNK = 1000;
/** A batch import of at least this many TKs refreshes the planner's statistics of `terminals`. */
const ANALYZE_AFTER = 1000;
/** Attempts of a replayable call that hit a deadlock or serialization failure. */
const RETRIES = 5;

interface Shared {
  sql: Sql;
  schema: string;
  closed: boolean;
  /**
   * The audit chain's head after this process's last committed page of TMKs,
   * for the next page to link its records without reading the head; a page
   * that finds the chain grew since stores itself again, reading it.
   */
  chainHead?: ChainHead;
}

/** SQLSTATEs of a transaction that may succeed when run again. */
function isRetryable(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === "40P01" || code === "40001";
}

/** Errors of the connection itself (refused, reset, ended), not of a statement. */
function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" &&
    (/^(ECONN|EPIPE|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|CONNECT_TIMEOUT|CONNECTION_)/.test(code) ||
      code.startsWith("08") || code === "57P01" || code === "57P03");
}

/** How PostgreSQL names a refusal (SQLSTATE, or the client's connection codes). */
function refusal(e: Error): Refusal | null {
  const code = (e as { code?: unknown }).code;
  if (code === "23505") {
    const index = (e as { constraint_name?: unknown }).constraint_name;
    return ONE_TK_INDEXES.test(String(index ?? e.message)) ? "tk_reused" : "duplicate";
  }
  if (code === "23503") return "missing";
  if (isRetryable(e)) return "conflicting";
  return isConnectionError(e) ? "unreachable" : null;
}

const pgError = (e: unknown, what: string) => mapError(e, what, refusal);

/** SQL with `?` placeholders in PostgreSQL's `$1, $2, ...` form (cached). */
const dollarCache = new Map<string, string>();
function dollars(sql: string): string {
  let s = dollarCache.get(sql);
  if (s === undefined) {
    let i = 0;
    s = sql.replace(/\?/g, () => `$${++i}`);
    dollarCache.set(sql, s);
  }
  return s;
}

/** Statements on a pooled connection or a transaction's, prepared and cached per connection. */
class PgExec implements Exec {
  readonly q: Q;
  constructor(q: Q) {
    this.q = q;
  }

  #query(sql: string, args: Param[]) {
    return this.q.unsafe(dollars(sql), args, { prepare: true });
  }

  async get(sql: string, ...args: Param[]): Promise<Row | undefined> {
    return (await this.#query(sql, args))[0];
  }

  async all(sql: string, ...args: Param[]): Promise<Row[]> {
    return [...await this.#query(sql, args)];
  }

  async run(sql: string, ...args: Param[]): Promise<number> {
    return (await this.#query(sql, args)).count;
  }

  async each(sql: string, fn: (row: Row) => void): Promise<void> {
    for (const row of await this.q.unsafe(sql)) fn(row);
  }
}

/** The first of `wanted` (in order) not matched by one entry of `got` (a multiset). */
function firstMissing(wanted: readonly string[], got: readonly string[]): string {
  const left = new Map<string, number>();
  for (const g of got) left.set(g, (left.get(g) ?? 0) + 1);
  for (const w of wanted) {
    const k = left.get(w) ?? 0;
    if (k === 0) return w;
    left.set(w, k - 1);
  }
  return wanted[wanted.length - 1];
}

/** Reads `items` in chunks of {@link CHUNK}, checking each; `flush` stores a chunk. */
async function inChunks<T>(
  items: Iterable<T> | AsyncIterable<T>,
  check: (i: number, t: T) => void,
  flush: (chunk: T[]) => Promise<void>,
): Promise<number> {
  let n = 0;
  let chunk: T[] = [];
  for await (const t of items) {
    check(n, t);
    chunk.push(t);
    n++;
    if (chunk.length === CHUNK) {
      await flush(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await flush(chunk);
  return n;
}

/** The PostgreSQL backend: a connection pool, transactions, savepoints, deadlock retries. */
class PgBackend implements Backend {
  readonly kind = "postgres";
  readonly lockRow = " FOR UPDATE";
  readonly auditInsert = " OVERRIDING SYSTEM VALUE";
  readonly hexParam = "decode(?, 'hex')";
  readonly #shared: Shared;
  readonly #q: Q;
  readonly #x: PgExec;
  /** For a transaction view: whether its transaction is still open; null for the store itself. */
  readonly #tx: { active: boolean } | null;

  constructor(shared: Shared, q: Q, tx: { active: boolean } | null) {
    this.#shared = shared;
    this.#q = q;
    this.#x = new PgExec(q);
    this.#tx = tx;
  }

  get schema(): string {
    return this.#shared.schema;
  }

  #alive(): void {
    if (this.#shared.closed) throw new StoreError("closed", "the store is closed");
    if (this.#tx && !this.#tx.active) {
      throw new StoreError("closed", "this transaction has ended; use the store, not the old tx");
    }
  }

  /** Runs `fn` with retries of deadlocks (only outside a transaction), mapping errors. */
  async #run<T>(what: string, fn: () => Promise<T>, replayable: boolean): Promise<T> {
    this.#alive();
    for (let attempt = 1;; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (
          replayable && this.#tx === null && isRetryable(e) && attempt < RETRIES &&
          !this.#shared.closed
        ) {
          await new Promise((r) => setTimeout(r, 2 * attempt + Math.random() * 10));
          continue;
        }
        if (this.#shared.closed && !(e instanceof StoreError)) {
          throw new StoreError("closed", "the store is closed");
        }
        throw pgError(e, what);
      }
    }
  }

  one<T>(what: string, fn: (x: Exec) => Promise<T>): Promise<T> {
    return this.#run(what, () => fn(this.#x), true);
  }

  atomic<T>(what: string, fn: (x: PgExec) => Promise<T>, replayable = true): Promise<T> {
    // Boxed so postgres.js does not treat an array result as queries to await.
    const body = async (q: postgres.TransactionSql) => [await fn(new PgExec(q))];
    return this.#run(what, async () => {
      const r = this.#tx
        ? await (this.#q as postgres.TransactionSql).savepoint(body)
        : await this.#shared.sql.begin(body);
      return (r as unknown as [T])[0];
    }, replayable);
  }

  async transaction<T>(body: (view: Backend) => Promise<T>): Promise<T> {
    this.#alive();
    const run = async (q: postgres.TransactionSql) => {
      const state = { active: true };
      try {
        return [await body(new PgBackend(this.#shared, q, state))];
      } finally {
        state.active = false;
      }
    };
    try {
      const r = this.#tx
        ? await (this.#q as postgres.TransactionSql).savepoint(run)
        : await this.#shared.sql.begin(run);
      return (r as unknown as [T])[0];
    } catch (e) {
      throw pgError(e, "transaction");
    }
  }

  async close(): Promise<void> {
    if (this.#tx) throw new TypeError("close the store, not a transaction");
    if (this.#shared.closed) return;
    this.#shared.closed = true;
    await this.#shared.sql.end({ timeout: 5 });
  }

  async lockKey(x: PgExec, key: string): Promise<void> {
    await x.q`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
  }

  addSerials(x: PgExec, orderId: string, sns: Iterable<string>): Promise<number> {
    const q = x.q;
    return inChunks(sns, (i, sn) => checkId(`order.serialNumbers[${i}]`, sn), async (chunk) => {
      const got = await q`INSERT INTO collected_tks (sn, order_id)
        SELECT s, ${orderId} FROM unnest(${chunk}::text[]) AS s
        ON CONFLICT (sn) DO NOTHING RETURNING sn`;
      if (got.length !== chunk.length) {
        const sn = firstMissing(chunk, got.map((r) => str(r.sn)));
        const other = await q`SELECT order_id FROM collected_tks WHERE sn = ${sn}`;
        throw new StoreError(
          "duplicate",
          `serial number ${sn} is already in order ${str(other[0]?.order_id ?? orderId)}`,
        );
      }
    });
  }

  async insertTerminals(
    x: PgExec,
    orderId: string,
    at: string,
    tks: Iterable<ImportedTk> | AsyncIterable<ImportedTk>,
    who: KeyAuditWho | undefined,
  ): Promise<number> {
    const q = x.q;
    const when = new Date(at);
    const audit = who === undefined ? null : await keyAudit(x, this, who, "tk_imported", "TK");
    const n = await inChunks(tks, checkImportedTk, async (chunk) => {
      const sns = chunk.map((t) => t.sn);
      const blocks = chunk.map((t) => t.tkBlock);
      const hashes = chunk.map((t) => t.tkHash);
      const kcvs = chunk.map((t) => t.tkKcv);
      const got = await q`INSERT INTO terminals
          (sn, order_id, state, tk_block, tk_hash, tk_kcv, created_at, updated_at)
        SELECT v.sn, ${orderId}, 'tk_received', v.b, v.h, v.k, ${when}, ${when}
        FROM unnest(${sns}::text[], ${blocks}::text[], ${hashes}::text[], ${kcvs}::text[])
             AS v(sn, b, h, k)
        ON CONFLICT (sn) DO NOTHING RETURNING sn, tk_kcv`;
      if (got.length !== chunk.length) {
        const sn = firstMissing(sns, got.map((r) => str(r.sn)));
        throw new StoreError("conflict", `serial number ${sn} is already known to KMS`);
      }
      await audit?.add(got.map((r) => ({ at, sn: str(r.sn), kcv: str(r.tk_kcv) })));
    });
    // Statistics that know this order, so the planner pages through it by index (without
    // them it sorts every remaining row of the order for each page: quadratic). Inside the
    // transaction, which counts its own rows; a failure rolls the import back.
    if (n >= ANALYZE_AFTER) await q`ANALYZE terminals`;
    return n;
  }

  stageTks(uploadId: string, firstSeq: number, tks: readonly ImportedTk[], at: string) {
    if (tks.length === 0) return Promise.resolve(-1);
    const seqs = tks.map((_, i) => firstSeq + i);
    const sns = tks.map((t) => t.sn);
    const blocks = tks.map((t) => t.tkBlock);
    const kcvs = tks.map((t) => t.tkKcv);
    const hashes = tks.map((t) => t.tkHash);
    const when = new Date(at);
    return this.atomic(`upload ${uploadId}`, async ({ q }) => {
      const got = await q`INSERT INTO tk_staging
          (upload_id, seq, sn, tk_block, tk_kcv, tk_hash, staged_at)
        SELECT ${uploadId}, s, n, b, k, h, ${when}
        FROM unnest(${seqs}::int[], ${sns}::text[], ${blocks}::text[], ${kcvs}::text[],
                    ${hashes}::text[]) AS x(s, n, b, k, h)
        ORDER BY s
        ON CONFLICT (upload_id, sn) DO NOTHING RETURNING seq`;
      if (got.length === tks.length) return -1;
      const stored = new Set(got.map((r) => Number(r.seq)));
      return seqs.findIndex((s) => !stored.has(s));
    });
  }

  async issueTmks(issues: readonly TmkIssue[], who: KeyAuditWho | undefined): Promise<number> {
    const page = tmkPage(issues);
    if (page === null) return this.one("bulk TMK issuance", () => Promise.resolve(0));
    const shared = this.#shared;
    const head = shared.chainHead;
    // Taken while the page is written: a page that fails leaves no head to trust.
    shared.chainHead = undefined;
    if (who !== undefined && head !== undefined && this.#tx === null) {
      let wrong = false;
      try {
        const r = await this.#run("bulk TMK issuance", async () => {
          const q = await shared.sql.reserve();
          try {
            return await page.storeAfter(q, who, head);
          } catch (e) {
            wrong = pageForeseenWrong(e);
            throw e;
          } finally {
            q.release();
          }
        }, true);
        shared.chainHead = r.head;
        return r.count;
      } catch (e) {
        // Rolled back: the page is stored again the ordinary way below, reading the head.
        if (!wrong) throw e;
      }
    }
    const r = await this.atomic("bulk TMK issuance", (x) => page.store(x, this, who));
    if (this.#tx === null) shared.chainHead = r.head;
    return r.count;
  }

  /** Raw SQL; see {@link PostgresStore._unsafeSql}. */
  unsafe(sql: string): Promise<Row[]> {
    return this.#run("raw SQL", async () => [...await this.#q.unsafe(sql)], false);
  }

  /** Applies the migrations not yet applied, each in its own transaction under an advisory lock. */
  async migrate(migrations: readonly Migration[]): Promise<void> {
    checkMigrationOrder(migrations);
    const { sql, schema } = this.#shared;
    const lock = `tmk-store-migrate:${schema}`;
    const version = async (q: Q) =>
      Number((await q`SELECT coalesce(max(version), 0) AS v FROM schema_version`)[0].v);
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtext(${lock}))`;
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await tx.unsafe(
        `CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY,
           description text NOT NULL, applied_at timestamptz NOT NULL)`,
      );
    });
    for (const m of migrations) {
      await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtext(${lock}))`;
        if (await version(tx) >= m.version) return;
        try {
          await tx.unsafe(m.sql);
        } catch (e) {
          throw migrationFailed(m, e);
        }
        await tx`INSERT INTO schema_version (version, description, applied_at)
                 VALUES (${m.version}, ${m.description}, ${new Date()})`;
      });
    }
    checkNotNewer(await version(sql), migrations);
  }
}

/** The PostgreSQL implementation of the store. Get one from {@link openPostgresStore}. */
export class PostgresStore extends CheckedStore {
  readonly #pg: PgBackend;

  /** @internal use {@link openPostgresStore}. */
  constructor(backend: PgBackend) {
    super(backend);
    this.#pg = backend;
  }

  /** The schema holding the tables. */
  get schema(): string {
    return this.#pg.schema;
  }

  /**
   * Runs raw SQL on the connection; for tests and maintenance tools only (it
   * bypasses every check; the audit trigger still applies).
   *
   * @param sql one statement.
   * @returns the rows, for a query.
   */
  _unsafeSql(sql: string): Promise<Row[]> {
    return this.#pg.unsafe(sql);
  }
}

/** True if `s` is a PostgreSQL connection URL (`postgres://` or `postgresql://`). */
export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//.test(s);
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/, "$1:***@");
}

/** Splits a `?schema=` parameter off the URL: it names the schema when the option does not. */
function schemaOfUrl(url: string): { url: string; schema: string | null } {
  const qs = url.indexOf("?");
  if (qs < 0) return { url, schema: null };
  const params = new URLSearchParams(url.slice(qs + 1));
  const schema = params.get("schema");
  params.delete("schema");
  const rest = params.toString();
  return { url: url.slice(0, qs) + (rest ? `?${rest}` : ""), schema };
}

/**
 * Connects to PostgreSQL and brings the schema up to date (creating the
 * schema if needed). Instances starting together migrate it once.
 *
 * @param url `postgres://user:password@host:port/database`, optionally with
 *   `?schema=name` (the schema when `options.schema` is not given).
 * @param options schema, pool size, migrations.
 * @returns the store.
 * @throws {TypeError} if `url` is not a string.
 * @throws {RangeError} for a URL that is not `postgres://` or a bad schema name.
 * @throws {StoreError} `busy` if the database cannot be reached, `schema` if it
 *   is newer than this code or a migration fails.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  checkText("url", url, 4096);
  if (!isPostgresUrl(url)) {
    throw new RangeError(
      `url must start with postgres:// or postgresql://, got ${
        JSON.stringify(redactUrl(url).slice(0, 40))
      }`,
    );
  }
  const parsed = schemaOfUrl(url);
  const schema = options.schema ?? parsed.schema ?? "public";
  checkString("options.schema", schema);
  if (!SCHEMA.test(schema)) {
    throw new RangeError(
      `options.schema must be 1-63 characters a-z 0-9 _ starting with a letter or _, got ${
        JSON.stringify(schema.slice(0, 64))
      }`,
    );
  }
  const max = options.maxConnections ?? 10;
  checkInt("options.maxConnections", max, 1, 1000);
  const applicationName = options.applicationName ?? "tmk-store";
  checkText("options.applicationName", applicationName, 63);
  const sql = postgres(parsed.url, {
    max,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { application_name: applicationName, search_path: schema },
  });
  const shared: Shared = { sql, schema, closed: false };
  const backend = new PgBackend(shared, sql, null);
  try {
    await backend.migrate(options.migrations ?? POSTGRES_MIGRATIONS);
  } catch (e) {
    shared.closed = true;
    await sql.end({ timeout: 5 });
    throw pgError(e, `database ${redactUrl(url)}`);
  }
  return new PostgresStore(backend);
}
