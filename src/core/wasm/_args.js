// @ts-self-types="./_args.d.ts"
/**
 * Argument checks of the package's CryptoCore API (the same checks, in the
 * same order, with the same messages as the project's `src/core/_args.ts`,
 * so the wasm core and the pure-JS core throw identical errors).
 *
 * `TypeError` for a wrong type, `RangeError` for a wrong length or value; the
 * message names the argument, what it got and what was expected.
 *
 * @module
 */

/** Largest modulus accepted, in bits. */
export const MAX_MODULUS_BITS = 4096;

/** @param {unknown} value */
function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return typeof value;
}

/**
 * @param {string} name
 * @param {unknown} value
 */
export function checkBytes(name, value) {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
  }
}

/** @param {unknown} key */
export function checkTdesKey(key) {
  checkBytes("key", key);
  if (key.length !== 16 && key.length !== 24) {
    throw new RangeError(`key must be 16 or 24 bytes (TDES), got ${key.length}`);
  }
}

/**
 * @param {string} name
 * @param {unknown} data
 */
export function checkBlocks(name, data) {
  checkBytes(name, data);
  if (data.length % 8 !== 0) {
    throw new RangeError(
      `${name} must be a whole number of 8-byte blocks, got ${data.length} bytes`,
    );
  }
}

/** @param {unknown} iv */
export function checkIv(iv) {
  checkBytes("iv", iv);
  if (iv.length !== 8) throw new RangeError(`iv must be 8 bytes, got ${iv.length}`);
}

/** @param {unknown} key */
export function checkAesKey(key) {
  checkBytes("key", key);
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`key must be 16, 24 or 32 bytes (AES), got ${key.length}`);
  }
}

/** @param {unknown} data */
export function checkAesBlocks(data) {
  checkBytes("data", data);
  if (data.length % 16 !== 0) {
    throw new RangeError(
      `data must be a whole number of 16-byte blocks, got ${data.length} bytes`,
    );
  }
}

/** @param {unknown} iv */
export function checkAesIv(iv) {
  checkBytes("iv", iv);
  if (iv.length !== 16) throw new RangeError(`iv must be 16 bytes, got ${iv.length}`);
}

/**
 * Strips leading zero bytes (a view, not a copy).
 * @param {Uint8Array} x
 * @returns {Uint8Array}
 */
export function stripLeadingZeros(x) {
  let i = 0;
  while (i < x.length && x[i] === 0) i++;
  return x.subarray(i);
}

/**
 * Compares two big-endian unsigned numbers: -1, 0 or 1.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
export function compareBig(a, b) {
  const x = stripLeadingZeros(a);
  const y = stripLeadingZeros(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

/**
 * A modulus: bytes, odd, greater than 1, at most {@link MAX_MODULUS_BITS}.
 * @param {string} name
 * @param {unknown} m
 */
export function checkModulus(name, m) {
  checkBytes(name, m);
  const s = stripLeadingZeros(m);
  if (s.length === 0) throw new RangeError(`${name} must not be zero`);
  if ((s[s.length - 1] & 1) === 0) throw new RangeError(`${name} must be odd`);
  if (s.length === 1 && s[0] === 1) throw new RangeError(`${name} must be greater than 1`);
  const bits = s.length * 8 - Math.clz32(s[0]) + 24;
  if (bits > MAX_MODULUS_BITS) {
    throw new RangeError(`${name} must be at most ${MAX_MODULUS_BITS} bits, got ${bits}`);
  }
}

/**
 * @param {unknown} base
 * @param {unknown} exponent
 * @param {unknown} modulus
 */
export function checkModPow(base, exponent, modulus) {
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

const RSA_FIELDS = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];

/**
 * @param {unknown} key
 * @param {unknown} input
 */
export function checkRsaPrivate(key, input) {
  if (key === null || typeof key !== "object") {
    throw new TypeError(`key must be an RsaPrivateKey object, got ${describe(key)}`);
  }
  for (const f of RSA_FIELDS) checkBytes(`key.${f}`, key[f]);
  checkModulus("key.n", key.n);
  checkModulus("key.p", key.p);
  checkModulus("key.q", key.q);
  if (compareBig(key.dp, key.p) >= 0) throw new RangeError("key.dp must be less than key.p");
  if (compareBig(key.dq, key.q) >= 0) throw new RangeError("key.dq must be less than key.q");
  if (compareBig(key.qi, key.p) >= 0) throw new RangeError("key.qi must be less than key.p");
  checkBytes("input", input);
  if (compareBig(input, key.n) >= 0) throw new RangeError("input must be less than key.n");
}

/**
 * Left-pads a big-endian number to `length` bytes (throws if it does not fit).
 * @param {Uint8Array} x
 * @param {number} length
 * @returns {Uint8Array}
 */
export function padTo(x, length) {
  const s = stripLeadingZeros(x);
  if (s.length > length) throw new RangeError(`value does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  out.set(s, length - s.length);
  return out;
}
