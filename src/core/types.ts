/**
 * The interface both crypto cores implement (docs/ARCHITECTURE.md, "Contracts
 * other code relies on").
 *
 * Byte strings are `Uint8Array`; big numbers are big-endian unsigned byte
 * strings. Every method checks its arguments and throws `TypeError` for a
 * wrong type and `RangeError` for a wrong length or value, naming the argument.
 *
 * @module
 */

// The contract is written once, in the wasm package's own declarations, which
// the package ships to Node, Bun and browser users; the JS core implements the
// same interface.
export type { CryptoCore, RsaPrivateKey } from "./wasm/mod.d.ts";

/** An RSA public key, big-endian unsigned. */
export interface RsaPublicKey {
  /** The modulus. */
  n: Uint8Array;
  /** The public exponent. */
  e: Uint8Array;
}
