/**
 * Drives Debian's headless Chromium with playwright-core under Node.js for
 * the console tests: reads one JSON command a line on stdin, answers one
 * JSON line on stdout (`{ok: true, value}` or `{ok: false, error}`).
 * Each named context is a fresh browser profile (its own cookies): two
 * operators log in side by side. Every request off 127.0.0.1 is refused
 * and recorded, every console error and page error is recorded.
 *
 * Usage: node tests/console/_browser.mjs <playwright-core dir> <png dir>
 *
 * @module
 */
import { createInterface } from "node:readline";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CHROMIUM_FLAGS } from "../runtimes/_chromium.mjs";

const [playwrightDir, pngDir] = process.argv.slice(2);
const { chromium } = await import(pathToFileURL(join(playwrightDir, "index.mjs")).href);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: CHROMIUM_FLAGS,
  timeout: 60_000,
});
const contexts = new Map();
const offLoopback = [];
const consoleErrors = [];

async function open(name) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    offLoopback.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${name}: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`${name}: ${String(e)}`));
  page.setDefaultTimeout(20_000);
  contexts.set(name, { context, page });
  return page;
}

/** Problems of the controls on the page: no accessible name, or not reachable by Tab. */
function controlProblems() {
  const out = [];
  for (const el of document.querySelectorAll("input, select, textarea, button, a[href]")) {
    const labelled = (el.labels && el.labels.length > 0) || el.getAttribute("aria-label") ||
      (el.tagName === "BUTTON" || el.tagName === "A") && el.textContent.trim() !== "";
    const what = `${el.tagName.toLowerCase()} ${el.name || el.textContent.trim().slice(0, 30)}`;
    if (!labelled) out.push(`${what}: no label`);
    if (el.tabIndex < 0) out.push(`${what}: not reachable with Tab`);
  }
  return out;
}

const ops = {
  open: async (c) => {
    const page = contexts.get(c.ctx)?.page ?? await open(c.ctx);
    await page.goto(c.url);
  },
  goto: async (c, page) => {
    await page.goto(c.url);
  },
  fill: async (c, page) => await page.getByLabel(c.label, { exact: true }).fill(String(c.value)),
  click: async (c, page) =>
    await page.getByRole(c.role ?? "button", { name: c.name, exact: true }).click(),
  key: async (c, page) => await page.keyboard.press(c.key),
  type: async (c, page) => await page.keyboard.type(c.text),
  focused: async (_c, page) =>
    await page.evaluate(() => {
      const el = document.activeElement;
      if (!el) return null;
      const label = el.labels?.[0]?.firstChild?.textContent ?? el.getAttribute("aria-label") ??
        el.textContent;
      return { tag: el.tagName.toLowerCase(), label: (label ?? "").trim() };
    }),
  waitText: async (c, page) =>
    await page.waitForFunction(
      ([sel, text]) => document.querySelector(sel)?.textContent?.includes(text),
      [c.selector, c.text],
      { timeout: c.timeout ?? 20_000 },
    ),
  waitGone: async (c, page) => await page.waitForSelector(c.selector, { state: "detached" }),
  text: async (c, page) => await page.textContent(c.selector),
  count: async (c, page) => await page.locator(c.selector).count(),
  figures: async (_c, page) =>
    await page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll("[data-figure]")].map((
          e,
        ) => [e.dataset.figure, e.textContent.trim()]),
      )
    ),
  shot: async (c, page) => {
    const path = join(pngDir, `${c.name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  },
  controls: async (_c, page) => await page.evaluate(controlProblems),
  /** A same-origin call from the page, as its script makes them (cookie and CSRF token). */
  fetch: async (c, page) =>
    await page.evaluate(async ([method, path, body, csrf]) => {
      const headers = { "content-type": "application/json" };
      if (csrf) headers["x-csrf-token"] = csrf;
      const r = await fetch(path, {
        method,
        headers,
        body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
      });
      return { status: r.status, text: await r.text() };
    }, [c.method, c.path, c.body, c.csrf]),
  /** What the browser keeps: cookies (names and flags), local and session storage, the page's text and field values. */
  kept: async (c, page) => {
    const { context } = contexts.get(c.ctx);
    const cookies = (await context.cookies()).map((k) => ({
      name: k.name,
      value: k.value,
      httpOnly: k.httpOnly,
      secure: k.secure,
      sameSite: k.sameSite,
    }));
    const inPage = await page.evaluate(() => ({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      html: document.documentElement.outerHTML,
      values: [...document.querySelectorAll("input")].map((i) => i.value),
    }));
    return { cookies, ...inPage };
  },
  report: () => ({ offLoopback, consoleErrors }),
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const c = JSON.parse(line);
  if (c.op === "quit") break;
  try {
    const page = contexts.get(c.ctx)?.page;
    if (!ops[c.op]) throw new Error(`unknown op ${c.op}`);
    if (!page && c.op !== "open" && c.op !== "report") throw new Error(`no context ${c.ctx}`);
    const value = await ops[c.op](c, page);
    process.stdout.write(JSON.stringify({ ok: true, value: value ?? null }) + "\n");
  } catch (e) {
    process.stdout.write(
      JSON.stringify({ ok: false, error: String(e?.message ?? e).slice(0, 2000) }) + "\n",
    );
  }
}
await browser.close();
