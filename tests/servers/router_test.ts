/**
 * The shared server plumbing: route table, validation, error mapping,
 * size cap, signed single-use operator requests, /healthz, /openapi.json, logs; in-process and over
 * a real socket.
 */
import { assert, assertEquals, assertFalse, assertThrows } from "@std/assert";
import fc from "fast-check";
import {
  createHandler,
  json,
  memoryLogger,
  redact,
  route,
  serveHandler,
} from "../../servers/_lib/mod.ts";
import { hex, object, optional, text } from "../../src/protocol/schema.ts";
import {
  AuthenticationError,
  ConflictError,
  IntegrityError,
  NotFoundError,
} from "../../src/protocol/errors.ts";
import {
  OPERATOR_SCHEME,
  OPERATOR_WINDOW_S,
  signOperatorRequest,
} from "../../src/protocol/operator_request.ts";
import { operatorAuthorization } from "../_helpers.ts";

const SN = text(/^[A-Z0-9]{8,20}$/, "8-20 uppercase letters or digits");
const body = object(
  { sn: SN, kcv: hex(3, "KCV"), note: optional(text(/^[a-z]{0,8}$/, "a-z")) },
  "b",
);

const TOKEN = "s3cret-operator-token";

function makeApp(readyOk = true) {
  const { logger, lines } = memoryLogger();
  const nonces = new Set<string>();
  const handler = createHandler({
    title: "test",
    version: "1",
    log: logger,
    operatorToken: TOKEN,
    rememberOperatorNonce: (nonce) => {
      if (nonces.has(nonce)) return Promise.resolve(false);
      nonces.add(nonce);
      return Promise.resolve(true);
    },
    ready: () => {
      if (!readyOk) throw new Error("database closed");
    },
    routes: [
      route({
        method: "POST",
        path: "/v1/things/:sn",
        operationId: "postThing",
        summary: "post",
        access: "public",
        params: { sn: SN },
        body,
        maxBody: 200,
        responses: { 201: { description: "made", schema: body } },
        handler: (_req, { params, body }) => {
          if (params.sn === "NOTFOUND1") throw new NotFoundError("unknown_thing", "no such thing");
          if (params.sn === "CONFLICT1") throw new ConflictError("already", "already there");
          if (params.sn === "BADMAC001") throw new IntegrityError("mac_invalid", "bad mac");
          if (params.sn === "AUTHFAIL1") throw new AuthenticationError("rnd_mismatch", "no");
          if (params.sn === "CRASH0001") {
            throw new Error("boom 0123456789ABCDEF0123456789ABCDEF");
          }
          return Promise.resolve(json(201, { ...body, sn: params.sn }));
        },
      }),
      route({
        method: "GET",
        path: "/v1/things/:sn",
        operationId: "getThing",
        summary: "get",
        access: "operator",
        params: { sn: SN },
        responses: { 200: { description: "ok" } },
        handler: (_req, { params }) => Promise.resolve(json(200, { sn: params.sn })),
      }),
    ],
  });
  return { handler, lines };
}

const base = "http://x.test";
function post(path: string, b: unknown, headers: Record<string, string> = {}): Request {
  return new Request(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof b === "string" ? b : JSON.stringify(b),
  });
}

