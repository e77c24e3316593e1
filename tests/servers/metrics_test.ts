/**
 * The Prometheus exposition of a server's metrics: every sample line parses,
 * counters add up, gauges are read at scrape time.
 */
import { assert, assertEquals } from "@std/assert";
import { ServerMetrics } from "../../servers/_lib/metrics.ts";

/** A sample's key: its name and its labels in sorted order. */
function key(name: string, labels: Record<string, string>): string {
  const l = Object.entries(labels).sort(([a], [b]) => a < b ? -1 : 1);
  return `${name}{${l.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}}`;
}

/** Parses the text format into sample key -> value, checking each line's shape. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (-?[0-9.e+-]+|NaN|\+Inf)$/.exec(line);
    assert(m !== null, `a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? "").split(",").filter((x) => x !== "")) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(pair);
      assert(lm !== null, `a label: ${pair}`);
      labels[lm[1]] = lm[2];
    }
    out.set(key(m[1], labels), Number(m[3]));
  }
  return out;
}

Deno.test("metrics: requests by route pattern and status, with latency", async () => {
  const m = new ServerMetrics("kms");
  m.request("/v1/orders/:orderId", "GET", 200, 0.002);
  m.request("/v1/orders/:orderId", "GET", 200, 0.2);
  m.request("/v1/orders/:orderId", "GET", 404, 0.001);
  const { text, contentType } = await m.render();
  assert(contentType.startsWith("text/plain; version=0.0.4"));
  const s = samples(text);
  assertEquals(
    s.get(
      key("tmk_http_requests_total", {
        route: "/v1/orders/:orderId",
        method: "GET",
        status: "200",
        server: "kms",
      }),
    ),
    2,
  );
  assertEquals(
    s.get(
      key("tmk_http_requests_total", {
        route: "/v1/orders/:orderId",
        method: "GET",
        status: "404",
        server: "kms",
      }),
    ),
    1,
  );
  assertEquals(
    s.get(
      key("tmk_http_request_seconds_count", {
        route: "/v1/orders/:orderId",
        method: "GET",
        server: "kms",
      }),
    ),
    3,
  );
  assertEquals(
    s.get(
      key("tmk_http_request_seconds_bucket", {
        le: "0.005",
        route: "/v1/orders/:orderId",
        method: "GET",
        server: "kms",
      }),
    ),
    2,
  );
});

Deno.test("metrics: gauges are read when scraped; events and store calls count", async () => {
  let terminals = 5;
  const m = new ServerMetrics("mtms");
  m.gauge("tmk_terminals", "terminals by state", ["state"], () => [
    { labels: { state: "issued" }, value: terminals },
    { labels: { state: "delivered" }, value: 1 },
  ]);
  m.count("lockout");
  m.count("tmk_issued", 500);
  m.storeCall("issueTmks", 0.003);
  let s = samples((await m.render()).text);
  assertEquals(s.get(key("tmk_terminals", { state: "issued", server: "mtms" })), 5);
  assertEquals(s.get(key("tmk_events_total", { event: "tmk_issued", server: "mtms" })), 500);
  assertEquals(s.get(key("tmk_events_total", { event: "lockout", server: "mtms" })), 1);
  assertEquals(s.get(key("tmk_store_call_seconds_count", { op: "issueTmks", server: "mtms" })), 1);
  terminals = 7;
  s = samples(await (await m.response()).text());
  assertEquals(s.get(key("tmk_terminals", { state: "issued", server: "mtms" })), 7);
});
