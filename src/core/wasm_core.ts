/**
 * The WebAssembly crypto core: TDEA (NIST SP 800-67), AES (FIPS 197,
 * constant time, for the AES-256 LMK's key blocks), SHA-1 / SHA-256
 * (FIPS 180-4), Montgomery modular exponentiation and the RSA CRT private
 * operation (RFC 8017 section 5.1.2), compiled from asm/.
 *
 * The binding (argument checks, copying into the core's fixed buffers,
 * zeroing them after each call) lives in the @tmk/wasm-core package,
 * `wasm/mod.js`, a plain ES module that also runs in Node, Bun and browsers;
 * this module gives the project that same object, so the project's tests and
 * the package's runtime checks exercise one implementation.
 *
 * @module
 */
import type { CryptoCore } from "./types.ts";
import { wasmCore as packaged } from "./wasm/mod.js";

/** The wasm core. Use {@link loadCore} (the default, `"wasm"`) rather than this object directly. */
export const wasmCore: CryptoCore = packaged;
