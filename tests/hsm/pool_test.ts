/**
 * The HSM worker pool (`src/hsm/pool.ts`) on both cores: TMKs generated under
 * TKs by two workers check out independently (the test knows the LMK: it
 * unwraps both blocks with the node:crypto TR-31 reference and compares the
 * KCV with node:crypto's), the same as the in-thread HSM gives; a TK failing
 * its hash check or a tampered TK block is refused at the same index with
 * the same error and audit record as in-thread; a worker that cannot start,
 * a worker that crashes and a closed pool give their precise errors and
 * leave no worker running (Deno's test sanitizers check every test here).
 *
 * @module
 */
import nodeCrypto from "node:crypto";
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import type { CryptoCore } from "../../src/core/mod.ts";
import { type HsmAuditEvent, HsmError, KEY_TEMPLATES, SoftwareHsm } from "../../src/hsm/mod.ts";
import { HsmPool, HsmPoolError, type KekItem } from "../../src/hsm/pool.ts";
import { allCores, toHex } from "../_helpers.ts";
import { referenceUnwrap } from "../keyblock/_reference.ts";
import { leakScanner, makeComponents, refKcv } from "./_fixtures.ts";

const sha256 = (k: Uint8Array) =>
  toHex(new Uint8Array(nodeCrypto.createHash("sha256").update(k).digest()));

/** An in-thread HSM with a known LMK, TKs under it, and their clear values and hashes. */
async function world(core: CryptoCore, tks = 3) {
  const { components, lmk, clear } = await makeComponents("aes", 2, core);
  const events: HsmAuditEvent[] = [];
  const hsm = await SoftwareHsm.open(
    { mode: "test", core, audit: (e) => void events.push(e) },
    { components },
  );
  events.length = 0;
  const tk: { block: string; clear: Uint8Array; hash: string }[] = [];
  for (let i = 0; i < tks; i++) {
    const k = await hsm.generateKey(KEY_TEMPLATES.TK);
    const c = referenceUnwrap(lmk, k.keyBlock);
    tk.push({ block: k.keyBlock, clear: c, hash: sha256(c) });
  }
  return { components, lmk, hsm, events, tk, secrets: [lmk, ...clear, ...tk.map((t) => t.clear)] };
}

