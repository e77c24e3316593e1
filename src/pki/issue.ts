/**
 * Issuing certificates (RFC 5280) for the profiles of `profiles.ts`: the root
 * CA (OpRCRT), the KMS CA, operator cards (OpWCRT), the MTMS transport key, the
 * KMS server and the per-terminal `Pu_hsm` keys.
 *
 * Certificates are assembled by node-forge and signed sha256WithRSAEncryption
 * (RSASSA-PKCS1-v1_5, RFC 8017) on the crypto core. Serial numbers are 16
 * random bytes from `crypto.getRandomValues`, positive, first byte 0x40..0x7f
 * (126 random bits, always 16 octets in DER). Key identifiers are RFC 5280
 * section 4.2.1.2 method (1): SHA-1 of the DER RSAPublicKey, on the core.
 *
 * @module
 */
import {
  type CryptoCore,
  forge,
  fromBinary,
  type RsaPrivateKey,
  type RsaPublicKey,
  toBigInteger,
} from "../core/mod.ts";
import { type CoreOptions, defaultCore, describe } from "./_core.ts";
import { buildCertificate } from "./_build.ts";
import { parseCertificateShared, type ParsedCertificate } from "./certificate.ts";
import { CertificateError } from "./errors.ts";
import { checkName, type DistinguishedName, formatName } from "./name.ts";
import { encodePem } from "./pem.ts";
import { type CertificateProfile, PROFILES } from "./profiles.ts";

/** Who signs a certificate. */
export interface IssuerSigner {
  /** The issuer's certificate; absent for `root-ca`. */
  certificate?: string | Uint8Array;
  /** The issuer's private key (for a self-signed root, the key of `publicKey`). */
  privateKey?: RsaPrivateKey;
  /**
   * Instead of `privateKey`: returns the RSASSA-PKCS1-v1_5 SHA-256 signature (RFC 8017
   * section 8.2.1) of `tbs`, the DER TBSCertificate, by the issuer's key.
   */
  sign?: (tbs: Uint8Array) => Promise<Uint8Array>;
}

/** What to certify. */
export interface IssueRequest {
  /** The kind of certificate (fixes basicConstraints, keyUsage and extKeyUsage). */
  profile: CertificateProfile;
  /** The subject; `terminal-hsm` requires `serialNumber` (the terminal SN). */
  subject: DistinguishedName;
  /** The subject's public key, 2048 to 4096 bits. */
  publicKey: RsaPublicKey;
  /** Start of validity, whole seconds. */
  notBefore: Date;
  /** End of validity, whole seconds, after `notBefore`. */
  notAfter: Date;
  /**
   * The issuer: its certificate (PEM or DER), except for `root-ca` (self-signed), and exactly
   * one of `privateKey` (signed on the core with src/crypto) or `sign` (a signer that holds the
   * key, e.g. an HSM). Either way the signature is checked under the issuer's public key
   * before the certificate is returned.
   */
  issuer: IssuerSigner;
  /** subjectAltName DNS names (end entities only), e.g. the KMS host name. */
  dnsNames?: string[];
}

const MIN_BITS = 2048;
const MAX_BITS = 4096;

function strip(x: Uint8Array): Uint8Array {
  let i = 0;
  while (i < x.length && x[i] === 0) i++;
  return x.subarray(i);
}

