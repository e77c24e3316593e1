/**
 * The store's interfaces, split by who uses them: the MTMS's order and TK
 * collection ({@link MtmsStore}), the KMS's batches, terminals and TMK
 * issuance ({@link KmsStore}), the flow B ledger of HSM keys, sessions and
 * challenges ({@link FlowBLedger}), the replay memory ({@link NonceMemory}),
 * the keys the instances share ({@link ServerKeys}) and the append-only
 * audit log ({@link AuditLog}). {@link Store} is all of
 * them: what {@link ./sqlite.ts} and {@link ./postgres.ts} open. Every
 * method is async so a networked database can implement it; errors are
 * `TypeError`/`RangeError` for bad arguments and `StoreError` for what the
 * database refused.
 *
 * @module
 */
import type {
  AuditInput,
  AuditQuery,
  AuditRecord,
  AuthFailureResult,
  ChallengeInput,
  CollectedTk,
  CollectedTkInput,
  ConsumeResult,
  HsmKeyInput,
  ImportedTk,
  IssueTmksOptions,
  Order,
  OrderState,
  PageOptions,
  StagedTk,
  StateCounts,
  Terminal,
  TerminalCounts,
  TerminalFilter,
  TkBatch,
  TkBatchInput,
  TkBatchResult,
  TkToIssue,
  TmkIssue,
  TransportKeyInput,
} from "./types.ts";
import type {
  AuditChainSource,
  AuditCheckpoint,
  AuditHead,
  ChainedAuditRecord,
} from "./audit_chain.ts";
import type {
  Approval,
  ApprovalInput,
  ApprovalState,
  GrantResult,
  OperatorInput,
  OperatorRecord,
  ServerKey,
  ServerKeyVersion,
  ServerKeyVersionInput,
} from "./operator_types.ts";
import type { KmsCaInput, KmsCaRecord } from "./kms_ca_types.ts";

/** What every store has: its kind, transactions, schema version, state hash, closing. */
export interface StoreBase {
  /** Which implementation ("sqlite", "postgres"). */
  readonly kind: string;

  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when
   * it rejects (and rethrows). Use the `tx` it is given for every call inside;
   * calls on the outer store wait until the transaction ends. Nested calls
   * on `tx` run as savepoints.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;

  /** The applied schema version. */
  schemaVersion(): Promise<number>;

  /**
   * SHA-256 (hex) over every row of every table in key order: equal before
   * and after a refused request proves it changed nothing.
   */
  stateHash(): Promise<string>;

  /**
   * How many orders and terminals are in each state (every state listed,
   * 0 for none), and how many terminals are locked out: what `/metrics`
   * reports.
   */
  countByState(): Promise<StateCounts>;

  /** Closes the database; later calls throw `StoreError("closed")`. */
  close(): Promise<void>;
}

/** Production orders (both servers). */
export interface OrderBook {
  /**
   * Creates an order. With `serialNumbers` (MTMS), one collection slot per SN
   * is made in the same transaction.
   * @throws {StoreError} `duplicate` if the order exists, or an SN is already in another order.
   */
  createOrder(
    order: {
      orderId: string;
      state: OrderState;
      createdAt: Date;
      serialNumbers?: Iterable<string>;
    },
  ): Promise<Order>;

  /** The order, or null. */
  getOrder(orderId: string): Promise<Order | null>;

  /**
   * Moves an order from `from` to `to` if it is in `from`.
   * @returns true if it moved, false if it was not in `from`.
   * @throws {StoreError} `not_found`.
   */
  setOrderState(orderId: string, from: OrderState, to: OrderState): Promise<boolean>;
}

/** MTMS: production orders and the TKs collected for them (S13). */
export interface MtmsStore extends OrderBook {
  /**
   * Stores a terminal's TK under PK (S13), once.
   * @returns `stored` the first time, `same` if the same TK (by hash) was already stored.
   * @throws {StoreError} `not_found` (no such SN in the order), `conflict` (another TK stored).
   */
  putCollectedTk(tk: CollectedTkInput): Promise<"stored" | "same">;

  /** The collection slot of an SN, or null. */
  getCollectedTk(sn: string): Promise<CollectedTk | null>;

  /** Terminals in the order and TKs collected so far. */
  countCollected(orderId: string): Promise<{ terminals: number; collected: number }>;

  /** A page of collected TKs of an order, by SN. */
  listCollectedTks(orderId: string, page: PageOptions): Promise<CollectedTk[]>;

