/**
 * What flow B's service (CN103714641A, {@link FlowBService} in
 * `flow_b_service.ts`) needs from the outside, as interfaces: the HSM's key
 * operations, the KMS CA that certifies Pu_hsm, and the check of a PIN
 * pad's device signature. Their implementations over `src/hsm` and
 * `src/pki` are `flow_b_keys.ts`, `ca_certifier.ts` and `device_verifier.ts`.
 *
 * @module
 */
/** An RSA public key, big-endian unsigned. */
export interface PublicKey {
  n: Uint8Array;
  e: Uint8Array;
}

/** The transport key as the KMS holds it. */
export interface HeldTransportKey {
  /** AUK as a key block under the LMK. */
  aukBlock: string;
  /** Pu_tek as parsed from its PEM. */
  puTek: PublicKey;
  /** Pu_tek as DER SubjectPublicKeyInfo. */
  puTekDer: Uint8Array;
}

/**
 * The HSM operations of flow B; clear keys never leave them (see
 * `flow_b_keys.ts` for the implementation over `src/hsm`).
 */
export interface FlowBKeyOps {
  /** S1: a new RSA-2048 pair; Pr_hsm comes back as a key block under the LMK. */
  generateHsmKeyPair(): Promise<{ publicKey: PublicKey; prHsmBlock: string }>;
  /**
   * S4: RSA-OAEP-SHA256 decryption of AUK with Pr_hsm into a key block
   * under the LMK; the HSM checks AUK's form and KCV.
   * @returns the block and the SHA-256 of AUK (hex), for the TK hash.
   * @throws {IntegrityError} `auk_undecryptable` (one error and message for every
   *   decryption or format fault), `kcv_mismatch`.
   */
  importAuk(
    prHsmBlock: string,
    encryptedAuk: Uint8Array,
    expectedKcv: string,
  ): Promise<{ aukBlock: string; aukDigest: Uint8Array }>;
  /** SHA-256 of the AUK inside a key block (the HSM's key hash), for the TK hash check at each use. */
  aukDigest(aukBlock: string): Promise<Uint8Array>;
  /** S5: TDES-ECB of one block under AUK. */
  aukCipher(aukBlock: string, mode: "encrypt" | "decrypt", block: Uint8Array): Promise<Uint8Array>;
  /** S6: a new TMK (double-length TDES, odd parity) under the LMK, with its KCV. */
  generateTmk(): Promise<{ tmkBlock: string; tmkKcv: string }>;
  /** S6: TMK under Pu_tek with RSA-OAEP-SHA256. */
  exportTmk(tmkBlock: string, puTek: PublicKey): Promise<Uint8Array>;
  /** SHA-256 of public data (Pu_tek, the TK hash input). */
  sha256(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Parses Pu_tek (SPKI PEM) and checks it is an RSA key of an allowed size.
   * @returns the key, its DER, size and canonical PEM.
   * @throws {ValidationError} `pu_tek_invalid`.
   */
  parsePuTek(pem: string): { key: PublicKey; der: Uint8Array; bits: number; pem: string };
}

/** The KMS CA that certifies each terminal's Pu_hsm. */
export interface HsmKeyCertifier {
  /**
   * Issues the `terminal-hsm` certificate of a Pu_hsm (subject serialNumber = SN).
   * @returns the certificate and the KMS CA certificate it chains through, PEM.
   */
  certify(
    sn: string,
    publicKey: PublicKey,
  ): Promise<{ certificate: string; caCertificate: string }>;
}

/** Checks the PIN pad's device signature on S3. */
export interface DeviceVerifier {
  /**
   * Verifies the device certificate (chain to the device roots, `pin-pad`
   * purpose, serialNumber = SN) and its signature over `input`.
   * @throws {AuthenticationError} `device_certificate_untrusted`, `device_signature_invalid`.
   */
  verify(sn: string, certificate: string, input: Uint8Array, signature: Uint8Array): Promise<void>;
}