async function call(
  h: (r: Request) => Promise<Response>,
  r: Request,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await h(r);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

// Each case: request, expected status, expected error code.
const CASES: [string, () => Request | Promise<Request>, number, string][] = [
  ["unknown path", () => new Request(base + "/v1/nothing"), 404, "not_found"],
  [
    "wrong method",
    () => new Request(base + "/v1/things/ABCDEFGH", { method: "PUT" }),
    405,
    "method_not_allowed",
  ],
  [
    "operator route without token",
    () => new Request(base + "/v1/things/ABCDEFGH"),
    401,
    "unauthorized",
  ],
  [
    "operator route with wrong token",
    async () =>
      new Request(base + "/v1/things/ABCDEFGH", {
        headers: {
          authorization: await operatorAuthorization(
            "not-the-operator-token",
            "GET",
            base + "/v1/things/ABCDEFGH",
            undefined,
          ),
        },
      }),
    401,
    "unauthorized",
  ],
  [
    "bad path parameter",
    () => post("/v1/things/abc", { sn: "ABCDEFGH", kcv: "A1B2C3" }),
    400,
    "invalid_field",
  ],
  ["not JSON", () => post("/v1/things/ABCDEFGH", "{nope"), 400, "invalid_json"],
  ["empty body", () => post("/v1/things/ABCDEFGH", ""), 400, "invalid_json"],
  ["JSON array", () => post("/v1/things/ABCDEFGH", [1]), 400, "invalid_field"],
  [
    "lowercase hex",
    () => post("/v1/things/ABCDEFGH", { sn: "ABCDEFGH", kcv: "a1b2c3" }),
    400,
    "invalid_field",
  ],
  [
    "short hex",
    () => post("/v1/things/ABCDEFGH", { sn: "ABCDEFGH", kcv: "A1B2" }),
    400,
    "invalid_field",
  ],
  [
    "hex of wrong type",
    () => post("/v1/things/ABCDEFGH", { sn: "ABCDEFGH", kcv: 12 }),
    400,
    "invalid_field",
  ],
  ["missing field", () => post("/v1/things/ABCDEFGH", { sn: "ABCDEFGH" }), 400, "missing_field"],
  [
    "unknown field",
    () => post("/v1/things/ABCDEFGH", { sn: "ABCDEFGH", kcv: "A1B2C3", tk: "00" }),
    400,
    "unknown_field",
  ],
  [
    "wrong content type",
    () =>
      new Request(base + "/v1/things/ABCDEFGH", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "{}",
      }),
    415,
    "unsupported_media_type",
  ],
  [
    "oversized body (content-length)",
    () => post("/v1/things/ABCDEFGH", { sn: "ABCDEFGH", kcv: "A1B2C3", note: "x".repeat(300) }),
    413,
    "body_too_large",
  ],
  [
    "oversized body (streamed, no content-length)",
    () =>
      new Request(base + "/v1/things/ABCDEFGH", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new ReadableStream({
          start(c) {
            for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(" ".repeat(50)));
            c.close();
          },
        }),
      }),
    413,
    "body_too_large",
  ],
  [
    "domain 404",
    () => post("/v1/things/NOTFOUND1", { sn: "ABCDEFGH", kcv: "A1B2C3" }),
    404,
    "unknown_thing",
  ],
  [
    "domain 409",
    () => post("/v1/things/CONFLICT1", { sn: "ABCDEFGH", kcv: "A1B2C3" }),
    409,
    "already",
  ],
  [
    "domain 422",
    () => post("/v1/things/BADMAC001", { sn: "ABCDEFGH", kcv: "A1B2C3" }),
    422,
    "mac_invalid",
  ],
  [
    "domain 401",
    () => post("/v1/things/AUTHFAIL1", { sn: "ABCDEFGH", kcv: "A1B2C3" }),
    401,
    "rnd_mismatch",
  ],
  [
    "unexpected error",
    () => post("/v1/things/CRASH0001", { sn: "ABCDEFGH", kcv: "A1B2C3" }),
    500,
    "internal_error",
  ],
  [
    "operator route with a bearer token (the secret itself is never accepted)",
    () =>
      new Request(base + "/v1/things/ABCDEFGH", { headers: { authorization: `Bearer ${TOKEN}` } }),
    401,
    "unauthorized",
  ],
  [
    "signed operator request",
    async () =>
      new Request(base + "/v1/things/ABCDEFGH", {
        method: "GET",
        headers: {
          authorization: await operatorAuthorization(
            TOKEN,
            "GET",
            base + "/v1/things/ABCDEFGH",
            undefined,
          ),
        },
      }),
    200,
    "",
  ],
];

