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

/** The parts of forge's jsbn BigInteger that the division fix below touches. */
interface JsbnInternals {
  s: number;
  compareTo(b: JsbnInternals): number;
  subTo(b: JsbnInternals, r: JsbnInternals): void;
  dAddOffset(n: number, w: number): void;
  divRemTo(m: JsbnInternals, q: JsbnInternals | null, r: JsbnInternals | null): void;
}

/**
 * forge's jsbn division (`divRemTo`, behind `mod`, `divide` and every
 * modular reduction of `modPow`) now and then leaves the remainder one
 * divisor too large: about 2 in 1,000 divisions of `(n - 1)^2` by a modulus
 * `n` whose top 16 bits are set (found by tests/core/core_sweep_test.ts on
 * the JS core: a 4096-bit `modPow(n - 1, 2, n)` gave `n + 1`, not 1). For
 * nonnegative operands, the only ones this project divides, the remainder
 * is brought below the divisor and the quotient raised to match after each
 * division. Other signs are left as forge computes them. This changes
 * forge's BigInteger for the whole process (forge's own RSA code included),
 * which is the point: nothing here should use the faulty division.
 */
function fixJsbnDivision(): void {
  const BigInteger = forge.jsbn.BigInteger as unknown as {
    new (): JsbnInternals;
    prototype: JsbnInternals;
  };
  const proto = BigInteger.prototype;
  const original = proto.divRemTo;
  if ((original as { fixed?: boolean }).fixed) return;
  const fixed = function (
    this: JsbnInternals,
    m: JsbnInternals,
    q: JsbnInternals | null,
    r: JsbnInternals | null,
  ): void {
    const rem = r ?? new BigInteger();
    original.call(this, m, q, rem);
    if (this.s < 0 || m.s < 0) return;
    while (rem.compareTo(m) >= 0) {
      rem.subTo(m, rem);
      q?.dAddOffset(1, 0);
    }
  };
  (fixed as { fixed?: boolean }).fixed = true;
  proto.divRemTo = fixed;
}
fixJsbnDivision();

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
