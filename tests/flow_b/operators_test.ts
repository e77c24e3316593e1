/**
 * Operators at the API of a KMS with flow B: the bootstrap administrator
 * acts alone only until an operator is enrolled; each role is refused (403
 * naming the roles needed) on every operator route it may not call; an
 * unlock waits for a second operator (a supervisor other than the one who
 * asked), runs once, and is refused when approved by its requester, by a
 * role that may not approve it, twice, or after it expired; a disabled
 * operator, an unknown one and a replayed request are refused; every audit
 * record of an operator's request names that operator and the chain
 * verifies. Real store, HSM, flow B service and router; the test's clock.
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import {
  generateOperatorKey,
  importOperatorKey,
  signOperatorRequestWithKey,
} from "../../src/protocol/operator_key.ts";
import { signOperatorRequest } from "../../src/protocol/operator_request.ts";
import { createHandler, memoryLogger } from "../../servers/_lib/mod.ts";
import { openOperatorLayer } from "../../servers/_lib/operator_layer.ts";
import { withFlowB } from "../../servers/kms/flow_b_routes.ts";
import { makePki, makeWorld } from "./_world.ts";

const core = await loadCore("wasm");
const pki = await makePki(core);
const enc = new TextEncoder();

type Answer = {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
};

async function setup() {
  const w = await makeWorld(core, { pki });
  const layer = openOperatorLayer({
    store: w.store,
    hsm: w.hsm,
    token: w.token,
    actor: "kms",
    now: w.clock.date,
  });
  const handler = createHandler({
    title: "KMS",
    version: "test",
    routes: [...withFlowB([], w.service), ...layer.routes],
    operators: layer.gate,
    log: memoryLogger().logger,
    now: w.clock.date,
  });
  const keys = new Map<string, CryptoKey>();
  const signed = async (who: string, method: string, path: string, body?: unknown) => {
    const url = `http://kms.test${path}`;
    const text = body === undefined ? "" : JSON.stringify(body);
    const parts = { method, url, body: enc.encode(text) };
    const authorization = who === "admin"
      ? await signOperatorRequest(w.token, parts, { now: w.clock.date() })
      : await signOperatorRequestWithKey(keys.get(who) ?? keys.get("mallory")!, who, parts, {
        now: w.clock.date(),
      });
    const headers: Record<string, string> = { authorization };
    if (body !== undefined) headers["content-type"] = "application/json";
    return new Request(url, { method, headers, body: body === undefined ? undefined : text });
  };
  const send = async (req: Request): Promise<Answer> => {
    const r = await handler(req);
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : {} };
  };
  const as = async (who: string, method: string, path: string, body?: unknown) =>
    await send(await signed(who, method, path, body));
  /** Enrolls an operator: the admin asks, `approver` approves (none while bootstrapping). */
  const enroll = async (id: string, role: string, approver?: string) => {
    const k = await generateOperatorKey();
    keys.set(id, (await importOperatorKey(k.privateKeyPem)).privateKey);
    const asked = await as("admin", "POST", "/v1/operators", {
      id,
      name: `Operator ${id}`,
      role,
      publicKey: k.publicKey,
    });
    if (approver === undefined) return asked;
    assertEquals(asked.status, 202, `enrolling ${id} waits for approval`);
    return await as(approver, "POST", `/v1/approvals/${asked.body.approvalId}/approve`);
  };
  /** A flow B terminal locked out by three failed authentications. */
  const locked = async (sn: string) => {
    await w.store.registerTerminal(sn, w.clock.date());
    for (let i = 0; i < 3; i++) {
      await w.store.recordAuthFailure(sn, { maxFailures: 3, at: w.clock.date() });
    }
    assert((await w.store.getTerminal(sn))!.lockedAt !== null);
  };
  return {
    w,
    handler,
    as,
    send,
    signed,
    enroll,
    locked,
    keys,
    close: () => w.close(),
  };
}

/** Enrolls bob (supervisor) alone, then alice, carol, dave with bob's approval. */
async function staffed() {
  const t = await setup();
  assertEquals((await t.enroll("bob", "supervisor")).status, 201);
  for (const [id, role] of [["alice", "operator"], ["carol", "auditor"], ["dave", "custodian"]]) {
    assertEquals((await t.enroll(id, role, "bob")).status, 201, id);
  }
  return t;
}

