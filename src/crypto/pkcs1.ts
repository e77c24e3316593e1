/**
 * PKCS #1 v1.5 (RFC 8017) on a crypto core:
 *
 * - RSAES-PKCS1-v1_5 encryption and decryption (7.2). Decryption checks the
 *   padding without early exits or branches on the decrypted data, and every
 *   failure throws the same {@link DecryptionError}. PKCS#1 v1.5 encryption is
 *   kept for interoperability only: a protocol that reveals whether decryption
 *   failed is still a Bleichenbacher oracle. The project's own flows use OAEP.
 * - RSASSA-PKCS1-v1_5 signatures with SHA-256 (8.2, EMSA-PKCS1-v1_5 9.2).
 *   Verification rebuilds the one valid encoding and compares every byte in
 *   constant time; it never parses the recovered encoding, so there is no
 *   parser to fool (Bleichenbacher 2006 forgeries with e = 3, garbage after the
 *   digest or in the parameters, BER lengths, a missing NULL: all rejected).
 * - The "private encrypt" / "public decrypt" signature with message recovery of
 *   flow A (the operator card signs Rnd || TimeOne): block type 1 padding
 *   `00 01 FF..FF 00 || M` (at least 8 bytes of FF, as RFC 8017's EMSA and
 *   PKCS #1 v1.5 block type 1; `RSA_private_encrypt` / `RSA_PKCS1_PADDING` in
 *   OpenSSL and node:crypto `privateEncrypt`), M at most k - 11 bytes.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey, RsaPublicKey } from "../core/mod.ts";
import { checkBytes, type CoreOptions, optionsRecord, resolveCore } from "./_core.ts";
import { ctEqByte, ctGe, ctSelect, lessThan, rsaPrivateRaw, rsaPublicRaw } from "./_rsa.ts";
import { timingSafeEqual } from "./bytes.ts";
import { DecryptionError, SignatureError } from "./errors.ts";
import { randomBytes } from "./random.ts";
import { checkRsaPrivateKey, checkRsaPublicKey } from "./rsa_keys.ts";

/** Throws `RangeError` unless `message` fits a k-byte PKCS #1 v1.5 block. */
function checkFits(message: Uint8Array, k: number): void {
  if (message.length > maxMessage(k)) {
    throw new RangeError(
      `message must be at most ${maxMessage(k)} bytes for this key, got ${message.length}`,
    );
  }
}

/**
 * The checks an operation with an RSA key starts with, in this order: options,
 * key (by `checkKey`), the input named `name`; then the core to run on.
 */
async function start<K>(
  checkKey: (key: K) => K,
  rsaKey: K,
  name: string,
  data: unknown,
  options: unknown,
): Promise<{ key: K; core: CryptoCore }> {
  optionsRecord(options);
  const key = checkKey(rsaKey);
  checkBytes(name, data);
  return { key, core: await resolveCore(options) };
}

/** DER of DigestInfo for SHA-256 up to the digest (RFC 8017 9.2 note 1). */
const SHA256_DIGEST_INFO_PREFIX = new Uint8Array([
  0x30,
  0x31,
  0x30,
  0x0d,
  0x06,
  0x09,
  0x60,
  0x86,
  0x48,
  0x01,
  0x65,
  0x03,
  0x04,
  0x02,
  0x01,
  0x05,
  0x00,
  0x04,
  0x20,
]);

function maxMessage(k: number): number {
  return k - 11;
}

// --- RSAES-PKCS1-v1_5 ------------------------------------------------------------------------

/**
 * RSAES-PKCS1-V1_5-ENCRYPT (RFC 8017 7.2.1). For interoperability only.
 *
 * @param publicKey the recipient's key.
 * @param message at most k - 11 bytes.
 * @param options `core`.
 * @returns the ciphertext, k bytes.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RangeError} if the message is too long.
 * @throws {RsaKeyError} for a malformed key.
 */
