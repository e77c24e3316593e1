/**
 * The store's records and arguments: what the KMS and MTMS servers persist
 * and what they pass in. The interfaces that take them are in
 * {@link ./api.ts}.
 *
 * Rules every implementation keeps:
 * - Keys only as key blocks or ciphertexts. Fields named `...Block` hold a
 *   TR-31 key block under an LMK (or under PK / TK where the name says so);
 *   the store checks their form and refuses anything else, so a clear key in
 *   hex cannot be stored by mistake. KCVs, hashes, MACs, random challenges
 *   are uppercase hex.
 * - Times in: `Date`; times out: ISO 8601 UTC strings (`toISOString()`).
 * - Every state change is one conditional statement or one transaction, so
 *   two servers on one database never both issue, deliver or consume.
 * - The audit log is append-only, enforced by the database.
 *
 * @module
 */

/** Where a production order is. MTMS: `collecting` then `transferred`; KMS: `imported`. */
export type OrderState = "collecting" | "transferred" | "imported";

/** A production order. */
export interface Order {
  readonly orderId: string;
  readonly state: OrderState;
  readonly createdAt: string;
  /** Serial numbers in the order (MTMS: as created; KMS: as imported). */
  readonly terminals: number;
}

/** MTMS: one terminal of a production order and its TK once collected. */
export interface CollectedTk {
  readonly orderId: string;
  readonly sn: string;
  /** TK as a TR-31 key block under PK (S13), or null until uploaded. */
  readonly tkBlock: string | null;
  readonly tkKcv: string | null;
  /** SHA-256 of the clear TK (hex), as the PIN pad computed it. */
  readonly tkHash: string | null;
  /** Retail MAC under MAK over the record (hex), if the MTMS keeps one. */
  readonly mac: string | null;
  readonly uploadedAt: string | null;
}

/** MTMS: a collected TK to store. */
export interface CollectedTkInput {
  orderId: string;
  sn: string;
  tkBlock: string;
  tkKcv: string;
  tkHash: string;
  mac?: string | null;
  uploadedAt: Date;
}

/** KMS: a TK batch as received from MTMS (idempotency record). */
export interface TkBatch {
  readonly orderId: string;
  /** SHA-256 (hex) of the batch's canonical bytes: a second batch must have the same. */
  readonly bodyHash: string;
  readonly tks: number;
  readonly receivedAt: string;
}

/** KMS: one TK of a batch, already translated from PK to the LMK by the HSM. */
export interface ImportedTk {
  sn: string;
  /** TK as a key block under the KMS LMK. */
  tkBlock: string;
  tkKcv: string;
  tkHash: string;
}

/** KMS: a batch to import. */
export interface TkBatchInput {
  orderId: string;
  bodyHash: string;
  receivedAt: Date;
  /** The TKs; consumed once, inside the import's transaction. */
  tks: Iterable<ImportedTk> | AsyncIterable<ImportedTk>;
  /**
   * When set, the import also appends one audit record per TK it stores, in
   * the same transaction (so no TK without its record, no record without its
   * TK): event `tk_imported`, this actor, subject the SN, key id `TK`, the
   * TK's KCV, outcome `success`, at `receivedAt`. A duplicate batch appends
   * none.
   */
  auditActor?: string;
}

/** KMS: a TK of a streamed batch, staged under its upload until the batch's MAC is checked. */
export interface StagedTk extends ImportedTk {
  /** Its place in the upload: 0, 1, 2, ... (the order of the batch). */
  readonly seq: number;
}

/** Result of {@link Store.importTkBatch}. */
export interface TkBatchResult {
  /** True if this exact batch (same body hash) was already imported: nothing changed. */
  readonly duplicate: boolean;
  /** TKs in the batch. */
  readonly tks: number;
}

/** KMS terminal states (flow A: `tk_received` -> `tmk_issued` -> `tmk_sent` -> `delivered`; flow B starts at `registered`). */
export const TERMINAL_STATES = [
  "registered",
  "hsm_key_issued",
  "tk_received",
  "tmk_issued",
  "tmk_sent",
  "delivered",
] as const;

