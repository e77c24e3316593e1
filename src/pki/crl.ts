/**
 * Certificate revocation lists (X.509 v2 CRLs, RFC 5280 section 5): the CA
 * issues them, signed with RSASSA-PKCS1-v1_5 SHA-256 on the project's crypto
 * core like its certificates (`issue.ts`), and a chain check (`verify.ts`)
 * refuses a certificate its issuer's current CRL lists.
 *
 * A CRL this module issues always carries nextUpdate, the authorityKeyIdentifier
 * and cRLNumber extensions (RFC 5280 sections 5.2.1 and 5.2.3), and a reasonCode
 * entry extension (section 5.3.1) when a reason is given. A CRL past its
 * nextUpdate is stale: a check that needs it fails rather than trusting old news.
 *
 * @module
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { pkcs1v15Sign } from "../crypto/mod.ts";
import { parseCertificateShared, SHA256_WITH_RSA } from "./certificate.ts";
import { CertificateError } from "./errors.ts";
import { encodePem } from "./pem.ts";
import type { IssuerSigner } from "./issue.ts";
import { type CoreOptions, defaultCore, describe } from "./_core.ts";
import { parseCrlInternal, type ParsedCrl } from "./crl_check.ts";

const EXT_AUTHORITY_KEY_ID = "2.5.29.35";

/** WebCrypto, an implementation independent of the signer, checks each CRL made. */
const engine = new pkijs.CryptoEngine({ name: "webcrypto", crypto: globalThis.crypto });
const EXT_CRL_NUMBER = "2.5.29.20";
const EXT_REASON_CODE = "2.5.29.21";

// deno-fmt-ignore
/** CRLReason (RFC 5280 section 5.3.1), by name, with its code. */
export const REVOCATION_REASONS = {
  unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4,
  cessationOfOperation: 5, certificateHold: 6, privilegeWithdrawn: 9, aACompromise: 10,
} as const;

/** A CRLReason name. */
export type RevocationReason = keyof typeof REVOCATION_REASONS;

/** One revoked certificate. */
export interface RevokedEntry {
  /** Its serialNumber, upper-case hex as `CertificateInfo.serialNumber` gives it. */
  serialNumber: string;
  /** When it was revoked, whole seconds. */
  revokedAt: Date;
  /** Why (reasonCode entry extension); absent means unspecified. */
  reason?: RevocationReason;
}

/** What to put in a CRL. */
export interface IssueCrlRequest {
  /** The CA: its certificate (must have keyUsage cRLSign) and its key or signer. */
  issuer: IssuerSigner & { certificate: string | Uint8Array };
  /** Issue time, whole seconds. */
  thisUpdate: Date;
  /** When the next CRL is due, after thisUpdate; past it, this CRL is stale. */
  nextUpdate: Date;
  /** cRLNumber: grows with every CRL of this CA (0 to 2^159). */
  crlNumber: bigint;
  /** The revoked certificates (each serialNumber once). */
  revoked: RevokedEntry[];
}

function checkTime(name: string, t: unknown): asserts t is Date {
  if (!(t instanceof Date) || Number.isNaN(t.getTime())) {
    throw new TypeError(`${name} must be a valid Date, got ${describe(t)}`);
  }
  if (t.getTime() % 1000 !== 0) throw new RangeError(`${name} must be whole seconds`);
}

function hexBytes(name: string, hex: unknown): Uint8Array {
  if (typeof hex !== "string" || !/^(?:[0-9A-F]{2}){1,20}$/.test(hex) || hex < "01") {
    throw new RangeError(
      `${name} must be 1 to 20 octets of upper-case hex (a positive serialNumber), got ${
        typeof hex === "string" ? JSON.stringify(hex.slice(0, 50)) : describe(hex)
      }`,
    );
  }
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}

function bigintBytes(n: bigint): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 section 5.1.2.4). */
function time(d: Date): pkijs.Time {
  return new pkijs.Time({ type: d.getUTCFullYear() < 2050 ? 0 : 1, value: d });
}