function sameNumber(a: Uint8Array, b: Uint8Array): boolean {
  const x = strip(a);
  const y = strip(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function bits(x: Uint8Array): number {
  const s = strip(x);
  return s.length === 0 ? 0 : s.length * 8 - (Math.clz32(s[0]) - 24);
}

function checkPublicKey(name: string, key: unknown): asserts key is RsaPublicKey {
  if (key === null || typeof key !== "object") {
    throw new TypeError(`${name} must be an RsaPublicKey object ({ n, e }), got ${describe(key)}`);
  }
  const k = key as Record<string, unknown>;
  for (const f of ["n", "e"]) {
    if (!(k[f] instanceof Uint8Array)) {
      throw new TypeError(`${name}.${f} must be a Uint8Array, got ${describe(k[f])}`);
    }
  }
  const n = strip(k.n as Uint8Array);
  const e = strip(k.e as Uint8Array);
  const nb = bits(n);
  if (nb < MIN_BITS || nb > MAX_BITS) {
    throw new RangeError(`${name}.n must be ${MIN_BITS} to ${MAX_BITS} bits, got ${nb}`);
  }
  if ((n[n.length - 1] & 1) === 0) throw new RangeError(`${name}.n must be odd`);
  if (e.length === 0 || (e[e.length - 1] & 1) === 0 || (e.length === 1 && e[0] < 3)) {
    throw new RangeError(`${name}.e must be odd and at least 3`);
  }
}

function checkPrivateKey(name: string, key: unknown): asserts key is RsaPrivateKey {
  if (key === null || typeof key !== "object") {
    throw new TypeError(`${name} must be an RsaPrivateKey object, got ${describe(key)}`);
  }
  for (const f of ["n", "e", "d", "p", "q", "dp", "dq", "qi"]) {
    if (!((key as Record<string, unknown>)[f] instanceof Uint8Array)) {
      throw new TypeError(
        `${name}.${f} must be a Uint8Array, got ${describe((key as Record<string, unknown>)[f])}`,
      );
    }
  }
}

const MIN_TIME = Date.UTC(1950, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);

function checkTime(name: string, t: unknown): asserts t is Date {
  if (!(t instanceof Date)) throw new TypeError(`${name} must be a Date, got ${describe(t)}`);
  const ms = t.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${name} is an invalid Date`);
  if (ms % 1000 !== 0) {
    throw new RangeError(
      `${name} must be whole seconds (X.509 times have no fractions), got ${t.toISOString()}`,
    );
  }
  if (ms < MIN_TIME || ms > MAX_TIME) {
    throw new RangeError(`${name} must be in 1950..9999, got ${t.toISOString()}`);
  }
}

function checkDnsName(name: string, v: unknown): void {
  if (typeof v !== "string") throw new TypeError(`${name} must be a string, got ${describe(v)}`);
  const label = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
  if (v.length > 253 || !v.split(".").every((l) => label.test(l))) {
    throw new RangeError(`${name} must be a DNS host name, got ${JSON.stringify(v)}`);
  }
}

/** DER RSAPublicKey (RFC 8017 appendix A.1.1). */
function rsaPublicKeyDer(key: RsaPublicKey): Uint8Array {
  const pk = forge.pki.setRsaPublicKey(toBigInteger(key.n), toBigInteger(key.e));
  return fromBinary(forge.asn1.toDer(forge.pki.publicKeyToRSAPublicKey(pk)).getBytes());
}

function randomSerial(): Uint8Array {
  const s = crypto.getRandomValues(new Uint8Array(16));
  s[0] = (s[0] & 0x3f) | 0x40;
  return s;
}

function checkIssuerCanSign(issuer: ParsedCertificate, issuesCa: boolean): void {
  const who = issuer.subjectText;
  if (!issuer.ca) {
    throw new CertificateError(
      "issuer_not_ca",
      `issuer "${who}" is not a CA (basicConstraints cA is not TRUE)`,
    );
  }
  if (!issuer.keyUsage?.includes("keyCertSign")) {
    throw new CertificateError("issuer_key_usage", `issuer "${who}" lacks keyUsage keyCertSign`);
  }
  if (issuesCa && issuer.pathLength === 0) {
    throw new CertificateError(
      "path_length",
      `issuer "${who}" has pathLenConstraint 0 and cannot issue a CA certificate`,
    );
  }
}

/** Checks an {@link IssueRequest} field by field; returns its profile's specification. */
function checkRequest(request: IssueRequest) {
  if (request === null || typeof request !== "object") {
    throw new TypeError(`request must be an IssueRequest object, got ${describe(request)}`);
  }
  const { profile, subject, publicKey, notBefore, notAfter, issuer, dnsNames } = request;
  if (typeof profile !== "string" || !Object.hasOwn(PROFILES, profile)) {
    throw new RangeError(
      `request.profile must be one of ${Object.keys(PROFILES).join(", ")}, got ${
        JSON.stringify(profile)
      }`,
    );
  }
  const spec = PROFILES[profile];
  checkName("request.subject", subject);
  if (spec.subjectSerialNumber && subject.serialNumber === undefined) {
    throw new RangeError(
      `request.subject.serialNumber (the terminal SN) is required for profile ${profile}`,
    );
  }
  checkPublicKey("request.publicKey", publicKey);
  checkTime("request.notBefore", notBefore);
  checkTime("request.notAfter", notAfter);
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new RangeError(
      `request.notAfter (${notAfter.toISOString()}) must be after request.notBefore (${notBefore.toISOString()})`,
    );
  }
  checkIssuer(issuer);
  if (dnsNames !== undefined) {
    if (!Array.isArray(dnsNames)) {
      throw new TypeError(`request.dnsNames must be an array, got ${describe(dnsNames)}`);
    }
    if (spec.ca) throw new RangeError(`request.dnsNames is for end entities, not ${profile}`);
    dnsNames.forEach((d, i) => checkDnsName(`request.dnsNames[${i}]`, d));
  }
  return spec;
}

/** Checks `request.issuer`: an object with exactly one of a private key and a signer. */
function checkIssuer(issuer: IssueRequest["issuer"]): void {
  if (issuer === null || typeof issuer !== "object") {
    throw new TypeError(
      `request.issuer must be an object { certificate?, privateKey | sign }, got ${
        describe(issuer)
      }`,
    );
  }
  if ((issuer.privateKey === undefined) === (issuer.sign === undefined)) {
    throw new TypeError("request.issuer must have exactly one of privateKey and sign");
  }
  if (issuer.privateKey !== undefined) {
    checkPrivateKey("request.issuer.privateKey", issuer.privateKey);
  } else if (typeof issuer.sign !== "function") {
    throw new TypeError(`request.issuer.sign must be a function, got ${describe(issuer.sign)}`);
  }
}

/**
 * The issuer side of a request: its parsed certificate (none for a self-signed
 * profile) and the authority key identifier, after checking that the issuer
 * may sign this profile, holds the key given, and covers the validity asked.
 */
function resolveIssuer(
  request: IssueRequest,
  spec: (typeof PROFILES)[CertificateProfile],
  ski: Uint8Array,
  core: CryptoCore,
): { aki: Uint8Array; parsedIssuer?: ParsedCertificate } {
  const { profile, publicKey, notBefore, notAfter, issuer } = request;
  if (spec.selfSigned) {
    if (issuer.certificate !== undefined) {
      throw new RangeError(
        `request.issuer.certificate must be absent for ${profile} (self-signed)`,
      );
    }
    if (
      issuer.privateKey &&
      (!sameNumber(issuer.privateKey.n, publicKey.n) ||
        !sameNumber(issuer.privateKey.e, publicKey.e))
    ) {
      throw new RangeError(
        `request.issuer.privateKey must be the private key of request.publicKey for ${profile} (self-signed)`,
      );
    }
    return { aki: ski };
  }
  if (issuer.certificate === undefined) {
    throw new RangeError(`request.issuer.certificate is required for ${profile}`);
  }
  const parsedIssuer = parseCertificateShared(issuer.certificate);
  checkIssuerCanSign(parsedIssuer, spec.ca);
  if (
    issuer.privateKey &&
    (!sameNumber(issuer.privateKey.n, parsedIssuer.publicKey.n) ||
      !sameNumber(issuer.privateKey.e, parsedIssuer.publicKey.e))
  ) {
    throw new RangeError(
      `request.issuer.privateKey is not the key of issuer "${parsedIssuer.subjectText}"`,
    );
  }
  if (notBefore < parsedIssuer.notBefore || notAfter > parsedIssuer.notAfter) {
    throw new RangeError(
      `request validity ${notBefore.toISOString()}..${notAfter.toISOString()} must lie within issuer "${parsedIssuer.subjectText}" validity ${parsedIssuer.notBefore.toISOString()}..${parsedIssuer.notAfter.toISOString()}`,
    );
  }
  const aki = parsedIssuer.subjectKeyIdentifier ??
    core.sha1(rsaPublicKeyDer(parsedIssuer.publicKey));
  return { aki, parsedIssuer };
}

/**
 * Issues a certificate.
 *
 * @param request what to certify and who signs it.
 * @param options `core`: the crypto core to sign on (default: `await loadCore()`).
 * @returns the certificate as PEM.
 * @throws {TypeError} for an argument of the wrong type.
 * @throws {RsaKeyError} (src/crypto) for a malformed issuer private key.
 * @throws {RangeError} for an unknown profile, a bad name, key or validity, validity outside
 *   the issuer's, a `terminal-hsm` subject without serialNumber, a `root-ca` whose private
 *   key is not that of `publicKey`, an issuer private key that is not the issuer
 *   certificate's, or a signature (from `issuer.sign`) that does not verify under the
 *   issuer's public key.
 * @throws {CertificateError} if the issuer certificate cannot be read (`not_pem`, `malformed`,
 *   ...) or cannot issue (`issuer_not_ca`, `issuer_key_usage`, `path_length`).
 * @example
 * ```ts
 * import { issueCertificate } from "./mod.ts";
 * import type { RsaPrivateKey } from "../core/mod.ts";
 * declare const rootKey: RsaPrivateKey;
 * const rootPem = await issueCertificate({
 *   profile: "root-ca",
 *   subject: { commonName: "TMK Root CA", organization: "Acme", country: "CN" },
 *   publicKey: { n: rootKey.n, e: rootKey.e },
 *   notBefore: new Date("2026-01-01T00:00:00Z"),
 *   notAfter: new Date("2046-01-01T00:00:00Z"),
 *   issuer: { privateKey: rootKey },
 * });
 * ```
 */
export async function issueCertificate(
  request: IssueRequest,
  options?: CoreOptions,
): Promise<string> {
  const core = await defaultCore(options);
  const spec = checkRequest(request);
  const { subject, publicKey, notBefore, notAfter, issuer, dnsNames } = request;
  const ski = core.sha1(rsaPublicKeyDer(publicKey));
  const { aki, parsedIssuer } = resolveIssuer(request, spec, ski, core);
  const der = await buildCertificate({
    serialNumber: randomSerial(),
    subject,
    issuerCertificate: parsedIssuer,
    publicKey,
    notBefore,
    notAfter,
    basicConstraints: { ca: spec.ca, pathLength: spec.pathLength },
    keyUsage: spec.keyUsage,
    extKeyUsage: spec.extKeyUsage,
    dnsNames,
    subjectKeyIdentifier: ski,
    authorityKeyIdentifier: aki,
    signingKey: issuer.privateKey,
    sign: issuer.sign,
    verifyWith: parsedIssuer ? parsedIssuer.publicKey : publicKey,
    core,
  });
  // Self-check of the assembly: the issuer name must be the issuer's subject, byte for byte.
  const made = tbsNames(der);
  const expectedIssuer = parsedIssuer ? parsedIssuer.subjectDer : made.subject;
  if (!sameBytes(made.issuer, expectedIssuer)) {
    throw new Error(
      `internal error: issuer name of "${formatName(subject)}" differs from the issuer's subject`,
    );
  }
  return encodePem("CERTIFICATE", der);
}

