/**
 * The KMS's key operations (S14-S15) on its HSM: the batch MAC under MAK,
 * TK from PK to the LMK (KCV and SHA-256 checked inside the HSM), and TMKs
 * generated and exported under TK (TK's hash checked first).
 *
 * Bulk issuance (S15) runs on an HSM worker pool (`src/hsm/pool.ts`) of
 * `hsmWorkers` workers (default: the number of CPUs), each with its own
 * software HSM opened from the same LMK components, so that pages of an
 * order are issued on every CPU while the service reads and writes the
 * store on the main thread. The pool starts at the first issuance (a KMS
 * that never issues starts no worker) and lives until {@link KmsKeyOps.close};
 * a pool whose worker failed is replaced by a new one at the next page.
 * `hsmWorkers: 1` issues in this thread, one TMK after the other, as before;
 * so does a KMS with a test key observer (`testKeyObserver`, tests only).
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { fromHex } from "../../src/crypto/mod.ts";
import {
  type Hsm,
  type HsmAuditSink,
  type HsmMode,
  KEY_TEMPLATES,
  type TestKeyObserver,
} from "../../src/hsm/mod.ts";
import { HsmPool } from "../../src/hsm/pool.ts";
import type { Store } from "../../src/store/mod.ts";
import { hsmCall, hsmRefusal, openHsm, parseComponents } from "../_lib/hsm.ts";
import type { IssuedTmk, KmsKeyOps, TmkPageResult } from "./service.ts";

/** The largest pool size taken. */
export const MAX_HSM_WORKERS = 64;

/**
 * The default number of HSM workers: the number of CPUs.
 *
 * @returns `navigator.hardwareConcurrency`, at least 1.
 */
export function defaultHsmWorkers(): number {
  return Math.max(1, Math.min(MAX_HSM_WORKERS, navigator.hardwareConcurrency || 1));
}

/**
 * Opens the KMS HSM (LMK from components) and forms PK and MAK from theirs.
 *
 * @param o LMK components (`CUSTODIAN:KEY:KCV`) and KCV, HSM mode, PK and MAK components
 *   (`[CUSTODIAN:]KEY:KCV`), core, store (audit log), and `hsmWorkers` (1 to 64, default
 *   {@link defaultHsmWorkers}): the HSM workers of bulk issuance, 1 for none; a wrapper for the
 *   HSM (tests: fault injection; with it, as with a key observer, issuance runs in this thread).
 * @returns the operations the KMS service needs; `close()` stops the workers.
 * @throws {RangeError} `hsmWorkers` out of range; as {@link openHsm} for the components.
 */
export async function kmsKeyOps(o: {
  lmkComponents: string[];
  lmkKcv?: string;
  hsmMode: HsmMode;
  pkComponents: string[];
  makComponents: string[];
  core: CryptoCore;
  store: Store;
  /** Tests only: see `SoftwareHsmOptions.testKeyObserver`. */
  testKeyObserver?: TestKeyObserver;
  hsmWorkers?: number;
  wrapHsm?: (hsm: Hsm) => Hsm;
}): Promise<KmsKeyOps> {
  // A test key observer and an HSM wrapper are functions of this thread: they cannot see into a
  // worker, so with one issuance stays in this thread, where they see every HSM call.
  const workers = o.testKeyObserver || o.wrapHsm ? 1 : o.hsmWorkers ?? defaultHsmWorkers();
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_HSM_WORKERS) {
    throw new RangeError(
      `hsmWorkers must be an integer from 1 to ${MAX_HSM_WORKERS}, got ${workers}`,
    );
  }
  const hsm = await openHsm({
    lmkComponents: o.lmkComponents,
    lmkKcv: o.lmkKcv,
    mode: o.hsmMode,
    core: o.core,
    store: o.store,
    actor: "kms",
    testKeyObserver: o.testKeyObserver,
    wrap: o.wrapHsm,
  });
  const pk = await hsm.importKeyFromComponents(
    parseComponents(o.pkComponents, "PK component"),
    KEY_TEMPLATES.PK,
  );
  const mak = await hsm.importKeyFromComponents(
    parseComponents(o.makComponents, "MAK component"),
    KEY_TEMPLATES.MAK,
  );
  const audit: HsmAuditSink = async (e) => {
    await o.store.appendAudit({
      at: new Date(),
      actor: "kms hsm",
      event: e.event,
      outcome: e.outcome,
      keyId: e.keyId,
      kcv: e.kcv,
      detail: e.detail,
    });
  };
  let pool: Promise<HsmPool> | undefined;
  let closed = false;
  const getPool = (): Promise<HsmPool> => {
    if (closed) return Promise.reject(new Error("the KMS key operations are closed"));
    if (pool === undefined) {
      const p = HsmPool.create({
        mode: hsm.mode,
        components: parseComponents(o.lmkComponents, "LMK component", { custodians: true }),
        lmkKcv: hsm.lmkKcv,
        lmkAlgorithm: hsm.lmkAlgorithm,
        core: o.core.name,
        size: workers,
        audit,
      });
      pool = p;
      // A pool that did not start is not kept: the next page tries again.
      p.catch(() => {
        if (pool === p) pool = undefined;
      });
    }
    return pool;
  };
  const issueTmk = (tkBlock: string, tkHash: string) =>
    hsmCall("TMK issuance", async () => {
      const r = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tkBlock, {
        expectedKekHash: tkHash,
      });
      return { tmkBlock: r.keyBlock, tmkUnderTk: r.exported, tmkKcv: r.kcv };
    });
  return {
    verifyBatchMac: (data, mac) =>
      hsmCall("batch MAC", () => hsm.verifyMac(mak.keyBlock, data, fromHex(mac))),
    importTk: (tkUnderPk, expected) =>
      hsmCall("TK import from PK", async () => {
        const r = await hsm.importKey(tkUnderPk, pk.keyBlock, {
          template: KEY_TEMPLATES.TK,
          expectedKcv: expected.kcv,
          expectedHash: expected.hash,
        });
        return { tkBlock: r.keyBlock };
      }),
    issueTmk,
    // Two pages in each worker (one being issued, one waiting) and one being committed here.
    issueConcurrency: workers === 1 ? 1 : 2 * workers + 1,
    async issueTmks(tks, options = {}): Promise<TmkPageResult> {
      if (workers === 1) {
        const tmks: IssuedTmk[] = [];
        for (const [i, t] of tks.entries()) {
          try {
            tmks.push(await issueTmk(t.tkBlock, t.tkHash));
          } catch (error) {
            return { ok: false, index: i, error };
          }
        }
        return { ok: true, tmks };
      }
      let p = await getPool();
      if (p.failure) {
        // A worker failed during an earlier page: that pool is gone, start a new one.
        const current = pool;
        if (current !== undefined && (await current) === p && pool === current) pool = undefined;
        p = await getPool();
      }
      const r = await p.generateKeysUnderKeks(
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
    hsmStats: async () => pool ? (await pool.catch(() => undefined))?.stats() : undefined,
    async close() {
      closed = true;
      const p = pool;
      pool = undefined;
      await (await p?.catch(() => undefined))?.close();
    },
  };
}
