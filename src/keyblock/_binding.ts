/**
 * The cryptographic binding of each key block version (ANSI X9.143:2021
 * section 7; ISO 20038:2017 for version E), as a per-version dispatch:
 *
 * - A, C (Key Variant Binding, 7.1): payload encrypted with TDES-CBC under the
 *   KBEK, IV = the first 8 header characters; MAC = TDES CBC-MAC (ISO 9797-1
 *   algorithm 1) under the KBAK over header || ciphertext, first 4 bytes.
 * - B (TDES Key Derivation Binding, 7.2.1): MAC = TDES-CMAC under the KBAK over
 *   header || clear payload (8 bytes); payload encrypted TDES-CBC under the
 *   KBEK with IV = MAC.
 * - D (AES Key Derivation Binding, 7.2.2): as B with AES, 16-byte MAC.
 * - E (ISO 20038): as D, but AES-CTR with the MAC as initial counter, and no
 *   block padding.
 *
 * The clear payload is `key length in bits (2 bytes) || key || padding`.
 *
 * Internal to the keyblock module.
 *
 * @module
 */
import { concatBytes as concat, timingSafeEqual, zeroize } from "../crypto/mod.ts";
import { ascii } from "./_bytes.ts";
import type { Ciphers } from "./_ciphers.ts";
import type { DerivedKeys } from "./_derive.ts";
import { type KeyBlockVersion, VERSION_PARAMS } from "./_tables.ts";

/** Encrypts the clear payload and computes the MAC. */
export function bind(
  ciphers: Ciphers,
  version: KeyBlockVersion,
  keys: DerivedKeys,
  header: string,
  payload: Uint8Array,
): { ciphertext: Uint8Array; mac: Uint8Array } {
  const p = VERSION_PARAMS[version];
  const h = ascii(header);
  switch (version) {
    case "A":
    case "C": {
      const ciphertext = ciphers.cbcEncrypt("tdes", keys.kbek, h.subarray(0, 8), payload);
      const mac = ciphers.tdesCbcMac(keys.kbak, concat(h, ciphertext)).slice(0, p.macLength);
      return { ciphertext, mac };
    }
    case "B":
    case "D":
    case "E": {
      const macInput = concat(h, payload);
      const mac = ciphers.cmac(p.cipher, keys.kbak, macInput, keys.kbakSubkeys);
      zeroize(macInput);
      const ciphertext = version === "E"
        ? ciphers.aesCtr(keys.kbek, mac, payload)
        : ciphers.cbcEncrypt(p.cipher, keys.kbek, mac, payload);
      return { ciphertext, mac };
    }
  }
}

/**
 * Verifies the MAC (in constant time) and decrypts the payload.
 *
 * @returns the clear payload (the caller zeroizes it), or `null` when the MAC
 *   does not verify (nothing decrypted is kept in that case).
 */
export function unbind(
  ciphers: Ciphers,
  version: KeyBlockVersion,
  keys: DerivedKeys,
  header: string,
  ciphertext: Uint8Array,
  mac: Uint8Array,
): Uint8Array | null {
  const p = VERSION_PARAMS[version];
  const h = ascii(header);
  switch (version) {
    case "A":
    case "C": {
      const expected = ciphers.tdesCbcMac(keys.kbak, concat(h, ciphertext)).slice(0, p.macLength);
      if (!timingSafeEqual(expected, mac)) return null;
      return ciphers.cbcDecrypt("tdes", keys.kbek, h.subarray(0, 8), ciphertext);
    }
    case "B":
    case "D":
    case "E": {
      const payload = version === "E"
        ? ciphers.aesCtr(keys.kbek, mac, ciphertext)
        : ciphers.cbcDecrypt(p.cipher, keys.kbek, mac, ciphertext);
      const macInput = concat(h, payload);
      const expected = ciphers.cmac(p.cipher, keys.kbak, macInput, keys.kbakSubkeys);
      zeroize(macInput);
      if (!timingSafeEqual(expected, mac)) {
        zeroize(payload);
        return null;
      }
      return payload;
    }
  }
}
