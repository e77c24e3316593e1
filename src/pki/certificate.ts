/**
 * Reading X.509 v3 certificates (RFC 5280 section 4) with pkijs: DER or PEM
 * in, the fields this system relies on out, every structural problem reported
 * as a {@link CertificateError} with a precise code.
 *
 * Only what this CA issues is accepted: version 3, sha256WithRSAEncryption
 * (RFC 4055), RSA keys, and no critical extension other than basicConstraints,
 * keyUsage, extKeyUsage and subjectAltName.
 *
 * @module
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import type { RsaPublicKey } from "../core/mod.ts";
import { toHex } from "../crypto/mod.ts";
import { CertificateError } from "./errors.ts";
import { type DistinguishedName, formatName, NAME_ATTRIBUTES } from "./name.ts";
import { decodePem } from "./pem.ts";
import { CERT_EXT, oidFromContent, RSA_ENCRYPTION, SHA256_WITH_RSA } from "./_oid.ts";
import { KEY_USAGE_BITS, type KeyUsage } from "./profiles.ts";
import { readCertificateFast } from "./_x509_fast.ts";

export { RSA_ENCRYPTION, SHA256_WITH_RSA };
const EXT = CERT_EXT;

/** The fields of a certificate, as read. */
export interface CertificateInfo {
  /** The whole certificate, DER. */
  der: Uint8Array;
  /** serialNumber, upper-case hex of its DER content octets. */
  serialNumber: string;
  /** The subject's attributes this module knows (see {@link DistinguishedName}). */
  subject: Partial<DistinguishedName>;
  /** The subject as text, e.g. `C=CN, O=Acme, CN=Root`, for messages. */
  subjectText: string;
  /** The issuer's attributes. */
  issuer: Partial<DistinguishedName>;
  /** The issuer as text. */
  issuerText: string;
  /** Start of the validity period (inclusive). */
  notBefore: Date;
  /** End of the validity period (inclusive). */
  notAfter: Date;
  /** The subject's RSA public key. */
  publicKey: RsaPublicKey;
  /** basicConstraints cA (false when the extension is absent). */
  ca: boolean;
  /** basicConstraints pathLenConstraint, if present. */
  pathLength?: number;
  /** keyUsage bits set, or `undefined` when the extension is absent. */
  keyUsage?: KeyUsage[];
  /** extKeyUsage OIDs, or `undefined` when the extension is absent. */
  extKeyUsage?: string[];
  /** subjectAltName dNSName entries. */
  dnsNames: string[];
  /** subjectKeyIdentifier, if present. */
  subjectKeyIdentifier?: Uint8Array;
  /** authorityKeyIdentifier keyIdentifier, if present. */
  authorityKeyIdentifier?: Uint8Array;
}

/**
 * A parsed certificate with what verification needs beyond {@link CertificateInfo}.
 * These extra properties are not enumerable: a spread of a parse is its
 * {@link CertificateInfo}.
 */
export interface ParsedCertificate extends CertificateInfo {
  /**
   * The pkijs object (CRL signing and checks); an implementation detail, not
   * documented. Read from the DER on first use.
   * @ignore
   */
  readonly pkijs: pkijs.Certificate;
  /** The subject Name, DER, for name chaining. */
  readonly subjectDer: Uint8Array;
  /** The issuer Name, DER, for name chaining. */
  readonly issuerDer: Uint8Array;
  /** tbsCertificate as received, DER: what the signature covers. */
  readonly tbs: Uint8Array;
  /** The signature's bits. */
  readonly signature: Uint8Array;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
}

type Internals = Omit<ParsedCertificate, keyof CertificateInfo | "pkijs">;

/** `info` with the verification parts as non-enumerable properties, pkijs read on demand. */
function withInternals(
  info: CertificateInfo,
  parts: Internals,
  pkijsOf: () => pkijs.Certificate,
): ParsedCertificate {
  let cert: pkijs.Certificate | undefined;
  const props: PropertyDescriptorMap = {
    pkijs: { get: () => (cert ??= pkijsOf()), enumerable: false },
  };
  for (const [k, v] of Object.entries(parts)) props[k] = { value: v, enumerable: false };
  return Object.defineProperties(info, props) as ParsedCertificate;
}

/** The {@link CertificateInfo} of a parse (its enumerable properties). */
export function certificateInfo(p: ParsedCertificate): CertificateInfo {
  return { ...p };
}

function malformed(what: string, cause?: unknown): CertificateError {
  return new CertificateError("malformed", `certificate is malformed: ${what}`, { cause });
}

