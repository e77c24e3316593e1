/**
 * Crypto building blocks on a crypto core: random bytes, hex, DES parity,
 * constant-time comparison, AES, CMAC (SP 800-38B), ISO 9797-1 MACs and key
 * check values.
 *
 * ## Calling convention
 *
 * - A function that needs the crypto core (TDES, SHA, modexp) is `async` and
 *   takes `options.core`; without it, the default core (`await loadCore()`, the
 *   wasm core) is used. Tests and benchmarks always pass `core` explicitly.
 * - A function that needs no core (random, hex, parity, byte helpers, AES on
 *   `node:crypto`) is synchronous and takes no `core`.
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
export type { CoreOptions } from "./_core.ts";
export { randomBytes } from "./random.ts";
export { concatBytes, timingSafeEqual, xorBytes, zeroize } from "./bytes.ts";
export { fromHex, type HexOptions, isHex, toHex } from "./hex.ts";
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
export {
  cbcMac,
  type Iso9797MacOptions,
  iso9797Pad,
  type Iso9797Padding,
  retailMac,
  retailMacVerify,
} from "./retail_mac.ts";
