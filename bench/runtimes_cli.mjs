/**
 * Runs bench/runtimes_bench.mjs in the runtime executing this file (Deno,
 * Node.js or Bun) and prints `BENCH {...}` (operations per second).
 *
 * @module
 */
import { loadWasmCore } from "../src/core/wasm/mod.js";
import { runBench } from "./runtimes_bench.mjs";

function runtime() {
  if (typeof globalThis.Deno !== "undefined") return `deno ${globalThis.Deno.version.deno}`;
  if (typeof globalThis.Bun !== "undefined") return `bun ${globalThis.Bun.version}`;
  return `node ${globalThis.process?.versions?.node}`;
}

const seconds = Number(globalThis.Deno?.args?.[0] ?? globalThis.process?.argv?.[2] ?? 1);
const result = runBench(await loadWasmCore(), seconds);
console.log("BENCH " + JSON.stringify({ runtime: runtime(), ...result }));
