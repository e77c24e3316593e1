/**
 * The KMS CA as the certifier of Pu_hsm keys (CN103714641A S1): each
 * terminal's Pu_hsm gets a `terminal-hsm` certificate (RFC 5280, profile in
 * `src/pki`) signed by the HSM with the CA key block (RSASSA-PKCS1-v1_5
 * SHA-256, RFC 8017): by flow B's HSM, or by the key-pair pool's HSM
 * workers on its LMK (`KeyPairPool.rsaOps`).
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import type { Hsm } from "../../src/hsm/mod.ts";
import { issueCertificate } from "../../src/pki/mod.ts";
import type { HsmKeyCertifier } from "./flow_b_ports.ts";
import type { KmsCa } from "./kms_ca.ts";

/**
 * Options of {@link kmsCaCertifier}: a fixed CA (its key block and
 * certificate), or `source`, which gives the CA in force before each
 * certificate (`InstalledKmsCa.current`: a CA replaced in the database is
 * used from the next certificate on).
 */
export type KmsCaOptions = (KmsCa | { source: () => Promise<KmsCa> }) & KmsCaSigning;

/** How a Pu_hsm certificate is signed. */
export interface KmsCaSigning {
  /**
   * The HSM whose LMK protects the CA's key block; it signs each Pu_hsm
   * certificate (or the key-pair pool's workers on that LMK, `KeyPairPool.rsaOps`).
   */
  hsm: Pick<Hsm, "sign">;
  /** Validity of a Pu_hsm certificate in days (default 30: it is used once, in S3). */
  validityDays?: number;
  /** Clock (default: system clock). */
  now?: () => Date;
  core: CryptoCore;
}

/**
 * The KMS CA as the certifier of Pu_hsm keys: the HSM signs each certificate
 * (RSASSA-PKCS1-v1_5 SHA-256) with the CA key block.
 *
 * @param options the HSM, the CA (or its source), validity, clock, core.
 * @returns the certifier.
 */
export function kmsCaCertifier(options: KmsCaOptions): HsmKeyCertifier {
  const days = options.validityDays ?? 30;
  const now = options.now ?? (() => new Date());
  const { hsm } = options;
  const source = "source" in options ? options.source : () => Promise.resolve(options);
  return {
    async certify(sn, publicKey) {
      const { privateKeyBlock, certificate: caCertificate } = await source();
      const start = Math.floor(now().getTime() / 1000) * 1000 - 60_000;
      const certificate = await issueCertificate({
        profile: "terminal-hsm",
        subject: { commonName: `Pu_hsm ${sn}`, serialNumber: sn },
        publicKey,
        notBefore: new Date(start),
        notAfter: new Date(start + days * 86_400_000),
        issuer: { sign: (tbs) => hsm.sign(privateKeyBlock, tbs), certificate: caCertificate },
      }, { core: options.core });
      return { certificate, caCertificate };
    },
  };
}
