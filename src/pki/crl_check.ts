/**
 * Reading CRLs (X.509 v2, RFC 5280 section 5) and checking a certificate
 * against its issuer's CRL (RFC 5280 section 6.3, simplified to what this CA
 * issues: one complete CRL per CA, no delta CRLs, no distribution points).
 *
 * The check, in order: a CRL from the certificate's issuer must be in the
 * set (`crl_missing`); of those, the newest is used; its signature must
 * verify under the issuer's key (`crl_bad_signature`); the issuer must hold
 * keyUsage cRLSign (`crl_bad_signature` too: a CRL it could not sign is no
 * CRL); `at` must lie in thisUpdate..nextUpdate (`crl_not_yet_valid`,
 * `crl_stale`); then the certificate's serialNumber must not be listed
 * (`revoked`).
 *
 * @module
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { SHA256_WITH_RSA } from "./certificate.ts";
import type { ParsedCertificate } from "./certificate.ts";
import { CertificateError } from "./errors.ts";
import { decodePem } from "./pem.ts";
import { describe } from "./_core.ts";

const EXT_CRL_NUMBER = "2.5.29.20";
const EXT_REASON_CODE = "2.5.29.21";
const EXT_AUTHORITY_KEY_ID = "2.5.29.35";
const KNOWN_CRL_EXTENSIONS = new Set([EXT_CRL_NUMBER, EXT_AUTHORITY_KEY_ID]);

const REASON_NAMES: Record<number, string> = {
  0: "unspecified",
  1: "keyCompromise",
  2: "cACompromise",
  3: "affiliationChanged",
  4: "superseded",
  5: "cessationOfOperation",
  6: "certificateHold",
  8: "removeFromCRL",
  9: "privilegeWithdrawn",
  10: "aACompromise",
};

/** The fields of a CRL, as read. */
export interface CrlInfo {
  /** The whole CRL, DER. */
  der: Uint8Array;
  /** The issuer as text, e.g. `C=CN, O=Acme, CN=Root`. */
  issuerText: string;
  /** When the CRL was issued. */
  thisUpdate: Date;
  /** When the next CRL is due; past it, this one is stale. */
  nextUpdate: Date;
  /** cRLNumber. */
  crlNumber: bigint;
  /** The revoked certificates by serialNumber (upper-case hex). */
  revoked: ReadonlyMap<string, { revokedAt: Date; reason: string }>;
}

/** A parsed CRL with what checking needs. */
export interface ParsedCrl extends CrlInfo {
  /**
   * The pkijs object (signature check); an implementation detail, not documented.
   * @ignore
   */
  readonly pkijs: pkijs.CertificateRevocationList;
  /** The issuer Name, DER, to match the certificate's issuer. */
  readonly issuerDer: Uint8Array;
}

function malformed(what: string, cause?: unknown): CertificateError {
  return new CertificateError("malformed", `CRL: ${what}`, cause ? { cause } : undefined);
}

function hexUpper(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();
}

function nameText(rdns: pkijs.RelativeDistinguishedNames): string {
  return rdns.typesAndValues.map((tv) => `${tv.type}=${tv.value.valueBlock.value}`).join(", ");
}

function readEntries(crl: pkijs.CertificateRevocationList): CrlInfo["revoked"] {
  const revoked = new Map<string, { revokedAt: Date; reason: string }>();
  for (const r of crl.revokedCertificates ?? []) {
    const serial = hexUpper(r.userCertificate.valueBlock.valueHexView);
    let reason = "unspecified";
    for (const x of r.crlEntryExtensions?.extensions ?? []) {
      if (x.extnID === EXT_REASON_CODE) {
        const v = asn1js.fromBER(x.extnValue.valueBlock.valueHexView).result;
        if (!(v instanceof asn1js.Enumerated)) throw malformed(`reasonCode of ${serial}`);
        reason = REASON_NAMES[v.valueBlock.valueDec] ?? `reason ${v.valueBlock.valueDec}`;
      } else if (x.critical) throw malformed(`critical entry extension ${x.extnID} of ${serial}`);
    }
    if (revoked.has(serial)) throw malformed(`serialNumber ${serial} is listed twice`);
    revoked.set(serial, { revokedAt: r.revocationDate.value, reason });
  }
  return revoked;
}

