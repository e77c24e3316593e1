/**
 * The listener's limits and framing checks (servers/_lib/listener.ts), over TCP and TLS with raw
 * sockets: a body's deadline against a client that trickles it, the Host header (RFC 9112
 * section 3.2), the absolute-form request target (section 3.2.2), and 414 for a request target
 * over the parser's cap.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { createHandler, memoryLogger } from "../../servers/_lib/mod.ts";
import { listen, type ServeLimits } from "../../servers/_lib/listener.ts";
import { root, server } from "./_tls_fixture.ts";
import { echoRoute } from "./_echo_route.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The end of a connection the server closed (a read or write after its close): null; any
 * other error is thrown.
 */
function closedByPeer(e: unknown): null {
  const ended = e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.UnexpectedEof;
  if (!ended) throw e;
  return null;
}

/**
 * Sends `parts` over a fresh connection (TLS trusting the test root, or TCP), `gapMs` apart,
 * while reading until the server closes (or `ms` pass). Stops sending once the server answers.
 */
async function exchange(
  port: number,
  tls: boolean,
  parts: string[],
  o: { gapMs?: number; ms?: number } = {},
): Promise<{ text: string; ms: number }> {
  const conn = tls
    ? await Deno.connectTls({ hostname: "localhost", port, caCerts: [root] })
    : await Deno.connect({ hostname: "127.0.0.1", port });
  const t0 = Date.now();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, o.ms ?? 5000);
  let out = "";
  let closed = false;
  const reading = (async () => {
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf).catch(closedByPeer);
      if (n === null) break;
      out += new TextDecoder().decode(buf.subarray(0, n));
    }
    closed = true;
  })();
  try {
    for (const [i, part] of parts.entries()) {
      if (closed) break;
      if (i > 0) await sleep(o.gapMs ?? 0);
      await conn.write(new TextEncoder().encode(part)).catch(closedByPeer);
    }
    await reading;
  } finally {
    clearTimeout(timer);
    if (!timedOut) conn.close();
  }
  return { text: out, ms: Date.now() - t0 };
}

/** A server whose one route reads a JSON body, the way the KMS and MTMS routes do. */
async function echoServer(tls: boolean, limits: Partial<ServeLimits>) {
  const { logger, lines } = memoryLogger();
  const handler = createHandler({
    title: "t",
    version: "1",
    log: logger,
    routes: [
      echoRoute(8000, 16384),
    ],
  });
  const s = await listen(handler, { tls: tls ? server : undefined, limits, log: logger });
  return { s, lines };
}

const POST_HEAD = (length: number) =>
  "POST /v1/echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
  `content-length: ${length}\r\n\r\n`;

