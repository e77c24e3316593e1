/**
 * What takes two people, each in their own browser context (own cookies,
 * own session) in headless Chromium:
 *
 * - a dual-control unlock: an operator asks to lift a flow B lock-out, the
 *   terminal stays locked, the operator cannot approve (not in the UI, not
 *   on the API), and a supervisor approves it in their own session;
 * - a key ceremony: two custodians enter their components; each KCV is
 *   checked, the combined KCV the page shows is the one the components
 *   make, and no component is in the browser (page, fields, storage,
 *   cookies), the server logs or the audit log afterwards.
 */
import { assert, assertEquals } from "@std/assert";
import { Browser } from "./_driver.ts";
import { lockOutTerminal, LOGINS, startConsoleServers } from "./_servers.ts";
import { loadCore } from "../../src/core/mod.ts";
import { combineComponents } from "../../src/hsm/mod.ts";
import { componentKey, randomComponents } from "../../demo/setup.ts";

async function login(b: Browser, ctx: string, url: string, id: string): Promise<void> {
  const l = LOGINS.find((x) => x.id === id)!;
  await b.do("open", { ctx, url });
  await b.do("fill", { ctx, label: "Operator id", value: id });
  await b.do("fill", { ctx, label: "Password", value: l.password });
  await b.do("click", { ctx, name: "Log in" });
  await b.do("waitText", { ctx, selector: "#who", text: `(${l.role})` });
}

