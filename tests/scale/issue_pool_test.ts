/**
 * Bulk issuance (`KmsService.issueOrder`) on the HSM worker pool against the
 * in-thread path (`hsmWorkers: 1`), on SQLite, on both cores: an order of
 * three pages gives every terminal one TMK whose blocks check out
 * independently (the test knows the LMK and the TKs: the TMK under the LMK
 * and the TMK under TK unwrap, with the node:crypto TR-31 reference, to the
 * same key, whose node:crypto KCV is the stored one); the progress bar sees
 * the same pages; a TK that fails its hash check in the second page stops
 * the order with the same IntegrityError, the first page stored and nothing
 * of the second; a worker that crashes stops the order with whole pages
 * stored only, and a second call finishes it; the KMS closes its workers
 * (the test sanitizers).
 *
 * @module
 */
import nodeCrypto from "node:crypto";
import { assert, assertEquals, assertRejects } from "@std/assert";
import type { CryptoCore } from "../../src/core/mod.ts";
import { KEY_TEMPLATES, SoftwareHsm } from "../../src/hsm/mod.ts";
import { HsmPool, HsmPoolError } from "../../src/hsm/pool.ts";
import { IntegrityError } from "../../src/protocol/mod.ts";
import { type ImportedTk, openSqliteStore, type Store } from "../../src/store/mod.ts";
import { kmsKeyOps } from "../../servers/kms/_keys.ts";
import { ISSUE_PAGE, KmsService } from "../../servers/kms/service.ts";
import { allCores, toHex } from "../_helpers.ts";
import { referenceUnwrap } from "../keyblock/_reference.ts";
import { makeComponents, refKcv } from "../hsm/_fixtures.ts";
import { randomComponents } from "../../demo/setup.ts";

const sha256 = (k: Uint8Array) =>
  toHex(new Uint8Array(nodeCrypto.createHash("sha256").update(k).digest()));

/** Components as the KMS takes them: `CUSTODIAN:KEY:KCV`. */
const asFlags = (c: { custodian?: string; key: string | Uint8Array; kcv: string }[]) =>
  c.map((x) => `${x.custodian}:${x.key}:${x.kcv}`);

