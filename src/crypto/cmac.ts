/**
 * CMAC (NIST SP 800-38B) over TDES (64-bit block, R64 = 0x1B) and AES
 * (128-bit block, R128 = 0x87): subkey generation and MAC generation and
 * verification.
 *
 * Both run on the crypto core (`core.tdesEncryptCbc`, `core.aesEncryptCbc`):
 * one CBC pass for the subkeys and one over the message, or only the second
 * when the caller keeps the key's subkeys ({@link cmacSubkeysRaw}).
 *
 * @example
 * ```ts
 * import { cmac } from "./cmac.ts";
 * import { loadCore } from "../core/mod.ts";
 * const core = await loadCore("js");
 * const tag = await cmac(new Uint8Array(16), new Uint8Array(0), { cipher: "tdes", core });
 * ```
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

/** The block ciphers CMAC is defined over here. */
export type CmacCipher = "tdes" | "aes";

/** Options of {@link cmac}. */
export interface CmacOptions extends CoreOptions {
  /** `"tdes"` (key 16 or 24 bytes) or `"aes"` (key 16, 24 or 32 bytes). Required. */
  cipher: CmacCipher;
  /** Tag length in bytes, 1 to the block size (default: the block size, 8 or 16). */
  length?: number;
}

const CIPHERS: readonly CmacCipher[] = ["tdes", "aes"];

/** SP 800-38B section 5.3: R_b for each block size. */
const RB: Record<CmacCipher, number> = { tdes: 0x1b, aes: 0x87 };
const BLOCK: Record<CmacCipher, number> = { tdes: 8, aes: 16 };

function checkKey(cipher: CmacCipher, key: unknown): asserts key is Uint8Array {
  checkBytes("key", key);
  if (cipher === "tdes" && key.length !== 16 && key.length !== 24) {
    throw new RangeError(`key must be 16 or 24 bytes (TDES), got ${key.length}`);
  }
  if (cipher === "aes" && key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`key must be 16, 24 or 32 bytes (AES), got ${key.length}`);
  }
}

/** CBC encryption under `key` with a zero IV, for the given cipher. */
function cbcZeroIv(
  cipher: CmacCipher,
  core: CryptoCore,
  key: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  if (cipher === "aes") return core.aesEncryptCbc(key, new Uint8Array(16), data);
  return core.tdesEncryptCbc(key, new Uint8Array(8), data);
}

/** Doubling in GF(2^b) (SP 800-38B 6.1 steps 2-3), without a branch on the secret bit. */
function dbl(x: Uint8Array, rb: number): Uint8Array {
  const out = new Uint8Array(x.length);
  const mask = -(x[0] >> 7) & rb;
  for (let i = 0; i < x.length - 1; i++) out[i] = ((x[i] << 1) | (x[i + 1] >> 7)) & 0xff;
  out[x.length - 1] = ((x[x.length - 1] << 1) & 0xff) ^ mask;
  return out;
}

/**
 * The subkeys K1, K2 (SP 800-38B 6.1) without argument checks. For use inside the project on an already-resolved core, by
 * callers that MAC many messages under one key (the key block layer keeps a
 * KBAK's subkeys with the KBAK) and pass them to {@link cmacRaw}. The caller
 * zeroizes both.
 */
export function cmacSubkeysRaw(
  cipher: CmacCipher,
  core: CryptoCore,
  key: Uint8Array,
): [Uint8Array, Uint8Array] {
  const l = cbcZeroIv(cipher, core, key, new Uint8Array(BLOCK[cipher]));
  const k1 = dbl(l, RB[cipher]);
  const k2 = dbl(k1, RB[cipher]);
  l.fill(0);
  return [k1, k2];
}

/**
 * CMAC without argument checks or default core.
 * For use inside the project on an already-resolved core (kcv, key blocks).
 * With `subkeys` (K1, K2 of `key`, from {@link cmacSubkeysRaw}; not zeroed
 * here) the MAC is one CBC pass; without, they are computed and zeroed here.
 */
