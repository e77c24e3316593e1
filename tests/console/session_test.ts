/**
 * The console's HTTP side, without a browser: its assets come with a CSP
 * that forbids inline script and the other security headers; a login sets
 * a `Secure; HttpOnly; SameSite=Strict` cookie; a wrong password, a missing
 * or wrong CSRF token, another origin, an idle session, a logged-out
 * session and a role that may not call a route are each refused with their
 * own code; repeated failed logins lock the operator id; logins from one
 * source address are held off before any look-up or hash; an unknown id
 * answers and costs as a known one.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { LOGINS, startConsoleServers } from "./_servers.ts";
import {
  type ConsoleDirectory,
  hashPassword,
  SessionBook,
  staticDirectory,
  UNKNOWN_ID_HASH,
  verifyPassword,
} from "../../servers/_lib/console_auth.ts";

type Login = (typeof LOGINS)[number]["id"];

/** A minimal client: keeps the cookie and CSRF token of one session. */
class Client {
  cookie = "";
  csrf = "";
  constructor(readonly base: string) {}
  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (method === "POST") {
      h["content-type"] ??= "application/json";
      if (this.csrf && !("x-csrf-token" in h)) h["x-csrf-token"] = this.csrf;
    }
    const r = await fetch(`${this.base}/console/api${path}`, {
      method,
      headers: h,
      body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null };
  }
  async login(id: Login) {
    const l = LOGINS.find((x) => x.id === id)!;
    const r = await this.call("POST", "/login", { id, password: l.password });
    assertEquals(r.status, 200, JSON.stringify(r.body));
    this.cookie = r.headers.get("set-cookie")!.split(";")[0];
    this.csrf = r.body.csrf;
    return r;
  }
}

