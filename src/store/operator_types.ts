/**
 * The store's records of people: operators with their role and public key,
 * and the approvals of dual control (a sensitive request waiting for a
 * second operator). The interfaces that take them are in {@link ./api.ts}.
 *
 * @module
 */

/** What an operator may do; each operator route names the roles it accepts. */
export const OPERATOR_ROLES = ["operator", "supervisor", "custodian", "auditor"] as const;

/** One of {@link OPERATOR_ROLES}. */
export type OperatorRole = typeof OPERATOR_ROLES[number];

/** An operator as stored. */
export interface OperatorRecord {
  /** Key id in the operator's signed requests. */
  readonly id: string;
  readonly name: string;
  readonly role: OperatorRole;
  /** Ed25519 public key (RFC 8032), 32 bytes as uppercase hex. */
  readonly publicKey: string;
  readonly createdAt: string;
  /** The operator (or `admin`) who added this one. */
  readonly createdBy: string;
  readonly disabledAt: string | null;
  readonly disabledBy: string | null;
}

/** A new operator. */
export interface OperatorInput {
  id: string;
  name: string;
  role: OperatorRole;
  publicKey: string;
  createdAt: Date;
  createdBy: string;
}

/** Where an approval is: waiting, approved (running), or done (its result recorded). */
export type ApprovalState = "pending" | "approved" | "done";

/** A sensitive request under dual control. */
export interface Approval {
  readonly id: string;
  /** The route's operation id. */
  readonly operation: string;
  readonly method: string;
  /** Path and query as signed by the first operator. */
  readonly path: string;
  /** The request's JSON body as text, or null. Never key material. */
  readonly body: string | null;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly state: ApprovalState;
  readonly approvedBy: string | null;
  readonly approvedAt: string | null;
  /** The HTTP status the operation ended with, once done. */
  readonly status: number | null;
}

/** A new pending approval. */
export interface ApprovalInput {
  id: string;
  operation: string;
  method: string;
  path: string;
  body: string | null;
  requestedBy: string;
  requestedAt: Date;
  expiresAt: Date;
}

/** Result of granting an approval: it, or why it cannot be granted. */
export type GrantResult =
  | { readonly ok: true; readonly approval: Approval }
  | {
    readonly ok: false;
    readonly reason: "not_found" | "same_operator" | "not_pending" | "expired";
    readonly approval: Approval | null;
  };

/**
 * One version of a key the MTMS and the KMS share (PK, MAK) as a key block
 * under this server's LMK. Version 1 is the key formed from the ceremony's
 * components; each later one names the KCV of the version before it, so the
 * versions form a chain from the components.
 */
export interface ServerKeyVersion {
  /** `PK` or `MAK`. */
  readonly name: string;
  /** 1, 2, 3, ... */
  readonly version: number;
  readonly keyBlock: string;
  readonly kcv: string;
  /** KCV of version `version - 1`; null for version 1. */
  readonly previousKcv: string | null;
  readonly createdAt: string;
  /** Who made it: `ceremony`, the two operators of a rotation, or the server it came from. */
  readonly createdBy: string;
}

/** A version of a shared key to store ({@link ServerKeyVersion} with a `Date`). */
export interface ServerKeyVersionInput {
  name: string;
  version: number;
  keyBlock: string;
  kcv: string;
  previousKcv: string | null;
  createdAt: Date;
  createdBy: string;
}

/** A key of the server itself (e.g. the audit key) as a key block under its LMK. */
export interface ServerKey {
  readonly name: string;
  readonly keyBlock: string;
  readonly kcv: string;
  readonly createdAt: string;
}
