/**
 * Internal: DER reading and writing on asn1js for the CMS structures of
 * TR-34 (X.690 DER; RFC 5652 IssuerAndSerialNumber and Attribute). Every
 * reader throws a `malformed` {@link Tr34Error} naming the field.
 *
 * @module
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { Tr34Error } from "./errors.ts";
import { oidName } from "./oids.ts";

/** An ASN.1 element as asn1js parses it. */
export type El = asn1js.AsnType;

/** A Tr34Error `malformed` for `what`. */
export function malformed(what: string, cause?: unknown): Tr34Error {
  return new Tr34Error("malformed", `${what} is malformed`, { cause });
}

/** A version INTEGER that must be one of `allowed`. */
export function versionOf(el: El | undefined, what: string, allowed: number[]): number {
  const v = intOf(el, what);
  if (!allowed.includes(v)) throw malformed(`${what} (${v}; must be ${allowed.join(" or ")})`);
  return v;
}

/** Parses exactly one DER element; BER forms (indefinite or non-minimal lengths) are refused. */
export function parseOne(bytes: Uint8Array, what: string): El {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${what} must be a Uint8Array`);
  }
  let r: ReturnType<typeof asn1js.fromBER>;
  try {
    r = asn1js.fromBER(bytes);
  } catch (e) {
    throw malformed(`${what} (not DER: ${(e as Error).message})`, e);
  }
  if (r.offset === -1) throw malformed(`${what} (not DER: ${r.result.error})`);
  if (r.offset !== bytes.length) {
    throw malformed(`${what} (${bytes.length - r.offset} bytes after the end)`);
  }
  // asn1js reads BER and tolerates a length field that disagrees with the content it encloses;
  // the DER re-encoding of what was read must be the input itself.
  if (!sameBytes(der(r.result), bytes)) {
    throw malformed(`${what} (not DER: a length or a form differs from its DER encoding)`);
  }
  return r.result;
}

/** The DER encoding of an element built here. */
export function der(el: El): Uint8Array {
  return new Uint8Array(el.toBER(false));
}

/** The bytes an element was parsed from, unchanged. */
export function raw(el: El): Uint8Array {
  return new Uint8Array(el.valueBeforeDecodeView);
}

/** Bytes as an ArrayBuffer-backed copy (asn1js wants BufferSource). */
export function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

function isUniversal(el: El, tag: number, constructed: boolean): boolean {
  return el.idBlock.tagClass === 1 && el.idBlock.tagNumber === tag &&
    el.idBlock.isConstructed === constructed;
}

/** Whether `el` is context-specific [n]. */
export function isCtx(el: El | undefined, n: number): boolean {
  return el !== undefined && el.idBlock.tagClass === 3 && el.idBlock.tagNumber === n;
}

/** The children of a SEQUENCE (tag 16) or SET (tag 17) or constructed [n]. */
export function children(el: El | undefined, what: string, tag = 16): El[] {
  if (el === undefined) throw malformed(`${what} (absent)`);
  const ok = tag < 0 ? el.idBlock.isConstructed : isUniversal(el, tag, true);
  if (!ok) throw malformed(`${what} (expected ${tag === 17 ? "a SET" : "a SEQUENCE"})`);
  return (el.valueBlock as unknown as { value: El[] }).value;
}

/** The children of a constructed context-specific [n]. */
export function ctxChildren(el: El | undefined, n: number, what: string): El[] {
  if (!isCtx(el, n) || !el!.idBlock.isConstructed) throw malformed(`${what} (expected [${n}])`);
  return (el!.valueBlock as unknown as { value: El[] }).value;
}

/** An OBJECT IDENTIFIER's dotted text. */
export function oidOf(el: El | undefined, what: string): string {
  if (!(el instanceof asn1js.ObjectIdentifier)) throw malformed(`${what} (expected an OID)`);
  return el.valueBlock.toString();
}

/** A small INTEGER's value. */
export function intOf(el: El | undefined, what: string): number {
  // ENUMERATED is an asn1js.Integer too: the tag decides.
  if (!(el instanceof asn1js.Integer) || !isUniversal(el, 2, false)) {
    throw malformed(`${what} (expected an INTEGER)`);
  }
  const v = el.valueBlock.valueDec;
  if (!Number.isSafeInteger(v) || el.valueBlock.valueHexView.length > 6) {
    throw malformed(`${what} (INTEGER out of range)`);
  }
  return v;
}

/** An INTEGER's content octets. */
export function intBytes(el: El | undefined, what: string): Uint8Array {
  // ENUMERATED is an asn1js.Integer too: the tag decides.
  if (!(el instanceof asn1js.Integer) || !isUniversal(el, 2, false)) {
    throw malformed(`${what} (expected an INTEGER)`);
  }
  return new Uint8Array(el.valueBlock.valueHexView);
}

/** A primitive OCTET STRING's content (universal, or implicitly tagged [n] when `ctx` given). */
export function octetsOf(el: El | undefined, what: string, ctx?: number): Uint8Array {
  const ok = el !== undefined && !el.idBlock.isConstructed &&
    (ctx === undefined ? isUniversal(el, 4, false) : isCtx(el, ctx));
  if (!ok) throw malformed(`${what} (expected a primitive OCTET STRING)`);
  return new Uint8Array((el!.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView);
}

/** A UTCTime or GeneralizedTime. */
export function timeOf(el: El | undefined, what: string): Date {
  if (el instanceof asn1js.UTCTime || el instanceof asn1js.GeneralizedTime) return el.toDate();
  throw malformed(`${what} (expected a UTCTime or GeneralizedTime)`);
}

/** An OID element. */
export function oid(o: string): asn1js.ObjectIdentifier {
  return new asn1js.ObjectIdentifier({ value: o });
}

/** An OCTET STRING element. */
export function octets(bytes: Uint8Array): asn1js.OctetString {
  return new asn1js.OctetString({ valueHex: buf(bytes) });
}

/** An AlgorithmIdentifier; `params` null writes NULL, undefined omits it. */
export function algId(o: string, params?: El | null): asn1js.Sequence {
  const value: El[] = [oid(o)];
  if (params === null) value.push(new asn1js.Null());
  else if (params !== undefined) value.push(params);
  return new asn1js.Sequence({ value });
}

/** An element from DER built elsewhere. */
export function fromDer(bytes: Uint8Array, what: string): El {
  return parseOne(bytes, what);
}

/** Compares byte strings (for DER SET OF order, X.690 11.6). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Equal byte strings (public data only: not constant time). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** Whether a SET's encoded members are in DER order (X.690 11.6). */
export function inDerOrder(members: El[]): boolean {
  const enc = members.map(raw);
  return enc.every((e, i) => i === 0 || compareBytes(enc[i - 1], e) <= 0);
}

// --- IssuerAndSerialNumber (RFC 5652 10.2.4) -------------------------------------------------

/** A certificate's identity: its issuer Name (DER) and serial number (INTEGER content). */
export interface CertId {
  /** The issuer Name, DER. */
  issuer: Uint8Array;
  /** The serial number's INTEGER content octets. */
  serial: Uint8Array;
}

/** The IssuerAndSerialNumber element of an identity. */
export function certIdEl(id: CertId): asn1js.Sequence {
  const serial = new asn1js.Integer();
  serial.valueBlock.valueHexView = buf(id.serial);
  serial.valueBlock.isHexOnly = true;
  return new asn1js.Sequence({ value: [fromDer(id.issuer, "issuer Name"), serial] });
}

/** Reads an IssuerAndSerialNumber. */
export function readCertId(el: El | undefined, what: string): CertId {
  const [name, serial, ...rest] = children(el, what);
  if (rest.length > 0) throw malformed(`${what} (extra fields)`);
  children(name, `${what} issuer`);
  return { issuer: raw(name), serial: intBytes(serial, `${what} serialNumber`) };
}

/** Whether two identities are the same certificate. */
export function sameId(a: CertId, b: CertId): boolean {
  return sameBytes(a.issuer, b.issuer) && sameBytes(a.serial, b.serial);
}

/** A Name as `C=US, O=..., CN=...`. */
export function nameText(nameDer: Uint8Array): string {
  try {
    const rdn = new pkijs.RelativeDistinguishedNames({ schema: parseOne(nameDer, "Name") });
    return rdn.typesAndValues.map((tv) => {
      const label = oidName(tv.type).split(" ")[0];
      return `${label}=${tv.value.valueBlock.value}`;
    }).join(", ");
  } catch {
    return "(unreadable Name)";
  }
}

/** An identity as text: issuer and serial number in hex. */
export function idText(id: CertId): string {
  const hex = [...id.serial].map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
  return `${nameText(id.issuer)} #${hex}`;
}

// --- Attribute (RFC 5652 5.3) -----------------------------------------------------------------

/** An attribute: its type and the DER of each value. */
export interface Attr {
  type: string;
  values: El[];
}

/** The Attribute element. */
export function attrEl(type: string, values: El[]): asn1js.Sequence {
  return new asn1js.Sequence({ value: [oid(type), new asn1js.Set({ value: values })] });
}

/** Reads an Attribute. */
export function readAttr(el: El, what: string): Attr {
  const [type, set, ...rest] = children(el, what);
  if (rest.length > 0) throw malformed(`${what} (extra fields)`);
  return { type: oidOf(type, `${what} attrType`), values: children(set, `${what} values`, 17) };
}

/** The DER encodings of attributes in DER SET OF order. */
export function sortedAttrs(attrs: El[]): El[] {
  return attrs.map((a) => ({ a, d: der(a) }))
    .sort((x, y) => compareBytes(x.d, y.d))
    .map((x) => x.a);
}