Deno.test("router: each bad request gets its status and error code, in-process", async () => {
  const { handler } = makeApp();
  for (const [name, make, status, code] of CASES) {
    const r = await call(handler, await make());
    assertEquals(r.status, status, name);
    if (code) {
      assertEquals((r.body.error as Record<string, string>).code, code, name);
      assertEquals(typeof (r.body.error as Record<string, string>).message, "string", name);
    }
  }
});

Deno.test("router: validation messages name the field and never echo hex", async () => {
  const { handler } = makeApp();
  const r = await call(
    handler,
    post("/v1/things/ABCDEFGH", { sn: "ABCDEFGH", kcv: "0123456789abcdef" }),
  );
  const msg = (r.body.error as Record<string, string>).message;
  assertEquals(msg, "body.kcv must be uppercase hex, got a lowercase hex digit at position 10");
  const r2 = await call(
    handler,
    post("/v1/things/ABCDEFGH", { sn: "ABCDEFGH", kcv: "0123456789" }),
  );
  assertEquals(
    (r2.body.error as Record<string, string>).message,
    "body.kcv must be 6 hex characters (3 bytes), got 10 characters",
  );
});

Deno.test("router: a JSON syntax error does not quote the body (it could hold a key)", async () => {
  const { handler } = makeApp();
  const key = "0123456789ABCDEF0123456789ABCDEF";
  const r = await call(handler, post("/v1/things/ABCDEFGH", `{"kcv":"${key}"`));
  assertEquals(r.body, {
    error: { code: "invalid_json", message: "request body is not valid JSON" },
  });
});

Deno.test("router: 405 carries Allow, 401 carries WWW-Authenticate", async () => {
  const { handler } = makeApp();
  const r = await call(handler, new Request(base + "/v1/things/ABCDEFGH", { method: "DELETE" }));
  assertEquals(r.headers.get("allow"), "POST, GET, HEAD");
  const u = await call(handler, new Request(base + "/v1/things/ABCDEFGH"));
  assertEquals(u.headers.get("www-authenticate"), OPERATOR_SCHEME);
});

Deno.test("router: a good request reaches the handler with parsed params and body", async () => {
  const { handler } = makeApp();
  const r = await call(handler, post("/v1/things/ABCDEFGH", { sn: "ZZZZZZZZ", kcv: "A1B2C3" }));
  assertEquals(r.status, 201);
  assertEquals(r.body, { sn: "ABCDEFGH", kcv: "A1B2C3" });
  const g = await call(
    handler,
    new Request(base + "/v1/things/ABCDEFGH", {
      headers: {
        authorization: await operatorAuthorization(
          TOKEN,
          "GET",
          base + "/v1/things/ABCDEFGH",
          undefined,
        ),
      },
    }),
  );
  assertEquals(g.body, { sn: "ABCDEFGH" });
});

Deno.test("router: an unexpected error is a 500 with a fixed message; the log has it redacted", async () => {
  const { handler, lines } = makeApp();
  const r = await call(handler, post("/v1/things/CRASH0001", { sn: "ABCDEFGH", kcv: "A1B2C3" }));
  assertEquals(
    (r.body.error as Record<string, string>).message,
    "internal error; the server log has the detail",
  );
  const all = lines.join("\n");
  assert(all.includes("http.unexpected"));
  assert(all.includes("boom [redacted 32 hex]"));
  assertFalse(all.includes("0123456789ABCDEF0123456789ABCDEF"));
});

Deno.test("router: /healthz and /openapi.json", async () => {
  const { handler } = makeApp();
  const h = await call(handler, new Request(base + "/healthz"));
  assertEquals(h.status, 200);
  assertEquals(h.body.status, "ok");
  const down = await call(makeApp(false).handler, new Request(base + "/healthz"));
  assertEquals(down.status, 503);
  const o = await call(handler, new Request(base + "/openapi.json"));
  assertEquals(o.body.openapi, "3.1.0");
  const paths = o.body.paths as Record<string, Record<string, Record<string, unknown>>>;
  assertEquals(Object.keys(paths["/v1/things/{sn}"]).sort(), ["get", "post"]);
  assertEquals(paths["/v1/things/{sn}"].get.security, [{ operatorToken: [] }]);
  const rb = paths["/v1/things/{sn}"].post.requestBody as Record<string, unknown>;
  const schema = (rb.content as Record<string, Record<string, Record<string, unknown>>>)[
    "application/json"
  ].schema;
  assertEquals(schema.additionalProperties, false);
  assertEquals(schema.required, ["sn", "kcv"]);
  assertEquals(
    (schema.properties as Record<string, Record<string, unknown>>).kcv.pattern,
    "^[0-9A-F]{6}$",
  );
  const p = await call(handler, new Request(base + "/openapi.json", { method: "POST" }));
  assertEquals(p.status, 405);
});

