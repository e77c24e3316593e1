/**
 * HTTP semantics of the shared router: a JSON body's media type is parsed
 * (type and subtype case-insensitive, exactly `application/json`, the only
 * parameter `charset=utf-8`) and any other is refused with 415; `HEAD` is
 * answered wherever `GET` is, with the GET's status and headers and no
 * body, its handler run once; `Allow` lists `HEAD`.
 */
import { assert, assertEquals, assertFalse } from "@std/assert";
import { createHandler, json, memoryLogger, route } from "../../servers/_lib/mod.ts";
import { isMediaType, parseMediaType } from "../../servers/_lib/router.ts";
import { object, text } from "../../src/protocol/schema.ts";
import { signOperatorRequest } from "../../src/protocol/operator_request.ts";

const TOKEN = "s3cret-operator-token";
const base = "http://x.test";
const NAME = text(/^[a-z]{1,8}$/, "1-8 lowercase letters");
const body = object({ name: NAME }, "thing");

function app() {
  const ran = { get: 0, post: 0, status: 0 };
  const nonces = new Set<string>();
  const handler = createHandler({
    title: "t",
    version: "1",
    log: memoryLogger().logger,
    operatorToken: TOKEN,
    rememberOperatorNonce: (n) => Promise.resolve(!nonces.has(n) && !!nonces.add(n)),
    routes: [
      route({
        method: "POST",
        path: "/v1/things",
        operationId: "postThing",
        summary: "post",
        access: "public",
        body,
        responses: { 201: { description: "made" } },
        handler: (_req, { body }) => {
          ran.post++;
          return Promise.resolve(json(201, body));
        },
      }),
      route({
        method: "GET",
        path: "/v1/things",
        operationId: "listThings",
        summary: "list",
        access: "public",
        responses: { 200: { description: "the things" } },
        handler: () => {
          ran.get++;
          return Promise.resolve(
            new Response(JSON.stringify({ things: ["a"] }), {
              headers: { "content-type": "application/json", "x-count": String(ran.get) },
            }),
          );
        },
      }),
      route({
        method: "GET",
        path: "/v1/status",
        operationId: "status",
        summary: "operator status",
        access: "operator",
        responses: { 200: { description: "ok" } },
        handler: () => {
          ran.status++;
          return Promise.resolve(json(200, { ok: true }));
        },
      }),
    ],
  });
  return { handler, ran };
}

const postAs = (contentType: string | null, b = '{"name":"abc"}') =>
  new Request(base + "/v1/things", {
    method: "POST",
    headers: contentType === null ? {} : { "content-type": contentType },
    body: b,
  });

Deno.test("http: a JSON body's media type is parsed, not prefix-matched; others get 415", async () => {
  const { handler, ran } = app();
  const taken = [
    "application/json",
    "APPLICATION/JSON",
    "Application/Json; charset=utf-8",
    'application/json;charset="UTF-8"',
    "application/json ; charset=utf-8",
  ];
  for (const ct of taken) {
    const r = await handler(postAs(ct));
    assertEquals([r.status, await r.json()], [201, { name: "abc" }], ct);
  }
  const refused = [
    "APPLICATION/JSON-evil",
    "application/json+evil",
    "application/jsonp",
    "application/json/x",
    "application/json;evil",
    "application/json; charset=latin1",
    "application/json; profile=x",
    "application/json x",
    "text/plain",
    "text/json",
    "",
    null,
    "application/json-" + "x".repeat(500),
  ];
  for (const ct of refused) {
    const r = await handler(postAs(ct));
    const b = await r.json();
    assertEquals([r.status, b.error.code], [415, "unsupported_media_type"], String(ct));
    assert(b.error.message.startsWith("content-type must be application/json"), b.error.message);
    assert(b.error.message.length < 200, "the value given is cut");
  }
  assertEquals(ran.post, taken.length);
});

