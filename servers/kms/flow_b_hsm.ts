/**
 * The flow B service of a KMS (CN103714641A) built on its HSM and store:
 * {@link FlowBService} with the key operations of `flow_b_keys.ts`, the KMS
 * CA certifier of `ca_certifier.ts` and, with device roots, the device
 * verifier of `device_verifier.ts`.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import type { Hsm } from "../../src/hsm/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import type { FlowBPolicy } from "../../src/protocol/mod.ts";
import { kmsCaCertifier } from "./ca_certifier.ts";
import { deviceVerifier } from "./device_verifier.ts";
import { hsmFlowBKeyOps } from "./flow_b_keys.ts";
import { FlowBService } from "./flow_b_service.ts";
import type { KmsCa } from "./kms_ca.ts";
import type { CrlSet } from "../../src/pki/mod.ts";
import { type GuardSinks, RefusalGuard } from "./flow_b_guard.ts";
import type { KeyPairPool } from "./key_pool.ts";

/** Options of {@link createFlowBService}. */
export interface FlowBKmsOptions {
  /** The KMS's HSM (its LMK holds Pr_hsm, AUK and TMK blocks). */
  hsm: Hsm;
  store: Store;
  core: CryptoCore;
  /** The KMS CA that certifies Pu_hsm keys (its key a block under `hsm`'s LMK), or its source. */
  kmsCa: KmsCa | { source: () => Promise<KmsCa> };
  policy?: Partial<FlowBPolicy>;
  /** Device roots (PEM): S1, S3 and S5 must be signed by a PIN pad's device key chained to one. */
  deviceRoots: string[];
  /** The CRLs in force (`CrlFile.current`): device certificates are checked against them. */
  crls?: () => CrlSet;
  /** Where unauthenticated refusals are counted and logged (metrics, a sampled log line). */
  sinks?: GuardSinks;
  /** Clock (default: system clock). */
  now?: () => Date;
  /**
   * The HSM key-pair pool S1 takes Pu_hsm/Pr_hsm from (`key_pool.ts`); none:
   * generated inline. Its workers also sign the Pu_hsm certificates (S1) and
   * recover AUK (S3) while they run.
   */
  keyPool?: KeyPairPool;
}

/**
 * The flow B service of a KMS, on its HSM and store.
 *
 * @param o HSM, store, core, KMS CA, policy, clock.
 * @returns the service (route it with `withFlowB`).
 * @throws {RangeError} for a bad policy.
 */
export function createFlowBService(o: FlowBKmsOptions): FlowBService {
  return new FlowBService({
    keys: hsmFlowBKeyOps(o.hsm, o.core, o.keyPool),
    certifier: kmsCaCertifier({
      ...o.kmsCa,
      hsm: o.keyPool?.rsaOps(o.hsm) ?? o.hsm,
      now: o.now,
      core: o.core,
    }),
    devices: deviceVerifier(o.deviceRoots, o.core, o.now, o.crls),
    store: o.store,
    policy: o.policy,
    now: o.now,
    guard: new RefusalGuard({
      now: () => (o.now ?? (() => new Date()))().getTime(),
      sinks: o.sinks,
    }),
  });
}
