/**
 * TR-34 2-pass in a KMS (ASC X9 TR 34-2019): with a KDH configured, the KMS
 * opens its own handle of the HSM (same LMK), checks the KDH's certificate
 * and key block on it, loads flow A's challenge key on it (the nonces of the
 * acknowledgement) and merges the TR-34 routes into its table.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import type { HsmMode } from "../../src/hsm/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { type HsmFactory, openHsm } from "../_lib/hsm.ts";
import type { ServerMetrics } from "../_lib/metrics.ts";
import type { Route } from "../_lib/mod.ts";
import { flowAProofOps } from "./flow_a_keys.ts";
import { checkTr34Kdh, type Tr34Kdh } from "./tr34_kdh.ts";
import { withTr34 } from "./tr34_routes.ts";
import { Tr34Service } from "./tr34_service.ts";

/** What {@link withTr34Kdh} needs of the KMS's options. */
export interface Tr34KmsOptions {
  /** The KDH; without it the table is returned as it is. */
  tr34?: Tr34Kdh;
  lmkComponents: string[];
  lmkKcv?: string;
  hsmMode: HsmMode;
  core: CryptoCore;
  store: Store;
  hsmFactory?: HsmFactory;
  /** How long an acknowledgement nonce is accepted, in ms (default flow A's). */
  nonceTtlMs?: number;
  /** Where refused acknowledgements are counted. */
  metrics?: ServerMetrics;
}

/**
 * Adds TR-34 to a KMS route table when a KDH is configured.
 *
 * @param routes the table of the other flows.
 * @param o the KDH, the LMK, the HSM mode and factory, the core, the store, the nonce
 *   lifetime, the metrics.
 * @returns the table, with the TR-34 routes when `o.tr34` is set.
 * @throws {ValidationError} `invalid_kdh` for a KDH the HSM or the device roots refuse.
 */
export async function withTr34Kdh(routes: Route[], o: Tr34KmsOptions): Promise<Route[]> {
  if (!o.tr34) return routes;
  const hsm = await (o.hsmFactory ?? openHsm)({
    lmkComponents: o.lmkComponents,
    lmkKcv: o.lmkKcv,
    mode: o.hsmMode,
    core: o.core,
    store: o.store,
    actor: "kms",
  });
  await checkTr34Kdh(hsm, o.tr34, o.core);
  const service = new Tr34Service({
    hsm,
    store: o.store,
    core: o.core,
    kdh: o.tr34,
    proofs: await flowAProofOps(hsm, o.store),
    nonceTtlMs: o.nonceTtlMs,
    metrics: o.metrics,
  });
  return withTr34(routes, service);
}