for (const tls of [false, true]) {
  const over = tls ? "TLS" : "TCP";

  Deno.test(`listener: a body trickled a byte at a time gets 408 at its deadline (${over})`, async () => {
    // Each byte comes well within the body-read timeout: only the body's deadline can end it.
    const { s, lines } = await echoServer(tls, {
      bodyReadTimeoutMs: 2000,
      bodyTimeoutMs: 600,
      idleTimeoutMs: 2000,
    });
    try {
      const body = `{"note":"${"a".repeat(90)}"}`;
      const parts = [POST_HEAD(body.length), ...body.split("")];
      const got = await exchange(s.port, tls, parts, { gapMs: 100, ms: 8000 });
      assertMatch(got.text, /^HTTP\/1\.1 408 /, got.text);
      assert(
        got.text.includes(
          '{"error":{"code":"body_timeout","message":"the request body did not arrive within the body deadline (bodyTimeoutMs)"}}',
        ),
        got.text,
      );
      // Not before its deadline (the answer itself must come before the client's own 8 s).
      assert(got.ms >= 550, `answered and closed after ${got.ms} ms`);
      for (let i = 0; i < 50 && !lines.some((l) => l.includes("http.request")); i++) {
        await sleep(20);
      }
      assert(lines.some((l) => l.includes("http.body_timeout")), lines.join("\n"));
      const logged = lines.filter((l) => l.includes("http.request")).map((l) => JSON.parse(l));
      assertEquals(logged.map((l) => [l.level, l.status, l.code]), [
        ["warn", 408, "request_timeout"],
      ]);
      // The server goes on serving.
      const ok = '{"note":"abc"}';
      const again = await exchange(s.port, tls, [POST_HEAD(ok.length) + ok]);
      assertMatch(again.text, /^HTTP\/1\.1 200[\s\S]*\{"note":"abc"\}/);
    } finally {
      await s.shutdown();
    }
  });

  Deno.test(`listener: a body's deadline counts only waits for the client, extended per byte (${over})`, async () => {
    const { s } = await echoServer(tls, {
      bodyReadTimeoutMs: 2000,
      bodyTimeoutMs: 400,
      bodyMinRate: 1000,
      idleTimeoutMs: 2000,
    });
    try {
      // 3 KB in three pieces 300 ms apart: 600 ms of waiting, past the 400 ms deadline but
      // within what the first kilobyte earned (one second more).
      const note = "b".repeat(3000 - 12);
      const body = `{"note":"${note}"}`;
      const parts = [POST_HEAD(body.length), body.slice(0, 1000), body.slice(1000, 2000)];
      parts.push(body.slice(2000));
      const got = await exchange(s.port, tls, parts, { gapMs: 300 });
      assertMatch(got.text, /^HTTP\/1\.1 200 /, got.text.slice(0, 200));
    } finally {
      await s.shutdown();
    }
    // A handler slower than its client: the time it takes between its reads is not the
    // client's. The second kilobyte comes while the handler is busy with the first, long
    // after the deadline counted from the headers.
    const slow = async (request: Request) => {
      let n = 0;
      for await (const chunk of request.body!) {
        if (n === 0) await sleep(700);
        n += chunk.length;
      }
      return new Response(`read ${n}`);
    };
    const s2 = await listen(slow, {
      tls: tls ? server : undefined,
      limits: { bodyReadTimeoutMs: 2000, bodyTimeoutMs: 400, bodyMinRate: 0 },
    });
    try {
      const head =
        "POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 2000\r\nconnection: close\r\n\r\n";
      const parts = [head, "c".repeat(1000), "c".repeat(1000)];
      const got = await exchange(s2.port, tls, parts, { gapMs: 250 });
      assertMatch(got.text, /^HTTP\/1\.1 200 [\s\S]*read 2000/, got.text.slice(0, 200));
    } finally {
      await s2.shutdown();
    }
  });

  Deno.test(`listener: a request without one Host header gets a JSON 400 (${over})`, async () => {
    let served = 0;
    const { logger } = memoryLogger();
    const s = await listen(() => Promise.resolve(new Response(`served ${++served}`)), {
      tls: tls ? server : undefined,
      log: logger,
    });
    try {
      const cases: [string, string][] = [
        [
          "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
          '{"error":{"code":"bad_host","message":"the request has no Host header; HTTP/1.1 requires one"}}',
        ],
        [
          "GET /healthz HTTP/1.1\r\nHost: a\r\nhost: b\r\nConnection: close\r\n\r\n",
          '{"error":{"code":"bad_host","message":"the request has 2 Host headers; one is allowed"}}',
        ],
      ];
      for (const [raw, error] of cases) {
        const got = await exchange(s.port, tls, [raw]);
        assertMatch(got.text, /^HTTP\/1\.1 400 [\s\S]*content-type: application\/json/i, raw);
        assert(got.text.includes(error), got.text);
      }
      assertEquals(served, 0);
      // HTTP/1.0 does not require Host; one Host is served.
      const old = await exchange(s.port, tls, ["GET /healthz HTTP/1.0\r\n\r\n"]);
      assertMatch(old.text, /^HTTP\/1\.1 200 [\s\S]*served 1/);
      const one = await exchange(s.port, tls, [
        "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      ]);
      assertMatch(one.text, /^HTTP\/1\.1 200 [\s\S]*served 2/);
    } finally {
      await s.shutdown();
    }
  });

  Deno.test(`listener: an absolute-form target is served on its path, under the server's own origin (${over})`, async () => {
    const { logger } = memoryLogger();
    const s = await listen(
      (r) => {
        const u = new URL(r.url);
        return Promise.resolve(new Response(`${u.origin} ${u.pathname} ${u.search}|`));
      },
      { tls: tls ? server : undefined, log: logger },
    );
    try {
      const answer = (target: string) =>
        exchange(s.port, tls, [`GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`]);
      for (
        const [target, path, search] of [
          ["http://evil.example/v1/orders?x=1", "/v1/orders", "?x=1"],
          ["https://evil.example:8443/healthz", "/healthz", ""],
          ["HTTP://evil.example", "/", ""],
          ["http://evil.example?q=2", "/", "?q=2"],
          ["http://x//evil.example/v1/orders", "//evil.example/v1/orders", ""],
          ["/v1/orders", "/v1/orders", ""],
        ]
      ) {
        const got = await answer(target);
        assert(
          got.text.startsWith("HTTP/1.1 200") && got.text.includes(`${s.url} ${path} ${search}|`),
          `${target}: ${got.text}`,
        );
      }
      for (const target of ["*", "ftp://evil.example/v1/orders"]) {
        const got = await answer(target);
        assert(
          got.text.startsWith("HTTP/1.1 400") &&
            got.text.includes(
              '{"error":{"code":"bad_request_target","message":"the request target must be a path starting with /"}}',
            ),
          `${target}: ${got.text}`,
        );
      }
    } finally {
      await s.shutdown();
    }
  });

  Deno.test(`listener: a request target over the cap gets 414, a header over it 431 (${over})`, async () => {
    const { logger, lines } = memoryLogger();
    const s = await listen(() => Promise.resolve(new Response("ok")), {
      tls: tls ? server : undefined,
      log: logger,
    });
    const long = "a".repeat(17_000);
    const URI = '{"error":{"code":"target_too_long","message":"the request target is too long"}}';
    const HEADERS = '"code":"headers_too_large"';
    try {
      const cases: [string, string[], string, string][] = [
        ["target in one write", [`GET /${long} HTTP/1.1\r\nhost: x\r\n\r\n`], "414", URI],
        ["absolute-form target", [`GET http://x/${long} HTTP/1.1\r\nhost: x\r\n\r\n`], "414", URI],
        ["header", [`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${long}\r\n\r\n`], "431", HEADERS],
        [
          "header value with spaces",
          [`GET / HTTP/1.1\r\nx-big: a ${long}\r\n\r\n`],
          "431",
          HEADERS,
        ],
        // A target cut before its end: no request line was complete.
        ["target without its end", [`GET /${long}`], "414", URI],
      ];
      if (tls) {
        // Over TLS the listener sees each chunk, so a line split across them is told too.
        cases.push(
          ["target in two writes", [`GET /${long}`, `${long} HTTP/1.1\r\n\r\n`], "414", URI],
          [
            "header in two writes",
            [`GET / HTTP/1.1\r\nx: ${long}`, `${long}\r\n\r\n`],
            "431",
            HEADERS,
          ],
        );
      }
      for (const [name, parts, status, error] of cases) {
        const got = await exchange(s.port, tls, parts, { gapMs: 100 });
        assert(got.text.startsWith(`HTTP/1.1 ${status} `), `${name}: ${got.text.slice(0, 200)}`);
        assert(got.text.includes(error), `${name}: ${got.text.slice(0, 300)}`);
        assert(!got.text.includes("a".repeat(100)), "the target is not echoed");
      }
      // On a connection already used, the next request's target is told the same way.
      const first = "GET / HTTP/1.1\r\nhost: x\r\n\r\n";
      const got = await exchange(s.port, tls, [first, `GET /${long} HTTP/1.1\r\nhost: x\r\n\r\n`], {
        gapMs: 200,
      });
      assertMatch(got.text, /^HTTP\/1\.1 200 [\s\S]*ok/);
      assert(got.text.includes(`HTTP/1.1 414 `) && got.text.endsWith(URI), got.text.slice(0, 300));
      assert(lines.some((l) => l.includes("http.bad_request")), lines.join("\n"));
    } finally {
      await s.shutdown();
    }
  });
}
