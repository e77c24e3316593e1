/**
 * The TR-34 tokens that carry no key (ASC X9 TR 34-2019 annex B): the
 * credential tokens (B.6 CT_KDH, B.7 CT_KRD: a SignedData with no signer whose
 * certificates field holds the device's certificate, and for a KDH its CA's
 * CRL), the KRD random number token (B.12 RT_KRD: an id-randomNonce
 * attribute), and the classification of any SignedData token by its shape.
 *
 * @module
 */
import type { CryptoCore } from "../core/mod.ts";
import {
  attrEl,
  type CertId,
  certIdEl,
  children,
  der,
  type El,
  malformed,
  octets,
  octetsOf,
  parseOne,
  readAttr,
  readCertId,
} from "./_der.ts";
import { buildSignedData, readSignedData, signedAttr, type SignedData } from "./cms.ts";
import { Tr34Error } from "./errors.ts";
import { ATTR, CT, oidName } from "./oids.ts";

/** The least random number length this library accepts or issues (TR 34-2019 uses 8 or 16). */
export const MIN_NONCE_LENGTH = 8;

/** The kinds of TR-34 token. */
export type TokenKind =
  | "credential"
  | "random-number"
  | "key-2pass"
  | "key-1pass"
  | "rebind"
  | "unbind";

/**
 * Builds a credential token (B.6 / B.7): a degenerate SignedData holding the
 * device's certificate (and any chain), and for a KDH its CA's CRL.
 */
export function buildCredentialToken(
  certificates: Uint8Array[],
  crls: Uint8Array[],
  core: CryptoCore,
): Promise<Uint8Array> {
  if (certificates.length === 0) throw new RangeError("a credential token needs a certificate");
  return buildSignedData({ eContentType: CT.data, certificates, crls }, core);
}

/**
 * Reads a credential token.
 *
 * @returns its certificates (the device's first) and CRLs.
 * @throws {Tr34Error} `malformed` if it has a signer or no certificate.
 */
export function readCredentialToken(
  token: Uint8Array,
): { certificates: Uint8Array[]; crls: Uint8Array[] } {
  const sd = readSignedData(token, "credential token");
  if (sd.signerInfos.length !== 0 || sd.certificates.length === 0) {
    throw malformed("credential token (must have certificates and no signer)");
  }
  return { certificates: sd.certificates, crls: sd.crls };
}

/** Builds a KRD random number token (B.12): the attribute id-randomNonce { OCTET STRING }. */
export function buildRandomNumberToken(nonce: Uint8Array): Uint8Array {
  if (!(nonce instanceof Uint8Array)) throw new TypeError("nonce must be a Uint8Array");
  if (nonce.length < MIN_NONCE_LENGTH) {
    throw new RangeError(`nonce must be at least ${MIN_NONCE_LENGTH} bytes, got ${nonce.length}`);
  }
  return der(attrEl(ATTR.randomNonce, [octets(nonce)]));
}

/**
 * Reads a KRD random number token.
 *
 * @throws {Tr34Error} `unknown_oid` if the attribute is not id-randomNonce; `malformed`.
 */
export function readRandomNumberToken(token: Uint8Array): Uint8Array {
  const a = readAttr(parseOne(token, "random number token"), "random number token");
  if (a.type !== ATTR.randomNonce) {
    throw new Tr34Error(
      "unknown_oid",
      `random number token must be id-randomNonce, got ${oidName(a.type)}`,
    );
  }
  if (a.values.length !== 1) throw malformed("random number token (must hold one value)");
  const n = octetsOf(a.values[0], "random number");
  if (n.length < MIN_NONCE_LENGTH) {
    throw malformed(`random number (at least ${MIN_NONCE_LENGTH} bytes)`);
  }
  return n;
}

/** Classifies a parsed SignedData token by its content type and attributes. */
export function tokenKind(sd: SignedData): TokenKind {
  if (sd.signerInfos.length === 0) return "credential";
  const si = sd.signerInfos[0];
  if (sd.eContentType === CT.envelopedData) {
    return signedAttr(si, ATTR.randomNonce) ? "key-2pass" : "key-1pass";
  }
  if (sd.eContentType === CT.signedData) return "rebind";
  if (sd.eContentType === CT.data) return "unbind";
  throw new Tr34Error("unknown_oid", `no TR-34 token has eContentType ${oidName(sd.eContentType)}`);
}

/** The content of a binding token: the KRD's identity, and the KDH's when a CA signs it. */
export function bindingContent(krd: CertId, kdh?: CertId): Uint8Array {
  const a = der(certIdEl(krd));
  if (!kdh) return a;
  const b = der(certIdEl(kdh));
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Reads a binding content: one or two IssuerAndSerialNumber values back to back. */
export function readBindingContent(bytes: Uint8Array): { krd: CertId; kdh?: CertId } {
  const ids: CertId[] = [];
  let off = 0;
  while (off < bytes.length && ids.length < 3) {
    const first = parseOne(bytes.subarray(off, off + lengthOf(bytes, off)), "binding content");
    ids.push(readCertId(first, "binding content identity"));
    off += lengthOf(bytes, off);
  }
  if (ids.length === 0 || ids.length > 2) {
    throw malformed("binding content (must be one or two IssuerAndSerialNumber values)");
  }
  return { krd: ids[0], kdh: ids[1] };
}

/** The length of the DER element at `off` (tag and length octets included). */
function lengthOf(b: Uint8Array, off: number): number {
  if (off + 2 > b.length) throw malformed("binding content (truncated)");
  const l0 = b[off + 1];
  if (l0 < 0x80) return 2 + l0;
  const n = l0 & 0x7f;
  if (n === 0 || n > 3 || off + 2 + n > b.length) throw malformed("binding content (length)");
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i];
  return 2 + n + len;
}

/** The single value of a signed attribute as an element, or undefined. */
export function oneAttr(sd: SignedData, type: string): El | undefined {
  const v = sd.signerInfos[0] ? signedAttr(sd.signerInfos[0], type) : undefined;
  if (v && v.length !== 1) throw malformed(`signed attribute ${oidName(type)} (one value)`);
  return v?.[0];
}

/** The inner SignedData of a rebind token (a SignedData SEQUENCE in eContent). */
export function innerOf(bytes: Uint8Array): El {
  const el = parseOne(bytes, "rebind token content");
  children(el, "rebind token content (a SignedData SEQUENCE)");
  return el;
}
