/**
 * Runs checks.mjs on the @tmk/wasm-core package in the runtime executing this
 * file (Deno, Node.js or Bun) and prints one JSON line `RESULT {...}` naming
 * the runtime that really ran it. `deno task test:runtimes` starts it in each
 * runtime and prints the `runtime: N passed, N failed` lines.
 *
 * @module
 */
import { loadWasmCore } from "../../src/core/wasm/mod.js";
import { runChecks } from "./checks.mjs";

function runtime() {
  if (typeof globalThis.Deno !== "undefined") return `deno ${globalThis.Deno.version.deno}`;
  if (typeof globalThis.Bun !== "undefined") return `bun ${globalThis.Bun.version}`;
  if (typeof globalThis.process?.versions?.node === "string") {
    return `node ${globalThis.process.versions.node}`;
  }
  return "unknown";
}

const result = await runChecks(await loadWasmCore());
console.log("RESULT " + JSON.stringify({ runtime: runtime(), ...result }));