function view(buf: ArrayBuffer | ArrayBufferView): Uint8Array {
  return buf instanceof ArrayBuffer
    ? new Uint8Array(buf)
    : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** DER of one element, or `malformed` if it is not exactly one BER element. */
function berOne(bytes: Uint8Array, what: string): asn1js.AsnType {
  let r: ReturnType<typeof asn1js.fromBER>;
  try {
    r = asn1js.fromBER(bytes);
  } catch (e) {
    // asn1js throws (rather than returning offset -1) on some malformed strings and times.
    throw malformed(`${what}: ${(e as Error).message}`, e);
  }
  if (r.offset === -1) throw malformed(`${what}: ${r.result.error || "bad DER"}`);
  if (r.offset !== bytes.length) {
    throw malformed(`${what}: ${bytes.length - r.offset} bytes after the end`);
  }
  return r.result;
}

function readName(rdns: pkijs.RelativeDistinguishedNames): {
  dn: Partial<DistinguishedName>;
  text: string;
} {
  const dn: Partial<DistinguishedName> = {};
  const parts: string[] = [];
  for (const tv of rdns.typesAndValues) {
    const a = NAME_ATTRIBUTES.find((x) => x.oid === tv.type);
    const raw = (tv.value as asn1js.BaseStringBlock).valueBlock?.value;
    const v = typeof raw === "string" ? raw : "#" + toHex(view(tv.value.toBER()));
    if (a && dn[a.key] === undefined) dn[a.key] = v;
    parts.push(`${a ? a.short : tv.type}=${v}`);
  }
  return { dn, text: parts.length ? parts.join(", ") : formatName({}) };
}

function readKeyUsage(bits: asn1js.AsnType, subject: string): KeyUsage[] {
  if (!(bits instanceof asn1js.BitString)) {
    throw malformed(`keyUsage of "${subject}" is not a BIT STRING`);
  }
  const b = bits.valueBlock.valueHexView;
  const out: KeyUsage[] = [];
  for (const [name, bit] of Object.entries(KEY_USAGE_BITS) as [KeyUsage, number][]) {
    if ((bit >> 3) < b.length && (b[bit >> 3] & (0x80 >> (bit & 7))) !== 0) out.push(name);
  }
  return out;
}

function readOids(seq: asn1js.AsnType, subject: string): string[] {
  if (!(seq instanceof asn1js.Sequence) || seq.valueBlock.value.length === 0) {
    throw malformed(`extKeyUsage of "${subject}" is not a non-empty SEQUENCE`);
  }
  return seq.valueBlock.value.map((el) => {
    if (!(el instanceof asn1js.ObjectIdentifier)) {
      throw malformed(`extKeyUsage of "${subject}" holds something other than an OID`);
    }
    // The content octets: the whole element minus its tag and length.
    const tlv = el.valueBeforeDecodeView;
    const lenBytes = tlv[1] < 0x80 ? 1 : 1 + (tlv[1] & 0x7f);
    return oidFromContent(tlv.subarray(1 + lenBytes));
  });
}

function readRsaKey(spki: pkijs.PublicKeyInfo, subject: string): RsaPublicKey {
  const alg = spki.algorithm;
  if (alg.algorithmId !== RSA_ENCRYPTION) {
    throw new CertificateError(
      "unsupported_algorithm",
      `certificate "${subject}" has a ${alg.algorithmId} key; only RSA (${RSA_ENCRYPTION}) is supported`,
    );
  }
  const keyBytes = spki.subjectPublicKey.valueBlock.valueHexView;
  const seq = berOne(keyBytes, `RSA public key of "${subject}"`);
  let key: pkijs.RSAPublicKey;
  try {
    key = new pkijs.RSAPublicKey({ schema: seq });
  } catch (e) {
    throw malformed(`RSA public key of "${subject}" is not an RSAPublicKey`, e);
  }
  const strip = (x: Uint8Array) => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    return x.slice(i);
  };
  const n = strip(key.modulus.valueBlock.valueHexView);
  const e = strip(key.publicExponent.valueBlock.valueHexView);
  if ((n[n.length - 1] & 1) === 0 || n.length < 64) {
    throw malformed(`RSA modulus of "${subject}" is even or shorter than 512 bits`);
  }
  if ((e[e.length - 1] & 1) === 0 || (e.length === 1 && e[0] < 3)) {
    throw malformed(`RSA public exponent of "${subject}" is even or below 3`);
  }
  return { n, e };
}

