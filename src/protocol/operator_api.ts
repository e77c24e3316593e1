/**
 * The operator administration API both servers serve: operators and their
 * roles, the approvals of dual control, and the audit log's export, check
 * and checkpoints. Message schemas only; the routes are in
 * `servers/_lib/operator_routes.ts`.
 *
 * @module
 */
import {
  array,
  hex,
  type Infer,
  integer,
  object,
  oneOf,
  optional,
  type Schema,
  text,
} from "./schema.ts";

/** The roles an operator can have (each operator has one). */
export const ROLES = ["operator", "supervisor", "custodian", "auditor"] as const;

/** An operator id: the key id of its signed requests. */
export const OPERATOR_ID_FIELD = text(
  /^[a-z][a-z0-9._-]{1,31}$/,
  "an operator id: 2-32 characters a-z 0-9 . _ - starting with a letter",
);

/** An approval id. */
export const APPROVAL_ID = text(/^[0-9a-f-]{36}$/, "an approval id (a UUID)");

const NAME = text(
  /^[\p{L}\p{N}\p{P}\p{S} ]{1,100}$/u,
  "a name of 1-100 letters, digits, punctuation and spaces",
);
const TIME = text(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,12}Z$/, "an ISO 8601 UTC time");
const NULLABLE_TIME: Schema<string | null> = {
  parse: (v, path) => (v === null ? null : TIME.parse(v, path)),
  jsonSchema: { type: ["string", "null"], description: "an ISO 8601 UTC time, or null" },
};
const ROLE = oneOf(ROLES, "the operator's role");

/** `POST /v1/operators`: a new operator (under dual control). */
export const AddOperatorRequest = object({
  id: OPERATOR_ID_FIELD,
  name: NAME,
  role: ROLE,
  publicKey: hex(32, "the operator's Ed25519 public key (RFC 8032), 32 bytes"),
}, "a new operator and the public key of its signed requests");
export type AddOperatorRequest = Infer<typeof AddOperatorRequest>;

/** An operator as the API shows it. */
export const OperatorView = object({
  id: OPERATOR_ID_FIELD,
  name: NAME,
  role: ROLE,
  publicKey: hex(32, "Ed25519 public key"),
  createdAt: TIME,
  createdBy: text(/^.{1,64}$/, "who added it"),
  disabledAt: NULLABLE_TIME,
}, "an operator");

/** `GET /v1/operators`. */
export const OperatorList = object({
  operators: array(OperatorView, 0, 10000, "every operator, disabled ones too"),
}, "the operators");

/** A request under dual control as the API shows it. */
export const ApprovalView = object({
  approvalId: APPROVAL_ID,
  operation: text(/^[A-Za-z]{1,64}$/, "the route's operation id"),
  method: text(/^[A-Z]{3,7}$/, "HTTP method"),
  path: text(/^\/.{0,2047}$/, "path and query as signed"),
  requestedBy: text(/^.{1,64}$/, "the operator who asked"),
  requestedAt: TIME,
  expiresAt: TIME,
  state: oneOf(["pending", "approved", "done"], "where it is"),
  approvedBy: optional(text(/^.{1,64}$/, "the second operator")),
  status: optional(integer(100, 599, "the HTTP status the operation ended with")),
}, "a sensitive request waiting for (or given) a second operator's approval");

/** `GET /v1/approvals`. */
export const ApprovalList = object({
  approvals: array(ApprovalView, 0, 10000, "pending approvals, oldest first"),
}, "approvals");

/** `POST /v1/audit/checkpoints`: the checkpoint made (or the last one, if nothing is new). */
export const CheckpointView = object({
  seq: integer(0, Number.MAX_SAFE_INTEGER, "the audit record it covers"),
  hash: hex(32, "the chain's hash at that record"),
  at: TIME,
  keyKcv: hex({ min: 2, max: 8 }, "KCV of the audit key"),
  mac: hex({ min: 4, max: 32 }, "the HSM's MAC over the checkpoint"),
}, "an audit checkpoint");

/** `GET /v1/audit/verify`. */
export const AuditVerifyView = object({
  ok: oneOf(["yes", "no"], "yes if no record was changed, deleted, inserted or moved"),
  records: integer(0, Number.MAX_SAFE_INTEGER, "chained records checked"),
  unchained: integer(0, Number.MAX_SAFE_INTEGER, "records from before the chain"),
  checkpointsVerified: integer(0, Number.MAX_SAFE_INTEGER, "checkpoints that verified"),
  afterLastCheckpoint: integer(0, Number.MAX_SAFE_INTEGER, "records not yet checkpointed"),
  problems: array(
    object({
      seq: integer(0, Number.MAX_SAFE_INTEGER, "where"),
      kind: text(/^[a-z_]{1,32}$/, "what kind"),
      message: text(/^.{1,1000}$/, "what was found"),
    }, "a problem"),
    0,
    100,
    "what was found wrong",
  ),
}, "the audit log's check");
