/**
 * Drives headless Chromium (Debian's /usr/bin/chromium, never a downloaded
 * build) with playwright-core, under Node.js:
 *
 * 1. runs checks.mjs on the @tmk/wasm-core package inside the browser;
 * 2. screenshot test of the demo page (web/): fills the inputs, clicks
 *    Compute, reads the result cells and compares them with known answers
 *    (tests/vectors/ and node:crypto), and saves PNGs.
 *
 * Usage: node tests/runtimes/chromium.mjs <baseUrl> <playwright-core dir> <png dir>
 * Prints `RESULT {...}` (the checks) and `PAGE {...}` (the page test), one JSON
 * line each. Any request to a host other than 127.0.0.1 is refused and counted
 * as a failure.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { launchChromium } from "./_chromium.mjs";

const [baseUrl, playwrightDir, pngDir] = process.argv.slice(2);
if (!baseUrl || !playwrightDir || !pngDir) {
  console.error("usage: node chromium.mjs <baseUrl> <playwright-core dir> <png dir>");
  process.exit(2);
}

const { page, version, offLoopback, close } = await launchChromium(playwrightDir);
try {
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${baseUrl}/`);
  await page.waitForFunction(
    () => document.getElementById("status")?.textContent !== "loading the core...",
    null,
    { timeout: 30_000 },
  );

  // 1. the shared checks, in the browser
  const { builds, ...result } = await page.evaluate(async () => {
    const { runEveryBuild } = await import("/tests/runtimes/builds.mjs");
    const pkg = await import("/src/core/wasm/mod.js");
    const loader = await import("/src/core/wasm/loader.js");
    return await runEveryBuild(pkg, loader);
  });
  const runtime = `chromium ${version} (builds ${builds})`;
  console.log("RESULT " + JSON.stringify({ runtime, ...result }));

  // 2. the page, as a person uses it
  let passed = 0;
  const failures = [];
  const eq = (got, want, name) => {
    if (got === want) passed++;
    else failures.push(`${name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  const sha = (alg, h) => createHash(alg).update(Buffer.from(h, "hex")).digest("hex").toUpperCase();
  eq(await page.textContent("#status"), "core ready (WebAssembly)", "status");
  const cases = [
    {
      // kcv.json psec-doc (KCV 08D7B4); tdes_kat.json botan-tripledes-0 (ECB)
      name: "2-key TDES, one block",
      key: "0123456789ABCDEFFEDCBA9876543210",
      data: "0123456789ABCDE7",
      want: {
        "out-kcv": "08D7B4",
        "out-tdes-enc": "7F1D0A77826B8AFF",
        "out-sha1": sha("sha1", "0123456789ABCDE7"),
        "out-sha256": sha("sha256", "0123456789ABCDE7"),
      },
      png: "page-2key.png",
    },
    {
      // tdes_kat.json sp800-67-example, typed with spaces and lower case
      name: "SP 800-67 example, decrypt",
      key: "01234567 89abcdef 23456789 abcdef01 456789ab cdef0123",
      data: "A826FD8CE53B855F CCE21C8112256FE6 68D5C05DD9B6B900",
      want: { "out-tdes-dec": "54686520717566636B2062726F776E20666F78206A756D70" },
    },
    {
      // sha.json fips180-abc; "abc" is not whole TDES blocks: the core's RangeError shows
      name: "abc, bad key",
      key: "0011",
      data: "616263",
      want: {
        "out-kcv": "RangeError: key must be 16 or 24 bytes (TDES), got 2",
        "out-tdes-enc": "RangeError: key must be 16 or 24 bytes (TDES), got 2",
        "out-sha1": "A9993E364706816ABA3E25717850C26C9CD0D89D",
        "out-sha256": "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
      },
      png: "page-errors.png",
    },
    {
      name: "partial block",
      key: "0123456789ABCDEFFEDCBA9876543210",
      data: "616263",
      want: {
        "out-tdes-enc": "RangeError: data must be a whole number of 8-byte blocks, got 3 bytes",
      },
    },
  ];
  for (const c of cases) {
    const before = await page.evaluate(() => Number(document.body.dataset.computed ?? 0));
    await page.fill("#key", c.key);
    await page.fill("#data", c.data);
    await page.click("#compute");
    await page.waitForFunction((n) => Number(document.body.dataset.computed ?? 0) > n, before);
    for (const [id, want] of Object.entries(c.want)) {
      eq((await page.textContent(`#${id}`))?.trim(), want, `${c.name} #${id}`);
    }
    if (c.png) await page.screenshot({ path: join(pngDir, c.png), fullPage: true });
  }
  for (const e of pageErrors) failures.push(`page error: ${e}`);
  for (const u of offLoopback) failures.push(`request off loopback refused: ${u}`);
  console.log("PAGE " + JSON.stringify({ passed, failed: failures.length, failures, pngDir }));
} finally {
  await close();
}
