/**
 * Probe: does this runtime fuse WebAssembly's `f64x2.relaxed_madd`?
 *
 * Relaxed SIMD lets `f64x2.relaxed_madd(a, b, c)` round once (fused) or
 * twice (a multiply, then an add); a Montgomery multiplication on f64 limbs
 * needs the exact low half of a product, which only the fused form gives.
 * So a wasm module built on it may be chosen only where the result is fused,
 * not merely where the module validates. The probe is one function of a
 * 78-byte module: with a = 2^52 + 1 and hi = fl(a * a) = 2^104 + 2^53, it
 * returns relaxed_madd(a, a, -hi), which is 1 when fused (a * a - hi exactly)
 * and 0 when not (fl(a * a) - hi).
 *
 * Plain JS for every runtime: `deno run bench/_fma_probe.mjs`,
 * `node bench/_fma_probe.mjs` (Node 20 needs `--experimental-wasm-relaxed-simd`).
 * The bytes are the binaryen encoding of:
 *
 * ```wat
 * (module (func (export "fusedLow") (result f64) (local $a f64) (local $hi f64)
 *   (local.set $a (f64.const 4503599627370497))
 *   (local.set $hi (f64.mul (local.get $a) (local.get $a)))
 *   (f64x2.extract_lane 0 (f64x2.relaxed_madd (f64x2.splat (local.get $a))
 *     (f64x2.splat (local.get $a)) (f64x2.splat (f64.neg (local.get $hi)))))))
 * ```
 */
const PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 124, 3, 2, 1, 0, 7, 12, 1, 8, 102, 117, 115, 101,
  100, 76, 111, 119, 0, 0, 10, 43, 1, 41, 1, 2, 124, 68, 1, 0, 0, 0, 0, 0, 48, 67, 33, 0, 32, 0, 32,
  0, 162, 33, 1, 32, 0, 253, 20, 32, 0, 253, 20, 32, 1, 154, 253, 20, 253, 135, 2, 253, 33, 0, 11,
]);

/**
 * @returns {"fused" | "not fused" | "refused"} what this runtime does with the probe.
 */
export function relaxedMaddProbe() {
  if (!WebAssembly.validate(PROBE)) return "refused";
  const { fusedLow } = new WebAssembly.Instance(new WebAssembly.Module(PROBE)).exports;
  return fusedLow() === 1 ? "fused" : "not fused";
}

const runtime = globalThis.Deno
  ? `Deno ${globalThis.Deno.version.deno}`
  : globalThis.Bun
  ? `Bun ${globalThis.Bun.version}`
  : globalThis.process?.versions?.node
  ? `Node ${globalThis.process.versions.node}`
  : "this runtime";
console.log(`${runtime}: f64x2.relaxed_madd ${relaxedMaddProbe()}`);
