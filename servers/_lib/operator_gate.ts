/**
 * Who may call an operator route: each request names its operator and is
 * signed with that operator's Ed25519 key (`src/protocol/operator_key.ts`),
 * or with the bootstrap administrator's secret (`--token`, the HMAC scheme
 * of `src/protocol/operator_request.ts`, operator id `admin`). The gate
 * verifies the signature, remembers the nonce (single use), checks the
 * route's roles (403 `role_required` naming them), and holds each request
 * of a dual-control route as a pending approval until a second operator
 * approves it; the approved request then runs once. An approval is used
 * up in the same transaction as its request's own audit record, so a run
 * that fails leaves it pending (to be approved again until it expires).
 *
 * Authentication refusals say nothing about who is enrolled: an unknown
 * operator and a wrong signature get the same 401 `unauthorized` after the
 * same work (the signature is checked against a decoy key for an unknown
 * operator), the precise reason going to the log only; a disabled operator
 * is named as such only to a request its own key signed. Each refusal that
 * proved nothing counts against the request's source address
 * (`rate_limit.ts`, as on the device routes): past a few, the source is
 * answered 429 `rate_limited` before any check, for a time that doubles
 * and ends on its own. A request with no known source (made in process,
 * not received on a socket) is not limited.
 *
 * Bootstrap: while no operator is enrolled, `admin` holds every role and
 * a dual-control request runs alone (audited as `dual_control_waived`):
 * there is nobody to approve it. Once any operator is enrolled, `admin` is
 * a supervisor only and every dual-control request needs two people.
 *
 * @module
 */
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  TooManyRequestsError,
  UnauthorizedError,
} from "../../src/protocol/errors.ts";
import {
  generateOperatorKey,
  OPERATOR_SIGNATURE_INVALID,
  type OperatorKeyHeader,
  parseOperatorHeader,
  verifyOperatorRequestWithKey,
} from "../../src/protocol/operator_key.ts";
import {
  type VerifiedOperatorRequest,
  verifyOperatorRequest,
} from "../../src/protocol/operator_request.ts";
import {
  type Approval,
  type AuditInput,
  type AuditLog,
  type AuditPreface,
  OPERATOR_ROLES,
  type OperatorBook,
  type OperatorRecord,
  type OperatorRole,
  withAuditOperator,
  withAuditPreface,
} from "../../src/store/mod.ts";
import { toHttpError, withLogReason } from "./errors.ts";
import { requestSource } from "./listener.ts";
import { FailureLimiter, type FailureLimits, sourceKey } from "./rate_limit.ts";

/** The bootstrap administrator's operator id (the `--token` holder). */
export const ADMIN_ID = "admin";

/** Default lifetime of a pending approval: 15 minutes. */
export const APPROVAL_TTL_MS = 15 * 60 * 1000;

/** The operator a request was verified for, as handlers see it. */
export interface ActingOperator {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly OperatorRole[];
}

/** The part of a route the gate reads. */
export interface GatedRoute {
  readonly operationId: string;
  readonly roles?: readonly OperatorRole[];
  readonly dualControl?: { readonly approvers: readonly OperatorRole[] };
  /** Documented answers by status (the success status an approval records). */
  readonly responses?: Readonly<Record<number, unknown>>;
}

/** What the router gives the gate to run an approved request. */
export interface ApprovedRunner {
  /** The route an approval's method and path go to (refuses what no route serves). */
  resolve(method: string, path: string): GatedRoute;
  /** Runs an approved request's route with its stored body, as `requester`. */
  run(approval: Approval, requester: ActingOperator): Promise<Response>;
}