Deno.test("console in Chromium: dual-control unlock and a two-custodian ceremony", async () => {
  const s = await startConsoleServers();
  const pngDir = Deno.env.get("CONSOLE_SCREENSHOTS") ??
    await Deno.makeTempDir({ prefix: "tmk-console-shots-" });
  await Deno.mkdir(pngDir, { recursive: true });
  const b = await Browser.start(pngDir);
  try {
    // --- dual control -----------------------------------------------------------------------
    const sn = "FB00000001";
    const wrong = await lockOutTerminal(s, sn);
    assert(wrong >= 1);
    await login(b, "olga", `${s.kms.url}/console/#terminals`, "olga");
    await b.do("waitText", { ctx: "olga", selector: "main", text: sn });
    await b.do("click", { ctx: "olga", name: `Request unlock of ${sn}` });
    await b.do("waitText", {
      ctx: "olga",
      selector: "#status",
      text: "a second operator must approve",
    });
    await b.do("waitText", { ctx: "olga", selector: "main", text: "another operator approves" });
    assert(
      (await s.kmsStore.getTerminal(sn))!.lockedAt !== null,
      "still locked after one operator",
    );
    assertEquals(await b.do("count", { ctx: "olga", selector: `text=Approve unlock of ${sn}` }), 0);
    const olgaSession = JSON.parse(
      (await b.do("fetch", { ctx: "olga", method: "GET", path: "/console/api/session" })).text,
    );
    const pending = JSON.parse(
      (await b.do("fetch", { ctx: "olga", method: "GET", path: "/console/api/lockouts" })).text,
    );
    assertEquals(pending.requests.length, 1);
    const self = await b.do("fetch", {
      ctx: "olga",
      method: "POST",
      path: `/console/api/unlocks/${pending.requests[0].id}/approve`,
      csrf: olgaSession.csrf,
    });
    assertEquals([self.status, JSON.parse(self.text).error.code], [403, "role_refused"]);
    assert((await s.kmsStore.getTerminal(sn))!.lockedAt !== null);
    await b.do("shot", { ctx: "olga", name: "kms-unlock-requested" });

    await login(b, "sam", `${s.kms.url}/console/#terminals`, "sam");
    await b.do("click", { ctx: "sam", name: `Approve unlock of ${sn}` });
    await b.do("waitText", { ctx: "sam", selector: "#status", text: `unlock of ${sn} approved` });
    const t = (await s.kmsStore.getTerminal(sn))!;
    assertEquals([t.lockedAt, t.authFailures], [null, 0]);
    // The gate's own records: asked by olga, granted and run by sam, the unlock done as olga.
    const approvalId = pending.requests[0].id;
    const chain = await s.kmsStore.listAuditChain({ afterId: 0, limit: 10_000 });
    const line = (r: (typeof chain)[number]) => `${r.operator} ${r.event} ${r.outcome}`;
    assertEquals(chain.filter((r) => r.subject === approvalId).map(line), [
      "olga approval_requested success",
      "sam approval_granted success",
      "sam approval_executed success",
    ]);
    const lifted = chain.filter((r) => r.subject === sn && r.event === "unlock");
    assertEquals(lifted.map((r) => [r.operator, r.outcome, r.detail]), [
      ["olga", "success", "lifted by olga"],
    ]);
    assertEquals(await s.kmsStore.listApprovals({ state: "pending", limit: 10 }), []);
    await b.do("shot", { ctx: "sam", name: "kms-unlock-approved" });

    // --- key ceremony -----------------------------------------------------------------------
    const core = await loadCore();
    const [c1, c2] = await randomComponents(2, 32, core, ["cora", "carl"]);
    const parts = [c1, c2].map((c) => c.split(":"));
    const expected = await combineComponents(
      parts.map(([custodian, key, kcv]) => ({ custodian, key, kcv })),
      "aes",
      core,
      { requireCustodians: true },
    );
    expected.key.fill(0);
    const label = "Your component (64 hex digits, not shown)";
    await login(b, "cora", `${s.kms.url}/console/#ceremony`, "cora");
    await b.do("fill", { ctx: "cora", label, value: parts[0][1] });
    await b.do("fill", { ctx: "cora", label: "Its KCV", value: "000000" });
    await b.do("click", { ctx: "cora", name: "Enter component" });
    await b.do("waitText", {
      ctx: "cora",
      selector: "#status",
      text: "is not 000000: nothing kept",
    });
    await b.do("fill", { ctx: "cora", label, value: parts[0][1] });
    await b.do("fill", { ctx: "cora", label: "Its KCV", value: parts[0][2] });
    await b.do("click", { ctx: "cora", name: "Enter component" });
    await b.do("waitText", { ctx: "cora", selector: "#status", text: "its KCV matches" });
    await login(b, "carl", `${s.kms.url}/console/#ceremony`, "carl");
    await b.do("waitText", { ctx: "carl", selector: "main", text: parts[0][2] });
    await b.do("fill", { ctx: "carl", label, value: parts[1][1] });
    await b.do("fill", { ctx: "carl", label: "Its KCV", value: parts[1][2] });
    await b.do("click", { ctx: "carl", name: "Enter component" });
    await b.do("waitText", { ctx: "carl", selector: "#status", text: "its KCV matches" });
    await b.do("fill", {
      ctx: "carl",
      label: "Expected combined KCV (optional)",
      value: expected.kcv,
    });
    await b.do("click", { ctx: "carl", name: "Combine" });
    await b.do("waitText", {
      ctx: "carl",
      selector: "[data-figure=combined-kcv]",
      text: expected.kcv,
    });
    await b.do("shot", { ctx: "carl", name: "kms-ceremony" });
    const keys = [componentKey(c1), componentKey(c2)];
    for (const ctx of ["cora", "carl"]) {
      const kept = JSON.stringify(await b.do("kept", { ctx })).toUpperCase();
      for (const k of keys) assert(!kept.includes(k), `a component is kept in ${ctx}'s browser`);
    }
    const logs = s.logs.join("\n").toUpperCase();
    const records = JSON.stringify(await s.kmsStore.listAudit({ limit: 10_000 })).toUpperCase();
    for (const k of keys) {
      assert(!logs.includes(k), "a component is in the server logs");
      assert(!records.includes(k), "a component is in the audit log");
    }
    const combined = await s.kmsStore.listAudit({ event: "ceremony_combined", limit: 10 });
    assertEquals(combined.map((r) => [r.actor, r.kcv, r.outcome]), [[
      "carl",
      expected.kcv,
      "success",
    ]]);

    const report = await b.do("report");
    assertEquals(report.offLoopback, []);
    // The only errors: the refusals this test asked for (the operator's approval, the wrong KCV).
    assertEquals(report.consoleErrors, [
      "olga: Failed to load resource: the server responded with a status of 403 (Forbidden)",
      "cora: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)",
    ]);
  } finally {
    await b.close();
    await s.close();
  }
});
