/**
 * A whole production order driven through the console in headless
 * Chromium (Debian's, under playwright-core): an operator logs in with the
 * keyboard, creates the order by serial range on the MTMS console, watches
 * the factory line's TKs arrive live, starts the transfer, then on the KMS
 * console starts bulk issuance and watches the POS terminals download and
 * acknowledge. Every figure the pages show is checked against the stores.
 * Then each other page (terminals, audit, certificates) is checked the same
 * way; an auditor and a custodian are refused in the UI and on the API;
 * every control has a label and is reachable with Tab; the browser logged
 * no error and sent no request off 127.0.0.1. A screenshot of each page is
 * saved (to `$CONSOLE_SCREENSHOTS`, else a temporary folder printed).
 */
import { assert, assertEquals } from "@std/assert";
import { Browser } from "./_driver.ts";
import { collectOnLine, type ConsoleServers, LOGINS, startConsoleServers } from "./_servers.ts";

const ORDER = "PO-CONSOLE-0001";
const COUNT = 6;
const SNS = Array.from({ length: COUNT }, (_, i) => `SN${String(i + 1).padStart(8, "0")}`);

/** Logs in with the keyboard only: Tab to each field, type, Enter. */
async function keyboardLogin(b: Browser, ctx: string, url: string, id: string): Promise<void> {
  await b.do("open", { ctx, url });
  await b.do("waitText", { ctx, selector: "main h2", text: "Log in" });
  const password = LOGINS.find((l) => l.id === id)!.password;
  assertEquals((await b.do("focused", { ctx })).label, "Operator id", "the id field has focus");
  await b.do("type", { ctx, text: id });
  await b.do("key", { ctx, key: "Tab" });
  assertEquals((await b.do("focused", { ctx })).label, "Password");
  await b.do("type", { ctx, text: password });
  await b.do("key", { ctx, key: "Enter" });
  await b.do("waitText", {
    ctx,
    selector: "#who",
    text: `(${LOGINS.find((l) => l.id === id)!.role})`,
  });
}

/** Checks the page's controls: each labelled and reachable with Tab. */
async function controlsOk(b: Browser, ctx: string, page: string): Promise<void> {
  assertEquals(await b.do("controls", { ctx }), [], `controls of ${page}`);
}

async function kmsFigures(s: ConsoleServers) {
  const c = await s.kmsStore.countTerminals(ORDER);
  let downloaded = 0;
  for (const t of await s.kmsStore.listTerminals(ORDER, { limit: 100 })) {
    if (t.tmkSentAt !== null || t.deliveredAt !== null) downloaded++;
  }
  return { ...c, downloaded };
}

