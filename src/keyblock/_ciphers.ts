/**
 * The block-cipher operations the key block bindings need, on one crypto
 * core: TDES (SP 800-67) and AES (FIPS 197) ECB and CBC, and TDES CBC-MAC,
 * from the core; TDES-CMAC and AES-CMAC (SP 800-38B) and AES-CTR from
 * `src/crypto` on that core. All synchronous: nothing here waits on anything.
 *
 * Internal to the keyblock module.
 *
 * @module
 */
import type { CryptoCore } from "../core/mod.ts";
import { aesCtr } from "../crypto/mod.ts";
import { cmacRaw, cmacSubkeysRaw } from "../crypto/cmac.ts";

/** CMAC subkeys K1, K2 of one key (SP 800-38B 6.1). */
export type CmacSubkeys = readonly [Uint8Array, Uint8Array];

/** Cipher operations used by the key block bindings. */
export interface Ciphers {
  /**
   * CMAC (SP 800-38B) over `data`: 8 bytes for TDES, 16 for AES. With
   * `subkeys` (K1, K2 of `key`) the MAC is one CBC pass instead of two.
   */
  cmac(
    cipher: "tdes" | "aes",
    key: Uint8Array,
    data: Uint8Array,
    subkeys?: CmacSubkeys,
  ): Uint8Array;
  /** The CMAC subkeys K1, K2 of `key`; the caller zeroizes them. */
  cmacSubkeys(cipher: "tdes" | "aes", key: Uint8Array): [Uint8Array, Uint8Array];
  /** ECB encryption of whole blocks. */
  ecbEncrypt(cipher: "tdes" | "aes", key: Uint8Array, data: Uint8Array): Uint8Array;
  /** CBC encryption without padding. */
  cbcEncrypt(
    cipher: "tdes" | "aes",
    key: Uint8Array,
    iv: Uint8Array,
    data: Uint8Array,
  ): Uint8Array;
  /** CBC decryption without padding. */
  cbcDecrypt(
    cipher: "tdes" | "aes",
    key: Uint8Array,
    iv: Uint8Array,
    data: Uint8Array,
  ): Uint8Array;
  /** AES-CTR (128-bit big-endian counter starting at `iv`); encrypts and decrypts. */
  aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** ISO 9797-1 MAC algorithm 1 with TDES (CBC-MAC, data already whole blocks): the last block. */
  tdesCbcMac(key: Uint8Array, data: Uint8Array): Uint8Array;
}

/** The cipher operations on `core`. */
export function ciphersFor(core: CryptoCore): Ciphers {
  return {
    tdesCbcMac(key, data) {
      const c = core.tdesEncryptCbc(key, new Uint8Array(8), data);
      const last = c.slice(c.length - 8);
      c.fill(0);
      return last;
    },
    ecbEncrypt: (cipher, key, data) =>
      cipher === "tdes" ? core.tdesEncryptEcb(key, data) : core.aesEncryptEcb(key, data),
    cbcEncrypt: (cipher, key, iv, data) =>
      cipher === "tdes" ? core.tdesEncryptCbc(key, iv, data) : core.aesEncryptCbc(key, iv, data),
    cbcDecrypt: (cipher, key, iv, data) =>
      cipher === "tdes" ? core.tdesDecryptCbc(key, iv, data) : core.aesDecryptCbc(key, iv, data),
    cmac: (cipher, key, data, subkeys) => cmacRaw(cipher, core, key, data, subkeys),
    cmacSubkeys: (cipher, key) => cmacSubkeysRaw(cipher, core, key),
    aesCtr: (key, iv, data) => aesCtr(key, iv, data, { core }),
  };
}