  /**
   * The SNs whose collected TK has this hash (one TK per terminal: a TK
   * known for one SN is refused for another), in SN order, at most 10.
   */
  collectedTkHolders(tkHash: string): Promise<string[]>;
}

/** KMS: the terminal rows both flows read, and their TMK issued, sent and delivered. */
export interface TerminalLedger {
  /** The terminal, or null. */
  getTerminal(sn: string): Promise<Terminal | null>;

  /**
   * Records a terminal's TMK if it has none yet (`UPDATE ... WHERE tmk IS
   * NULL`): of two issuers, exactly one wins.
   * @returns true if this call issued it, false if the terminal already had a TMK.
   * @throws {StoreError} `not_found`.
   */
  issueTmk(issue: TmkIssue): Promise<boolean>;

  /**
   * Marks the TMK sent (download, S16) unless it was already delivered.
   * @returns false if the terminal has no TMK or it is already delivered.
   */
  markTmkSent(sn: string, at: Date): Promise<boolean>;

  /**
   * Marks the TMK delivered (ack, S17) if its KCV matches and it was not delivered yet.
   * @returns false if there is no TMK, the KCV differs, or it was already delivered.
   */
  markDelivered(sn: string, tmkKcv: string, at: Date): Promise<boolean>;
}

/** KMS flow A: TK batches (streamed ones staged first), an order's terminals, bulk issuance. */
export interface KmsStore extends OrderBook, TerminalLedger {
  /**
   * Imports an order's TK batch, all or nothing: creates the order (state
   * `imported`), the batch record, one terminal per TK and, with
   * `batch.auditActor`, one audit record per TK, in one transaction.
   * Idempotent: the same body hash again returns `{ duplicate: true }` and
   * changes nothing.
   * @throws {StoreError} `conflict` for another batch of the same order, or
   *   an SN that is already known; nothing is stored.
   */
  importTkBatch(batch: TkBatchInput): Promise<TkBatchResult>;

  /** The batch record of an order, or null. */
  getTkBatch(orderId: string): Promise<TkBatch | null>;

  /**
   * KMS, streamed batch: stages TKs (already under the LMK) of an upload
   * that is not yet verified. Staged TKs are no terminals: they become ones
   * only through {@link importTkBatch} reading them back, or are dropped.
   *
   * @param uploadId the upload (a random id of one request).
   * @param firstSeq the `seq` of `tks[0]`; the others follow.
   * @param at when (uploads idle since before a time are purged by {@link purgeStaged}).
   * @returns -1, or the index in `tks` of the first TK whose SN is already staged under this
   *   upload (a duplicate SN: the upload is to be dropped; what else of `tks` is staged is unsaid).
   */
  stageTks(
    uploadId: string,
    firstSeq: number,
    tks: readonly ImportedTk[],
    at: Date,
  ): Promise<number>;

  /**
   * KMS, one TK per terminal: which of these TK hashes a terminal already
   * holds, or a TK staged by this upload, and for which SN.
   *
   * @param uploadId the upload whose staged TKs count too.
   * @param tkHashes the hashes (SHA-256, uppercase hex), at most 1000.
   * @returns each match, terminals first (in no set order).
   */
  knownTkHashes(
    uploadId: string,
    tkHashes: readonly string[],
  ): Promise<{ tkHash: string; sn: string; staged: boolean }[]>;

  /** KMS: a page of an upload's staged TKs in `seq` order, after `after` (-1 for the first page). */
  listStagedTks(uploadId: string, page: { after: number; limit: number }): Promise<StagedTk[]>;

  /** KMS: deletes an upload's staged TKs. @returns how many. */
  dropStaged(uploadId: string): Promise<number>;

  /**
   * KMS: deletes the staged TKs of every upload whose last TK was staged
   * before `idleBefore` (left by a killed process or a dropped connection).
   *
   * @returns how many TKs.
   */
  purgeStaged(idleBefore: Date): Promise<number>;

  /**
   * Registers a terminal that has no order (flow B, S1), in state `registered`.
   * @returns true if created, false if the SN already exists.
   */
  registerTerminal(sn: string, at: Date): Promise<boolean>;

  /** A page of an order's terminals by SN (keyset paging: memory stays flat for any order size). */
  listTerminals(
    orderId: string,
    page: PageOptions & { filter?: TerminalFilter },
  ): Promise<Terminal[]>;

