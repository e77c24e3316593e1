/**
 * Persistence for the KMS and MTMS servers: the {@link Store} repository
 * interfaces (split by who uses them), one checked front over two backends
 * (the embedded SQLite one, {@link openSqliteStore}, and PostgreSQL for
 * several instances on one database, {@link openPostgresStore}), and
 * helpers that work on any of them.
 *
 * The store never sees a clear key: key fields take TR-31 key blocks (checked
 * for form) or ciphertexts. The audit log is append-only in the database
 * itself (triggers abort UPDATE and DELETE) and hash-chained, so that
 * {@link verifyAuditChain} finds tampering even where the triggers were
 * dropped.
 *
 * @example
 * ```ts
 * import { openSqliteStore } from "./mod.ts";
 * const store = await openSqliteStore(":memory:");
 * await store.createOrder({ orderId: "PO-1", state: "collecting", createdAt: new Date(),
 *   serialNumbers: ["SN000001", "SN000002"] });
 * await store.appendAudit({ at: new Date(), actor: "mtms", event: "tk_collected",
 *   subject: "SN000001", outcome: "success" });
 * await store.close();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./api.ts";
export * from "./operator_types.ts";
export * from "./kms_ca_types.ts";
export {
  AUDIT_CHAIN_FORMAT,
  type AuditChainSource,
  type AuditCheckpoint,
  type AuditHead,
  type AuditProblem,
  auditRecordHash,
  type AuditVerifyReport,
  canonicalAuditRecord,
  type ChainedAuditRecord,
  checkpointMacInput,
  GENESIS,
  MAX_PROBLEMS,
  verifyAuditChain,
} from "./audit_chain.ts";
export {
  type AuditPreface,
  currentAuditOperator,
  withAuditOperator,
  withAuditPreface,
} from "./audit_operator.ts";
export { type TmkDelivery, tmkDelivery } from "./delivery.ts";
export { StoreError, type StoreErrorCode } from "./errors.ts";
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from "./sqlite.ts";
export { type Migration } from "./migration.ts";
export { SQLITE_MIGRATIONS } from "./sqlite_schema.ts";
export {
  isPostgresUrl,
  openPostgresStore,
  PostgresStore,
  type PostgresStoreOptions,
  redactUrl,
} from "./postgres.ts";
export { POSTGRES_MIGRATIONS } from "./postgres_schema.ts";
export { terminalPages, type TerminalPagesOptions } from "./paging.ts";
