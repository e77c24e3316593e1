/**
 * Certificates in TR-34 (ASC X9 TR 34-2019 section 5; RFC 5280): reading a
 * KDH or KRD certificate into what the tokens need (its IssuerAndSerialNumber,
 * public key, validity, keyUsage), and the checks a KRD makes on a KDH
 * certificate (issued by a trusted CA, valid now, allowed to sign, not on the
 * CA's CRL) and a KDH on a KRD certificate. Certificates are issued by the
 * project's CA (`src/pki`); they are read here with pkijs so that foreign
 * certificates (other vendors', the TR-34 samples) can be read too.
 *
 * @module
 */
import * as pkijs from "pkijs";
import type { CryptoCore, RsaPublicKey } from "../core/mod.ts";
import { importSpkiDer, pkcs1v15Verify } from "../crypto/mod.ts";
import { decodePem } from "../pki/mod.ts";
import { type CertId, der, malformed, nameText, parseOne, sameBytes } from "./_der.ts";
import { type Crl, isRevoked, verifyCrl } from "./crl.ts";
import { Tr34Error } from "./errors.ts";
import { ALG } from "./oids.ts";

/** A certificate as TR-34 uses it. */
export interface Certificate {
  der: Uint8Array;
  /** The pkijs object. */
  pkijs: pkijs.Certificate;
  /** Its IssuerAndSerialNumber. */
  id: CertId;
  /** The subject Name, DER. */
  subject: Uint8Array;
  subjectText: string;
  issuerText: string;
  notBefore: Date;
  notAfter: Date;
  publicKey: RsaPublicKey;
  /** keyUsage bit names, undefined when the extension is absent. */
  keyUsage?: string[];
  /** OIDs of extensions that appear more than once (RFC 5280 4.2 forbids it). */
  repeatedExtensions: string[];
}

const KEY_USAGE = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
];

