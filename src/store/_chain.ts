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
import { hash as digest } from "node:crypto";
import type { Backend, Exec, KeyAuditWho } from "./_backend.ts";
import { type Param, toChained } from "./_rows.ts";
import {
  AUDIT_CHAIN_FORMAT,
  auditRecordHash,
  type ChainedAuditRecord,
  GENESIS,
} from "./audit_chain.ts";

/** The audit_log columns in the order of {@link rowValues}. */
export const AUDIT_COLUMNS =
  "id, at, actor, event, subject, key_id, kcv, outcome, detail, operator, prev_hash";

/** The lock every append of the audit chain takes. */
export const CHAIN_LOCK = "tmk-audit-chain";

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

  /**
   * Takes the chain's lock inside a transaction and reads its head. Both
   * statements are sent at once (pipelined on the transaction's connection,
   * where the database runs them in order: the head is read once the lock
   * is held), one wait for the answers instead of two.
   */
  static async open(x: Exec, backend: Pick<Backend, "lockKey">): Promise<ChainAppender> {
    const [, head] = await Promise.all([backend.lockKey(x, CHAIN_LOCK), chainHead(x)]);
    return new ChainAppender(head);
  }

  /**
   * Continues from `head`, a head this process committed, without reading
   * it. The caller takes {@link CHAIN_LOCK} in the same transaction before
   * its inserts, and those inserts must fail when another record was
   * appended since: ids are the chain's positions, so the next id is then
   * taken.
   */
  static resume(head: { seq: number; hash: string }): ChainAppender {
    return new ChainAppender(head);
  }

  /** The last record's id and hash, with what was linked so far. */
  get head(): { seq: number; hash: string } {
    return { seq: this.#seq, hash: this.#hash };
  }

  /** Gives a record the next id and the current hash as its link; returns it. */
  link(r: UnlinkedRecord): ChainedAuditRecord {
    const rec: ChainedAuditRecord = { ...r, id: this.#seq + 1, prevHash: this.#hash };
    this.#hash = auditRecordHash(rec);
    this.#seq = rec.id;
    return rec;
  }

  /**
   * Links a run of key-lifecycle records (outcome `success`, no detail) that
   * differ only in time, subject and KCV: record `i` gets id `first + i` and
   * link `prevHashes[i]`. Each hash is {@link auditRecordHash}'s, over the
   * same canonical text, built from the fields' JSON texts with the fixed
   * ones encoded once (the JSON text of an array is its elements' JSON texts
   * joined by commas in brackets), without an object per record, each hash
   * in one call.
   *
   * @param fixed who acted, the event and the key id, the same for every record.
   * @param at each record's time (ISO text), in order.
   * @param subject each record's subject (an SN).
   * @param kcv each record's KCV.
   * @returns the first id and each record's link.
   */
  linkKeyRecords(
    fixed: KeyAuditWho & { event: string; keyId: string },
    at: readonly string[],
    subject: readonly string[],
    kcv: readonly string[],
  ): { first: number; prevHashes: string[] } {
    const j = JSON.stringify;
    const head = `[${j(AUDIT_CHAIN_FORMAT)},`;
    const mid = `,${j(fixed.actor)},${j(fixed.event)},`;
    const key = `,${j(fixed.keyId)},`;
    const tail = `,"success",null,${j(fixed.operator)},`;
    const first = this.#seq + 1;
    const prevHashes: string[] = new Array(at.length);
    let hash = this.#hash;
    for (let i = 0; i < at.length; i++) {
      prevHashes[i] = hash;
      const text = head + (first + i) + "," + j(at[i]) + mid + j(subject[i]) + key + j(kcv[i]) +
        tail + j(hash) + "]";
      hash = (digest("sha256", text, "hex") as string).toUpperCase();
    }
    this.#hash = hash;
    this.#seq = first + at.length - 1;
    return { first, prevHashes };
  }
}
