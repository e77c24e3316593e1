/**
 * The audit log's hash chain and its checker. Each record carries the
 * SHA-256 (FIPS 180-4) of the record before it over a canonical encoding
 * ({@link auditRecordHash}); every so often the chain's hash at a record is
 * MAC'd by the HSM under the audit key (a checkpoint,
 * {@link checkpointMacInput}). {@link verifyAuditChain} walks the whole log
 * and finds a record changed, deleted, inserted or moved, even when the
 * database's append-only triggers were dropped:
 *
 * - a changed, moved or inserted record breaks the link of the record after
 *   it (its `prevHash` no longer matches);
 * - a deleted record leaves a gap in the ids (they are the chain's positions);
 * - a chain recomputed after tampering no longer matches the hash a
 *   checkpoint MAC'd, and a checkpoint cannot be forged without the HSM.
 *
 * What no checkpoint covers yet (records after the last one) is protected
 * by the chain alone: the last record changed, or the tail rewritten with
 * its hashes recomputed or cut off, is found only by an auditor comparing
 * with an export or checkpoint kept elsewhere. Checkpoints are made every N
 * records and on demand.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { AuditRecord } from "./types.ts";

/** The `prevHash` of the first chained record. */
export const GENESIS = "0".repeat(64);

/** The first element of every canonical encoding: names the format. */
export const AUDIT_CHAIN_FORMAT = "TMK-AUDIT-1";

/** An audit record with who acted and its link in the chain. */
export interface ChainedAuditRecord extends AuditRecord {
  /** The operator whose request this record is part of, or null (a device, a start). */
  readonly operator: string | null;
  /** SHA-256 (hex) of the record before it; null for a record written before the chain. */
  readonly prevHash: string | null;
}

/** The chain's last record and its hash, as the log holds them. */
export interface AuditHead {
  /** The last record's id (0 for an empty log). */
  readonly seq: number;
  /** {@link auditRecordHash} of that record ({@link GENESIS} for none, or one before the chain). */
  readonly hash: string;
  /** The first chained record's id (records before it predate the chain). */
  readonly chainedFrom: number;
}

/** A checkpoint: the chain's hash at record `seq`, MAC'd by the HSM. */
export interface AuditCheckpoint {
  /** The id of the record it covers (with every record before it). */
  readonly seq: number;
  /** {@link auditRecordHash} of that record. */
  readonly hash: string;
  readonly at: string;
  /** KCV of the audit key that made the MAC. */
  readonly keyKcv: string;
  /** The retail MAC (ISO 9797-1 alg. 3) over {@link checkpointMacInput}, hex. */
  readonly mac: string;
}

/**
 * The canonical encoding of a record: a JSON array of the format name and
 * every field in a fixed order, `prevHash` last.
 *
 * @param r the record (its `prevHash` is part of what is hashed).
 * @returns the UTF-8 text that {@link auditRecordHash} hashes.
 */
export function canonicalAuditRecord(r: ChainedAuditRecord): string {
  return JSON.stringify([
    AUDIT_CHAIN_FORMAT,
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
  ]);
}

/**
 * SHA-256 of a record's canonical encoding.
 *
 * @param r the record.
 * @returns 64 uppercase hex digits.
 */
export function auditRecordHash(r: ChainedAuditRecord): string {
  return createHash("sha256").update(canonicalAuditRecord(r)).digest("hex").toUpperCase();
}

/**
 * The bytes a checkpoint's MAC covers.
 *
 * @param c the record id, the chain's hash there and the checkpoint's time.
 * @returns `TMK-AUDIT-CHECKPOINT-1 \n seq \n hash \n at` in UTF-8.
 */
export function checkpointMacInput(c: { seq: number; hash: string; at: string }): Uint8Array {
  return new TextEncoder().encode(`TMK-AUDIT-CHECKPOINT-1\n${c.seq}\n${c.hash}\n${c.at}`);
}

/** One thing {@link verifyAuditChain} found wrong. */
export interface AuditProblem {
  /** The record (or checkpoint) id where it shows. */
  readonly seq: number;
  /**
   * `gap`: ids missing (records deleted); `link`: the record does not follow
   * the one before it (that one changed, or a record was inserted or moved);
   * `unchained`: a record after the chain's start without a link;
   * `checkpoint_hash`: the chain's hash at a
   * checkpoint differs from the one MAC'd; `checkpoint_mac`: a checkpoint's
   * MAC does not verify; `checkpoint_orphan`: a checkpoint at a missing record.
   */
  readonly kind:
    | "gap"
    | "link"
    | "unchained"
    | "checkpoint_hash"
    | "checkpoint_mac"
    | "checkpoint_orphan";
  readonly message: string;
}