Deno.test("router: route table refuses a path parameter without schema and duplicate routes", () => {
  let err: unknown;
  try {
    route({
      method: "GET",
      path: "/v1/x/:id",
      operationId: "x",
      summary: "x",
      access: "public",
      responses: {},
      handler: () => Promise.resolve(json(200, {})),
    });
  } catch (e) {
    err = e;
  }
  assert(err instanceof RangeError);
  assertEquals((err as Error).message, "route /v1/x/:id: path parameter :id has no schema");
});

Deno.test("log: redact removes hex runs of 32+ digits, either case, keeps shorter ones", () => {
  assertEquals(
    redact("kcv A1B2C3 key 0123456789abcdef0123456789ABCDEF!"),
    "kcv A1B2C3 key [redacted 32 hex]!",
  );
  assertEquals(redact("0123456789ABCDEF0123456789ABCDE"), "0123456789ABCDEF0123456789ABCDE");
});

Deno.test("log: every line is JSON, each string field as redact makes it, no 32-digit run", () => {
  // Control characters and lone surrogates are written as \\uXXXX escapes, whose digits
  // sit next to the hex that follows them in the line.
  const char = fc.constantFrom(
    "A",
    "f",
    "0",
    "9",
    "x",
    '"',
    "\\",
    "\u0001",
    "\u001f",
    "\ud800",
    "\udc00",
    "é",
  );
  // Runs of 28 to 33 digits: under 32 alone, 32 or more with an escape's four before them.
  const run = fc.integer({ min: 28, max: 33 }).map((n) => "0123456789abcdef".repeat(3).slice(0, n));
  const text = fc.array(fc.oneof(char, run), { maxLength: 12 }).map((a) => a.join(""));
  let escapesBeforeHex = 0;
  fc.assert(
    fc.property(text, text, (a, b) => {
      const { logger, lines } = memoryLogger();
      logger.log("info", "t.event", { a, b });
      const parsed = JSON.parse(lines[0]);
      assertEquals([parsed.a, parsed.b], [redact(a), redact(b)]);
      assertFalse(/[0-9A-Fa-f]{32,}/.test(`${parsed.a}\n${parsed.b}`), lines[0]);
      // deno-lint-ignore no-control-regex -- it counts the inputs with control characters
      if (/[\u0000-\u001f\ud800-\udfff][0-9A-Fa-f]{28,31}(?![0-9A-Fa-f])/.test(a + b)) {
        escapesBeforeHex++;
      }
    }),
    { numRuns: 2000 },
  );
  assert(escapesBeforeHex > 20, `only ${escapesBeforeHex} inputs put an escape before hex`);
});

Deno.test("router: the same answers over a real socket", async () => {
  const { handler } = makeApp();
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    handler,
  );
  const srv = { url: `http://127.0.0.1:${server.addr.port}` };
  try {
    for (const [name, make, status, code] of CASES) {
      if (name.startsWith("oversized body (streamed")) continue; // needs a duplex body; covered in-process
      const req = await make();
      const url = srv.url + new URL(req.url).pathname;
      const res = await fetch(url, {
        method: req.method,
        headers: req.headers,
        body: req.body ? await req.arrayBuffer() : undefined,
      });
      const b = await res.json();
      assertEquals(res.status, status, name);
      if (code) assertEquals(b.error.code, code, name);
    }
  } finally {
    ac.abort();
    await server.finished;
  }
});