export async function pkcs1v15Encrypt(
  publicKey: RsaPublicKey,
  message: Uint8Array,
  options?: CoreOptions,
): Promise<Uint8Array> {
  optionsRecord(options);
  const key = checkRsaPublicKey(publicKey);
  checkBytes("message", message);
  const k = key.n.length;
  checkFits(message, k);
  const core = await resolveCore(options);
  const em = new Uint8Array(k);
  em[1] = 0x02;
  // PS: k - mLen - 3 random non-zero bytes; zero bytes are redrawn.
  const psEnd = k - message.length - 1;
  const ps = em.subarray(2, psEnd);
  ps.set(randomBytes(ps.length));
  for (let i = 0; i < ps.length; i++) {
    while (ps[i] === 0) ps[i] = randomBytes(1)[0];
  }
  em.set(message, psEnd + 1);
  const c = rsaPublicRaw(core, key, em);
  em.fill(0);
  return c;
}

/**
 * RSAES-PKCS1-V1_5-DECRYPT (RFC 8017 7.2.2).
 *
 * @param privateKey the recipient's private key.
 * @param ciphertext k bytes.
 * @param options `core`.
 * @returns the message.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RsaKeyError} for a malformed key.
 * @throws {DecryptionError} for every invalid ciphertext, always with the same message.
 */
export async function pkcs1v15Decrypt(
  privateKey: RsaPrivateKey,
  ciphertext: Uint8Array,
  options?: CoreOptions,
): Promise<Uint8Array> {
  const { key, core } = await start(
    checkRsaPrivateKey,
    privateKey,
    "ciphertext",
    ciphertext,
    options,
  );
  const k = key.n.length;
  if (ciphertext.length !== k || k < 11 || !lessThan(ciphertext, key.n)) {
    throw new DecryptionError();
  }
  let em: Uint8Array;
  try {
    em = rsaPrivateRaw(core, key, ciphertext);
  } catch {
    throw new DecryptionError();
  }
  // EM = 0x00 || 0x02 || PS (>= 8 non-zero bytes) || 0x00 || M, checked without branches.
  let good = ctEqByte(em[0], 0) & ctEqByte(em[1], 2);
  let lookingForZero = 1;
  let index = 0;
  for (let i = 2; i < k; i++) {
    const isZero = ctEqByte(em[i], 0);
    index = ctSelect(lookingForZero & isZero, i, index);
    lookingForZero &= isZero ^ 1;
  }
  good &= (lookingForZero ^ 1) & ctGe(index, 10);
  const message = good === 1 ? em.slice(index + 1) : undefined;
  em.fill(0);
  if (message === undefined) throw new DecryptionError();
  return message;
}

// --- RSASSA-PKCS1-v1_5 with SHA-256 ---------------------------------------------------------------

