/**
 * Byte helpers for key blocks: strict uppercase hex, ASCII, XOR. Constant-time
 * comparison, zeroization and concatenation come from `src/crypto`.
 *
 * @module
 */

const HEX_DIGITS = "0123456789ABCDEF";

/** True if `s` is uppercase hex (0-9, A-F) of even length. */
export function isUpperHex(s: string): boolean {
  return s.length % 2 === 0 && /^[0-9A-F]*$/.test(s);
}

/** Uppercase hex to bytes; the caller has checked it with {@link isUpperHex}. */
export function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = (HEX_DIGITS.indexOf(s[2 * i]) << 4) | HEX_DIGITS.indexOf(s[2 * i + 1]);
  }
  return out;
}

/** Bytes to uppercase hex. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += HEX_DIGITS[x >> 4] + HEX_DIGITS[x & 15];
  return s;
}

/** An ASCII string (already checked printable) to bytes. */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** `key` XOR a repeated byte (the variant of X9.143:2021 7.1). */
export function xorByte(key: Uint8Array, v: number): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key[i] ^ v;
  return out;
}

/** True if every character of `s` is printable ASCII (0x20..0x7E). */
export function isPrintableAscii(s: string): boolean {
  return /^[\x20-\x7E]*$/.test(s);
}