Deno.test("http: parseMediaType follows RFC 9110 (tokens, parameters, quoted strings)", () => {
  assertEquals(parseMediaType('Text/HTML; Charset="a\\"b"; q=1'), {
    essence: "text/html",
    params: new Map([["charset", 'a"b'], ["q", "1"]]),
  });
  for (const v of ["", "json", "a/", "/b", "a/b c", "a/b; =x", "a/b; x", 'a/b; x="y', "a b/c"]) {
    assertEquals(parseMediaType(v), null, v);
  }
  assert(isMediaType("application/x-ndjson; charset=UTF-8", "application/x-ndjson"));
  assertFalse(isMediaType("application/x-ndjsonx", "application/x-ndjson"));
});

Deno.test("http: HEAD answers every GET route with the GET's status and headers, no body", async () => {
  const { handler, ran } = app();
  const get = await handler(new Request(base + "/v1/things"));
  const getBody = await get.text();
  const head = await handler(new Request(base + "/v1/things", { method: "HEAD" }));
  assertEquals(head.status, 200);
  assertEquals(head.headers.get("content-type"), get.headers.get("content-type"));
  assertEquals(head.headers.get("x-count"), "2");
  assertEquals(await head.text(), "");
  assert(getBody.length > 0);
  assertEquals(ran.get, 2, "one handler run per request");

  // An operator GET route: HEAD signed as HEAD, the nonce used once.
  const url = base + "/v1/status";
  const signed = await signOperatorRequest(TOKEN, { method: "HEAD", url, body: new Uint8Array() });
  const h1 = await handler(
    new Request(url, { method: "HEAD", headers: { authorization: signed } }),
  );
  assertEquals([h1.status, await h1.text()], [200, ""]);
  const h2 = await handler(
    new Request(url, { method: "HEAD", headers: { authorization: signed } }),
  );
  assertEquals([h2.status, h2.headers.get("content-type"), await h2.text()], [
    401,
    "application/json",
    "",
  ]);
  assertEquals(ran.status, 1);

  // The built-in routes.
  for (const path of ["/healthz", "/openapi.json"]) {
    const r = await handler(new Request(base + path, { method: "HEAD" }));
    assertEquals([r.status, r.headers.get("content-type"), await r.text()], [
      200,
      "application/json",
      "",
    ], path);
    const p = await handler(new Request(base + path, { method: "POST" }));
    assertEquals([p.status, p.headers.get("allow")], [405, "GET, HEAD"], path);
    await p.body?.cancel();
  }
  // Errors to a HEAD: their status, no body.
  const missing = await handler(new Request(base + "/v1/nothing", { method: "HEAD" }));
  assertEquals([missing.status, await missing.text()], [404, ""]);
});

Deno.test("http: Allow lists HEAD wherever GET is; HEAD elsewhere is 405", async () => {
  const { handler } = app();
  const put = await handler(new Request(base + "/v1/things", { method: "PUT" }));
  assertEquals([put.status, put.headers.get("allow")], [405, "POST, GET, HEAD"]);
  await put.body?.cancel();
  const postOnly = createHandler({
    title: "t",
    version: "1",
    log: memoryLogger().logger,
    routes: [
      route({
        method: "POST",
        path: "/v1/x",
        operationId: "x",
        summary: "x",
        access: "public",
        responses: { 200: { description: "ok" } },
        handler: () => Promise.resolve(json(200, {})),
      }),
    ],
  });
  const head = await postOnly(new Request(base + "/v1/x", { method: "HEAD" }));
  assertEquals([head.status, head.headers.get("allow"), await head.text()], [405, "POST", ""]);
});

Deno.test("http: HEAD over a real socket gets the GET's headers and no body", async () => {
  const { handler } = app();
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    handler,
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/v1/things`;
    const r = await fetch(url, { method: "HEAD" });
    assertEquals([r.status, r.headers.get("content-type"), await r.text()], [
      200,
      "application/json",
      "",
    ]);
    const c = await fetch(url, { method: "POST", headers: { "content-type": "text/plain" } });
    assertEquals([c.status, (await c.json()).error.code], [415, "unsupported_media_type"]);
  } finally {
    ac.abort();
    await server.finished;
  }
});
