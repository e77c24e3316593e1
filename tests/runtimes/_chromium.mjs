/**
 * Starts Debian's headless Chromium (/usr/bin/chromium, never a downloaded
 * build) with playwright-core under Node.js, with the team's fixed flags, a
 * fresh user-data dir, and every request off 127.0.0.1 refused and recorded.
 *
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The flags for Debian's Chromium (the last one keeps DNS off loopback too). */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

/**
 * Launches the browser and opens one page.
 *
 * @param {string} playwrightDir the playwright-core package folder
 * @returns {Promise<{ page: any, version: string, offLoopback: string[], close: () => Promise<void> }>}
 */
export async function launchChromium(playwrightDir) {
  const { chromium } = await import(pathToFileURL(join(playwrightDir, "index.mjs")).href);
  const userDataDir = await mkdtemp(join(tmpdir(), "tmk-chromium-"));
  const offLoopback = [];
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 900, height: 640 },
      timeout: 60_000,
    });
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1" || url.protocol === "data:") return route.continue();
      offLoopback.push(url.href);
      return route.abort();
    });
    const page = context.pages()[0] ?? await context.newPage();
    const version = context.browser()?.version() ?? "unknown";
    return {
      page,
      version,
      offLoopback,
      close: async () => {
        await context.close();
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await context?.close();
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
}
