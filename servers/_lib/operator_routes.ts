/**
 * The operator administration routes both servers serve: operators (added
 * and disabled under dual control), the approvals of dual control, and the
 * audit log (NDJSON export, the chain's check, checkpoints on demand). The
 * messages are `src/protocol/operator_api.ts`; who may call what is in each
 * route's `roles`.
 *
 * @module
 */
import {
  AddOperatorRequest,
  APPROVAL_ID,
  ApprovalList,
  ApprovalView,
  AuditVerifyView,
  CheckpointView,
  OPERATOR_ID_FIELD,
  OperatorList,
  OperatorView,
} from "../../src/protocol/operator_api.ts";
import { NotFoundError, ValidationError } from "../../src/protocol/errors.ts";
import type { OperatorRecord, Store } from "../../src/store/mod.ts";
import type { AuditSealer } from "./audit_seal.ts";
import { ADMIN_ID, approvalView, type OperatorGate } from "./operator_gate.ts";
import { json, type Route, route } from "./router.ts";

/** What the operator routes work on. */
export interface OperatorRoutesOptions {
  gate: OperatorGate;
  store: Store;
  sealer: AuditSealer;
  /** The server's name in audit records (`kms`, `mtms`). */
  actor: string;
  now?: () => Date;
}

function operatorView(o: OperatorRecord): Record<string, unknown> {
  return {
    id: o.id,
    name: o.name,
    role: o.role,
    publicKey: o.publicKey,
    createdAt: o.createdAt,
    createdBy: o.createdBy,
    disabledAt: o.disabledAt,
  };
}

/** Audit records after `after`, then every checkpoint, one JSON object per line. */
function auditExport(store: Store, after: number): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let id = after;
  let seq = 0;
  let phase: "records" | "checkpoints" | "done" = "records";
  return new ReadableStream({
    async pull(c) {
      if (phase === "records") {
        const page = await store.listAuditChain({ afterId: id, limit: 1000 });
        if (page.length > 0) id = page[page.length - 1].id;
        if (page.length < 1000) phase = "checkpoints";
        const lines = page.map((r) => JSON.stringify({ kind: "record", ...r }) + "\n");
        if (lines.length > 0) c.enqueue(enc.encode(lines.join("")));
        return;
      }
      if (phase === "checkpoints") {
        const page = await store.listAuditCheckpoints({ afterSeq: seq, limit: 1000 });
        if (page.length > 0) seq = page[page.length - 1].seq;
        if (page.length < 1000) phase = "done";
        const lines = page.map((k) => JSON.stringify({ kind: "checkpoint", ...k }) + "\n");
        if (lines.length > 0) c.enqueue(enc.encode(lines.join("")));
        return;
      }
      c.close();
    },
  });
}

const NDJSON = "application/x-ndjson";

function afterOf(request: Request): number {
  const raw = new URL(request.url).searchParams.get("after") ?? "0";
  if (!/^[0-9]{1,15}$/.test(raw)) {
    throw new ValidationError("invalid_field", "query after must be a record id (0-15 digits)");
  }
  return Number(raw);
}

/** The operator, approval and audit routes. */
export function operatorRoutes(o: OperatorRoutesOptions): Route[] {
  return [...enrolmentRoutes(o), ...approvalRoutes(o), ...auditRoutes(o)];
}

/** Operators: enrol, list, disable. */
function enrolmentRoutes(o: OperatorRoutesOptions): Route[] {
  const { store, actor } = o;
  const now = o.now ?? (() => new Date());
  // Each change and its audit record are written in one transaction.
  const audit = (tx: Store, event: string, subject: string, detail: string) =>
    tx.appendAudit({ at: now(), actor, event, subject, outcome: "success", detail });
  return [
    route({
      method: "POST",
      path: "/v1/operators",
      operationId: "addOperator",
      summary: "Enrolls an operator with one role and its Ed25519 public key (dual control)",
      access: "operator",
      roles: ["supervisor"],
      dualControl: { approvers: ["supervisor"] },
      body: AddOperatorRequest,
      maxBody: 2048,
      responses: { 201: { description: "enrolled", schema: OperatorView } },
      handler: async (_req, { body, operator }) => {
        if (body.id === ADMIN_ID) {
          throw new ValidationError(
            "invalid_field",
            `body.id ${ADMIN_ID} is the bootstrap administrator's`,
          );
        }
        const added = await store.transaction(async (tx) => {
          const a = await tx.addOperator({ ...body, createdAt: now(), createdBy: operator!.id });
          await audit(tx, "operator_added", a.id, `role ${a.role}, key ${a.publicKey}`);
          return a;
        });
        return json(201, operatorView(added));
      },
    }),
    route({
      method: "GET",
      path: "/v1/operators",
      operationId: "listOperators",
      summary: "Every operator with its role, key and state",
      access: "operator",
      roles: ["supervisor", "auditor"],
      responses: { 200: { description: "operators", schema: OperatorList } },
      handler: async () =>
        json(200, { operators: (await store.listOperators()).map(operatorView) }),
    }),
    route({
      method: "POST",
      path: "/v1/operators/:operatorId/disable",
      operationId: "disableOperator",
      summary: "Disables an operator: its requests are refused from then on (dual control)",
      access: "operator",
      roles: ["supervisor"],
      dualControl: { approvers: ["supervisor"] },
      params: { operatorId: OPERATOR_ID_FIELD },
      responses: { 200: { description: "disabled", schema: OperatorView } },
      handler: async (_req, { params, operator }) => {
        const id = params.operatorId;
        await store.transaction(async (tx) => {
          const changed = await tx.disableOperator(id, { at: now(), by: operator!.id });
          if (changed) await audit(tx, "operator_disabled", id, `by ${operator!.id}`);
        });
        return json(200, operatorView((await store.getOperator(id))!));
      },
    }),
  ];
}

