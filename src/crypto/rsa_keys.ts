/**
 * RSA keys: validation, and import/export as PKCS#8 (RFC 5958) and SPKI
 * (RFC 5280) in DER and PEM (RFC 7468), PKCS#1 (RFC 8017 A.1) on import, and
 * JWK (RFC 7517/7518 6.3). The key objects are the core's `RsaPrivateKey` and
 * `RsaPublicKey` (big-endian unsigned byte strings, minimal: no leading zeros).
 *
 * The files written here are read by `node:crypto` (`createPrivateKey`,
 * `createPublicKey`) and OpenSSL; keys they write are read here.
 *
 * @module
 */
import type { RsaPrivateKey, RsaPublicKey } from "../core/mod.ts";
import { stripZeros, toBig } from "./_bigint.ts";
import { checkBytes, describe } from "./_core.ts";
import { children, readOne, readUnsigned, RSA_ALGORITHM_ID, TAG, tlv, uint } from "./_der.ts";
import { RsaKeyError } from "./errors.ts";

export type { RsaPrivateKey, RsaPublicKey };

/** Smallest and largest modulus accepted, in bits (the cores support up to 4096). */
export const MIN_MODULUS_BITS = 1024;
/** Largest modulus accepted, in bits. */
export const MAX_MODULUS_BITS = 4096;

const PRIVATE_FIELDS = ["n", "e", "d", "p", "q", "dp", "dq", "qi"] as const;

function minimal(name: string, v: unknown): Uint8Array {
  checkBytes(name, v);
  return stripZeros(v);
}

