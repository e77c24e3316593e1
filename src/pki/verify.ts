/**
 * Certificate path validation (after RFC 5280 section 6.1, simplified to what
 * this system issues): path building by issuer/subject name, then, from the
 * trust anchor down, for each certificate in a fixed order:
 *
 * 1. signature (`bad_signature`), verified with WebCrypto (an
 *    implementation independent of the node-forge builder and of the crypto
 *    cores); the trust anchor must be self-issued (else `issuer_mismatch`) and
 *    its self-signature is checked too (once per exact root bytes), so a
 *    corrupted root is caught;
 * 2. validity at `at` (`not_yet_valid`, `expired`; both bounds inclusive);
 * 3. for every certificate that issues the next one: basicConstraints cA
 *    (`issuer_not_ca`), keyUsage keyCertSign (`issuer_key_usage`),
 *    pathLenConstraint (`path_length`);
 * 4. for the end entity: the keyUsage bits (`key_usage`) and the extKeyUsage
 *    (`extended_key_usage`) of the expected purpose, then the subject
 *    serialNumber when one is required (`subject_mismatch`);
 * 5. with `crls`: revocation of every certificate below the trust anchor,
 *    from the anchor down, against its issuer's CRL (RFC 5280 section 6.3;
 *    `crl_missing`, `crl_bad_signature`, `crl_not_yet_valid`, `crl_stale`,
 *    `revoked`: see `crl_check.ts`).
 *
 * Parsing errors (`not_pem`, `malformed`, ...) come first, for each input in the
 * order leaf, intermediates, roots, CRLs; then path building (`issuer_mismatch`).
 * Without `crls` revocation is not checked.
 *
 * @module
 */
import * as pkijs from "pkijs";
import type { RsaPublicKey } from "../core/mod.ts";
import {
  type CertificateInfo,
  certificateInfo,
  parseCertificateInternal,
  parseCertificateShared,
  type ParsedCertificate,
} from "./certificate.ts";
import { CertificateError } from "./errors.ts";
import { describe } from "./_core.ts";
import { type CertificatePurpose, EXT_KEY_USAGE, PROFILES } from "./profiles.ts";
import { checkRevocation, CrlSet } from "./crl_check.ts";

/** How to verify. */
export interface VerifyOptions {
  /** The trust anchors (PEM or DER), e.g. the root written into the device at flashing. */
  roots: (string | Uint8Array)[];
  /** CA certificates that may sit between the leaf and a root, in any order. */
  intermediates?: (string | Uint8Array)[];
  /** What the end-entity certificate must be for: fixes its keyUsage and extKeyUsage. */
  purpose: CertificatePurpose;
  /** The time to check validity at (default: now). */
  at?: Date;
  /** If given, the end-entity subject serialNumber must equal it (the terminal SN). */
  subjectSerialNumber?: string;
  /**
   * CRLs (PEM, DER, or a parsed {@link CrlSet}): when given, every certificate
   * below the trust anchor is checked for revocation, and each issuer's CRL
   * must be among them.
   */
  crls?: CrlSet | (string | Uint8Array)[];
}

/** A certificate that passed every check. */
export interface VerifiedCertificate {
  /** The end-entity certificate. */
  certificate: CertificateInfo;
  /** Its public key. */
  publicKey: RsaPublicKey;
  /** The path, trust anchor first, end entity last. */
  path: CertificateInfo[];
}

const PURPOSE_EKU: Record<CertificatePurpose, string> = {
  "operator-card": EXT_KEY_USAGE.operatorCard,
  "mtms-transport": EXT_KEY_USAGE.mtmsTransport,
  "kms-server": EXT_KEY_USAGE.serverAuth,
  "mtms-client": EXT_KEY_USAGE.clientAuth,
  "terminal-hsm": EXT_KEY_USAGE.terminalHsm,
  "pin-pad": EXT_KEY_USAGE.pinPad,
  "tr34-kdh": EXT_KEY_USAGE.tr34Kdh,
  "tr34-krd": EXT_KEY_USAGE.tr34Krd,
};

const MAX_PATH = 8;

const engine = new pkijs.CryptoEngine({ name: "webcrypto", crypto: globalThis.crypto });

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The issuer's key imported into WebCrypto, per parsed certificate: the
 * trust anchors and intermediates are shared parses (`parseCertificateShared`),
 * so their key is imported once; every signature is still verified.
 */
const webKeys = new WeakMap<ParsedCertificate, Promise<CryptoKey>>();

function webKey(issuer: ParsedCertificate): Promise<CryptoKey> {
  let key = webKeys.get(issuer);
  if (key === undefined) {
    key = crypto.subtle.importKey(
      "spki",
      issuer.spki as Uint8Array<ArrayBuffer>,
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["verify"],
    );
    webKeys.set(issuer, key);
  }
  return key;
}

