/**
 * Limits over real loopback sockets. Every route with a
 * body gets bodies over its cap (declared with Content-Length, and streamed
 * without one, up to 16 MiB) and deeply nested JSON; then 500 concurrent
 * connections (HTTP requests of every kind, and raw TCP connections that
 * send half a request and hang up) hit the KMS. Every answer is 413 or 400
 * as fits, never a 5xx; the server keeps answering; the process's memory
 * stays bounded.
 *
 * Prints `figure limits-*`.
 */
import { assert, assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { MAX_BATCH_BODY } from "../../src/protocol/mod.ts";
import { serveHandler } from "../../servers/_lib/mod.ts";
import { figure, Tally } from "./_figures.ts";
import { recordTraffic } from "./_traffic.ts";

const core = await loadCore("wasm");
const MiB = 1024 * 1024;

function stream(total: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(chunk, total - sent);
      c.enqueue(new Uint8Array(n).fill(0x20));
      sent += n;
    },
  });
}

Deno.test("oversized bodies, deep nesting, 500 concurrent loopback connections: 413/400, 0 5xx, memory bounded", async () => {
  const t = await recordTraffic(core, 1, "LM");
  const kmsB = serveHandler(t.handlers.kmsB, { port: 0 });
  const kmsA = serveHandler((r) => {
    const u = new URL(r.url);
    return t.handlers.kms(new Request(`${t.urls.kms}${u.pathname}${u.search}`, r));
  }, { port: 0 });
  try {
    const servers = { kmsB, kms: kmsA };
    const bodyRoutes: { server: "kms" | "kmsB"; method: string; path: string }[] = [];
    for (const server of ["kms", "kmsB"] as const) {
      const doc = await (await fetch(`${servers[server].url}/openapi.json`)).json();
      for (
        const [path, ops] of Object.entries(
          doc.paths as Record<string, Record<string, { requestBody?: unknown }>>,
        )
      ) {
        for (const [method, op] of Object.entries(ops)) {
          if (op.requestBody !== undefined) {
            bodyRoutes.push({
              server,
              method: method.toUpperCase(),
              path: path.replace("{challengeId}", "0".repeat(32))
                .replace("{sessionId}", "0".repeat(32))
                .replace(/\{\w+\}/g, "LIMITS0001"),
            });
          }
        }
      }
    }
    assert(bodyRoutes.length >= 6, `${bodyRoutes.length} routes with a body`);
    const statuses = new Tally();
    const check = async (what: string, res: Response, allowed: number[]) => {
      const text = await res.text();
      statuses.add(String(res.status));
      assert(allowed.includes(res.status), `${what}: ${res.status} ${text.slice(0, 200)}`);
      const e = JSON.parse(text).error;
      assert(typeof e?.code === "string" && typeof e?.message === "string", `${what}: ${text}`);
    };
    // This isolate's JS heap and buffers (the servers run in it): the process's RSS would count
    // the test files that run beside this one in the same process.
    const ownMemory = () => {
      const m = Deno.memoryUsage();
      return m.heapUsed + m.external;
    };
    const memBefore = ownMemory();
    let oversized = 0, nested = 0;
    for (const r of bodyRoutes) {
      const url = `${servers[r.server].url}${r.path}`;
      const headers = { "content-type": "application/json" };
      // Over the cap with a Content-Length (the largest cap is the TK batch's), and streamed
      // without one.
      for (const n of [MAX_BATCH_BODY + 1, 4 * MiB]) {
        await check(
          `${r.method} ${r.path} ${n} bytes`,
          await fetch(url, { method: r.method, headers, body: "{" + " ".repeat(n - 2) + "}" }),
          [413],
        );
        oversized++;
      }
      for (const n of [4 * MiB, 16 * MiB]) {
        await check(
          `${r.method} ${r.path} streamed ${n} bytes`,
          await fetch(url, { method: r.method, headers, body: stream(n) }),
          [413],
        );
        oversized++;
      }
      // Deep nesting: arrays and objects, under and over the cap.
      for (const depth of [100, 1000, 4000, 100_000]) {
        for (
          const body of [
            "[".repeat(depth) + "]".repeat(depth),
            '{"a":'.repeat(depth) + "1" + "}".repeat(depth),
          ]
        ) {
          await check(
            `${r.method} ${r.path} nesting ${depth}`,
            await fetch(url, { method: r.method, headers, body }),
            [400, 413],
          );
          nested++;
        }
      }
    }
    // 500 concurrent connections: a mix of every kind of request, plus raw half requests.
    const started = performance.now();
    const kinds = new Tally();
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) {
      const server = i % 2 === 0 ? kmsB : kmsA;
      const r = bodyRoutes[i % bodyRoutes.length];
      const url = `${servers[r.server].url}${r.path}`;
      const kind = i % 5;
      jobs.push((async () => {
        if (kind === 0) {
          const res = await fetch(`${server.url}/healthz`);
          kinds.add(`healthz ${res.status}`);
          assertEquals(res.status, 200, await res.text());
          return;
        }
        if (kind === 4) {
          // Raw TCP: half a request, then hang up.
          const c = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
          await c.write(
            new TextEncoder().encode(
              `POST ${r.path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"a":`,
            ),
          );
          c.close();
          kinds.add("raw half request");
          return;
        }
        const body = kind === 1
          ? "not json"
          : kind === 2
          ? "[".repeat(3000) + "]".repeat(3000)
          : " ".repeat(70_000);
        const res = await fetch(url, {
          method: r.method,
          headers: { "content-type": "application/json" },
          body,
        });
        kinds.add(`${kind === 1 ? "bad json" : kind === 2 ? "nested" : "oversized"} ${res.status}`);
        await check(`concurrent ${r.method} ${r.path}`, res, [400, 401, 413]);
      })());
    }
    const settled = await Promise.allSettled(jobs);
    const failed = settled.filter((s) => s.status === "rejected");
    const seconds = (performance.now() - started) / 1000;
    assertEquals(
      failed.length,
      0,
      failed.slice(0, 3).map((f) => String((f as PromiseRejectedResult).reason)).join("\n"),
    );
    assert(seconds < 120, `500 connections took ${seconds} s`);
    // Still answering afterwards.
    for (const s of [kmsA, kmsB]) {
      assertEquals(
        await fetch(`${s.url}/healthz`).then(async (r) => (await r.body?.cancel(), r.status)),
        200,
      );
    }
    const growth = (ownMemory() - memBefore) / MiB;
    assert(growth < 256, `JS heap and buffers grew by ${growth.toFixed(0)} MiB`);
    assertEquals(statuses.entries().filter(([s]) => Number(s) >= 500).length, 0);
    figure(
      "limits",
      `${bodyRoutes.length} routes with a body: ${oversized} oversized bodies (largest cap + 1 and 4 MiB declared, 4 and 16 MiB streamed) and ${nested} nested bodies (depth 100 to 100,000); ` +
        `then 500 concurrent loopback connections in ${seconds.toFixed(1)} s (${kinds}); ` +
        `statuses: ${statuses}; 0 5xx; JS heap and buffers growth ${
          growth.toFixed(0)
        } MiB (bound 256)`,
    );
  } finally {
    await kmsA.shutdown();
    await kmsB.shutdown();
    await t.close();
  }
});