/** Both algorithm fields must be sha256WithRSAEncryption, with NULL or absent parameters. */
function checkAlgorithms(cert: pkijs.Certificate, subject: string): void {
  for (
    const [what, alg] of [
      ["signatureAlgorithm", cert.signatureAlgorithm],
      ["tbsCertificate.signature", cert.signature],
    ] as const
  ) {
    if (alg.algorithmId !== SHA256_WITH_RSA) {
      throw new CertificateError(
        "unsupported_algorithm",
        `certificate "${subject}" ${what} is ${alg.algorithmId}; only sha256WithRSAEncryption (${SHA256_WITH_RSA}) is supported`,
      );
    }
    const params = alg.algorithmParams;
    if (params !== undefined && !(params instanceof asn1js.Null)) {
      throw malformed(`"${subject}" ${what} parameters must be NULL or absent`);
    }
  }
}

/** Reads the extensions this project processes into `info`; refuses unknown critical ones. */
function readExtensions(
  cert: pkijs.Certificate,
  subject: string,
  info: Omit<CertificateInfo, "der" | "publicKey">,
): void {
  const seen = new Set<string>();
  for (const ext of cert.extensions ?? []) {
    if (seen.has(ext.extnID)) throw malformed(`"${subject}" has extension ${ext.extnID} twice`);
    seen.add(ext.extnID);
    const value = ext.extnValue.valueBlock.valueHexView;
    const name = Object.entries(EXT).find(([, oid]) => oid === ext.extnID)?.[0];
    if (name === undefined) {
      if (ext.critical) {
        throw new CertificateError(
          "unknown_critical_extension",
          `certificate "${subject}" has critical extension ${ext.extnID}, which is not processed`,
        );
      }
      continue;
    }
    const asn = berOne(value, `${name} of "${subject}"`);
    try {
      switch (ext.extnID) {
        case EXT.basicConstraints: {
          const bc = new pkijs.BasicConstraints({ schema: asn });
          info.ca = bc.cA;
          if (bc.pathLenConstraint !== undefined) {
            if (typeof bc.pathLenConstraint !== "number" || bc.pathLenConstraint < 0) {
              throw malformed(`pathLenConstraint of "${subject}" is out of range`);
            }
            info.pathLength = bc.pathLenConstraint;
          }
          break;
        }
        case EXT.keyUsage:
          info.keyUsage = readKeyUsage(asn, subject);
          break;
        case EXT.extKeyUsage:
          info.extKeyUsage = readOids(asn, subject);
          break;
        case EXT.subjectAltName:
          for (const g of new pkijs.AltName({ schema: asn }).altNames) {
            if (g.type === 2) info.dnsNames.push(String(g.value));
          }
          break;
        case EXT.subjectKeyIdentifier:
          if (!(asn instanceof asn1js.OctetString)) throw new Error("not an OCTET STRING");
          info.subjectKeyIdentifier = asn.valueBlock.valueHexView.slice();
          break;
        case EXT.authorityKeyIdentifier: {
          const aki = new pkijs.AuthorityKeyIdentifier({ schema: asn });
          if (aki.keyIdentifier) {
            info.authorityKeyIdentifier = aki.keyIdentifier.valueBlock.valueHexView.slice();
          }
          break;
        }
      }
    } catch (e) {
      if (e instanceof CertificateError) throw e;
      throw malformed(`${name} of "${subject}" cannot be read (${(e as Error).message})`, e);
    }
  }
}

/**
 * Parses one certificate (internal form, with the pkijs object).
 *
 * @param input PEM text (label `CERTIFICATE`) or DER bytes.
 * @returns the parsed certificate.
 * @throws {TypeError} if `input` is neither a string nor a `Uint8Array`.
 * @throws {CertificateError} `not_pem`, `pem_label`, `bad_base64`, `malformed`,
 *   `unsupported_algorithm` or `unknown_critical_extension`.
 */
export function parseCertificateInternal(input: string | Uint8Array): ParsedCertificate {
  let der: Uint8Array;
  if (typeof input === "string") der = decodePem(input, "CERTIFICATE");
  else if (input instanceof Uint8Array) der = input.slice();
  else {
    throw new TypeError(
      `certificate must be PEM text or DER bytes (Uint8Array), got ${
        input === null ? "null" : typeof input
      }`,
    );
  }
  if (der.length === 0) throw malformed("empty input");
  const fast = readCertificateFast(der);
  if (!fast) return readWithPkijs(der);
  const { subjectDer, issuerDer, tbs, signature, spki, ...fields } = fast;
  return withInternals(
    { der, ...fields },
    { subjectDer, issuerDer, tbs, signature, spki },
    () => pkijsCertificate(der),
  );
}