  /**
   * The terminals of `listTerminals(orderId, { ...page, filter: "without_tmk" })`
   * with only the columns bulk issuance needs (SN, TK block, TK hash): a
   * page costs the store a fraction of whole rows.
   */
  listTksToIssue(orderId: string, page: PageOptions): Promise<TkToIssue[]>;

  /** Counts of an order's terminals. */
  countTerminals(orderId: string): Promise<TerminalCounts>;

  /**
   * {@link issueTmk} for many terminals in one transaction, with their audit
   * records if `options.auditActor` is set.
   * @returns how many this call issued (the others already had a TMK or do not exist).
   */
  issueTmks(issues: readonly TmkIssue[], options?: IssueTmksOptions): Promise<number>;
}

/** KMS flow B: registration, HSM and transport keys, lock-out, sessions, challenges. */
export interface FlowBLedger extends TerminalLedger {
  /**
   * Stores the terminal's HSM key pair (S1).
   * @returns false if it already has one and `replace` is not set.
   * @throws {StoreError} `not_found`.
   */
  setHsmKey(sn: string, key: HsmKeyInput): Promise<boolean>;

  /**
   * Stores AUK and Pu_tek (S4) once, after S1.
   * @returns false if a transport key is already stored or S1 has not happened.
   * @throws {StoreError} `not_found`.
   */
  setTransportKey(sn: string, tk: TransportKeyInput): Promise<boolean>;

  /**
   * Counts a failed authentication and locks the SN at `maxFailures`; an
   * open download session stays open (a failure never cancels it).
   * @throws {StoreError} `not_found`.
   */
  recordAuthFailure(
    sn: string,
    options: { maxFailures: number; at: Date },
  ): Promise<AuthFailureResult>;

  /**
   * Records a passed authentication: failures reset, a download session until
   * `sessionExpiresAt`, bound to `sessionContext` (challenge id || Rnd1 || Rnd2, hex).
   * @returns false if the SN is locked (nothing changes).
   * @throws {StoreError} `not_found`.
   */
  recordAuthSuccess(
    sn: string,
    options: { sessionExpiresAt: Date; at: Date; sessionContext?: string },
  ): Promise<boolean>;

  /**
   * Uses up a download session (flow B S6): of two concurrent downloads only
   * one gets it.
   * @returns true if a session was open at `now` (it is now closed), false otherwise.
   */
  consumeSession(sn: string, now: Date): Promise<boolean>;

  /**
   * Lifts a lock-out and resets the failure count.
   * @returns false if the SN was not locked.
   * @throws {StoreError} `not_found`.
   */
  unlockTerminal(sn: string, at: Date): Promise<boolean>;

  /**
   * Drops a flow B registration that blocks the SN (e.g. for a production
   * order's batch): the terminal and its challenges, if it has no order and
   * no delivered TMK. Its audit records stay.
   * @returns false if there is no such registration (unknown, flow A, or delivered).
   */
  releaseFlowBTerminal(sn: string): Promise<boolean>;

  /**
   * Stores a new challenge.
   * @throws {StoreError} `duplicate` for a reused id; `not_found` for an unknown SN.
   */
  createChallenge(challenge: ChallengeInput): Promise<void>;

  /**
   * Marks a challenge used if it is for `sn`, unused and not expired at
   * `now`: single use, atomically (of two concurrent calls one gets it).
   */
  consumeChallenge(id: string, sn: string, now: Date): Promise<ConsumeResult>;
}

/** Replay protection: nonces seen, per scope, until they expire. */
export interface NonceMemory {
  /**
   * Remembers a nonce (e.g. a flow A Rnd) in a scope until `expiresAt`.
   * @returns true the first time, false if it was seen before (a replay).
   */
  rememberNonce(scope: string, nonce: string, expiresAt: Date): Promise<boolean>;

  /** Forgets nonces that expired before `now`; returns how many. */
  purgeNonces(now: Date): Promise<number>;
}

/**
 * The append-only audit log, hash-chained (`audit_chain.ts`): each append
 * links its records to the chain's head in the same transaction, so
 * appends from several instances on one database form one chain.
 */
export interface AuditLog extends AuditChainSource {
  /**
   * Appends an audit record; returns its id (its place in the chain). The
   * record names `event.operator`, else the operator of the request being
   * served ({@link ./audit_operator.ts}), else none.
   */
  appendAudit(event: AuditInput): Promise<number>;

  /** Audit records in id order. */
  listAudit(query: AuditQuery): Promise<AuditRecord[]>;

