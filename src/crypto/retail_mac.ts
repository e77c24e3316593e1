/**
 * ISO/IEC 9797-1 MAC algorithms on DES/TDES, 64-bit block:
 *
 * - algorithm 3 ("retail MAC", ANSI X9.19): CBC-MAC under single DES with K,
 *   then the last block decrypted under K' and encrypted again under K; the key
 *   is K || K' (16 bytes).
 * - algorithm 1: CBC-MAC under TDES (key 16 or 24 bytes).
 *
 * with padding methods 1 (zeros; empty data becomes one zero block), 2 (0x80
 * then zeros, always) and 3 (a block holding the bit length, then zeros).
 * Single DES is run as TDES with K1 = K2 = K3 = K on the crypto core.
 *
 * @module
 */
import type { CryptoCore } from "../core/mod.ts";
import {
  checkBytes,
  checkCore,
  checkInt,
  checkOneOf,
  type CoreOptions,
  optionsRecord,
  resolveCore,
} from "./_core.ts";
import { timingSafeEqual } from "./bytes.ts";

/** ISO 9797-1 padding method. */
export type Iso9797Padding = 1 | 2 | 3;

/** Options of {@link retailMac} and {@link cbcMac}. */
export interface Iso9797MacOptions extends CoreOptions {
  /** Padding method 1, 2 or 3 (ISO 9797-1 section 6.1). Required. */
  padding: Iso9797Padding;
  /** MAC length in bytes, 4 to 8 (default 8); the leftmost bytes are kept. */
  length?: number;
}

const PADDINGS: readonly Iso9797Padding[] = [1, 2, 3];

/**
 * Pads `data` to whole 8-byte blocks by ISO 9797-1 padding method 1, 2 or 3.
 *
 * @param data the message.
 * @param padding 1, 2 or 3.
 * @returns a new array, a positive multiple of 8 bytes.
 * @throws {TypeError} if `data` is not a `Uint8Array`.
 * @throws {RangeError} for an unknown padding method.
 */
export function iso9797Pad(data: Uint8Array, padding: Iso9797Padding): Uint8Array {
  checkBytes("data", data);
  checkOneOf("padding", padding, PADDINGS);
  if (padding === 2) {
    const out = new Uint8Array((Math.floor(data.length / 8) + 1) * 8);
    out.set(data);
    out[data.length] = 0x80;
    return out;
  }
  const body = padding === 1 && data.length === 0 ? 8 : Math.ceil(data.length / 8) * 8;
  if (padding === 1) {
    const out = new Uint8Array(body);
    out.set(data);
    return out;
  }
  const out = new Uint8Array(8 + body);
  const bits = BigInt(data.length) * 8n;
  new DataView(out.buffer).setBigUint64(0, bits, false);
  out.set(data, 8);
  return out;
}

function parseOptions(options: unknown): { padding: Iso9797Padding; length: number } {
  const o = optionsRecord(options);
  if (o.padding === undefined) throw new TypeError("options.padding is required: 1, 2 or 3");
  const padding = checkOneOf("options.padding", o.padding, PADDINGS);
  const length = o.length === undefined ? 8 : checkInt("options.length", o.length, 4, 8);
  if (o.core !== undefined) checkCore(o.core);
  return { padding, length };
}

function retailMacRaw(core: CryptoCore, key: Uint8Array, padded: Uint8Array): Uint8Array {
  const k = new Uint8Array(16);
  const k2 = new Uint8Array(16);
  k.set(key.subarray(0, 8), 0);
  k.set(key.subarray(0, 8), 8);
  k2.set(key.subarray(8, 16), 0);
  k2.set(key.subarray(8, 16), 8);
  const chain = core.tdesEncryptCbc(k, new Uint8Array(8), padded);
  const h = chain.slice(chain.length - 8);
  const d = core.tdesDecryptEcb(k2, h);
  const mac = core.tdesEncryptEcb(k, d);
  for (const x of [k, k2, chain, h, d]) x.fill(0);
  return mac;
}

/**
 * ISO/IEC 9797-1 MAC algorithm 3 (retail MAC, ANSI X9.19).
 *
 * @example
 * ```ts
 * import { retailMac } from "./retail_mac.ts";
 * import { loadCore } from "../core/mod.ts";
 * const core = await loadCore("js");
 * const mac = await retailMac(new Uint8Array(16), new Uint8Array(3), { padding: 2, core });
 * ```
 *
 * @param key K || K', 16 bytes.
 * @param data the message, any length.
 * @param options `padding` (required), `length` (4-8, default 8) and `core`.
 * @returns the MAC.
 * @throws {TypeError} for a wrong argument type or a missing `options.padding`.
 * @throws {RangeError} for a key that is not 16 bytes, an unknown padding or a bad length.
 */
export async function retailMac(
  key: Uint8Array,
  data: Uint8Array,
  options: Iso9797MacOptions,
): Promise<Uint8Array> {
  const { padding, length } = parseOptions(options);
  checkBytes("key", key);
  if (key.length !== 16) {
    throw new RangeError(`key must be 16 bytes (K || K'), got ${key.length}`);
  }
  const padded = iso9797Pad(data, padding);
  const core = await resolveCore(options);
  const mac = retailMacRaw(core, key, padded);
  padded.fill(0);
  const out = mac.slice(0, length);
  mac.fill(0);
  return out;
}

/**
 * ISO/IEC 9797-1 MAC algorithm 1 with TDES (CBC-MAC, zero IV).
 *
 * @param key TDES key, 16 or 24 bytes.
 * @param data the message, any length.
 * @param options `padding` (required), `length` (4-8, default 8) and `core`.
 * @returns the MAC.
 * @throws {TypeError} for a wrong argument type or a missing `options.padding`.
 * @throws {RangeError} for a wrong key length, an unknown padding or a bad length.
 */
export async function cbcMac(
  key: Uint8Array,
  data: Uint8Array,
  options: Iso9797MacOptions,
): Promise<Uint8Array> {
  const { padding, length } = parseOptions(options);
  checkBytes("key", key);
  if (key.length !== 16 && key.length !== 24) {
    throw new RangeError(`key must be 16 or 24 bytes (TDES), got ${key.length}`);
  }
  const padded = iso9797Pad(data, padding);
  const core = await resolveCore(options);
  const chain = core.tdesEncryptCbc(key, new Uint8Array(8), padded);
  const out = chain.slice(chain.length - 8, chain.length - 8 + length);
  chain.fill(0);
  padded.fill(0);
  return out;
}

/**
 * Verifies a retail MAC (algorithm 3) in constant time.
 *
 * @param key K || K', 16 bytes.
 * @param data the message.
 * @param mac the received MAC, 4 to 8 bytes (its length is the MAC length).
 * @param options `padding` (required) and `core`.
 * @returns `true` if the MAC is correct.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RangeError} for a wrong key length, padding, or MAC length.
 */
export async function retailMacVerify(
  key: Uint8Array,
  data: Uint8Array,
  mac: Uint8Array,
  options: Omit<Iso9797MacOptions, "length">,
): Promise<boolean> {
  checkBytes("mac", mac);
  checkInt("mac.length", mac.length, 4, 8);
  const expected = await retailMac(
    key,
    data,
    { ...optionsRecord(options), length: mac.length } as Iso9797MacOptions,
  );
  const ok = timingSafeEqual(expected, mac);
  expected.fill(0);
  return ok;
}
