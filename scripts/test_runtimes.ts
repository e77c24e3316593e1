/**
 * `deno task test:runtimes`: runs the same known-answer checks
 * (tests/runtimes/checks.mjs: TDES, SHA-1, SHA-256, modexp, RSA CRT, argument
 * errors, with vectors from tests/vectors/) on the @tmk/wasm-core package in
 * Deno, Node.js, Bun and headless Chromium (every build of the core that the
 * runtime can run: tests/runtimes/builds.mjs; on Node 20 also with its
 * relaxed-SIMD flag), plus the demo page's screenshot test in Chromium, and
 * prints one plain line per runtime:
 *
 * ```
 * deno: 164 passed, 0 failed
 * node: 164 passed, 0 failed
 * node-relaxed-simd: 164 passed, 0 failed
 * bun: 164 passed, 0 failed
 * chromium: 164 passed, 0 failed
 * page: 11 passed, 0 failed
 * npm-package: 164 passed, 0 failed
 * jsr-publish: 1 passed, 0 failed
 * ```
 *
 * `npm-package` runs the checks in Node on the tarball `npm pack` makes of
 * src/core/wasm/, imported by its package name (so the `files` list and the
 * `exports` map are what is tested); `jsr-publish` is `deno publish --dry-run`
 * there (both work offline).
 *
 * A runtime that cannot be started gets a failing line (`0 passed, 1 failed`)
 * after a line giving the reason; nothing is skipped. Exits 1 if anything failed.
 * The page screenshots are kept in a temporary folder whose path is printed.
 *
 * @module
 */
import { servePage } from "../web/serve.ts";
import {
  bunPath,
  CHROMIUM,
  ensureNpmRuntimes,
  NODE_MIN_MAJOR,
  playwrightDir,
} from "./_runtimes.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const CLI = "tests/runtimes/cli.mjs";
const TIMEOUT_MS = 180_000;

interface Outcome {
  passed: number;
  failed: number;
  failures: string[];
  runtime?: string;
}

let anyFailed = false;

function report(name: string, o: Outcome): void {
  if (o.runtime) console.log(`# ${name} ran as ${o.runtime}`);
  for (const f of o.failures) console.log(`# ${name} FAILED ${f.replace(/\s*\n\s*/g, " | ")}`);
  console.log(`${name}: ${o.passed} passed, ${o.failed} failed`);
  if (o.failed > 0) anyFailed = true;
}

function cannotStart(reason: string): Outcome {
  return { passed: 0, failed: 1, failures: [`cannot start: ${reason}`] };
}

/** Runs a command; returns its stdout, or the reason it did not succeed. */
async function run(
  cmd: string,
  args: string[],
  cwd = ROOT,
): Promise<{ stdout: string } | { error: string }> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      cwd: cwd.startsWith("/") ? cwd : `${ROOT}${cwd}`,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
  } catch (e) {
    return { error: `${cmd}: ${(e as Error).message}` };
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  const out = await child.output();
  clearTimeout(timer);
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-8).join(" | ");
    return { error: `${cmd} exited with ${out.signal ?? out.code}: ${err || stdout.slice(-500)}` };
  }
  return { stdout };
}

/** Parses the `TAG {json}` line a child printed. */
function parse(stdout: string, tag: string): Outcome | string {
  const line = stdout.split("\n").find((l) => l.startsWith(tag + " "));
  if (line === undefined) return `no ${tag} line in its output: ${stdout.slice(-300)}`;
  const o = JSON.parse(line.slice(tag.length + 1)) as Outcome;
  if (!Number.isInteger(o.passed) || !Number.isInteger(o.failed) || o.passed === 0) {
    return `implausible result ${line}`;
  }
  return o;
}

async function cliRuntime(
  name: string,
  cmd: string,
  args: string[],
  ranAs = name,
): Promise<void> {
  const r = await run(cmd, [...args, CLI]);
  if ("error" in r) return report(name, cannotStart(r.error));
  const o = parse(r.stdout, "RESULT");
  if (typeof o === "string") return report(name, cannotStart(o));
  if (!o.runtime?.startsWith(ranAs + " ")) {
    o.failures.push(`ran as ${o.runtime}, not ${ranAs}`);
    o.failed++;
  }
  report(name, o);
}

async function nodeMajor(): Promise<number | string> {
  const r = await run("node", ["--version"]);
  if ("error" in r) return r.error;
  const m = /^v(\d+)\./.exec(r.stdout.trim());
  return m ? Number(m[1]) : `unexpected node --version: ${r.stdout.trim()}`;
}

// --- Deno -----------------------------------------------------------------------------------
await cliRuntime("deno", Deno.execPath(), ["run", "--allow-read=."]);