/** One DER element at `at` of `der`: its tag and where its content starts and ends. */
function element(der: Uint8Array, at: number): { tag: number; start: number; end: number } {
  const fail = () => new Error(`internal error: the certificate built is not DER at byte ${at}`);
  if (at + 2 > der.length) throw fail();
  const tag = der[at];
  let len = der[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const octets = len & 0x7f;
    if (octets === 0 || octets > 3 || start + octets > der.length) throw fail();
    len = 0;
    for (let i = 0; i < octets; i++) len = len * 256 + der[start + i];
    start += octets;
  }
  if (start + len > der.length) throw fail();
  return { tag, start, end: start + len };
}

/**
 * The issuer and subject Names (DER) of a certificate's tbsCertificate
 * (RFC 5280 section 4.1: [0] version, serialNumber, signature, issuer,
 * validity, subject).
 */
function tbsNames(der: Uint8Array): { issuer: Uint8Array; subject: Uint8Array } {
  const cert = element(der, 0);
  const tbs = element(der, cert.start);
  const fields: Uint8Array[] = [];
  for (let at = tbs.start; at < tbs.end && fields.length < 6;) {
    const e = element(der, at);
    // Without the [0] version (a v1 certificate) the fields after it move up one.
    if (fields.length === 0 && e.tag !== 0xa0) fields.push(new Uint8Array(0));
    fields.push(der.subarray(at, e.end));
    at = e.end;
  }
  const [, , , issuer, , subject] = fields;
  if (!subject) throw new Error("internal error: the certificate built has no subject");
  return { issuer, subject };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
