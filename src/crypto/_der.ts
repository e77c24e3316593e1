/**
 * A minimal, strict DER (ITU-T X.690) reader and writer for the RSA key
 * structures of RFC 8017 (RSAPublicKey, RSAPrivateKey), RFC 5958 (PKCS#8
 * PrivateKeyInfo) and RFC 5280 (SubjectPublicKeyInfo).
 *
 * Strict: definite minimal lengths only, INTEGERs minimal and non-negative,
 * no trailing bytes. Internal to `src/crypto`.
 *
 * @module
 */
import { RsaKeyError } from "./errors.ts";

/** DER tags used here. */
export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
} as const;

/** One TLV: its tag and a view of its contents. */
export interface Tlv {
  tag: number;
  value: Uint8Array;
}

/** Reads one TLV at `offset`; returns it and the offset after it. */
export function readTlv(buf: Uint8Array, offset: number, what: string): [Tlv, number] {
  if (offset + 2 > buf.length) throw new RsaKeyError(`${what}: truncated DER`);
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new RsaKeyError(`${what}: multi-byte DER tags are not used`);
  let len = buf[offset + 1];
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new RsaKeyError(`${what}: indefinite length is not DER`);
    if (n > 4) throw new RsaKeyError(`${what}: DER length too large`);
    if (pos + n > buf.length) throw new RsaKeyError(`${what}: truncated DER`);
    if (buf[pos] === 0) throw new RsaKeyError(`${what}: non-minimal DER length`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i];
    if (len < 0x80) throw new RsaKeyError(`${what}: non-minimal DER length`);
    pos += n;
  }
  if (pos + len > buf.length) throw new RsaKeyError(`${what}: truncated DER`);
  return [{ tag, value: buf.subarray(pos, pos + len) }, pos + len];
}

/** Parses `buf` as exactly one TLV with tag `tag`. */
export function readOne(buf: Uint8Array, tag: number, what: string): Uint8Array {
  const [tlv, end] = readTlv(buf, 0, what);
  if (tlv.tag !== tag) {
    throw new RsaKeyError(
      `${what}: expected DER tag 0x${tag.toString(16)}, got 0x${tlv.tag.toString(16)}`,
    );
  }
  if (end !== buf.length) throw new RsaKeyError(`${what}: trailing bytes after DER value`);
  return tlv.value;
}

/** Splits the contents of a constructed value into its TLVs. */
export function children(value: Uint8Array, what: string): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < value.length) {
    const [tlv, next] = readTlv(value, off, what);
    out.push(tlv);
    off = next;
  }
  return out;
}

/** Reads a non-negative minimal INTEGER; returns its magnitude without leading zeros. */
export function readUnsigned(tlv: Tlv | undefined, what: string): Uint8Array {
  if (!tlv || tlv.tag !== TAG.INTEGER) throw new RsaKeyError(`${what}: expected an INTEGER`);
  const v = tlv.value;
  if (v.length === 0) throw new RsaKeyError(`${what}: empty INTEGER`);
  if (v[0] & 0x80) throw new RsaKeyError(`${what}: negative INTEGER`);
  if (v.length > 1 && v[0] === 0 && !(v[1] & 0x80)) {
    throw new RsaKeyError(`${what}: non-minimal INTEGER`);
  }
  return v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
}

function encodeLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | bytes.length, ...bytes];
}

/** Encodes one TLV. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((a, p) => a + p.length, 0);
  const head = [tag, ...encodeLength(len)];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  let off = head.length;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Encodes a non-negative INTEGER from big-endian unsigned bytes. */
export function uint(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const m = bytes.length === 0 ? new Uint8Array([0]) : bytes.subarray(i);
  return m[0] & 0x80 ? tlv(TAG.INTEGER, new Uint8Array([0]), m) : tlv(TAG.INTEGER, m);
}

/** DER of the OID 1.2.840.113549.1.1.1 (rsaEncryption, RFC 8017 A.1) and NULL parameters. */
export const RSA_ALGORITHM_ID = tlv(
  TAG.SEQUENCE,
  new Uint8Array([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]),
  new Uint8Array([0x05, 0x00]),
);
