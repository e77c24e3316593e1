/**
 * The error every certificate check of `src/pki` throws: {@link CertificateError},
 * with a `code` naming the check that failed (RFC 5280 section 6 for the path
 * checks, RFC 7468 for PEM).
 *
 * @module
 */

/**
 * The checks a certificate or a chain can fail, one code each.
 *
 * - `not_pem`: the text holds no PEM block (RFC 7468 encapsulation boundaries).
 * - `pem_label`: a PEM block with another label than the one expected.
 * - `bad_base64`: the PEM body is not valid base64.
 * - `malformed`: the DER is not an X.509 v3 certificate this module accepts.
 * - `unsupported_algorithm`: not sha256WithRSAEncryption, or a key other than RSA.
 * - `unknown_critical_extension`: a critical extension this module does not process.
 * - `issuer_mismatch`: no given certificate's subject is this certificate's issuer.
 * - `bad_signature`: the issuer's key does not verify this certificate's signature.
 * - `not_yet_valid`, `expired`: outside notBefore..notAfter at the time checked.
 * - `issuer_not_ca`: a certificate that issues another lacks basicConstraints cA=TRUE.
 * - `issuer_key_usage`: a certificate that issues another lacks keyUsage keyCertSign.
 * - `path_length`: more CA certificates below a CA than its pathLenConstraint allows.
 * - `key_usage`: the end-entity certificate lacks the keyUsage bits its purpose needs.
 * - `extended_key_usage`: the end-entity certificate's extKeyUsage is not its purpose's.
 * - `subject_mismatch`: the end-entity subject is not the one the caller required.
 * - `revoked`: the certificate is listed on its issuer's CRL.
 * - `crl_missing`: revocation was asked for and no CRL from the issuer was given.
 * - `crl_bad_signature`: the issuer's CRL is not signed by the issuer (or it lacks cRLSign).
 * - `crl_not_yet_valid`, `crl_stale`: the time checked is before the CRL's thisUpdate,
 *   or after its nextUpdate.
 */
export type CertificateErrorCode =
  | "not_pem"
  | "pem_label"
  | "bad_base64"
  | "malformed"
  | "unsupported_algorithm"
  | "unknown_critical_extension"
  | "issuer_mismatch"
  | "bad_signature"
  | "not_yet_valid"
  | "expired"
  | "issuer_not_ca"
  | "issuer_key_usage"
  | "path_length"
  | "key_usage"
  | "extended_key_usage"
  | "subject_mismatch"
  | "revoked"
  | "crl_missing"
  | "crl_bad_signature"
  | "crl_not_yet_valid"
  | "crl_stale";

/** A certificate, a PEM block or a chain failed a check; `code` says which. */
export class CertificateError extends Error {
  /** The check that failed. */
  readonly code: CertificateErrorCode;

  /**
   * Makes the error.
   *
   * @param code the check that failed.
   * @param message what was wrong, naming the certificate's subject where there is one.
   * @param options standard error options (`cause`).
   */
  constructor(code: CertificateErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CertificateError";
    this.code = code;
  }
}
