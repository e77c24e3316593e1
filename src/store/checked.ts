/**
 * The checked front of every store: one implementation of {@link Store}
 * that checks each argument (`TypeError` / `RangeError` naming it), runs
 * the operation's statements on a {@link Backend} (SQLite or PostgreSQL)
 * and maps the rows to records. The backends differ only in SQL dialect,
 * transactions and the bulk steps; what an operation does is written here
 * once.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Backend, KeyAuditWho } from "./_backend.ts";
import {
  checkCollectedTk,
  checkDate,
  checkHash,
  checkId,
  checkKcv,
  checkOneOf,
  checkOrderInput,
  checkPage,
  checkStagedPage,
  checkStageTks,
  checkTkBatch,
  checkTmkIssue,
  checkTmkIssues,
  FILTERS,
  ORDER_STATES,
} from "./_check.ts";
import { KmsCaFront } from "./_kms_ca_front.ts";
import { mustExist } from "./_ledger_front.ts";
import { currentAuditOperator } from "./audit_operator.ts";
import {
  HASHED_TABLES,
  iso,
  ISSUE_TMK,
  type Row,
  str,
  time,
  toCollected,
  toOrder,
  toStaged,
  toTerminal,
  toTkBatch,
  toTkToIssue,
} from "./_rows.ts";
import type { Store } from "./api.ts";
import { TERMINAL_STATES } from "./types.ts";
import { StoreError } from "./errors.ts";
import type * as T from "./types.ts";

/** Who a bulk write's audit records name: its actor and the acting operator, if any. */
function who(actor: string | undefined): KeyAuditWho | undefined {
  return actor === undefined ? undefined : { actor, operator: currentAuditOperator() };
}

/** Why `putCollectedTk` stored nothing: `same` TK again, or the refusal. */
function collectedRefusal(row: Row | undefined, tk: T.CollectedTkInput): "same" {
  const { orderId, sn } = tk;
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
}

/** A {@link Store} over a backend; get one from `openSqliteStore` or `openPostgresStore`. */
export class CheckedStore extends KmsCaFront implements Store {
  /** @internal the backend's open function makes it. */
  constructor(backend: Backend) {
    super(backend);
  }

  /** Which implementation ("sqlite", "postgres"). */
  get kind(): string {
    return this.backend.kind;
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (typeof fn !== "function") {
      throw new TypeError(`fn must be a function, got ${typeof fn}`);
    }
    return await this.backend.transaction((view) => fn(new CheckedStore(view)));
  }

  schemaVersion(): Promise<number> {
    return this.backend.one("schema version", async (x) => {
      const r = await x.get("SELECT coalesce(max(version), 0) AS v FROM schema_version");
      return Number(r!.v);
    });
  }

  stateHash(): Promise<string> {
    return this.backend.one("state hash", async (x) => {
      const h = createHash("sha256");
      for (const [table, key] of HASHED_TABLES) {
        h.update(`\u0000${table}\u0000`);
        await x.each(`SELECT * FROM ${table} ORDER BY ${key}`, (row) => {
          h.update(JSON.stringify(Object.values(row)));
          h.update("\n");
        });
      }
      return h.digest("hex").toUpperCase();
    });
  }