Deno.test("serveHandler: binds a free loopback port and shuts down", async () => {
  const { handler } = makeApp();
  const srv = serveHandler(handler, { port: 0 });
  const res = await fetch(srv.url + "/healthz");
  assertEquals((await res.json()).status, "ok");
  await srv.shutdown();
});

Deno.test("router: operator requests are single-use, bound to method, path, body and time", async () => {
  const nonces = new Set<string>();
  let clock = new Date("2026-11-23T12:00:00Z");
  let reached = 0;
  const handler = createHandler({
    title: "test",
    version: "1",
    log: memoryLogger().logger,
    operatorToken: TOKEN,
    now: () => clock,
    rememberOperatorNonce: (nonce) => {
      if (nonces.has(nonce)) return Promise.resolve(false);
      nonces.add(nonce);
      return Promise.resolve(true);
    },
    routes: [
      route({
        method: "POST",
        path: "/v1/things/:sn/unlock",
        operationId: "unlockThing",
        summary: "unlock",
        access: "operator",
        params: { sn: SN },
        body,
        responses: { 200: { description: "ok" } },
        handler: (_req, { params }) => {
          reached++;
          return Promise.resolve(json(200, { sn: params.sn }));
        },
      }),
    ],
  });
  const url = base + "/v1/things/ABCDEFGH/unlock";
  const text = JSON.stringify({ sn: "ABCDEFGH", kcv: "A1B2C3" });
  const send = (auth: string, b = text, u = url) =>
    handler(
      new Request(u, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: auth },
        body: b,
      }),
    );
  const codeOf = async (r: Response) => [r.status, (await r.json()).error?.code];
  const sign = (o: { method?: string; u?: string; b?: string; now?: Date; secret?: string } = {}) =>
    signOperatorRequest(o.secret ?? TOKEN, {
      method: o.method ?? "POST",
      url: o.u ?? url,
      body: new TextEncoder().encode(o.b ?? text),
    }, { now: o.now ?? clock });

  const good = await sign();
  assertEquals(await codeOf(await send(good)), [200, undefined]);
  // The same request again, then 20 copies at once: all refused.
  assertEquals(await codeOf(await send(good)), [401, "request_replayed"]);
  const copies = await Promise.all(Array.from({ length: 20 }, () => send(good)));
  for (const c of copies) assertEquals(await codeOf(c), [401, "request_replayed"]);
  // 20 copies of a fresh request at once: exactly one reaches the handler.
  const fresh = await sign();
  const at = await Promise.all(Array.from({ length: 20 }, () => send(fresh).then(codeOf)));
  assertEquals(at.filter(([s]) => s === 200).length, 1);
  assertEquals(at.filter(([, c]) => c === "request_replayed").length, 19);
  assertEquals(reached, 2);

  // A signature over something else: the body, the path, the method, another secret.
  const other = JSON.stringify({ sn: "ABCDEFGH", kcv: "FFFFFF" });
  assertEquals(await codeOf(await send(await sign(), other)), [401, "unauthorized"]);
  assertEquals(
    await codeOf(await send(await sign(), text, base + "/v1/things/ZZZZZZZZ/unlock")),
    [401, "unauthorized"],
  );
  assertEquals(await codeOf(await send(await sign({ method: "PUT" }))), [401, "unauthorized"]);
  assertEquals(
    await codeOf(await send(await sign({ secret: "another-operator-secret" }))),
    [401, "unauthorized"],
  );
  // Outside the time window either way; inside it at the edge.
  const skewed = (s: number) => new Date(clock.getTime() + s * 1000);
  assertEquals(
    await codeOf(await send(await sign({ now: skewed(-OPERATOR_WINDOW_S - 2) }))),
    [401, "request_expired"],
  );
  assertEquals(
    await codeOf(await send(await sign({ now: skewed(OPERATOR_WINDOW_S + 2) }))),
    [401, "request_expired"],
  );
  assertEquals(
    await codeOf(await send(await sign({ now: skewed(-OPERATOR_WINDOW_S + 1) }))),
    [200, undefined],
  );
  // Malformed headers.
  for (
    const h of [
      "",
      `${OPERATOR_SCHEME} ts=1,nonce=00,sig=00`,
      good.replace("sig=", "sig=0"),
      good.toUpperCase(),
      good.replace(",", ", "),
    ]
  ) {
    assertEquals(await codeOf(await send(h)), [401, "unauthorized"], h);
  }
  // The refusal of a replay holds after the clock moves on (the nonce is kept for the window).
  clock = skewed(OPERATOR_WINDOW_S - 1);
  assertEquals(await codeOf(await send(fresh)), [401, "request_replayed"]);
  assertEquals(reached, 3);
});