async function orderPhase(
  b: Browser,
  s: ConsoleServers,
  shot: (c: string, n: string) => Promise<void>,
) {
  const mtmsConsole = `${s.mtms.url}/console/`;
  await keyboardLogin(b, "olga", mtmsConsole, "olga");
  await b.do("waitText", { ctx: "olga", selector: "[data-figure=self-test]", text: "passed" });
  await shot("olga", "mtms-dashboard");
  await controlsOk(b, "olga", "MTMS dashboard");
  await b.do("click", { ctx: "olga", role: "link", name: "Orders" });
  await b.do("fill", { ctx: "olga", label: "Order id", value: ORDER });
  await b.do("fill", { ctx: "olga", label: "SN prefix", value: "SN" });
  await b.do("fill", { ctx: "olga", label: "First number", value: 1 });
  await b.do("fill", { ctx: "olga", label: "Terminals", value: COUNT });
  await b.do("fill", { ctx: "olga", label: "Digits", value: 8 });
  await b.do("click", { ctx: "olga", name: "Create order" });
  await b.do("waitText", {
    ctx: "olga",
    selector: "[data-figure=collected]",
    text: `0 / ${COUNT}`,
  });
  const created = await s.mtmsStore.countCollected(ORDER);
  assertEquals(created, { terminals: COUNT, collected: 0 });
  assertEquals((await s.mtmsStore.getCollectedTk(SNS[COUNT - 1]))?.orderId, ORDER);
  await controlsOk(b, "olga", "MTMS order");

  // The factory line collects while the page is open: the figures move over SSE.
  const terminals = await collectOnLine(s, ORDER, SNS.slice(0, 3));
  await b.do("waitText", {
    ctx: "olga",
    selector: "[data-figure=collected]",
    text: `3 / ${COUNT}`,
  });
  assertEquals((await s.mtmsStore.countCollected(ORDER)).collected, 3);
  assertEquals(await b.do("count", { ctx: "olga", selector: "text=Start transfer" }), 0);
  terminals.push(...await collectOnLine(s, ORDER, SNS.slice(3)));
  await b.do("waitText", {
    ctx: "olga",
    selector: "[data-figure=collected]",
    text: `${COUNT} / ${COUNT}`,
  });
  await shot("olga", "mtms-order-collected");
  await b.do("click", { ctx: "olga", name: "Start transfer" });
  await b.do("waitText", { ctx: "olga", selector: "[data-figure=state]", text: "transferred" });
  const f = await b.do("figures", { ctx: "olga" });
  assertEquals(f.transferred, `${COUNT} / ${COUNT}`);
  assertEquals((await s.mtmsStore.getOrder(ORDER))?.state, "transferred");
  assertEquals((await s.kmsStore.countTerminals(ORDER)).terminals, COUNT);
  await shot("olga", "mtms-order-transferred");

  // The KMS's console: issuance from the page, downloads by the POS terminals.
  await keyboardLogin(b, "olga-kms", `${s.kms.url}/console/#orders/${ORDER}`, "olga");
  await b.do("waitText", {
    ctx: "olga-kms",
    selector: "[data-figure=imported]",
    text: `${COUNT} / ${COUNT}`,
  });
  assertEquals((await b.do("figures", { ctx: "olga-kms" })).issued, `0 / ${COUNT}`);
  await b.do("click", { ctx: "olga-kms", name: "Start issuance" });
  await b.do("waitText", {
    ctx: "olga-kms",
    selector: "[data-figure=issued]",
    text: `${COUNT} / ${COUNT}`,
  });
  assertEquals((await kmsFigures(s)).withTmk, COUNT);
  await shot("olga-kms", "kms-order-issued");
  for (const pos of terminals.slice(0, 2)) await pos.downloadTmk();
  await b.do("waitText", {
    ctx: "olga-kms",
    selector: "[data-figure=acknowledged]",
    text: `2 / ${COUNT}`,
  });
  const mid = await b.do("figures", { ctx: "olga-kms" });
  const store = await kmsFigures(s);
  assertEquals(mid.downloaded, `${store.downloaded} / ${COUNT}`);
  assertEquals(mid.acknowledged, `${store.delivered} / ${COUNT}`);
  for (const pos of terminals.slice(2)) await pos.downloadTmk();
  await b.do("waitText", {
    ctx: "olga-kms",
    selector: "[data-figure=acknowledged]",
    text: `${COUNT} / ${COUNT}`,
  });
  const end = await b.do("figures", { ctx: "olga-kms" });
  assertEquals(end.downloaded, `${COUNT} / ${COUNT}`);
  assertEquals((await kmsFigures(s)).delivered, COUNT);
  await shot("olga-kms", "kms-order");
  await controlsOk(b, "olga-kms", "KMS order");
}

async function pagesPhase(
  b: Browser,
  s: ConsoleServers,
  shot: (c: string, n: string) => Promise<void>,
) {
  // The KMS dashboard: terminals by state, against the store.
  await b.do("click", { ctx: "olga-kms", role: "link", name: "Dashboard" });
  await b.do("waitText", {
    ctx: "olga-kms",
    selector: "[data-figure=state-delivered]",
    text: String(COUNT),
  });
  const d = await b.do("figures", { ctx: "olga-kms" });
  assertEquals(d["state-tk_received"], "0");
  assertEquals(d["state-tmk_issued"], "0");
  assertEquals(d["self-test"], "passed (6 known answers)");
  assertEquals(d["hsm-state"], "authorized");
  assertEquals(d["hsm-mode"], "test");
  const lmkLoaded = (await s.kmsStore.listAudit({ event: "lmk_loaded", limit: 10 }))[0];
  assertEquals(d["lmk-kcv"], lmkLoaded.kcv, "the LMK KCV is the one the HSM recorded at load");
  await shot("olga-kms", "kms-dashboard");
  await controlsOk(b, "olga-kms", "KMS dashboard");

  // A terminal's timeline is its audit records.
  await b.do("click", { ctx: "olga-kms", role: "link", name: "Terminals" });
  await b.do("fill", { ctx: "olga-kms", label: "Serial number", value: SNS[0] });
  await b.do("key", { ctx: "olga-kms", key: "Enter" });
  await b.do("waitText", {
    ctx: "olga-kms",
    selector: "[data-figure=terminal-state]",
    text: "delivered",
  });
  const t = await s.kmsStore.getTerminal(SNS[0]);
  const tf = await b.do("figures", { ctx: "olga-kms" });
  assertEquals(tf["terminal-tmkKcv"], t!.tmkKcv);
  assertEquals(tf["terminal-tkKcv"], t!.tkKcv);
  const events = await s.kmsStore.listAudit({ subject: SNS[0], limit: 500 });
  assertEquals(
    await b.do("count", {
      ctx: "olga-kms",
      selector: "table:has(caption:text('Timeline')) tbody tr",
    }),
    events.length,
  );
  assert(
    events.some((e) => e.event === "tmk_sent") && events.some((e) => e.event === "tmk_issued"),
  );
  await shot("olga-kms", "kms-terminal");
  await controlsOk(b, "olga-kms", "KMS terminal");

  // Certificates on the MTMS: its transport certificate.
  await b.do("click", { ctx: "olga", role: "link", name: "Certificates" });
  await b.do("waitText", { ctx: "olga", selector: "[data-figure=certs-issued]", text: "1" });
  assertEquals((await b.do("figures", { ctx: "olga" }))["certs-revoked"], "0");
  await shot("olga", "mtms-certificates");

  // The audit page, as the auditor: records and the NDJSON export equal the store's.
  await keyboardLogin(b, "audrey", `${s.kms.url}/console/#audit`, "audrey");
  await b.do("waitText", { ctx: "audrey", selector: "[data-figure=chain-state]", text: "intact" });
  const all = await s.kmsStore.listAudit({ limit: 10_000 });
  assertEquals(
    Number((await b.do("figures", { ctx: "audrey" }))["audit-shown"]),
    Math.min(all.length, 500),
  );
  await b.do("fill", { ctx: "audrey", label: "Subject", value: SNS[1] });
  await b.do("fill", { ctx: "audrey", label: "Event", value: "tmk_issued" });
  await b.do("click", { ctx: "audrey", name: "Filter" });
  await b.do("waitText", { ctx: "audrey", selector: "[data-figure=audit-shown]", text: "1" });
  await shot("audrey", "kms-audit");
  await controlsOk(b, "audrey", "KMS audit");
  const exp = await b.do("fetch", {
    ctx: "audrey",
    method: "GET",
    path: "/console/api/audit/export",
  });
  assertEquals(exp.status, 200);
  const lines = exp.text.trim().split("\n").map((l: string) => JSON.parse(l));
  const after = await s.kmsStore.listAuditChain({ afterId: 0, limit: 10_000 });
  assertEquals(lines, after.slice(0, lines.length));
  assert(lines.length >= all.length, "the export has every record up to its start");
}

