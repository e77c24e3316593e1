/**
 * Several KMS processes on one PostgreSQL database: the same
 * batch sent to two instances at once, bulk issuance of one order from two
 * instances at once, concurrent downloads and acknowledgements for the same
 * and for different terminals. Every terminal ends with exactly one TMK,
 * none lost, none issued twice, each TMK opening under its TK with the KCV
 * KMS recorded.
 *
 * Needs `KMS_TEST_DATABASE_URL`; without it the test is ignored with the
 * reason in its name.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { openPostgresStore, terminalPages } from "../../src/store/mod.ts";
import { KmsProcess, makeBatch, makeKeys, openTmk } from "./_kms.ts";

const url = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";
const skip = url === "" ? "KMS_TEST_DATABASE_URL not set" : undefined;
if (skip) console.log(`multi-instance KMS tests skipped: ${skip}`);

Deno.test({
  name: `scale: two KMS processes on one PostgreSQL: one TMK per terminal, none lost${
    skip ? ` (skipped: ${skip})` : ""
  }`,
  ignore: skip !== undefined,
  fn: async () => {
    const schema = `t_multi_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const db = `${url}${url.includes("?") ? "&" : "?"}schema=${schema}`;
    const keys = await makeKeys();
    const n = 1200;
    const orderId = "PO-MULTI-1";
    const batch = await makeBatch(keys, orderId, n);
    const store = await openPostgresStore(db);
    const [a, b] = await Promise.all([KmsProcess.start(db, keys), KmsProcess.start(db, keys)]);
    try {
      // The same batch to both at once: stored once, the other sees a duplicate.
      const sent = await Promise.all([
        a.call("POST", "/v1/tk-batches", batch.request),
        b.call("POST", "/v1/tk-batches", batch.request),
      ]);
      assertEquals(sent.map((r) => r.status).sort(), [200, 201], JSON.stringify(sent));
      for (const r of sent) assertEquals(r.body.accepted, n);
      assertEquals(await store.countTerminals(orderId), { terminals: n, withTmk: 0, delivered: 0 });

      // Bulk issuance of the one order from both instances at once.
      const path = `/v1/orders/${orderId}/tmks`;
      const issued = await Promise.all([
        a.call("POST", path, undefined, keys.token),
        b.call("POST", path, undefined, keys.token),
      ]);
      for (const r of issued) assertEquals(r.status, 200, JSON.stringify(r.body));
      const total = issued.reduce((s, r) => s + (r.body.issued as number), 0);
      assertEquals(total, n, `issued ${issued.map((r) => r.body.issued).join(" + ")}`);
      assertEquals(await store.countTerminals(orderId), { terminals: n, withTmk: n, delivered: 0 });
      // Issuing again changes nothing.
      const again = await a.call("POST", path, undefined, keys.token);
      assertEquals(again.body, { orderId, issued: 0, alreadyIssued: n, terminals: n });

      const kcvs = new Map<string, string>();
      for await (const page of terminalPages(store, orderId)) {
        for (const t of page) {
          assert(t.tmkBlock && t.tmkKcv, `${t.sn} has a TMK`);
          kcvs.set(t.sn, t.tmkKcv);
        }
      }
      assertEquals(kcvs.size, n);

      // Concurrent downloads of the same terminals from both instances, then
      // concurrent acknowledgements: both downloads get the same TMK, one ack wins.
      const same = [...kcvs.keys()].slice(0, 20);
      for (const sn of same) {
        const dl = await Promise.all([
          a.call("POST", `/v1/terminals/${sn}/tmk`),
          b.call("POST", `/v1/terminals/${sn}/tmk`),
        ]);
        for (const r of dl) {
          assertEquals(r.status, 200, JSON.stringify(r.body));
          assertEquals(r.body.tmkKcv, kcvs.get(sn));
        }
        assertEquals(dl[0].body.tmkBlock, dl[1].body.tmkBlock);
        // The TMK opens under the terminal's TK with the KCV KMS recorded.
        assertEquals(await openTmk(batch.tk.get(sn)!, dl[0].body.tmkBlock as string), kcvs.get(sn));
        const ack = await Promise.all([
          a.call("POST", `/v1/terminals/${sn}/tmk/ack`, { tmkKcv: kcvs.get(sn) }),
          b.call("POST", `/v1/terminals/${sn}/tmk/ack`, { tmkKcv: kcvs.get(sn) }),
        ]);
        assertEquals(ack.map((r) => r.status).sort(), [200, 409], JSON.stringify(ack));
      }

      // Different terminals at once, alternating instances: all delivered.
      const others = [...kcvs.keys()].slice(20, 80);
      const results = await Promise.all(others.map(async (sn, i) => {
        const k = i % 2 ? a : b;
        const dl = await k.call("POST", `/v1/terminals/${sn}/tmk`);
        const ack = await (i % 2 ? b : a).call("POST", `/v1/terminals/${sn}/tmk/ack`, {
          tmkKcv: dl.body.tmkKcv,
        });
        return [dl.status, ack.status, dl.body.tmkKcv === kcvs.get(sn)];
      }));
      for (const r of results) assertEquals(r, [200, 200, true]);

      assertEquals(await store.countTerminals(orderId), {
        terminals: n,
        withTmk: n,
        delivered: same.length + others.length,
      });
      // No TMK changed along the way.
      for (const sn of [...same, ...others]) {
        assertEquals((await store.getTerminal(sn))?.tmkKcv, kcvs.get(sn));
      }
      const delivered = await store.listAudit({ limit: 10000, event: "tmk_delivered" });
      assertEquals(
        delivered.filter((e) => e.outcome === "success").length,
        same.length + others.length,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await store._unsafeSql(`DROP SCHEMA ${schema} CASCADE`);
      await store.close();
    }
  },
});