export function cmacRaw(
  cipher: CmacCipher,
  core: CryptoCore,
  key: Uint8Array,
  data: Uint8Array,
  subkeys?: readonly [Uint8Array, Uint8Array],
): Uint8Array {
  const b = BLOCK[cipher];
  const [k1, k2] = subkeys ?? cmacSubkeysRaw(cipher, core, key);
  const complete = data.length > 0 && data.length % b === 0;
  const n = data.length === 0 ? 1 : Math.ceil(data.length / b);
  const m = new Uint8Array(n * b);
  m.set(data);
  if (!complete) m[data.length] = 0x80;
  const k = complete ? k1 : k2;
  for (let i = 0; i < b; i++) m[(n - 1) * b + i] ^= k[i];
  const c = cbcZeroIv(cipher, core, key, m);
  const tag = c.slice(c.length - b);
  m.fill(0);
  c.fill(0);
  if (subkeys === undefined) {
    k1.fill(0);
    k2.fill(0);
  }
  return tag;
}

function parseOptions(options: unknown): { cipher: CmacCipher; length?: number } {
  const o = optionsRecord(options);
  if (o.cipher === undefined) {
    throw new TypeError('options.cipher is required: "tdes" or "aes"');
  }
  const cipher = checkOneOf("options.cipher", o.cipher, CIPHERS);
  const length = o.length === undefined
    ? undefined
    : checkInt("options.length", o.length, 1, BLOCK[cipher]);
  if (o.core !== undefined) checkCore(o.core);
  return { cipher, length };
}

/**
 * CMAC generation (SP 800-38B 6.2).
 *
 * @param key TDES key (16 or 24 bytes) or AES key (16, 24 or 32 bytes).
 * @param data the message, any length (empty allowed).
 * @param options `cipher` (required), `length` (tag bytes), `core`.
 * @returns the tag: the leftmost `length` bytes of the CMAC (default the whole block).
 * @throws {TypeError} for a wrong argument type or a missing `options.cipher`.
 * @throws {RangeError} for a wrong key length, unknown cipher or bad tag length.
 */
export async function cmac(
  key: Uint8Array,
  data: Uint8Array,
  options: CmacOptions,
): Promise<Uint8Array> {
  const { cipher, length } = parseOptions(options);
  checkKey(cipher, key);
  checkBytes("data", data);
  const core = await resolveCore(options);
  const tag = cmacRaw(cipher, core, key, data);
  if (length === undefined || length === tag.length) return tag;
  const out = tag.slice(0, length);
  tag.fill(0);
  return out;
}

/**
 * CMAC verification (SP 800-38B 6.3): recomputes the tag and compares in constant time.
 *
 * @param key TDES or AES key.
 * @param data the message.
 * @param tag the received tag; its length (1 to the block size) is the tag length.
 * @param options `cipher` (required) and `core`.
 * @returns `true` if the tag is correct.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RangeError} for a wrong key length, unknown cipher or tag length.
 */
export async function cmacVerify(
  key: Uint8Array,
  data: Uint8Array,
  tag: Uint8Array,
  options: Omit<CmacOptions, "length">,
): Promise<boolean> {
  const { cipher } = parseOptions({ ...optionsRecord(options), length: undefined });
  checkBytes("tag", tag);
  checkInt("tag.length", tag.length, 1, BLOCK[cipher]);
  const expected = await cmac(key, data, { ...options, length: tag.length });
  const ok = timingSafeEqual(expected, tag);
  expected.fill(0);
  return ok;
}

/**
 * The CMAC subkeys K1 and K2 (SP 800-38B 6.1), for tests and diagnostics.
 *
 * @param key TDES or AES key.
 * @param options `cipher` (required) and `core`.
 * @returns `[K1, K2]`, each one block.
 * @throws {TypeError} for a wrong argument type.
 * @throws {RangeError} for a wrong key length or unknown cipher.
 */
export async function cmacSubkeys(
  key: Uint8Array,
  options: Omit<CmacOptions, "length">,
): Promise<[Uint8Array, Uint8Array]> {
  const { cipher } = parseOptions({ ...optionsRecord(options), length: undefined });
  checkKey(cipher, key);
  const core = await resolveCore(options);
  return cmacSubkeysRaw(cipher, core, key);
}
