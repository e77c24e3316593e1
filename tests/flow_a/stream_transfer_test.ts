/**
 * S14 streamed: the MTMS sends an order to the KMS as a streamed
 * batch (`application/x-ndjson`, read from its store page by page, the MAC
 * over the hash) when the order has more TKs than its threshold; here the
 * threshold is 0, so every order streams. Through the real servers, HSMs,
 * stores and devices, in-process and over sockets: the order arrives, a
 * second transfer is a duplicate, each terminal gets its TMK under its TK;
 * a KMS that does not answer leaves the order collecting and KMS empty.
 */
import { assert, assertEquals } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import { loadCore } from "../../src/core/mod.ts";
import { makeWorld, type Mode, type World } from "./_fixture.ts";

async function collected(w: World, orderId: string, sns: string[]) {
  const r = await w.call("POST", `${w.mtmsUrl}/v1/orders`, { orderId, serialNumbers: sns });
  assertEquals(r.status, 201, JSON.stringify(r.body));
  const terminals = [];
  for (const sn of sns) {
    const pos = await w.pos(sn);
    await w.collect(pos, orderId);
    terminals.push(pos);
  }
  return terminals;
}

function kmsCounts(w: World): { terminals: number; batches: number; staged: number } {
  const d = new DatabaseSync(`${w.dir}/kms.db`, { readOnly: true });
  try {
    const n = (t: string) =>
      Number((d.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n);
    return { terminals: n("terminals"), batches: n("tk_batches"), staged: n("tk_staging") };
  } finally {
    d.close();
  }
}

const core = await loadCore("wasm");
for (const mode of ["in-process", "socket"] as Mode[]) {
  Deno.test(`flow A streamed S14 ${mode}: MTMS streams the order, KMS stores it once, TMKs reach the PIN pads`, async () => {
    const w = await makeWorld(core, mode, { streamAbove: 0 });
    try {
      const orderId = "PO-STREAM-1";
      const terminals = await collected(w, orderId, ["SN00000011", "SN00000012", "SN00000013"]);
      const t = await w.call("POST", `${w.mtmsUrl}/v1/orders/${orderId}/transfer`);
      assertEquals(t.body, { orderId, transferred: 3, duplicate: "no" });
      if (mode === "in-process") {
        const sent = w.mtmsToKms.filter((x) => x.url.endsWith("/v1/tk-batches"));
        assertEquals(sent.length, 1);
        assert(
          sent[0].requestBody.startsWith("(application/x-ndjson"),
          `streamed, not JSON: ${sent[0].requestBody.slice(0, 80)}`,
        );
      }
      assertEquals(kmsCounts(w), { terminals: 3, batches: 1, staged: 0 });
      const again = await w.call("POST", `${w.mtmsUrl}/v1/orders/${orderId}/transfer`);
      assertEquals(again.body, { orderId, transferred: 3, duplicate: "yes" });
      const i = await w.call("POST", `${w.kmsUrl}/v1/orders/${orderId}/tmks`);
      assertEquals(i.body, { orderId, issued: 3, alreadyIssued: 0, terminals: 3 });
      for (const pos of terminals) {
        const d = await pos.downloadTmk();
        assertEquals(d.state, "delivered");
        assertEquals(d.kmsKcv, d.pinPadKcv);
      }
    } finally {
      await w.close();
    }
  });
}

Deno.test("flow A streamed S14: KMS unavailable: kms_refused, the order stays collecting, KMS stores nothing", async () => {
  const w = await makeWorld(core, "in-process", { streamAbove: 0 });
  try {
    const orderId = "PO-STREAM-2";
    await collected(w, orderId, ["SN00000021", "SN00000022"]);
    // The KMS answers the key version check, then fails on the streamed batch.
    w.kmsDown = (r) => r.method === "POST";
    const t = await w.call("POST", `${w.mtmsUrl}/v1/orders/${orderId}/transfer`);
    assertEquals([t.status, t.body.error?.code], [502, "kms_refused"], JSON.stringify(t.body));
    assertEquals(
      (await w.call("GET", `${w.mtmsUrl}/v1/orders/${orderId}`)).body.state,
      "collecting",
    );
    assertEquals(kmsCounts(w), { terminals: 0, batches: 0, staged: 0 });
    w.kmsDown = false;
    const ok = await w.call("POST", `${w.mtmsUrl}/v1/orders/${orderId}/transfer`);
    assertEquals(ok.body, { orderId, transferred: 2, duplicate: "no" });
  } finally {
    await w.close();
  }
});
