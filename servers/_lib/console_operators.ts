/**
 * The console on the server's operator layer (`operator_layer.ts`): the
 * people are the operators enrolled in the store (their role, name and
 * whether they are disabled come from there; the console users file gives
 * only each one's argon2id password hash), dual control is the gate's
 * (an unlock asked in the console is the same pending approval as one
 * asked on the API, and a second operator approves it in either place),
 * and the audit page shows the hash chain as the sealer verifies it.
 *
 * @module
 */
import type { Store } from "../../src/store/mod.ts";
import type { AuditSealer } from "./audit_seal.ts";
import type { ConsoleDirectory, ConsoleOperator } from "./console_auth.ts";
import type { ChainState } from "./console_common.ts";
import { type ActingOperator, approvalView, type OperatorGate } from "./operator_gate.ts";

/** The operator layer as the console uses it. */
export interface ConsoleOperatorLayer {
  store: Store;
  gate: OperatorGate;
  sealer: AuditSealer;
}

/**
 * A directory of the enrolled operators: a login needs an enabled operator
 * in the store and a password hash in `passwords`; the role is the store's.
 *
 * @param store the operators.
 * @param passwords the password hashes (the console users file).
 */
export function enrolledDirectory(store: Store, passwords: ConsoleDirectory): ConsoleDirectory {
  return {
    async find(id) {
      const [op, cred] = await Promise.all([store.getOperator(id), passwords.find(id)]);
      if (!op || !cred) return null;
      return {
        operator: { id: op.id, name: op.name, role: op.role },
        passwordHash: cred.passwordHash,
        disabled: op.disabledAt !== null || cred.disabled === true,
      };
    },
  };
}

/** The acting operator of a console session, as the gate takes it. */
export function acting(op: ConsoleOperator): ActingOperator {
  return { id: op.id, name: op.name, roles: [op.role] };
}

/** A pending approval as the console lists it. */
export interface PendingApproval {
  id: string;
  operation: string;
  method: string;
  path: string;
  requestedBy: string;
  requestedAt: string;
  expiresAt: string;
}

/** Dual control through the gate: ask, list, approve. */
export interface ConsoleApprovals {
  /**
   * Asks for an operation that needs a second operator.
   * @returns the pending approval, or null if the gate ran it at once (no operator enrolled).
   */
  request(
    op: ConsoleOperator,
    route: { operationId: string; approvers: readonly ConsoleOperator["role"][] },
    method: string,
    path: string,
  ): Promise<PendingApproval | null>;
  pending(): Promise<PendingApproval[]>;
  /** Approves; the operation runs once as its requester. @returns its status and JSON body. */
  approve(op: ConsoleOperator, id: string): Promise<{ status: number; body: unknown }>;
}

function pendingView(a: Record<string, unknown>): PendingApproval {
  return {
    id: String(a.approvalId),
    operation: String(a.operation),
    method: String(a.method),
    path: String(a.path),
    requestedBy: String(a.requestedBy),
    requestedAt: String(a.requestedAt),
    expiresAt: String(a.expiresAt),
  };
}

/** The gate's dual control for the console. */
export function gateApprovals(layer: ConsoleOperatorLayer): ConsoleApprovals {
  return {
    async request(op, route, method, path) {
      const res = await layer.gate.hold(
        acting(op),
        { operationId: route.operationId, dualControl: { approvers: route.approvers } },
        { method, url: new URL(path, "http://console"), body: new Uint8Array() },
      );
      return res ? pendingView(await res.json()) : null;
    },
    async pending() {
      const now = Date.now();
      return (await layer.store.listApprovals({ state: "pending", limit: 1000 }))
        .filter((a) => Date.parse(a.expiresAt) > now)
        .map((a) => pendingView(approvalView(a)));
    },
    async approve(op, id) {
      const res = await layer.gate.approve(acting(op), id);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
  };
}

/** The chain's state as the sealer verifies it (links, head, checkpoints under the audit key). */
export function sealedChainState(sealer: AuditSealer): ChainState {
  return async () => {
    const r = await sealer.verify();
    const first = r.problems[0];
    return {
      state: r.ok ? "intact" : "broken",
      records: r.records,
      detail: r.ok
        ? `${r.checkpointsVerified} checkpoints verified under the audit key; ` +
          `${r.afterLastCheckpoint} records after the last; ${r.unchained} from before the chain`
        : `${r.problems.length} problems; first at record ${first.seq}: ${first.message}`,
    };
  };
}
