/**
 * `/metrics` of a KMS process after a few requests: requests by route
 * pattern and status, orders and terminals by state, TMKs issued, the HSM's
 * state, lock-outs and store latency; served on `--metrics-port` at
 * 127.0.0.1 only, never on the API's port.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { KmsProcess, makeBatch, makeKeys } from "./_kms.ts";

/** The text format as `name{labels}` (labels in their written order, `server` dropped) to value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert(m !== null, `a sample line: ${line}`);
    const labels = (m[2] ?? "").split(",").filter((l) => l !== "" && !l.startsWith("server="));
    out.set(`${m[1]}{${labels.join(",")}}`, Number(m[3]));
  }
  return out;
}

Deno.test("scale: /metrics of a KMS process counts requests, states, TMKs, HSM, store calls", async () => {
  const dir = await Deno.makeTempDir({ prefix: "metrics_" });
  try {
    const keys = await makeKeys();
    const n = 20;
    const batch = await makeBatch(keys, "PO-MET-1", n);
    const kms = await KmsProcess.start(`${dir}/kms.db`, keys, ["--metrics-port", "0"]);
    try {
      assertEquals((await kms.call("POST", "/v1/tk-batches", batch.request)).status, 201);
      const issued = await kms.call("POST", "/v1/orders/PO-MET-1/tmks", undefined, keys.token);
      assertEquals(issued.status, 200, JSON.stringify(issued.body));
      for (const sn of ["SNNOPE001", "SNNOPE002"]) {
        assertEquals(
          (await kms.call("GET", `/v1/terminals/${sn}`, undefined, keys.token)).status,
          404,
        );
      }
      const url = /"event":"kms.metrics","url":"([^"]+)"/.exec(kms.log)?.[1];
      assert(url !== undefined, kms.log);
      assertEquals(new URL(url).hostname, "127.0.0.1");
      const r = await fetch(url);
      assertEquals(r.status, 200);
      const s = samples(await r.text());
      const get = (k: string) => s.get(k);
      assertEquals(
        get('tmk_http_requests_total{route="/v1/tk-batches",method="POST",status="201"}'),
        1,
      );
      assertEquals(
        get('tmk_http_requests_total{route="/v1/terminals/:sn",method="GET",status="404"}'),
        2,
      );
      assertEquals(get('tmk_orders{state="imported"}'), 1);
      assertEquals(get('tmk_orders{state="collecting"}'), 0);
      assertEquals(get('tmk_terminals{state="tmk_issued"}'), n);
      assertEquals(get('tmk_terminals{state="delivered"}'), 0);
      assertEquals(get("tmk_terminals_locked{}"), 0);
      assertEquals(get('tmk_events_total{event="tmk_issued"}'), n);
      assert((get('tmk_hsm_state{state="authorized"}') ?? 0) >= 1);
      assertEquals(get('tmk_hsm_state{state="offline"}'), 0);
      assert((get('tmk_store_call_seconds_count{op="importTkBatch"}') ?? 0) >= 1, "store latency");
      // Not on the API's port.
      const api = await kms.devices(new Request(`${kms.url}/metrics`));
      assertEquals(api.status, 404);
      await api.body?.cancel();
    } finally {
      await kms.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
