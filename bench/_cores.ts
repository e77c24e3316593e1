/**
 * The crypto cores every benchmark compares: the wasm core (the default, the
 * baseline) and the pure-JS core.
 *
 * @module
 */
import { type CoreName, type CryptoCore, loadCore } from "../src/core/mod.ts";

/** The names of the cores, baseline first. */
export const CORE_NAMES: readonly CoreName[] = ["wasm", "js"];

/** Loads every core of {@link CORE_NAMES}. */
export async function allCores(): Promise<CryptoCore[]> {
  return await Promise.all(CORE_NAMES.map((n) => loadCore(n)));
}
