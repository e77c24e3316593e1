/**
 * Byte helpers for key blocks: strict uppercase hex, ASCII, XOR, constant-time
 * comparison and zeroization.
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

/** Concatenates byte strings. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `key` XOR a repeated byte (the variant of X9.143:2021 7.1). */
export function xorByte(key: Uint8Array, v: number): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key[i] ^ v;
  return out;
}

/**
 * Compares two byte strings in time that depends only on their lengths
 * (which are public here: MAC lengths fixed by the version).
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Overwrites every given buffer with zeros. */
export function zeroize(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** True if every character of `s` is printable ASCII (0x20..0x7E). */
export function isPrintableAscii(s: string): boolean {
  return /^[\x20-\x7E]*$/.test(s);
}
