/**
 * S14 under concurrency, made deterministic: another KMS instance stores a
 * batch for the same order in the window between this instance's
 * "is there a batch?" check and its per-terminal checks. The same batch must
 * be answered as a duplicate (as if it had arrived second), another batch
 * with `batch_conflict`; never `terminal_conflict`, and nothing stored twice.
 *
 * (Found by `multi_kms_test.ts`, which sends one batch to two KMS processes
 * at once and now and then got 409 `terminal_conflict` for the second.)
 */
import { assertEquals, assertRejects } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { ConflictError } from "../../src/protocol/mod.ts";
import { openSqliteStore, type Store } from "../../src/store/mod.ts";
import { kmsKeyOps } from "../../servers/kms/_keys.ts";
import { KmsService } from "../../servers/kms/service.ts";
import { type Batch, makeBatch, makeKeys } from "./_kms.ts";

/** The store, with `race()` run once right after the first `getTkBatch` answered. */
function racingStore(store: Store, race: () => Promise<unknown>): Store {
  let raced = false;
  return new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      if (prop !== "getTkBatch") return v.bind(target);
      return async (...a: unknown[]) => {
        const answer = await v.apply(target, a);
        if (!raced) {
          raced = true;
          await race();
        }
        return answer;
      };
    },
  });
}

Deno.test("scale: a batch stored by another instance between the checks is a duplicate, another batch a conflict", async () => {
  const core = await loadCore("wasm");
  const dir = await Deno.makeTempDir({ prefix: "batch-race-" });
  const store = await openSqliteStore(`${dir}/kms.db`);
  try {
    const keys = await makeKeys();
    const ops = await kmsKeyOps({
      lmkComponents: keys.lmk,
      pkComponents: keys.pk,
      makComponents: keys.mak,
      hsmMode: "test",
      core,
      store,
    });
    const other = new KmsService(ops, store);
    const accept = (b: Batch, race: () => Promise<unknown>) =>
      new KmsService(ops, racingStore(store, race)).acceptBatch(b.request);

    // The same batch, stored by the other instance in the window.
    const same = await makeBatch(keys, "PO-RACE-1", 3);
    const r = await accept(same, () => other.acceptBatch(same.request));
    assertEquals(r, { orderId: "PO-RACE-1", accepted: 3, duplicate: "yes" });
    assertEquals(await store.countTerminals("PO-RACE-1"), {
      terminals: 3,
      withTmk: 0,
      delivered: 0,
    });

    // Another batch for the same order and SNs (other TKs), stored in the window.
    const first = await makeBatch(keys, "PO-RACE-2", 3);
    const second = await makeBatch(keys, "PO-RACE-2", 3);
    const e = await assertRejects(
      () => accept(second, () => other.acceptBatch(first.request)),
      ConflictError,
    );
    assertEquals(e.code, "batch_conflict");
    for (const [sn, k] of first.tkKcv) assertEquals((await store.getTerminal(sn))?.tkKcv, k);

    // Another batch for the same order with other SNs, stored in the window.
    const third = await makeBatch(keys, "PO-RACE-3", 2);
    const fourth = await makeBatch(keys, "PO-RACE-3", 3);
    const e2 = await assertRejects(
      () => accept(fourth, () => other.acceptBatch(third.request)),
      ConflictError,
    );
    assertEquals(e2.code, "batch_conflict");
    assertEquals((await store.countTerminals("PO-RACE-3")).terminals, 2);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
