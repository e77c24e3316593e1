/**
 * What an outsider can learn from refusals: an operator request naming an
 * operator nobody enrolled and one with a wrong signature for an enrolled
 * operator get the same answer (the precise reason only in the server log);
 * a disabled operator is named only to a request its key signed; failed
 * authentications from one source are held off like the device routes'
 * (429 with Retry-After, ending on its own); flow B's S1 for a flow A
 * terminal keeps its 409 without naming the production order.
 */
import { assert, assertEquals, assertFalse, assertStringIncludes } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import {
  generateOperatorKey,
  importOperatorKey,
  signOperatorRequestWithKey,
} from "../../src/protocol/operator_key.ts";
import type { OperatorRecord } from "../../src/store/mod.ts";
import { createHandler, json, memoryLogger, route } from "../../servers/_lib/mod.ts";
import { setRequestSource } from "../../servers/_lib/listener.ts";
import { OperatorGate } from "../../servers/_lib/operator_gate.ts";
import { call, makePki, makeWorld } from "../flow_b/_world.ts";

const base = "http://kms.test";
const TOKEN = "s3cret-operator-token";

async function operator(id: string, disabled = false) {
  const k = await generateOperatorKey();
  const record: OperatorRecord = {
    id,
    name: `Operator ${id}`,
    role: "operator",
    publicKey: k.publicKey,
    createdAt: "2026-11-23T12:00:00.000Z",
    createdBy: "admin",
    disabledAt: disabled ? "2026-11-23T12:00:00.000Z" : null,
    disabledBy: disabled ? "admin" : null,
  };
  return { record, key: (await importOperatorKey(k.privateKeyPem)).privateKey };
}

async function app() {
  const alice = await operator("alice");
  const dave = await operator("dave", true);
  const mallory = await operator("mallory");
  const book = new Map([alice, dave].map((o) => [o.record.id, o.record]));
  const store = {
    getOperator: (id: string) => Promise.resolve(book.get(id) ?? null),
    countOperators: () => Promise.resolve(book.size),
    appendAudit: () => Promise.resolve(),
  };
  let clock = new Date("2026-11-23T12:00:00Z");
  const nonces = new Set<string>();
  const gate = new OperatorGate({
    token: TOKEN,
    rememberNonce: (n) => Promise.resolve(!nonces.has(n) && !!nonces.add(n)),
    store: store as unknown as ConstructorParameters<typeof OperatorGate>[0]["store"],
    now: () => clock,
  });
  const { logger, lines } = memoryLogger();
  const handler = createHandler({
    title: "t",
    version: "1",
    log: logger,
    operators: gate,
    now: () => clock,
    routes: [
      route({
        method: "GET",
        path: "/v1/operators",
        operationId: "listOperators",
        summary: "list",
        access: "operator",
        responses: { 200: { description: "ok" } },
        handler: () => Promise.resolve(json(200, { ok: true })),
      }),
    ],
  });
  /** A request signed by `key` naming operator `id`, from `source` (none: in process). */
  const send = async (id: string, key: CryptoKey, source?: string) => {
    const url = `${base}/v1/operators`;
    const authorization = await signOperatorRequestWithKey(key, id, {
      method: "GET",
      url,
      body: new Uint8Array(),
    }, { now: clock });
    const req = new Request(url, { headers: { authorization } });
    if (source) setRequestSource(req, source);
    const res = await handler(req);
    return {
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: await res.json(),
    };
  };
  return {
    send,
    lines,
    keys: { alice: alice.key, dave: dave.key, mallory: mallory.key },
    advance: (ms: number) => (clock = new Date(clock.getTime() + ms)),
  };
}

