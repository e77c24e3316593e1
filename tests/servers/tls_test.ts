/**
 * The servers' sockets (servers/_lib/listener.ts, tls.ts): HTTPS with a
 * private root, mutual TLS refusing a missing, foreign or revoked client
 * certificate (after a CRL reload), connection caps and timeouts, and a
 * client that hangs up logged as 499 at info.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { createHandler, memoryLogger, route } from "../../servers/_lib/mod.ts";
import { listen, peerIdentity } from "../../servers/_lib/listener.ts";
import { clientCertificateCheck, tlsClient } from "../../servers/_lib/tls.ts";
import { loadCrlFile } from "../../servers/_lib/revocation.ts";
import { alice, bob, mallory, root, rootCrl, server } from "./_tls_fixture.ts";
import { echoRoute } from "./_echo_route.ts";

const hello = (request: Request) =>
  Promise.resolve(new Response(`hello ${peerIdentity(request)?.subject ?? "anonymous"}`));

/** GET over a fresh TLS client (a fresh connection), closed afterwards. */
async function get(
  url: string,
  o: { caCerts: string[]; cert?: string; key?: string },
): Promise<string> {
  const client = tlsClient(o);
  try {
    const r = await fetch(url, { client });
    return `${r.status} ${await r.text()}`;
  } finally {
    client.close();
  }
}

Deno.test("tls: HTTPS with a private root; a client without that root cannot connect", async () => {
  const s = await listen(hello, { tls: server });
  try {
    assertMatch(s.url, /^https:/);
    const url = `https://localhost:${s.port}/`;
    assertEquals(await get(url, { caCerts: [root] }), "200 hello anonymous");
    // The system roots do not know the private root.
    await assertRejects(() => fetch(url).then((r) => r.body?.cancel()), TypeError);
    // Plain HTTP to the TLS port gets no answer from the handler.
    const plain = await fetch(`http://127.0.0.1:${s.port}/`).then(
      (r) => r.text(),
      () => "refused",
    );
    assert(!plain.includes("hello"), plain);
  } finally {
    await s.shutdown();
  }
});

Deno.test("tls: mutual TLS refuses no certificate and a foreign one, names a good one", async () => {
  const { logger, lines } = memoryLogger();
  const check = clientCertificateCheck({ roots: [root], purpose: "mtms-client", required: true });
  const s = await listen(hello, { tls: { ...server, checkClient: check }, log: logger });
  try {
    const url = `https://localhost:${s.port}/`;
    assertEquals(
      await get(url, { caCerts: [root], ...alice }),
      "200 hello C=CN, O=TLS Test, CN=alice",
    );
    await assertRejects(() => get(url, { caCerts: [root] }), TypeError);
    await assertRejects(() => get(url, { caCerts: [root], ...mallory }), TypeError);
    const refusals = lines.filter((l) => l.includes("tls.client_refused"));
    assertEquals(refusals.length, 2, lines.join("\n"));
    assertMatch(refusals[0], /a client certificate is required/);
    assertMatch(refusals[1], /Stranger Root/);
  } finally {
    await s.shutdown();
  }
});

