/**
 * Key derivation in counter mode with CMAC as the PRF (NIST SP 800-108r1
 * section 4.1), in the encoding TR-31 / ANSI X9.143:2021 uses for the KBEK
 * and KBAK of version B (TDES, 7.2.1.1) and D (AES, 7.2.2.1):
 *
 * ```text
 * K(i) = CMAC(key, [i]_8 || label || 0x00 || context || [L]_16),  i = 1, 2, ...
 * derived key = the leftmost L bits of K(1) || K(2) || ...
 * ```
 *
 * The counter is one byte (r = 8) and L, the derived length in bits, two
 * bytes big-endian. With `label` the 2-byte TR-31 usage indicator and
 * `context` the 2-byte algorithm indicator this is exactly the key block
 * derivation; other labels give keys that are separate from those (the input
 * lengths differ) and from each other.
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
import { type CmacCipher, cmacRaw } from "./cmac.ts";
import { zeroize } from "./bytes.ts";

/** Options of {@link kdfCmacCounter}. */
export interface KdfCmacOptions extends CoreOptions {
  /** The PRF's block cipher: `"tdes"` (key 16 or 24 bytes) or `"aes"` (16, 24 or 32). Required. */
  cipher: CmacCipher;
}

/** Longest label or context taken, in bytes. */
export const KDF_MAX_FIELD = 255;

/** Longest derived key, in bytes (L fits in 16 bits and the counter in 8). */
export const KDF_MAX_LENGTH = 64;

const KEY_LENGTHS: Record<CmacCipher, readonly number[]> = { tdes: [16, 24], aes: [16, 24, 32] };
const BLOCK: Record<CmacCipher, number> = { tdes: 8, aes: 16 };

/**
 * The input of one PRF call: `[i]_8 || label || 0x00 || context || [L]_16`.
 *
 * @param counter i, 1 to 255.
 * @param label the label.
 * @param context the context.
 * @param bits L, the derived length in bits.
 * @returns a fresh buffer.
 */
function kdfInput(
  counter: number,
  label: Uint8Array,
  context: Uint8Array,
  bits: number,
): Uint8Array {
  const m = new Uint8Array(1 + label.length + 1 + context.length + 2);
  m[0] = counter;
  m.set(label, 1);
  m.set(context, label.length + 2);
  m[m.length - 2] = bits >> 8;
  m[m.length - 1] = bits & 0xff;
  return m;
}

/**
 * Derives a key from `key` (SP 800-108 counter mode, CMAC PRF, TR-31 encoding).
 *
 * @param key the key derivation key: TDES 16 or 24 bytes, AES 16, 24 or 32.
 * @param label what the derived key is for (1 to {@link KDF_MAX_FIELD} bytes).
 * @param context who or what it is bound to (0 to {@link KDF_MAX_FIELD} bytes).
 * @param length the derived key's length in bytes, 1 to {@link KDF_MAX_LENGTH}.
 * @param options `cipher` (required) and `core`.
 * @returns the derived key; the caller zeroizes it.
 * @throws {TypeError} for a wrong argument type or a missing `options.cipher`.
 * @throws {RangeError} for a wrong key length, an empty or long label, a long context or a bad length.
 * @example
 * ```ts
 * import { kdfCmacCounter } from "./kdf.ts";
 * const tk = new Uint8Array(16).fill(0x11);
 * const k = await kdfCmacCounter(tk, new TextEncoder().encode("TMK download"),
 *   new TextEncoder().encode("SN00000001"), 16, { cipher: "tdes" });
 * ```
 */
export async function kdfCmacCounter(
  key: Uint8Array,
  label: Uint8Array,
  context: Uint8Array,
  length: number,
  options: KdfCmacOptions,
): Promise<Uint8Array> {
  const o = optionsRecord(options);
  if (o.cipher === undefined) throw new TypeError('options.cipher is required: "tdes" or "aes"');
  const cipher = checkOneOf("options.cipher", o.cipher, ["tdes", "aes"] as const);
  if (o.core !== undefined) checkCore(o.core);
  checkBytes("key", key);
  if (!KEY_LENGTHS[cipher].includes(key.length)) {
    throw new RangeError(
      `key must be ${
        KEY_LENGTHS[cipher].join(", ")
      } bytes (${cipher.toUpperCase()}), got ${key.length}`,
    );
  }
  checkBytes("label", label);
  checkInt("label.length", label.length, 1, KDF_MAX_FIELD);
  checkBytes("context", context);
  checkInt("context.length", context.length, 0, KDF_MAX_FIELD);
  checkInt("length", length, 1, KDF_MAX_LENGTH);
  return derive(cipher, await resolveCore(options), key, label, context, length);
}

/** The derivation itself, on checked arguments. */
function derive(
  cipher: CmacCipher,
  core: CryptoCore,
  key: Uint8Array,
  label: Uint8Array,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const b = BLOCK[cipher];
  const n = Math.ceil(length / b);
  const out = new Uint8Array(n * b);
  for (let i = 1; i <= n; i++) {
    const m = kdfInput(i, label, context, length * 8);
    const k = cmacRaw(cipher, core, key, m);
    out.set(k, (i - 1) * b);
    zeroize(m, k);
  }
  const derived = out.slice(0, length);
  zeroize(out);
  return derived;
}
