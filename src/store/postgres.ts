/**
 * The PostgreSQL store, for several KMS or MTMS instances on one database
 * (scale-out). It implements the same {@link Store} interface as the
 * embedded SQLite store and passes the same repository suite
 * (`tests/store/store_suite.ts`), with the npm `postgres` client (a
 * connection pool; every statement is prepared and cached per connection).
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
 * {@link Store.transaction} run on that transaction's connection, and the
 * outer store meanwhile sees only committed data.
 *
 * @module
 */
import { createHash } from "node:crypto";
import postgres from "postgres";
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
import { POSTGRES_MIGRATIONS } from "./postgres_schema.ts";
import type { Migration } from "./migration.ts";
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
type Row = Record<string, unknown>;

const ORDER_STATES: readonly OrderState[] = ["collecting", "transferred", "imported"];
const FILTERS: readonly TerminalFilter[] = ["all", "without_tmk", "with_tmk"];
const MAX_CERT = 16384;
const MAX_PUBLIC_KEY = 4096;
const NONCE = /^[A-Za-z0-9+/=_.:-]{1,256}$/;
const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;
/** Rows per INSERT in a streamed import (one round trip each). */
const CHUNK = 1000;
/** A batch import of at least this many TKs refreshes the planner's statistics of `terminals`. */
const ANALYZE_AFTER = 1000;
/** Attempts of a replayable call that hit a deadlock or serialization failure. */
const RETRIES = 5;

/** Every table and its key, for {@link PostgresStore.stateHash}. */
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

interface Shared {
  sql: Sql;
  schema: string;
  closed: boolean;
  savepoints: number;
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

/** Maps a PostgreSQL error to a {@link StoreError} where it is a refusal, else returns it unchanged. */
function mapError(e: unknown, what: string): unknown {
  if (e instanceof StoreError || !(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  const m = e.message;
  if (/append-only/.test(m)) return new StoreError("append_only", m);
  if (code === "23505") return new StoreError("duplicate", `${what}: already exists (${m})`);
  if (code === "23503") {
    return new StoreError("not_found", `${what}: refers to a row that does not exist`);
  }
  if (isRetryable(e)) {
    return new StoreError("busy", `${what}: concurrent transactions kept conflicting (${m})`);
  }
  if (isConnectionError(e)) {
    return new StoreError("busy", `${what}: the database is not reachable (${code})`);
  }
  return e;
}

const iso = (v: unknown) => (v as Date).toISOString();
const isoOrNull = (
  v: unknown,
) => (v === null || v === undefined ? null : (v as Date).toISOString());
const str = (v: unknown) => v as string;
const strOrNull = (v: unknown) => (v ?? null) as string | null;

function toOrder(r: Row): Order {
  return {
    orderId: str(r.order_id),
    state: str(r.state) as OrderState,
    createdAt: iso(r.created_at),
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
    uploadedAt: isoOrNull(r.uploaded_at),
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
    tmkIssuedAt: isoOrNull(r.tmk_issued_at),
    tmkSentAt: isoOrNull(r.tmk_sent_at),
    deliveredAt: isoOrNull(r.delivered_at),
    puHsmCert: strOrNull(r.pu_hsm_cert),
    prHsmBlock: strOrNull(r.pr_hsm_block),
    aukBlock: strOrNull(r.auk_block),
    puTek: strOrNull(r.pu_tek),
    authFailures: Number(r.auth_failures),
    lockedAt: isoOrNull(r.locked_at),
    sessionExpiresAt: isoOrNull(r.session_expires_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

function toChallenge(r: Row): Challenge {
  return {
    id: str(r.id),
    sn: str(r.sn),
    rnd: str(r.rnd),
    createdAt: iso(r.created_at),
    expiresAt: iso(r.expires_at),
    usedAt: isoOrNull(r.used_at),
  };
}

function toAudit(r: Row): AuditRecord {
  return {
    id: Number(r.id),
    at: iso(r.at),
    actor: str(r.actor),
    event: str(r.event),
    subject: strOrNull(r.subject),
    keyId: strOrNull(r.key_id),
    kcv: strOrNull(r.kcv),
    outcome: str(r.outcome) as AuditRecord["outcome"],
    detail: strOrNull(r.detail),
  };
}

/** True if `s` is a PostgreSQL connection URL (`postgres://` or `postgresql://`). */
export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//.test(s);
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/, "$1:***@");
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
  // A `?schema=` parameter of the URL names the schema when the option does not.
  let urlSchema: string | null = null;
  const qs = url.indexOf("?");
  if (qs >= 0) {
    const params = new URLSearchParams(url.slice(qs + 1));
    urlSchema = params.get("schema");
    params.delete("schema");
    const rest = params.toString();
    url = url.slice(0, qs) + (rest ? `?${rest}` : "");
  }
  const schema = options.schema ?? urlSchema ?? "public";
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
  const sql = postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { application_name: applicationName, search_path: schema },
  });
  const shared: Shared = { sql, schema, closed: false, savepoints: 0 };
  const store = new PostgresStore(shared, sql, null);
  try {
    await migrate(sql, schema, options.migrations ?? POSTGRES_MIGRATIONS);
  } catch (e) {
    shared.closed = true;
    await sql.end({ timeout: 5 });
    throw mapError(e, `database ${redactUrl(url)}`);
  }
  return store;
}

async function migrate(sql: Sql, schema: string, migrations: readonly Migration[]) {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError("schema", `migration ${i} must have version ${i + 1}, has ${m.version}`);
    }
  });
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
        throw new StoreError(
          "schema",
          `migration ${m.version} (${m.description}) failed: ${(e as Error).message}`,
        );
      }
      await tx`INSERT INTO schema_version (version, description, applied_at)
               VALUES (${m.version}, ${m.description}, ${new Date()})`;
    });
  }
  const v = await version(sql);
  if (v > migrations.length) {
    throw new StoreError(
      "schema",
      `database schema version ${v} is newer than this code (knows ${migrations.length})`,
    );
  }
}

