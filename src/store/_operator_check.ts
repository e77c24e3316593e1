/**
 * Argument checks of the audit chain, server keys, operators and approvals
 * at the store boundary (the other checks are in {@link ./_check.ts}).
 *
 * @module
 */
import {
  checkDate,
  checkHash,
  checkHex,
  checkId,
  checkInt,
  checkKcv,
  checkKeyBlock,
  checkObject,
  checkOneOf,
  checkString,
  checkText,
  MAX_PAGE,
} from "./_check.ts";
import type { AuditCheckpoint } from "./audit_chain.ts";
import {
  type ApprovalInput,
  type ApprovalState,
  OPERATOR_ROLES,
  type OperatorInput,
  type ServerKeyVersionInput,
} from "./operator_types.ts";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A page of the chain or of the checkpoints: `after` (0 for the first) and `limit`. */
export function checkChainPage(name: string, after: unknown, limit: unknown): void {
  checkInt(`query.${name}`, after, 0, Number.MAX_SAFE_INTEGER);
  checkInt("query.limit", limit, 1, MAX_PAGE);
}

/** A checkpoint to store. */
export function checkCheckpoint(c: AuditCheckpoint): void {
  checkObject("checkpoint", c);
  checkInt("checkpoint.seq", c.seq, 1, Number.MAX_SAFE_INTEGER);
  checkHash("checkpoint.hash", c.hash);
  checkString("checkpoint.at", c.at);
  if (!ISO.test(c.at)) throw new RangeError("checkpoint.at must be an ISO 8601 UTC time with ms");
  checkKcv("checkpoint.keyKcv", c.keyKcv);
  checkHex("checkpoint.mac", c.mac, 8, 64);
}

/** A server key to store. */
export function checkServerKey(
  k: { name: string; keyBlock: string; kcv: string; createdAt: Date },
) {
  checkObject("key", k);
  checkId("key.name", k.name);
  checkKeyBlock("key.keyBlock", k.keyBlock);
  checkKcv("key.kcv", k.kcv);
  checkDate("key.createdAt", k.createdAt);
}

/** The names of the shared keys that have versions. */
export const SERVER_KEY_NAMES: readonly string[] = ["PK", "MAK"];

/** A version of a shared key to store. */
export function checkServerKeyVersion(k: ServerKeyVersionInput): void {
  checkObject("key", k);
  checkOneOf("key.name", k.name, SERVER_KEY_NAMES);
  checkInt("key.version", k.version, 1, 999_999);
  checkKeyBlock("key.keyBlock", k.keyBlock);
  checkKcv("key.kcv", k.kcv);
  if ((k.version === 1) !== (k.previousKcv === null)) {
    throw new RangeError(
      `key.previousKcv must be null for version 1 and a KCV after it, got ${
        k.previousKcv === null ? "null" : "a KCV"
      } for version ${k.version}`,
    );
  }
  if (k.previousKcv !== null) checkKcv("key.previousKcv", k.previousKcv);
  checkDate("key.createdAt", k.createdAt);
  checkText("key.createdBy", k.createdBy, 200);
}

/** An operator to add. */
export function checkOperatorInput(o: OperatorInput): void {
  checkObject("operator", o);
  checkId("operator.id", o.id);
  checkText("operator.name", o.name, 200);
  checkOneOf("operator.role", o.role, OPERATOR_ROLES);
  checkHex("operator.publicKey", o.publicKey, 64, 64);
  checkDate("operator.createdAt", o.createdAt);
  checkId("operator.createdBy", o.createdBy);
}

/** A pending approval to store. */
export function checkApprovalInput(a: ApprovalInput): void {
  checkObject("approval", a);
  checkId("approval.id", a.id);
  checkId("approval.operation", a.operation);
  checkString("approval.method", a.method);
  if (!/^[A-Z]{3,7}$/.test(a.method)) {
    throw new RangeError("approval.method must be an HTTP method");
  }
  checkText("approval.path", a.path, 2048);
  if (!a.path.startsWith("/")) throw new RangeError("approval.path must start with /");
  if (a.body !== null) checkText("approval.body", a.body, 65536);
  checkId("approval.requestedBy", a.requestedBy);
  checkDate("approval.requestedAt", a.requestedAt);
  checkDate("approval.expiresAt", a.expiresAt);
}

/** The approval states, for listing. */
export const APPROVAL_STATES: readonly ApprovalState[] = ["pending", "approved", "done"];
