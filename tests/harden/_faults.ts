/**
 * Fault injection for the hardening proofs (`faults_test.ts`): wrappers
 * around a server's HSM and store that count every call made while a
 * request runs and make call number k fail, and the state of a database
 * (every table but the append-only audit log) as a hash.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { type Hsm, HsmError } from "../../src/hsm/mod.ts";
import { openPostgresStore, type Store, StoreError } from "../../src/store/mod.ts";

/** Where the injected call was: the HSM, the store, or the MTMS's call to the KMS. */
export type Site = "hsm" | "store" | "kms";

/** The database behind a store, for the faults a driver raises. */
export type Backend = "sqlite" | "postgres";

/**
 * The failure injected at a site. Two kinds each: for the HSM a refusal
 * (`HsmError` `key_block`, as for a block that does not unwrap) and a
 * device failure (the HSM does not answer); for the store a `StoreError`
 * `busy` and the raw driver error (SQLite `SQLITE_BUSY`, a PostgreSQL
 * connection closed); for the MTMS's call to the KMS a network error.
 *
 * @param site where.
 * @param variant 0 or 1.
 * @param backend the store's database.
 * @param what the call, for the message.
 * @returns the error to throw.
 */
export function fault(site: Site, variant: number, backend: Backend, what: string): Error {
  if (site === "hsm") {
    return variant === 0
      ? new HsmError("key_block", `injected fault: the HSM refused the key block in ${what}`)
      : Object.assign(new Error(`injected fault: the HSM did not answer ${what}`), {
        name: "HsmDeviceError",
      });
  }
  if (site === "kms") {
    return new TypeError(`injected fault: error sending request: connection reset (${what})`);
  }
  if (variant === 0) return new StoreError("busy", `injected fault: ${what}: database is busy`);
  return backend === "sqlite"
    ? Object.assign(new Error("database is locked"), {
      code: "ERR_SQLITE_ERROR",
      errcode: 5,
      errstr: "database is locked",
    })
    : Object.assign(new Error(`write CONNECTION_CLOSED 127.0.0.1:5432 (injected, ${what})`), {
      code: "CONNECTION_CLOSED",
      errno: "CONNECTION_CLOSED",
    });
}

/** One server's fault plan: while armed, counts calls and fails call number `failAt`. */
export class FaultPlan {
  readonly backend: Backend;
  #armed = false;
  #failAt = 0;
  #variant = 0;
  #count = 0;
  #target: string | null = null;
  #fired: { site: Site; what: string; error: Error } | null = null;
  /** The calls of the last armed run, in order. */
  calls: string[] = [];

  /** @param backend the server's database. */
  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Whether a request of this server is running under the plan. */
  get armed(): boolean {
    return this.#armed;
  }

  /** What was injected in the last armed run, if anything. */
  get fired(): { site: Site; what: string; error: Error } | null {
    return this.#fired;
  }

  /**
   * Arms the plan: call number `k` (1-based) of the next run fails.
   *
   * @param k the call to fail; 0 to count only.
   * @param variant which kind of failure (see {@link fault}).
   */
  arm(k: number, variant: number): void {
    this.#armed = true;
    this.#target = null;
    this.#failAt = k;
    this.#variant = variant;
    this.#count = 0;
    this.#fired = null;
    this.calls = [];
  }

  /**
   * Arms the plan at a named call: the first call to `target` (`hsm.generateKey`,
   * `store.addOperator`, ...) of the next run fails.
   *
   * @param target the site and method.
   * @param variant which kind of failure (see {@link fault}).
   */
  armAt(target: string, variant: number): void {
    this.arm(0, variant);
    this.#target = target;
  }

  /** Ends the run. */
  disarm(): void {
    this.#armed = false;
  }

  /**
   * One call at `site`: counted while armed; the error to raise if it is call number k.
   *
   * @param site where.
   * @param what the method.
   * @returns the error to raise, or null.
   */
  step(site: Site, what: string): Error | null {
    if (!this.#armed) return null;
    this.#count++;
    this.calls.push(`${site}.${what}`);
    const hit = this.#target === null
      ? this.#count === this.#failAt
      : this.#fired === null && `${site}.${what}` === this.#target;
    if (!hit) return null;
    const error = fault(site, this.#variant, this.backend, what);
    this.#fired = { site, what, error };
    return error;
  }
}

/**
 * The HSM behind a proxy: each method call is a step of `plan`; the failing
 * one rejects before the HSM sees it.
 *
 * @param hsm the HSM.
 * @param plan the plan.
 * @returns the wrapped HSM.
 */
export function faultyHsm(hsm: Hsm, plan: FaultPlan): Hsm {
  return new Proxy(hsm, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        const e = plan.step("hsm", String(prop));
        if (e) return Promise.reject(e);
        return v.apply(target, args);
      };
    },
  });
}