/** The pkijs object of a certificate. */
function pkijsCertificate(der: Uint8Array): pkijs.Certificate {
  const top = berOne(der, "certificate");
  try {
    return new pkijs.Certificate({ schema: top });
  } catch (e) {
    throw malformed(`not an X.509 Certificate (${(e as Error).message})`, e);
  }
}

/** Reads a certificate with pkijs: any certificate, with its precise refusal (internal; tests compare it with the fast reading). */
export function readWithPkijs(der: Uint8Array): ParsedCertificate {
  const cert = pkijsCertificate(der);
  const subjectName = readName(cert.subject);
  const subject = subjectName.text;
  if (cert.version !== 2) {
    throw malformed(`"${subject}" is version ${cert.version + 1}; version 3 is required`);
  }
  checkAlgorithms(cert, subject);
  const serial = cert.serialNumber.valueBlock.valueHexView;
  if (serial.length === 0 || serial.length > 20 || (serial[0] & 0x80) !== 0) {
    throw malformed(`serialNumber of "${subject}" must be a positive integer of 1 to 20 octets`);
  }
  const publicKey = readRsaKey(cert.subjectPublicKeyInfo, subject);

  const info: Omit<CertificateInfo, "der" | "publicKey"> = {
    serialNumber: toHex(serial),
    subject: subjectName.dn,
    subjectText: subject,
    issuer: readName(cert.issuer).dn,
    issuerText: readName(cert.issuer).text,
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    ca: false,
    dnsNames: [],
  };
  if (Number.isNaN(info.notBefore.getTime()) || Number.isNaN(info.notAfter.getTime())) {
    throw malformed(`validity of "${subject}" holds an invalid time`);
  }
  readExtensions(cert, subject, info);
  return withInternals({ ...info, der, publicKey }, {
    subjectDer: new Uint8Array(cert.subject.valueBeforeDecode),
    issuerDer: new Uint8Array(cert.issuer.valueBeforeDecode),
    tbs: new Uint8Array(cert.tbsView),
    signature: new Uint8Array(cert.signatureValue.valueBlock.valueHexView),
    spki: new Uint8Array(cert.subjectPublicKeyInfo.toSchema().toBER(false)),
  }, () => cert);
}

/** Certificates whose parse {@link parseCertificateShared} remembers. */
export const SHARED_PARSES = 64;

const shared = new Map<string, ParsedCertificate>();

/**
 * {@link parseCertificateInternal} for the certificates a process reads again
 * and again (trust anchors, intermediates, its own issuer): the parse is
 * remembered under the exact input (PEM text, or the DER's hex), so a changed
 * certificate is a different entry and is parsed afresh. At most
 * {@link SHARED_PARSES} are kept (the least recently used go first); errors
 * are not kept. The result is shared and frozen: callers must not change it
 * (copy what they hand out).
 *
 * @param input PEM text (label `CERTIFICATE`) or DER bytes.
 * @returns the parsed certificate, possibly the object of an earlier call.
 * @throws what {@link parseCertificateInternal} throws.
 */
export function parseCertificateShared(input: string | Uint8Array): ParsedCertificate {
  const key = typeof input === "string"
    ? `pem:${input}`
    : input instanceof Uint8Array
    ? `der:${toHex(input)}`
    : undefined;
  const hit = key === undefined ? undefined : shared.get(key);
  if (hit) {
    shared.delete(key!);
    shared.set(key!, hit);
    return hit;
  }
  const parsed = Object.freeze(parseCertificateInternal(input));
  if (key === undefined) return parsed;
  shared.set(key, parsed);
  while (shared.size > SHARED_PARSES) shared.delete(shared.keys().next().value!);
  return parsed;
}

/**
 * Parses a certificate and returns its fields. This checks the structure only, not the
 * signature, validity or chain: use `verifyChain` for that.
 *
 * @param input PEM text (label `CERTIFICATE`) or DER bytes.
 * @returns the fields.
 * @throws {TypeError} if `input` is neither a string nor a `Uint8Array`.
 * @throws {CertificateError} `not_pem`, `pem_label`, `bad_base64` (PEM), `malformed` (DER or
 *   structure), `unsupported_algorithm` (not sha256WithRSAEncryption / RSA),
 *   `unknown_critical_extension`.
 * @example
 * ```ts
 * import { parseCertificate } from "./mod.ts";
 * declare const pem: string;
 * const { subject, notAfter, publicKey } = parseCertificate(pem);
 * ```
 */
export function parseCertificate(input: string | Uint8Array): CertificateInfo {
  return certificateInfo(parseCertificateInternal(input));
}
