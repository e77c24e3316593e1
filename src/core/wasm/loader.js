// @ts-self-types="./loader.d.ts"
/**
 * Loads the WebAssembly crypto core built from asm/ (see scripts/build_wasm.ts),
 * in one of its two builds: "fma" (relaxed SIMD: the RSA CRT private
 * operation runs both halves at once on f64 limbs with fused multiply-add)
 * where the runtime fuses `f64x2.relaxed_madd`, else "simd" (wasm SIMD only).
 * Relaxed SIMD lets a runtime round a multiply-add once or twice, and the f64
 * kernels are exact only when it rounds once, so the choice checks the result
 * (a tiny probe module, then the fma build's own `pairFused()`), not only
 * that the module validates.
 *
 * Plain ES module with no runtime-specific API: works in Deno, Node, Bun and
 * browsers. The wasm bytes are embedded (tmk_core_wasm.js and
 * tmk_core_fma_wasm.js, base64), so loading needs no fetch and no file
 * access. Each build is compiled once and instantiated once, synchronously,
 * on first use; later calls return the same exports. (Browsers' main thread
 * limits synchronous compilation of large modules; call `compileCoreAsync()`
 * first there.)
 *
 * An `abort` from AssemblyScript (not emitted by the release build, which
 * has no assertions, but kept for any debug build) throws an Error naming
 * the message, file, line and column.
 *
 * @module
 */
import { WASM_BASE64 } from "./tmk_core_wasm.js";
import { WASM_BASE64 as FMA_WASM_BASE64 } from "./tmk_core_fma_wasm.js";

/** The embedded builds by variant name. */
const BUILDS = { simd: WASM_BASE64, fma: FMA_WASM_BASE64 };

/** @type {Record<string, WebAssembly.Module | null>} */
const compiled = { simd: null, fma: null };
/** @type {Record<string, import("./loader.d.ts").CoreExports | null>} */
const exportsCache = { simd: null, fma: null };
/** @type {import("./loader.d.ts").CoreVariant | null} */
let chosen = null;

/**
 * A 78-byte module whose one function returns f64x2.relaxed_madd(a, a, -hi)
 * for a = 2^52 + 1 and hi = fl(a a): 1 where the multiply-add is fused, 0
 * where it is not. It tells, before the large build is compiled, whether the
 * runtime takes relaxed SIMD at all and fuses.
 */
const PROBE_HEX =
  "0061736d010000000105016000017c03020100070c010866757365644c6f7700000a2b012901027c" +
  "440100000000003043210020002000a221012000fd142000fd1420019afd14fd8702fd21000b";

function decodeHex(hex) {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** True if this runtime validates relaxed SIMD and fuses `f64x2.relaxed_madd`. */
export function fusedMultiplyAdd() {
  const probe = decodeHex(PROBE_HEX);
  if (!WebAssembly.validate(probe)) return false;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(probe));
  return /** @type {() => number} */ (instance.exports.fusedLow)() === 1;
}

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

/**
 * The variant the core uses here: "fma" (relaxed SIMD, the paired f64 RSA
 * kernels) where the probe shows a fused multiply-add and the fma build's
 * own `pairFused()` confirms it, else "simd" (also if the fma build fails to
 * compile or instantiate). Decided once.
 *
 * @returns {import("./loader.d.ts").CoreVariant}
 */
export function coreVariant() {
  if (chosen !== null) return chosen;
  chosen = "simd";
  if (!fusedMultiplyAdd()) return chosen;
  try {
    if (coreExports("fma").pairFused() === 1) chosen = "fma";
  } catch {
    // the fma build does not compile or instantiate here although the probe did: use simd
  }
  return chosen;
}

/**
 * The WebAssembly.Module of a variant (default: {@link coreVariant}), compiled on first use.
 *
 * @param {import("./loader.d.ts").CoreVariant} [variant]
 */
export function coreModule(variant = coreVariant()) {
  const m = compiled[variant] ??
    new WebAssembly.Module(decodeBase64(BUILDS[variant]));
  compiled[variant] = m;
  return m;
}

/**
 * Compiles asynchronously (for browsers' main thread); later calls are synchronous.
 *
 * @param {import("./loader.d.ts").CoreVariant} [variant] default: the fma build if the
 *   runtime fuses (the probe is a tiny module, compiled synchronously), else simd
 */
export async function compileCoreAsync(variant) {
  const v = variant ?? (chosen ?? (fusedMultiplyAdd() ? "fma" : "simd"));
  if (compiled[v] === null) {
    compiled[v] = await WebAssembly.compile(decodeBase64(BUILDS[v]));
  }
  return compiled[v];
}

/**
 * The exports of a variant's (single, cached) instance.
 *
 * @param {import("./loader.d.ts").CoreVariant} [variant] default: {@link coreVariant}
 */
export function coreExports(variant = coreVariant()) {
  const cached = exportsCache[variant];
  if (cached !== null) return cached;
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
  const instance = new WebAssembly.Instance(coreModule(variant), imports);
  memory = /** @type {WebAssembly.Memory} */ (instance.exports.memory);
  const x = /** @type {any} */ (instance.exports);
  exportsCache[variant] = x;
  return x;
}
