/**
 * The cores tests/core runs each table against: every core of
 * tests/_helpers.ts (the wasm core on the build this runtime chooses, and the
 * JS core), then the wasm core's other build wherever it can run here: the
 * "simd" build always, the "fma" build (relaxed SIMD, paired f64 RSA
 * kernels) only where `f64x2.relaxed_madd` is fused. So under Deno both wasm
 * builds pass every table.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/types.ts";
import { fusedMultiplyAdd } from "../../src/core/wasm/loader.js";
import { coreVariant, wasmCoreFor } from "../../src/core/wasm/mod.js";
import { allCores } from "../_helpers.ts";

const labels = new WeakMap<CryptoCore, string>();

/** The cores to test, in the order described above. */
export async function coresUnderTest(): Promise<CryptoCore[]> {
  const cores = await allCores();
  const chosen = coreVariant();
  for (const c of cores) labels.set(c, c.name === "wasm" ? `wasm ${chosen}` : c.name);
  const others = chosen === "fma" ? ["simd" as const] : fusedMultiplyAdd() ? ["fma" as const] : [];
  for (const v of others) {
    const c = wasmCoreFor(v);
    labels.set(c, `wasm ${v}`);
    cores.push(c);
  }
  return cores;
}

/** The wasm builds that run correctly here: "simd" always, "fma" where the multiply-add is fused. */
export function wasmVariants(): ("simd" | "fma")[] {
  return fusedMultiplyAdd() ? ["simd", "fma"] : ["simd"];
}

/** A core's name in test names: "wasm fma", "wasm simd" or "js". */
export function label(core: CryptoCore): string {
  return labels.get(core) ?? core.name;
}