  /** The chain's head: its last record and that record's hash. */
  auditHead(): Promise<AuditHead>;

  /** Records with their operator and link, in id order, after `afterId`. */
  listAuditChain(query: { afterId: number; limit: number }): Promise<ChainedAuditRecord[]>;

  /**
   * Stores a checkpoint (once per record id).
   * @returns false if one at that record already exists.
   */
  addAuditCheckpoint(checkpoint: AuditCheckpoint): Promise<boolean>;

  /** Checkpoints in record order, after `afterSeq`. */
  listAuditCheckpoints(query: { afterSeq: number; limit: number }): Promise<AuditCheckpoint[]>;

  /** The last checkpoint, or null. */
  lastAuditCheckpoint(): Promise<AuditCheckpoint | null>;
}

/** The server's own keys (as key blocks under its LMK), each made once. */
export interface ServerKeys {
  /** The key of that name, or null. */
  getServerKey(name: string): Promise<ServerKey | null>;

  /**
   * Stores a key under a name unless one is there (of two instances
   * starting together, the first wins).
   * @returns the key stored under the name (this one or the earlier one).
   */
  putServerKey(key: { name: string; keyBlock: string; kcv: string; createdAt: Date }): Promise<
    ServerKey
  >;

  /** Every stored version of a shared key (PK, MAK), oldest first. */
  listServerKeyVersions(name: string): Promise<ServerKeyVersion[]>;

  /**
   * Stores a version of a shared key unless that version is there (of two
   * writers, the first wins): version 1 with no previous KCV, version n + 1
   * only while version n is stored with KCV `previousKcv`.
   * @returns the version stored under that name and number (this one or the earlier one).
   * @throws {StoreError} `conflict` naming the version that is missing or has another KCV.
   */
  putServerKeyVersion(key: ServerKeyVersionInput): Promise<ServerKeyVersion>;
}

/** Operators, their roles and public keys; and the approvals of dual control. */
export interface OperatorBook {
  /**
   * Adds an operator.
   * @throws {StoreError} `duplicate` for an id or public key already used.
   */
  addOperator(operator: OperatorInput): Promise<OperatorRecord>;

  /** The operator, or null. */
  getOperator(id: string): Promise<OperatorRecord | null>;

  /** Every operator by id (disabled ones too). */
  listOperators(): Promise<OperatorRecord[]>;

  /**
   * Disables an operator (its requests are refused from then on).
   * @returns false if it was already disabled.
   * @throws {StoreError} `not_found`.
   */
  disableOperator(id: string, options: { at: Date; by: string }): Promise<boolean>;

  /** How many operators are enabled. */
  countOperators(): Promise<number>;

  /**
   * Stores a pending approval.
   * @throws {StoreError} `duplicate` for a reused id.
   */
  createApproval(approval: ApprovalInput): Promise<Approval>;

  /** The approval, or null. */
  getApproval(id: string): Promise<Approval | null>;

  /** Approvals in a state (default pending), oldest first. */
  listApprovals(query: { state?: ApprovalState; limit: number }): Promise<Approval[]>;

  /**
   * Approves a pending approval once, atomically: only if it is pending, not
   * expired at `at`, and `approver` is not the operator who asked.
   */
  grantApproval(id: string, approver: string, at: Date): Promise<GrantResult>;

  /** Records how the approved operation ended (state `done`). */
  finishApproval(id: string, status: number): Promise<void>;

  /**
   * Puts an approved operation that failed (it changed nothing) back to
   * pending, so that it can be approved again before it expires.
   */
  releaseApproval(id: string): Promise<void>;
}

/** The KMS CA in force and its history (`kms_ca_types.ts`). */
export interface KmsCaBook {
  /** The KMS CA in force (the highest version), or null while none is installed. */
  currentKmsCa(): Promise<KmsCaRecord | null>;

  /**
   * Installs a KMS CA as the next version, if the one in force is still
   * `ca.replaces` (0: none).
   * @throws {StoreError} `conflict` if another version was installed meanwhile.
   */
  installKmsCa(ca: KmsCaInput): Promise<KmsCaRecord>;
}

/** The whole repository: every role above, as each implementation provides it. */
export interface Store
  extends
    StoreBase,
    MtmsStore,
    KmsStore,
    FlowBLedger,
    NonceMemory,
    AuditLog,
    ServerKeys,
    OperatorBook,
    KmsCaBook {}
