/**
 * The operator layer of a server, made once at start: the gate (operators,
 * roles, dual control), the audit sealer (checkpoints under the HSM's audit
 * key), the operator
 * administration routes, and a timer that makes a checkpoint when one is
 * due between operator requests.
 *
 * @module
 */
import type { Hsm } from "../../src/hsm/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { AuditSealer } from "./audit_seal.ts";
import type { Logger } from "./log.ts";
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
  /** How often to look whether a checkpoint is due, in ms (default 5000; 0: never). */
  auditCheckpointIntervalMs?: number;
  /** How long an approval waits for its second operator, in ms. */
  approvalTtlMs?: number;
  now?: () => Date;
  /** Where a failed timed checkpoint is logged. */
  log?: Logger;
}

/** The gate, the sealer, the routes and a close. */
export interface OperatorLayer {
  gate: OperatorGate;
  sealer: AuditSealer;
  routes: Route[];
  /** Stops the checkpoint timer. */
  close(): void;
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
    afterRequest: () => sealer.sealIfDue(),
    now: o.now,
  });
  const every = o.auditCheckpointIntervalMs ?? 5000;
  const timer = every > 0
    ? setInterval(
      () =>
        sealer.sealIfDue().catch((e) =>
          o.log?.log("error", "audit.checkpoint_failed", { error: (e as Error).message })
        ),
      every,
    )
    : undefined;
  if (timer !== undefined) Deno.unrefTimer(timer);
  return {
    gate,
    sealer,
    routes: operatorRoutes({ gate, store: o.store, sealer, actor: o.actor, now: o.now }),
    close: () => clearInterval(timer),
  };
}
