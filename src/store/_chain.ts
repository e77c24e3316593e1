/**
 * Extends the audit chain inside a write transaction: takes the chain's
 * lock (PostgreSQL: an advisory lock held until the transaction ends;
 * SQLite: the write transaction already holds the database), so appends
 * from several instances on one database serialize and form one chain;
 * reads the last record, and gives each new record the next id and the
 * hash of the record before it. The hashing is {@link ./audit_chain.ts}.
 *
 * @module
 */
import type { Backend, Exec } from "./_backend.ts";
import { type Param, toChained } from "./_rows.ts";
import { auditRecordHash, type ChainedAuditRecord, GENESIS } from "./audit_chain.ts";

/** The audit_log columns in the order of {@link rowValues}. */
export const AUDIT_COLUMNS =
  "id, at, actor, event, subject, key_id, kcv, outcome, detail, operator, prev_hash";

/** The lock every append of the audit chain takes. */
const CHAIN_LOCK = "tmk-audit-chain";

/** A record's values in the order of {@link AUDIT_COLUMNS} (the link as hex text). */
export function rowValues(r: ChainedAuditRecord): Param[] {
  return [
    r.id,
    r.at,
    r.actor,
    r.event,
    r.subject,
    r.keyId,
    r.kcv,
    r.outcome,
    r.detail,
    r.operator,
    r.prevHash,
  ];
}

/** A record before it is linked: every field but its id and link. */
export type UnlinkedRecord = Omit<ChainedAuditRecord, "id" | "prevHash">;

/**
 * The last record's id and hash ({@link GENESIS} after none, or after a
 * record from before the chain).
 */
export async function chainHead(x: Exec): Promise<{ seq: number; hash: string }> {
  const r = await x.get("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1");
  if (!r) return { seq: 0, hash: GENESIS };
  const last = toChained(r);
  return { seq: last.id, hash: last.prevHash === null ? GENESIS : auditRecordHash(last) };
}

/** The head of the chain during one transaction. */
export class ChainAppender {
  #seq: number;
  #hash: string;

  private constructor(head: { seq: number; hash: string }) {
    this.#seq = head.seq;
    this.#hash = head.hash;
  }

  /** Takes the chain's lock inside a transaction and reads its head. */
  static async open(x: Exec, backend: Pick<Backend, "lockKey">): Promise<ChainAppender> {
    await backend.lockKey(x, CHAIN_LOCK);
    return new ChainAppender(await chainHead(x));
  }

  /** Gives a record the next id and the current hash as its link; returns it. */
  link(r: UnlinkedRecord): ChainedAuditRecord {
    const rec: ChainedAuditRecord = { ...r, id: this.#seq + 1, prevHash: this.#hash };
    this.#hash = auditRecordHash(rec);
    this.#seq = rec.id;
    return rec;
  }
}