/** Options of {@link OperatorGate}. */
export interface OperatorGateOptions {
  /** The bootstrap administrator's secret (at least 16 characters). */
  token: string;
  /** Remembers a nonce until `expiresAt`; false if seen (a replay). */
  rememberNonce: (nonce: string, expiresAt: Date) => Promise<boolean>;
  /** Operators, approvals and the audit log; without it only `admin` exists (bootstrap). */
  store?: GateStore;
  /** The server's name in audit records (`kms`, `mtms`). */
  actor?: string;
  /** How long an approval waits for its second operator (default {@link APPROVAL_TTL_MS}). */
  approvalTtlMs?: number;
  /**
   * Called for each admitted operator request before it runs (a checkpoint
   * of the audit log when one is due): a failure refuses the request before
   * it changes anything.
   */
  beforeRequest?: () => Promise<unknown>;
  /** The hold-off of sources whose requests fail to authenticate (default: the limiter's). */
  limits?: Partial<FailureLimits>;
  now?: () => Date;
}

/** What the gate keeps: operators, approvals, the audit log, in transactions. */
type GateStore = OperatorBook & AuditLog & {
  transaction<T>(fn: (tx: OperatorBook & AuditLog) => Promise<T>): Promise<T>;
};

const ALL_ROLES: readonly OperatorRole[] = OPERATOR_ROLES;

/** Roles of a route, or every role for a route that names none. */
function rolesOf(r: GatedRoute): readonly OperatorRole[] {
  return r.roles ?? ALL_ROLES;
}

/**
 * The operator an enrolled record acts as.
 *
 * @throws {UnauthorizedError} `operator_disabled` for a disabled one.
 */
function actingOf(op: OperatorRecord): ActingOperator {
  if (op.disabledAt !== null) {
    throw new UnauthorizedError("operator_disabled", `operator ${op.id} is disabled`);
  }
  return { id: op.id, name: op.name, roles: [op.role] };
}

/** Authenticates operators, checks roles and runs dual control. */
export class OperatorGate {
  readonly #o: OperatorGateOptions;
  readonly #now: () => Date;
  readonly #limiter: FailureLimiter;
  /** A public key whose private key nobody holds: an unknown operator's request is checked against it. */
  #decoy: Promise<string> | null = null;
  #runner: ApprovedRunner | null = null;

  /** @param o the token, nonce memory, store and policy. */
  constructor(o: OperatorGateOptions) {
    if (typeof o.token !== "string" || o.token.length < 16) {
      throw new RangeError(
        `the operator token must be at least 16 characters, got ${String(o.token?.length)}`,
      );
    }
    this.#o = o;
    this.#now = o.now ?? (() => new Date());
    this.#limiter = new FailureLimiter(o.limits);
  }

  /** @internal the router hands over how to run approved requests. */
  attach(runner: ApprovedRunner): void {
    this.#runner = runner;
  }

  /** True while no operator is enrolled (only `admin`). */
  async bootstrap(): Promise<boolean> {
    return !this.#o.store || (await this.#o.store.countOperators()) === 0;
  }

