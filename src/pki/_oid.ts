/**
 * OBJECT IDENTIFIER content octets (X.690 section 8.19) with arcs of
 * any size. forge's `oidToDer` stops at 32-bit arcs and asn1js prints big arcs
 * in hex, while the project arc (2.25.<UUID>, X.667) has a 128-bit arc.
 * Also the algorithm and extension OIDs both certificate readers use.
 *
 * @module
 */

const DOTTED = /^[0-2]\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/**
 * Encodes a dotted OID to its content octets.
 *
 * @throws {RangeError} if `oid` is not a dotted OID.
 */
export function oidToContent(oid: string): Uint8Array {
  if (!DOTTED.test(oid)) {
    throw new RangeError(`oid must be a dotted OBJECT IDENTIFIER, got ${JSON.stringify(oid)}`);
  }
  const arcs = oid.split(".").map(BigInt);
  if (arcs[0] < 2n && arcs[1] > 39n) {
    throw new RangeError(`oid second arc must be below 40 under arc ${arcs[0]}, got ${oid}`);
  }
  const out: number[] = [];
  for (const v of [arcs[0] * 40n + arcs[1], ...arcs.slice(2)]) {
    const groups = [Number(v & 0x7fn)];
    for (let x = v >> 7n; x > 0n; x >>= 7n) groups.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return new Uint8Array(out);
}

/**
 * Decodes OID content octets to dotted form.
 *
 * @throws {RangeError} if the content is empty, ends inside an arc, or has a non-minimal arc.
 */
export function oidFromContent(content: Uint8Array): string {
  if (content.length === 0) throw new RangeError("OID content is empty");
  const subs: bigint[] = [];
  let v = 0n;
  let start = true;
  for (const b of content) {
    if (start && b === 0x80) throw new RangeError("OID arc has a leading 0x80 (not minimal)");
    v = (v << 7n) | BigInt(b & 0x7f);
    start = (b & 0x80) === 0;
    if (start) {
      subs.push(v);
      v = 0n;
    }
  }
  if (!start) throw new RangeError("OID content ends inside an arc");
  const first = subs[0] < 80n ? subs[0] / 40n : 2n;
  return [first, subs[0] - first * 40n, ...subs.slice(1)].join(".");
}

/** sha256WithRSAEncryption (RFC 4055 section 5). */
export const SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
/** rsaEncryption (RFC 3279 section 2.3.1). */
export const RSA_ENCRYPTION = "1.2.840.113549.1.1.1";

/** The certificate extensions the readers process (RFC 5280 section 4.2.1). */
export const CERT_EXT = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
} as const;
