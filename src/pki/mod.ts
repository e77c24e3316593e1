/**
 * A small certificate authority for the TMK system (RFC 5280 X.509 v3):
 * issue the root CA (OpRCRT), the KMS CA, and the end-entity certificates of
 * the operator cards (OpWCRT), the MTMS transport key, the KMS server and the
 * per-terminal `Pu_hsm` keys; read them; verify chains with a reason code for
 * every failed check; issue and check CRLs (RFC 5280 section 5); PEM in and
 * out (RFC 7468).
 *
 * @example
 * ```ts
 * import { issueCertificate, verifyChain } from "./mod.ts";
 * import type { RsaPrivateKey } from "../core/mod.ts";
 * declare const rootKey: RsaPrivateKey, cardKey: RsaPrivateKey;
 * const notBefore = new Date("2026-01-01T00:00:00Z");
 * const notAfter = new Date("2036-01-01T00:00:00Z");
 * const root = await issueCertificate({
 *   profile: "root-ca", subject: { commonName: "TMK Root CA" },
 *   publicKey: rootKey, notBefore, notAfter, issuer: { privateKey: rootKey },
 * });
 * const card = await issueCertificate({
 *   profile: "operator-card", subject: { commonName: "Operator 0001" },
 *   publicKey: cardKey, notBefore, notAfter,
 *   issuer: { privateKey: rootKey, certificate: root },
 * });
 * const { publicKey } = await verifyChain(card, { roots: [root], purpose: "operator-card" });
 * ```
 *
 * @module
 */
export { CertificateError, type CertificateErrorCode } from "./errors.ts";
export { decodePem, encodePem } from "./pem.ts";
export { type DistinguishedName, formatName } from "./name.ts";
export {
  type CertificateProfile,
  type CertificatePurpose,
  EXT_KEY_USAGE,
  KEY_USAGE_BITS,
  type KeyUsage,
  PROFILES,
  type ProfileSpec,
  PROJECT_OID_ARC,
} from "./profiles.ts";
export { type CertificateInfo, parseCertificate, type ParsedCertificate } from "./certificate.ts";
export { issueCertificate, type IssueRequest, type IssuerSigner } from "./issue.ts";
/**
 * The builder under {@link issueCertificate}, which signs exactly what it is
 * given with no profile checks: for certificates `issueCertificate` refuses
 * to make (a CA:false issuer, say), which a verifier must reject.
 */
export { buildCertificate, type BuildSpec } from "./_build.ts";
export { oidFromContent, oidToContent } from "./_oid.ts";
export { type VerifiedCertificate, verifyChain, type VerifyOptions } from "./verify.ts";
export {
  issueCrl,
  type IssueCrlRequest,
  REVOCATION_REASONS,
  type RevocationReason,
  type RevokedEntry,
} from "./crl.ts";
export { type CrlInfo, CrlSet, parseCrl, type ParsedCrl } from "./crl_check.ts";
export type { CoreOptions } from "./_core.ts";
