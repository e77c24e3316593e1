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
import type { Approval, OperatorRecord, ServerKey, ServerKeyVersion } from "./operator_types.ts";
import type { KmsCaRecord } from "./kms_ca_types.ts";
import type {
  AuditRecord,
  Challenge,
  CollectedTk,
  Order,
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
  ["server_key_versions", "name, version"],
  ["operators", "id"],
  ["approvals", "id"],
  ["kms_ca", "version"],
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

/** A text column. */
export const str = (v: unknown): string => v as string;

/** How a column reads, by the mark after its name: none text, `@` a time, `#` a number. */
const READ: Record<string, (v: unknown) => unknown> = { "": str, "@": time, "#": Number };

/**
 * A mapper of a row to a record, from the list of the columns it reads: each
 * column goes to the field of its camelCase name (`tk_block` to `tkBlock`);
 * `name` reads text, `name@` a time, `name#` a number, and a trailing `?`
 * marks a column that may be NULL (the field is null then).
 *
 * @param columns the columns, separated by white space.
 * @throws {Error} for a column written otherwise (a mistake in this file).
 */
function rowMapper<T>(columns: string): (r: Row) => T {
  const fields = columns.trim().split(/\s+/).map((spec) => {
    const m = /^([a-z][a-z0-9_]*)([@#]?)(\??)$/.exec(spec);
    if (!m) throw new Error(`row mapper: column ${JSON.stringify(spec)} is not name[@#]?[?]?`);
    const [, column, mark, nullable] = m;
    const read = READ[mark];
    return {
      column,
      field: column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
      read: nullable ? (v: unknown) => (v === null || v === undefined ? null : read(v)) : read,
    };
  });
  return (r) => {
    const record: Record<string, unknown> = {};
    for (const f of fields) record[f.field] = f.read(r[f.column]);
    return record as T;
  };
}

/** An `orders` row. */
export const toOrder = rowMapper<Order>("order_id state created_at@ terminals#");

/** A `collected_tks` row. */
export const toCollected = rowMapper<CollectedTk>(
  "order_id sn tk_block? tk_kcv? tk_hash? mac? uploaded_at@?",
);

/** A `tk_batches` row. */
export const toTkBatch = rowMapper<TkBatch>("order_id body_hash tks# received_at@");

/** A `tk_staging` row. */
export const toStaged = rowMapper<StagedTk>("seq# sn tk_block tk_kcv tk_hash");

/** A `terminals` row. */
export const toTerminal = rowMapper<Terminal>(`sn order_id? state
  tk_block? tk_hash? tk_kcv? tmk_block? tmk_under_tk? tmk_kcv?
  tmk_issued_at@? tmk_sent_at@? delivered_at@?
  pu_hsm_cert? pr_hsm_block? auk_block? pu_tek?
  auth_failures# locked_at@? session_expires_at@? session_context?
  created_at@ updated_at@`);

/** The columns of a `terminals` row that bulk issuance reads. */
export const toTkToIssue = rowMapper<TkToIssue>("sn tk_block? tk_hash?");

/** A `challenges` row. */
export const toChallenge = rowMapper<Challenge>(
  "id sn rnd rnd1? created_at@ expires_at@ used_at@?",
);

/** An `audit_log` row. */
export const toAudit = rowMapper<AuditRecord>(
  "id# at@ actor event subject? key_id? kcv? outcome detail?",
);

/** An `audit_log` row with its operator and link. */
export function toChained(r: Row): ChainedAuditRecord {
  const link = r.prev_hash as Uint8Array | null | undefined;
  const prevHash = link == null ? null : Buffer.from(link).toString("hex").toUpperCase();
  return { ...toAudit(r), operator: r.operator == null ? null : str(r.operator), prevHash };
}

/** An `audit_checkpoints` row. */
export const toCheckpoint = rowMapper<AuditCheckpoint>("seq# hash at@ key_kcv mac");

/** A `server_key_versions` row. */
export const toServerKeyVersion = rowMapper<ServerKeyVersion>(
  "name version# key_block kcv previous_kcv? created_at@ created_by",
);

/** A `server_keys` row. */
export const toServerKey = rowMapper<ServerKey>("name key_block kcv created_at@");

/** An `operators` row. */
export const toOperator = rowMapper<OperatorRecord>(
  "id name role public_key created_at@ created_by disabled_at@? disabled_by?",
);

/** An `approvals` row: the request, who asked for it and who gave it, when, and where it is. */
export const toApproval = rowMapper<Approval>(`id operation method path body? status#?
  requested_by requested_at@ expires_at@ state approved_by? approved_at@?`);

/** A `kms_ca` row: one installed KMS CA. */
export const toKmsCa = rowMapper<KmsCaRecord>(
  "version# certificate key_block key_fingerprint installed_at@ requested_by approved_by?",
);

/**
 * What a driver error means, as each backend recognizes it: a unique key
 * taken, a foreign key missing, the database locked by another connection,
 * transactions that kept conflicting (deadlock, serialization), the
 * database out of reach; or null for any other error.
 */
export type Refusal =
  | "duplicate"
  | "tk_reused"
  | "missing"
  | "locked"
  | "conflicting"
  | "unreachable";

/** The unique indexes that hold one TK per terminal (their names in both dialects). */
export const ONE_TK_INDEXES = /\b(terminals|collected_tks)[._]tk_hash\b/;

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
    case "tk_reused":
      return new StoreError(
        "tk_reused",
        `${what}: a TK is already held by another terminal; one TK per terminal`,
      );
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