Deno.test("operators: the bootstrap administrator acts alone only until an operator exists", async () => {
  const t = await setup();
  try {
    // No operator yet: the admin holds every role; the first enrolment runs alone (audited).
    assertEquals((await t.as("admin", "GET", "/v1/audit/verify")).status, 200);
    const bob = await t.enroll("bob", "supervisor");
    assertEquals([bob.status, bob.body.role, bob.body.createdBy], [201, "supervisor", "admin"]);
    const waived = await t.w.store.listAudit({ limit: 100, event: "dual_control_waived" });
    assertEquals(waived.length, 1);
    // Now the admin is a supervisor: the next enrolment needs bob; auditing is not its role.
    const alice = await t.enroll("alice", "operator", "bob");
    assertEquals([alice.status, alice.body.id, alice.body.createdBy], [201, "alice", "admin"]);
    const refused = await t.as("admin", "GET", "/v1/audit/export");
    assertEquals([refused.status, refused.body.error?.code], [403, "role_required"]);
    assertStringIncludes(
      refused.body.error!.message,
      "needs role auditor; operator admin has role supervisor",
    );
    // The id of the bootstrap administrator cannot be taken.
    const k = await generateOperatorKey();
    const taken = await t.enroll("admin", "operator", "bob");
    assertEquals([taken.status, taken.body.error?.code], [400, "invalid_field"]);
    assert(k.publicKey.length === 64);
  } finally {
    await t.close();
  }
});

Deno.test("operators: each role is refused, naming the roles needed, where it must be", async () => {
  const t = await staffed();
  try {
    await t.locked("FBR00001");
    const uuid = crypto.randomUUID();
    const table: [string, string, string[]][] = [
      ["GET", "/v1/terminals/FBR00001", ["operator", "supervisor", "auditor"]],
      ["POST", "/v1/terminals/FBR00001/unlock", ["operator", "supervisor"]],
      ["POST", "/v1/operators", ["supervisor"]],
      ["GET", "/v1/operators", ["supervisor", "auditor"]],
      ["POST", "/v1/operators/alice/disable", ["supervisor"]],
      ["POST", `/v1/approvals/${uuid}/approve`, ["supervisor", "custodian"]],
      ["GET", "/v1/audit/export", ["auditor"]],
      ["GET", "/v1/audit/verify", ["auditor", "supervisor"]],
      ["POST", "/v1/audit/checkpoints", ["auditor", "supervisor"]],
    ];
    const who: Record<string, string> = {
      operator: "alice",
      supervisor: "bob",
      auditor: "carol",
      custodian: "dave",
    };
    let refusals = 0;
    for (const [method, path, allowed] of table) {
      for (const [role, id] of Object.entries(who)) {
        if (allowed.includes(role)) continue;
        const body = path === "/v1/operators" && method === "POST"
          ? { id: "erin", name: "Erin", role: "operator", publicKey: "AB".repeat(32) }
          : undefined;
        const r = await t.as(id, method, path, body);
        assertEquals(
          [r.status, r.body.error?.code],
          [403, "role_required"],
          `${role} ${method} ${path}`,
        );
        assertStringIncludes(r.body.error!.message, `needs role ${allowed.join(" or ")}`);
        assertStringIncludes(r.body.error!.message, `operator ${id} has role ${role}`);
        refusals++;
      }
    }
    assertEquals(refusals, 20);
    // The OpenAPI document shows each route's roles, and which need a second operator.
    const doc = await (await t.handler(new Request("http://kms.test/openapi.json"))).json();
    const unlock = doc.paths["/v1/terminals/{sn}/unlock"].post;
    assertEquals(unlock.security[0], { operatorKey: ["operator", "supervisor"] });
    assertEquals(unlock["x-dual-control"], { approvers: ["supervisor"] });
    assertEquals(doc.paths["/v1/audit/export"].get.security[0], { operatorKey: ["auditor"] });
    // Nothing a refused request asked for happened; each refusal is audited with its operator.
    assertEquals(await t.w.store.getOperator("erin"), null);
    const audited = await t.w.store.listAuditChain({ afterId: 0, limit: 1000 });
    assertEquals(audited.filter((r) => r.event === "access_refused").length, refusals);
    assert(audited.filter((r) => r.event === "access_refused").every((r) => r.operator !== null));
  } finally {
    await t.close();
  }
});

