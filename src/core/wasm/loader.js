// @ts-self-types="./loader.d.ts"
/**
 * Loads the WebAssembly crypto core built from asm/ (see scripts/build_wasm.ts).
 *
 * Plain ES module with no runtime-specific API: works in Deno, Node, Bun and
 * browsers. The wasm bytes are embedded (tmk_core_wasm.js, base64), so
 * loading needs no fetch and no file access. The module is compiled once and
 * instantiated once, synchronously, on first use; later calls return the
 * same exports. (Browsers' main thread limits synchronous compilation of
 * large modules; call `compileCoreAsync()` first there.)
 *
 * An `abort` from AssemblyScript (not emitted by the release build, which
 * has no assertions, but kept for any debug build) throws an Error naming
 * the message, file, line and column.
 *
 * @module
 */
import { WASM_BASE64 } from "./tmk_core_wasm.js";

/** @type {WebAssembly.Module | null} */
let compiled = null;
/** @type {import("./loader.d.ts").CoreExports | null} */
let exportsCache = null;

function decodeBase64(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Reads an AssemblyScript string (UTF-16LE, byte length at ptr - 4) from memory. */
function readString(memory, ptr) {
  if (!ptr) return "";
  const buf = memory.buffer;
  const len = new Uint32Array(buf, ptr - 4, 1)[0] >>> 1;
  return String.fromCharCode(...new Uint16Array(buf, ptr, len));
}

/** The WebAssembly.Module, compiled on first use. */
export function coreModule() {
  if (compiled === null) compiled = new WebAssembly.Module(decodeBase64(WASM_BASE64));
  return compiled;
}

/** Compiles asynchronously (for browsers' main thread); later calls are synchronous. */
export async function compileCoreAsync() {
  if (compiled === null) compiled = await WebAssembly.compile(decodeBase64(WASM_BASE64));
  return compiled;
}

/** The exports of the (single, cached) instance. */
export function coreExports() {
  if (exportsCache !== null) return exportsCache;
  /** @type {WebAssembly.Memory | null} */
  let memory = null;
  const imports = {
    env: {
      abort(msg, file, line, column) {
        const m = memory ? readString(memory, msg) : `message at ${msg}`;
        const f = memory ? readString(memory, file) : `file at ${file}`;
        throw new Error(`wasm core abort: ${m} (${f}:${line}:${column})`);
      },
    },
  };
  const instance = new WebAssembly.Instance(coreModule(), imports);
  memory = /** @type {WebAssembly.Memory} */ (instance.exports.memory);
  exportsCache = /** @type {any} */ (instance.exports);
  return exportsCache;
}
