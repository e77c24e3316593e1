/**
 * The certificate and RSA checks both sides of flow A run: OpWCRT against
 * OpRCRT (S6, at the PIN pad; and at the MTMS for signed uploads), the MTMS
 * transport certificate (at the PIN pad, before TK is encrypted under it),
 * the recovery of `Rnd' || TimeOne'` (S7), and upload signatures.
 *
 * Failures become {@link AuthenticationError}s with the codes of
 * `operator_auth.ts`, so every caller reports the same reason the same way.
 *
 * @module
 */
import type { CryptoCore, RsaPublicKey } from "../core/mod.ts";
import { CertificateError, type CertificatePurpose, type CrlSet, verifyChain } from "../pki/mod.ts";
import { fromHex, pkcs1v15Verify, publicDecrypt } from "../crypto/mod.ts";
import { AuthenticationError } from "./errors.ts";
import type { AuthCrypto } from "./operator_auth.ts";

/** What a checked certificate gives its caller. */
export interface CheckedCertificate {
  subject: string;
  serial: string;
  publicKey: RsaPublicKey;
}

function codeOf(e: CertificateError): string {
  switch (e.code) {
    case "expired":
      return "certificate_expired";
    case "not_yet_valid":
      return "certificate_not_yet_valid";
    case "not_pem":
    case "pem_label":
    case "bad_base64":
    case "malformed":
    case "unsupported_algorithm":
    case "unknown_critical_extension":
      return "certificate_invalid";
    case "revoked":
      return "certificate_revoked";
    case "crl_missing":
    case "crl_bad_signature":
    case "crl_not_yet_valid":
    case "crl_stale":
      return "certificate_status_unknown";
    case "key_usage":
    case "extended_key_usage":
    case "subject_mismatch":
      return "certificate_wrong_purpose";
    default:
      return "certificate_untrusted";
  }
}

/**
 * Checks a certificate: validity at `at`, chain to `rootPem`, purpose.
 *
 * @param certificatePem the end-entity certificate (PEM).
 * @param rootPem the CA root (PEM).
 * @param at the time to check validity at.
 * @param purpose what the certificate must be for.
 * @param _core the crypto core (chain signatures are checked by `src/pki` on WebCrypto).
 * @param crls the CRLs the checker holds: with them a revoked certificate, or one whose
 *   issuer's CRL is missing or stale, is refused (RFC 5280 section 6.3); without, no revocation check.
 * @returns subject, serial number and public key.
 * @throws {AuthenticationError} `certificate_invalid`, `certificate_expired`, `certificate_not_yet_valid`, `certificate_untrusted`, `certificate_wrong_purpose`, `certificate_revoked`, `certificate_status_unknown`.
 */
export async function checkCertificate(
  certificatePem: string,
  rootPem: string,
  at: Date,
  purpose: CertificatePurpose,
  _core: CryptoCore,
  crls?: CrlSet,
): Promise<CheckedCertificate> {
  try {
    const v = await verifyChain(certificatePem, { roots: [rootPem], at, purpose, crls });
    return {
      subject: v.certificate.subjectText,
      serial: v.certificate.serialNumber,
      publicKey: v.publicKey,
    };
  } catch (e) {
    if (e instanceof CertificateError) {
      throw new AuthenticationError(codeOf(e), `S6: ${e.message}`);
    }
    throw e;
  }
}

/**
 * The S6/S7 operations of {@link OperatorAuthenticator} on our own crypto.
 *
 * @param core the crypto core.
 * @returns the operations.
 */
export function authCrypto(core: CryptoCore): AuthCrypto {
  return {
    checkCertificate: (pem, root, at) => checkCertificate(pem, root, at, "operator-card", core),
    async recover(publicKey, cryptogram) {
      try {
        return await publicDecrypt(publicKey, cryptogram, { core });
      } catch (e) {
        if (e instanceof TypeError) throw e;
        throw new AuthenticationError(
          "cryptogram_invalid",
          "S7: C does not recover to a PKCS#1 type-1 block under OpWCRT's public key",
        );
      }
    },
  };
}

/**
 * Checks an operator's signed request: OpWCRT chain and validity, and an
 * RSASSA-PKCS1-v1_5 SHA-256 signature over `data`.
 *
 * @param certificatePem OpWCRT.
 * @param rootPem the CA root.
 * @param data the signed bytes.
 * @param signatureHex the signature, uppercase hex.
 * @param at the time.
 * @param core the crypto core.
 * @returns the operator's subject.
 * @throws {AuthenticationError} `certificate_*` or `signature_invalid`.
 */
export async function verifyOperatorSignature(
  certificatePem: string,
  rootPem: string,
  data: Uint8Array,
  signatureHex: string,
  at: Date,
  core: CryptoCore,
): Promise<string> {
  const cert = await checkCertificate(certificatePem, rootPem, at, "operator-card", core);
  let ok = false;
  try {
    ok = await pkcs1v15Verify(cert.publicKey, data, fromHex(signatureHex), { core });
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new AuthenticationError(
      "signature_invalid",
      `the signature does not verify under the key of "${cert.subject}"`,
    );
  }
  return cert.subject;
}
