/**
 * The operator layer of a server, made once at start: the gate (operators,
 * roles, dual control), the audit sealer (checkpoints under the HSM's audit
 * key, made when one is due as an operator request is admitted, and on
 * demand), and the operator administration routes.
 *
 * @module
 */
import type { Hsm } from "../../src/hsm/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { AuditSealer } from "./audit_seal.ts";
import { OperatorGate } from "./operator_gate.ts";
import { operatorRoutes } from "./operator_routes.ts";
import type { Route } from "./router.ts";
import { operatorNonceMemory } from "./store.ts";

/** Options of {@link openOperatorLayer}. */
export interface OperatorLayerOptions {
  store: Store;
  /** The server's name in the audit log (`kms`, `mtms`). */
  actor: string;
  /** The bootstrap administrator's secret. */
  token: string;
  /** The server's authorized HSM: it makes and checks the checkpoints' MACs. */
  hsm: Hsm;
  /** Records between automatic checkpoints (default 1000). */
  auditCheckpointEvery?: number;
  /** How long an approval waits for its second operator, in ms. */
  approvalTtlMs?: number;
  now?: () => Date;
}

/** The gate, the sealer and the routes. */
export interface OperatorLayer {
  gate: OperatorGate;
  sealer: AuditSealer;
  routes: Route[];
}

/**
 * Opens the operator layer.
 *
 * @param o the store, the server's name and token, its HSM.
 * @returns the layer.
 */
export function openOperatorLayer(o: OperatorLayerOptions): OperatorLayer {
  const sealer = new AuditSealer(o.store, o.hsm, {
    actor: o.actor,
    every: o.auditCheckpointEvery,
    now: o.now,
  });
  const gate = new OperatorGate({
    token: o.token,
    rememberNonce: operatorNonceMemory(o.store),
    store: o.store,
    actor: o.actor,
    approvalTtlMs: o.approvalTtlMs,
    beforeRequest: () => sealer.sealIfDue(),
    now: o.now,
  });
  return {
    gate,
    sealer,
    routes: operatorRoutes({ gate, store: o.store, sealer, actor: o.actor, now: o.now }),
  };
}
