/**
 * The KMS's key operations (S14-S15) on its HSM: the batch MAC under MAK,
 * TK from PK to the LMK (KCV and SHA-256 checked inside the HSM), and TMKs
 * generated and exported under TK (TK's hash checked first).
 *
 * Bulk issuance (S15) runs on an {@link IssuancePool} (`src/hsm/issuance_pool.ts`)
 * of `hsmWorkers` workers (default: the number of CPUs), each with its own
 * software HSM opened from the same LMK components, so that pages of an
 * order are issued on every CPU while the service reads and writes the
 * store on the main thread. The pool starts its workers at the first
 * issuance and stops them at {@link KmsKeyOps.close}. `hsmWorkers: 1`, or an
 * HSM factory other than the software HSM's, issues in this thread.
 *
 * @module
 */
import { fromHex } from "../../src/crypto/mod.ts";
import {
  checkPoolSize,
  defaultPoolSize,
  type Hsm,
  type HsmAuditSink,
  IssuancePool,
  KEY_TEMPLATES,
  MAX_POOL_SIZE,
} from "../../src/hsm/mod.ts";
import {
  hsmCall,
  hsmRefusal,
  openServerKeys,
  parseComponents,
  type ServerKeysStart,
} from "../_lib/hsm.ts";
import { readKeyBlockHeader } from "../../src/keyblock/mod.ts";
import { ValidationError } from "../../src/protocol/mod.ts";
import type { ServerKeyRing, SharedKeyName } from "../_lib/key_rotation.ts";
import { takenVersion } from "./key_rotation.ts";
import type { KmsKeyOps, TmkPageResult } from "./service.ts";
import { type FlowAProofOps, flowAProofOps } from "./flow_a_keys.ts";

/** The largest pool size taken. */
export const MAX_HSM_WORKERS = MAX_POOL_SIZE;

/**
 * The default number of HSM workers: the number of CPUs.
 *
 * @returns `navigator.hardwareConcurrency`, at least 1.
 */
export function defaultHsmWorkers(): number {
  return defaultPoolSize();
}

/**
 * Opens the KMS HSM (LMK from components) and forms PK and MAK from theirs.
 *
 * @param o the components, mode, core, store and HSM factory ({@link ServerKeysStart}), and
 *   `hsmWorkers` (1 to 64, default {@link defaultHsmWorkers}): the HSM workers of bulk
 *   issuance, 1 for none.
 * @returns the operations the KMS service needs, flow A's proof-of-possession operations on
 *   the same HSM (`flow_a_keys.ts`), `hsm`, the HSM itself (for the audit key's
 *   checkpoints), and `keys`, the versions of PK and MAK (`key_rotation.ts`); `close()`
 *   stops the workers.
 * @throws {RangeError} `hsmWorkers` out of range; as {@link openServerKeys}.
 */
export async function kmsKeyOps(
  o: ServerKeysStart & { hsmWorkers?: number },
): Promise<
  KmsKeyOps & { proofs: FlowAProofOps; hsm: Hsm; keys: Record<SharedKeyName, ServerKeyRing> }
> {
  const size = o.hsmWorkers ?? defaultPoolSize();
  checkPoolSize(size);
  const { hsm, pk, mak } = await openServerKeys(o, "kms");
  const audit: HsmAuditSink = async (e) => {
    await o.store.appendAudit({ at: new Date(), actor: "kms hsm", ...e });
  };
  const pool = new IssuancePool({
    hsm,
    components: parseComponents(o.lmkComponents, "LMK component", { custodians: true }),
    core: o.core.name,
    size,
    audit,
  });
  const proofs = await flowAProofOps(hsm, o.store);
  return {
    proofs,
    verifyBatchMac: async (data, mac, makVersion = 1) => {
      const v = await takenVersion(mak, { version: makVersion }, "the batch's MAC");
      return await hsmCall("batch MAC", () => hsm.verifyMac(v.keyBlock, data, fromHex(mac)));
    },
    importTk: async (tkUnderPk, expected) => {
      const v = await takenVersion(pk, pkOfBlock(tkUnderPk), "the TK");
      return await hsmCall("TK import from PK", async () => {
        const r = await hsm.importKey(tkUnderPk, v.keyBlock, {
          template: KEY_TEMPLATES.TK,
          expectedKcv: expected.kcv,
          expectedHash: expected.hash,
        });
        return { tkBlock: r.keyBlock };
      });
    },
    issueTmk: (tkBlock, tkHash) =>
      hsmCall("TMK issuance", async () => {
        const r = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tkBlock, {
          expectedKekHash: tkHash,
        });
        return { tmkBlock: r.keyBlock, tmkUnderTk: r.exported, tmkKcv: r.kcv };
      }),
    issueConcurrency: pool.concurrency,
    async issueTmks(tks, options = {}): Promise<TmkPageResult> {
      const r = await pool.generateKeysUnderKeks(
        KEY_TEMPLATES.TMK,
        tks.map((t) => ({ kekBlock: t.tkBlock, expectedKekHash: t.tkHash })),
        { signal: options.signal },
      );
      if (!r.ok) return { ok: false, index: r.index, error: hsmRefusal("TMK issuance", r.error) };
      return {
        ok: true,
        tmks: r.keys.map((k) => ({ tmkBlock: k.keyBlock, tmkUnderTk: k.exported, tmkKcv: k.kcv })),
      };
    },
    hsmStats: () => pool.stats(),
    close: () => pool.close(),
    hsm,
    keys: { PK: pk, MAK: mak },
  };
}

/**
 * The PK a TK block is under: the KCV its optional block KP names (X9.143
 * 6.3.6.7), or version 1 (the key ceremony's) for a block without one.
 *
 * @throws {ValidationError} `invalid_key_block` for a header that does not parse.
 */
function pkOfBlock(block: string): { kcv: string } | { version: number } {
  let kp: string | undefined;
  try {
    kp = readKeyBlockHeader(block).optionalBlocks.find((b) => b.id === "KP")?.data;
  } catch (e) {
    throw new ValidationError(
      "invalid_key_block",
      `the TK's key block header: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  return kp === undefined ? { version: 1 } : { kcv: kp.slice(2).toUpperCase() };
}