// --- Node.js --------------------------------------------------------------------------------
const major = await nodeMajor();
if (typeof major === "string") report("node", cannotStart(major));
else if (major < NODE_MIN_MAJOR) {
  report("node", cannotStart(`node ${major} on PATH; need ${NODE_MIN_MAJOR}+`));
} else {
  await cliRuntime("node", "node", ["--disable-warning=ExperimentalWarning"]);
  // Node 20 takes relaxed SIMD (so the core's fma build) only behind a flag: run that too
  if (major < 22) {
    const flags = ["--disable-warning=ExperimentalWarning", "--experimental-wasm-relaxed-simd"];
    await cliRuntime("node-relaxed-simd", "node", flags, "node");
  }
}

// --- npm installs (Bun, playwright-core) ----------------------------------------------------
const installError = await ensureNpmRuntimes();

// --- Bun ------------------------------------------------------------------------------------
if (installError) report("bun", cannotStart(installError));
else await cliRuntime("bun", bunPath(), []);

// --- Chromium, and the page -----------------------------------------------------------------
let chromiumMissing: string | null = null;
try {
  await Deno.stat(CHROMIUM);
} catch {
  chromiumMissing = `${CHROMIUM} not found (Debian: apt-get update && apt-get install -y chromium)`;
}
if (installError || chromiumMissing || typeof major === "string") {
  const reason = installError ?? chromiumMissing ?? `node is needed for playwright-core: ${major}`;
  report("chromium", cannotStart(reason));
  report("page", cannotStart(reason));
} else {
  const pngDir = await Deno.makeTempDir({ prefix: "tmk-page-png-" });
  const ac = new AbortController();
  const { server, url } = servePage(0, ac.signal);
  try {
    const r = await run("node", ["tests/runtimes/chromium.mjs", url, playwrightDir(), pngDir]);
    if ("error" in r) {
      report("chromium", cannotStart(r.error));
      report("page", cannotStart(r.error));
    } else {
      const o = parse(r.stdout, "RESULT");
      report("chromium", typeof o === "string" ? cannotStart(o) : o);
      const p = parse(r.stdout, "PAGE");
      report("page", typeof p === "string" ? cannotStart(p) : p);
      console.log(`# page screenshots: ${pngDir}/page-2key.png, ${pngDir}/page-errors.png`);
    }
  } finally {
    ac.abort();
    await server.finished;
  }
}

// --- the package as published: npm tarball in Node, JSR dry run --------------------------------
const PKG = "src/core/wasm";
{
  const tmp = await Deno.makeTempDir({ prefix: "tmk-npm-pack-" });
  try {
    const packed = await run(
      "npm",
      ["pack", "--pack-destination", tmp, "--json"],
      PKG,
    );
    if ("error" in packed) report("npm-package", cannotStart(packed.error));
    else {
      const [{ filename }] = JSON.parse(packed.stdout) as { filename: string }[];
      const dir = `${tmp}/app/node_modules/@tmk`;
      await Deno.mkdir(dir, { recursive: true });
      const untar = await run("tar", ["xzf", `${tmp}/${filename}`, "-C", dir]);
      if ("error" in untar) report("npm-package", cannotStart(untar.error));
      else {
        await Deno.rename(`${dir}/package`, `${dir}/wasm-core`);
        const builds = new URL("../tests/runtimes/builds.mjs", import.meta.url).href;
        await Deno.writeTextFile(
          `${tmp}/app/run.mjs`,
          `import * as pkg from "@tmk/wasm-core";\n` +
            `import * as loader from "@tmk/wasm-core/loader";\n` +
            `import { runEveryBuild } from ${JSON.stringify(builds)};\n` +
            `if (typeof loader.coreExports().sha256 !== "function") throw new Error("loader export");\n` +
            `const { builds, ...r } = await runEveryBuild(pkg, loader);\n` +
            `const runtime = "npm-package " + process.version + " (builds " + builds + ")";\n` +
            `console.log("RESULT " + JSON.stringify({ runtime, ...r }));\n`,
        );
        const r = await run(
          "node",
          ["--disable-warning=ExperimentalWarning", "run.mjs"],
          `${tmp}/app`,
        );
        const o = "error" in r ? r.error : parse(r.stdout, "RESULT");
        report("npm-package", typeof o === "string" ? cannotStart(o) : o);
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  const jsr = await run(Deno.execPath(), ["publish", "--dry-run", "--allow-dirty"], PKG);
  if ("error" in jsr) report("jsr-publish", cannotStart(jsr.error));
  else report("jsr-publish", { passed: 1, failed: 0, failures: [] });
}

if (anyFailed) Deno.exit(1);