/** EMSA-PKCS1-v1_5 encoding (RFC 8017 9.2) of a SHA-256 digest for a k-byte modulus. */
function emsaSha256(digest: Uint8Array, k: number): Uint8Array {
  const tLen = SHA256_DIGEST_INFO_PREFIX.length + digest.length;
  if (k < tLen + 11) throw new RangeError("the key is too short for SHA-256 signatures");
  const em = new Uint8Array(k).fill(0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[k - tLen - 1] = 0x00;
  em.set(SHA256_DIGEST_INFO_PREFIX, k - tLen);
  em.set(digest, k - digest.length);
  return em;
}

/**
 * RSASSA-PKCS1-V1_5-SIGN with SHA-256 (RFC 8017 8.2.1). Deterministic.
 *
 * @param privateKey the signer's key.
 * @param message the message (hashed here with SHA-256).
 * @param options `core`.
 * @returns the signature, k bytes.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RsaKeyError} for a malformed key.
 * @throws {RsaFaultError} if the private operation fails its consistency check.
 */
export async function pkcs1v15Sign(
  privateKey: RsaPrivateKey,
  message: Uint8Array,
  options?: CoreOptions,
): Promise<Uint8Array> {
  const { key, core } = await start(checkRsaPrivateKey, privateKey, "message", message, options);
  const em = emsaSha256(core.sha256(message), key.n.length);
  return rsaPrivateRaw(core, key, em);
}

/**
 * RSASSA-PKCS1-V1_5-VERIFY with SHA-256 (RFC 8017 8.2.2): the signature must
 * be exactly k bytes, below n, and its public operation must equal the one
 * valid EMSA-PKCS1-v1_5 encoding of SHA-256(message), every byte compared in
 * constant time.
 *
 * @param publicKey the signer's key.
 * @param message the message.
 * @param signature the signature.
 * @param options `core`.
 * @returns `true` only for a valid signature.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RsaKeyError} for a malformed key.
 */
export async function pkcs1v15Verify(
  publicKey: RsaPublicKey,
  message: Uint8Array,
  signature: Uint8Array,
  options?: CoreOptions,
): Promise<boolean> {
  optionsRecord(options);
  const key = checkRsaPublicKey(publicKey);
  checkBytes("message", message);
  checkBytes("signature", signature);
  const core = await resolveCore(options);
  const k = key.n.length;
  if (signature.length !== k || !lessThan(signature, key.n)) return false;
  const em = rsaPublicRaw(core, key, signature);
  const expected = emsaSha256(core.sha256(message), k);
  return timingSafeEqual(em, expected);
}

// --- Type 1 "private encrypt" / "public decrypt" (signature with message recovery) ----------------

/**
 * Signs with message recovery: RSASP1 of `00 01 FF..FF 00 || message`
 * (PKCS #1 v1.5 block type 1). Flow A's operator card signs `Rnd || TimeOne`.
 *
 * @param privateKey the signer's key.
 * @param message at most k - 11 bytes (not hashed).
 * @param options `core`.
 * @returns the signature, k bytes.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RangeError} if the message is too long.
 * @throws {RsaKeyError} for a malformed key.
 * @throws {RsaFaultError} if the private operation fails its consistency check.
 */
export async function privateEncrypt(
  privateKey: RsaPrivateKey,
  message: Uint8Array,
  options?: CoreOptions,
): Promise<Uint8Array> {
  optionsRecord(options);
  const key = checkRsaPrivateKey(privateKey);
  checkBytes("message", message);
  const k = key.n.length;
  checkFits(message, k);
  const core = await resolveCore(options);
  const em = new Uint8Array(k).fill(0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[k - message.length - 1] = 0x00;
  em.set(message, k - message.length);
  const s = rsaPrivateRaw(core, key, em);
  em.fill(0);
  return s;
}

/**
 * Recovers the message of a {@link privateEncrypt} signature: RSAVP1, then the
 * encoding must be exactly `00 01`, at least 8 bytes `FF`, `00`, message.
 *
 * @param publicKey the signer's key.
 * @param signature k bytes.
 * @param options `core`.
 * @returns the recovered message.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RsaKeyError} for a malformed key.
 * @throws {SignatureError} for a signature of the wrong length, not below n, or
 *   whose encoding is not block type 1 (always the same message).
 */
export async function publicDecrypt(
  publicKey: RsaPublicKey,
  signature: Uint8Array,
  options?: CoreOptions,
): Promise<Uint8Array> {
  const { key, core } = await start(checkRsaPublicKey, publicKey, "signature", signature, options);
  const k = key.n.length;
  if (signature.length !== k || !lessThan(signature, key.n)) throw new SignatureError();
  const em = rsaPublicRaw(core, key, signature);
  if (em[0] !== 0x00 || em[1] !== 0x01) throw new SignatureError();
  let i = 2;
  while (i < k && em[i] === 0xff) i++;
  if (i === k || em[i] !== 0x00 || i - 2 < 8) throw new SignatureError();
  return em.slice(i + 1);
}
