/**
 * Probe: does this runtime fuse WebAssembly's `f64x2.relaxed_madd`?
 *
 * Relaxed SIMD lets `f64x2.relaxed_madd(a, b, c)` round once (fused) or
 * twice (a multiply, then an add); a Montgomery multiplication on f64 limbs
 * needs the exact low half of a product, which only the fused form gives.
 * So a wasm module built on it may be chosen only where the result is fused,
 * not merely where the module validates. The probe is one function of a
 * 78-byte module (hex below): with a = 2^52 + 1 and hi = fl(a * a) = 2^104 + 2^53, it
 * returns relaxed_madd(a, a, -hi), which is 1 when fused (a * a - hi exactly)
 * and 0 when not (fl(a * a) - hi).
 *
 * Plain JS for every runtime: `deno run bench/_fma_probe.mjs`,
 * `node bench/_fma_probe.mjs` (Node 20 needs `--experimental-wasm-relaxed-simd`), Bun.
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
const PROBE = Uint8Array.from(
  ("0061736d010000000105016000017c03020100070c010866757365644c6f7700000a2b012901027c" +
    "440100000000003043210020002000a221012000fd142000fd1420019afd14fd8702fd21000b").match(/../g) ??
    [],
  (x) => parseInt(x, 16),
);

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