/**
 * Trust anchors whose self-signature verified: shared parses, each of one
 * exact input, so the same bytes are not verified twice and any other bytes
 * (a corrupted root) are a different parse, verified on their own.
 */
const selfSigned = new WeakSet<ParsedCertificate>();

/**
 * Whether `issuer`'s key signed `cert`: RSASSA-PKCS1-v1_5 SHA-256 over the
 * tbsCertificate bytes as received, by WebCrypto (the only signature algorithm
 * `certificate.ts` accepts, in both algorithm fields).
 */
async function signedBy(cert: ParsedCertificate, issuer: ParsedCertificate): Promise<boolean> {
  try {
    return await crypto.subtle.verify(
      "RSASSA-PKCS1-v1_5",
      await webKey(issuer),
      cert.signature as Uint8Array<ArrayBuffer>,
      cert.tbs as Uint8Array<ArrayBuffer>,
    );
  } catch {
    // WebCrypto rejects some wrong signatures (e.g. of the wrong length) instead of
    // returning false, and some malformed keys: either way the signature does not verify.
    return false;
  }
}

function parseList(name: string, list: unknown): ParsedCertificate[] {
  if (!Array.isArray(list)) {
    throw new TypeError(`${name} must be an array of certificates, got ${describe(list)}`);
  }
  return list.map((c, i) => {
    try {
      return parseCertificateShared(c);
    } catch (e) {
      if (e instanceof CertificateError) {
        throw new CertificateError(e.code, `${name}[${i}]: ${e.message}`, { cause: e });
      }
      throw e;
    }
  });
}