/** The PostgreSQL implementation of {@link Store}. Get one from {@link openPostgresStore}. */
export class PostgresStore implements Store {
  readonly kind = "postgres";
  readonly #shared: Shared;
  readonly #q: Q;
  /** For a transaction view: whether its transaction is still open; null for the store itself. */
  readonly #tx: { active: boolean } | null;

  /** @internal use {@link openPostgresStore}. */
  constructor(shared: Shared, q: Q, tx: { active: boolean } | null) {
    this.#shared = shared;
    this.#q = q;
    this.#tx = tx;
  }

  /** The schema holding the tables. */
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
        throw mapError(e, what);
      }
    }
  }

  /** One statement or a few reads: on a pooled connection, or the transaction's. */
  #one<T>(what: string, fn: (q: Q) => Promise<T>): Promise<T> {
    return this.#run(what, () => fn(this.#q), true);
  }

  /**
   * Runs `fn` atomically: its own transaction, or a savepoint inside a
   * transaction view. `replayable` allows retrying a deadlocked attempt.
   */
  #atomic<T>(
    what: string,
    fn: (q: postgres.TransactionSql) => Promise<T>,
    replayable = true,
  ): Promise<T> {
    return this.#run(what, async () => {
      if (this.#tx) {
        return await (this.#q as postgres.TransactionSql).savepoint(fn) as T;
      }
      return await this.#shared.sql.begin(fn) as T;
    }, replayable);
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (typeof fn !== "function") {
      throw new TypeError(`fn must be a function, got ${typeof fn}`);
    }
    this.#alive();
    const body = async (q: postgres.TransactionSql) => {
      const state = { active: true };
      try {
        // Boxed so postgres.js does not treat an array result as queries to await.
        return [await fn(new PostgresStore(this.#shared, q, state))];
      } finally {
        state.active = false;
      }
    };
    try {
      const r = this.#tx
        ? await (this.#q as postgres.TransactionSql).savepoint(body)
        : await this.#shared.sql.begin(body);
      return (r as unknown as [T])[0];
    } catch (e) {
      throw mapError(e, "transaction");
    }
  }

  schemaVersion(): Promise<number> {
    return this.#one("schema version", async (q) => {
      const r = await q`SELECT coalesce(max(version), 0) AS v FROM schema_version`;
      return Number(r[0].v);
    });
  }

  stateHash(): Promise<string> {
    return this.#one("state hash", async (q) => {
      const h = createHash("sha256");
      for (const [table, key] of HASHED_TABLES) {
        h.update(`\u0000${table}\u0000`);
        const rows = await q.unsafe(`SELECT * FROM ${table} ORDER BY ${key}`);
        for (const row of rows) {
          h.update(JSON.stringify(Object.values(row)));
          h.update("\n");
        }
      }
      return h.digest("hex").toUpperCase();
    });
  }

  async close(): Promise<void> {
    if (this.#tx) throw new TypeError("close the store, not a transaction");
    if (this.#shared.closed) return;
    this.#shared.closed = true;
    await this.#shared.sql.end({ timeout: 5 });
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
    const { orderId, state, createdAt } = order;
    return this.#atomic(`order ${orderId}`, async (q) => {
      const ins = await q`INSERT INTO orders (order_id, state, terminals, created_at)
        VALUES (${orderId}, ${state}, 0, ${createdAt}) ON CONFLICT (order_id) DO NOTHING`;
      if (ins.count === 0) throw new StoreError("duplicate", `order ${orderId} already exists`);
      let n = 0;
      let chunk: string[] = [];
      const flush = async () => {
        if (chunk.length === 0) return;
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
        chunk = [];
      };
      for (const sn of sns ?? []) {
        checkId(`order.serialNumbers[${n}]`, sn);
        chunk.push(sn);
        n++;
        if (chunk.length === CHUNK) await flush();
      }
      await flush();
      await q`UPDATE orders SET terminals = ${n} WHERE order_id = ${orderId}`;
      return { orderId, state, createdAt: createdAt.toISOString(), terminals: n };
    }, Array.isArray(sns));
  }

  getOrder(orderId: string): Promise<Order | null> {
    checkId("orderId", orderId);
    return this.#one("order", async (q) => {
      const r = await q`SELECT * FROM orders WHERE order_id = ${orderId}`;
      return r.length ? toOrder(r[0]) : null;
    });
  }

  setOrderState(orderId: string, from: OrderState, to: OrderState): Promise<boolean> {
    checkId("orderId", orderId);
    checkOneOf("from", from, ORDER_STATES);
    checkOneOf("to", to, ORDER_STATES);
    return this.#one(`order ${orderId}`, async (q) => {
      const r = await q`UPDATE orders SET state = ${to}
        WHERE order_id = ${orderId} AND state = ${from}`;
      if (r.count === 0 && !(await q`SELECT 1 FROM orders WHERE order_id = ${orderId}`).length) {
        throw new StoreError("not_found", `order ${orderId} does not exist`);
      }
      return r.count === 1;
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
    return this.#one(`TK of ${sn}`, async (q) => {
      const r = await q`UPDATE collected_tks SET tk_block = ${tk.tkBlock}, tk_kcv = ${tk.tkKcv},
          tk_hash = ${tk.tkHash}, mac = ${tk.mac ?? null}, uploaded_at = ${tk.uploadedAt}
        WHERE sn = ${sn} AND order_id = ${orderId} AND tk_block IS NULL
          AND (SELECT state FROM orders WHERE order_id = ${orderId}) = 'collecting'`;
      if (r.count === 1) return "stored";
      const rows = await q`SELECT c.order_id, c.tk_hash, o.state
        FROM collected_tks c JOIN orders o USING (order_id) WHERE c.sn = ${sn}`;
      const row = rows[0];
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
    return this.#one("collected TK", async (q) => {
      const r = await q`SELECT * FROM collected_tks WHERE sn = ${sn}`;
      return r.length ? toCollected(r[0]) : null;
    });
  }

  countCollected(orderId: string): Promise<{ terminals: number; collected: number }> {
    checkId("orderId", orderId);
    return this.#one(`order ${orderId}`, async (q) => {
      if (!(await q`SELECT 1 FROM orders WHERE order_id = ${orderId}`).length) {
        throw new StoreError("not_found", `order ${orderId} does not exist`);
      }
      const r = await q`SELECT count(*) AS t, count(tk_block) AS c
        FROM collected_tks WHERE order_id = ${orderId}`;
      return { terminals: Number(r[0].t), collected: Number(r[0].c) };
    });
  }

  listCollectedTks(orderId: string, page: PageOptions): Promise<CollectedTk[]> {
    checkId("orderId", orderId);
    const { after, limit } = checkPage(page);
    return this.#one(`order ${orderId}`, async (q) =>
      (await q`SELECT * FROM collected_tks
        WHERE order_id = ${orderId} AND sn > ${after} AND tk_block IS NOT NULL
        ORDER BY sn LIMIT ${limit}`).map(toCollected));
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
    const { orderId, bodyHash, receivedAt: at } = batch;
    return this.#atomic(`batch of order ${orderId}`, async (q) => {
      // Imports of one order wait for each other; the second sees the first's batch.
      await q`SELECT pg_advisory_xact_lock(hashtext(${"tk-batch:" + orderId}))`;
      const prior = (await q`SELECT * FROM tk_batches WHERE order_id = ${orderId}`)[0];
      if (prior) {
        if (prior.body_hash === bodyHash) return { duplicate: true, tks: Number(prior.tks) };
        throw new StoreError(
          "conflict",
          `order ${orderId} already has a different TK batch (received ${iso(prior.received_at)})`,
        );
      }
      const ins = await q`INSERT INTO orders (order_id, state, terminals, created_at)
        VALUES (${orderId}, 'imported', 0, ${at}) ON CONFLICT (order_id) DO NOTHING`;
      if (ins.count === 0) {
        throw new StoreError("conflict", `order ${orderId} already exists without a batch`);
      }
      let n = 0;
      let chunk: ImportedTk[] = [];
      const flush = async () => {
        if (chunk.length === 0) return;
        const sns = chunk.map((t) => t.sn);
        const blocks = chunk.map((t) => t.tkBlock);
        const hashes = chunk.map((t) => t.tkHash);
        const kcvs = chunk.map((t) => t.tkKcv);
        // With an actor, the same statement appends one audit record per TK it inserted.
        const got = actor === undefined
          ? await q`INSERT INTO terminals
              (sn, order_id, state, tk_block, tk_hash, tk_kcv, created_at, updated_at)
            SELECT v.sn, ${orderId}, 'tk_received', v.b, v.h, v.k, ${at}, ${at}
            FROM unnest(${sns}::text[], ${blocks}::text[], ${hashes}::text[], ${kcvs}::text[])
                 AS v(sn, b, h, k)
            ON CONFLICT (sn) DO NOTHING RETURNING sn`
          : await q`WITH ins AS (INSERT INTO terminals
              (sn, order_id, state, tk_block, tk_hash, tk_kcv, created_at, updated_at)
            SELECT v.sn, ${orderId}, 'tk_received', v.b, v.h, v.k, ${at}, ${at}
            FROM unnest(${sns}::text[], ${blocks}::text[], ${hashes}::text[], ${kcvs}::text[])
                 AS v(sn, b, h, k)
            ON CONFLICT (sn) DO NOTHING RETURNING sn, tk_kcv)
            INSERT INTO audit_log (at, actor, event, subject, key_id, kcv, outcome)
            SELECT ${at}, ${actor}, 'tk_imported', sn, 'TK', tk_kcv, 'success' FROM ins ORDER BY sn
            RETURNING subject AS sn`;
        if (got.length !== chunk.length) {
          const sn = firstMissing(sns, got.map((r) => str(r.sn)));
          throw new StoreError("conflict", `serial number ${sn} is already known to KMS`);
        }
        chunk = [];
      };
      for await (const t of tks as AsyncIterable<ImportedTk>) {
        checkImportedTk(n, t);
        chunk.push(t);
        n++;
        if (chunk.length === CHUNK) await flush();
      }
      await flush();
      if (n === 0) throw new RangeError("batch.tks must hold at least one TK, got none");
      await q`INSERT INTO tk_batches (order_id, body_hash, tks, received_at)
        VALUES (${orderId}, ${bodyHash}, ${n}, ${at})`;
      await q`UPDATE orders SET terminals = ${n} WHERE order_id = ${orderId}`;
      // Statistics that know this order, so the planner pages through it by index (without
      // them it sorts every remaining row of the order for each page: quadratic). Inside the
      // transaction, which counts its own rows; a failure rolls the import back.
      if (n >= ANALYZE_AFTER) await q`ANALYZE terminals`;
      return { duplicate: false, tks: n };
    }, Array.isArray(tks));
  }

  getTkBatch(orderId: string): Promise<TkBatch | null> {
    checkId("orderId", orderId);
    return this.#one("batch", async (q) => {
      const r = (await q`SELECT * FROM tk_batches WHERE order_id = ${orderId}`)[0];
      return r
        ? {
          orderId: str(r.order_id),
          bodyHash: str(r.body_hash),
          tks: Number(r.tks),
          receivedAt: iso(r.received_at),
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
    if (tks.length === 0) return Promise.resolve(-1);
    const seqs = tks.map((_, i) => firstSeq + i);
    const sns = tks.map((t) => t.sn);
    const blocks = tks.map((t) => t.tkBlock);
    const kcvs = tks.map((t) => t.tkKcv);
    const hashes = tks.map((t) => t.tkHash);
    return this.#atomic(`upload ${uploadId}`, async (q) => {
      const got = await q`INSERT INTO tk_staging
          (upload_id, seq, sn, tk_block, tk_kcv, tk_hash, staged_at)
        SELECT ${uploadId}, s, n, b, k, h, ${at}
        FROM unnest(${seqs}::int[], ${sns}::text[], ${blocks}::text[], ${kcvs}::text[],
                    ${hashes}::text[]) AS x(s, n, b, k, h)
        ORDER BY s
        ON CONFLICT (upload_id, sn) DO NOTHING RETURNING seq`;
      if (got.length === tks.length) return -1;
      const stored = new Set(got.map((r) => Number(r.seq)));
      return seqs.findIndex((x) => !stored.has(x));
    });
  }

  listStagedTks(uploadId: string, page: { after: number; limit: number }): Promise<StagedTk[]> {
    checkId("uploadId", uploadId);
    checkObject("page", page);
    checkInt("page.after", page.after, -1, 2 ** 31 - 1);
    checkInt("page.limit", page.limit, 1, 10000);
    return this.#one(
      `upload ${uploadId}`,
      async (q) =>
        (await q`SELECT * FROM tk_staging WHERE upload_id = ${uploadId} AND seq > ${page.after}
        ORDER BY seq LIMIT ${page.limit}`).map((r) => ({
          seq: Number(r.seq),
          sn: str(r.sn),
          tkBlock: str(r.tk_block),
          tkKcv: str(r.tk_kcv),
          tkHash: str(r.tk_hash),
        })),
    );
  }

  dropStaged(uploadId: string): Promise<number> {
    checkId("uploadId", uploadId);
    return this.#one(
      `upload ${uploadId}`,
      async (q) => (await q`DELETE FROM tk_staging WHERE upload_id = ${uploadId}`).count,
    );
  }

  purgeStaged(idleBefore: Date): Promise<number> {
    checkDate("idleBefore", idleBefore);
    return this.#one(
      "staged uploads",
      async (q) =>
        (await q`DELETE FROM tk_staging WHERE upload_id IN
        (SELECT upload_id FROM tk_staging GROUP BY upload_id
         HAVING max(staged_at) < ${idleBefore})`).count,
    );
  }

  registerTerminal(sn: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("at", at);
    return this.#one(
      `terminal ${sn}`,
      async (q) =>
        (await q`INSERT INTO terminals (sn, state, created_at, updated_at)
        VALUES (${sn}, 'registered', ${at}, ${at}) ON CONFLICT (sn) DO NOTHING`).count === 1,
    );
  }

  getTerminal(sn: string): Promise<Terminal | null> {
    checkId("sn", sn);
    return this.#one("terminal", async (q) => {
      const r = await q`SELECT * FROM terminals WHERE sn = ${sn}`;
      return r.length ? toTerminal(r[0]) : null;
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
    return this.#one(`order ${orderId}`, async (q) => {
      const rows = filter === "all"
        ? await q`SELECT * FROM terminals WHERE order_id = ${orderId} AND sn > ${after}
            ORDER BY sn LIMIT ${limit}`
        : filter === "without_tmk"
        ? await q`SELECT * FROM terminals WHERE order_id = ${orderId} AND sn > ${after}
            AND tmk_block IS NULL ORDER BY sn LIMIT ${limit}`
        : await q`SELECT * FROM terminals WHERE order_id = ${orderId} AND sn > ${after}
            AND tmk_block IS NOT NULL ORDER BY sn LIMIT ${limit}`;
      return rows.map(toTerminal);
    });
  }

  listTksToIssue(orderId: string, page: PageOptions): Promise<TkToIssue[]> {
    checkId("orderId", orderId);
    const { after, limit } = checkPage(page);
    return this.#one(
      `order ${orderId}`,
      async (q) =>
        (await q`SELECT sn, tk_block, tk_hash FROM terminals
        WHERE order_id = ${orderId} AND sn > ${after} AND tmk_block IS NULL
        ORDER BY sn LIMIT ${limit}`).map((r) => ({
          sn: str(r.sn),
          tkBlock: strOrNull(r.tk_block),
          tkHash: strOrNull(r.tk_hash),
        })),
    );
  }

  countTerminals(orderId: string): Promise<TerminalCounts> {
    checkId("orderId", orderId);
    return this.#one(`order ${orderId}`, async (q) => {
      const r = (await q`SELECT count(*) AS t, count(tmk_block) AS i, count(delivered_at) AS d
        FROM terminals WHERE order_id = ${orderId}`)[0];
      return { terminals: Number(r.t), withTmk: Number(r.i), delivered: Number(r.d) };
    });
  }

  issueTmk(issue: TmkIssue): Promise<boolean> {
    checkTmkIssue("issue", issue);
    const t = issue;
    return this.#one(`TMK of ${t.sn}`, async (q) => {
      const r = await q`UPDATE terminals
        SET tmk_block = ${t.tmkBlock}, tmk_under_tk = ${t.tmkUnderTk}, tmk_kcv = ${t.tmkKcv},
            tmk_issued_at = ${t.issuedAt}, updated_at = ${t.issuedAt}, state = 'tmk_issued'
        WHERE sn = ${t.sn} AND tmk_block IS NULL`;
      if (r.count === 0 && !(await q`SELECT 1 FROM terminals WHERE sn = ${t.sn}`).length) {
        throw new StoreError("not_found", `terminal ${t.sn} does not exist`);
      }
      return r.count === 1;
    });
  }

  issueTmks(issues: readonly TmkIssue[], options: IssueTmksOptions = {}): Promise<number> {
    if (!Array.isArray(issues)) {
      throw new TypeError("issues must be an array of TMK issues");
    }
    issues.forEach((t, i) => checkTmkIssue(`issues[${i}]`, t));
    checkObject("options", options);
    const actor = options.auditActor;
    if (actor !== undefined) checkText("options.auditActor", actor, 200);
    // The first issue of an SN counts, as if applied one by one.
    const seen = new Set<string>();
    const rows = issues.filter((t) => !seen.has(t.sn) && (seen.add(t.sn), true));
    if (rows.length === 0) return this.#one("bulk TMK issuance", () => Promise.resolve(0));
    const sns = rows.map((t) => t.sn);
    const blocks = rows.map((t) => t.tmkBlock);
    const under = rows.map((t) => t.tmkUnderTk);
    const kcvs = rows.map((t) => t.tmkKcv);
    const ats = rows.map((t) => t.issuedAt.toISOString());
    return this.#atomic("bulk TMK issuance", async (q) => {
      // Lock in SN order first: two instances issuing overlapping pages never deadlock (the
      // lock the UPDATE takes: it changes no key column). The update is sent at once behind it
      // (pipelined) and waits for it in the server.
      const [, r] = await Promise.all([
        q`SELECT count(*) FROM (SELECT sn FROM terminals
            WHERE sn = ANY(${sns}::text[]) AND tmk_block IS NULL
            ORDER BY sn FOR NO KEY UPDATE) AS l`,
        actor === undefined
          ? q`UPDATE terminals AS t
            SET tmk_block = v.b, tmk_under_tk = v.u, tmk_kcv = v.k, tmk_issued_at = v.at,
                updated_at = v.at, state = 'tmk_issued'
            FROM unnest(${sns}::text[], ${blocks}::text[], ${under}::text[], ${kcvs}::text[],
                        ${ats}::timestamptz[]) AS v(sn, b, u, k, at)
            WHERE t.sn = v.sn AND t.tmk_block IS NULL`
          : q`WITH u AS (UPDATE terminals AS t
              SET tmk_block = v.b, tmk_under_tk = v.u, tmk_kcv = v.k, tmk_issued_at = v.at,
                  updated_at = v.at, state = 'tmk_issued'
              FROM unnest(${sns}::text[], ${blocks}::text[], ${under}::text[], ${kcvs}::text[],
                          ${ats}::timestamptz[]) AS v(sn, b, u, k, at)
              WHERE t.sn = v.sn AND t.tmk_block IS NULL
              RETURNING t.sn, t.tmk_kcv, t.tmk_issued_at)
            INSERT INTO audit_log (at, actor, event, subject, key_id, kcv, outcome)
            SELECT tmk_issued_at, ${actor}, 'tmk_issued', sn, 'TMK', tmk_kcv, 'success'
            FROM u ORDER BY sn`,
      ]);
      return r.count;
    });
  }

  markTmkSent(sn: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("at", at);
    return this.#one(
      `terminal ${sn}`,
      async (q) =>
        (await q`UPDATE terminals SET state = 'tmk_sent', tmk_sent_at = ${at}, updated_at = ${at}
        WHERE sn = ${sn} AND tmk_block IS NOT NULL AND delivered_at IS NULL`).count === 1,
    );
  }

  markDelivered(sn: string, tmkKcv: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkKcv("tmkKcv", tmkKcv);
    checkDate("at", at);
    return this.#one(
      `terminal ${sn}`,
      async (q) =>
        (await q`UPDATE terminals SET state = 'delivered', delivered_at = ${at}, updated_at = ${at}
        WHERE sn = ${sn} AND tmk_kcv = ${tmkKcv} AND tmk_sent_at IS NOT NULL
          AND delivered_at IS NULL`).count === 1,
    );
  }

  // ---- KMS: flow B ----

  async #mustExist(q: Q, sn: string): Promise<void> {
    if (!(await q`SELECT 1 FROM terminals WHERE sn = ${sn}`).length) {
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
    const at = key.at;
    return this.#one(`terminal ${sn}`, async (q) => {
      const r = key.replace
        ? await q`UPDATE terminals SET pu_hsm_cert = ${key.puHsmCert},
              pr_hsm_block = ${key.prHsmBlock}, auk_block = NULL, pu_tek = NULL, tk_hash = NULL,
              tk_kcv = NULL, state = 'hsm_key_issued', updated_at = ${at}
            WHERE sn = ${sn} AND tmk_block IS NULL AND order_id IS NULL`
        : await q`UPDATE terminals SET pu_hsm_cert = ${key.puHsmCert},
              pr_hsm_block = ${key.prHsmBlock}, state = 'hsm_key_issued', updated_at = ${at}
            WHERE sn = ${sn} AND pr_hsm_block IS NULL AND tmk_block IS NULL AND order_id IS NULL`;
      if (r.count === 0) await this.#mustExist(q, sn);
      return r.count === 1;
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
    return this.#one(`terminal ${sn}`, async (q) => {
      const r = await q`UPDATE terminals SET auk_block = ${tk.aukBlock}, pu_tek = ${tk.puTek},
          tk_hash = ${tk.tkHash}, tk_kcv = ${tk.tkKcv}, state = 'tk_received',
          updated_at = ${tk.at}
        WHERE sn = ${sn} AND pr_hsm_block IS NOT NULL AND auk_block IS NULL
          AND tmk_block IS NULL`;
      if (r.count === 0) await this.#mustExist(q, sn);
      return r.count === 1;
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
    const { maxFailures, at } = options;
    return this.#atomic(`terminal ${sn}`, async (q) => {
      const before = (await q`SELECT locked_at FROM terminals WHERE sn = ${sn} FOR UPDATE`)[0];
      if (!before) throw new StoreError("not_found", `terminal ${sn} does not exist`);
      const r = (await q`UPDATE terminals
        SET auth_failures = auth_failures + 1, session_expires_at = NULL,
            locked_at = CASE WHEN locked_at IS NULL AND auth_failures + 1 >= ${maxFailures}
                             THEN ${at}::timestamptz ELSE locked_at END,
            updated_at = ${at}
        WHERE sn = ${sn} RETURNING auth_failures, locked_at`)[0];
      const locked = r.locked_at !== null;
      return {
        failures: Number(r.auth_failures),
        locked,
        lockedNow: locked && before.locked_at === null,
      };
    });
  }

  recordAuthSuccess(
    sn: string,
    options: { sessionExpiresAt: Date; at: Date },
  ): Promise<boolean> {
    checkId("sn", sn);
    checkObject("options", options);
    checkDate("options.sessionExpiresAt", options.sessionExpiresAt);
    checkDate("options.at", options.at);
    return this.#one(`terminal ${sn}`, async (q) => {
      const r = await q`UPDATE terminals SET auth_failures = 0,
          session_expires_at = ${options.sessionExpiresAt}, updated_at = ${options.at}
        WHERE sn = ${sn} AND locked_at IS NULL`;
      if (r.count === 0) await this.#mustExist(q, sn);
      return r.count === 1;
    });
  }

  consumeSession(sn: string, now: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("now", now);
    return this.#one(
      `terminal ${sn}`,
      async (q) =>
        (await q`UPDATE terminals SET session_expires_at = NULL, updated_at = ${now}
        WHERE sn = ${sn} AND session_expires_at > ${now} AND locked_at IS NULL`).count === 1,
    );
  }

  unlockTerminal(sn: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("at", at);
    return this.#one(`terminal ${sn}`, async (q) => {
      const r = await q`UPDATE terminals SET locked_at = NULL, auth_failures = 0,
          updated_at = ${at}
        WHERE sn = ${sn} AND locked_at IS NOT NULL`;
      if (r.count === 0) await this.#mustExist(q, sn);
      return r.count === 1;
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
    return this.#one(`challenge ${c.id}`, async (q) => {
      await this.#mustExist(q, c.sn);
      const r = await q`INSERT INTO challenges (id, sn, rnd, created_at, expires_at)
        VALUES (${c.id}, ${c.sn}, ${c.rnd}, ${c.createdAt}, ${c.expiresAt})
        ON CONFLICT (id) DO NOTHING`;
      if (r.count === 0) throw new StoreError("duplicate", `challenge ${c.id} already exists`);
    });
  }

  consumeChallenge(id: string, sn: string, now: Date): Promise<ConsumeResult> {
    checkId("id", id);
    checkId("sn", sn);
    checkDate("now", now);
    return this.#one(`challenge ${id}`, async (q): Promise<ConsumeResult> => {
      const r = (await q`UPDATE challenges SET used_at = ${now}
        WHERE id = ${id} AND sn = ${sn} AND used_at IS NULL AND expires_at > ${now}
        RETURNING *`)[0];
      if (r) return { ok: true, challenge: toChallenge(r) };
      const c = (await q`SELECT * FROM challenges WHERE id = ${id}`)[0];
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
    return this.#one(
      "nonce",
      async (q) =>
        (await q`INSERT INTO nonces (scope, nonce, expires_at) VALUES (${scope}, ${nonce}, ${expiresAt})
        ON CONFLICT (scope, nonce) DO NOTHING`).count === 1,
    );
  }

  purgeNonces(now: Date): Promise<number> {
    checkDate("now", now);
    return this.#one(
      "nonces",
      async (q) => (await q`DELETE FROM nonces WHERE expires_at < ${now}`).count,
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
    return this.#one("audit", async (q) => {
      const r = await q`INSERT INTO audit_log
          (at, actor, event, subject, key_id, kcv, outcome, detail)
        VALUES (${e.at}, ${e.actor}, ${e.event}, ${e.subject ?? null}, ${e.keyId ?? null},
          ${e.kcv ?? null}, ${e.outcome}, ${e.detail ?? null})
        RETURNING id`;
      return Number(r[0].id);
    });
  }

  listAudit(qy: AuditQuery): Promise<AuditRecord[]> {
    checkObject("query", qy);
    checkInt("query.limit", qy.limit, 1, 10000);
    const afterId = qy.afterId ?? 0;
    checkInt("query.afterId", afterId, 0, Number.MAX_SAFE_INTEGER);
    if (qy.subject !== undefined) checkText("query.subject", qy.subject, 200);
    if (qy.event !== undefined) checkText("query.event", qy.event, 64);
    const subject = qy.subject ?? null;
    const event = qy.event ?? null;
    return this.#one("audit", async (q) =>
      (await q`SELECT * FROM audit_log WHERE id > ${afterId}
        AND (${subject}::text IS NULL OR subject = ${subject})
        AND (${event}::text IS NULL OR event = ${event})
        ORDER BY id LIMIT ${qy.limit}`).map(toAudit));
  }

  /**
   * Runs raw SQL on the connection; for tests and maintenance tools only (it
   * bypasses every check; the audit trigger still applies).
   *
   * @param sql one statement.
   * @returns the rows, for a query.
   */
  _unsafeSql(sql: string): Promise<Row[]> {
    return this.#run("raw SQL", async () => [...await this.#q.unsafe(sql)], false);
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