/**
 * The store behind a proxy: each method call (also inside a transaction, on
 * the transaction's view) is a step of `plan`; the failing one rejects
 * before the database sees it, so a transaction around it rolls back.
 *
 * @param store the store.
 * @param plan the plan.
 * @returns the wrapped store.
 */
export function faultyStore(store: Store, plan: FaultPlan): Store {
  return new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        const e = plan.step("store", String(prop));
        if (e) return Promise.reject(e);
        if (prop === "transaction") {
          const fn = args[0] as (tx: Store) => Promise<unknown>;
          return target.transaction((tx) => fn(faultyStore(tx, plan)));
        }
        return v.apply(target, args);
      };
    },
  });
}

/** The scope of the signed operator requests' nonces (`servers/_lib/router.ts`). */
const OPERATOR_NONCES = "operator-request";

/**
 * A database's state: the hash of every table but the audit log (and but the
 * nonces of signed operator requests, which the router stores before the
 * handler runs, by design, so that a request is never carried out twice),
 * the audit log, and those nonces.
 */
export interface DbState {
  hash: string;
  /** The hash of each table (the same rows as `hash`). */
  tables: Record<string, string>;
  /** Nonces of signed operator requests. */
  operatorNonces: number;
  /** Number of audit records. */
  audit: number;
  /** Outcomes of the audit records after the `since`-th, in order. */
  newOutcomes: string[];
  /** Events of the audit records after the `since`-th, in order. */
  newEvents: string[];
}

/** Reads a database's state (SQLite file or PostgreSQL schema). */
export interface DbReader {
  /** @param since audit records to skip (the count of an earlier state). */
  state(since?: number): Promise<DbState>;
  close(): Promise<void>;
}

function digest(tables: [string, Record<string, unknown>[]][]): {
  hash: string;
  tables: Record<string, string>;
  operatorNonces: number;
} {
  const h = createHash("sha256");
  const each: Record<string, string> = {};
  let operatorNonces = 0;
  for (const [name, rows] of tables) {
    h.update(`${name}\n`);
    const t = createHash("sha256");
    const kept = rows.filter((r) => !(name === "nonces" && r.scope === OPERATOR_NONCES));
    operatorNonces += rows.length - kept.length;
    for (const r of kept.map((x) => JSON.stringify(x)).sort()) {
      h.update(`${r}\n`);
      t.update(`${r}\n`);
    }
    each[name] = t.digest("hex").toUpperCase();
  }
  return { hash: h.digest("hex").toUpperCase(), tables: each, operatorNonces };
}

/**
 * A reader of a SQLite database file (a second, read-only connection: it
 * sees committed transactions only).
 *
 * @param path the file.
 * @returns the reader.
 */
export function sqliteReader(path: string): DbReader {
  return {
    state(since = 0) {
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        const names = (db.prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' " +
            "AND name <> 'audit_log' ORDER BY name",
        ).all() as { name: string }[]).map((r) => r.name);
        const tables = names.map((n) =>
          [n, db.prepare(`SELECT * FROM "${n}"`).all() as Record<string, unknown>[]] as [
            string,
            Record<string, unknown>[],
          ]
        );
        const audit = db.prepare("SELECT outcome, event FROM audit_log ORDER BY id").all() as {
          outcome: string;
          event: string;
        }[];
        return Promise.resolve({
          ...digest(tables),
          audit: audit.length,
          newOutcomes: audit.slice(since).map((a) => a.outcome),
          newEvents: audit.slice(since).map((a) => a.event),
        });
      } finally {
        db.close();
      }
    },
    close: () => Promise.resolve(),
  };
}

/**
 * A reader of a PostgreSQL schema, on its own connection; `close` drops the schema.
 *
 * @param url `postgres://...?schema=name`.
 * @param schema the schema (dropped on close).
 * @returns the reader.
 */
export async function postgresReader(url: string, schema: string): Promise<DbReader> {
  const store = await openPostgresStore(url, { maxConnections: 1 });
  const sql = (q: string) =>
    (store as unknown as { _unsafeSql(s: string): Promise<Record<string, unknown>[]> })
      ._unsafeSql(q);
  return {
    async state(since = 0) {
      const names = (await sql(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = " +
          "current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'audit_log' " +
          "ORDER BY table_name",
      )).map((r) => String(r.name));
      const tables: [string, Record<string, unknown>[]][] = [];
      for (const n of names) tables.push([n, await sql(`SELECT * FROM "${n}"`)]);
      const audit = await sql("SELECT outcome, event FROM audit_log ORDER BY id");
      return {
        ...digest(tables),
        audit: audit.length,
        newOutcomes: audit.slice(since).map((a) => String(a.outcome)),
        newEvents: audit.slice(since).map((a) => String(a.event)),
      };
    },
    async close() {
      try {
        await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await store.close();
      }
    },
  };
}
