/**
 * The certificate profiles of this system (RFC 5280 section 4.2 extensions):
 * what each kind of certificate may do, stated once and used both to issue and
 * to verify.
 *
 * Hierarchy (our decision, docs/ARCHITECTURE.md "Flow B" goes beyond the patent here):
 * one root CA (OpRCRT of CN103714639A, written into every POS and PIN pad at
 * flashing) issues the operator cards (OpWCRT), the MTMS transport key, the KMS
 * server and the KMS CA; the KMS CA, an intermediate CA with pathLenConstraint 0,
 * issues the per-terminal `Pu_hsm` certificates of CN103714641A. For TR-34 (ASC
 * X9 TR 34-2019) the root also issues the KMS's KDH certificate and each PIN
 * pad's KRD certificate (subject serialNumber = SN). One root keeps
 * one trust anchor per device. A certificate cannot stand in for another kind
 * (an MTMS transport certificate for a `Pu_hsm` one, both keyEncipherment)
 * because every end-entity certificate names its purpose in extKeyUsage and
 * verification requires the purpose the caller expects.
 *
 * @module
 */

/** The kinds of certificate this CA issues. */
export type CertificateProfile =
  | "root-ca"
  | "kms-ca"
  | "operator-card"
  | "mtms-transport"
  | "kms-server"
  | "mtms-client"
  | "terminal-hsm"
  | "pin-pad"
  | "tr34-kdh"
  | "tr34-krd";

/** The end-entity kinds: the purposes a chain can be verified for. */
export type CertificatePurpose = Exclude<CertificateProfile, "root-ca" | "kms-ca">;

// deno-fmt-ignore
/** keyUsage bits (RFC 5280 section 4.2.1.3), by name, with their bit number. */
export const KEY_USAGE_BITS = {
  digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3,
  keyAgreement: 4, keyCertSign: 5, cRLSign: 6, encipherOnly: 7, decipherOnly: 8,
} as const;

/** A keyUsage bit name. */
export type KeyUsage = keyof typeof KEY_USAGE_BITS;

/**
 * This project's OID arc: a UUID-derived OID (ITU-T X.667, arc 2.25), which
 * needs no registration. Sub-arc 1 holds the extKeyUsage purposes below.
 */
export const PROJECT_OID_ARC = "2.25.221924170463554179671283123399974609328";

/** extKeyUsage purpose OIDs (RFC 5280 section 4.2.1.12). */
export const EXT_KEY_USAGE = {
  /** id-kp-serverAuth (RFC 5280): the KMS server. */
  serverAuth: "1.3.6.1.5.5.7.3.1",
  /** id-kp-clientAuth (RFC 5280): the MTMS as a TLS client of the KMS. */
  clientAuth: "1.3.6.1.5.5.7.3.2",
  /** Operator card (OpWCRT): signs Rnd || TimeOne in flow A. */
  operatorCard: `${PROJECT_OID_ARC}.1.1`,
  /** MTMS transport key: TK is RSA-OAEP encrypted under it in flow A. */
  mtmsTransport: `${PROJECT_OID_ARC}.1.2`,
  /** Per-terminal HSM key `Pu_hsm`: AUK is RSA-OAEP encrypted under it in flow B. */
  terminalHsm: `${PROJECT_OID_ARC}.1.3`,
  /** PIN pad device key (made at manufacture): signs its flow B transport key (S3). */
  pinPad: `${PROJECT_OID_ARC}.1.4`,
  /** TR-34 key distribution host (the KMS): signs key tokens (ASC X9 TR 34-2019). */
  tr34Kdh: `${PROJECT_OID_ARC}.1.5`,
  /** TR-34 key receiving device (a PIN pad): key tokens are enveloped to its key. */
  tr34Krd: `${PROJECT_OID_ARC}.1.6`,
} as const;

/** What one profile puts into a certificate. */
export interface ProfileSpec {
  /** basicConstraints cA. */
  readonly ca: boolean;
  /** basicConstraints pathLenConstraint, CAs only. */
  readonly pathLength?: number;
  /** keyUsage bits (the extension is always present and critical). */
  readonly keyUsage: readonly KeyUsage[];
  /** extKeyUsage OIDs (end entities only). */
  readonly extKeyUsage?: readonly string[];
  /** Self-signed (the root) or issued by a CA certificate. */
  readonly selfSigned: boolean;
  /** The subject must carry a serialNumber attribute (the terminal SN). */
  readonly subjectSerialNumber: boolean;
}

/** A CA profile: signs certificates and CRLs, below it at most `pathLength` CAs. */
function caProfile(pathLength: number, selfSigned: boolean): ProfileSpec {
  return {
    ca: true,
    pathLength,
    keyUsage: ["keyCertSign", "cRLSign"],
    selfSigned,
    subjectSerialNumber: false,
  };
}

/** An end-entity profile issued by a CA, for one extended key usage. */
function endEntity(
  keyUsage: readonly KeyUsage[],
  extKeyUsage: string,
  subjectSerialNumber = false,
): ProfileSpec {
  return {
    ca: false,
    keyUsage,
    extKeyUsage: [extKeyUsage],
    selfSigned: false,
    subjectSerialNumber,
  };
}

/** The profiles. */
export const PROFILES: Readonly<Record<CertificateProfile, ProfileSpec>> = {
  "root-ca": caProfile(1, true),
  "kms-ca": caProfile(0, false),
  "operator-card": endEntity(["digitalSignature"], EXT_KEY_USAGE.operatorCard),
  "mtms-transport": endEntity(["keyEncipherment"], EXT_KEY_USAGE.mtmsTransport),
  "kms-server": endEntity(["digitalSignature", "keyEncipherment"], EXT_KEY_USAGE.serverAuth),
  "mtms-client": endEntity(["digitalSignature"], EXT_KEY_USAGE.clientAuth),
  "terminal-hsm": endEntity(["keyEncipherment"], EXT_KEY_USAGE.terminalHsm, true),
  "pin-pad": endEntity(["digitalSignature"], EXT_KEY_USAGE.pinPad, true),
  "tr34-kdh": endEntity(["digitalSignature"], EXT_KEY_USAGE.tr34Kdh),
  "tr34-krd": endEntity(["keyEncipherment"], EXT_KEY_USAGE.tr34Krd, true),
};
