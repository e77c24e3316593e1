/**
 * Flow B's device check on S1, S3 and S5 (beyond CN103714641A, which has no
 * credential for the PIN pad): the PIN pad's `pin-pad` certificate must
 * chain to the device roots the KMS trusts and not be revoked by the CRLs
 * in force (RFC 5280), and its key must have signed the request
 * (RSASSA-PKCS1-v1_5 SHA-256, RFC 8017).
 *
 * A PIN pad presents the same certificate at S1, S3 and S5: a chain that
 * verified is remembered (at most {@link CHAIN_CACHE_SIZE} certificates) for
 * {@link CHAIN_CACHE_MS} of the clock, while every certificate of its path
 * is within its validity and the CRLs in force are the same set; the
 * signature over each request is checked every time.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { pkcs1v15Verify, type RsaPublicKey } from "../../src/crypto/mod.ts";
import { CertificateError, type CrlSet, verifyChain } from "../../src/pki/mod.ts";
import { AuthenticationError } from "../../src/protocol/mod.ts";
import type { DeviceVerifier } from "./flow_b_ports.ts";

/** How many verified device certificates are remembered. */
export const CHAIN_CACHE_SIZE = 4096;
/** How long (ms of the verifier's clock) a verified chain is remembered. */
export const CHAIN_CACHE_MS = 60_000;

interface Verified {
  publicKey: RsaPublicKey;
  /** The latest notBefore and earliest notAfter of the path, and the cache's own end (ms). */
  from: number;
  until: number;
  crls: CrlSet | undefined;
}

/**
 * The device verifier: `pin-pad` certificates chained to `roots`, RSASSA-PKCS1-v1_5 SHA-256.
 *
 * @param roots the device roots (PEM) the KMS trusts.
 * @param core the crypto core.
 * @param now clock for the validity check.
 * @param crls the CRLs in force (`CrlFile.current`), read at each check; none: no revocation check.
 * @returns the verifier.
 */
export function deviceVerifier(
  roots: string[],
  core: CryptoCore,
  now: () => Date = () => new Date(),
  crls?: () => CrlSet,
): DeviceVerifier {
  const cache = new Map<string, Verified>();
  /** The chain's public key: remembered, or verified now (and remembered). */
  const chain = async (sn: string, certificate: string): Promise<RsaPublicKey> => {
    const at = now();
    const t = at.getTime();
    const set = crls?.();
    const key = `${sn}\n${certificate}`;
    const hit = cache.get(key);
    if (hit && hit.crls === set && hit.from <= t && t <= hit.until) return hit.publicKey;
    cache.delete(key);
    const r = await verifyChain(certificate, {
      roots,
      purpose: "pin-pad",
      subjectSerialNumber: sn,
      at,
      crls: set,
    });
    if (cache.size >= CHAIN_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, {
      publicKey: r.publicKey,
      from: Math.max(...r.path.map((c) => c.notBefore.getTime())),
      until: Math.min(t + CHAIN_CACHE_MS, ...r.path.map((c) => c.notAfter.getTime())),
      crls: set,
    });
    return r.publicKey;
  };
  return {
    async verify(sn, certificate, input, signature) {
      let publicKey: RsaPublicKey;
      try {
        publicKey = await chain(sn, certificate);
      } catch (e) {
        if (e instanceof CertificateError) {
          throw new AuthenticationError(
            "device_certificate_untrusted",
            `the PIN pad's device certificate is refused (${e.code})`,
          );
        }
        throw e;
      }
      if (!(await pkcs1v15Verify(publicKey, input, signature, { core }))) {
        throw new AuthenticationError(
          "device_signature_invalid",
          "the request is not signed by this PIN pad's device key",
        );
      }
    },
  };
}
