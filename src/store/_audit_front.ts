/**
 * The checked front's audit log (hash-chained), its checkpoints, the
 * server's own keys, the operators and the approvals of dual control: the
 * part of {@link ./checked.ts} that the operator layer and every audited
 * step call. Each method checks its arguments, runs its statements on the
 * backend and maps the rows.
 *
 * @module
 */
import type { Exec } from "./_backend.ts";
import { AUDIT_COLUMNS, ChainAppender, chainHead, rowValues } from "./_chain.ts";
import {
  checkAuditInput,
  checkAuditQuery,
  checkDate,
  checkId,
  checkInt,
  checkOneOf,
} from "./_check.ts";
import { LedgerFront } from "./_ledger_front.ts";
import {
  APPROVAL_STATES,
  checkApprovalInput,
  checkChainPage,
  checkCheckpoint,
  checkOperatorInput,
  checkServerKey,
  checkServerKeyVersion,
  SERVER_KEY_NAMES,
} from "./_operator_check.ts";
import {
  iso,
  toApproval,
  toAudit,
  toChained,
  toCheckpoint,
  toOperator,
  toServerKey,
  toServerKeyVersion,
} from "./_rows.ts";
import type { AuditLog, OperatorBook, ServerKeys } from "./api.ts";
import type { AuditCheckpoint, AuditHead, ChainedAuditRecord } from "./audit_chain.ts";
import { currentAuditOperator, pendingAuditPreface } from "./audit_operator.ts";
import { StoreError } from "./errors.ts";
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
import type { AuditInput, AuditQuery, AuditRecord } from "./types.ts";

/** Marks a running approval done with its request's status. */
async function finishApprovalIn(x: Exec, id: string, status: number): Promise<void> {
  checkInt("status", status, 100, 599);
  const n = await x.run(
    "UPDATE approvals SET state = 'done', status = ? WHERE id = ? AND state = 'approved'",
    status,
    id,
  );
  if (n === 0) throw new StoreError("conflict", `approval ${id} is not approved and running`);
}

/** The audit log, server keys, operators and approvals over a backend. */
export abstract class AuditFront extends LedgerFront implements AuditLog, ServerKeys, OperatorBook {
  // ---- audit ----

  appendAudit(e: AuditInput): Promise<number> {
    checkAuditInput(e);
    if (e.operator != null) checkId("event.operator", e.operator);
    const operator = e.operator ?? currentAuditOperator();
    const preface = pendingAuditPreface(e.outcome);
    return this.backend.atomic("audit", async (x) => {
      const done = preface?.finishApproval;
      if (done) await finishApprovalIn(x, done.id, done.status);
      const chain = await ChainAppender.open(x, this.backend);
      let id = 0;
      for (const a of [...preface?.records ?? [], e]) {
        const r = chain.link({
          at: iso(a.at),
          actor: a.actor,
          event: a.event,
          subject: a.subject ?? null,
          keyId: a.keyId ?? null,
          kcv: a.kcv ?? null,
          outcome: a.outcome,
          detail: a.detail ?? null,
          operator: a.operator ?? operator,
        });
        await x.run(
          `INSERT INTO audit_log (${AUDIT_COLUMNS})${this.backend.auditInsert}
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${this.backend.hexParam})`,
          ...rowValues(r),
        );
        id = r.id;
      }
      if (preface) preface.written = true;
      return id;
    });
  }

  listAudit(q: AuditQuery): Promise<AuditRecord[]> {
    const afterId = checkAuditQuery(q);
    const subject = q.subject ?? null;
    const event = q.event ?? null;
    return this.backend.one("audit", async (x) =>
      (await x.all(
        `SELECT * FROM audit_log WHERE id > ? AND (CAST(? AS TEXT) IS NULL OR subject = ?)
           AND (CAST(? AS TEXT) IS NULL OR event = ?) ORDER BY id LIMIT ?`,
        afterId,
        subject,
        subject,
        event,
        event,
        q.limit,
      )).map(toAudit));
  }

  auditHead(): Promise<AuditHead> {
    return this.backend.one("audit head", async (x) => {
      const start = await x.get("SELECT chained_from FROM audit_chain_start WHERE id = 1");
      if (!start) throw new StoreError("schema", "the audit_chain_start row is missing");
      return { ...await chainHead(x), chainedFrom: Number(start.chained_from) };
    });
  }

