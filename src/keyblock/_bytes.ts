/**
 * Byte helpers for key blocks: ASCII and XOR. Hex, constant-time comparison,
 * zeroization and concatenation come from `src/crypto`.
 *
 * @module
 */

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