  async #admin(): Promise<ActingOperator> {
    const roles = (await this.bootstrap()) ? ALL_ROLES : ["supervisor" as const];
    return { id: ADMIN_ID, name: "bootstrap administrator", roles };
  }

  /**
   * The operator of a stored id (for an approval's requester).
   *
   * @throws {UnauthorizedError} for an unknown or disabled operator.
   */
  async operator(id: string): Promise<ActingOperator> {
    if (id === ADMIN_ID) return await this.#admin();
    const op = await this.#o.store?.getOperator(id);
    if (!op) throw new UnauthorizedError("unauthorized", `no operator ${id} is enrolled here`);
    return actingOf(op);
  }

  /**
   * Verifies a signed operator request (signature, time, single-use nonce)
   * and the route's roles.
   *
   * @param body the body bytes as received (the signature covers them).
   * @returns the operator.
   * @throws {TooManyRequestsError} `rate_limited` (a source held off after failures);
   *   {@link UnauthorizedError} `unauthorized`, `operator_disabled`, `request_expired`,
   *   `request_replayed`; {@link ForbiddenError} `role_required`.
   */
  async admit(
    request: Request,
    url: URL,
    route: GatedRoute,
    body: Uint8Array,
  ): Promise<ActingOperator> {
    const source = requestSource(request);
    const limited = source === undefined ? [] : [`src:${sourceKey(source)}`];
    this.#holdOff(limited);
    const signed = { method: request.method, url, body };
    let verified: { op: ActingOperator; nonce: VerifiedOperatorRequest };
    try {
      verified = await this.#authenticate(request.headers.get("authorization"), signed);
    } catch (e) {
      // Only a refusal that proved nothing counts: an expired or disabled operator's was signed.
      if (e instanceof UnauthorizedError && e.code === "unauthorized") {
        this.#limiter.fail(limited, this.#now().getTime());
      }
      throw e;
    }
    const { op, nonce } = verified;
    if (!(await this.#o.rememberNonce(nonce.nonce, nonce.expiresAt))) {
      throw new UnauthorizedError(
        "request_replayed",
        "this operator request was already received (its nonce is used); sign each request anew",
      );
    }
    await this.#requireRole(op, route.operationId, rolesOf(route));
    await this.#o.beforeRequest?.();
    return op;
  }

  /** Refuses at once a request from a source held off after failed authentications. */
  #holdOff(keys: string[]): void {
    const wait = this.#limiter.retryAfter(keys, this.#now().getTime());
    if (wait > 0) {
      throw new TooManyRequestsError(
        "rate_limited",
        `too many operator requests from this address failed to authenticate; retry in ${
          Math.ceil(wait / 1000)
        } s`,
        wait,
      );
    }
  }

  /** The operator a request's signature proves, and its nonce (not yet remembered). */
  async #authenticate(
    header: string | null,
    signed: { method: string; url: URL; body: Uint8Array },
  ): Promise<{ op: ActingOperator; nonce: VerifiedOperatorRequest }> {
    const h = parseOperatorHeader(header);
    if (h.scheme === "hmac") {
      const nonce = await verifyOperatorRequest(this.#o.token, header, signed, this.#now());
      return { op: await this.#admin(), nonce };
    }
    return await this.#keyed(h.parts, signed);
  }

  /**
   * An Ed25519-signed request. Its signature is checked before anything
   * about the operator is told, against a decoy key for an unknown one: the
   * same answer after the same work as a wrong signature.
   */
  async #keyed(
    parts: OperatorKeyHeader,
    signed: { method: string; url: URL; body: Uint8Array },
  ): Promise<{ op: ActingOperator; nonce: VerifiedOperatorRequest }> {
    const op = (await this.#o.store?.getOperator(parts.keyId)) ?? null;
    this.#decoy ??= generateOperatorKey().then((k) => k.publicKey);
    const publicKey = op?.publicKey ?? await this.#decoy;
    let nonce: VerifiedOperatorRequest;
    try {
      nonce = await verifyOperatorRequestWithKey(publicKey, parts, signed, this.#now());
    } catch (e) {
      if (!(e instanceof UnauthorizedError) || e.code !== "unauthorized") throw e;
      const why = op ? `signature not valid for operator ${op.id}` : "operator not enrolled";
      throw withLogReason(e, `${why} (key=${parts.keyId})`);
    }
    if (!op) throw new UnauthorizedError("unauthorized", OPERATOR_SIGNATURE_INVALID);
    return { op: actingOf(op), nonce };
  }

  async #requireRole(
    op: ActingOperator,
    what: string,
    roles: readonly OperatorRole[],
  ): Promise<void> {
    if (op.roles.some((r) => roles.includes(r))) return;
    const message = `${what} needs role ${roles.join(" or ")}; operator ${op.id} has role ${
      op.roles.join(", ")
    }`;
    await this.#audit(op.id, "access_refused", "failure", { subject: what, detail: message });
    throw new ForbiddenError("role_required", message);
  }

  #record(
    operator: string,
    event: string,
    outcome: "success" | "failure",
    fields: { subject?: string; detail?: string },
  ): AuditInput {
    return {
      at: this.#now(),
      actor: this.#o.actor ?? "server",
      event,
      outcome,
      operator,
      ...fields,
    };
  }

  async #audit(
    operator: string,
    event: string,
    outcome: "success" | "failure",
    fields: { subject?: string; detail?: string },
  ): Promise<void> {
    await this.#o.store?.appendAudit(this.#record(operator, event, outcome, fields));
  }

  /**
   * A dual-control request: stored as a pending approval (202), or, while
   * no operator is enrolled, let through (audited at once).
   *
   * @returns the 202 answer, or null to run the request now.
   */
  async hold(
    op: ActingOperator,
    route: GatedRoute,
    request: { method: string; url: URL; body: Uint8Array },
  ): Promise<Response | null> {
    const d = await this.dual(op, route, request);
    if ("held" in d) return d.held;
    if (d.waiver) await this.#o.store?.appendAudit(d.waiver);
    return null;
  }

  /**
   * A dual-control request: stored as a pending approval (202), or, while
   * no operator is enrolled, let through with the record of the waiver
   * (`dual_control_waived`) for the caller to write with the request's
   * first success record (`withAuditPreface`), so that a request that
   * fails leaves no such record.
   *
   * @returns the 202 answer, or the waiver record (null: not a dual-control route).
   */
  async dual(
    op: ActingOperator,
    route: GatedRoute,
    request: { method: string; url: URL; body: Uint8Array },
  ): Promise<{ held: Response } | { waiver: AuditInput | null }> {
    if (!route.dualControl) return { waiver: null };
    if (!this.#o.store || await this.bootstrap()) {
      return {
        waiver: this.#record(op.id, "dual_control_waived", "success", {
          subject: route.operationId,
          detail: "no operator is enrolled: the bootstrap administrator acts alone",
        }),
      };
    }
    const now = this.#now();
    const text = new TextDecoder().decode(request.body).trim();
    const approvers = route.dualControl.approvers.join(" or ");
    // The approval and its audit record are written in one transaction.
    const a = await this.#o.store.transaction(async (tx) => {
      const a = await tx.createApproval({
        id: crypto.randomUUID(),
        operation: route.operationId,
        method: request.method,
        path: request.url.pathname + request.url.search,
        body: text === "" || text === "{}" ? null : text,
        requestedBy: op.id,
        requestedAt: now,
        expiresAt: new Date(now.getTime() + (this.#o.approvalTtlMs ?? APPROVAL_TTL_MS)),
      });
      await tx.appendAudit(
        this.#record(op.id, "approval_requested", "success", {
          subject: a.id,
          detail: `${a.operation}: ${a.method} ${a.path}; approver role ${approvers}`,
        }),
      );
      return a;
    });
    return {
      held: new Response(JSON.stringify(approvalView(a)), {
        status: 202,
        headers: { "content-type": "application/json" },
      }),
    };
  }

  /**
   * Runs a request whose dual control is waived (bootstrap): the waiver is
   * recorded with the request's first success record, or after it if it
   * wrote none; a request that fails records no waiver.
   *
   * @param waiver the record {@link dual} gave.
   * @param run the request.
   * @returns its answer.
   */
  async runWaived(waiver: AuditInput, run: () => Promise<Response>): Promise<Response> {
    const preface: AuditPreface = { records: [waiver], written: false };
    const res = await withAuditPreface(preface, run);
    if (res.status < 400 && !preface.written) await this.#o.store?.appendAudit(waiver);
    return res;
  }

  /**
   * A second operator approves a pending request: it runs once, as its
   * requester, and its answer is returned; if it fails, the approval is
   * pending again.
   *
   * @throws {NotFoundError} `approval_not_found`; {@link ForbiddenError} `same_operator`,
   *   `role_required`; {@link ConflictError} `approval_expired`, `approval_not_pending`.
   */
  async approve(approver: ActingOperator, approvalId: string): Promise<Response> {
    const store = this.#o.store;
    const a = await store?.getApproval(approvalId);
    if (!store || !a || !this.#runner) {
      throw new NotFoundError("approval_not_found", `no approval ${approvalId}`);
    }
    const route = this.#runner.resolve(a.method, a.path);
    await this.#requireRole(approver, `approving ${a.operation}`, route.dualControl!.approvers);
    // The requester must still be enrolled and enabled when the request runs.
    const requester = await this.operator(a.requestedBy);
    const g = await store.grantApproval(approvalId, approver.id, this.#now());
    if (!g.ok) {
      const [Err, code, message] = g.reason === "same_operator"
        ? [
          ForbiddenError,
          "same_operator",
          `operator ${approver.id} asked for it: a second operator must approve`,
        ] as const
        : g.reason === "expired"
        ? [
          ConflictError,
          "approval_expired",
          `approval ${approvalId} expired at ${a.expiresAt}`,
        ] as const
        : [
          ConflictError,
          "approval_not_pending",
          `approval ${approvalId} is ${a.state}: it runs once`,
        ] as const;
      await this.#audit(approver.id, "approval_refused", "failure", {
        subject: approvalId,
        detail: `${code}: ${message}`,
      });
      throw new Err(code, message);
    }
    // What an approved request that succeeds writes with its own first success record, in
    // its own transaction: the grant, the execution and the approval marked done. A request
    // that fails writes none of it (one failure record): nothing was done, and the approval
    // is pending again until it expires, to be approved anew.
    const success = successStatus(route);
    const granted = (status: number) => [
      this.#record(approver.id, "approval_granted", "success", {
        subject: approvalId,
        detail: `${a.operation} requested by ${a.requestedBy}`,
      }),
      this.#executed(a, approver.id, status),
    ];
    const preface: AuditPreface = {
      records: granted(success),
      finishApproval: { id: approvalId, status: success },
      written: false,
    };
    let status = 500;
    try {
      const res = await withAuditPreface(
        preface,
        () => withAuditOperator(requester.id, () => this.#runner!.run(g.approval, requester)),
      );
      status = res.status;
      if (status < 400 && !preface.written) {
        // The request wrote no audit record of its own: the approval's records on their own.
        await store.finishApproval(approvalId, status);
        for (const r of granted(status)) await store.appendAudit(r);
      }
      return res;
    } catch (e) {
      status = toHttpError(e).status;
      throw e;
    } finally {
      // Still approved (not done): its request changed nothing, whatever it wrote before it
      // failed was rolled back with it.
      if (status >= 400 && (await store.getApproval(approvalId))?.state === "approved") {
        await store.releaseApproval(approvalId);
        // One failure record per failed run: the request's own, or else this one.
        if (!preface.failures) await store.appendAudit(this.#executed(a, approver.id, status));
      }
    }
  }

  #executed(a: Approval, approver: string, status: number): AuditInput {
    return this.#record(approver, "approval_executed", status < 400 ? "success" : "failure", {
      subject: a.id,
      detail: `${a.operation} requested by ${a.requestedBy}, approved by ${approver}: ${status}` +
        (status >= 400 ? "; pending again" : ""),
    });
  }
}

/** The status a route answers on success (the first 2xx it documents; 200 if none). */
function successStatus(route: GatedRoute): number {
  return Object.keys(route.responses ?? {}).map(Number).find((s) => s >= 200 && s < 300) ?? 200;
}

/** An approval as the API shows it. */
export function approvalView(a: Approval): Record<string, unknown> {
  return {
    approvalId: a.id,
    operation: a.operation,
    method: a.method,
    path: a.path,
    requestedBy: a.requestedBy,
    requestedAt: a.requestedAt,
    expiresAt: a.expiresAt,
    state: a.state,
    ...(a.approvedBy ? { approvedBy: a.approvedBy } : {}),
    ...(a.status !== null ? { status: a.status } : {}),
  };
}
