/**
 * Runs checks.mjs on every build of the @tmk/wasm-core package that runs in
 * this runtime: the "simd" build always, the "fma" build (relaxed SIMD, the
 * paired f64 RSA kernels) where `f64x2.relaxed_madd` is fused. Also checks
 * that the package chose the fma build exactly where the multiply-add is
 * fused. Failures are prefixed with the build's name.
 *
 * Takes the package's two modules as arguments, so the same file serves the
 * repository's copy (cli.mjs, the browser) and an installed one (npm-package).
 *
 * @module
 */
import { runChecks } from "./checks.mjs";

/**
 * @param {typeof import("../../src/core/wasm/mod.js")} pkg the package (`@tmk/wasm-core`)
 * @param {typeof import("../../src/core/wasm/loader.js")} loader its `./loader` export
 * @returns {Promise<{ builds: string, passed: number, failed: number, failures: string[] }>}
 */
export async function runEveryBuild(pkg, loader) {
  await pkg.loadWasmCore();
  const fused = loader.fusedMultiplyAdd();
  const chosen = pkg.coreVariant();
  let passed = 0;
  const failures = [];
  if (chosen === (fused ? "fma" : "simd")) passed++;
  else failures.push(`chose the ${chosen} build, fused multiply-add: ${fused}`);
  const builds = fused ? ["fma", "simd"] : ["simd"];
  for (const b of builds) {
    const r = await runChecks(pkg.wasmCoreFor(b));
    passed += r.passed;
    failures.push(...r.failures.map((f) => `[${b}] ${f}`));
  }
  return {
    builds: `${builds.join("+")}, chosen ${chosen}`,
    passed,
    failed: failures.length,
    failures,
  };
}
