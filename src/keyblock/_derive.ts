/**
 * KBEK / KBAK derivation from the KBPK (ANSI X9.143:2021 section 7):
 * the Key Variant Binding Method of versions A and C (7.1), the CMAC
 * key derivation of version B (TDES, 7.2.1.1 table 24) and version D (AES,
 * 7.2.2.1 table 25), and ISO 20038:2017 version E (AES, with the CTR usage
 * indicator for the KBEK). The derivation is NIST SP 800-108 in counter mode
 * with CMAC as the PRF.
 *
 * Internal: exported for the keyblock module and its tests.
 *
 * @module
 */
import type { CryptoCore } from "../core/mod.ts";
import { concatBytes as concat, zeroize } from "../crypto/mod.ts";
import { xorByte } from "./_bytes.ts";
import { type Ciphers, ciphersFor } from "./_ciphers.ts";
import {
  KDF_ALGORITHM,
  KDF_USAGE,
  type KeyBlockVersion,
  VARIANT_KBAK,
  VARIANT_KBEK,
  VERSION_PARAMS,
} from "./_tables.ts";

/** The two keys derived from a KBPK. The caller zeroizes both after use. */
export interface DerivedKeys {
  /** Key block encryption key. */
  kbek: Uint8Array;
  /** Key block authentication key (MAC key). */
  kbak: Uint8Array;
}

/**
 * One CMAC-KDF key: `CMAC(KBPK, counter || usage || 0x00 || algorithm ||
 * length in bits)` for counter = 1, 2, ..., concatenated and cut to the KBPK's
 * length.
 */
async function cmacKdf(
  ciphers: Ciphers,
  cipher: "tdes" | "aes",
  kbpk: Uint8Array,
  usage: number,
): Promise<Uint8Array> {
  const algorithm = KDF_ALGORITHM[`${cipher}${kbpk.length}`];
  const bits = kbpk.length * 8;
  const input = new Uint8Array([
    0,
    usage >> 8,
    usage & 0xff,
    0x00, // separator
    algorithm >> 8,
    algorithm & 0xff,
    bits >> 8,
    bits & 0xff,
  ]);
  const parts: Uint8Array[] = [];
  let have = 0;
  for (let counter = 1; have < kbpk.length; counter++) {
    input[0] = counter;
    const block = await ciphers.cmac(cipher, kbpk, input);
    parts.push(block);
    have += block.length;
  }
  const all = concat(...parts);
  const out = all.slice(0, kbpk.length);
  zeroize(all, ...parts);
  return out;
}

/**
 * Derives the KBEK and KBAK of a key block version from the KBPK.
 *
 * @param version the key block version.
 * @param kbpk the key block protection key; its length has been checked
 *   against the version by the caller.
 * @param core the crypto core (TDES, and the CMAC built on it).
 * @returns fresh buffers the caller must zeroize.
 */
export async function deriveKeys(
  version: KeyBlockVersion,
  kbpk: Uint8Array,
  core: CryptoCore,
): Promise<DerivedKeys> {
  switch (version) {
    case "A":
    case "C":
      return { kbek: xorByte(kbpk, VARIANT_KBEK), kbak: xorByte(kbpk, VARIANT_KBAK) };
    case "B":
    case "D":
    case "E": {
      const ciphers = ciphersFor(core);
      const cipher = VERSION_PARAMS[version].cipher;
      const kbek = await cmacKdf(
        ciphers,
        cipher,
        kbpk,
        version === "E" ? KDF_USAGE.encryptCtr : KDF_USAGE.encryptCbc,
      );
      const kbak = await cmacKdf(ciphers, cipher, kbpk, KDF_USAGE.mac);
      return { kbek, kbak };
    }
  }
}
