/**
 * The PostgreSQL backend's bulk writes of keys with their audit records
 * (flow A S14 import and S15 issuance, CN103714639A): the key-lifecycle
 * records linked into the audit chain a chunk at a time, and a page of
 * issued TMKs as one locking read and one UPDATE (on a chain head held in
 * memory: the UPDATE and the records' INSERT as one statement, the whole
 * transaction sent at once). Each column of a bulk
 * statement goes as one text of line-feed-separated values, split in SQL
 * by `string_to_array`: one parameter the client sends as it is, where an
 * array would be escaped element by element.
 *
 * @module
 */
import type postgres from "postgres";
import type { Backend, Exec, KeyAuditWho } from "./_backend.ts";
import { CHAIN_LOCK, ChainAppender } from "./_chain.ts";
import { str } from "./_rows.ts";
import type { TmkIssue } from "./types.ts";

/** A connection or transaction of the `postgres` client, as the backend's statements hold it. */
// deno-lint-ignore no-explicit-any
type Q = postgres.Sql<any> | postgres.TransactionSql<any> | Reserved;

/** A connection reserved from the pool, for statements sent at once on it. */
// deno-lint-ignore no-explicit-any
type Reserved = postgres.ReservedSql<any>;

/** What the bulk writes need of a statement runner: its client, inside a transaction. */
type PgTx = Exec & { q: Q };

/**
 * Values joined by line feeds, for `string_to_array(?, chr(10))`. The
 * values are checked texts (SNs, key blocks, hex, ISO times) that hold no
 * line feed; one that did would shift every row after it, so it is refused.
 *
 * @param values the column's values, none empty (an empty one would read back as null).
 * @returns the joined text.
 * @throws {TypeError} for an empty value or one with a line feed.
 */
export function lines(values: readonly string[]): string {
  for (const v of values) {
    if (v.length === 0 || v.includes("\n")) {
      throw new TypeError(
        `a bulk write's value is empty or holds a line feed: ${JSON.stringify(v)}`,
      );
    }
  }
  return values.join("\n");
}

/** Linked key-lifecycle records as the columns of their INSERT. */
interface KeyRecords {
  first: number;
  ats: readonly string[];
  sns: readonly string[];
  kcvs: readonly string[];
  prevHashes: readonly string[];
}

/**
 * The INSERT of linked key-lifecycle records, as a fragment of a statement;
 * `ids` makes record `v.i`'s id (default: the first id plus `v.i - 1`).
 */
function keyRecords(
  q: Q,
  fixed: KeyAuditWho & { event: string; keyId: string },
  r: KeyRecords,
  ids = q`${r.first}::bigint + v.i - 1`,
) {
  return q`INSERT INTO audit_log
      (id, at, actor, event, subject, key_id, kcv, outcome, operator, prev_hash)
    OVERRIDING SYSTEM VALUE
    SELECT ${ids}, v.at::timestamptz, ${fixed.actor}, ${fixed.event}, v.s,
           ${fixed.keyId}, v.k, 'success', ${fixed.operator}::text, decode(v.p, 'hex')
    FROM unnest(string_to_array(${lines(r.ats)}::text, chr(10)),
                string_to_array(${lines(r.sns)}::text, chr(10)),
                string_to_array(${lines(r.kcvs)}::text, chr(10)),
                string_to_array(${r.prevHashes.join("\n")}::text, chr(10)))
         WITH ORDINALITY AS v(at, s, k, p, i)`;
}

/**
 * Key-lifecycle audit records of a bulk write, inside its transaction:
 * `add` links a chunk's records into the chain in SN order and inserts them
 * in one statement.
 *
 * @param x the transaction.
 * @param backend takes the chain's lock.
 * @param who the actor and operator the records name.
 * @param event `tk_imported` or `tmk_issued`.
 * @param keyId `TK` or `TMK`.
 * @param opened the chain, if the caller has already sent its opening (pipelined).
 */
export async function keyAudit(
  x: PgTx,
  backend: Pick<Backend, "lockKey">,
  who: KeyAuditWho,
  event: string,
  keyId: string,
  opened?: Promise<ChainAppender>,
): Promise<{ add(rows: { at: string; sn: string; kcv: string }[]): Promise<void> }> {
  const chain = await (opened ?? ChainAppender.open(x, backend));
  const fixed = { ...who, event, keyId };
  return {
    async add(rows) {
      if (rows.length === 0) return;
      rows.sort((a, b) => (a.sn < b.sn ? -1 : a.sn > b.sn ? 1 : 0));
      const ats = rows.map((r) => r.at);
      const sns = rows.map((r) => r.sn);
      const kcvs = rows.map((r) => r.kcv);
      const { first, prevHashes } = chain.linkKeyRecords(fixed, ats, sns, kcvs);
      await keyRecords(x.q, fixed, { first, ats, sns, kcvs, prevHashes });
    },
  };
}

/** The chain's head: the last record's id and hash. */
export type ChainHead = { seq: number; hash: string };

/** What a page stored: how many TMKs, and the chain's head after it (when audited). */
export interface TmkPageStored {
  count: number;
  head?: ChainHead;
}

/**
 * Whether `e` says a page written by {@link TmkPage}'s `storeAfter` was not
 * as foreseen: an audit record's id already taken (the chain grew past the
 * head held in memory), or a record without an id (a terminal of the page
 * already had a TMK, so the records are not inserted).
 */
export function pageForeseenWrong(e: unknown): boolean {
  const x = e as { code?: unknown; table_name?: unknown; column_name?: unknown };
  return x?.table_name === "audit_log" &&
    (x.code === "23505" || (x.code === "23502" && x.column_name === "id"));
}