/** Dual control: the pending approvals, one approval, approving. */
function approvalRoutes(o: OperatorRoutesOptions): Route[] {
  const { gate, store } = o;
  return [
    route({
      method: "GET",
      path: "/v1/approvals",
      operationId: "listApprovals",
      summary: "Requests waiting for a second operator, oldest first",
      access: "operator",
      roles: ["operator", "supervisor", "custodian", "auditor"],
      responses: { 200: { description: "pending approvals", schema: ApprovalList } },
      handler: async () =>
        json(200, {
          approvals: (await store.listApprovals({ limit: 1000 })).map(approvalView),
        }),
    }),
    route({
      method: "GET",
      path: "/v1/approvals/:approvalId",
      operationId: "getApproval",
      summary: "One request under dual control",
      access: "operator",
      roles: ["operator", "supervisor", "custodian", "auditor"],
      params: { approvalId: APPROVAL_ID },
      responses: { 200: { description: "the approval", schema: ApprovalView } },
      handler: async (_req, { params }) => {
        const a = await store.getApproval(params.approvalId);
        if (!a) throw new NotFoundError("approval_not_found", `no approval ${params.approvalId}`);
        return json(200, approvalView(a));
      },
    }),
    route({
      method: "POST",
      path: "/v1/approvals/:approvalId/approve",
      operationId: "approve",
      summary:
        "A second operator approves a pending request, which then runs once; answers with its result",
      access: "operator",
      roles: ["supervisor", "custodian"],
      params: { approvalId: APPROVAL_ID },
      responses: { 200: { description: "the approved operation's answer" } },
      handler: (_req, { params, operator }) => gate.approve(operator!, params.approvalId),
    }),
  ];
}

/** The audit log: NDJSON export, the chain's check, a checkpoint now. */
function auditRoutes(o: OperatorRoutesOptions): Route[] {
  const { store, sealer, actor } = o;
  const now = o.now ?? (() => new Date());
  return [
    route({
      method: "GET",
      path: "/v1/audit/export",
      operationId: "exportAudit",
      summary:
        "The audit log after ?after=: with Accept: application/x-ndjson, all of it as NDJSON " +
        "(each record, kind record, with operator and prevHash; then each checkpoint, kind " +
        "checkpoint); otherwise a JSON page of up to 1000 records and their checkpoints",
      access: "operator",
      roles: ["auditor"],
      responses: { 200: { description: "a page (JSON) or the whole log (NDJSON)" } },
      handler: async (req) => {
        const after = afterOf(req);
        if ((req.headers.get("accept") ?? "").includes(NDJSON)) {
          return new Response(auditExport(store, after), { headers: { "content-type": NDJSON } });
        }
        const records = await store.listAuditChain({ afterId: after, limit: 1000 });
        const last = records.at(-1)?.id ?? after;
        const checkpoints = (await store.listAuditCheckpoints({ afterSeq: after, limit: 1000 }))
          .filter((c) => c.seq <= last);
        return json(200, { records, checkpoints, next: records.length === 1000 ? last : null });
      },
    }),
    route({
      method: "GET",
      path: "/v1/audit/verify",
      operationId: "verifyAudit",
      summary:
        "Recomputes the audit chain and checks every checkpoint's MAC with the HSM: names each " +
        "record changed, deleted, inserted or moved",
      access: "operator",
      roles: ["auditor", "supervisor"],
      responses: { 200: { description: "the check", schema: AuditVerifyView } },
      handler: async () => {
        const r = await sealer.verify();
        await store.appendAudit({
          at: now(),
          actor,
          event: "audit_verified",
          outcome: r.ok ? "success" : "failure",
          detail:
            `${r.records} records, ${r.checkpointsVerified} checkpoints, ${r.problems.length} problems`,
        });
        return json(200, {
          ok: r.ok ? "yes" : "no",
          records: r.records,
          unchained: r.unchained,
          checkpointsVerified: r.checkpointsVerified,
          afterLastCheckpoint: r.afterLastCheckpoint,
          problems: r.problems,
        });
      },
    }),
    route({
      method: "POST",
      path: "/v1/audit/checkpoints",
      operationId: "checkpointAudit",
      summary: "Makes a checkpoint now: the HSM MACs the chain's hash at its last record",
      access: "operator",
      roles: ["auditor", "supervisor"],
      responses: { 201: { description: "the checkpoint at the head", schema: CheckpointView } },
      handler: async () => {
        const c = await sealer.seal();
        if (!c) throw new NotFoundError("audit_empty", "the audit log has no chained record yet");
        return json(201, c);
      },
    }),
  ];
}