function readCrlNumber(crl: pkijs.CertificateRevocationList): bigint {
  let crlNumber: bigint | undefined;
  for (const x of crl.crlExtensions?.extensions ?? []) {
    if (x.extnID === EXT_CRL_NUMBER) {
      const v = asn1js.fromBER(x.extnValue.valueBlock.valueHexView).result;
      if (!(v instanceof asn1js.Integer)) throw malformed("cRLNumber is not an INTEGER");
      crlNumber = BigInt(`0x${hexUpper(v.valueBlock.valueHexView) || "0"}`);
    } else if (x.critical && !KNOWN_CRL_EXTENSIONS.has(x.extnID)) {
      throw new CertificateError(
        "unknown_critical_extension",
        `CRL has critical extension ${x.extnID}, which is not processed`,
      );
    }
  }
  if (crlNumber === undefined) throw malformed("the cRLNumber extension is missing");
  return crlNumber;
}

/**
 * Reads a CRL (internal: keeps the pkijs object).
 *
 * @param input PEM (`X509 CRL`) or DER.
 * @returns the parsed CRL.
 * @throws {CertificateError} `not_pem`, `pem_label`, `malformed`, `unsupported_algorithm`,
 *   `unknown_critical_extension`.
 */
export function parseCrlInternal(input: string | Uint8Array): ParsedCrl {
  let der: Uint8Array;
  if (typeof input === "string") der = decodePem(input, "X509 CRL");
  else if (input instanceof Uint8Array) der = input.slice();
  else throw new TypeError(`a CRL must be PEM text or DER bytes, got ${describe(input)}`);
  let crl: pkijs.CertificateRevocationList;
  try {
    const top = asn1js.fromBER(der);
    if (top.offset !== der.length) throw new Error("bytes after the end, or bad DER");
    crl = new pkijs.CertificateRevocationList({ schema: top.result });
  } catch (e) {
    throw malformed(`not an X.509 CertificateList (${(e as Error).message})`, e);
  }
  if (crl.version !== 1) throw malformed(`version ${crl.version + 1}; version 2 is required`);
  for (const alg of [crl.signature, crl.signatureAlgorithm]) {
    if (alg.algorithmId !== SHA256_WITH_RSA) {
      throw new CertificateError(
        "unsupported_algorithm",
        `CRL signature algorithm is ${alg.algorithmId}; only sha256WithRSAEncryption is supported`,
      );
    }
  }
  if (!crl.nextUpdate) throw malformed("nextUpdate is missing (RFC 5280 section 5.1.2.5)");
  return {
    der,
    pkijs: crl,
    issuerDer: new Uint8Array(crl.issuer.toSchema().toBER()),
    issuerText: nameText(crl.issuer),
    thisUpdate: crl.thisUpdate.value,
    nextUpdate: crl.nextUpdate.value,
    crlNumber: readCrlNumber(crl),
    revoked: readEntries(crl),
  };
}

/**
 * Reads a CRL.
 *
 * @param input PEM (`X509 CRL`) or DER.
 * @returns its fields.
 * @throws {CertificateError} for a CRL this system does not accept (see `parseCrlInternal`).
 */
export function parseCrl(input: string | Uint8Array): CrlInfo {
  const { pkijs: _p, issuerDer: _i, ...info } = parseCrlInternal(input);
  return info;
}

/** A set of parsed CRLs, for {@link checkRevocation} and `verifyChain`'s `crls`. */
export class CrlSet {
  /** The CRLs, parsed once. */
  readonly crls: readonly ParsedCrl[];

