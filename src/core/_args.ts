/**
 * Argument checks shared by both cores, so that both throw the same errors
 * for the same bad input.
 *
 * @module
 */
import type { RsaPrivateKey } from "./types.ts";

/** Largest modulus the cores accept, in bits. */
export const MAX_MODULUS_BITS = 4096;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object";
  return typeof value;
}

/** Throws `TypeError` unless `value` is a `Uint8Array`. */
export function checkBytes(name: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
  }
}

/** Checks a TDES key: 16 or 24 bytes. */
export function checkTdesKey(key: unknown): asserts key is Uint8Array {
  checkBytes("key", key);
  if (key.length !== 16 && key.length !== 24) {
    throw new RangeError(`key must be 16 or 24 bytes (TDES), got ${key.length}`);
  }
}

/** Checks data of whole 8-byte blocks (empty allowed). */
export function checkBlocks(name: string, data: unknown): asserts data is Uint8Array {
  checkBytes(name, data);
  if (data.length % 8 !== 0) {
    throw new RangeError(
      `${name} must be a whole number of 8-byte blocks, got ${data.length} bytes`,
    );
  }
}

/** Checks an 8-byte IV. */
export function checkIv(iv: unknown): asserts iv is Uint8Array {
  checkBytes("iv", iv);
  if (iv.length !== 8) throw new RangeError(`iv must be 8 bytes, got ${iv.length}`);
}

/** Strips leading zero bytes (a view, not a copy). */
export function stripLeadingZeros(x: Uint8Array): Uint8Array {
  let i = 0;
  while (i < x.length && x[i] === 0) i++;
  return x.subarray(i);
}

/** Compares two big-endian unsigned numbers: -1, 0 or 1. */
export function compareBig(a: Uint8Array, b: Uint8Array): number {
  const x = stripLeadingZeros(a);
  const y = stripLeadingZeros(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

/** Checks a modulus: bytes, odd, greater than 1, at most {@link MAX_MODULUS_BITS}. */
export function checkModulus(name: string, m: unknown): asserts m is Uint8Array {
  checkBytes(name, m);
  const s = stripLeadingZeros(m);
  if (s.length === 0) throw new RangeError(`${name} must not be zero`);
  if ((s[s.length - 1] & 1) === 0) throw new RangeError(`${name} must be odd`);
  if (s.length === 1 && s[0] === 1) throw new RangeError(`${name} must be greater than 1`);
  if (s.length * 8 - Math.clz32(s[0]) + 24 > MAX_MODULUS_BITS) {
    throw new RangeError(
      `${name} must be at most ${MAX_MODULUS_BITS} bits, got ${
        s.length * 8 - Math.clz32(s[0]) + 24
      }`,
    );
  }
}

/** Checks the arguments of `modPow`. */
export function checkModPow(base: unknown, exponent: unknown, modulus: unknown): void {
  checkBytes("base", base);
  checkBytes("exponent", exponent);
  checkModulus("modulus", modulus);
  if (compareBig(base, modulus) >= 0) {
    throw new RangeError("base must be less than modulus");
  }
  if (stripLeadingZeros(exponent).length * 8 > MAX_MODULUS_BITS) {
    throw new RangeError(`exponent must be at most ${MAX_MODULUS_BITS} bits`);
  }
}

const RSA_FIELDS = ["n", "e", "d", "p", "q", "dp", "dq", "qi"] as const;

/** Checks the arguments of `rsaPrivate`. */
export function checkRsaPrivate(key: unknown, input: unknown): asserts key is RsaPrivateKey {
  if (key === null || typeof key !== "object") {
    throw new TypeError(`key must be an RsaPrivateKey object, got ${describe(key)}`);
  }
  const k = key as Record<string, unknown>;
  for (const f of RSA_FIELDS) checkBytes(`key.${f}`, k[f]);
  const rk = key as RsaPrivateKey;
  checkModulus("key.n", rk.n);
  checkModulus("key.p", rk.p);
  checkModulus("key.q", rk.q);
  if (compareBig(rk.dp, rk.p) >= 0) throw new RangeError("key.dp must be less than key.p");
  if (compareBig(rk.dq, rk.q) >= 0) throw new RangeError("key.dq must be less than key.q");
  if (compareBig(rk.qi, rk.p) >= 0) throw new RangeError("key.qi must be less than key.p");
  checkBytes("input", input);
  if (compareBig(input, rk.n) >= 0) throw new RangeError("input must be less than key.n");
}

/** Left-pads a big-endian number to `length` bytes (throws if it does not fit). */
export function padTo(x: Uint8Array, length: number): Uint8Array {
  const s = stripLeadingZeros(x);
  if (s.length > length) throw new RangeError(`value does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  out.set(s, length - s.length);
  return out;
}
