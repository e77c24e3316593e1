/**
 * A console left open ends its session when idle, in headless Chromium:
 * the dashboard's live stream does not keep the session alive, the server
 * ends the stream when the session ends, and the page goes back to the
 * login form; after a logout the stream ends too and the API answers 401.
 */
import { assertEquals } from "@std/assert";
import { Browser } from "./_driver.ts";
import { LOGINS, startConsoleServers } from "./_servers.ts";

Deno.test("console in Chromium: an idle session ends, and its live stream with it", async () => {
  const s = await startConsoleServers({ idleMs: 3_000 });
  const b = await Browser.start(await Deno.makeTempDir({ prefix: "tmk-console-shots-" }));
  try {
    const l = LOGINS.find((x) => x.id === "olga")!;
    await b.do("open", { ctx: "olga", url: `${s.kms.url}/console/` });
    await b.do("fill", { ctx: "olga", label: "Operator id", value: l.id });
    await b.do("fill", { ctx: "olga", label: "Password", value: l.password });
    await b.do("click", { ctx: "olga", name: "Log in" });
    await b.do("waitText", { ctx: "olga", selector: "[data-figure=self-test]", text: "passed" });
    // Nobody touches the page: the live dashboard alone does not keep the session.
    await b.do("waitText", {
      ctx: "olga",
      selector: "#status",
      text: "your session ended: log in again",
      timeout: 10_000,
    });
    assertEquals(await b.do("count", { ctx: "olga", selector: "form[aria-label='Log in']" }), 1);
    const r = await b.do("fetch", { ctx: "olga", method: "GET", path: "/console/api/dashboard" });
    assertEquals(r.status, 401);

    // Logged in again, then out: the page shows the login form and says so.
    await b.do("fill", { ctx: "olga", label: "Operator id", value: l.id });
    await b.do("fill", { ctx: "olga", label: "Password", value: l.password });
    await b.do("click", { ctx: "olga", name: "Log in" });
    await b.do("waitText", { ctx: "olga", selector: "[data-figure=self-test]", text: "passed" });
    await b.do("click", { ctx: "olga", name: "Log out" });
    await b.do("waitText", { ctx: "olga", selector: "#status", text: "logged out" });
    const after = await b.do("fetch", { ctx: "olga", method: "GET", path: "/console/api/session" });
    assertEquals(JSON.parse(after.text).operator, null);
    const report = await b.do("report");
    assertEquals(report.offLoopback, []);
    // The one error: the 401 this test asked for after the session ended.
    assertEquals(report.consoleErrors, [
      "olga: Failed to load resource: the server responded with a status of 401 (Unauthorized)",
    ]);
  } finally {
    await b.close();
    await s.close();
  }
});