function keyUsageOf(cert: pkijs.Certificate): string[] | undefined {
  const ext = cert.extensions?.find((e) => e.extnID === "2.5.29.15");
  if (!ext) return undefined;
  const bits = parseOne(new Uint8Array(ext.extnValue.valueBlock.valueHexView), "keyUsage");
  const v = new Uint8Array(
    (bits.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView,
  );
  return KEY_USAGE.filter((_, i) => ((v[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0);
}

/**
 * Reads a certificate (PEM `CERTIFICATE` or DER).
 *
 * @throws {Tr34Error} `malformed` if it is not an RSA X.509 certificate.
 */
export function readCertificate(input: string | Uint8Array, what: string): Certificate {
  let bytes: Uint8Array;
  if (typeof input === "string") {
    try {
      bytes = decodePem(input, "CERTIFICATE");
    } catch (e) {
      throw malformed(`${what} (not a PEM CERTIFICATE)`, e);
    }
  } else if (input instanceof Uint8Array) bytes = input;
  else throw new TypeError(`${what} must be PEM text or DER bytes`);
  let cert: pkijs.Certificate;
  let publicKey: RsaPublicKey;
  try {
    cert = new pkijs.Certificate({ schema: parseOne(bytes, what) });
    publicKey = importSpkiDer(der(cert.subjectPublicKeyInfo.toSchema()));
  } catch (e) {
    if (e instanceof Tr34Error) throw e;
    throw malformed(`${what} (not an RSA X.509 certificate)`, e);
  }
  const issuer = der(cert.issuer.toSchema());
  const subject = der(cert.subject.toSchema());
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const e of cert.extensions ?? []) (seen.has(e.extnID) ? repeated : seen).add(e.extnID);
  return {
    der: bytes,
    pkijs: cert,
    id: { issuer, serial: new Uint8Array(cert.serialNumber.valueBlock.valueHexView) },
    subject,
    subjectText: nameText(subject),
    issuerText: nameText(issuer),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    publicKey,
    keyUsage: keyUsageOf(cert),
    repeatedExtensions: [...repeated],
  };
}

/** Whether `issuer` signed `cert` (sha256WithRSAEncryption). */
export async function issuedBy(
  cert: Certificate,
  issuer: Certificate,
  core: CryptoCore,
): Promise<boolean> {
  if (!sameBytes(cert.id.issuer, issuer.subject)) return false;
  if (cert.pkijs.signatureAlgorithm.algorithmId !== ALG.sha256WithRsa) return false;
  const sig = new Uint8Array(cert.pkijs.signatureValue.valueBlock.valueHexView);
  return await pkcs1v15Verify(issuer.publicKey, new Uint8Array(cert.pkijs.tbsView), sig, { core });
}

/** How a KRD checks a KDH certificate. */
export interface KdhCheck {
  /** The CA certificates trusted to issue KDH certificates. */
  cas: Certificate[];
  /** The time to check validity at. */
  at: Date;
  /** The CA's CRLs the token and the KRD hold; each is checked. */
  crls?: Crl[];
  /** The signer is a CA (binding tokens B.10, B.13): keyCertSign also allows signing. */
  caSigner?: boolean;
}

/**
 * Checks a KDH certificate as a KRD must before trusting a token it signed:
 * issued by one of `cas` (an empty list pins the certificate: the caller
 * already trusts it), valid at `at`, keyUsage allows digitalSignature, and,
 * on none of the CRLs (each signed by that CA).
 *
 * @returns the issuing CA, undefined for a pinned certificate.
 *
 * @throws {Tr34Error} `kdh_untrusted`, `kdh_not_yet_valid`, `kdh_expired`,
 *   `crl_invalid`, `kdh_revoked`.
 */
export async function checkKdhCertificate(
  kdh: Certificate,
  check: KdhCheck,
  core: CryptoCore,
): Promise<Certificate | undefined> {
  let ca: Certificate | undefined;
  for (const c of check.cas) if (await issuedBy(kdh, c, core)) ca = c;
  if (!ca && check.cas.length > 0) {
    throw new Tr34Error(
      "kdh_untrusted",
      `the KDH certificate ${kdh.subjectText} is not issued by a trusted CA`,
    );
  }
  if (check.at < kdh.notBefore) {
    throw new Tr34Error(
      "kdh_not_yet_valid",
      `the KDH certificate ${kdh.subjectText} is valid from ${kdh.notBefore.toISOString()}`,
    );
  }
  if (check.at > kdh.notAfter) {
    throw new Tr34Error(
      "kdh_expired",
      `the KDH certificate ${kdh.subjectText} expired at ${kdh.notAfter.toISOString()}`,
    );
  }
  const mayCaSign = check.caSigner === true && kdh.keyUsage?.includes("keyCertSign");
  if (kdh.keyUsage && !kdh.keyUsage.includes("digitalSignature") && !mayCaSign) {
    throw new Tr34Error("kdh_untrusted", "the KDH certificate's keyUsage lacks digitalSignature");
  }
  for (const crl of check.crls ?? []) {
    // Without a trusted CA (a pinned KDH certificate) a CRL cannot be authenticated; it is
    // still applied, since it can only refuse.
    if (ca) await verifyCrl(crl, ca, core);
    if (isRevoked(crl, kdh.id.serial)) {
      throw new Tr34Error("kdh_revoked", `the KDH certificate ${kdh.subjectText} is revoked`);
    }
  }
  return ca;
}

/**
 * Checks a KRD certificate as a KDH must before sending it a key: issued by
 * one of `cas` when given, valid at `at`, keyUsage allows keyEncipherment.
 *
 * @throws {Tr34Error} `krd_untrusted`.
 */
export async function checkKrdCertificate(
  krd: Certificate,
  cas: Certificate[] | undefined,
  at: Date,
  core: CryptoCore,
): Promise<void> {
  if (cas) {
    let ok = false;
    for (const c of cas) ok ||= await issuedBy(krd, c, core);
    if (!ok) {
      throw new Tr34Error("krd_untrusted", `the KRD certificate ${krd.subjectText} is not trusted`);
    }
  }
  if (at < krd.notBefore || at > krd.notAfter) {
    throw new Tr34Error(
      "krd_untrusted",
      `the KRD certificate ${krd.subjectText} is not valid at ${at.toISOString()}`,
    );
  }
  if (krd.keyUsage && !krd.keyUsage.includes("keyEncipherment")) {
    throw new Tr34Error("krd_untrusted", "the KRD certificate's keyUsage lacks keyEncipherment");
  }
}