function checkOptions(options: VerifyOptions): Date {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be a VerifyOptions object, got ${describe(options)}`);
  }
  const { purpose, subjectSerialNumber } = options;
  if (typeof purpose !== "string" || !Object.hasOwn(PURPOSE_EKU, purpose)) {
    throw new RangeError(
      `options.purpose must be one of ${Object.keys(PURPOSE_EKU).join(", ")}, got ${
        JSON.stringify(purpose)
      }`,
    );
  }
  const at = options.at ?? new Date();
  if (!(at instanceof Date)) throw new TypeError(`options.at must be a Date, got ${describe(at)}`);
  if (Number.isNaN(at.getTime())) throw new RangeError("options.at is an invalid Date");
  if (subjectSerialNumber !== undefined && typeof subjectSerialNumber !== "string") {
    throw new TypeError(
      `options.subjectSerialNumber must be a string, got ${describe(subjectSerialNumber)}`,
    );
  }
  return at;
}

/** Builds the path by name from the end entity up to a trust anchor, anchor first. */
async function buildPath(
  end: ParsedCertificate,
  pool: ParsedCertificate[],
  roots: ParsedCertificate[],
): Promise<ParsedCertificate[]> {
  const path: ParsedCertificate[] = [end];
  for (let cur = end;;) {
    if (path.length > MAX_PATH) {
      throw new CertificateError(
        "path_length",
        `no root reached within ${MAX_PATH} certificates from "${end.subjectText}"`,
      );
    }
    const anchors = roots.filter((r) => sameBytes(r.subjectDer, cur.issuerDer));
    if (anchors.length > 0) {
      let anchor = anchors[0];
      for (const a of anchors.slice(1)) {
        if (await signedBy(cur, a)) anchor = a;
      }
      path.unshift(anchor);
      return path;
    }
    const next = pool.find((c) => !path.includes(c) && sameBytes(c.subjectDer, cur.issuerDer));
    if (!next) {
      throw new CertificateError(
        "issuer_mismatch",
        `certificate "${cur.subjectText}" is issued by "${cur.issuerText}", which is neither a trusted root nor a given intermediate`,
      );
    }
    path.unshift(next);
    cur = next;
  }
}

/** Checks 1 to 3 of the module documentation for certificate `i` of the path. */
async function checkLink(path: ParsedCertificate[], i: number, at: Date): Promise<void> {
  const k = path.length - 1;
  const c = path[i];
  const who = c.subjectText;
  if (i === 0 && !sameBytes(c.issuerDer, c.subjectDer)) {
    throw new CertificateError(
      "issuer_mismatch",
      `trust anchor "${who}" is not self-issued (issuer "${c.issuerText}"); roots must be self-signed`,
    );
  }
  const issuer = i > 0 ? path[i - 1] : c;
  if (!(i === 0 && selfSigned.has(c)) && !(await signedBy(c, issuer))) {
    throw new CertificateError(
      "bad_signature",
      `signature of certificate "${who}" does not verify with the key of "${issuer.subjectText}"`,
    );
  }
  if (i === 0 && Object.isFrozen(c)) selfSigned.add(c);
  if (at < c.notBefore) {
    throw new CertificateError(
      "not_yet_valid",
      `certificate "${who}" is not valid before ${c.notBefore.toISOString()} (checked at ${at.toISOString()})`,
    );
  }
  if (at > c.notAfter) {
    throw new CertificateError(
      "expired",
      `certificate "${who}" expired at ${c.notAfter.toISOString()} (checked at ${at.toISOString()})`,
    );
  }
  if (i === k) return;
  const issued = path[i + 1].subjectText;
  if (!c.ca) {
    throw new CertificateError(
      "issuer_not_ca",
      `certificate "${who}" issued "${issued}" but is not a CA (basicConstraints cA is not TRUE)`,
    );
  }
  if (!c.keyUsage?.includes("keyCertSign")) {
    throw new CertificateError(
      "issuer_key_usage",
      `certificate "${who}" issued "${issued}" but lacks keyUsage keyCertSign`,
    );
  }
  const below = k - i - 1;
  if (c.pathLength !== undefined && below > c.pathLength) {
    throw new CertificateError(
      "path_length",
      `certificate "${who}" allows ${c.pathLength} CA certificates below it, the path has ${below}`,
    );
  }
}

/** Check 4 of the module documentation: the end entity's purpose and subject. */
function checkPurpose(end: ParsedCertificate, options: VerifyOptions): void {
  const { purpose, subjectSerialNumber } = options;
  const want = PROFILES[purpose].keyUsage;
  const missing = want.filter((u) => !end.keyUsage?.includes(u));
  if (missing.length > 0) {
    throw new CertificateError(
      "key_usage",
      `certificate "${end.subjectText}" lacks keyUsage ${
        missing.join(", ")
      } needed for ${purpose}` +
        ` (has ${end.keyUsage ? end.keyUsage.join(", ") || "none" : "no keyUsage extension"})`,
    );
  }
  if (!end.extKeyUsage?.includes(PURPOSE_EKU[purpose])) {
    throw new CertificateError(
      "extended_key_usage",
      `certificate "${end.subjectText}" is not for ${purpose}: extKeyUsage lacks ${
        PURPOSE_EKU[purpose]
      }`,
    );
  }
  if (subjectSerialNumber !== undefined && end.subject.serialNumber !== subjectSerialNumber) {
    throw new CertificateError(
      "subject_mismatch",
      `certificate "${end.subjectText}" is not for serialNumber ${
        JSON.stringify(subjectSerialNumber)
      }`,
    );
  }
}

function parseLeaf(leaf: string | Uint8Array): ParsedCertificate {
  try {
    return parseCertificateInternal(leaf);
  } catch (e) {
    if (e instanceof CertificateError) {
      throw new CertificateError(e.code, `leaf: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/**
 * Verifies a certificate up to one of the trust anchors.
 *
 * @param leaf the end-entity certificate (PEM or DER).
 * @param options roots, intermediates, purpose, time, required subject serialNumber, CRLs.
 * @returns the verified certificate, its public key and the path.
 * @throws {TypeError} for arguments of the wrong type.
 * @throws {RangeError} for an unknown purpose or an invalid `at`.
 * @throws {CertificateError} whose `code` is the first check that failed (see the module
 *   documentation for the order); the message names the certificate's subject.
 * @example
 * ```ts
 * import { verifyChain } from "./mod.ts";
 * declare const rootPem: string, cardPem: string;
 * const { publicKey } = await verifyChain(cardPem, { roots: [rootPem], purpose: "operator-card" });
 * ```
 */
export async function verifyChain(
  leaf: string | Uint8Array,
  options: VerifyOptions,
): Promise<VerifiedCertificate> {
  const at = checkOptions(options);
  const end = parseLeaf(leaf);
  const pool = parseList("options.intermediates", options.intermediates ?? []);
  const roots = parseList("options.roots", options.roots);
  if (roots.length === 0) throw new RangeError("options.roots must hold at least one root");
  const crls = options.crls === undefined || options.crls instanceof CrlSet
    ? options.crls
    : new CrlSet(options.crls);
  const path = await buildPath(end, pool, roots);
  for (let i = 0; i < path.length; i++) await checkLink(path, i, at);
  checkPurpose(end, options);
  if (crls) {
    for (let i = 1; i < path.length; i++) {
      await checkRevocation(path[i], path[i - 1], crls, at, engine);
    }
  }
  // The anchors and intermediates are shared parses: the caller gets copies.
  const strip = (c: ParsedCertificate): CertificateInfo => {
    const info = certificateInfo(c);
    return Object.isFrozen(c) ? structuredClone(info) : info;
  };
  return { certificate: strip(end), publicKey: end.publicKey, path: path.map(strip) };
}