function checkRequest(request: IssueCrlRequest): void {
  if (request === null || typeof request !== "object") {
    throw new TypeError(`request must be an IssueCrlRequest object, got ${describe(request)}`);
  }
  const { issuer, thisUpdate, nextUpdate, crlNumber, revoked } = request;
  checkTime("request.thisUpdate", thisUpdate);
  checkTime("request.nextUpdate", nextUpdate);
  if (nextUpdate <= thisUpdate) {
    throw new RangeError(
      `request.nextUpdate (${nextUpdate.toISOString()}) must be after request.thisUpdate (${thisUpdate.toISOString()})`,
    );
  }
  if (typeof crlNumber !== "bigint" || crlNumber < 0n || crlNumber >= 2n ** 159n) {
    throw new RangeError(
      `request.crlNumber must be a bigint 0 to 2^159-1, got ${describe(crlNumber)}`,
    );
  }
  if (!Array.isArray(revoked)) {
    throw new TypeError(`request.revoked must be an array, got ${describe(revoked)}`);
  }
  const seen = new Set<string>();
  revoked.forEach((r, i) => {
    hexBytes(`request.revoked[${i}].serialNumber`, r?.serialNumber);
    checkTime(`request.revoked[${i}].revokedAt`, r.revokedAt);
    if (r.reason !== undefined && !Object.hasOwn(REVOCATION_REASONS, r.reason)) {
      throw new RangeError(
        `request.revoked[${i}].reason must be one of ${
          Object.keys(REVOCATION_REASONS).join(", ")
        }, got ${JSON.stringify(r.reason)}`,
      );
    }
    if (seen.has(r.serialNumber)) {
      throw new RangeError(`request.revoked[${i}].serialNumber ${r.serialNumber} is listed twice`);
    }
    seen.add(r.serialNumber);
  });
  if (issuer === null || typeof issuer !== "object" || issuer.certificate === undefined) {
    throw new TypeError("request.issuer must be { certificate, privateKey | sign }");
  }
  if ((issuer.privateKey === undefined) === (issuer.sign === undefined)) {
    throw new TypeError("request.issuer must have exactly one of privateKey and sign");
  }
}

function revokedCertificate(r: RevokedEntry): pkijs.RevokedCertificate {
  const entry = new pkijs.RevokedCertificate({
    userCertificate: new asn1js.Integer({ valueHex: hexBytes("serialNumber", r.serialNumber) }),
    revocationDate: time(r.revokedAt),
  });
  if (r.reason !== undefined) {
    entry.crlEntryExtensions = new pkijs.Extensions({
      extensions: [
        new pkijs.Extension({
          extnID: EXT_REASON_CODE,
          critical: false,
          extnValue: new asn1js.Enumerated({ value: REVOCATION_REASONS[r.reason] }).toBER(),
        }),
      ],
    });
  }
  return entry;
}

/**
 * Issues a CRL.
 *
 * @param request the issuer, the update times, the CRL number and the revoked certificates.
 * @param options `core` to sign on (default: the wasm core).
 * @returns the CRL, PEM (`X509 CRL`, RFC 7468 section 6).
 * @throws {TypeError} / {RangeError} naming the bad field; `CertificateError`
 *   `issuer_key_usage` for an issuer without keyUsage cRLSign; `bad_signature`
 *   if the signer's signature does not verify under the issuer's key.
 */
export async function issueCrl(request: IssueCrlRequest, options?: CoreOptions): Promise<string> {
  const core = await defaultCore(options);
  checkRequest(request);
  const issuer = parseCertificateShared(request.issuer.certificate);
  if (!issuer.ca || !issuer.keyUsage?.includes("cRLSign")) {
    throw new CertificateError(
      "issuer_key_usage",
      `certificate "${issuer.subjectText}" cannot sign CRLs: it needs cA and keyUsage cRLSign`,
    );
  }
  const algorithm = new pkijs.AlgorithmIdentifier({
    algorithmId: SHA256_WITH_RSA,
    algorithmParams: new asn1js.Null(),
  });
  const aki = new pkijs.AuthorityKeyIdentifier({
    keyIdentifier: new asn1js.OctetString({
      valueHex: issuer.subjectKeyIdentifier ??
        core.sha1(issuer.pkijs.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView),
    }),
  });
  const crl = new pkijs.CertificateRevocationList({
    version: 1,
    signature: algorithm,
    issuer: issuer.pkijs.subject,
    thisUpdate: time(request.thisUpdate),
    nextUpdate: time(request.nextUpdate),
    crlExtensions: new pkijs.Extensions({
      extensions: [
        new pkijs.Extension({
          extnID: EXT_AUTHORITY_KEY_ID,
          critical: false,
          extnValue: aki.toSchema().toBER(),
        }),
        new pkijs.Extension({
          extnID: EXT_CRL_NUMBER,
          critical: false,
          extnValue: new asn1js.Integer({ valueHex: bigintBytes(request.crlNumber) }).toBER(),
        }),
      ],
    }),
  });
  if (request.revoked.length > 0) {
    crl.revokedCertificates = request.revoked.map(revokedCertificate);
  }
  crl.signatureAlgorithm = algorithm;
  // toSchema(true) encodes the TBSCertList from the fields set above; it is the first element.
  const tbs = new Uint8Array(crl.toSchema(true).valueBlock.value[0].toBER());
  crl.tbsView = tbs;
  const signature = request.issuer.sign
    ? await request.issuer.sign(tbs.slice())
    : await pkcs1v15Sign(request.issuer.privateKey!, tbs, { core });
  crl.signatureValue = new asn1js.BitString({ valueHex: signature });
  const der = new Uint8Array(crl.toSchema().toBER());
  const made: ParsedCrl = parseCrlInternal(der);
  if (!(await made.pkijs.verify({ issuerCertificate: issuer.pkijs }, engine))) {
    throw new CertificateError(
      "bad_signature",
      `the signature of the CRL does not verify under the key of "${issuer.subjectText}"`,
    );
  }
  return encodePem("X509 CRL", der);
}