/** LMK, PK, MAK components and `n` terminals' TKs under the LMK (clear TKs kept by SN). */
async function order(core: CryptoCore, n: number, badAt?: number) {
  const lmk = await makeComponents("aes", 2, core);
  const hsm = await SoftwareHsm.open({ mode: "test", core }, { components: lmk.components });
  const tks: ImportedTk[] = [];
  const clear = new Map<string, Uint8Array>();
  // One TK per terminal: the store refuses a TK held by another SN.
  for (let i = 0; i < n; i++) {
    const sn = `SNP${String(i).padStart(7, "0")}`;
    const k = await hsm.generateKey(KEY_TEMPLATES.TK);
    const t = { tkBlock: k.keyBlock, tkKcv: k.kcv, clear: referenceUnwrap(lmk.lmk, k.keyBlock) };
    clear.set(sn, t.clear);
    tks.push({
      sn,
      tkBlock: t.tkBlock,
      tkKcv: t.tkKcv,
      tkHash: i === badAt ? "AB".repeat(32) : sha256(t.clear),
    });
  }
  const lmkKcv = hsm.lmkKcv;
  await hsm.destroy();
  return {
    lmkParts: lmk.components,
    lmkKcv,
    keys: {
      lmkComponents: asFlags(lmk.components),
      pkComponents: await randomComponents(2, 24, core),
      makComponents: await randomComponents(2, 16, core),
    },
    lmk: lmk.lmk,
    tks,
    clear,
  };
}

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "issue-pool-test-" });
  const store = await openSqliteStore(`${dir}/kms.db`);
  try {
    return await fn(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const N = 2 * ISSUE_PAGE + 100;

for (const core of await allCores()) {
  Deno.test(`bulk issuance (${core.name}): two HSM workers issue what the in-thread path does, and refuse a bad TK the same way`, async () => {
    const o = await order(core, N);
    const bad = await order(core, N, ISSUE_PAGE + 200);
    const refusals: { workers: number; code: string; message: string }[] = [];
    for (const workers of [1, 2]) {
      await withStore(async (store) => {
        const ops = await kmsKeyOps({
          ...o.keys,
          hsmMode: "test",
          core,
          store,
          hsmWorkers: workers,
        });
        try {
          await store.importTkBatch({
            orderId: "PO-POOL",
            bodyHash: "00".repeat(32),
            receivedAt: new Date(),
            tks: o.tks,
          });
          const service = new KmsService(ops, store);
          const progress: number[] = [];
          const r = await service.issueOrder("PO-POOL", {
            onProgress: (done, total) => {
              assertEquals(total, N);
              progress.push(done);
            },
          });
          assertEquals(r, { orderId: "PO-POOL", issued: N, alreadyIssued: 0, terminals: N });
          assertEquals(progress, [ISSUE_PAGE, 2 * ISSUE_PAGE, N], `${workers} workers`);
          // Every terminal: TMK under the LMK = TMK under its TK, KCV by node:crypto.
          const tmks = new Set<string>();
          for (let after: string | undefined = undefined;;) {
            const page: Awaited<ReturnType<Store["listTerminals"]>> = await store.listTerminals(
              "PO-POOL",
              { after, limit: 400 },
            );
            if (page.length === 0) break;
            after = page[page.length - 1].sn;
            for (const t of page) {
              const tmk = referenceUnwrap(o.lmk, t.tmkBlock!);
              assertEquals(referenceUnwrap(o.clear.get(t.sn)!, t.tmkUnderTk!), tmk, t.sn);
              assertEquals(t.tmkKcv, refKcv(tmk), t.sn);
              assertEquals(t.state, "tmk_issued");
              tmks.add(toHex(tmk));
            }
          }
          assertEquals(tmks.size, N, "one fresh TMK per terminal");
          // Again: nothing missing, nothing issued.
          assertEquals((await service.issueOrder("PO-POOL")).issued, 0);
          const started = await store.listAudit({ limit: 100, event: "hsm_worker_started" });
          assertEquals(started.length, workers === 1 ? 0 : 2);
          for (const s of started) assertEquals([s.actor, s.outcome], ["kms hsm", "success"]);
        } finally {
          await ops.close();
        }
      });
      await withStore(async (store) => {
        const ops = await kmsKeyOps({
          ...bad.keys,
          hsmMode: "test",
          core,
          store,
          hsmWorkers: workers,
        });
        try {
          await store.importTkBatch({
            orderId: "PO-BAD",
            bodyHash: "00".repeat(32),
            receivedAt: new Date(),
            tks: bad.tks,
          });
          const service = new KmsService(ops, store);
          for (let attempt = 0; attempt < 2; attempt++) {
            const e = await assertRejects(() => service.issueOrder("PO-BAD"), IntegrityError);
            refusals.push({ workers, code: e.code, message: e.message });
            // The first page is stored, nothing of the page with the bad TK or after it.
            const c = await store.countTerminals("PO-BAD");
            assertEquals(c.withTmk, ISSUE_PAGE, `${workers} workers, attempt ${attempt}`);
            const failed = await store.listAudit({
              limit: 10,
              event: "tmk_issued",
              subject: bad.tks[ISSUE_PAGE + 200].sn,
            });
            assertEquals(
              failed.map((a) => [a.outcome, a.detail]),
              Array(attempt + 1).fill(["failure", "tk_hash_mismatch"]),
            );
            const refused = await store.listAudit({ limit: 10, event: "key_refused" });
            assertEquals(refused.length, attempt + 1);
            assert(refused.every((a) => a.actor === "kms hsm" && a.detail!.startsWith("hash_")));
          }
        } finally {
          await ops.close();
        }
      });
    }
    const sn = bad.tks[ISSUE_PAGE + 200].sn;
    assertEquals(refusals.map((r) => r.code), Array(4).fill("tk_hash_mismatch"));
    assertEquals(
      new Set(refusals.map((r) => r.message)),
      new Set([
        `SN ${sn}: TMK issuance: the KEK's SHA-256 differs from the expected hash (TK hash check); ${ISSUE_PAGE} TMKs stored before it`,
        `SN ${sn}: TMK issuance: the KEK's SHA-256 differs from the expected hash (TK hash check); 0 TMKs stored before it`,
      ]),
    );
  });
}

Deno.test("bulk issuance: an HSM worker that crashes stops the order with whole pages stored only; the next call finishes it", async () => {
  const core = (await allCores())[0];
  const n = 2 * ISSUE_PAGE + 7;
  const o = await order(core, n);
  await withStore(async (store) => {
    await store.importTkBatch({
      orderId: "PO-CRASH",
      bodyHash: "00".repeat(32),
      receivedAt: new Date(),
      tks: o.tks,
    });
    const ops = await kmsKeyOps({ ...o.keys, hsmMode: "test", core, store, hsmWorkers: 2 });
    // The real pool worker, with an uncaught error on a batch of exactly 7 keys: the last page.
    const crashing = await HsmPool.create({
      mode: "test",
      components: o.lmkParts,
      lmkKcv: o.lmkKcv,
      core: core.name,
      size: 2,
      workerUrl: new URL("../hsm/_crashing_pool_worker.ts", import.meta.url),
    });
    try {
      const service = new KmsService({
        ...ops,
        issueTmks: async (tks, options) => {
          const r = await crashing.generateKeysUnderKeks(
            KEY_TEMPLATES.TMK,
            tks.map((t) => ({ kekBlock: t.tkBlock, expectedKekHash: t.tkHash })),
            options,
          );
          if (!r.ok) return { ok: false, index: r.index, error: r.error };
          return {
            ok: true,
            tmks: r.keys.map((k) => ({
              tmkBlock: k.keyBlock,
              tmkUnderTk: k.exported,
              tmkKcv: k.kcv,
            })),
          };
        },
      }, store);
      const e = await assertRejects(() => service.issueOrder("PO-CRASH"), HsmPoolError);
      assertEquals(e.code, "worker_failed");
      assert(/^HSM worker [12] of 2 failed: .*injected crash/.test(e.message), e.message);
      // Pages in flight when the worker failed are lost whole: a multiple of the page, never 7.
      const c = await store.countTerminals("PO-CRASH");
      assert([0, ISSUE_PAGE, 2 * ISSUE_PAGE].includes(c.withTmk), `${c.withTmk} TMKs stored`);
      // The KMS's own pool finishes what is missing.
      const r = await new KmsService(ops, store).issueOrder("PO-CRASH");
      assertEquals(r, {
        orderId: "PO-CRASH",
        issued: n - c.withTmk,
        alreadyIssued: c.withTmk,
        terminals: n,
      });
      for (let after: string | undefined = undefined;;) {
        const page: Awaited<ReturnType<Store["listTerminals"]>> = await store.listTerminals(
          "PO-CRASH",
          { after, limit: 500 },
        );
        if (page.length === 0) break;
        after = page[page.length - 1].sn;
        for (const t of page) {
          const tmk = referenceUnwrap(o.lmk, t.tmkBlock!);
          assertEquals(referenceUnwrap(o.clear.get(t.sn)!, t.tmkUnderTk!), tmk, t.sn);
          assertEquals(t.tmkKcv, refKcv(tmk), t.sn);
        }
      }
    } finally {
      await crashing.close();
      await ops.close();
    }
  });
});
