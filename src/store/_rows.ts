/**
 * What both store backends share below the checked front: a row as the
 * database driver returns it, its mapping to the store's records (SQLite
 * gives times as the ISO text it stored, PostgreSQL as `Date`), the tables
 * of the state hash, and the mapping of a driver error to a
 * {@link StoreError}.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { AuditCheckpoint, ChainedAuditRecord } from "./audit_chain.ts";
import { StoreError } from "./errors.ts";
import type {
  Approval,
  ApprovalState,
  OperatorRecord,
  OperatorRole,
  ServerKey,
} from "./operator_types.ts";
import type {
  AuditRecord,
  Challenge,
  CollectedTk,
  Order,
  OrderState,
  StagedTk,
  Terminal,
  TkBatch,
  TkToIssue,
} from "./types.ts";

/** A result row, by column name. */
export type Row = Record<string, unknown>;

/** A statement parameter: times are passed as ISO 8601 text. */
export type Param = string | number | null;

/** Every table of the schema and its key, in the order the state hash reads them. */
export const HASHED_TABLES: readonly [string, string][] = [
  ["schema_version", "version"],
  ["orders", "order_id"],
  ["collected_tks", "sn"],
  ["tk_batches", "order_id"],
  ["terminals", "sn"],
  ["tk_staging", "upload_id, seq"],
  ["challenges", "id"],
  ["nonces", "scope, nonce"],
  ["server_keys", "name"],
  ["audit_log", "id"],
  ["audit_chain_start", "id"],
  ["audit_checkpoints", "seq"],
  ["server_keys", "name"],
  ["operators", "id"],
  ["approvals", "id"],
];

/** Records a terminal's TMK unless it has one (parameters: block, under TK, KCV, at, at, SN). */
export const ISSUE_TMK = `UPDATE terminals
    SET tmk_block = ?, tmk_under_tk = ?, tmk_kcv = ?, tmk_issued_at = ?, updated_at = ?,
        state = 'tmk_issued'
    WHERE sn = ? AND tmk_block IS NULL`;

/** A time as the store returns it: ISO 8601 UTC text. */
export const iso = (d: Date): string => d.toISOString();

/** A time column: ISO text from SQLite, a `Date` from PostgreSQL. */
export function time(v: unknown): string {
  return v instanceof Date ? v.toISOString() : v as string;
}

const timeOrNull = (v: unknown) => (v === null || v === undefined ? null : time(v));
/** A text column. */
export const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown) => (v ?? null) as string | null;

/** An `orders` row. */
export function toOrder(r: Row): Order {
  return {
    orderId: str(r.order_id),
    state: str(r.state) as OrderState,
    createdAt: time(r.created_at),
    terminals: Number(r.terminals),
  };
}

/** A `collected_tks` row. */
export function toCollected(r: Row): CollectedTk {
  return {
    orderId: str(r.order_id),
    sn: str(r.sn),
    tkBlock: strOrNull(r.tk_block),
    tkKcv: strOrNull(r.tk_kcv),
    tkHash: strOrNull(r.tk_hash),
    mac: strOrNull(r.mac),
    uploadedAt: timeOrNull(r.uploaded_at),
  };
}

/** A `tk_batches` row. */
export function toTkBatch(r: Row): TkBatch {
  return {
    orderId: str(r.order_id),
    bodyHash: str(r.body_hash),
    tks: Number(r.tks),
    receivedAt: time(r.received_at),
  };
}

/** A `tk_staging` row. */
export function toStaged(r: Row): StagedTk {
  return {
    seq: Number(r.seq),
    sn: str(r.sn),
    tkBlock: str(r.tk_block),
    tkKcv: str(r.tk_kcv),
    tkHash: str(r.tk_hash),
  };
}

/** A `terminals` row. */
export function toTerminal(r: Row): Terminal {
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
    tmkIssuedAt: timeOrNull(r.tmk_issued_at),
    tmkSentAt: timeOrNull(r.tmk_sent_at),
    deliveredAt: timeOrNull(r.delivered_at),
    puHsmCert: strOrNull(r.pu_hsm_cert),
    prHsmBlock: strOrNull(r.pr_hsm_block),
    aukBlock: strOrNull(r.auk_block),
    puTek: strOrNull(r.pu_tek),
    authFailures: Number(r.auth_failures),
    lockedAt: timeOrNull(r.locked_at),
    sessionExpiresAt: timeOrNull(r.session_expires_at),
    sessionContext: strOrNull(r.session_context),
    createdAt: time(r.created_at),
    updatedAt: time(r.updated_at),
  };
}

