/**
 * The console's inputs, without a browser: every route that takes a JSON
 * body refuses a wrong type, a missing and an unknown field with a 400
 * naming the field (the API's codes: `invalid_field`, `missing_field`,
 * `unknown_field`) and does nothing; an action that takes no fields
 * refuses any; and a live-update stream of a malformed or unknown order is
 * a JSON 400 or 404 before any stream starts.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { type ConsoleServers, LOGINS, startConsoleServers } from "./_servers.ts";

type Login = (typeof LOGINS)[number]["id"];

/** A minimal client: keeps the cookie and CSRF token of one session. */
class Client {
  cookie = "";
  csrf = "";
  constructor(readonly base: string) {}
  async call(method: string, path: string, body?: unknown) {
    const h: Record<string, string> = {};
    if (this.cookie) h.cookie = this.cookie;
    if (method === "POST") {
      h["content-type"] = "application/json";
      h["x-csrf-token"] = this.csrf;
    }
    const r = await fetch(`${this.base}/console/api${path}`, {
      method,
      headers: h,
      body: method === "POST"
        ? (typeof body === "string" ? body : JSON.stringify(body))
        : undefined,
    });
    const text = await r.text();
    const json = r.headers.get("content-type") === "application/json";
    return { status: r.status, headers: r.headers, body: json && text ? JSON.parse(text) : text };
  }
  async login(id: Login): Promise<this> {
    const l = LOGINS.find((x) => x.id === id)!;
    const r = await this.call("POST", "/login", { id, password: l.password });
    assertEquals(r.status, 200, JSON.stringify(r.body));
    this.cookie = r.headers.get("set-cookie")!.split(";")[0];
    this.csrf = r.body.csrf;
    return this;
  }
}

/** Expects a 400 with `code` whose message matches `message`. */
async function refused(
  c: Client,
  path: string,
  body: unknown,
  code: string,
  message: RegExp,
): Promise<void> {
  const r = await c.call("POST", path, body);
  const what = `${path} ${typeof body === "string" ? body : JSON.stringify(body)}`;
  assertEquals([r.status, r.body?.error?.code], [400, code], `${what}: ${JSON.stringify(r.body)}`);
  assertMatch(r.body.error.message, message, what);
}

/** The bodies every action without fields refuses: not an object, or with a field. */
async function refusesFields(c: Client, path: string): Promise<void> {
  await refused(c, path, [], "invalid_field", /^body must be an object, got an array$/);
  await refused(c, path, "1", "invalid_field", /^body must be an object, got a number$/);
  await refused(c, path, { extra: 1 }, "unknown_field", /"extra"/);
  await refused(c, path, '{"__proto__":{}}', "unknown_field", /"__proto__"/);
}

const GOOD = { orderId: "PO-T0", prefix: "ZZ", first: 1, count: 1, digits: 8 };

