/**
 * Hexadecimal, the one codec every area uses: payments systems send keys,
 * KCVs and MACs as uppercase hex (docs/ARCHITECTURE.md, "Servers on the
 * wire"); digests in HTTP headers and certificate fields are lowercase.
 * Parsing is strict and its errors say exactly what was wrong, without
 * echoing the value (it may be a key).
 *
 * @example
 * ```ts
 * import { fromHex, toHex } from "./hex.ts";
 * const kcv = fromHex("08D7B4", { name: "kcv", length: 3 });
 * toHex(kcv); // "08D7B4"
 * ```
 *
 * @module
 */
import { checkBytes, describe } from "./_core.ts";

const UPPER = "0123456789ABCDEF";
const LOWER = "0123456789abcdef";

/** Options of {@link fromHex} and {@link isHex}. */
export interface HexOptions {
  /** The argument or field name used in error messages (default `"hex"`). */
  name?: string;
  /** `"upper"` (default): only `0-9A-F`; `"any"`: either case. */
  case?: "upper" | "any";
  /** Expected decoded length in bytes, or a list of allowed lengths. */
  length?: number | readonly number[];
}

/** Options of {@link toHex}. */
export interface ToHexOptions {
  /** `"upper"` (default) or `"lower"` digits. */
  case?: "upper" | "lower";
}

/**
 * Bytes to hex, uppercase unless `options.case` is `"lower"`.
 *
 * @param bytes the bytes.
 * @param options the case of the digits.
 * @returns two hex digits per byte.
 * @throws {TypeError} if `bytes` is not a `Uint8Array`.
 * @throws {RangeError} if `options.case` is neither `"upper"` nor `"lower"`.
 */
export function toHex(bytes: Uint8Array, options?: ToHexOptions): string {
  checkBytes("bytes", bytes);
  const c = options?.case ?? "upper";
  if (c !== "upper" && c !== "lower") {
    throw new RangeError(`options.case must be "upper" or "lower", got ${JSON.stringify(c)}`);
  }
  const digits = c === "upper" ? UPPER : LOWER;
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += digits[bytes[i] >> 4] + digits[bytes[i] & 15];
  return s;
}

function nibble(c: number, upperOnly: boolean): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
  if (c >= 0x41 && c <= 0x46) return c - 0x37; // A-F
  if (c >= 0x61 && c <= 0x66) return upperOnly ? -2 : c - 0x57; // a-f
  return -1;
}

function checkOptions(options: HexOptions | undefined): Required<Omit<HexOptions, "length">> & {
  length?: readonly number[];
} {
  if (options === undefined) return { name: "hex", case: "upper" };
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const name = options.name ?? "hex";
  if (typeof name !== "string") {
    throw new TypeError(`options.name must be a string, got ${describe(name)}`);
  }
  const c = options.case ?? "upper";
  if (c !== "upper" && c !== "any") {
    throw new RangeError(`options.case must be "upper" or "any", got ${JSON.stringify(c)}`);
  }
  let length: readonly number[] | undefined;
  if (options.length !== undefined) {
    length = typeof options.length === "number" ? [options.length] : options.length;
    if (
      !Array.isArray(length) ||
      !length.every((n) => typeof n === "number" && Number.isInteger(n) && n >= 0)
    ) {
      throw new TypeError("options.length must be a non-negative integer or a list of them");
    }
  }
  return { name, case: c, length };
}

/**
 * Parses hex into bytes.
 *
 * @param text the hex string (no prefix, no separators).
 * @param options field name for errors, accepted case, expected length.
 * @returns the decoded bytes.
 * @throws {TypeError} if `text` is not a string, or an option has the wrong type.
 * @throws {RangeError} if `text` has an odd number of digits, a character that
 *   is not a hex digit (or a lowercase digit with `case: "upper"`), or the wrong
 *   decoded length. The message names the field and the position, never the value.
 */
export function fromHex(text: string, options?: HexOptions): Uint8Array<ArrayBuffer> {
  const o = checkOptions(options);
  if (typeof text !== "string") {
    throw new TypeError(`${o.name} must be a hex string, got ${describe(text)}`);
  }
  const upperOnly = o.case === "upper";
  const kind = upperOnly ? "uppercase hex (0-9, A-F)" : "hex (0-9, A-F, a-f)";
  for (let i = 0; i < text.length; i++) {
    const v = nibble(text.charCodeAt(i), upperOnly);
    if (v === -2) {
      throw new RangeError(`${o.name} must be ${kind}: lowercase digit at position ${i}`);
    }
    if (v === -1) {
      const ch = text.codePointAt(i)!;
      const shown = ch >= 0x21 && ch <= 0x7e
        ? JSON.stringify(String.fromCharCode(ch))
        : `U+${ch.toString(16).toUpperCase().padStart(4, "0")}`;
      throw new RangeError(`${o.name} must be ${kind}: ${shown} at position ${i}`);
    }
  }
  if (text.length % 2 !== 0) {
    throw new RangeError(
      `${o.name} must have an even number of hex digits, got ${text.length}`,
    );
  }
  const n = text.length / 2;
  if (o.length !== undefined && !o.length.includes(n)) {
    const want = o.length.map((l) => `${l}`).join(" or ");
    throw new RangeError(
      `${o.name} must be ${want} bytes (${
        o.length.map((l) => 2 * l).join(" or ")
      } hex digits), got ${text.length} hex digits`,
    );
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = (nibble(text.charCodeAt(2 * i), false) << 4) |
      nibble(text.charCodeAt(2 * i + 1), false);
  }
  return out;
}

/**
 * Whether `text` is valid hex under `options` (same rules as {@link fromHex}).
 *
 * @returns `true` if {@link fromHex} would accept it.
 * @throws {TypeError} if an option has the wrong type.
 */
export function isHex(text: unknown, options?: HexOptions): boolean {
  checkOptions(options);
  if (typeof text !== "string") return false;
  try {
    fromHex(text, options);
    return true;
  } catch (e) {
    if (e instanceof RangeError) return false;
    throw e;
  }
}
