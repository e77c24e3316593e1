/**
 * Runs bench/runtimes_bench.mjs inside headless Chromium (Node.js drives it
 * with playwright-core) and prints `BENCH {...}`.
 *
 * Usage: node bench/runtimes_chromium.mjs <baseUrl> <playwright-core dir> <seconds>
 *
 * @module
 */
import { launchChromium } from "../tests/runtimes/_chromium.mjs";

const [baseUrl, playwrightDir, seconds] = process.argv.slice(2);
const { page, version, offLoopback, close } = await launchChromium(playwrightDir);
try {
  await page.goto(`${baseUrl}/`);
  const result = await page.evaluate(async (s) => {
    const bench = await import("/bench/runtimes_bench.mjs");
    const pkg = await import("/src/core/wasm/mod.js");
    return bench.runBench(await pkg.loadWasmCore(), s);
  }, Number(seconds));
  if (offLoopback.length) throw new Error(`requests off loopback: ${offLoopback.join(", ")}`);
  console.log("BENCH " + JSON.stringify({ runtime: `chromium ${version}`, ...result }));
} finally {
  await close();
}