/** The columns of a `terminals` row that bulk issuance reads. */
export function toTkToIssue(r: Row): TkToIssue {
  return { sn: str(r.sn), tkBlock: strOrNull(r.tk_block), tkHash: strOrNull(r.tk_hash) };
}

/** A `challenges` row. */
export function toChallenge(r: Row): Challenge {
  return {
    id: str(r.id),
    sn: str(r.sn),
    rnd: str(r.rnd),
    rnd1: strOrNull(r.rnd1),
    createdAt: time(r.created_at),
    expiresAt: time(r.expires_at),
    usedAt: timeOrNull(r.used_at),
  };
}

/** An `audit_log` row. */
export function toAudit(r: Row): AuditRecord {
  return {
    id: Number(r.id),
    at: time(r.at),
    actor: str(r.actor),
    event: str(r.event),
    subject: strOrNull(r.subject),
    keyId: strOrNull(r.key_id),
    kcv: strOrNull(r.kcv),
    outcome: str(r.outcome) as AuditRecord["outcome"],
    detail: strOrNull(r.detail),
  };
}

/** An `audit_log` row with its operator and link. */
export function toChained(r: Row): ChainedAuditRecord {
  const link = r.prev_hash as Uint8Array | null | undefined;
  const prevHash = link == null ? null : Buffer.from(link).toString("hex").toUpperCase();
  return { ...toAudit(r), operator: strOrNull(r.operator), prevHash };
}

/** An `audit_checkpoints` row. */
export function toCheckpoint(r: Row): AuditCheckpoint {
  const [hash, keyKcv, mac] = [r.hash, r.key_kcv, r.mac].map(str);
  return { seq: Number(r.seq), hash, at: time(r.at), keyKcv, mac };
}

/** A `server_keys` row. */
export function toServerKey(r: Row): ServerKey {
  const [name, keyBlock, kcv] = [r.name, r.key_block, r.kcv].map(str);
  return { name, keyBlock, kcv, createdAt: time(r.created_at) };
}

/** An `operators` row. */
export function toOperator(r: Row): OperatorRecord {
  return {
    id: str(r.id),
    name: str(r.name),
    role: str(r.role) as OperatorRole,
    publicKey: str(r.public_key),
    createdAt: time(r.created_at),
    createdBy: str(r.created_by),
    disabledAt: timeOrNull(r.disabled_at),
    disabledBy: strOrNull(r.disabled_by),
  };
}

/** An `approvals` row. */
export function toApproval(r: Row): Approval {
  const [id, operation, method, path] = [r.id, r.operation, r.method, r.path].map(str);
  const status = r.status === null || r.status === undefined ? null : Number(r.status);
  return { id, operation, method, path, body: strOrNull(r.body), status, ...approvalPeople(r) };
}

/** Who asked for an approval and who gave it, when, and where it is. */
function approvalPeople(r: Row) {
  return {
    requestedBy: str(r.requested_by),
    requestedAt: time(r.requested_at),
    expiresAt: time(r.expires_at),
    state: str(r.state) as ApprovalState,
    approvedBy: strOrNull(r.approved_by),
    approvedAt: timeOrNull(r.approved_at),
  };
}

/**
 * What a driver error means, as each backend recognizes it: a unique key
 * taken, a foreign key missing, the database locked by another connection,
 * transactions that kept conflicting (deadlock, serialization), the
 * database out of reach; or null for any other error.
 */
export type Refusal = "duplicate" | "missing" | "locked" | "conflicting" | "unreachable";

/**
 * Maps a driver error to a {@link StoreError} where it is a refusal, else
 * returns it unchanged.
 *
 * @param e what was thrown.
 * @param what the operation, for the message (a table, SN or order id).
 * @param refusal the backend's reading of its driver's errors.
 */
export function mapError(e: unknown, what: string, refusal: (e: Error) => Refusal | null): unknown {
  if (e instanceof StoreError || !(e instanceof Error)) return e;
  const m = e.message;
  if (/append-only/.test(m)) return new StoreError("append_only", m);
  switch (refusal(e)) {
    case "duplicate":
      return new StoreError("duplicate", `${what}: already exists (${m})`);
    case "missing":
      return new StoreError("not_found", `${what}: refers to a row that does not exist`);
    case "locked":
      return new StoreError("busy", `${what}: database is locked by another connection`);
    case "conflicting":
      return new StoreError("busy", `${what}: concurrent transactions kept conflicting (${m})`);
    case "unreachable":
      return new StoreError(
        "busy",
        `${what}: the database is not reachable (${(e as { code?: unknown }).code})`,
      );
    default:
      return e;
  }
}
