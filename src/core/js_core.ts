/**
 * The pure-JS crypto core, on node-forge: its DES (SP 800-67 TDES), its AES
 * (FIPS 197; table-driven, so not constant time: this core is the second,
 * independent implementation, the wasm core is the one to run keys on), its
 * SHA-1/SHA-256 (FIPS 180-4) and its jsbn BigInteger for modular arithmetic.
 *
 * It exists so that every result of the wasm core has a second, independent
 * implementation behind the same interface.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey } from "./types.ts";
import {
  checkAesBlocks,
  checkAesIv,
  checkAesKey,
  checkBlocks,
  checkBytes,
  checkIv,
  checkModPow,
  checkRsaPrivate,
  checkTdesKey,
} from "./_args.ts";
import { forge, fromBigInteger, fromBinary, toBigInteger, toBinary } from "./_forge.ts";

function tdesKey24(key: Uint8Array): string {
  if (key.length === 24) return toBinary(key);
  const k = new Uint8Array(24);
  k.set(key, 0);
  k.set(key.subarray(0, 8), 16);
  return toBinary(k);
}

const noPadding = () => true;

/** One forge block-cipher pass, no padding; `key` is forge's binary string. */
function run(
  encrypt: boolean,
  mode: "3DES-ECB" | "3DES-CBC" | "AES-ECB" | "AES-CBC",
  key: string,
  iv: Uint8Array | null,
  data: Uint8Array,
): Uint8Array {
  if (data.length === 0) return new Uint8Array(0);
  const c = encrypt ? forge.cipher.createCipher(mode, key) : forge.cipher.createDecipher(mode, key);
  c.start(iv ? { iv: toBinary(iv) } : {});
  c.update(forge.util.createBuffer(toBinary(data)));
  // deno-lint-ignore no-explicit-any
  if (!(c.finish as any)(noPadding)) throw new Error(`${mode}: forge refused the input`);
  return fromBinary(c.output.getBytes());
}

function tdes(
  encrypt: boolean,
  mode: "3DES-ECB" | "3DES-CBC",
  key: Uint8Array,
  iv: Uint8Array | null,
  data: Uint8Array,
): Uint8Array {
  return run(encrypt, mode, tdesKey24(key), iv, data);
}

/** The node-forge core. Use {@link loadCore} (`"js"`) rather than this object directly. */
export const jsCore: CryptoCore = {
  name: "js",
  tdesEncryptEcb(key, data) {
    checkTdesKey(key);
    checkBlocks("data", data);
    return tdes(true, "3DES-ECB", key, null, data);
  },
  tdesDecryptEcb(key, data) {
    checkTdesKey(key);
    checkBlocks("data", data);
    return tdes(false, "3DES-ECB", key, null, data);
  },
  tdesEncryptCbc(key, iv, data) {
    checkTdesKey(key);
    checkIv(iv);
    checkBlocks("data", data);
    return tdes(true, "3DES-CBC", key, iv, data);
  },
  tdesDecryptCbc(key, iv, data) {
    checkTdesKey(key);
    checkIv(iv);
    checkBlocks("data", data);
    return tdes(false, "3DES-CBC", key, iv, data);
  },
  aesEncryptEcb(key, data) {
    checkAesKey(key);
    checkAesBlocks(data);
    return run(true, "AES-ECB", toBinary(key), null, data);
  },
  aesDecryptEcb(key, data) {
    checkAesKey(key);
    checkAesBlocks(data);
    return run(false, "AES-ECB", toBinary(key), null, data);
  },
  aesEncryptCbc(key, iv, data) {
    checkAesKey(key);
    checkAesIv(iv);
    checkAesBlocks(data);
    return run(true, "AES-CBC", toBinary(key), iv, data);
  },
  aesDecryptCbc(key, iv, data) {
    checkAesKey(key);
    checkAesIv(iv);
    checkAesBlocks(data);
    return run(false, "AES-CBC", toBinary(key), iv, data);
  },
  sha1(data) {
    checkBytes("data", data);
    const md = forge.md.sha1.create();
    md.update(toBinary(data));
    return fromBinary(md.digest().getBytes());
  },
  sha256(data) {
    checkBytes("data", data);
    const md = forge.md.sha256.create();
    md.update(toBinary(data));
    return fromBinary(md.digest().getBytes());
  },
  modPow(base, exponent, modulus) {
    checkModPow(base, exponent, modulus);
    const r = toBigInteger(base).modPow(toBigInteger(exponent), toBigInteger(modulus));
    return fromBigInteger(r, modulus.length);
  },
  modPowPublic(base, exponent, modulus) {
    // forge keeps no per-modulus setup: the public form is modPow itself
    return jsCore.modPow(base, exponent, modulus);
  },
  rsaPrivate(key: RsaPrivateKey, input) {
    checkRsaPrivate(key, input);
    const c = toBigInteger(input);
    const p = toBigInteger(key.p);
    const q = toBigInteger(key.q);
    const m1 = c.mod(p).modPow(toBigInteger(key.dp), p);
    const m2 = c.mod(q).modPow(toBigInteger(key.dq), q);
    const h = toBigInteger(key.qi).multiply(m1.subtract(m2)).mod(p);
    const m = m2.add(h.multiply(q));
    return fromBigInteger(m, key.n.length);
  },
};