async function refusalPhase(
  b: Browser,
  s: ConsoleServers,
  shot: (c: string, n: string) => Promise<void>,
) {
  // The auditor sees orders but gets no form, and the API refuses the action.
  await keyboardLogin(b, "audrey-mtms", `${s.mtms.url}/console/#orders`, "audrey");
  await b.do("waitText", { ctx: "audrey-mtms", selector: "main", text: ORDER });
  assertEquals(await b.do("count", { ctx: "audrey-mtms", selector: "text=Create order" }), 0);
  const session = JSON.parse(
    (await b.do("fetch", { ctx: "audrey-mtms", method: "GET", path: "/console/api/session" })).text,
  );
  const r = await b.do("fetch", {
    ctx: "audrey-mtms",
    method: "POST",
    path: "/console/api/orders",
    body: { orderId: "PO-AUDIT-1", prefix: "AU", first: 1, count: 1, digits: 8 },
    csrf: session.csrf,
  });
  assertEquals([r.status, JSON.parse(r.text).error.code], [403, "role_refused"]);
  assertEquals(await s.mtmsStore.getOrder("PO-AUDIT-1"), null);
  // The custodian has no orders page: no link, and the page is refused by name.
  await keyboardLogin(b, "cora", `${s.mtms.url}/console/#orders`, "cora");
  await b.do("waitText", {
    ctx: "cora",
    selector: "#status",
    text: "not open to the role custodian",
  });
  assertEquals(await b.do("count", { ctx: "cora", selector: "nav a[data-page=orders]" }), 0);
  const o = await b.do("fetch", { ctx: "cora", method: "GET", path: "/console/api/orders" });
  assertEquals(o.status, 403);
  await shot("cora", "mtms-custodian-refused");
}

Deno.test("console in Chromium: a whole order, every figure against the store", async () => {
  const s = await startConsoleServers();
  const pngDir = Deno.env.get("CONSOLE_SCREENSHOTS") ??
    await Deno.makeTempDir({ prefix: "tmk-console-shots-" });
  await Deno.mkdir(pngDir, { recursive: true });
  const b = await Browser.start(pngDir);
  const shots: string[] = [];
  const shot = async (ctx: string, name: string) => {
    shots.push(await b.do("shot", { ctx, name }));
  };
  try {
    await orderPhase(b, s, shot);
    await pagesPhase(b, s, shot);
    const report = await b.do("report");
    assertEquals(report.offLoopback, [], "no request leaves 127.0.0.1");
    assertEquals(report.consoleErrors, [], "the browser console has no errors");
    await refusalPhase(b, s, shot);
    // The only errors after: the two refusals the test itself asked for.
    const after = await b.do("report");
    assertEquals(after.offLoopback, []);
    assertEquals(after.consoleErrors, [
      "audrey-mtms: Failed to load resource: the server responded with a status of 403 (Forbidden)",
      "cora: Failed to load resource: the server responded with a status of 403 (Forbidden)",
    ]);
    console.log(`screenshots: ${shots.join(" ")}`);
  } finally {
    await b.close();
    await s.close();
  }
});
