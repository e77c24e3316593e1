/**
 * The operator's side of flow B (CN103714641A, beyond the patent): a
 * terminal's status (KCVs and lock-out, never keys), the lift of a
 * lock-out, and the release of a flow B registration that blocks its serial
 * number (for example a production order whose batch names it). Each change
 * is one transaction with its audit record, which names the operator.
 *
 * @module
 */
import type { Store } from "../../src/store/mod.ts";
import {
  type FlowBTerminalStatus,
  NotFoundError,
  type ReleaseResponse,
  type UnlockResponse,
} from "../../src/protocol/mod.ts";

/** What the operator actions use of the flow B service. */
export interface OperatorContext {
  store: Store;
  now: () => Date;
  audit(
    event: string,
    outcome: "success" | "failure",
    fields: { subject?: string; detail?: string },
    store?: Store,
  ): Promise<void>;
}

/**
 * State, KCVs and lock-out of a flow B terminal.
 *
 * @param store the store or a transaction of it to read from.
 * @param sn serial number.
 * @returns the status, never keys.
 * @throws {NotFoundError} `unknown_terminal`.
 */
export async function terminalStatus(store: Store, sn: string): Promise<FlowBTerminalStatus> {
  const t = await store.getTerminal(sn);
  if (!t || t.orderId !== null || t.state === "registered") {
    throw new NotFoundError("unknown_terminal", `KMS knows no flow B terminal ${sn}`);
  }
  const s: FlowBTerminalStatus = {
    sn,
    flow: "B",
    state: t.state as FlowBTerminalStatus["state"],
    authFailures: t.authFailures,
    locked: t.lockedAt !== null ? "yes" : "no",
    updatedAt: t.updatedAt,
  };
  if (t.tkKcv) s.aukKcv = t.tkKcv;
  if (t.tmkKcv) s.tmkKcv = t.tmkKcv;
  return s;
}

/**
 * Lifts a lock-out; audited with the operator who lifted it.
 *
 * @param c store, clock, audit.
 * @param sn serial number.
 * @param operator who asked.
 * @returns whether it was locked.
 * @throws {NotFoundError} `unknown_terminal`.
 */
export async function unlockTerminal(
  c: OperatorContext,
  sn: string,
  operator: string,
): Promise<UnlockResponse> {
  const t = await c.store.getTerminal(sn);
  if (!t || t.orderId !== null) {
    throw new NotFoundError("unknown_terminal", `KMS knows no flow B terminal ${sn}`);
  }
  const done = await c.store.transaction(async (tx) => {
    const lifted = await tx.unlockTerminal(sn, c.now());
    await c.audit("unlock", lifted ? "success" : "failure", {
      subject: sn,
      detail: lifted ? `lifted by ${operator}` : "was not locked",
    }, tx);
    return lifted;
  });
  return { sn, unlocked: done ? "yes" : "no" };
}

/**
 * Drops the flow B registration of an SN (its keys and challenges) if it
 * has no order and no delivered TMK; audited with the operator.
 *
 * @param c store, clock, audit.
 * @param sn serial number.
 * @param operator who asked.
 * @returns `released: "yes"`.
 * @throws {NotFoundError} `unknown_terminal` if there is no such registration.
 */
export async function releaseTerminal(
  c: OperatorContext,
  sn: string,
  operator: string,
): Promise<ReleaseResponse> {
  const done = await c.store.transaction(async (tx) => {
    if (!(await tx.releaseFlowBTerminal(sn))) return false;
    await c.audit("flow_b_released", "success", {
      subject: sn,
      detail: `released by ${operator}: the flow B registration is dropped`,
    }, tx);
    return true;
  });
  if (!done) {
    throw new NotFoundError(
      "unknown_terminal",
      `KMS holds no flow B registration of ${sn} without a delivered TMK`,
    );
  }
  return { sn, released: "yes" };
}