  listAuditChain(q: { afterId: number; limit: number }): Promise<ChainedAuditRecord[]> {
    checkChainPage("afterId", q?.afterId, q?.limit);
    return this.backend.one(
      "audit",
      async (x) =>
        (await x.all(
          "SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
          q.afterId,
          q.limit,
        ))
          .map(toChained),
    );
  }

  addAuditCheckpoint(c: AuditCheckpoint): Promise<boolean> {
    checkCheckpoint(c);
    return this.backend.one("audit checkpoint", async (x) =>
      await x.run(
        `INSERT INTO audit_checkpoints (seq, hash, at, key_kcv, mac) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (seq) DO NOTHING`,
        c.seq,
        c.hash,
        c.at,
        c.keyKcv,
        c.mac,
      ) === 1);
  }

  listAuditCheckpoints(q: { afterSeq: number; limit: number }): Promise<AuditCheckpoint[]> {
    checkChainPage("afterSeq", q?.afterSeq, q?.limit);
    return this.backend.one("audit checkpoints", async (x) =>
      (await x.all(
        "SELECT * FROM audit_checkpoints WHERE seq > ? ORDER BY seq LIMIT ?",
        q.afterSeq,
        q.limit,
      )).map(toCheckpoint));
  }

  lastAuditCheckpoint(): Promise<AuditCheckpoint | null> {
    return this.backend.one("audit checkpoints", async (x) => {
      const r = await x.get("SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1");
      return r ? toCheckpoint(r) : null;
    });
  }

  // ---- server keys ----

  getServerKey(name: string): Promise<ServerKey | null> {
    checkId("name", name);
    return this.backend.one("server key", async (x) => {
      const r = await x.get("SELECT * FROM server_keys WHERE name = ?", name);
      return r ? toServerKey(r) : null;
    });
  }

  putServerKey(
    k: { name: string; keyBlock: string; kcv: string; createdAt: Date },
  ): Promise<ServerKey> {
    checkServerKey(k);
    return this.backend.atomic(`server key ${k.name}`, async (x) => {
      await x.run(
        `INSERT INTO server_keys (name, key_block, kcv, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO NOTHING`,
        k.name,
        k.keyBlock,
        k.kcv,
        iso(k.createdAt),
      );
      return toServerKey((await x.get("SELECT * FROM server_keys WHERE name = ?", k.name))!);
    });
  }

  listServerKeyVersions(name: string): Promise<ServerKeyVersion[]> {
    checkOneOf("name", name, SERVER_KEY_NAMES);
    return this.backend.one("server key versions", async (x) =>
      (await x.all(
        "SELECT * FROM server_key_versions WHERE name = ? ORDER BY version",
        name,
      )).map(toServerKeyVersion));
  }

  putServerKeyVersion(k: ServerKeyVersionInput): Promise<ServerKeyVersion> {
    checkServerKeyVersion(k);
    const what = `${k.name} version ${k.version}`;
    return this.backend.atomic(`server key ${what}`, async (x) => {
      const select = `SELECT * FROM server_key_versions WHERE name = ? AND version = ?`;
      if (k.previousKcv !== null) {
        // The version before is locked until the end: two rotations cannot both follow it.
        const prev = await x.get(select + this.backend.lockRow, k.name, k.version - 1);
        if (!prev || prev.kcv !== k.previousKcv) {
          throw new StoreError(
            "conflict",
            `${what}: version ${k.version - 1} ${
              prev ? `has KCV ${prev.kcv}, not ${k.previousKcv}` : "is not stored"
            }; nothing stored`,
          );
        }
      }
      await x.run(
        `INSERT INTO server_key_versions
           (name, version, key_block, kcv, previous_kcv, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, version) DO NOTHING`,
        k.name,
        k.version,
        k.keyBlock,
        k.kcv,
        k.previousKcv,
        iso(k.createdAt),
        k.createdBy,
      );
      return toServerKeyVersion((await x.get(select, k.name, k.version))!);
    });
  }

  // ---- operators ----

  addOperator(o: OperatorInput): Promise<OperatorRecord> {
    checkOperatorInput(o);
    return this.backend.atomic(`operator ${o.id}`, async (x) => {
      const r = await x.get(
        `INSERT INTO operators (id, name, role, public_key, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING *`,
        o.id,
        o.name,
        o.role,
        o.publicKey,
        iso(o.createdAt),
        o.createdBy,
      );
      if (r) return toOperator(r);
      const same = await x.get("SELECT id FROM operators WHERE id = ?", o.id);
      throw new StoreError(
        "duplicate",
        same
          ? `operator ${o.id} already exists`
          : `operator ${o.id}: that public key is already another operator's`,
      );
    });
  }

