/**
 * The common case of {@link parseCertificateInternal}, read straight from
 * the DER: a certificate as this system's CA issues it (strict DER, version
 * 3, sha256WithRSAEncryption with NULL parameters, an RSA key, names of
 * UTF8String, PrintableString or IA5String values, times of the plain
 * `YYMMDDhhmmssZ` / `YYYYMMDDhhmmssZ` forms, and only the extensions
 * `certificate.ts` reads, each in its usual shape).
 *
 * Anything else, well-formed or not, gives `undefined`: the caller then
 * reads the certificate with pkijs, which accepts or refuses it with its
 * precise error. So this reader never refuses and never accepts what the
 * pkijs reading would refuse; where it answers, its fields are the pkijs
 * reading's (`tests/pki/x509_fast_test.ts` compares the two on every
 * certificate the tests make and on mutations of them).
 *
 * @module
 */
import { toHex } from "../crypto/mod.ts";
import { type DistinguishedName, formatName, NAME_ATTRIBUTES } from "./name.ts";
import { CERT_EXT, oidFromContent, RSA_ENCRYPTION, SHA256_WITH_RSA } from "./_oid.ts";
import type { CertificateInfo, ParsedCertificate } from "./certificate.ts";
import { KEY_USAGE_BITS, type KeyUsage } from "./profiles.ts";

/** What the fast reading gives: the fields (all but the DER), and the raw parts verification needs. */
export type FastCertificate =
  & Omit<CertificateInfo, "der">
  & Pick<ParsedCertificate, "subjectDer" | "issuerDer" | "tbs" | "signature" | "spki">;

/** Not the common case: the caller reads the certificate with pkijs. */
class NotFast extends Error {}
const notFast = (): never => {
  throw new NotFast();
};

interface El {
  tag: number;
  /** The contents. */
  v: Uint8Array;
  /** The whole TLV. */
  all: Uint8Array;
}

/** One strict-DER element at `off` (one-byte tags, minimal definite lengths). */
function el(buf: Uint8Array, off: number): [El, number] {
  if (off + 2 > buf.length) notFast();
  const tag = buf[off];
  if ((tag & 0x1f) === 0x1f) notFast();
  let len = buf[off + 1];
  let pos = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || pos + n > buf.length || buf[pos] === 0) notFast();
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i];
    if (len < 0x80) notFast();
    pos += n;
  }
  if (pos + len > buf.length) notFast();
  return [{ tag, v: buf.subarray(pos, pos + len), all: buf.subarray(off, pos + len) }, pos + len];
}

/** The elements of a constructed value. */
function kids(v: Uint8Array): El[] {
  const out: El[] = [];
  for (let off = 0; off < v.length;) {
    const [e, next] = el(v, off);
    out.push(e);
    off = next;
  }
  return out;
}

/** Exactly one element of tag `tag` filling `buf`. */
function one(buf: Uint8Array, tag: number): El {
  const [e, end] = el(buf, 0);
  if (e.tag !== tag || end !== buf.length) notFast();
  return e;
}

function expect(e: El | undefined, tag: number): El {
  if (!e || e.tag !== tag) notFast();
  return e!;
}

function oid(e: El | undefined): string {
  try {
    return oidFromContent(expect(e, 0x06).v);
  } catch (x) {
    if (x instanceof NotFast) throw x;
    return notFast();
  }
}

/** A minimal, positive INTEGER's content octets. */
function positive(e: El | undefined): Uint8Array {
  const v = expect(e, 0x02).v;
  if (v.length === 0 || (v[0] & 0x80) !== 0) notFast();
  if (v.length > 1 && v[0] === 0 && (v[1] & 0x80) === 0) notFast();
  return v;
}

