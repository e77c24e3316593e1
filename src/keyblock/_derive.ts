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
import { zeroize } from "../crypto/mod.ts";
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

/** The two keys derived from a KBPK. The caller zeroizes them with {@link zeroizeDerived}. */
export interface DerivedKeys {
  /** Key block encryption key. */
  kbek: Uint8Array;
  /** Key block authentication key (MAC key). */
  kbak: Uint8Array;
  /**
   * The KBAK's CMAC subkeys K1, K2 (SP 800-38B 6.1), for the versions whose
   * MAC is a CMAC (B, D, E): computed with the KBAK, so a KBAK kept for many
   * blocks (a prepared KBPK) MACs each block in one CBC pass.
   */
  kbakSubkeys?: [Uint8Array, Uint8Array];
}

/** Zeroes every key in `keys`. */
export function zeroizeDerived(keys: DerivedKeys): void {
  zeroize(keys.kbek, keys.kbak, keys.kbakSubkeys?.[0], keys.kbakSubkeys?.[1]);
}

/**
 * The CMAC KDF (X9.143:2021 7.2.1.1 / 7.2.2.1, SP 800-108 counter mode): for
 * each `usage`, `CMAC(KBPK, counter || usage || 0x00 || algorithm || length in
 * bits)` for counter = 1, 2, ..., concatenated and cut to the KBPK's length.
 *
 * Every KDF input is 8 bytes, so each CMAC is one block: `E(M xor K1)` when
 * the block is 8 bytes (TDES, M complete) and `E((M || 0x80 || 0...) xor K2)`
 * when it is 16 (AES, SP 800-38B 6.2 steps 3-4 with n = 1). The subkeys are
 * computed once for the KBPK and every block of every derived key is
 * encrypted in one ECB call: two cipher calls per derivation, whatever the
 * number of keys and counters.
 */
function cmacKdf(
  ciphers: Ciphers,
  cipher: "tdes" | "aes",
  kbpk: Uint8Array,
  usages: readonly number[],
): Uint8Array[] {
  const algorithm = KDF_ALGORITHM[`${cipher}${kbpk.length}`];
  const bits = kbpk.length * 8;
  const b = cipher === "tdes" ? 8 : 16;
  const perKey = Math.ceil(kbpk.length / b);
  const [k1, k2] = ciphers.cmacSubkeys(cipher, kbpk);
  const sub = b === 8 ? k1 : k2;
  const m = new Uint8Array(usages.length * perKey * b);
  for (let u = 0; u < usages.length; u++) {
    for (let i = 0; i < perKey; i++) {
      const off = (u * perKey + i) * b;
      m[off] = i + 1; // counter
      m[off + 1] = usages[u] >> 8;
      m[off + 2] = usages[u] & 0xff;
      m[off + 3] = 0x00; // separator
      m[off + 4] = algorithm >> 8;
      m[off + 5] = algorithm & 0xff;
      m[off + 6] = bits >> 8;
      m[off + 7] = bits & 0xff;
      if (b === 16) m[off + 8] = 0x80; // SP 800-38B padding of the 8-byte input
      for (let j = 0; j < b; j++) m[off + j] ^= sub[j];
    }
  }
  const c = ciphers.ecbEncrypt(cipher, kbpk, m);
  const out = usages.map((_, u) => c.slice(u * perKey * b, u * perKey * b + kbpk.length));
  zeroize(k1, k2, m, c);
  return out;
}

/**
 * Derives the KBEK and KBAK of a key block version from the KBPK, and for
 * B, D and E the KBAK's CMAC subkeys.
 *
 * @param version the key block version.
 * @param kbpk the key block protection key; its length has been checked
 *   against the version by the caller.
 * @param core the crypto core (TDES, and the CMAC built on it).
 * @returns fresh buffers the caller must zeroize ({@link zeroizeDerived}).
 */
export function deriveKeys(
  version: KeyBlockVersion,
  kbpk: Uint8Array,
  core: CryptoCore,
): Promise<DerivedKeys> {
  switch (version) {
    case "A":
    case "C":
      return Promise.resolve({
        kbek: xorByte(kbpk, VARIANT_KBEK),
        kbak: xorByte(kbpk, VARIANT_KBAK),
      });
    case "B":
    case "D":
    case "E": {
      try {
        const ciphers = ciphersFor(core);
        const cipher = VERSION_PARAMS[version].cipher;
        const [kbek, kbak] = cmacKdf(ciphers, cipher, kbpk, [
          version === "E" ? KDF_USAGE.encryptCtr : KDF_USAGE.encryptCbc,
          KDF_USAGE.mac,
        ]);
        return Promise.resolve({ kbek, kbak, kbakSubkeys: ciphers.cmacSubkeys(cipher, kbak) });
      } catch (e) {
        return Promise.reject(e);
      }
    }
  }
}
