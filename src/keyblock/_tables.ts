/**
 * Constant tables of the TR-31 / ANSI X9.143 key block header, each named as
 * the standard names it and citing the table it comes from (ANSI X9.143:2021,
 * section 6.2 "Key Block Header", and ASC X9 TR-31:2018 Annex A, which
 * numbers the same tables differently). ISO 20038:2017 defines version E.
 *
 * Values only: the descriptions are ours, written from the standard's field
 * definitions.
 *
 * @module
 */

/**
 * Key block version IDs (X9.143:2021 6.2 table 1, byte 0; ISO 20038:2017 for
 * "E"). Each names the binding method and the cipher that protects the key.
 */
export const VERSIONS = {
  A: "Key Variant Binding Method, TDES (TR-31:2005; legacy)",
  B: "TDES Key Derivation Binding Method",
  C: "TDES Key Variant Binding Method",
  D: "AES Key Derivation Binding Method",
  E: "ISO 20038 AES key block (CMAC KDF, AES-CTR)",
} as const;

/** A key block version ID. */
export type KeyBlockVersion = keyof typeof VERSIONS;

/** Key usage (X9.143:2021 6.3.1 table 2; TR-31:2018 A.5.1 table 6). */
export const KEY_USAGES = {
  B0: "Base Derivation Key (BDK)",
  B1: "Initial DUKPT Key (IPEK / IK)",
  B2: "Base Key Variant Key (deprecated)",
  B3: "Key Derivation Key (non-X9.24)",
  C0: "Card Verification Key (CVK)",
  D0: "Symmetric key for data encryption",
  D1: "Asymmetric key for data encryption",
  D2: "Data encryption key for decimalization table",
  D3: "Data encryption key for sensitive data",
  E0: "EMV/chip issuer master key: application cryptograms",
  E1: "EMV/chip issuer master key: secure messaging for confidentiality",
  E2: "EMV/chip issuer master key: secure messaging for integrity",
  E3: "EMV/chip issuer master key: data authentication code",
  E4: "EMV/chip issuer master key: dynamic numbers",
  E5: "EMV/chip issuer master key: card personalization",
  E6: "EMV/chip issuer master key: other",
  E7: "EMV/chip asymmetric key pair for EMV/chip issuer master key",
  I0: "Initialization vector (IV)",
  K0: "Key encryption or wrapping",
  K1: "TR-31 key block protection key",
  K2: "TR-34 asymmetric key",
  K3: "Asymmetric key for key agreement / key wrapping",
  K4: "ISO 20038 key block protection key",
  M0: "ISO 16609 MAC algorithm 1 (using TDEA)",
  M1: "ISO 9797-1 MAC algorithm 1",
  M2: "ISO 9797-1 MAC algorithm 2",
  M3: "ISO 9797-1 MAC algorithm 3",
  M4: "ISO 9797-1 MAC algorithm 4",
  M5: "ISO 9797-1:1999 MAC algorithm 5",
  M6: "ISO 9797-1:2011 MAC algorithm 5 / CMAC",
  M7: "HMAC",
  M8: "ISO 9797-1:2011 MAC algorithm 6",
  P0: "PIN encryption",
  P1: "PIN generation key",
  S0: "Asymmetric key pair for digital signature",
  S1: "Asymmetric key pair, CA key",
  S2: "Asymmetric key pair, non-X9.24 key",
  V0: "PIN verification, KPV, other algorithm",
  V1: "PIN verification, IBM 3624",
  V2: "PIN verification, VISA PVV",
  V3: "PIN verification, X9.132 algorithm 1",
  V4: "PIN verification, X9.132 algorithm 2",
  V5: "PIN verification, X9.132 algorithm 3",
} as const;

/** A decimal digit, for the proprietary ranges of the tables. */
export type Digit = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9";

/**
 * A key usage: one of {@link KEY_USAGES}, or two digits ("00".."99", reserved
 * by X9.143 6.3.1 for proprietary use).
 */
export type KeyUsage = keyof typeof KEY_USAGES | `${Digit}${Digit}`;

/** Key algorithm (X9.143:2021 6.3.2 table 3; TR-31:2018 A.5.2 table 7). */
export const ALGORITHMS = {
  A: "AES",
  D: "DEA (single DES, legacy)",
  E: "Elliptic curve",
  H: "HMAC",
  R: "RSA",
  S: "DSA",
  T: "Triple DEA (TDES)",
} as const;

/** A key algorithm. */
export type KeyAlgorithm = keyof typeof ALGORITHMS;

/** Mode of use (X9.143:2021 6.3.3 table 4; TR-31:2018 A.5.3 table 8). */
export const MODES_OF_USE = {
  B: "Both encrypt and decrypt / wrap and unwrap",
  C: "Both generate and verify (MAC)",
  D: "Decrypt / unwrap only",
  E: "Encrypt / wrap only",
  G: "Generate only (MAC)",
  N: "No special restrictions (other than those of the key usage)",
  S: "Signature only",
  T: "Both sign and decrypt",
  V: "Verify only",
  X: "Key used to derive other keys",
  Y: "Key used to create key variants",
} as const;

/** A mode of use: one of {@link MODES_OF_USE}, or a digit (proprietary). */
export type ModeOfUse = keyof typeof MODES_OF_USE | Digit;

/** Exportability (X9.143:2021 6.3.5 table 6; TR-31:2018 A.5.5 table 10). */
export const EXPORTABILITY = {
  E: "Exportable under a KEK in a form meeting X9.24",
  N: "Non-exportable",
  S: "Sensitive: exportable under a KEK in a form not necessarily meeting X9.24",
} as const;