Deno.test("router: operator routes need a secret of 16 characters and a nonce store", () => {
  const r = route({
    method: "GET",
    path: "/v1/x",
    operationId: "x",
    summary: "x",
    access: "operator",
    responses: { 200: { description: "ok" } },
    handler: () => Promise.resolve(json(200, {})),
  });
  const log = memoryLogger().logger;
  const remember = () => Promise.resolve(true);
  assertThrows(
    () =>
      createHandler({
        title: "t",
        version: "1",
        log,
        routes: [r],
        rememberOperatorNonce: remember,
      }),
    RangeError,
    "operatorToken is required: the route table has operator routes",
  );
  assertThrows(
    () =>
      createHandler({
        title: "t",
        version: "1",
        log,
        routes: [r],
        operatorToken: "short",
        rememberOperatorNonce: remember,
      }),
    RangeError,
    "operatorToken must be at least 16 characters, got 5",
  );
  assertThrows(
    () => createHandler({ title: "t", version: "1", log, routes: [r], operatorToken: TOKEN }),
    RangeError,
    "rememberOperatorNonce is required: operator requests are single-use",
  );
});

Deno.test("router: each path reaches the first route whose URLPattern matches it", async () => {
  const ID = text(/^[a-z0-9]{0,8}$/, "0-8 lowercase letters or digits");
  const paths = [
    "/v1/things/:id",
    "/v1/things/:id/parts",
    "/v1/plain",
    "/v1/plain.json",
    "/v1/opt{/:id}?",
    "/v1/files/*",
    "/v1/grp(a|b)x",
    "/:id/top",
    "/v1/deep/:id?",
    "/v1/dot.:id",
    "/v1/star*",
  ];
  const routes = paths.map((path, i) =>
    route({
      method: "GET",
      path,
      operationId: `r${i}`,
      summary: path,
      access: "public",
      params: path.includes(":id") ? { id: ID } : undefined,
      responses: { 200: { description: "ok" } },
      handler: () => Promise.resolve(json(200, { route: i })),
    })
  );
  const { logger } = memoryLogger();
  const handler = createHandler({ title: "t", version: "1", log: logger, routes });
  const requests = [
    "/v1/things/abc",
    "/v1/things/abc/parts",
    "/v1/things/",
    "/v1/thing/abc",
    "/v1/plain",
    "/v1/plain/",
    "/v1/plainx",
    "/v1/plain.json",
    "/v1/opt",
    "/v1/opt/k9",
    "/v1/optk9",
    "/v1/files/a/b/c",
    "/v1/files",
    "/v1/grpax",
    "/v1/grpbx",
    "/v1/grpcx",
    "/v2/top",
    "/v1/Plain",
    "/v1/th%69ngs/abc",
    "/v1/deep",
    "/v1/deep/z",
    "/v1/deep/",
    "/v1/dot.k",
    "/v1/dot",
    "/v1/star",
    "/v1/starry/night",
  ];
  for (const path of requests) {
    const want = paths.findIndex((p) => new URLPattern({ pathname: p }).test({ pathname: path }));
    const r = await call(handler, new Request(base + path));
    if (want < 0) assertEquals(r.status, 404, path);
    else assertEquals([r.status, r.body.route], [200, want], path);
  }
});
