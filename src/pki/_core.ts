/**
 * Internal: the default-core rule of `src/pki`: `options.core` if given,
 * otherwise `await loadCore()` (the wasm core). `describe` is the one of
 * `src/crypto`, re-exported for the files of this folder.
 *
 * @module
 */
import { type CryptoCore, loadCore } from "../core/mod.ts";
import { describe } from "../crypto/mod.ts";

/** Options of every core-using function of `src/pki`. */
export interface CoreOptions {
  /** The crypto core to sign on; default: `await loadCore()`. */
  core?: CryptoCore;
}

export { describe };

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
