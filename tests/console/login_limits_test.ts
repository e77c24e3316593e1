/**
 * What the console answers before anyone logs in, whatever is sent: a body
 * past the cap is refused with 413 as soon as the cap is passed, counted as
 * it arrives (whatever Content-Length says), on every console route that
 * reads one; a name that is not one of the console's own files is 404, also
 * a name inherited by JavaScript objects; and a burst of logins from one
 * address is refused with 429 before any password is checked, while the
 * server keeps answering its other routes, until the hold-off ends.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { LOGINS, startConsoleServers } from "./_servers.ts";
import { CONSOLE_MAX_BODY } from "../../servers/_lib/console.ts";
import { sourceKey } from "../../servers/_lib/rate_limit.ts";

/** A body of `total` bytes of `a` in 64 KiB chunks, counting what is pulled from it. */
function bigBody(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= total) return c.close();
      sent += chunk.length;
      c.enqueue(chunk);
    },
  });
  return { stream, pulled: () => sent };
}

async function login(base: string, id: string, password: string) {
  const r = await fetch(`${base}/console/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id, password }),
  });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

Deno.test("console: a body past the cap is 413 body_too_large as it arrives, on every route", async () => {
  const s = await startConsoleServers();
  try {
    const olga = LOGINS.find((l) => l.id === "olga")!;
    const session = await login(s.mtms.url, olga.id, olga.password);
    assertEquals(session.status, 200);
    const cookie = session.headers.get("set-cookie")!.split(";")[0];
    const cases = [
      { path: "/console/api/login", headers: {} as Record<string, string> },
      // A route behind the session (its cookie and CSRF token): the cap holds there too.
      { path: "/console/api/orders", headers: { cookie, "x-csrf-token": session.body.csrf } },
    ];
    for (const { path, headers } of cases) {
      // No Content-Length, then one that lies (says small): both counted as the bytes arrive.
      for (const declared of [undefined, "10"]) {
        const body = bigBody(400 * 1024 * 1024);
        const h = new Headers({ ...headers, "content-type": "application/json" });
        if (declared) h.set("content-length", declared);
        const r = await s.mtms.handler(
          new Request(`${s.mtms.url}${path}`, { method: "POST", headers: h, body: body.stream }),
        );
        const answer = await r.json();
        assertEquals([r.status, answer.error.code], [413, "body_too_large"], `${path} ${declared}`);
        // Read up to the cap, plus what the stream's queue pulls ahead: not the whole body.
        assert(body.pulled() <= 4 * CONSOLE_MAX_BODY, `read ${body.pulled()} bytes`);
      }
      // Over the socket, with its true Content-Length.
      const r = await fetch(`${s.mtms.url}${path}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: "a".repeat(CONSOLE_MAX_BODY + 1),
      });
      assertEquals([r.status, (await r.json()).error.code], [413, "body_too_large"]);
    }
    // At the cap, a body is still read (and here refused for what it says).
    const atCap = await login(s.mtms.url, "olga", "x".repeat(CONSOLE_MAX_BODY - 40));
    assertEquals(atCap.status, 401);
    assert(!s.logs.some((l) => l.includes("console.unexpected")), "no unexpected error");
  } finally {
    await s.close();
  }
});

Deno.test("console: only the console's own files are served; inherited names are 404", async () => {
  const s = await startConsoleServers();
  try {
    const names = [
      "constructor",
      "toString",
      "valueOf",
      "hasOwnProperty",
      "__defineGetter__",
      "__proto__",
      "isPrototypeOf",
      "propertyIsEnumerable",
      "toLocaleString",
      "__lookupGetter__",
    ];
    for (const base of [s.kms.url, s.mtms.url]) {
      for (const name of names) {
        const r = await fetch(`${base}/console/${name}`);
        const body = await r.json();
        assertEquals([r.status, body.error.code], [404, "not_found"], `${base} ${name}`);
      }
      const own = await fetch(`${base}/console/console.css`);
      assertEquals(own.status, 200);
      await own.body?.cancel();
    }
    assert(!s.logs.some((l) => l.includes("console.unexpected")), "no unexpected error");
  } finally {
    await s.close();
  }
});

Deno.test("console: a burst of logins from one address gets 429 before any password check", async () => {
  const s = await startConsoleServers({ sourceAttempts: 3, sourceHoldMs: 1_000 });
  try {
    const burst = 200;
    const healthz = (async () => {
      await new Promise((r) => setTimeout(r, 20));
      const r = await fetch(`${s.kms.url}/healthz`);
      await r.body?.cancel();
      return r.status;
    })();
    const answers = await Promise.all(
      Array.from({ length: burst }, (_, i) => login(s.kms.url, `nobody${i}`, "wrong-password")),
    );
    const health = await healthz;
    const by = (status: number) => answers.filter((a) => a.status === status);
    assertEquals(by(401).length, 3, "the attempts let through are checked");
    assertEquals(by(429).length, burst - 3);
    for (const a of by(429)) {
      assertEquals(a.body.error.code, "rate_limited");
      assertMatch(a.body.error.message, /more than 3 login attempts/);
      assertMatch(a.headers.get("retry-after")!, /^[1-9]\d*$/);
    }
    // A password is checked only for an attempt let through, each logged once.
    assertEquals(s.logs.filter((l) => l.includes("console.login_refused")).length, 3);
    assertEquals(health, 200, "the server answers other routes during the burst");
    const olga = LOGINS.find((l) => l.id === "olga")!;
    const held = await login(s.kms.url, olga.id, olga.password);
    assertEquals([held.status, held.body.error.code], [429, "rate_limited"]);
    // The MTMS keeps its own count.
    assertEquals((await login(s.mtms.url, olga.id, olga.password)).status, 200);
    await new Promise((r) => setTimeout(r, Number(held.headers.get("retry-after")) * 1000));
    assertEquals(
      (await login(s.kms.url, olga.id, olga.password)).status,
      200,
      "after the hold-off",
    );
  } finally {
    await s.close();
  }
});

Deno.test("console: logins are limited per IPv4 address and per IPv6 /64", () => {
  assertEquals(sourceKey("192.0.2.7"), "192.0.2.7");
  assertEquals(sourceKey("::ffff:192.0.2.7"), "192.0.2.7");
  assertEquals(sourceKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assertEquals(sourceKey("2001:DB8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
  assertEquals(sourceKey("2001:db8::1"), "2001:db8:0:0::/64");
  assertEquals(sourceKey("::1"), "0:0:0:0::/64");
  assertEquals(sourceKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assertEquals(sourceKey(undefined), "local");
});
