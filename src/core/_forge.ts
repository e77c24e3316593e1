/**
 * node-forge, set up once for this project: pure JavaScript everywhere (forge
 * otherwise calls node:crypto for RSA key generation, even under Deno).
 *
 * forge is used for arithmetic and as a second, independent implementation of
 * the primitives; no RSA scheme of the project relies on forge's own padding
 * or signature checks.
 *
 * @module
 */
// @ts-types="@types/node-forge"
import forge from "node-forge";

// `options` is missing from @types/node-forge.
(forge as unknown as { options: { usePureJavaScript: boolean } }).options.usePureJavaScript = true;

export { forge };

/** Bytes to forge's binary string. */
export function toBinary(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return s;
}

/** forge's binary string to bytes. */
export function fromBinary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Big-endian unsigned bytes to a forge BigInteger. */
export function toBigInteger(bytes: Uint8Array): forge.jsbn.BigInteger {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return new forge.jsbn.BigInteger(hex.length ? hex : "0", 16);
}

/** A forge BigInteger to big-endian unsigned bytes of exactly `length` bytes. */
export function fromBigInteger(x: forge.jsbn.BigInteger, length: number): Uint8Array {
  let hex = x.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  const n = hex.length / 2;
  if (n > length) throw new RangeError(`value does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  for (let i = 0; i < n; i++) out[length - n + i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}