async function withServers(fn: (s: ConsoleServers) => Promise<void>): Promise<void> {
  const s = await startConsoleServers();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

Deno.test("console create-order: wrong types, missing and unknown fields are refused", async () => {
  await withServers(async (s) => {
    const olga = await new Client(s.mtms.url).login("olga");
    const bad: [Record<string, unknown>, string, RegExp][] = [
      [{ first: "1e0", count: true, digits: "0x8" }, "invalid_field", /first must be an integer/],
      [{ first: [] }, "invalid_field", /first must be an integer, got an array/],
      [{ count: [2] }, "invalid_field", /count must be an integer, got an array/],
      [{ count: true }, "invalid_field", /count must be an integer, got a boolean/],
      [{ digits: " 8 " }, "invalid_field", /digits must be an integer, got a string/],
      [{ digits: "0x8" }, "invalid_field", /digits must be an integer, got a string/],
      [{ prefix: 12 }, "invalid_field", /prefix must be a string, got a number/],
      [{ orderId: ["PO-T1"] }, "invalid_field", /orderId must be a string, got an array/],
      [{ extra: 1 }, "unknown_field", /unknown field "extra"/],
      [{ orderId: undefined }, "missing_field", /orderId is required/],
      [{ count: undefined }, "missing_field", /count is required/],
    ];
    for (const [change, code, message] of bad) {
      await refused(olga, "/orders", { ...GOOD, orderId: "PO-T1", ...change }, code, message);
    }
    const proto = JSON.stringify({ ...GOOD, orderId: "PO-T1" }).replace("{", '{"__proto__":{},');
    await refused(olga, "/orders", proto, "unknown_field", /unknown field "__proto__"/);
    await refused(olga, "/orders", [GOOD], "invalid_field", /^body must be an object/);
    await refused(olga, "/orders", "8", "invalid_field", /^body must be an object/);
    assertEquals(await s.mtmsStore.getOrder("PO-T1"), null, "nothing created");
    const asked = await s.mtmsStore.listAudit({ event: "order_create_requested", limit: 10 });
    assertEquals(asked.length, 0);
    // The same form with the right types creates the order.
    const ok = await olga.call("POST", "/orders", GOOD);
    assertEquals(ok.status, 201, JSON.stringify(ok.body));
    assertEquals((await s.mtmsStore.countCollected("PO-T0")).terminals, 1);
  });
});

Deno.test("console actions without fields refuse a body with any", async () => {
  await withServers(async (s) => {
    const olga = await new Client(s.mtms.url).login("olga");
    assertEquals((await olga.call("POST", "/orders", GOOD)).status, 201);
    await refusesFields(olga, "/orders/PO-T0/transfer");
    assertEquals((await olga.call("GET", "/orders/PO-T0")).body.transfer, null);
    assertEquals((await s.mtmsStore.listAudit({ event: "transfer_started", limit: 1 })).length, 0);

    const kms = await new Client(s.kms.url).login("olga");
    await refusesFields(kms, "/orders/PO-T0/issue");
    await refusesFields(kms, "/terminals/FB00000001/unlock");
    assertEquals((await kms.call("GET", "/lockouts")).body.requests, []);
    const sam = await new Client(s.kms.url).login("sam");
    await refusesFields(sam, `/unlocks/${crypto.randomUUID()}/approve`);
    await refused(sam, "/unlocks/x/approve", {}, "invalid_field", /^id must be an approval id/);
  });
});

Deno.test("console ceremony forms: wrong types and unknown fields are refused", async () => {
  await withServers(async (s) => {
    const cora = await new Client(s.kms.url).login("cora");
    const component = "11".repeat(32);
    const forms: [string, unknown, string, RegExp][] = [
      ["/ceremony/components", { component: 11, kcv: "ABCDEF" }, "invalid_field", /component must/],
      ["/ceremony/components", { component: [component], kcv: "ABCDEF" }, "invalid_field", /comp/],
      ["/ceremony/components", { component, kcv: 123456 }, "invalid_field", /kcv must be a string/],
      ["/ceremony/components", { component, kcv: "ABCDEF", x: 1 }, "unknown_field", /"x"/],
      ["/ceremony/components", { kcv: "ABCDEF" }, "missing_field", /component is required/],
      ["/ceremony/components", [component], "invalid_field", /^body must be an object/],
      ["/ceremony/combine", { expectedKcv: 123456 }, "invalid_field", /expectedKcv must be a str/],
      ["/ceremony/combine", { expectedKcv: "", x: 1 }, "unknown_field", /"x"/],
      ["/ceremony/combine", { expectedKcv: "not hex" }, "invalid_kcv", /expected KCV is 3 to 16/],
      ["/ceremony/combine", [], "invalid_field", /^body must be an object/],
    ];
    for (const [path, body, code, message] of forms) {
      await refused(cora, path, body, code, message);
    }
    const r = await cora.call("POST", "/ceremony/components", { component: 11, kcv: "ABCDEF" });
    assert(!JSON.stringify(r.body).includes("11"), "a component is never echoed");
    const view = await cora.call("GET", "/ceremony");
    assertEquals([view.body.entered, view.body.records], [[], []], "nothing kept");
  });
});

Deno.test("console event streams: a bad order id is a JSON 400 or 404, not a stream", async () => {
  await withServers(async (s) => {
    for (const base of [s.mtms.url, s.kms.url]) {
      const c = await new Client(base).login("olga");
      for (const [id, status, code] of [["PO-NOPE", 404, "unknown_order"], ["%00", 400, ""]]) {
        const r = await c.call("GET", `/orders/${id}/events`);
        const what = `${base} ${id}: ${JSON.stringify(r.body)}`;
        assertEquals(r.status, status, what);
        assertEquals(r.headers.get("content-type"), "application/json", what);
        if (code) assertEquals(r.body.error.code, code, what);
        else assertMatch(r.body.error.message, /^orderId must be an order id/, what);
      }
      // A good stream still starts with the figures.
      const res = await fetch(`${base}/console/api/dashboard/events`, {
        headers: { cookie: c.cookie },
      });
      assertEquals([res.status, res.headers.get("content-type")], [200, "text/event-stream"]);
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      assertMatch(first, /^event: figures\ndata: \{/);
      await reader.cancel();
    }
  });
});
