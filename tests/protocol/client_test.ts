/** The client side of the wire: callJson against a real route table. */
import { assertEquals, assertRejects } from "@std/assert";
import { createHandler, json, memoryLogger, route } from "../../servers/_lib/mod.ts";
import {
  callJson,
  type Exchange,
  hex,
  object,
  RemoteError,
  UpstreamError,
  ValidationError,
} from "../../src/protocol/mod.ts";
import { StoreError } from "../../src/store/mod.ts";

const Kcv = object({ kcv: hex(3, "KCV") }, "a KCV");
const handler = createHandler({
  title: "t",
  version: "1",
  log: memoryLogger().logger,
  routes: [
    route({
      method: "POST",
      path: "/v1/echo",
      operationId: "echo",
      summary: "echo",
      access: "public",
      body: Kcv,
      responses: { 200: { description: "ok", schema: Kcv } },
      handler: (_r, { body }) => {
        if (body.kcv === "000000") throw new UpstreamError("kms_refused", "KMS said no");
        if (body.kcv === "111111") throw new StoreError("conflict", "a row differs");
        if (body.kcv === "222222") throw new StoreError("closed", "closed");
        if (body.kcv === "FFFFFF") return Promise.resolve(json(200, { kcv: "ABC" }));
        return Promise.resolve(json(200, body));
      },
    }),
  ],
});

Deno.test("callJson: parses a good answer and reports each exchange", async () => {
  const seen: Exchange[] = [];
  const r = await callJson(handler, "POST", "http://t/v1/echo", { kcv: "ABCDEF" }, Kcv, {
    observe: (x) => seen.push(x),
  });
  assertEquals(r, { status: 200, body: { kcv: "ABCDEF" } });
  assertEquals(seen[0].requestBody, '{"kcv":"ABCDEF"}');
  assertEquals(seen[0].responseBody, '{"kcv":"ABCDEF"}');
});

Deno.test("callJson: error bodies become RemoteError with the server's status and code", async () => {
  const cases: [string, number, string][] = [
    ["abcdef", 400, "invalid_field"],
    ["000000", 502, "kms_refused"],
    ["111111", 409, "conflict"],
    ["222222", 500, "store_closed"],
  ];
  for (const [kcv, status, code] of cases) {
    const e = await assertRejects(
      () => callJson(handler, "POST", "http://t/v1/echo", { kcv }, Kcv),
      RemoteError,
    );
    assertEquals([e.status, e.code], [status, code], kcv);
  }
});

Deno.test("callJson: an answer that breaks the schema is refused", async () => {
  const e = await assertRejects(
    () => callJson(handler, "POST", "http://t/v1/echo", { kcv: "FFFFFF" }, Kcv),
    ValidationError,
  );
  assertEquals(e.message, "response.kcv must be 6 hex characters (3 bytes), got 3 characters");
});
