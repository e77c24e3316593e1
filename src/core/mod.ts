/**
 * The crypto core: TDES, AES, SHA-1/SHA-256 and RSA modular arithmetic, in two
 * interchangeable implementations: WebAssembly (built from `asm/`, the
 * default) and pure JS (node-forge).
 *
 * @example
 * ```ts
 * import { loadCore } from "./mod.ts";
 * const core = await loadCore();
 * const digest = core.sha256(new TextEncoder().encode("abc"));
 * ```
 *
 * @module
 */
import type { CryptoCore } from "./types.ts";
import { jsCore } from "./js_core.ts";
import { wasmCore } from "./wasm_core.ts";

export type { CryptoCore, RsaPrivateKey, RsaPublicKey } from "./types.ts";
/**
 * node-forge as the JS core sets it up (pure JavaScript, corrected jsbn
 * division) and its byte conversions: what the PKI builds certificates with.
 */
export { forge, fromBigInteger, fromBinary, toBigInteger, toBinary } from "./_forge.ts";

/** The names {@link loadCore} accepts. */
export type CoreName = "wasm" | "js";

/**
 * Loads a crypto core.
 *
 * @param name `"wasm"` (default) or `"js"`.
 * @returns the core; the same object on every call with the same name.
 * @throws {RangeError} for an unknown name.
 */
export function loadCore(name: CoreName = "wasm"): Promise<CryptoCore> {
  if (name === "js") return Promise.resolve(jsCore);
  if (name === "wasm") {
    try {
      wasmCore.sha256(new Uint8Array(0)); // instantiates the module once, here
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve(wasmCore);
  }
  return Promise.reject(new RangeError(`name must be "wasm" or "js", got ${JSON.stringify(name)}`));
}