/** One of {@link TERMINAL_STATES}. */
export type TerminalState = typeof TERMINAL_STATES[number];

/** Orders and terminals by state, from `Store.countByState`. */
export interface StateCounts {
  readonly orders: Readonly<Record<OrderState, number>>;
  readonly terminals: Readonly<Record<TerminalState, number>>;
  /** Terminals locked out by failed authentications (flow B). */
  readonly lockedTerminals: number;
}

/** KMS: a terminal and its keys (as key blocks), KCVs and flow state. */
export interface Terminal {
  readonly sn: string;
  /** Production order (flow A); null for a terminal that registered in the field (flow B). */
  readonly orderId: string | null;
  readonly state: TerminalState;
  /** TK (flow A) as a key block under the LMK. */
  readonly tkBlock: string | null;
  /** SHA-256 of the clear TK (hex): flow A TK, or flow B AUK || Pu_tek as the PIN pad defines it. */
  readonly tkHash: string | null;
  readonly tkKcv: string | null;
  /** TMK as a key block under the LMK. */
  readonly tmkBlock: string | null;
  /** TMK under TK as sent to the terminal (flow A): a key block or hex ciphertext. */
  readonly tmkUnderTk: string | null;
  readonly tmkKcv: string | null;
  readonly tmkIssuedAt: string | null;
  readonly tmkSentAt: string | null;
  readonly deliveredAt: string | null;
  /** Flow B: the certificate of Pu_hsm (PEM). */
  readonly puHsmCert: string | null;
  /** Flow B: Pr_hsm as a key block under the LMK. */
  readonly prHsmBlock: string | null;
  /** Flow B: AUK as a key block under the LMK. */
  readonly aukBlock: string | null;
  /** Flow B: the PIN pad's TEK public key (opaque text, e.g. SPKI PEM or hex). */
  readonly puTek: string | null;
  /** Flow B: failed mutual authentications since the last success or unlock. */
  readonly authFailures: number;
  /** Flow B: when the SN was locked out, or null. */
  readonly lockedAt: string | null;
  /** Flow B: a passed challenge allows a TMK download until this time. */
  readonly sessionExpiresAt: string | null;
  /**
   * Flow B: the open session's challenge id || Rnd1 || Rnd2 (hex, public
   * values), the context of its MAC key derived from AUK.
   */
  readonly sessionContext: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** KMS: a TMK to record for a terminal (bulk issuance, S15). */
export interface TmkIssue {
  sn: string;
  /** TMK as a key block under the LMK. */
  tmkBlock: string;
  /** TMK under TK for the terminal (flow A): a key block or hex ciphertext; null for flow B. */
  tmkUnderTk: string | null;
  tmkKcv: string;
  issuedAt: Date;
}

/** Options of {@link Store.issueTmks}. */
export interface IssueTmksOptions {
  /**
   * When set, one audit record per TMK this call issued, in the same
   * transaction as the TMK (none for a terminal that already had one):
   * event `tmk_issued`, this actor, subject the SN, key id `TMK`, the TMK's
   * KCV, outcome `success`, at its `issuedAt`.
   */
  auditActor?: string;
}

/** What bulk issuance reads of a terminal still without a TMK ({@link Store.listTksToIssue}). */
export interface TkToIssue {
  readonly sn: string;
  /** TK as a key block under the LMK (null only for a terminal without TK). */
  readonly tkBlock: string | null;
  /** SHA-256 of the clear TK (hex). */
  readonly tkHash: string | null;
}

/** Which terminals {@link Store.listTerminals} returns. */
export type TerminalFilter = "all" | "without_tmk" | "with_tmk";

/** A page request: keyset paging by serial number. */
export interface PageOptions {
  /** Return serial numbers strictly after this one (the last of the previous page). */
  after?: string;
  /** Page size, 1 to 10000. */
  limit: number;
}

/** Counts for an order at KMS. */
export interface TerminalCounts {
  readonly terminals: number;
  readonly withTmk: number;
  readonly delivered: number;
}

/** Flow B S1: the HSM key pair made for a terminal. */
export interface HsmKeyInput {
  puHsmCert: string;
  /** Pr_hsm as a key block under the LMK. */
  prHsmBlock: string;
  at: Date;
  /** Replace an existing pair (rotate) instead of refusing. Default false. */
  replace?: boolean;
}

/** Flow B S3-S4: the terminal's transport key as KMS keeps it. */
export interface TransportKeyInput {
  /** AUK as a key block under the LMK. */
  aukBlock: string;
  /** Pu_tek, opaque text. */
  puTek: string;
  tkHash: string;
  /** KCV of AUK. */
  tkKcv: string;
  at: Date;
}

/** Result of {@link Store.recordAuthFailure}. */
export interface AuthFailureResult {
  readonly failures: number;
  /** True if this failure (or an earlier one) locked the SN. */
  readonly locked: boolean;
  /** True if this very failure crossed the limit (so the caller audits one lock-out). */
  readonly lockedNow: boolean;
}

/** Flow B S5: a challenge (the KMS's Rnd2) waiting for the terminal's answer. */
export interface Challenge {
  readonly id: string;
  readonly sn: string;
  /** The random the terminal must encrypt under AUK (hex). */
  readonly rnd: string;
  /** The terminal's random the KMS answered in the same challenge (hex), if recorded. */
  readonly rnd1: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt: string | null;
}

/** A new challenge. */
export interface ChallengeInput {
  id: string;
  sn: string;
  rnd: string;
  /** The terminal's random of the same challenge (hex). */
  rnd1?: string;
  createdAt: Date;
  expiresAt: Date;
}

/** Result of {@link Store.consumeChallenge}: the challenge, or why it cannot be used. */
export type ConsumeResult =
  | { readonly ok: true; readonly challenge: Challenge }
  | { readonly ok: false; readonly reason: "not_found" | "wrong_terminal" | "used" | "expired" };

/** Security events the audit log records (others are allowed if they match `^[a-z][a-z0-9_.]*$`). */
export const AUDIT_EVENTS = [
  "lmk_loaded",
  "lmk_load_failed",
  "auth_passed",
  "auth_failed",
  "tk_collected",
  "tk_imported",
  "tk_batch_imported",
  "tmk_issued",
  "tmk_sent",
  "tmk_delivered",
  "hsm_key_issued",
  "challenge_passed",
  "challenge_failed",
  "lockout",
  "unlock",
  "key_generated",
  "key_imported",
  "key_exported",
  "key_refused",
] as const;

/** Outcome of an audited event. */
export type AuditOutcome = "success" | "failure";

/** An audit record to append: facts about a security event, never key material. */
export interface AuditInput {
  at: Date;
  /** Who: "hsm", "kms", "mtms", an operator or certificate subject. */
  actor: string;
  /** What: one of {@link AUDIT_EVENTS} or another lowercase name. */
  event: string;
  /** About what: an SN, an order id. */
  subject?: string | null;
  /** Which key (an id, a key block header, a terminal's key name). */
  keyId?: string | null;
  /** The key's KCV (hex). */
  kcv?: string | null;
  outcome: AuditOutcome;
  /** A short reason or note (no key material), at most 500 characters. */
  detail?: string | null;
  /**
   * The operator who acted (an operator id); default: the operator of the
   * request being served, if any (`audit_operator.ts`).
   */
  operator?: string | null;
}

/** A stored audit record. */
export interface AuditRecord {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly event: string;
  readonly subject: string | null;
  readonly keyId: string | null;
  readonly kcv: string | null;
  readonly outcome: AuditOutcome;
  readonly detail: string | null;
}

/** Filter of {@link Store.listAudit}. */
export interface AuditQuery {
  /** Records with an id greater than this. */
  afterId?: number;
  limit: number;
  subject?: string;
  event?: string;
}
