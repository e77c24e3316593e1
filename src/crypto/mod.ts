/**
 * Crypto building blocks on a crypto core: random bytes, hex, DES parity,
 * constant-time comparison, the type description of error messages
 * (`describe`), AES, CMAC (SP 800-38B), the CMAC key derivation (SP 800-108
 * counter mode, as TR-31 uses it), ISO 9797-1 MACs, key
 * check values, and RSA (RFC 8017): OAEP, PKCS#1 v1.5 encryption and SHA-256
 * signatures, the type-1 "private encrypt" / "public decrypt" of flow A, key
 * generation, and PKCS#8 / SPKI / JWK keys.
 *
 * ## Calling convention
 *
 * - A function that needs the crypto core (TDES, SHA, modexp, CMAC, KCV) is
 *   `async` and takes `options.core`; without it, the default core (`await
 *   loadCore()`, the wasm core) is used. Tests and benchmarks always pass
 *   `core` explicitly.
 * - AES (ECB, CBC, CTR) runs on the core too but stays synchronous: it takes
 *   an optional `options.core`, default the wasm core (instantiated
 *   synchronously).
 * - RSA private operations are blinded and their results re-encrypted and
 *   checked before use; every RSA decryption failure is one `DecryptionError`.
 * - A function that needs no core (random, hex, parity, byte helpers) is
 *   synchronous and takes no `core`.
 *
 * @example
 * ```ts
 * import { kcv, retailMac, toHex } from "./mod.ts";
 * import { loadCore } from "../core/mod.ts";
 * const core = await loadCore("js");
 * const key = new Uint8Array(16).fill(0x23);
 * toHex(await kcv(key, { method: "legacy", core }));
 * await retailMac(key, new TextEncoder().encode("body"), { padding: 2, core });
 * ```
 *
 * @module
 */
export { type CoreOptions, describe } from "./_core.ts";
export { randomBytes } from "./random.ts";
export { concatBytes, timingSafeEqual, xorBytes, zeroize } from "./bytes.ts";
export { fromHex, type HexOptions, isHex, toHex, type ToHexOptions } from "./hex.ts";
export { hasOddParity, setOddParity } from "./parity.ts";
export {
  AES_BLOCK,
  aesCtr,
  aesDecryptCbc,
  aesDecryptEcb,
  aesEncryptCbc,
  aesEncryptEcb,
} from "./aes.ts";
export { cmac, type CmacCipher, type CmacOptions, cmacSubkeys, cmacVerify } from "./cmac.ts";
export { kcv, type KcvOptions } from "./kcv.ts";
export { KDF_MAX_FIELD, KDF_MAX_LENGTH, kdfCmacCounter, type KdfCmacOptions } from "./kdf.ts";
export {
  cbcMac,
  type Iso9797MacOptions,
  iso9797Pad,
  type Iso9797Padding,
  retailMac,
  retailMacVerify,
} from "./retail_mac.ts";
export {
  CryptoError,
  DecryptionError,
  RsaFaultError,
  RsaKeyError,
  SignatureError,
} from "./errors.ts";
export {
  checkRsaPrivateKey,
  checkRsaPublicKey,
  exportJwk,
  exportPkcs8Der,
  exportPkcs8Pem,
  exportSpkiDer,
  exportSpkiPem,
  importJwk,
  importPkcs8Der,
  importPrivateKeyPem,
  importPublicKeyPem,
  importSpkiDer,
  MAX_MODULUS_BITS,
  MIN_MODULUS_BITS,
  modulusBytes,
  publicKeyOf,
  type RsaJwk,
  type RsaPrivateKey,
  type RsaPublicKey,
  validateRsaPrivateKey,
} from "./rsa_keys.ts";
export {
  oaepDecrypt,
  oaepEncrypt,
  oaepMaxMessageLength,
  type OaepOptions,
  type RsaHash,
} from "./oaep.ts";
export {
  pkcs1v15Decrypt,
  pkcs1v15Encrypt,
  pkcs1v15Sign,
  pkcs1v15Verify,
  privateEncrypt,
  publicDecrypt,
} from "./pkcs1.ts";
export {
  generateRsaKeyPair,
  millerRabinRounds,
  PUBLIC_EXPONENT,
  type RsaKeyGenOptions,
  type RsaKeyPair,
} from "./keygen.ts";