  countByState(): Promise<T.StateCounts> {
    return this.backend.one("state counts", async (x) => {
      const orders = Object.fromEntries(ORDER_STATES.map((s) => [s, 0]));
      const terminals = Object.fromEntries(TERMINAL_STATES.map((s) => [s, 0]));
      for (const r of await x.all("SELECT state, count(*) AS n FROM orders GROUP BY state")) {
        orders[str(r.state)] = Number(r.n);
      }
      for (const r of await x.all("SELECT state, count(*) AS n FROM terminals GROUP BY state")) {
        terminals[str(r.state)] = Number(r.n);
      }
      const locked = await x.get(
        "SELECT count(*) AS n FROM terminals WHERE locked_at IS NOT NULL",
      );
      return {
        orders: orders as T.StateCounts["orders"],
        terminals: terminals as T.StateCounts["terminals"],
        lockedTerminals: Number(locked!.n),
      };
    });
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  // ---- orders ----

  createOrder(
    order: {
      orderId: string;
      state: T.OrderState;
      createdAt: Date;
      serialNumbers?: Iterable<string>;
    },
  ): Promise<T.Order> {
    checkOrderInput(order);
    const { orderId, state, serialNumbers: sns } = order;
    const createdAt = iso(order.createdAt);
    return this.backend.atomic(`order ${orderId}`, async (x) => {
      const made = await x.run(
        `INSERT INTO orders (order_id, state, terminals, created_at) VALUES (?, ?, 0, ?)
         ON CONFLICT (order_id) DO NOTHING`,
        orderId,
        state,
        createdAt,
      );
      if (made === 0) throw new StoreError("duplicate", `order ${orderId} already exists`);
      const n = await this.backend.addSerials(x, orderId, sns ?? []);
      await x.run("UPDATE orders SET terminals = ? WHERE order_id = ?", n, orderId);
      return { orderId, state, createdAt, terminals: n };
    }, Array.isArray(sns));
  }

  getOrder(orderId: string): Promise<T.Order | null> {
    checkId("orderId", orderId);
    return this.backend.one("order", async (x) => {
      const r = await x.get("SELECT * FROM orders WHERE order_id = ?", orderId);
      return r ? toOrder(r) : null;
    });
  }

  setOrderState(orderId: string, from: T.OrderState, to: T.OrderState): Promise<boolean> {
    checkId("orderId", orderId);
    checkOneOf("from", from, ORDER_STATES);
    checkOneOf("to", to, ORDER_STATES);
    return this.backend.one(`order ${orderId}`, async (x) => {
      const n = await x.run(
        "UPDATE orders SET state = ? WHERE order_id = ? AND state = ?",
        to,
        orderId,
        from,
      );
      if (n === 0 && !(await x.get("SELECT 1 FROM orders WHERE order_id = ?", orderId))) {
        throw new StoreError("not_found", `order ${orderId} does not exist`);
      }
      return n === 1;
    });
  }

  // ---- MTMS ----

  putCollectedTk(tk: T.CollectedTkInput): Promise<"stored" | "same"> {
    checkCollectedTk(tk);
    const { orderId, sn } = tk;
    return this.backend.one(`TK of ${sn}`, async (x) => {
      const n = await x.run(
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
      const row = await x.get(
        `SELECT c.order_id, c.tk_hash, o.state
         FROM collected_tks c JOIN orders o USING (order_id) WHERE c.sn = ?`,
        sn,
      );
      return collectedRefusal(row, tk);
    });
  }

  getCollectedTk(sn: string): Promise<T.CollectedTk | null> {
    checkId("sn", sn);
    return this.backend.one("collected TK", async (x) => {
      const r = await x.get("SELECT * FROM collected_tks WHERE sn = ?", sn);
      return r ? toCollected(r) : null;
    });
  }

  countCollected(orderId: string): Promise<{ terminals: number; collected: number }> {
    checkId("orderId", orderId);
    return this.backend.one(`order ${orderId}`, async (x) => {
      if (!(await x.get("SELECT 1 FROM orders WHERE order_id = ?", orderId))) {
        throw new StoreError("not_found", `order ${orderId} does not exist`);
      }
      const r = await x.get(
        "SELECT count(*) AS t, count(tk_block) AS c FROM collected_tks WHERE order_id = ?",
        orderId,
      );
      return { terminals: Number(r!.t), collected: Number(r!.c) };
    });
  }

  listCollectedTks(orderId: string, page: T.PageOptions): Promise<T.CollectedTk[]> {
    checkId("orderId", orderId);
    const { after, limit } = checkPage(page);
    return this.backend.one(`order ${orderId}`, async (x) =>
      (await x.all(
        `SELECT * FROM collected_tks WHERE order_id = ? AND sn > ? AND tk_block IS NOT NULL
         ORDER BY sn LIMIT ?`,
        orderId,
        after,
        limit,
      )).map(toCollected));
  }

  collectedTkHolders(tkHash: string): Promise<string[]> {
    checkHash("tkHash", tkHash);
    return this.backend.one("collected TKs by hash", async (x) =>
      (await x.all(
        "SELECT sn FROM collected_tks WHERE tk_hash = ? ORDER BY sn LIMIT 10",
        tkHash,
      )).map((r) => str(r.sn)));
  }

  // ---- KMS: batches and staging ----

  knownTkHashes(
    uploadId: string,
    tkHashes: readonly string[],
  ): Promise<{ tkHash: string; sn: string; staged: boolean }[]> {
    checkId("uploadId", uploadId);
    if (!Array.isArray(tkHashes) || tkHashes.length > 1000) {
      throw new RangeError("tkHashes must be an array of at most 1000 hashes");
    }
    tkHashes.forEach((h, i) => checkHash(`tkHashes[${i}]`, h));
    if (tkHashes.length === 0) return Promise.resolve([]);
    const marks = tkHashes.map(() => "?").join(", ");
    return this.backend.one("TKs by hash", async (x) => {
      const held = await x.all(
        `SELECT tk_hash, sn FROM terminals WHERE tk_hash IN (${marks})`,
        ...tkHashes,
      );
      const staged = await x.all(
        `SELECT tk_hash, sn FROM tk_staging WHERE upload_id = ? AND tk_hash IN (${marks})`,
        uploadId,
        ...tkHashes,
      );
      return [
        ...held.map((r) => ({ tkHash: str(r.tk_hash), sn: str(r.sn), staged: false })),
        ...staged.map((r) => ({ tkHash: str(r.tk_hash), sn: str(r.sn), staged: true })),
      ];
    });
  }

  importTkBatch(batch: T.TkBatchInput): Promise<T.TkBatchResult> {
    checkTkBatch(batch);
    const { orderId, bodyHash, auditActor } = batch;
    const at = iso(batch.receivedAt);
    return this.backend.atomic(`batch of order ${orderId}`, async (x) => {
      // Imports of one order wait for each other; the second sees the first's batch.
      await this.backend.lockKey(x, `tk-batch:${orderId}`);
      const prior = await x.get("SELECT * FROM tk_batches WHERE order_id = ?", orderId);
      if (prior) {
        if (prior.body_hash === bodyHash) return { duplicate: true, tks: Number(prior.tks) };
        throw new StoreError(
          "conflict",
          `order ${orderId} already has a different TK batch (received ${time(prior.received_at)})`,
        );
      }
      const made = await x.run(
        `INSERT INTO orders (order_id, state, terminals, created_at) VALUES (?, 'imported', 0, ?)
         ON CONFLICT (order_id) DO NOTHING`,
        orderId,
        at,
      );
      if (made === 0) {
        throw new StoreError("conflict", `order ${orderId} already exists without a batch`);
      }
      const n = await this.backend.insertTerminals(x, orderId, at, batch.tks, who(auditActor));
      if (n === 0) throw new RangeError("batch.tks must hold at least one TK, got none");
      await x.run(
        "INSERT INTO tk_batches (order_id, body_hash, tks, received_at) VALUES (?, ?, ?, ?)",
        orderId,
        bodyHash,
        n,
        at,
      );
      await x.run("UPDATE orders SET terminals = ? WHERE order_id = ?", n, orderId);
      return { duplicate: false, tks: n };
    }, Array.isArray(batch.tks));
  }

  getTkBatch(orderId: string): Promise<T.TkBatch | null> {
    checkId("orderId", orderId);
    return this.backend.one("batch", async (x) => {
      const r = await x.get("SELECT * FROM tk_batches WHERE order_id = ?", orderId);
      return r ? toTkBatch(r) : null;
    });
  }

  stageTks(
    uploadId: string,
    firstSeq: number,
    tks: readonly T.ImportedTk[],
    at: Date,
  ): Promise<number> {
    checkStageTks(uploadId, firstSeq, tks, at);
    return this.backend.stageTks(uploadId, firstSeq, tks, iso(at));
  }

  listStagedTks(uploadId: string, page: { after: number; limit: number }): Promise<T.StagedTk[]> {
    checkStagedPage(uploadId, page);
    return this.backend.one(`upload ${uploadId}`, async (x) =>
      (await x.all(
        "SELECT * FROM tk_staging WHERE upload_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        uploadId,
        page.after,
        page.limit,
      )).map(toStaged));
  }

  dropStaged(uploadId: string): Promise<number> {
    checkId("uploadId", uploadId);
    return this.backend.atomic(
      `upload ${uploadId}`,
      (x) => x.run("DELETE FROM tk_staging WHERE upload_id = ?", uploadId),
    );
  }

  purgeStaged(idleBefore: Date): Promise<number> {
    checkDate("idleBefore", idleBefore);
    return this.backend.atomic("staged uploads", (x) =>
      x.run(
        `DELETE FROM tk_staging WHERE upload_id IN
         (SELECT upload_id FROM tk_staging GROUP BY upload_id HAVING max(staged_at) < ?)`,
        iso(idleBefore),
      ));
  }

  // ---- KMS: terminals ----

  registerTerminal(sn: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("at", at);
    return this.backend.one(`terminal ${sn}`, async (x) =>
      await x.run(
        `INSERT INTO terminals (sn, state, created_at, updated_at) VALUES (?, 'registered', ?, ?)
         ON CONFLICT (sn) DO NOTHING`,
        sn,
        iso(at),
        iso(at),
      ) === 1);
  }

  getTerminal(sn: string): Promise<T.Terminal | null> {
    checkId("sn", sn);
    return this.backend.one("terminal", async (x) => {
      const r = await x.get("SELECT * FROM terminals WHERE sn = ?", sn);
      return r ? toTerminal(r) : null;
    });
  }

  listTerminals(
    orderId: string,
    page: T.PageOptions & { filter?: T.TerminalFilter },
  ): Promise<T.Terminal[]> {
    checkId("orderId", orderId);
    const { after, limit } = checkPage(page);
    const filter = page.filter ?? "all";
    checkOneOf("page.filter", filter, FILTERS);
    const cond = filter === "all"
      ? ""
      : filter === "without_tmk"
      ? "AND tmk_block IS NULL"
      : "AND tmk_block IS NOT NULL";
    return this.backend.one(`order ${orderId}`, async (x) =>
      (await x.all(
        `SELECT * FROM terminals WHERE order_id = ? AND sn > ? ${cond} ORDER BY sn LIMIT ?`,
        orderId,
        after,
        limit,
      )).map(toTerminal));
  }

  listTksToIssue(orderId: string, page: T.PageOptions): Promise<T.TkToIssue[]> {
    checkId("orderId", orderId);
    const { after, limit } = checkPage(page);
    return this.backend.one(`order ${orderId}`, async (x) =>
      (await x.all(
        `SELECT sn, tk_block, tk_hash FROM terminals
         WHERE order_id = ? AND sn > ? AND tmk_block IS NULL ORDER BY sn LIMIT ?`,
        orderId,
        after,
        limit,
      )).map(toTkToIssue));
  }

  countTerminals(orderId: string): Promise<T.TerminalCounts> {
    checkId("orderId", orderId);
    return this.backend.one(`order ${orderId}`, async (x) => {
      const r = (await x.get(
        `SELECT count(*) AS t, count(tmk_block) AS i, count(delivered_at) AS d
         FROM terminals WHERE order_id = ?`,
        orderId,
      ))!;
      return { terminals: Number(r.t), withTmk: Number(r.i), delivered: Number(r.d) };
    });
  }

  issueTmk(issue: T.TmkIssue): Promise<boolean> {
    checkTmkIssue("issue", issue);
    const t = issue;
    const at = iso(t.issuedAt);
    return this.backend.one(`TMK of ${t.sn}`, async (x) => {
      const n = await x.run(ISSUE_TMK, t.tmkBlock, t.tmkUnderTk, t.tmkKcv, at, at, t.sn);
      if (n === 0) await mustExist(x, t.sn);
      return n === 1;
    });
  }

  issueTmks(issues: readonly T.TmkIssue[], options: T.IssueTmksOptions = {}): Promise<number> {
    checkTmkIssues(issues, options);
    return this.backend.issueTmks(issues, who(options.auditActor));
  }

  markTmkSent(sn: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("at", at);
    return this.backend.one(`terminal ${sn}`, async (x) =>
      await x.run(
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
    return this.backend.one(`terminal ${sn}`, async (x) =>
      await x.run(
        `UPDATE terminals SET state = 'delivered', delivered_at = ?, updated_at = ?
         WHERE sn = ? AND tmk_kcv = ? AND tmk_sent_at IS NOT NULL AND delivered_at IS NULL`,
        iso(at),
        iso(at),
        sn,
        tmkKcv,
      ) === 1);
  }
}
