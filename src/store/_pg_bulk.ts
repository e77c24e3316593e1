/**
 * The PostgreSQL backend's bulk writes of keys with their audit records
 * (flow A S14 import and S15 issuance, CN103714639A): the key-lifecycle
 * records linked into the audit chain a chunk at a time, and a page of
 * issued TMKs as one locking read and one UPDATE. Each column of a bulk
 * statement goes as one text of line-feed-separated values, split in SQL
 * by `string_to_array`: one parameter the client sends as it is, where an
 * array would be escaped element by element.
 *
 * @module
 */
import type postgres from "postgres";
import type { Backend, Exec, KeyAuditWho } from "./_backend.ts";
import { ChainAppender } from "./_chain.ts";
import { str } from "./_rows.ts";
import type { TmkIssue } from "./types.ts";

/** A connection or transaction of the `postgres` client, as the backend's statements hold it. */
// deno-lint-ignore no-explicit-any
type Q = postgres.Sql<any> | postgres.TransactionSql<any>;

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
      await x.q`INSERT INTO audit_log
          (id, at, actor, event, subject, key_id, kcv, outcome, operator, prev_hash)
        OVERRIDING SYSTEM VALUE
        SELECT ${first}::bigint + v.i - 1, v.at::timestamptz, ${who.actor}, ${event}, v.s,
               ${keyId}, v.k, 'success', ${who.operator}::text, decode(v.p, 'hex')
        FROM unnest(string_to_array(${lines(ats)}::text, chr(10)),
                    string_to_array(${lines(sns)}::text, chr(10)),
                    string_to_array(${lines(kcvs)}::text, chr(10)),
                    string_to_array(${prevHashes.join("\n")}::text, chr(10)))
             WITH ORDINALITY AS v(at, s, k, p, i)`;
    },
  };
}

/** A page of TMKs ready for {@link tmkPage}'s `store`. */
export interface TmkPage {
  /** Stores the page in the transaction `x`, with its audit records if `who` is set; how many. */
  store(x: PgTx, backend: Pick<Backend, "lockKey">, who: KeyAuditWho | undefined): Promise<number>;
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
  return {
    async store(x, backend, who) {
      const { q } = x;
      // Lock in SN order first: two instances issuing overlapping pages never deadlock (the
      // lock the UPDATE takes: it changes no key column). The update is sent at once behind it
      // (pipelined) and waits for it in the server, and so is the opening of the chain: its
      // lock is taken last, after the terminals, as every writer takes it.
      const lock = q`SELECT count(*) FROM (SELECT sn FROM terminals
            WHERE sn = ANY(string_to_array(${sns}::text, chr(10))) AND tmk_block IS NULL
            ORDER BY sn FOR NO KEY UPDATE) AS l`;
      const [, r, chain] = await Promise.all([
        lock,
        q`UPDATE terminals AS t
          SET tmk_block = v.b, tmk_under_tk = v.u, tmk_kcv = v.k, tmk_issued_at = v.at,
              updated_at = v.at, state = 'tmk_issued'
          FROM (SELECT sn, b, u, k, at::timestamptz AS at
                FROM unnest(string_to_array(${sns}::text, chr(10)),
                            string_to_array(${blocks}::text, chr(10)),
                            string_to_array(${under.join("\n")}::text, chr(10), ''),
                            string_to_array(${kcvs}::text, chr(10)),
                            string_to_array(${times}::text, chr(10))) AS w(sn, b, u, k, at)) AS v
          WHERE t.sn = v.sn AND t.tmk_block IS NULL
          RETURNING t.sn`,
        who === undefined ? undefined : ChainAppender.open(x, backend),
      ]);
      if (who !== undefined && r.length > 0) {
        const audit = await keyAudit(x, backend, who, "tmk_issued", "TMK", Promise.resolve(chain!));
        await audit.add(r.map((t) => {
          const sn = str(t.sn);
          return { sn, ...first.get(sn)! };
        }));
      }
      return r.count;
    },
  };
}