/** Whether `a < b`, both minimal big-endian bytes (no leading zero but for 0 itself). */
function minimalBelow(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return a.length < b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/**
 * Checks an RSA public key's shape and returns it with minimal fields.
 *
 * @param key `{ n, e }`.
 * @returns the key with leading zero bytes removed (views, not copies).
 * @throws {TypeError} if it is not an object of `Uint8Array` fields.
 * @throws {RsaKeyError} if `n` is even or outside 1024..4096 bits, or `e` is even or < 3
 *   or not below `n`.
 */
export function checkRsaPublicKey(key: RsaPublicKey): RsaPublicKey {
  if (key === null || typeof key !== "object") {
    throw new TypeError(`key must be an RsaPublicKey object, got ${describe(key)}`);
  }
  const n = minimal("key.n", key.n);
  const e = minimal("key.e", key.e);
  // Public values, read from their minimal bytes.
  const nBits = n.length === 0 ? 0 : (n.length - 1) * 8 + 32 - Math.clz32(n[0]);
  if (nBits < MIN_MODULUS_BITS || nBits > MAX_MODULUS_BITS) {
    throw new RsaKeyError(
      `key.n must be ${MIN_MODULUS_BITS} to ${MAX_MODULUS_BITS} bits, got ${nBits}`,
    );
  }
  if ((n[n.length - 1] & 1) === 0) throw new RsaKeyError("key.n must be odd");
  if ((e.length === 1 && e[0] < 3) || (e[e.length - 1] & 1) === 0) {
    throw new RsaKeyError("key.e must be odd and at least 3");
  }
  if (!minimalBelow(e, n)) throw new RsaKeyError("key.e must be less than key.n");
  return { n, e };
}

/**
 * Checks an RSA private key's shape (cheap checks only) and returns it with
 * minimal fields. Consistency (n = pq, CRT values) is checked by
 * {@link validateRsaPrivateKey} at import and generation, and every private
 * operation re-encrypts its result.
 *
 * @throws {TypeError} if a field is missing or not a `Uint8Array`.
 * @throws {RsaKeyError} as {@link checkRsaPublicKey}, or if a CRT field is zero.
 */
export function checkRsaPrivateKey(key: RsaPrivateKey): RsaPrivateKey {
  if (key === null || typeof key !== "object") {
    throw new TypeError(`key must be an RsaPrivateKey object, got ${describe(key)}`);
  }
  const out = {} as Record<(typeof PRIVATE_FIELDS)[number], Uint8Array>;
  for (const f of PRIVATE_FIELDS) out[f] = minimal(`key.${f}`, key[f]);
  checkRsaPublicKey(out);
  for (const f of PRIVATE_FIELDS) {
    if (out[f].length === 1 && out[f][0] === 0) throw new RsaKeyError(`key.${f} must not be zero`);
  }
  return out;
}

/**
 * Full consistency check of a private key (BigInt arithmetic): n = p*q,
 * p != q, e*d = 1 mod lcm(p-1, q-1), dp = d mod (p-1), dq = d mod (q-1),
 * qi * q = 1 mod p.
 *
 * @param key the private key.
 * @throws {RsaKeyError} naming the first relation that fails.
 */
export function validateRsaPrivateKey(key: RsaPrivateKey): void {
  const k = checkRsaPrivateKey(key);
  const [n, e, d, p, q, dp, dq, qi] = PRIVATE_FIELDS.map((f) => toBig(k[f]));
  if (p === q) throw new RsaKeyError("key.p and key.q must differ");
  if (p < 2n || q < 2n) throw new RsaKeyError("key.p and key.q must be greater than 1");
  if (p * q !== n) throw new RsaKeyError("key.n must equal key.p * key.q");
  // e*d = 1 mod lcm(p-1, q-1) exactly when e*d = 1 modulo both p-1 and q-1 (and then e is
  // coprime to the lcm); qi = q^-1 mod p exactly when qi < p and qi*q = 1 mod p. No inverse
  // or gcd needs computing.
  const ed1 = e * d - 1n;
  if (ed1 % (p - 1n) !== 0n || ed1 % (q - 1n) !== 0n) {
    throw new RsaKeyError("key.d must be an inverse of key.e modulo lcm(p-1, q-1)");
  }
  if (dp !== d % (p - 1n)) throw new RsaKeyError("key.dp must equal key.d mod (key.p - 1)");
  if (dq !== d % (q - 1n)) throw new RsaKeyError("key.dq must equal key.d mod (key.q - 1)");
  if (qi >= p || (qi * q) % p !== 1n) {
    throw new RsaKeyError("key.qi must equal key.q^-1 mod key.p");
  }
}

/**
 * The public half of a private key.
 *
 * @param key the private key.
 * @returns `{ n, e }` (copies).
 * @throws {TypeError} / {RsaKeyError} as {@link checkRsaPrivateKey}.
 */
export function publicKeyOf(key: RsaPrivateKey): RsaPublicKey {
  const k = checkRsaPrivateKey(key);
  return { n: k.n.slice(), e: k.e.slice() };
}

/** The modulus length in bytes (k in RFC 8017). */
export function modulusBytes(key: RsaPublicKey): number {
  return stripZeros(key.n).length;
}

// --- DER ------------------------------------------------------------------------------------

function rsaPublicKeyDer(k: RsaPublicKey): Uint8Array {
  return tlv(TAG.SEQUENCE, uint(k.n), uint(k.e));
}

function rsaPrivateKeyDer(k: RsaPrivateKey): Uint8Array {
  return tlv(
    TAG.SEQUENCE,
    uint(new Uint8Array([0])),
    ...PRIVATE_FIELDS.map((f) => uint(k[f])),
  );
}

function parseRsaPublicKey(der: Uint8Array, what: string): RsaPublicKey {
  const c = children(readOne(der, TAG.SEQUENCE, what), what);
  if (c.length !== 2) throw new RsaKeyError(`${what}: RSAPublicKey must have 2 fields`);
  return checkRsaPublicKey({
    n: readUnsigned(c[0], `${what} n`).slice(),
    e: readUnsigned(c[1], `${what} e`).slice(),
  });
}

function parseRsaPrivateKey(der: Uint8Array, what: string): RsaPrivateKey {
  const c = children(readOne(der, TAG.SEQUENCE, what), what);
  if (c.length !== 9) {
    throw new RsaKeyError(`${what}: RSAPrivateKey must have 9 fields (two-prime), got ${c.length}`);
  }
  const version = readUnsigned(c[0], `${what} version`);
  if (version.length !== 1 || version[0] !== 0) {
    throw new RsaKeyError(`${what}: RSAPrivateKey version must be 0 (two-prime)`);
  }
  const k = {} as Record<(typeof PRIVATE_FIELDS)[number], Uint8Array>;
  PRIVATE_FIELDS.forEach((f, i) => (k[f] = readUnsigned(c[i + 1], `${what} ${f}`).slice()));
  validateRsaPrivateKey(k);
  return checkRsaPrivateKey(k);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function checkAlgorithm(alg: Uint8Array, what: string): void {
  // AlgorithmIdentifier must be rsaEncryption with NULL parameters (RFC 8017 A.1).
  if (!sameBytes(tlv(TAG.SEQUENCE, alg), RSA_ALGORITHM_ID)) {
    throw new RsaKeyError(
      `${what}: algorithm must be rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters`,
    );
  }
}

/**
 * Encodes a private key as PKCS#8 PrivateKeyInfo DER (RFC 5958).
 *
 * @param key the private key.
 * @returns the DER bytes.
 * @throws {TypeError} / {RsaKeyError} for a malformed key.
 */
export function exportPkcs8Der(key: RsaPrivateKey): Uint8Array {
  const k = checkRsaPrivateKey(key);
  return tlv(
    TAG.SEQUENCE,
    uint(new Uint8Array([0])),
    RSA_ALGORITHM_ID,
    tlv(TAG.OCTET_STRING, rsaPrivateKeyDer(k)),
  );
}

/**
 * Encodes a public key as SubjectPublicKeyInfo DER (RFC 5280 4.1).
 *
 * @param key the public key (a private key is accepted: its public half is used).
 * @returns the DER bytes.
 * @throws {TypeError} / {RsaKeyError} for a malformed key.
 */
export function exportSpkiDer(key: RsaPublicKey): Uint8Array {
  const k = checkRsaPublicKey(key);
  return tlv(
    TAG.SEQUENCE,
    RSA_ALGORITHM_ID,
    tlv(TAG.BIT_STRING, new Uint8Array([0]), rsaPublicKeyDer(k)),
  );
}

/**
 * Decodes a PKCS#8 PrivateKeyInfo (RFC 5958) holding an RSA key, and checks
 * the key's consistency.
 *
 * @param der the DER bytes.
 * @returns the private key (minimal fields, copies).
 * @throws {TypeError} if `der` is not a `Uint8Array`.
 * @throws {RsaKeyError} naming what is malformed or inconsistent.
 */
export function importPkcs8Der(der: Uint8Array): RsaPrivateKey {
  checkBytes("der", der);
  const what = "PKCS#8";
  const c = children(readOne(der, TAG.SEQUENCE, what), what);
  if (c.length < 3 || c.length > 4) {
    throw new RsaKeyError(`${what}: PrivateKeyInfo must have 3 or 4 fields`);
  }
  const version = readUnsigned(c[0], `${what} version`);
  if (version.length !== 1 || version[0] !== 0) throw new RsaKeyError(`${what}: version must be 0`);
  if (c[1].tag !== TAG.SEQUENCE) throw new RsaKeyError(`${what}: expected an AlgorithmIdentifier`);
  checkAlgorithm(c[1].value, what);
  if (c[2].tag !== TAG.OCTET_STRING) throw new RsaKeyError(`${what}: expected an OCTET STRING`);
  if (c.length === 4 && c[3].tag !== 0xa0) {
    throw new RsaKeyError(`${what}: unexpected field after the key`);
  }
  return parseRsaPrivateKey(c[2].value, `${what} RSAPrivateKey`);
}

/**
 * Decodes a SubjectPublicKeyInfo (RFC 5280) holding an RSA key.
 *
 * @param der the DER bytes.
 * @returns the public key (minimal fields, copies).
 * @throws {TypeError} if `der` is not a `Uint8Array`.
 * @throws {RsaKeyError} naming what is malformed.
 */
export function importSpkiDer(der: Uint8Array): RsaPublicKey {
  checkBytes("der", der);
  const what = "SPKI";
  const c = children(readOne(der, TAG.SEQUENCE, what), what);
  if (c.length !== 2) throw new RsaKeyError(`${what}: SubjectPublicKeyInfo must have 2 fields`);
  if (c[0].tag !== TAG.SEQUENCE) throw new RsaKeyError(`${what}: expected an AlgorithmIdentifier`);
  checkAlgorithm(c[0].value, what);
  if (c[1].tag !== TAG.BIT_STRING || c[1].value.length < 1 || c[1].value[0] !== 0) {
    throw new RsaKeyError(`${what}: expected a BIT STRING with no unused bits`);
  }
  return parseRsaPublicKey(c[1].value.subarray(1), `${what} RSAPublicKey`);
}

// --- PEM (RFC 7468) ---------------------------------------------------------------------------

function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(s: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new RsaKeyError(`${what}: invalid base64`);
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Wraps DER as PEM with the given label (64-character lines). */
function toPem(label: string, der: Uint8Array): string {
  const b64 = toBase64(der);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Reads one PEM block: its label and DER. */
function fromPem(pem: string): { label: string; der: Uint8Array } {
  if (typeof pem !== "string") throw new TypeError(`pem must be a string, got ${describe(pem)}`);
  const m = /^\s*-----BEGIN ([A-Z0-9 ]+)-----\r?\n([^-]*?)-----END ([A-Z0-9 ]+)-----\s*$/
    .exec(pem);
  if (!m) throw new RsaKeyError("PEM: expected one -----BEGIN ...----- / -----END ...----- block");
  if (m[1] !== m[3]) {
    throw new RsaKeyError(`PEM: BEGIN label "${m[1]}" does not match END label "${m[3]}"`);
  }
  return { label: m[1], der: fromBase64(m[2].replace(/\s+/g, ""), `PEM ${m[1]}`) };
}

/**
 * Encodes a private key as a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
 *
 * @param key the private key.
 * @returns the PEM text.
 * @throws {TypeError} / {RsaKeyError} for a malformed key.
 */
export function exportPkcs8Pem(key: RsaPrivateKey): string {
  return toPem("PRIVATE KEY", exportPkcs8Der(key));
}

/**
 * Encodes a public key as an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
 *
 * @param key the public key.
 * @returns the PEM text.
 * @throws {TypeError} / {RsaKeyError} for a malformed key.
 */
export function exportSpkiPem(key: RsaPublicKey): string {
  return toPem("PUBLIC KEY", exportSpkiDer(key));
}

/**
 * Reads a private key PEM: `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1).
 * Encrypted PEMs are not supported.
 *
 * @param pem the PEM text.
 * @returns the private key, checked for consistency.
 * @throws {TypeError} if `pem` is not a string.
 * @throws {RsaKeyError} for another label, bad base64 or a bad key.
 */
export function importPrivateKeyPem(pem: string): RsaPrivateKey {
  const { label, der } = fromPem(pem);
  if (label === "PRIVATE KEY") return importPkcs8Der(der);
  if (label === "RSA PRIVATE KEY") return parseRsaPrivateKey(der, "PKCS#1 RSAPrivateKey");
  throw new RsaKeyError(`PEM: expected PRIVATE KEY or RSA PRIVATE KEY, got "${label}"`);
}

/**
 * Reads a public key PEM: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1).
 *
 * @param pem the PEM text.
 * @returns the public key.
 * @throws {TypeError} if `pem` is not a string.
 * @throws {RsaKeyError} for another label, bad base64 or a bad key.
 */
export function importPublicKeyPem(pem: string): RsaPublicKey {
  const { label, der } = fromPem(pem);
  if (label === "PUBLIC KEY") return importSpkiDer(der);
  if (label === "RSA PUBLIC KEY") return parseRsaPublicKey(der, "PKCS#1 RSAPublicKey");
  throw new RsaKeyError(`PEM: expected PUBLIC KEY or RSA PUBLIC KEY, got "${label}"`);
}

// --- JWK (RFC 7517, RFC 7518 6.3) -------------------------------------------------------------

/** An RSA JSON Web Key (public members, and private members for a private key). */
export interface RsaJwk {
  /** Key type: always `RSA`. */
  kty: "RSA";
  /** The modulus, base64url. */
  n: string;
  /** The public exponent, base64url. */
  e: string;
  /** The private exponent (private keys). */
  d?: string;
  /** The first prime factor (private keys). */
  p?: string;
  /** The second prime factor (private keys). */
  q?: string;
  /** d mod (p - 1) (private keys). */
  dp?: string;
  /** d mod (q - 1) (private keys). */
  dq?: string;
  /** q^-1 mod p (private keys). */
  qi?: string;
  /** Other members (`alg`, `kid`, `use`, ...), kept as they are. */
  [member: string]: unknown;
}

function b64url(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s: unknown, name: string): Uint8Array {
  if (typeof s !== "string") throw new RsaKeyError(`JWK: member "${name}" must be a string`);
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) {
    throw new RsaKeyError(`JWK: member "${name}" must be base64url without padding`);
  }
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(b64 + "=".repeat((4 - (b64.length % 4)) % 4), `JWK "${name}"`);
}

/**
 * Exports a key as a JWK: the private members when `key` is a private key.
 *
 * @param key a public or private key.
 * @returns the JWK object (`kty: "RSA"`).
 * @throws {TypeError} / {RsaKeyError} for a malformed key.
 */
export function exportJwk(key: RsaPublicKey | RsaPrivateKey): RsaJwk {
  if (key !== null && typeof key === "object" && "d" in key) {
    const k = checkRsaPrivateKey(key as RsaPrivateKey);
    const jwk: RsaJwk = { kty: "RSA", n: b64url(k.n), e: b64url(k.e) };
    for (const f of PRIVATE_FIELDS.slice(2)) jwk[f] = b64url(k[f]);
    return jwk;
  }
  const k = checkRsaPublicKey(key);
  return { kty: "RSA", n: b64url(k.n), e: b64url(k.e) };
}

/**
 * Imports an RSA JWK: a private key when it has `d` (then all of p, q, dp, dq, qi
 * are required and checked), else a public key.
 *
 * @param jwk the JWK object.
 * @returns the key.
 * @throws {TypeError} if `jwk` is not an object.
 * @throws {RsaKeyError} for a wrong `kty`, a missing or malformed member, or an inconsistent key.
 */
export function importJwk(jwk: RsaJwk): RsaPublicKey | RsaPrivateKey {
  if (jwk === null || typeof jwk !== "object" || Array.isArray(jwk)) {
    throw new TypeError(`jwk must be an object, got ${describe(jwk)}`);
  }
  if (jwk.kty !== "RSA") {
    throw new RsaKeyError(`JWK: kty must be "RSA", got ${JSON.stringify(jwk.kty)}`);
  }
  const n = fromB64url(jwk.n, "n");
  const e = fromB64url(jwk.e, "e");
  if (jwk.d === undefined) return checkRsaPublicKey({ n, e });
  const k = { n, e } as Record<(typeof PRIVATE_FIELDS)[number], Uint8Array>;
  for (const f of PRIVATE_FIELDS.slice(2)) {
    if (jwk[f] === undefined) throw new RsaKeyError(`JWK: private key member "${f}" is missing`);
    k[f] = fromB64url(jwk[f], f);
  }
  if (jwk.oth !== undefined) {
    throw new RsaKeyError('JWK: multi-prime keys ("oth") are not supported');
  }
  validateRsaPrivateKey(k);
  return checkRsaPrivateKey(k);
}