for (const core of await allCores()) {
  Deno.test(`HSM pool (${core.name}): two workers issue TMKs under TKs that check out, like the in-thread HSM`, async () => {
    const w = await world(core);
    const poolEvents: HsmAuditEvent[] = [];
    const pool = await HsmPool.create({
      mode: "test",
      components: w.components,
      lmkKcv: w.hsm.lmkKcv,
      core: core.name,
      size: 2,
      audit: (e) => void poolEvents.push(e),
    });
    try {
      assertEquals(pool.size, 2);
      // One record per worker started, with the LMK's KCV; no second "lmk_loaded".
      assertEquals(poolEvents.map((e) => [e.event, e.keyId, e.kcv]), [
        ["hsm_worker_started", "LMK", w.hsm.lmkKcv],
        ["hsm_worker_started", "LMK", w.hsm.lmkKcv],
      ]);
      const items: KekItem[] = Array.from({ length: 10 }, (_, i) => ({
        kekBlock: w.tk[i % 3].block,
        expectedKekHash: w.tk[i % 3].hash,
      }));
      // Three batches at once: both workers busy, the third queued.
      const results = await Promise.all([
        pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, items),
        pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, items.slice(0, 4)),
        pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, items.slice(4)),
      ]);
      const inThread = await w.hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, w.tk[0].block, {
        expectedKekHash: w.tk[0].hash,
      });
      const seen = new Set<string>();
      for (const [b, r] of results.entries()) {
        assert(r.ok, `batch ${b}: ${!r.ok && r.error.message}`);
        assertEquals(r.keys.length, [10, 4, 6][b]);
        for (const [i, k] of r.keys.entries()) {
          const tk = w.tk[((b === 2 ? 4 : 0) + i) % 3];
          const tmk = referenceUnwrap(w.lmk, k.keyBlock);
          w.secrets.push(tmk);
          // The TMK under TK decrypts under the TK to the TMK under the LMK; its KCV matches.
          assertEquals(referenceUnwrap(tk.clear, k.exported), tmk);
          assertEquals(k.kcv, refKcv(tmk));
          // The in-thread HSM (same LMK) reads the worker's block; same headers and lengths.
          assertEquals(await w.hsm.keyCheckValue(k.keyBlock), k.kcv);
          assertEquals(k.keyBlock.slice(0, 16), inThread.keyBlock.slice(0, 16));
          assertEquals(k.exported.slice(0, 16), inThread.exported.slice(0, 16));
          seen.add(toHex(tmk));
        }
      }
      assertEquals(seen.size, 20, "every TMK is fresh");
      const stats = pool.stats();
      assertEquals(stats.workers.reduce((a, s) => a + s.keys, 0), 20);
      assertEquals(stats.workers.reduce((a, s) => a + s.batches, 0), 3);
      assert(stats.workers.every((s) => s.batches > 0), JSON.stringify(stats));
      const leaks = leakScanner(w.secrets);
      assertEquals(leaks(JSON.stringify([results, poolEvents, stats])), null);
    } finally {
      await pool.close();
    }
  });

  Deno.test(`HSM pool (${core.name}): a TK failing its hash check or a tampered TK block is refused at its index, as in-thread`, async () => {
    const w = await world(core);
    const poolEvents: HsmAuditEvent[] = [];
    const pool = await HsmPool.create({
      mode: "test",
      components: w.components,
      lmkKcv: w.hsm.lmkKcv,
      core: core.name,
      size: 2,
      audit: (e) => void poolEvents.push(e),
    });
    try {
      const good = (i: number): KekItem => ({
        kekBlock: w.tk[i % 3].block,
        expectedKekHash: w.tk[i % 3].hash,
      });
      const tampered = w.tk[1].block.slice(0, -1) +
        (w.tk[1].block.endsWith("0") ? "1" : "0");
      const cases: [string, KekItem, string][] = [
        ["TK hash", { ...good(1), expectedKekHash: "AB".repeat(32) }, "hash_mismatch"],
        ["tampered TK block", { ...good(1), kekBlock: tampered }, "key_block"],
      ];
      for (const [what, bad, code] of cases) {
        const items = [good(0), good(1), good(2), bad, good(4)];
        poolEvents.length = 0;
        w.events.length = 0;
        const r = await pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, items);
        const e = await assertRejects(
          () =>
            w.hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, bad.kekBlock, {
              expectedKekHash: bad.expectedKekHash,
            }),
          HsmError,
        );
        assertEquals(e.code, code, what);
        assert(!r.ok, `${what}: the batch was answered whole`);
        assertEquals(r.index, 3, what);
        assert(r.error instanceof HsmError, `${what}: ${r.error}`);
        assertEquals([r.error.code, r.error.message], [e.code, e.message], what);
        // The same audit record as in-thread, written before the answer.
        assertEquals(poolEvents, w.events, what);
        assertEquals(poolEvents.length, 1, what);
      }
      // Items without an expected hash cross as such (no hash check), beside ones with it.
      const mixed = await pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, [
        good(0),
        { kekBlock: w.tk[1].block },
        good(2),
      ]);
      assert(mixed.ok, !mixed.ok ? mixed.error.message : "");
      assertEquals(
        mixed.keys.map((k) => k.kcv),
        await Promise.all(mixed.keys.map((k) => w.hsm.keyCheckValue(k.keyBlock))),
      );
      // A KEK block that is not a string: refused at its index with the in-thread HSM's error.
      const notText = { kekBlock: 7 } as unknown as KekItem;
      const inThread = await assertRejects(() =>
        w.hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, notText.kekBlock)
      ) as Error;
      const r = await pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, [good(0), notText]);
      assert(!r.ok);
      assertEquals(r.index, 1);
      assertEquals([r.error.name, r.error.message], [inThread.name, inThread.message]);
      // The pool carries on after a refusal.
      const again = await pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, [good(0)]);
      assert(again.ok);
    } finally {
      await pool.close();
    }
  });
}