/** A page of TMKs ready for {@link tmkPage}'s `store`. */
export interface TmkPage {
  /** Stores the page in the transaction `x`, with its audit records if `who` is set. */
  store(
    x: PgTx,
    backend: Pick<Backend, "lockKey">,
    who: KeyAuditWho | undefined,
  ): Promise<TmkPageStored>;
  /**
   * Stores the page with its audit records in a transaction of its own on
   * the reserved connection `q`, foreseeing that every terminal of it still
   * has no TMK and that the chain still ends at `head`: the records are
   * linked before anything is sent, and BEGIN, the row locks, the chain's
   * lock, one statement updating the terminals and inserting the records,
   * and COMMIT go at once (one round trip). When the page is not as
   * foreseen that statement fails ({@link pageForeseenWrong}), so the
   * COMMIT rolls back; so does any other failure. Rejects with the first.
   */
  storeAfter(
    q: Reserved,
    who: KeyAuditWho,
    head: ChainHead,
  ): Promise<TmkPageStored>;
}

/**
 * A page of TMK issues as the columns of its UPDATE: the first issue of an
 * SN counts, as if applied one by one.
 *
 * @param issues checked issues.
 * @returns the page, or null when it is empty.
 */
export function tmkPage(issues: readonly TmkIssue[]): TmkPage | null {
  const first = new Map<string, { at: string; kcv: string }>();
  const rows: TmkIssue[] = [];
  const ats: string[] = [];
  // A page's TMKs share one time: its text is made once.
  let when: Date | undefined;
  let at = "";
  for (const t of issues) {
    if (first.has(t.sn)) continue;
    if (t.issuedAt !== when) {
      when = t.issuedAt;
      at = when.toISOString();
    }
    first.set(t.sn, { at, kcv: t.tmkKcv });
    rows.push(t);
    ats.push(at);
  }
  if (rows.length === 0) return null;
  const sns = lines(rows.map((t) => t.sn));
  const blocks = lines(rows.map((t) => t.tmkBlock));
  // Flow B's TMKs have no copy under a TK: an empty value reads back as null (a column of
  // one empty value is an empty array, which `unnest` pads with null).
  const under = rows.map((t) => t.tmkUnderTk ?? "");
  if (under.some((u) => u.includes("\n"))) throw new TypeError("a TMK under TK holds a line feed");
  const kcvs = lines(rows.map((t) => t.tmkKcv));
  const times = lines(ats);
  // Lock in SN order first: two instances issuing overlapping pages never deadlock (the lock
  // the UPDATE takes: it changes no key column). The statements after it are sent at once
  // behind it (pipelined) and wait for it in the server; the chain's lock is taken last,
  // after the terminals, as every writer takes it.
  const lock = (q: Q) =>
    q`SELECT count(*) FROM (SELECT sn FROM terminals
        WHERE sn = ANY(string_to_array(${sns}::text, chr(10))) AND tmk_block IS NULL
        ORDER BY sn FOR NO KEY UPDATE) AS l`;
  const update = (q: Q) =>
    q`UPDATE terminals AS t
      SET tmk_block = v.b, tmk_under_tk = v.u, tmk_kcv = v.k, tmk_issued_at = v.at,
          updated_at = v.at, state = 'tmk_issued'
      FROM (SELECT sn, b, u, k, at::timestamptz AS at
            FROM unnest(string_to_array(${sns}::text, chr(10)),
                        string_to_array(${blocks}::text, chr(10)),
                        string_to_array(${under.join("\n")}::text, chr(10), ''),
                        string_to_array(${kcvs}::text, chr(10)),
                        string_to_array(${times}::text, chr(10))) AS w(sn, b, u, k, at)) AS v
      WHERE t.sn = v.sn AND t.tmk_block IS NULL`;
  return {
    async store(x, backend, who) {
      const { q } = x;
      const [, r, chain] = await Promise.all([
        lock(q),
        q`${update(q)} RETURNING t.sn`,
        who === undefined ? undefined : ChainAppender.open(x, backend),
      ]);
      if (who === undefined) return { count: r.count };
      if (r.length > 0) {
        const audit = await keyAudit(x, backend, who, "tmk_issued", "TMK", Promise.resolve(chain!));
        await audit.add(r.map((t) => {
          const sn = str(t.sn);
          return { sn, ...first.get(sn)! };
        }));
      }
      return { count: r.count, head: chain!.head };
    },
    async storeAfter(q, who, head) {
      const order = [...first.keys()].sort();
      const rec = {
        ats: order.map((sn) => first.get(sn)!.at),
        sns: order,
        kcvs: order.map((sn) => first.get(sn)!.kcv),
      };
      const chain = ChainAppender.resume(head);
      const fixed = { ...who, event: "tmk_issued", keyId: "TMK" };
      const linked = chain.linkKeyRecords(fixed, rec.ats, rec.sns, rec.kcvs);
      // An id only when every terminal of the page was updated: else the insert fails.
      const ids = q`CASE WHEN (SELECT count(*) FROM u) = ${order.length}
                         THEN ${linked.first}::bigint + v.i - 1 END`;
      const sent = await Promise.allSettled([
        q`BEGIN`,
        lock(q),
        q`SELECT pg_advisory_xact_lock(hashtext(${CHAIN_LOCK}))`,
        q`WITH u AS (${update(q)} RETURNING 1) ${keyRecords(q, fixed, { ...rec, ...linked }, ids)}`,
        q`COMMIT`,
      ]);
      const failed = sent.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      return { count: order.length, head: chain.head };
    },
  };
}
