/**
 * Runs checks.mjs on every build of the @tmk/wasm-core package that runs in
 * the runtime executing this file (Deno, Node.js or Bun; builds.mjs) and prints one JSON line `RESULT {...}` naming
 * the runtime that really ran it. `deno task test:runtimes` starts it in each
 * runtime and prints the `runtime: N passed, N failed` lines.
 *
 * @module
 */
import * as pkg from "../../src/core/wasm/mod.js";
import * as loader from "../../src/core/wasm/loader.js";
import { runEveryBuild } from "./builds.mjs";

function runtime() {
  if (typeof globalThis.Deno !== "undefined") return `deno ${globalThis.Deno.version.deno}`;
  if (typeof globalThis.Bun !== "undefined") return `bun ${globalThis.Bun.version}`;
  if (typeof globalThis.process?.versions?.node === "string") {
    return `node ${globalThis.process.versions.node}`;
  }
  return "unknown";
}

const { builds, ...result } = await runEveryBuild(pkg, loader);
console.log("RESULT " + JSON.stringify({ runtime: `${runtime()} (builds ${builds})`, ...result }));
