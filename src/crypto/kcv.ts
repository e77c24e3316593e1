/**
 * Key check values (KCV).
 *
 * - `"legacy"`: the leftmost bytes of the key's block cipher applied to a zero
 *   block: TDES-ECB(key, 0^8) (ANSI X9.24-1, the usual 3-byte TDES KCV), or
 *   AES-ECB(key, 0^16) for an AES key (older practice).
 * - `"cmac"`: the leftmost bytes of CMAC(key, zero block) (SP 800-38B): the
 *   AES KCV of ANSI X9.24-1:2017 (3 or 5 bytes), also the X9.143 KC/KP block
 *   method "01" for TDES keys.
 *
 * The algorithm defaults to TDES for `"legacy"` and AES for `"cmac"` (each
 * method's usual key type); pass `algorithm` to choose the other one.
 *
 * @module
 */
import {
  checkBytes,
  checkCore,
  checkInt,
  checkOneOf,
  type CoreOptions,
  optionsRecord,
  resolveCore,
} from "./_core.ts";
import { cmacRaw } from "./cmac.ts";

/** Options of {@link kcv}. */
export interface KcvOptions extends CoreOptions {
  /** `"legacy"` (default): E_K(zero block); `"cmac"`: CMAC_K(zero block). */
  method?: "legacy" | "cmac";
  /** Key type: default `"tdes"` for `"legacy"`, `"aes"` for `"cmac"`. */
  algorithm?: "tdes" | "aes";
  /** KCV length in bytes, 1 to the block size (8 TDES, 16 AES); default 3. */
  length?: number;
}

/**
 * Computes a key check value.
 *
 * @example
 * ```ts
 * import { kcv } from "./kcv.ts";
 * import { loadCore } from "../core/mod.ts";
 * const core = await loadCore("js");
 * const key = new Uint8Array(16).fill(0x01);
 * const v = await kcv(key, { method: "legacy", core }); // 3 bytes
 * ```
 *
 * @param key TDES key (16 or 24 bytes) or AES key (16, 24 or 32 bytes).
 * @param options method, algorithm, length and core (see {@link KcvOptions}).
 * @returns the KCV bytes.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RangeError} for an unknown method or algorithm, a key length that does
 *   not fit the algorithm, or a bad length.
 */
export async function kcv(key: Uint8Array, options?: KcvOptions): Promise<Uint8Array> {
  const o = optionsRecord(options);
  const method = checkOneOf("options.method", o.method ?? "legacy", ["legacy", "cmac"] as const);
  const algorithm = checkOneOf(
    "options.algorithm",
    o.algorithm ?? (method === "legacy" ? "tdes" : "aes"),
    ["tdes", "aes"] as const,
  );
  const block = algorithm === "tdes" ? 8 : 16;
  const length = o.length === undefined ? 3 : checkInt("options.length", o.length, 1, block);
  if (o.core !== undefined) checkCore(o.core);
  checkBytes("key", key);
  if (algorithm === "tdes" && key.length !== 16 && key.length !== 24) {
    throw new RangeError(`key must be 16 or 24 bytes (TDES), got ${key.length}`);
  }
  if (algorithm === "aes" && key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`key must be 16, 24 or 32 bytes (AES), got ${key.length}`);
  }
  const zero = new Uint8Array(block);
  const core = await resolveCore(options);
  let full: Uint8Array;
  if (method === "cmac") full = cmacRaw(algorithm, core, key, zero);
  else if (algorithm === "aes") full = core.aesEncryptEcb(key, zero);
  else full = core.tdesEncryptEcb(key, zero);
  const out = full.slice(0, length);
  full.fill(0);
  return out;
}