Deno.test("tls: a revoked client certificate is refused once the CRL file is reloaded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tls_test_" });
  const file = `${dir}/crl.pem`;
  await Deno.writeTextFile(file, await rootCrl(1n, []));
  const crls = await loadCrlFile(file);
  const check = clientCertificateCheck({
    roots: [root],
    purpose: "mtms-client",
    required: true,
    crls: crls.current,
  });
  const s = await listen(hello, { tls: { ...server, checkClient: check } });
  try {
    const url = `https://localhost:${s.port}/`;
    assertEquals(await get(url, { caCerts: [root], ...bob }), "200 hello C=CN, O=TLS Test, CN=bob");
    await Deno.writeTextFile(file, await rootCrl(2n, [bob.serialNumber]));
    // Until the reload the CRL in force is the old one.
    assertEquals(await get(url, { caCerts: [root], ...bob }), "200 hello C=CN, O=TLS Test, CN=bob");
    await crls.reload();
    await assertRejects(() => get(url, { caCerts: [root], ...bob }), TypeError);
    assertEquals(
      await get(url, { caCerts: [root], ...alice }),
      "200 hello C=CN, O=TLS Test, CN=alice",
    );
    // An older CRL does not replace the one in force.
    await Deno.writeTextFile(file, await rootCrl(1n, []));
    await assertRejects(() => crls.reload(), RangeError, "older");
    await assertRejects(() => get(url, { caCerts: [root], ...bob }), TypeError);
  } finally {
    await s.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Opens a raw TCP connection and reads until the server closes it (or `ms` pass). */
async function rawExchange(port: number, send: string, ms = 5000): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const out: string[] = [];
  const timer = setTimeout(() => conn.close(), ms);
  try {
    if (send) await conn.write(new TextEncoder().encode(send));
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      out.push(new TextDecoder().decode(buf.subarray(0, n)));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
  return out.join("");
}

Deno.test("tls: idle and stalled connections are closed, and each source is capped", async () => {
  const { logger, lines } = memoryLogger();
  const s = await listen(hello, {
    limits: { headersTimeoutMs: 300, maxConnectionsPerSource: 2, idleTimeoutMs: 300 },
    log: logger,
  });
  try {
    // No headers at all: closed after the headers timeout, long before the test's 5 s.
    const t0 = Date.now();
    assertEquals(await rawExchange(s.port, ""), "");
    assert(Date.now() - t0 < 3000, `closed after ${Date.now() - t0} ms`);
    // Half a request line: the same.
    assertEquals(await rawExchange(s.port, "GET / HT"), "");
    // A complete request is answered; the idle connection is then closed.
    const answered = await rawExchange(s.port, "GET / HTTP/1.1\r\nhost: x\r\n\r\n");
    assertMatch(answered, /^HTTP\/1\.1 200[\s\S]*hello anonymous/);
    // Two open connections from 127.0.0.1; the third is closed at once.
    const a = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    const b = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    await new Promise((r) => setTimeout(r, 50));
    const t1 = Date.now();
    assertEquals(await rawExchange(s.port, "GET / HTTP/1.1\r\nhost: x\r\n\r\n"), "");
    assert(Date.now() - t1 < 250, "the third connection waited for a timeout");
    a.close();
    b.close();
    assert(lines.some((l) => l.includes("http.connection_refused_source_cap")), lines.join("\n"));
    assert(lines.some((l) => l.includes("http.headers_timeout")), lines.join("\n"));
  } finally {
    await s.shutdown();
  }
});

Deno.test('listener: the request target\'s path reaches the handler as sent, "//" included', async () => {
  const { logger } = memoryLogger();
  const s = await listen((r) => Promise.resolve(new Response(`path ${new URL(r.url).pathname}`)), {
    limits: {},
    log: logger,
  });
  try {
    const answer = (target: string) =>
      rawExchange(s.port, `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
    for (
      const [target, path] of [
        ["/v1/orders", "/v1/orders"],
        ["//evil.example/v1/orders", "//evil.example/v1/orders"],
        ["//v1/orders", "//v1/orders"],
        ["/a/../v1/./orders", "/v1/orders"],
        ["/v1/orders?x=1", "/v1/orders"],
      ]
    ) {
      const got = await answer(target);
      assert(
        got.startsWith("HTTP/1.1 200") && got.includes(`path ${path}\r\n`),
        `${target}: ${got}`,
      );
    }
    // The asterisk-form is refused before any handler sees it (the absolute-form is served on its
    // path: tests/servers/listener_limits_test.ts).
    for (const target of ["*"]) {
      const got = await answer(target);
      assert(
        got.startsWith("HTTP/1.1 400") &&
          got.includes(
            '{"error":{"code":"bad_request_target","message":"the request target must be a path starting with /"}}',
          ),
        `${target}: ${got}`,
      );
    }
  } finally {
    await s.shutdown();
  }
});

/** Sends `raw` over TLS (trusting the test root) and reads until the server closes. */
async function tlsExchange(port: number, raw: string): Promise<string> {
  const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [root] });
  const timer = setTimeout(() => conn.close(), 5000);
  let out = "";
  try {
    await conn.write(new TextEncoder().encode(raw));
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      out += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
  return out;
}

Deno.test("listener: malformed requests and unserved methods get a 4xx naming the fault", async () => {
  const { logger, lines } = memoryLogger();
  for (const tls of [undefined, server]) {
    const s = await listen(hello, { tls, limits: {}, log: logger });
    const send = (raw: string) => tls ? tlsExchange(s.port, raw) : rawExchange(s.port, raw);
    try {
      const cases: [string, string, string][] = [
        [
          "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
          "400",
          '"code":"bad_request","message":"the request is not valid HTTP/1.1 (invalid transfer encoding)"',
        ],
        ["GET / HTTP/9.9\r\nhost: x\r\n\r\n", "400", '"code":"bad_request"'],
        [
          `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(70_000)}\r\n\r\n`,
          "431",
          '"code":"headers_too_large"',
        ],
        [
          "TRACE / HTTP/1.1\r\nhost: x\r\n\r\n",
          "400",
          '"code":"method_not_supported","message":"method TRACE is not supported by this server"',
        ],
        [
          "TRACK / HTTP/1.1\r\nhost: x\r\n\r\n",
          "400",
          '"code":"bad_request","message":"the request is not valid HTTP/1.1 (',
        ],
      ];
      for (const [raw, status, error] of cases) {
        const got = await send(raw);
        assert(
          got.startsWith(`HTTP/1.1 ${status} `),
          `${tls ? "TLS" : "TCP"} ${raw.slice(0, 40)}: ${got}`,
        );
        assert(got.includes(error), `${raw.slice(0, 40)}: ${got}`);
        assert(!got.includes("a".repeat(100)), "the oversized header is not echoed");
      }
      // The server goes on serving.
      assertMatch(
        await send("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        /^HTTP\/1\.1 200[\s\S]*hello anonymous/,
      );
    } finally {
      await s.shutdown();
    }
  }
  assert(lines.some((l) => l.includes("http.bad_request")), lines.join("\n"));
});

Deno.test("tls: a client that hangs up mid-body is logged at info as 499, not as an error", async () => {
  const { logger, lines } = memoryLogger();
  const handler = createHandler({
    title: "t",
    version: "1",
    log: logger,
    routes: [
      echoRoute(2000, 4096),
    ],
  });
  const s = await listen(handler, { limits: {}, log: logger });
  try {
    const head = "POST /v1/echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
      "content-length: 1000\r\n\r\n";
    assertEquals(await rawExchange(s.port, `${head}{"note":"abc`, 300), "");
    for (let i = 0; i < 50 && !lines.some((l) => l.includes("http.request")); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const logged = lines.filter((l) => l.includes("http.request")).map((l) => JSON.parse(l));
    assertEquals(logged.length, 1, lines.join("\n"));
    assertEquals(logged[0].level, "info", lines.join("\n"));
    assertEquals(logged[0].status, 499);
    assertEquals(logged[0].code, "client_closed_request");
    assertEquals(lines.filter((l) => JSON.parse(l).level === "error"), []);
    // A client that stays gets its answer on the same server.
    const ok = await rawExchange(
      s.port,
      'POST /v1/echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 14\r\nconnection: close\r\n\r\n{"note":"abc"}',
    );
    assertMatch(ok, /^HTTP\/1\.1 200[\s\S]*\{"note":"abc"\}/);
  } finally {
    await s.shutdown();
  }
});

Deno.test("tls: a stalled body times out as 408 at warn; shutdown ends a hung request at its deadline", async () => {
  const { logger, lines } = memoryLogger();
  let hungSignal: AbortSignal | undefined;
  const handler = createHandler({
    title: "t",
    version: "1",
    log: logger,
    routes: [
      echoRoute(2000, 4096),
      route({
        method: "GET",
        path: "/v1/hang",
        operationId: "hang",
        summary: "never answers until its client or the server goes",
        access: "public",
        responses: { 200: { description: "never" } },
        handler: (req) =>
          new Promise((_resolve, reject) => {
            hungSignal = req.signal;
            req.signal.addEventListener("abort", () => reject(req.signal.reason));
          }),
      }),
    ],
  });
  const s = await listen(handler, {
    limits: { bodyReadTimeoutMs: 300, shutdownGraceMs: 400 },
    log: logger,
  });
  const head = "POST /v1/echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
    "content-length: 1000\r\n\r\n";
  const t0 = Date.now();
  assertEquals(await rawExchange(s.port, `${head}{"note":"abc`), "");
  assert(Date.now() - t0 < 3000, `closed after ${Date.now() - t0} ms`);
  for (let i = 0; i < 50 && !lines.some((l) => l.includes("http.request")); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const logged = lines.filter((l) => l.includes("http.request")).map((l) => JSON.parse(l));
  assertEquals(logged.map((l) => [l.level, l.status, l.code]), [["warn", 408, "request_timeout"]]);

  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await conn.write(new TextEncoder().encode("GET /v1/hang HTTP/1.1\r\nhost: x\r\n\r\n"));
  for (let i = 0; i < 50 && !hungSignal; i++) await new Promise((r) => setTimeout(r, 20));
  assert(hungSignal && !hungSignal.aborted);
  const t1 = Date.now();
  await s.shutdown();
  const took = Date.now() - t1;
  assert(took >= 350 && took < 3000, `shutdown took ${took} ms`);
  assert(hungSignal.aborted);
  assertEquals(await conn.read(new Uint8Array(64)).catch(() => null), null);
  conn.close();
});
