/**
 * Extends the audit chain inside a write transaction: reads the head row
 * (locked until the transaction ends, so appends from several instances on
 * one database serialize and form one chain), gives each new record the
 * next id and the hash of the record before it, and writes the new head.
 * The hashing is {@link ./audit_chain.ts}.
 *
 * @module
 */
import type { Exec } from "./_backend.ts";
import type { Param } from "./_rows.ts";
import { auditRecordHash, type ChainedAuditRecord } from "./audit_chain.ts";
import { StoreError } from "./errors.ts";

/** The audit_log columns in the order of {@link rowValues}. */
export const AUDIT_COLUMNS =
  "id, at, actor, event, subject, key_id, kcv, outcome, detail, operator, prev_hash";

/** A record's values in the order of {@link AUDIT_COLUMNS}. */
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

/** The head of the chain during one transaction. */
export class ChainAppender {
  #seq: number;
  #hash: string;
  readonly #from: number;

  private constructor(seq: number, hash: string) {
    this.#seq = seq;
    this.#hash = hash;
    this.#from = seq;
  }

  /**
   * Reads the head inside a transaction, locking it where the database
   * locks rows (`lockRow`, see the backend).
   */
  static async open(x: Exec, lockRow: string): Promise<ChainAppender> {
    const r = await x.get(`SELECT seq, hash FROM audit_head WHERE id = 1${lockRow}`);
    if (!r) {
      throw new StoreError("schema", "the audit_head row is missing: the audit chain cannot grow");
    }
    return new ChainAppender(Number(r.seq), r.hash as string);
  }

  /** Gives a record the next id and the current hash as its link; returns it. */
  link(r: UnlinkedRecord): ChainedAuditRecord {
    const rec: ChainedAuditRecord = { ...r, id: this.#seq + 1, prevHash: this.#hash };
    this.#hash = auditRecordHash(rec);
    this.#seq = rec.id;
    return rec;
  }

  /** Writes the new head (if records were linked); call once the records are inserted. */
  async close(x: Exec): Promise<void> {
    if (this.#seq === this.#from) return;
    await x.run("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", this.#seq, this.#hash);
  }
}