/** An AlgorithmIdentifier of `want` with NULL parameters or none. */
function algorithm(e: El | undefined, want: string): void {
  const k = kids(expect(e, 0x30).v);
  if (oid(k[0]) !== want) notFast();
  if (k.length === 2 && (k[1].tag !== 0x05 || k[1].v.length !== 0)) notFast();
  if (k.length > 2) notFast();
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A name value as text: UTF8String, or PrintableString / IA5String of ASCII. */
function text(e: El): string {
  if (e.tag === 0x0c) {
    // A leading byte-order mark is left to pkijs (decoders differ on keeping it).
    if (e.v[0] === 0xef && e.v[1] === 0xbb && e.v[2] === 0xbf) notFast();
    try {
      return utf8.decode(e.v);
    } catch {
      return notFast();
    }
  }
  if (e.tag !== 0x13 && e.tag !== 0x16) notFast();
  let s = "";
  for (const b of e.v) {
    if (b >= 0x80) notFast();
    s += String.fromCharCode(b);
  }
  return s;
}

function name(e: El | undefined): { dn: Partial<DistinguishedName>; text: string } {
  const dn: Partial<DistinguishedName> = {};
  const parts: string[] = [];
  for (const rdn of kids(expect(e, 0x30).v)) {
    const set = kids(expect(rdn, 0x31).v);
    if (set.length === 0) notFast();
    for (const atv of set) {
      const [type, value, extra] = kids(expect(atv, 0x30).v);
      if (!value || extra) notFast();
      const t = oid(type);
      const v = text(value);
      const a = NAME_ATTRIBUTES.find((x) => x.oid === t);
      if (a && dn[a.key] === undefined) dn[a.key] = v;
      parts.push(`${a ? a.short : t}=${v}`);
    }
  }
  return { dn, text: parts.length ? parts.join(", ") : formatName({}) };
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** UTCTime `YYMMDDhhmmssZ` or GeneralizedTime `YYYYMMDDhhmmssZ`, every field in range. */
function time(e: El | undefined): Date {
  if (!e || (e.tag !== 0x17 && e.tag !== 0x18)) notFast();
  const digits = e!.tag === 0x17 ? 12 : 14;
  if (e!.v.length !== digits + 1 || e!.v[digits] !== 0x5a) notFast();
  const d: number[] = [];
  for (let i = 0; i < digits; i++) {
    const c = e!.v[i] - 0x30;
    if (c < 0 || c > 9) notFast();
    d.push(c);
  }
  const two = (i: number) => d[i] * 10 + d[i + 1];
  let year: number;
  let i = 0;
  if (digits === 12) {
    year = two(0);
    year += year >= 50 ? 1900 : 2000;
    i = 2;
  } else {
    year = two(0) * 100 + two(2);
    i = 4;
  }
  const [mo, day, h, mi, s] = [two(i), two(i + 2), two(i + 4), two(i + 6), two(i + 8)];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (mo < 1 || mo > 12 || day < 1 || day > (mo === 2 && !leap ? 28 : DAYS[mo - 1])) notFast();
  if (h > 23 || mi > 59 || s > 59) notFast();
  return new Date(Date.UTC(year, mo - 1, day, h, mi, s));
}

function rsaKey(e: El | undefined): { n: Uint8Array; e: Uint8Array } {
  const [alg, bits, extra] = kids(expect(e, 0x30).v);
  if (extra) notFast();
  algorithm(alg, RSA_ENCRYPTION);
  const b = expect(bits, 0x03).v;
  if (b.length < 1 || b[0] !== 0) notFast();
  const [n0, e0, more] = kids(one(b.subarray(1), 0x30).v);
  if (more) notFast();
  const strip = (x: Uint8Array) => (x.length > 1 && x[0] === 0 ? x.slice(1) : x.slice());
  const n = strip(positive(n0));
  const ex = strip(positive(e0));
  if ((n[n.length - 1] & 1) === 0 || n.length < 64) notFast();
  if ((ex[ex.length - 1] & 1) === 0 || (ex.length === 1 && ex[0] < 3)) notFast();
  return { n, e: ex };
}

const EXT = CERT_EXT;
const KNOWN = new Set<string>(Object.values(EXT));

/** One extension's value into `out`, in the shapes this system issues. */
function extension(id: string, v: Uint8Array, out: FastCertificate): void {
  switch (id) {
    case EXT.basicConstraints: {
      const k = kids(one(v, 0x30).v);
      let i = 0;
      if (k[i]?.tag === 0x01) {
        if (k[i].v.length !== 1 || k[i].v[0] !== 0xff) notFast();
        out.ca = true;
        i++;
      }
      if (k[i]) {
        const p = expect(k[i], 0x02).v;
        if (p.length !== 1 || p[0] >= 0x80) notFast();
        out.pathLength = p[0];
        i++;
      }
      if (k.length !== i) notFast();
      break;
    }
    case EXT.keyUsage: {
      const b = one(v, 0x03).v;
      if (b.length < 2 || b[0] > 7) notFast();
      const bytes = b.subarray(1);
      const got: KeyUsage[] = [];
      for (const [n, bit] of Object.entries(KEY_USAGE_BITS) as [KeyUsage, number][]) {
        if ((bit >> 3) < bytes.length && (bytes[bit >> 3] & (0x80 >> (bit & 7))) !== 0) {
          got.push(n);
        }
      }
      out.keyUsage = got;
      break;
    }
    case EXT.extKeyUsage: {
      const k = kids(one(v, 0x30).v);
      if (k.length === 0) notFast();
      out.extKeyUsage = k.map((x) => oid(x));
      break;
    }
    case EXT.subjectAltName: {
      const k = kids(one(v, 0x30).v);
      if (k.length === 0) notFast();
      for (const g of k) {
        if (g.tag !== 0x82) notFast();
        out.dnsNames.push(text({ ...g, tag: 0x16 }));
      }
      break;
    }
    case EXT.subjectKeyIdentifier:
      out.subjectKeyIdentifier = one(v, 0x04).v.slice();
      break;
    case EXT.authorityKeyIdentifier: {
      const k = kids(one(v, 0x30).v);
      if (k.length !== 1 || k[0].tag !== 0x80) notFast();
      out.authorityKeyIdentifier = k[0].v.slice();
      break;
    }
  }
}

function extensions(e: El | undefined, out: FastCertificate): void {
  if (!e) return;
  const list = kids(one(expect(e, 0xa3).v, 0x30).v);
  if (list.length === 0) notFast();
  const seen = new Set<string>();
  for (const x of list) {
    const k = kids(expect(x, 0x30).v);
    const id = oid(k[0]);
    let i = 1;
    let critical = false;
    if (k[i]?.tag === 0x01) {
      if (k[i].v.length !== 1 || k[i].v[0] !== 0xff) notFast();
      critical = true;
      i++;
    }
    const value = expect(k[i], 0x04).v;
    if (k.length !== i + 1 || seen.has(id)) notFast();
    seen.add(id);
    if (!KNOWN.has(id)) {
      if (critical) notFast();
      continue;
    }
    extension(id, value, out);
  }
}

/**
 * The certificate's fields, read from its DER, or `undefined` when it is not
 * the common case (then read it with pkijs).
 *
 * @param der the certificate, DER.
 * @returns the fields, or `undefined`.
 */
export function readCertificateFast(der: Uint8Array): FastCertificate | undefined {
  try {
    const [certSeq, end] = el(der, 0);
    if (certSeq.tag !== 0x30 || end !== der.length) return undefined;
    const [tbsEl, sigAlg, sigBits, extra] = kids(certSeq.v);
    if (extra) return undefined;
    algorithm(sigAlg, SHA256_WITH_RSA);
    const sig = expect(sigBits, 0x03).v;
    if (sig.length < 1 || sig[0] !== 0) return undefined;
    const t = kids(expect(tbsEl, 0x30).v);
    const version = expect(t[0], 0xa0).v;
    if (version.length !== 3 || version[0] !== 0x02 || version[1] !== 1 || version[2] !== 2) {
      return undefined;
    }
    const serial = positive(t[1]);
    if (serial.length > 20) return undefined;
    algorithm(t[2], SHA256_WITH_RSA);
    const issuer = name(t[3]);
    const validity = kids(expect(t[4], 0x30).v);
    if (validity.length !== 2) return undefined;
    const subject = name(t[5]);
    const key = rsaKey(t[6]);
    if (t.length > 8) return undefined;
    const out: FastCertificate = {
      serialNumber: toHex(serial),
      subject: subject.dn,
      subjectText: subject.text,
      issuer: issuer.dn,
      issuerText: issuer.text,
      notBefore: time(validity[0]),
      notAfter: time(validity[1]),
      publicKey: key,
      ca: false,
      dnsNames: [],
      subjectDer: t[5].all.slice(),
      issuerDer: t[3].all.slice(),
      tbs: tbsEl.all.slice(),
      signature: sig.slice(1),
      spki: t[6].all.slice(),
    };
    extensions(t[7], out);
    return out;
  } catch (e) {
    if (e instanceof NotFast) return undefined;
    throw e;
  }
}
