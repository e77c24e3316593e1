/**
 * RSAES-OAEP (RFC 8017 section 7.1) with SHA-1 or SHA-256 (and MGF1 with the
 * same hash), with optional labels, on a crypto core.
 *
 * Decryption follows RFC 8017 7.1.2 step 3 and its note: the padding is
 * checked without early exits or branches on the decrypted data, and every
 * failure, whatever its cause (ciphertext length, ciphertext not below n,
 * Y != 0, label hash, missing 0x01 separator), throws the same
 * {@link DecryptionError}. SHA-1 is legacy: use SHA-256 (the default).
 *
 * @module
 */
import type { RsaPrivateKey, RsaPublicKey } from "../core/mod.ts";
import { checkBytes, checkOneOf, type CoreOptions, optionsRecord, resolveCore } from "./_core.ts";
import {
  ctEqByte,
  ctSelect,
  digest,
  HASH_LENGTH,
  lessThan,
  mgf1,
  type RsaHash,
  rsaPrivateRaw,
  rsaPublicRaw,
} from "./_rsa.ts";
import { DecryptionError } from "./errors.ts";
import { randomBytes } from "./random.ts";
import { checkRsaPrivateKey, checkRsaPublicKey } from "./rsa_keys.ts";

export type { RsaHash };

/** Options of {@link oaepEncrypt} and {@link oaepDecrypt}. */
export interface OaepOptions extends CoreOptions {
  /** Hash for OAEP and MGF1: `"SHA-256"` (default) or `"SHA-1"` (legacy). */
  hash?: RsaHash;
  /** The label L (default empty). */
  label?: Uint8Array;
}

const HASHES: readonly RsaHash[] = ["SHA-1", "SHA-256"];

function parseOptions(options: unknown): { hash: RsaHash; label: Uint8Array } {
  const o = optionsRecord(options);
  const hash = checkOneOf("options.hash", o.hash ?? "SHA-256", HASHES);
  const label = o.label ?? new Uint8Array(0);
  checkBytes("options.label", label);
  return { hash, label };
}

/**
 * The longest message {@link oaepEncrypt} accepts for a key and hash: k - 2hLen - 2.
 *
 * @param key the public key.
 * @param hash the hash (default SHA-256).
 * @returns the maximum message length in bytes.
 */
export function oaepMaxMessageLength(key: RsaPublicKey, hash: RsaHash = "SHA-256"): number {
  const k = checkRsaPublicKey(key).n.length;
  return k - 2 * HASH_LENGTH[checkOneOf("hash", hash, HASHES)] - 2;
}

/**
 * RSAES-OAEP-ENCRYPT (RFC 8017 7.1.1).
 *
 * @example
 * ```ts
 * import { oaepEncrypt, oaepDecrypt, generateRsaKeyPair } from "./mod.ts";
 * import { loadCore } from "../core/mod.ts";
 * const core = await loadCore("js");
 * const { publicKey, privateKey } = await generateRsaKeyPair({ bits: 1024, core });
 * const c = await oaepEncrypt(publicKey, new Uint8Array([1, 2, 3]), { core });
 * await oaepDecrypt(privateKey, c, { core }); // Uint8Array [1, 2, 3]
 * ```
 *
 * @param publicKey the recipient's key.
 * @param message at most k - 2hLen - 2 bytes.
 * @param options `hash`, `label`, `core`.
 * @returns the ciphertext, k bytes.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RangeError} if the message is too long or an option is unknown.
 * @throws {RsaKeyError} for a malformed key.
 */
export async function oaepEncrypt(
  publicKey: RsaPublicKey,
  message: Uint8Array,
  options?: OaepOptions,
): Promise<Uint8Array> {
  const { hash, label } = parseOptions(options);
  const key = checkRsaPublicKey(publicKey);
  checkBytes("message", message);
  const k = key.n.length;
  const hLen = HASH_LENGTH[hash];
  const max = k - 2 * hLen - 2;
  if (message.length > max) {
    throw new RangeError(
      `message must be at most ${max} bytes for this key and ${hash}, got ${message.length}`,
    );
  }
  const core = await resolveCore(options);
  const db = new Uint8Array(k - hLen - 1);
  db.set(digest(core, hash, label), 0);
  db[db.length - message.length - 1] = 0x01;
  db.set(message, db.length - message.length);
  const seed = randomBytes(hLen);
  const dbMask = mgf1(core, hash, seed, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= dbMask[i];
  const seedMask = mgf1(core, hash, db, hLen);
  const em = new Uint8Array(k);
  for (let i = 0; i < hLen; i++) em[1 + i] = seed[i] ^ seedMask[i];
  em.set(db, 1 + hLen);
  const c = rsaPublicRaw(core, key, em);
  for (const x of [db, seed, dbMask, seedMask, em]) x.fill(0);
  return c;
}

/**
 * RSAES-OAEP-DECRYPT (RFC 8017 7.1.2).
 *
 * @param privateKey the recipient's private key.
 * @param ciphertext k bytes.
 * @param options `hash`, `label` (must match the encryption's), `core`.
 * @returns the message.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RangeError} for an unknown option value.
 * @throws {RsaKeyError} for a malformed key.
 * @throws {DecryptionError} for every invalid ciphertext, always with the same message.
 */
export async function oaepDecrypt(
  privateKey: RsaPrivateKey,
  ciphertext: Uint8Array,
  options?: OaepOptions,
): Promise<Uint8Array> {
  const { hash, label } = parseOptions(options);
  const key = checkRsaPrivateKey(privateKey);
  checkBytes("ciphertext", ciphertext);
  const core = await resolveCore(options);
  const k = key.n.length;
  const hLen = HASH_LENGTH[hash];
  // Checks on the public ciphertext and key size (RFC 8017 7.1.2 step 1).
  if (ciphertext.length !== k || k < 2 * hLen + 2 || !lessThan(ciphertext, key.n)) {
    throw new DecryptionError();
  }
  let em: Uint8Array;
  try {
    em = rsaPrivateRaw(core, key, ciphertext);
  } catch {
    throw new DecryptionError();
  }
  const lHash = digest(core, hash, label);
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seedMask = mgf1(core, hash, maskedDb, hLen);
  const seed = new Uint8Array(hLen);
  for (let i = 0; i < hLen; i++) seed[i] = maskedSeed[i] ^ seedMask[i];
  const dbMask = mgf1(core, hash, seed, k - hLen - 1);
  const db = new Uint8Array(k - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i] ^ dbMask[i];

  // Step 3 g, without branches on the data: Y = 0, lHash' = lHash, then
  // PS (zeros), then 0x01, then M.
  let good = ctEqByte(em[0], 0);
  for (let i = 0; i < hLen; i++) good &= ctEqByte(db[i], lHash[i]);
  let lookingForOne = 1;
  let index = 0;
  let invalid = 0;
  for (let i = hLen; i < db.length; i++) {
    const isOne = ctEqByte(db[i], 1);
    const isZero = ctEqByte(db[i], 0);
    index = ctSelect(lookingForOne & isOne, i, index);
    invalid |= lookingForOne & (isOne ^ 1) & (isZero ^ 1);
    lookingForOne &= isOne ^ 1;
  }
  good &= (invalid ^ 1) & (lookingForOne ^ 1);
  const message = good === 1 ? db.slice(index + 1) : undefined;
  for (const x of [em, seedMask, seed, dbMask, db]) x.fill(0);
  if (message === undefined) throw new DecryptionError();
  return message;
}