/** What {@link verifyAuditChain} found. */
export interface AuditVerifyReport {
  /** True if no problem was found. */
  readonly ok: boolean;
  /** Chained records checked. */
  readonly records: number;
  /** Records written before the chain (not covered). */
  readonly unchained: number;
  /** Checkpoints whose MAC verified and whose hash matches the chain. */
  readonly checkpointsVerified: number;
  /** The last checkpoint's record id, or null. */
  readonly lastCheckpoint: number | null;
  /** Records after the last checkpoint (covered by the chain only). */
  readonly afterLastCheckpoint: number;
  /** The head when the check began. */
  readonly head: AuditHead;
  /** What was wrong (at most {@link MAX_PROBLEMS}). */
  readonly problems: readonly AuditProblem[];
}

/** Problems kept in a report; the walk goes on to count records. */
export const MAX_PROBLEMS = 100;

/** What {@link verifyAuditChain} reads: the chain, its head and its checkpoints. */
export interface AuditChainSource {
  auditHead(): Promise<AuditHead>;
  listAuditChain(query: { afterId: number; limit: number }): Promise<ChainedAuditRecord[]>;
  listAuditCheckpoints(query: { afterSeq: number; limit: number }): Promise<AuditCheckpoint[]>;
}

/** Collects problems up to the cap. */
class Findings {
  readonly list: AuditProblem[] = [];
  add(seq: number, kind: AuditProblem["kind"], message: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push({ seq, kind, message });
  }
}

async function allCheckpoints(source: AuditChainSource): Promise<AuditCheckpoint[]> {
  const out: AuditCheckpoint[] = [];
  for (let after = 0;;) {
    const page = await source.listAuditCheckpoints({ afterSeq: after, limit: 1000 });
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1].seq;
  }
}

/** Checks each checkpoint's MAC and its hash against the chain's hash at its record. */
async function checkCheckpoints(
  checkpoints: readonly AuditCheckpoint[],
  hashAt: ReadonlyMap<number, string>,
  verifyMac: (c: AuditCheckpoint) => Promise<boolean>,
  found: Findings,
): Promise<number> {
  let verified = 0;
  for (const c of checkpoints) {
    if (!(await verifyMac(c))) {
      found.add(c.seq, "checkpoint_mac", `checkpoint at record ${c.seq}: its MAC does not verify`);
      continue;
    }
    const h = hashAt.get(c.seq);
    if (h === undefined) {
      found.add(c.seq, "checkpoint_orphan", `checkpoint at record ${c.seq}: no such record`);
    } else if (h !== c.hash) {
      found.add(
        c.seq,
        "checkpoint_hash",
        `checkpoint at record ${c.seq}: the chain there hashes to ${h}, the checkpoint MAC'd ` +
          `${c.hash} (a record at or before ${c.seq} was changed, inserted, deleted or moved)`,
      );
    } else {
      verified++;
    }
  }
  return verified;
}

/**
 * Walks the audit log from its first record, recomputes the chain and
 * checks every link, the ids and every checkpoint, up to the head it finds
 * when it begins.
 *
 * @param source the store (or anything that lists the chain).
 * @param verifyMac checks a checkpoint's MAC under the audit key (the HSM).
 * @returns the report; `ok` false names each problem.
 */
export async function verifyAuditChain(
  source: AuditChainSource,
  verifyMac: (c: AuditCheckpoint) => Promise<boolean>,
): Promise<AuditVerifyReport> {
  const head = await source.auditHead();
  const checkpoints = await allCheckpoints(source);
  const wanted = new Set(checkpoints.map((c) => c.seq));
  const hashAt = new Map<number, string>();
  const found = new Findings();
  let records = 0;
  let unchained = 0;
  let prevId = 0;
  let prevHash = GENESIS;
  // Records appended since the check began (after the head) are the next check's.
  for (let after = 0; after < head.seq;) {
    const page = await source.listAuditChain({ afterId: after, limit: 5000 });
    for (const r of page.filter((x) => x.id <= head.seq)) {
      if (r.id < head.chainedFrom) {
        unchained++;
        prevId = r.id;
        continue;
      }
      const expected = Math.max(prevId + 1, head.chainedFrom);
      if (r.id > expected) {
        found.add(r.id, "gap", `records ${expected} to ${r.id - 1} are missing (deleted)`);
      }
      if (r.prevHash === null) {
        found.add(r.id, "unchained", `record ${r.id} has no link to the record before it`);
      } else if (r.prevHash !== prevHash) {
        found.add(
          r.id,
          "link",
          `record ${r.id} does not follow record ${prevId}: the record before it was changed, ` +
            `or a record was inserted, deleted or moved`,
        );
      }
      prevHash = auditRecordHash(r);
      prevId = r.id;
      records++;
      if (wanted.has(r.id)) hashAt.set(r.id, prevHash);
    }
    if (page.length < 5000) break;
    after = page[page.length - 1].id;
  }
  const verified = await checkCheckpoints(checkpoints, hashAt, verifyMac, found);
  const last = checkpoints.length > 0 ? checkpoints[checkpoints.length - 1].seq : null;
  return {
    ok: found.list.length === 0,
    records,
    unchained,
    checkpointsVerified: verified,
    lastCheckpoint: last,
    afterLastCheckpoint: Math.max(0, prevId - Math.max(last ?? 0, head.chainedFrom - 1)),
    head,
    problems: found.list,
  };
}
