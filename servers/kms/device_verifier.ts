/**
 * Flow B's device check on S3 (CN103714641A S3, with device certificates):
 * the PIN pad's `pin-pad` certificate must chain to the device roots the KMS
 * trusts (RFC 5280), and its key must have signed the transport key
 * (RSASSA-PKCS1-v1_5 SHA-256, RFC 8017).
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { pkcs1v15Verify, type RsaPublicKey } from "../../src/crypto/mod.ts";
import { CertificateError, verifyChain } from "../../src/pki/mod.ts";
import { AuthenticationError } from "../../src/protocol/mod.ts";
import type { DeviceVerifier } from "./flow_b_ports.ts";

/**
 * The device verifier: `pin-pad` certificates chained to `roots`, RSASSA-PKCS1-v1_5 SHA-256.
 *
 * @param roots the device roots (PEM) the KMS trusts.
 * @param core the crypto core.
 * @param now clock for the validity check.
 * @returns the verifier.
 */
export function deviceVerifier(
  roots: string[],
  core: CryptoCore,
  now: () => Date = () => new Date(),
): DeviceVerifier {
  return {
    async verify(sn, certificate, input, signature) {
      let publicKey: RsaPublicKey;
      try {
        ({ publicKey } = await verifyChain(certificate, {
          roots,
          purpose: "pin-pad",
          subjectSerialNumber: sn,
          at: now(),
        }));
      } catch (e) {
        if (e instanceof CertificateError) {
          throw new AuthenticationError(
            "device_certificate_untrusted",
            `S3: the PIN pad's device certificate is refused (${e.code})`,
          );
        }
        throw e;
      }
      if (!(await pkcs1v15Verify(publicKey, input, signature, { core }))) {
        throw new AuthenticationError(
          "device_signature_invalid",
          "S3: the transport key is not signed by this PIN pad's device key",
        );
      }
    },
  };
}