/** An exportability value. */
export type Exportability = keyof typeof EXPORTABILITY;

/**
 * Key context, header byte 14 (X9.143:2021 6.2 table 1; "reserved, 0" in
 * TR-31:2018, so "0" is what every older block carries). Byte 15 stays
 * reserved and must be "0".
 */
export const KEY_CONTEXTS = {
  "0": "Determined by the wrapping key",
  "1": "Storage context only",
  "2": "Key exchange context only",
} as const;

/** A key context value. */
export type KeyContext = keyof typeof KEY_CONTEXTS;

/**
 * Optional block IDs defined by X9.143:2021 6.3.6 table 7 (TR-31:2018 A.5.6
 * table 11). Other IDs are allowed (numeric IDs are proprietary); this table
 * documents the known ones.
 */
export const OPTIONAL_BLOCK_IDS = {
  AL: "Asymmetric key life",
  BI: "Base derivation key identifier",
  CT: "Public key certificate",
  DA: "Derivation(s) allowed",
  FL: "Flags",
  HM: "HMAC hash algorithm",
  IK: "Initial key identifier (AES DUKPT)",
  KC: "Key check value of the wrapped key",
  KP: "Key check value of the KBPK",
  KS: "Initial key serial number (TDES DUKPT)",
  KV: "Key block values (deprecated)",
  LB: "Label",
  PB: "Padding block",
  PK: "Protection key check value",
  TC: "Time of creation",
  TS: "Time stamp",
  WP: "Wrapping pedigree",
} as const;

/** Parameters of each version's binding method (X9.143:2021 section 7). */
export interface VersionParams {
  /** The cipher protecting the payload. */
  readonly cipher: "tdes" | "aes";
  /** Cipher block size in bytes; header and payload are aligned to it (not for CTR). */
  readonly blockSize: 8 | 16;
  /** MAC length in bytes in the key block. */
  readonly macLength: 4 | 8 | 16;
  /** KBPK lengths allowed, in bytes. */
  readonly kbpkLengths: readonly number[];
  /** Whether the payload is padded to whole cipher blocks (false for CTR, version E). */
  readonly blockAligned: boolean;
}

/**
 * Per version: A and C use the variant method with TDES CBC and a 4-byte
 * TDES CBC-MAC (X9.143:2021 7.1; TR-31:2018 A.7.2.1 and A.7.3.1); B the TDES
 * CMAC key derivation with an 8-byte CMAC (X9.143:2021 7.2.1); D the AES CMAC
 * key derivation with a 16-byte CMAC (X9.143:2021 7.2.2); E (ISO 20038:2017
 * 6.3) the AES CMAC derivation with AES-CTR and a 16-byte CMAC.
 */
export const VERSION_PARAMS: Readonly<Record<KeyBlockVersion, VersionParams>> = {
  A: { cipher: "tdes", blockSize: 8, macLength: 4, kbpkLengths: [16, 24], blockAligned: true },
  B: { cipher: "tdes", blockSize: 8, macLength: 8, kbpkLengths: [16, 24], blockAligned: true },
  C: { cipher: "tdes", blockSize: 8, macLength: 4, kbpkLengths: [16, 24], blockAligned: true },
  D: { cipher: "aes", blockSize: 16, macLength: 16, kbpkLengths: [16, 24, 32], blockAligned: true },
  E: {
    cipher: "aes",
    blockSize: 16,
    macLength: 16,
    kbpkLengths: [16, 24, 32],
    blockAligned: false,
  },
};

/**
 * Key lengths in bytes a wrap accepts per key algorithm, and the longest,
 * which key-length obfuscation pads to (X9.143:2021 6.4: the key field is
 * padded to the maximum key length of the algorithm). `null` for algorithms
 * with no fixed set (RSA, EC, DSA, HMAC keys: any length, not padded by
 * default).
 */
export const KEY_LENGTHS: Readonly<Record<KeyAlgorithm, readonly number[] | null>> = {
  A: [16, 24, 32],
  D: [8],
  E: null,
  H: null,
  R: null,
  S: null,
  T: [8, 16, 24],
};

/** Variant constants of the Key Variant Binding Method (X9.143:2021 7.1). */
export const VARIANT_KBEK = 0x45;
/** Variant constant for the KBAK (X9.143:2021 7.1). */
export const VARIANT_KBAK = 0x4d;

/**
 * Key derivation input fields (X9.143:2021 7.2.1.1 table 24 for TDES, 7.2.2.1
 * table 25 for AES; ISO 20038:2017 6.3 for the CTR usage): "key usage
 * indicator" values.
 */
export const KDF_USAGE = {
  /** KBEK for CBC encryption (versions B, D). */
  encryptCbc: 0x0000,
  /** KBAK for MAC (versions B, D, E). */
  mac: 0x0001,
  /** KBEK for CTR encryption (version E). */
  encryptCtr: 0x0002,
} as const;

/** KDF "algorithm" indicator by KBPK cipher and length (tables 24 and 25). */
export const KDF_ALGORITHM: Readonly<Record<string, number>> = {
  "tdes16": 0x0000, // 2-key TDEA
  "tdes24": 0x0001, // 3-key TDEA
  "aes16": 0x0002, // AES-128
  "aes24": 0x0003, // AES-192
  "aes32": 0x0004, // AES-256
};
