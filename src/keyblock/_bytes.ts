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

/** The value of one uppercase hex digit's char code (0-9: 48-57, A-F: 65-70), no lookup. */
function digit(c: number): number {
  return (c & 15) + 9 * (c >> 6);
}

/**
 * Uppercase hex to bytes; the caller has checked it with {@link isUpperHex}.
 * (Key blocks pass ciphertext and MACs here; arithmetic on char codes, no
 * table or search.)
 */
export function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = (digit(s.charCodeAt(2 * i)) << 4) | digit(s.charCodeAt(2 * i + 1));
  }
  return out;
}

/** Bytes to uppercase hex. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX_DIGITS[b[i] >> 4] + HEX_DIGITS[b[i] & 15];
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
