/**
 * Internal: the default-core rule of `src/pki` (TEAM.md): `options.core` if
 * given, otherwise `await loadCore()` (the wasm core).
 *
 * @module
 */
import { type CryptoCore, loadCore } from "../core/mod.ts";

/** Options of every core-using function of `src/pki`. */
export interface CoreOptions {
  /** The crypto core to sign on; default: `await loadCore()`. */
  core?: CryptoCore;
}

/** A short description of a value's type for error messages (never its content). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object";
  return typeof value;
}

/**
 * Returns `options.core`, or the default core.
 *
 * @throws {TypeError} if `options` is not an object or `options.core` is not a core.
 */
export async function defaultCore(options: unknown): Promise<CryptoCore> {
  if (options === undefined) return await loadCore();
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `options must be an object, got ${options === null ? "null" : typeof options}`,
    );
  }
  const core = (options as { core?: unknown }).core;
  if (core === undefined) return await loadCore();
  if (
    core === null || typeof core !== "object" ||
    typeof (core as CryptoCore).rsaPrivate !== "function" ||
    typeof (core as CryptoCore).sha256 !== "function"
  ) {
    throw new TypeError(`options.core must be a CryptoCore, got ${describe(core)}`);
  }
  return core as CryptoCore;
}