Deno.test("operators: an unlock needs a second supervisor, runs once, and expires", async () => {
  const t = await staffed();
  try {
    for (const sn of ["FBU00001", "FBU00002", "FBU00003"]) await t.locked(sn);
    const asked = await t.as("alice", "POST", "/v1/terminals/FBU00001/unlock");
    assertEquals([asked.status, asked.body.state, asked.body.requestedBy], [
      202,
      "pending",
      "alice",
    ]);
    const id = asked.body.approvalId as string;
    assertMatch(id, /^[0-9a-f-]{36}$/);
    assert((await t.w.store.getTerminal("FBU00001"))!.lockedAt !== null, "still locked");
    // Alice may not approve (not an approver role); dave's role may approve other things, not this.
    const byAlice = await t.as("alice", "POST", `/v1/approvals/${id}/approve`);
    assertEquals([byAlice.status, byAlice.body.error?.code], [403, "role_required"]);
    const byDave = await t.as("dave", "POST", `/v1/approvals/${id}/approve`);
    assertEquals([byDave.status, byDave.body.error?.code], [403, "role_required"]);
    assertStringIncludes(
      byDave.body.error!.message,
      "approving unlockTerminal needs role supervisor",
    );
    // A supervisor who asked may not approve their own request.
    const own = await t.as("bob", "POST", "/v1/terminals/FBU00002/unlock");
    assertEquals(own.status, 202);
    const self = await t.as("bob", "POST", `/v1/approvals/${own.body.approvalId}/approve`);
    assertEquals([self.status, self.body.error?.code], [403, "same_operator"]);
    assert((await t.w.store.getTerminal("FBU00002"))!.lockedAt !== null, "still locked");
    // Bob approves alice's: it runs, once.
    const ran = await t.as("bob", "POST", `/v1/approvals/${id}/approve`);
    assertEquals([ran.status, ran.body.sn, ran.body.unlocked], [200, "FBU00001", "yes"]);
    assertEquals((await t.w.store.getTerminal("FBU00001"))!.lockedAt, null);
    const again = await t.as("admin", "POST", `/v1/approvals/${id}/approve`);
    assertEquals([again.status, again.body.error?.code], [409, "approval_not_pending"]);
    const done = await t.as("bob", "GET", `/v1/approvals/${id}`);
    assertEquals([done.body.state, done.body.approvedBy, done.body.status], ["done", "bob", 200]);
    // An approval past its time is refused and nothing runs.
    const late = await t.as("alice", "POST", "/v1/terminals/FBU00003/unlock");
    t.w.clock.advance(16 * 60_000);
    const expired = await t.as("bob", "POST", `/v1/approvals/${late.body.approvalId}/approve`);
    assertEquals([expired.status, expired.body.error?.code], [409, "approval_expired"]);
    assert((await t.w.store.getTerminal("FBU00003"))!.lockedAt !== null, "still locked");
    // The audit names who asked and who approved; the unlock itself names its requester.
    const chain = await t.w.store.listAuditChain({ afterId: 0, limit: 1000 });
    const of = (event: string) => chain.filter((r) => r.event === event).map((r) => r.operator);
    assertEquals(of("unlock"), ["alice"]);
    assertEquals(chain.find((r) => r.event === "unlock")!.detail, "lifted by alice");
    assertEquals(of("approval_requested").filter((o) => o !== "admin"), ["alice", "bob", "alice"]);
    assertEquals(of("approval_granted").slice(-1), ["bob"]);
    assertEquals(of("approval_refused"), ["bob", "admin", "bob"]);
    const v = await t.as("carol", "GET", "/v1/audit/verify");
    assertEquals([v.status, v.body.ok, v.body.problems], [200, "yes", []]);
  } finally {
    await t.close();
  }
});

Deno.test("operators: disabled, unknown and replayed requests are refused; audit export", async () => {
  const t = await staffed();
  try {
    const asked = await t.as("bob", "POST", "/v1/operators/alice/disable");
    assertEquals(asked.status, 202);
    const ran = await t.as("admin", "POST", `/v1/approvals/${asked.body.approvalId}/approve`);
    assertEquals([ran.status, ran.body.id, typeof ran.body.disabledAt], [200, "alice", "string"]);
    const refused = await t.as("alice", "GET", "/v1/approvals");
    assertEquals([refused.status, refused.body.error?.code], [401, "operator_disabled"]);
    const k = await generateOperatorKey();
    t.keys.set("mallory", (await importOperatorKey(k.privateKeyPem)).privateKey);
    const unknown = await t.as("mallory", "GET", "/v1/approvals");
    assertEquals([unknown.status, unknown.body.error?.code], [401, "unauthorized"]);
    // Carol's key signing as bob: the signature does not verify.
    t.keys.set("bob", t.keys.get("carol")!);
    const forged = await t.as("bob", "GET", "/v1/operators");
    assertEquals([forged.status, forged.body.error?.code], [401, "unauthorized"]);
    // A request sent twice is refused the second time.
    const req = await t.signed("carol", "POST", "/v1/audit/checkpoints");
    const first = await t.send(req.clone());
    assertEquals(first.status, 201);
    const replay = await t.send(req);
    assertEquals([replay.status, replay.body.error?.code], [401, "request_replayed"]);
    // The export: every record with its operator and link, then the checkpoint.
    const page = await t.as("carol", "GET", "/v1/audit/export");
    assertEquals(page.status, 200);
    const pageRecords = page.body.records as { id: number; operator: string | null }[];
    assertEquals(pageRecords.map((r) => r.id), pageRecords.map((_, i) => i + 1));
    assertEquals(page.body.next, null);
    const ndjson = await t.signed("carol", "GET", "/v1/audit/export");
    ndjson.headers.set("accept", "application/x-ndjson");
    const exported = await t.handler(ndjson);
    assertEquals(exported.headers.get("content-type"), "application/x-ndjson");
    const lines = (await exported.text()).trim().split("\n").map((l) => JSON.parse(l));
    const records = lines.filter((l) => l.kind === "record");
    const checkpoints = lines.filter((l) => l.kind === "checkpoint");
    assertEquals(records.map((l) => l.id), records.map((_, i) => i + 1));
    assert(records.every((l) => "operator" in l && "prevHash" in l));
    assertEquals(checkpoints.length, 1);
    assertEquals(checkpoints[0].seq, first.body.seq);
  } finally {
    await t.close();
  }
});