Deno.test("operator auth: an unknown operator and a wrong signature get one answer; the log tells them apart", async () => {
  const t = await app();
  const unknown = await t.send("nobody", t.keys.mallory);
  const wrong = await t.send("alice", t.keys.mallory);
  assertEquals(unknown.status, 401);
  assertEquals(unknown, wrong);
  assertEquals(unknown.body.error.code, "unauthorized");
  assertFalse(JSON.stringify(unknown).includes("nobody"));
  assertFalse(JSON.stringify(wrong).includes("alice"));
  assertFalse(/enrolled here/.test(unknown.body.error.message));
  // The server log has the precise reason of each.
  const refused = t.lines.map((l) => JSON.parse(l)).filter((l) => l.status === 401);
  assertStringIncludes(refused[0].reason, "operator not enrolled (key=nobody)");
  assertStringIncludes(refused[1].reason, "signature not valid for operator alice");
  // The operator's own key still works.
  assertEquals((await t.send("alice", t.keys.alice)).status, 200);
});

Deno.test("operator auth: a disabled operator is named only to a request its own key signed", async () => {
  const t = await app();
  const forged = await t.send("dave", t.keys.mallory);
  assertEquals(forged, await t.send("nobody", t.keys.mallory));
  const own = await t.send("dave", t.keys.dave);
  assertEquals([own.status, own.body.error.code], [401, "operator_disabled"]);
});

Deno.test("operator auth: failures from one source are held off, with Retry-After, and it ends", async () => {
  const t = await app();
  const from = "203.0.113.9";
  for (let i = 0; i < 5; i++) {
    assertEquals((await t.send(`nobody${i}`, t.keys.mallory, from)).status, 401, `try ${i}`);
  }
  assertEquals((await t.send("alice", t.keys.mallory, from)).status, 401);
  // Held off: refused before any check, even a good signature, while another source goes on.
  const held = await t.send("nobody", t.keys.mallory, from);
  assertEquals([held.status, held.body.error.code], [429, "rate_limited"]);
  assertEquals(held.headers["retry-after"], "1");
  assertEquals((await t.send("alice", t.keys.alice, from)).status, 429);
  assertEquals((await t.send("alice", t.keys.alice, "198.51.100.7")).status, 200);
  // The hold-off ends on its own: the operator's request then passes.
  t.advance(1_001);
  assertEquals((await t.send("alice", t.keys.alice, from)).status, 200);
  // A further failure doubles it.
  assertEquals((await t.send("nobody", t.keys.mallory, from)).status, 401);
  const again = await t.send("alice", t.keys.alice, from);
  assertEquals([again.status, again.headers["retry-after"]], [429, "2"]);
});

Deno.test("operator auth: forty unknown operators from one source meet the hold-off", async () => {
  const t = await app();
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) {
    statuses.push((await t.send(`op${i}`, t.keys.mallory, "203.0.113.10")).status);
  }
  assertEquals(statuses.filter((s) => s === 401).length, 6);
  assertEquals(statuses.filter((s) => s === 429).length, 34);
});

Deno.test("flow B S1 for a flow A terminal: 409 flow_a_terminal without the production order", async () => {
  const core = await loadCore("wasm");
  const w = await makeWorld(core, { pki: await makePki(core) });
  try {
    const tk = await w.hsm.generateKey(KEY_TEMPLATES.TK);
    await w.store.importTkBatch({
      orderId: "PO-20261207-0001",
      bodyHash: "00".repeat(32),
      receivedAt: w.clock.date(),
      tks: [{ sn: "SN00000001", tkBlock: tk.keyBlock, tkKcv: tk.kcv, tkHash: "11".repeat(32) }],
    });
    // A well-formed S1 (an outsider's device key need not be valid: the 409 comes first).
    const r = await call(
      w.handler,
      "POST",
      "/v1/terminals/SN00000001/hsm-key",
      await w.s1("SN00000001"),
    );
    assertEquals([r.status, r.body.error?.code], [409, "flow_a_terminal"]);
    const message = r.body.error!.message;
    assertFalse(message.includes("PO-20261207-0001"), message);
    assert(message.includes("flow A"), message);
  } finally {
    await w.close();
  }
});