Deno.test("HSM pool: a worker whose LMK does not match refuses to start, names itself, and no worker is left", async () => {
  const core = (await allCores())[0];
  const w = await world(core, 0);
  const other = await makeComponents("aes", 2, core);
  const events: HsmAuditEvent[] = [];
  const e = await assertRejects(
    () =>
      HsmPool.create({
        mode: "test",
        components: other.components,
        lmkKcv: w.hsm.lmkKcv,
        core: core.name,
        size: 2,
        audit: (e) => void events.push(e),
      }),
    HsmError,
  );
  assertEquals(e.code, "combined_kcv");
  assertMatch(e.message, /^HSM worker 1 of 2: the combined LMK does not match the expected KCV/);
  assertEquals(events.map((x) => [x.event, x.outcome]), [
    ["lmk_load_failed", "failure"],
    ["lmk_load_failed", "failure"],
  ]);
  assertMatch(events[1].detail!, /^HSM worker 2 of 2: combined_kcv: /);
  for (
    const [o, err, msg] of [
      [{ size: 0 }, RangeError, "options.size must be an integer from 1 to 64, got 0"],
      [{ size: 1.5 }, RangeError, "options.size must be an integer from 1 to 64, got 1.5"],
      [{ lmkKcv: "XYZ" }, RangeError, 'options.lmkKcv must be hex, got "XYZ"'],
      [{ core: "c" }, RangeError, 'options.core must be "wasm" or "js", got "c"'],
    ] as const
  ) {
    await assertRejects(
      () =>
        HsmPool.create({
          mode: "test",
          components: w.components,
          lmkKcv: w.hsm.lmkKcv,
          size: 1,
          ...(o as object),
        }),
      err,
      msg,
    );
  }
});

Deno.test("HSM pool: a worker that crashes fails its batch and the queued ones whole; a closed pool takes nothing", async () => {
  const core = (await allCores())[0];
  const w = await world(core, 1);
  const item: KekItem = { kekBlock: w.tk[0].block, expectedKekHash: w.tk[0].hash };
  const pool = await HsmPool.create({
    mode: "test",
    components: w.components,
    lmkKcv: w.hsm.lmkKcv,
    core: core.name,
    size: 1,
    // The real worker, plus an uncaught error on a batch of exactly 7 keys.
    workerUrl: new URL("./_crashing_pool_worker.ts", import.meta.url),
  });
  try {
    const first = await pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, [item, item]);
    assert(first.ok);
    const crashing = pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, Array(7).fill(item));
    const queued = pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, [item]);
    const e = await assertRejects(() => crashing, HsmPoolError);
    assertEquals(e.code, "worker_failed");
    assertMatch(
      e.message,
      /^HSM worker 1 of 1 failed: .*injected crash.*; this batch of 7 keys was not answered, no key of it is returned$/,
    );
    const q = await assertRejects(() => queued, HsmPoolError);
    assertEquals(q.code, "worker_failed");
    assertEquals(pool.failure?.code, "worker_failed");
    await assertRejects(() => pool.generateKeysUnderKeks(KEY_TEMPLATES.TMK, [item]), HsmPoolError);
  } finally {
    await pool.close();
  }
  const p2 = await HsmPool.create({
    mode: "test",
    components: w.components,
    lmkKcv: w.hsm.lmkKcv,
    core: core.name,
    size: 2,
  });
  await p2.close();
  await p2.close();
  const c = await assertRejects(
    () => p2.generateKeysUnderKeks(KEY_TEMPLATES.TMK, [item]),
    HsmPoolError,
    "the HSM pool is closed",
  );
  assertEquals(c.code, "closed");
});