  /**
   * Parses each CRL once.
   *
   * @param inputs CRLs, PEM or DER.
   * @throws {CertificateError} naming the first CRL that does not parse (`crls[i]: ...`).
   */
  constructor(inputs: readonly (string | Uint8Array)[]) {
    if (!Array.isArray(inputs)) {
      throw new TypeError(`CRLs must be an array, got ${describe(inputs)}`);
    }
    this.crls = inputs.map((c, i) => {
      try {
        return parseCrlInternal(c);
      } catch (e) {
        if (!(e instanceof CertificateError)) throw e;
        throw new CertificateError(e.code, `crls[${i}]: ${e.message}`, { cause: e });
      }
    });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The issuers whose signature on a CRL verified. A parsed CRL is of fixed
 * bytes (a changed CRL is a new {@link CrlSet}), and only shared issuer
 * parses (`parseCertificateShared`, each of one exact input) are noted, so a
 * CRL's signature is verified once per CRL and issuer, never for other bytes.
 */
const crlSignedBy = new WeakMap<ParsedCrl, WeakSet<ParsedCertificate>>();

/**
 * Checks one certificate against its issuer's newest CRL in the set.
 *
 * @param cert the certificate.
 * @param issuer the certificate that issued it (already verified as its issuer).
 * @param set the CRLs.
 * @param at the time of the check.
 * @param engine the pkijs crypto engine for the CRL's signature.
 * @throws {CertificateError} `crl_missing`, `crl_bad_signature`, `crl_not_yet_valid`,
 *   `crl_stale` or `revoked` (see the module documentation).
 */
export async function checkRevocation(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  set: CrlSet,
  at: Date,
  engine: pkijs.ICryptoEngine,
): Promise<void> {
  const mine = set.crls.filter((c) => sameBytes(c.issuerDer, issuer.subjectDer));
  if (mine.length === 0) {
    throw new CertificateError(
      "crl_missing",
      `no CRL from "${issuer.subjectText}" to check "${cert.subjectText}" against`,
    );
  }
  const crl = mine.reduce((a, b) => (b.crlNumber > a.crlNumber ? b : a));
  let good = issuer.keyUsage?.includes("cRLSign") === true;
  if (good && !crlSignedBy.get(crl)?.has(issuer)) {
    try {
      good = await crl.pkijs.verify({ issuerCertificate: issuer.pkijs }, engine);
    } catch {
      good = false;
    }
    if (good && Object.isFrozen(issuer)) {
      const by = crlSignedBy.get(crl) ?? new WeakSet<ParsedCertificate>();
      crlSignedBy.set(crl, by.add(issuer));
    }
  }
  if (!good) {
    throw new CertificateError(
      "crl_bad_signature",
      `CRL ${crl.crlNumber} of "${issuer.subjectText}" is not signed by it (signature, or keyUsage cRLSign)`,
    );
  }
  if (at < crl.thisUpdate) {
    throw new CertificateError(
      "crl_not_yet_valid",
      `CRL ${crl.crlNumber} of "${issuer.subjectText}" is not valid before ${crl.thisUpdate.toISOString()} (checked at ${at.toISOString()})`,
    );
  }
  if (at > crl.nextUpdate) {
    throw new CertificateError(
      "crl_stale",
      `CRL ${crl.crlNumber} of "${issuer.subjectText}" was due to be replaced at ${crl.nextUpdate.toISOString()} (checked at ${at.toISOString()})`,
    );
  }
  const hit = crl.revoked.get(cert.serialNumber);
  if (hit) {
    throw new CertificateError(
      "revoked",
      `certificate "${cert.subjectText}" (serialNumber ${cert.serialNumber}) was revoked at ${hit.revokedAt.toISOString()} (${hit.reason}), CRL ${crl.crlNumber} of "${issuer.subjectText}"`,
    );
  }
}
