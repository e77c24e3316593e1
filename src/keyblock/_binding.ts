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

/**
 * The CMAC (SP 800-38B) under the KBAK of `header || payload`. With the
 * KBAK's subkeys at hand (as {@link DerivedKeys} has them), the padded,
 * subkey-masked message is built in one buffer and MACed in one CBC pass.
 */
function cmacOf(
  ciphers: Ciphers,
  cipher: "tdes" | "aes",
  keys: DerivedKeys,
  header: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const sub = keys.kbakSubkeys;
  if (sub === undefined) {
    const macInput = concat(header, payload);
    const mac = ciphers.cmac(cipher, keys.kbak, macInput, sub);
    zeroize(macInput);
    return mac;
  }
  const b = cipher === "tdes" ? 8 : 16;
  const length = header.length + payload.length;
  const complete = length > 0 && length % b === 0;
  const m = new Uint8Array(complete ? length : (Math.floor(length / b) + 1) * b);
  m.set(header);
  m.set(payload, header.length);
  if (!complete) m[length] = 0x80;
  const k = complete ? sub[0] : sub[1];
  for (let i = 0; i < b; i++) m[m.length - b + i] ^= k[i];
  const c = ciphers.cbcEncrypt(cipher, keys.kbak, new Uint8Array(b), m);
  const mac = c.slice(c.length - b);
  zeroize(m, c);
  return mac;
}

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
      const mac = cmacOf(ciphers, p.cipher, keys, h, payload);
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
      const expected = cmacOf(ciphers, p.cipher, keys, h, payload);
      if (!timingSafeEqual(expected, mac)) {
        zeroize(payload);
        return null;
      }
      return payload;
    }
  }
}