Deno.test("console: argon2id hashes verify only their password", async () => {
  const h = await hashPassword("correct horse battery");
  assertMatch(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert(await verifyPassword("correct horse battery", h));
  assert(!(await verifyPassword("correct horse batterz", h)));
  assert(!(await verifyPassword("correct horse battery", "$2b$10$notargon")));
  assert(h !== await hashPassword("correct horse battery"), "a fresh salt each time");
});

Deno.test("console: sessions expire when idle, end at logout, and lock after failures", async () => {
  let now = 1_000_000;
  const dir = staticDirectory([
    { id: "olga", role: "operator", passwordHash: await hashPassword("olga-pass-1234") },
  ]);
  const book = new SessionBook(dir, { idleMs: 60_000, maxFailures: 3, lockMs: 30_000 }, () => now);
  const a = await book.login("olga", "olga-pass-1234");
  assert(a.ok);
  now += 59_000;
  assert(await book.resume(a.token), "used within the idle time");
  now += 59_000;
  assert(await book.resume(a.token), "the idle clock restarted at each use");
  now += 61_000;
  assertEquals(await book.resume(a.token), null, "idle too long");
  const b = await book.login("olga", "olga-pass-1234");
  assert(b.ok);
  assert(await book.logout(b.token));
  assertEquals(await book.resume(b.token), null, "logged out");
  for (let i = 0; i < 3; i++) {
    assertEquals((await book.login("olga", "wrong-password")).ok, false);
  }
  const locked = await book.login("olga", "olga-pass-1234");
  assertEquals(locked.ok ? "ok" : locked.reason, "locked");
  now += 31_000;
  assert((await book.login("olga", "olga-pass-1234")).ok, "the lock lifts");
  assertEquals((await book.login("nobody", "olga-pass-1234")).ok, false);
});

/** A directory of one operator that counts its look-ups. */
async function countingDirectory(): Promise<{ dir: ConsoleDirectory; finds: () => number }> {
  const inner = staticDirectory([
    { id: "olga", role: "operator", passwordHash: await hashPassword("olga-pass-1234") },
  ]);
  let n = 0;
  return { dir: { find: (id) => (n++, inner.find(id)) }, finds: () => n };
}

Deno.test("console: logins from one source are held off before any look-up or hash", async () => {
  let now = 1_000_000;
  const { dir, finds } = await countingDirectory();
  const book = new SessionBook(
    dir,
    { sourceAttempts: 3, sourceHoldMs: 5_000, maxFailures: 100 },
    () => now,
  );
  for (let i = 0; i < 3; i++) {
    const r = await book.login(`nobody${i}`, "wrong-password", "192.0.2.7");
    assertEquals(r.ok ? "ok" : r.reason, "unknown_operator");
  }
  assertEquals(finds(), 3);
  // Past its attempts, the source is refused, even with the right password, and nothing is
  // looked up (so nothing is hashed).
  for (const [id, password] of [["nobody", "wrong-password"], ["olga", "olga-pass-1234"]]) {
    const r = await book.login(id, password, "192.0.2.7");
    assertEquals(r.ok ? "ok" : r.reason, "throttled");
    assertEquals(!r.ok && r.reason === "throttled" && r.retryAfterMs, 5_000);
  }
  assertEquals(finds(), 3, "no look-up for a held-off source");
  assert((await book.login("olga", "olga-pass-1234", "192.0.2.8")).ok, "another source logs in");
  now += 5_000;
  assert((await book.login("olga", "olga-pass-1234", "192.0.2.7")).ok, "after the hold-off");
  // A success starts the source again from zero: three more attempts go through.
  for (let i = 0; i < 3; i++) {
    const r = await book.login("olga", "wrong-password", "192.0.2.7");
    assertEquals(r.ok ? "ok" : r.reason, "bad_password");
  }
  const held = await book.login("olga", "olga-pass-1234", "192.0.2.7");
  assertEquals(held.ok ? "ok" : held.reason, "throttled");
  assertThrows(() => new SessionBook(dir, { sourceAttempts: 0 }), RangeError, "sourceAttempts");
});

Deno.test("console: an unknown id is verified against a hash of a real one's cost; an impossible id is not looked up", async () => {
  const { dir, finds } = await countingDirectory();
  const book = new SessionBook(dir, { sourceAttempts: 1_000, maxFailures: 1_000 });
  // (Over HTTP both refusals get the same answer: "headers, cookie, CSRF, origin and roles".)
  const expected = { olga: "bad_password", nobody: "unknown_operator" };
  for (const id of ["olga", "nobody", "../not an id"]) {
    for (let i = 0; i < 5; i++) {
      const r = await book.login(id, "wrong-password-1234");
      assertEquals(r.ok ? "ok" : r.reason, expected[id as "olga"] ?? "unknown_operator", id);
    }
  }
  assertEquals(finds(), 10, "an impossible id is not looked up");
  // The hash an unknown id is verified against has the parameters (memory, passes, lanes) of
  // the hashes operators' passwords get, so it costs the same argon2id work.
  const params = (phc: string) => phc.split("$")[3];
  assertEquals(params(UNKNOWN_ID_HASH), params(await hashPassword("any password at all")));
});

Deno.test("console: headers, cookie, CSRF, origin and roles over HTTP", async () => {
  const s = await startConsoleServers();
  try {
    for (const base of [s.kms.url, s.mtms.url]) {
      const page = await fetch(`${base}/console/`);
      assertEquals(page.status, 200);
      await page.body?.cancel();
      const csp = page.headers.get("content-security-policy")!;
      assertMatch(csp, /script-src 'self'(;|$)/);
      assert(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"), csp);
      assertMatch(csp, /frame-ancestors 'none'/);
      assertEquals(page.headers.get("x-content-type-options"), "nosniff");
      assertEquals(page.headers.get("x-frame-options"), "DENY");
      assertEquals(page.headers.get("referrer-policy"), "no-referrer");
      const js = await fetch(`${base}/console/console.js`);
      assertMatch(js.headers.get("content-type")!, /^text\/javascript/);
      await js.body?.cancel();
      const other = await fetch(`${base}/console/../deno.json`);
      assertEquals(other.status, 404);
      await other.body?.cancel();

      const c = new Client(base);
      const none = await c.call("GET", "/session");
      assertEquals([none.status, none.body.operator], [200, null], "no session yet");
      assertEquals((await c.call("GET", "/dashboard")).status, 401);
      const bad = await c.call("POST", "/login", { id: "olga", password: "not-the-password" });
      assertEquals([bad.status, bad.body.error.code], [401, "login_failed"]);
      const unknown = await c.call("POST", "/login", {
        id: "nobody",
        password: "not-the-password",
      });
      assertEquals([unknown.status, unknown.body], [401, bad.body], "an unknown id reads the same");
      const ok = await c.login("olga");
      const cookie = ok.headers.get("set-cookie")!;
      for (const attr of ["Secure", "HttpOnly", "SameSite=Strict", "Path=/console/"]) {
        assert(cookie.split("; ").includes(attr), `${attr} in ${cookie}`);
      }
      assertEquals(ok.body.operator.role, "operator");
      assertEquals(ok.body.pages.map((p: { id: string }) => p.id).includes("audit"), false);
      assertEquals((await c.call("GET", "/session")).status, 200);
      const badEscape = await c.call("GET", "/orders/A%ZZ");
      assertEquals([badEscape.status, badEscape.body.error.code], [400, "invalid_path"]);

      const noCsrf = await c.call("POST", "/ceremony/combine", {}, { "x-csrf-token": "" });
      assertEquals([noCsrf.status, noCsrf.body.error.code], [403, "csrf"]);
      const wrongCsrf = await c.call("POST", "/logout", {}, { "x-csrf-token": "A".repeat(43) });
      assertEquals([wrongCsrf.status, wrongCsrf.body.error.code], [403, "csrf"]);
      const cross = await c.call("POST", "/logout", {}, { origin: "http://evil.example" });
      assertEquals([cross.status, cross.body.error.code], [403, "cross_origin"]);

      const audit = await c.call("GET", "/audit");
      assertEquals([audit.status, audit.body.error.code], [403, "role_refused"]);
      const ceremony = await c.call("POST", "/ceremony/combine", {});
      assertEquals([ceremony.status, ceremony.body.error.code], [403, "role_refused"]);

      const out = await c.call("POST", "/logout");
      assertEquals(out.status, 200);
      assertMatch(out.headers.get("set-cookie")!, /Max-Age=0/);
      assertEquals((await c.call("GET", "/dashboard")).status, 401, "the session ended");

      const cust = new Client(base);
      await cust.login("cora");
      const orders = await cust.call("GET", "/orders");
      assertEquals([orders.status, orders.body.error.code], [403, "role_refused"]);
      const dash = await cust.call("GET", "/dashboard");
      assertEquals(dash.status, 200);
      assertEquals(dash.body.hsm.selfTest.passed, true);
      assertMatch(dash.body.hsm.lmkKcv, /^[0-9A-F]{6,}$/);
      assertEquals(dash.body.hsm.state, "authorized");
    }
    const refused = s.logs.filter((l) => l.includes("console.refused")).length;
    assertEquals(refused, 6, "each refusal by role is logged");
    assert(!s.logs.some((l) => l.includes("pass-1234")), "no password in the logs");
  } finally {
    await s.close();
  }
});

Deno.test("console: console:user writes a users file the servers read, refusing bad input", async () => {
  const { main } = await import("../../cli/console_user.ts");
  const { consoleFromFile } = await import("../../servers/_lib/console_mount.ts");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/users.json`;
  const stdin = (s: string) => new Response(s).body!;
  try {
    assertEquals(
      await main(["--file", file, "--id", "olga", "--role", "operator"], stdin("olga-pass-1234\n")),
      0,
    );
    assertEquals(
      await main(["--file", file, "--id", "sam", "--role", "supervisor"], stdin("sam-pass-1234\n")),
      0,
    );
    assertEquals(
      await main(["--file", file, "--id", "sam", "--role", "auditor"], stdin("another-pass\n")),
      2,
    );
    assertEquals(
      await main(["--file", file, "--id", "x", "--role", "king"], stdin("long-enough\n")),
      2,
    );
    assertEquals(
      await main(["--file", file, "--id", "tiny", "--role", "auditor"], stdin("short\n")),
      2,
    );
    assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
    const text = await Deno.readTextFile(file);
    assert(!text.includes("pass-1234"), "no password in the file");
    const options = (await consoleFromFile(file))!;
    const book = new SessionBook(options.directory);
    const olga = await book.login("olga", "olga-pass-1234");
    assertEquals(olga.ok && olga.session.operator.role, "operator");
    assertEquals((await book.login("sam", "another-pass")).ok, false);
    assertEquals(await consoleFromFile(undefined), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("console: the audit filters by operator, event, subject and time; refuses a bad time", async () => {
  const s = await startConsoleServers();
  try {
    const olga = new Client(s.mtms.url);
    await olga.login("olga");
    const made = await olga.call("POST", "/orders", {
      orderId: "PO-FILTER-1",
      prefix: "FL",
      first: 7,
      count: 3,
      digits: 6,
    });
    assertEquals([made.status, made.body.terminals, made.body.state], [201, 3, "collecting"]);
    assertEquals((await s.mtmsStore.getCollectedTk("FL000009"))?.orderId, "PO-FILTER-1");
    const bad = await olga.call("POST", "/orders", {
      orderId: "PO-FILTER-2",
      prefix: "FL",
      first: 1,
      count: "x",
      digits: 6,
    });
    assertEquals([bad.status, bad.body.error.code], [400, "invalid_field"]);
    const sam = new Client(s.mtms.url);
    await sam.login("sam");
    const q = async (query: string) => (await sam.call("GET", `/audit?${query}`)).body;
    const mine = await q("actor=olga");
    // The MTMS's own record of the order names olga as its operator, and so does the console's.
    assertEquals(
      mine.records.map((r: { event: string; operator: string }) => [r.event, r.operator]),
      [["order_created", "olga"], ["order_create_requested", "olga"]],
    );
    assertEquals((await q("event=order_created&subject=PO-FILTER-1")).records.length, 1);
    assertEquals(
      (await q(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).records,
      [],
    );
    const all = await s.mtmsStore.listAuditChain({ afterId: 0, limit: 10_000 });
    const before = await q(`to=${encodeURIComponent(new Date().toISOString())}`);
    assertEquals(before.records, all.slice(0, before.records.length));
    assert(before.records.length >= all.length - 1);
    assertEquals(mine.chain.records, all.length, "the chain state counts every record");
    const badTime = await sam.call("GET", "/audit?from=yesterday");
    assertEquals([badTime.status, badTime.body.error.code], [400, "invalid_field"]);
  } finally {
    await s.close();
  }
});

Deno.test("console: only enrolled operators log in, with the store's role; disabling ends a session", async () => {
  const s = await startConsoleServers();
  try {
    const olga = new Client(s.kms.url);
    const r = await olga.login("olga");
    assertEquals(r.body.operator, { id: "olga", name: "Olga Operator", role: "operator" });
    // Disabled in the MTMS's operators table: the MTMS refuses her.
    await s.mtmsStore.disableOperator("audrey", { at: new Date(), by: "sam" });
    const audrey = new Client(s.mtms.url);
    const refused = await audrey.call("POST", "/login", {
      id: "audrey",
      password: "audrey-pass-1234",
    });
    assertEquals([refused.status, refused.body.error.code], [401, "login_failed"]);
    // Disabled while logged in: the next request finds no session.
    assertEquals((await olga.call("GET", "/dashboard")).status, 200);
    await s.kmsStore.disableOperator("olga", { at: new Date(), by: "sam" });
    assertEquals((await olga.call("GET", "/dashboard")).status, 401);
    const again = await new Client(s.kms.url).call("POST", "/login", {
      id: "olga",
      password: "olga-pass-1234",
    });
    assertEquals(again.status, 401);
    assert(s.logs.some((l) => l.includes("console.login_refused") && l.includes("disabled")));
  } finally {
    await s.close();
  }
});