  getOperator(id: string): Promise<OperatorRecord | null> {
    checkId("id", id);
    return this.backend.one("operator", async (x) => {
      const r = await x.get("SELECT * FROM operators WHERE id = ?", id);
      return r ? toOperator(r) : null;
    });
  }

  listOperators(): Promise<OperatorRecord[]> {
    return this.backend.one(
      "operators",
      async (x) => (await x.all("SELECT * FROM operators ORDER BY id")).map(toOperator),
    );
  }

  disableOperator(id: string, options: { at: Date; by: string }): Promise<boolean> {
    checkId("id", id);
    checkDate("options.at", options?.at);
    checkId("options.by", options.by);
    return this.backend.one(`operator ${id}`, async (x) => {
      const n = await x.run(
        "UPDATE operators SET disabled_at = ?, disabled_by = ? WHERE id = ? AND disabled_at IS NULL",
        iso(options.at),
        options.by,
        id,
      );
      if (n === 0 && !(await x.get("SELECT 1 FROM operators WHERE id = ?", id))) {
        throw new StoreError("not_found", `operator ${id} does not exist`);
      }
      return n === 1;
    });
  }

  countOperators(): Promise<number> {
    return this.backend.one("operators", async (x) => {
      const r = await x.get("SELECT count(*) AS n FROM operators WHERE disabled_at IS NULL");
      return Number(r!.n);
    });
  }

  // ---- approvals ----

  createApproval(a: ApprovalInput): Promise<Approval> {
    checkApprovalInput(a);
    return this.backend.one(`approval ${a.id}`, async (x) => {
      const r = await x.get(
        `INSERT INTO approvals (id, operation, method, path, body, requested_by, requested_at,
           expires_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')
         ON CONFLICT (id) DO NOTHING RETURNING *`,
        a.id,
        a.operation,
        a.method,
        a.path,
        a.body,
        a.requestedBy,
        iso(a.requestedAt),
        iso(a.expiresAt),
      );
      if (!r) throw new StoreError("duplicate", `approval ${a.id} already exists`);
      return toApproval(r);
    });
  }

  getApproval(id: string): Promise<Approval | null> {
    checkId("id", id);
    return this.backend.one("approval", async (x) => {
      const r = await x.get("SELECT * FROM approvals WHERE id = ?", id);
      return r ? toApproval(r) : null;
    });
  }

  listApprovals(q: { state?: ApprovalState; limit: number }): Promise<Approval[]> {
    const state = q?.state ?? "pending";
    checkOneOf("query.state", state, APPROVAL_STATES);
    checkInt("query.limit", q.limit, 1, 10000);
    return this.backend.one("approvals", async (x) =>
      (await x.all(
        "SELECT * FROM approvals WHERE state = ? ORDER BY requested_at, id LIMIT ?",
        state,
        q.limit,
      )).map(toApproval));
  }

  grantApproval(id: string, approver: string, at: Date): Promise<GrantResult> {
    checkId("id", id);
    checkId("approver", approver);
    checkDate("at", at);
    const t = iso(at);
    return this.backend.one(`approval ${id}`, async (x): Promise<GrantResult> => {
      const r = await x.get(
        `UPDATE approvals SET state = 'approved', approved_by = ?, approved_at = ?
         WHERE id = ? AND state = 'pending' AND requested_by <> ? AND expires_at > ? RETURNING *`,
        approver,
        t,
        id,
        approver,
        t,
      );
      if (r) return { ok: true, approval: toApproval(r) };
      const row = await x.get("SELECT * FROM approvals WHERE id = ?", id);
      if (!row) return { ok: false, reason: "not_found", approval: null };
      const a = toApproval(row);
      const reason = a.state !== "pending"
        ? "not_pending"
        : a.requestedBy === approver
        ? "same_operator"
        : "expired";
      return { ok: false, reason, approval: a };
    });
  }

  finishApproval(id: string, status: number): Promise<void> {
    checkId("id", id);
    checkInt("status", status, 100, 599);
    return this.backend.one(`approval ${id}`, (x) => finishApprovalIn(x, id, status));
  }

  releaseApproval(id: string): Promise<void> {
    checkId("id", id);
    return this.backend.one(`approval ${id}`, async (x) => {
      const n = await x.run(
        `UPDATE approvals SET state = 'pending', approved_by = NULL, approved_at = NULL
         WHERE id = ? AND state = 'approved'`,
        id,
      );
      if (n === 0) throw new StoreError("conflict", `approval ${id} is not approved and running`);
    });
  }
}
