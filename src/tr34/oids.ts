/**
 * The object identifiers of TR-34 tokens (ASC X9 TR 34-2019 annex B) with
 * their defining documents: CMS content types and attributes (RFC 5652,
 * PKCS #9 / RFC 2985), RSA schemes (RFC 8017, RFC 4055), hashes and content
 * ciphers (RFC 3370, RFC 3565, NIST CSOR).
 *
 * @module
 */

/** Content types (RFC 5652 sections 4, 5, 6). */
export const CT = {
  /** id-data: also the key block header attribute type in TR-34. */
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  envelopedData: "1.2.840.113549.1.7.3",
} as const;

/** Attribute types. */
export const ATTR = {
  /** id-contentType (RFC 5652 11.1). */
  contentType: "1.2.840.113549.1.9.3",
  /** id-messageDigest (RFC 5652 11.2). */
  messageDigest: "1.2.840.113549.1.9.4",
  /** id-signingTime (RFC 5652 11.3): the 1-pass timestamp. */
  signingTime: "1.2.840.113549.1.9.5",
  /** id-randomNonce (PKCS #9, RFC 2985 5.6): the KRD random number. */
  randomNonce: "1.2.840.113549.1.9.25.3",
  /** TR-34 carries the TR-31 key block header as an id-data attribute. */
  keyBlockHeader: "1.2.840.113549.1.7.1",
} as const;

/** Algorithms. */
export const ALG = {
  sha256: "2.16.840.1.101.3.4.2.1",
  sha1: "1.3.14.3.2.26",
  /** rsaEncryption, the signatureAlgorithm of the TR-34 samples (RFC 3370 3.2). */
  rsaEncryption: "1.2.840.113549.1.1.1",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  /** id-RSAES-OAEP (RFC 8017 A.2.1). */
  rsaesOaep: "1.2.840.113549.1.1.7",
  mgf1: "1.2.840.113549.1.1.8",
  pSpecified: "1.2.840.113549.1.1.9",
  /** des-ede3-cbc (RFC 3370 5.1). */
  tdesCbc: "1.2.840.113549.3.7",
  /** AES-CBC (RFC 3565 4.1). */
  aes128Cbc: "2.16.840.1.101.3.4.1.2",
  aes192Cbc: "2.16.840.1.101.3.4.1.22",
  aes256Cbc: "2.16.840.1.101.3.4.1.42",
} as const;

/** Content ciphers for the EnvelopedData of a key token. */
export type ContentCipher = "tdes" | "aes128" | "aes192" | "aes256";

/** Each content cipher's OID, key length and block (= IV) length. */
export const CONTENT_CIPHERS: Readonly<
  Record<ContentCipher, { oid: string; keyLength: number; block: number }>
> = {
  tdes: { oid: ALG.tdesCbc, keyLength: 24, block: 8 },
  aes128: { oid: ALG.aes128Cbc, keyLength: 16, block: 16 },
  aes192: { oid: ALG.aes192Cbc, keyLength: 24, block: 16 },
  aes256: { oid: ALG.aes256Cbc, keyLength: 32, block: 16 },
};

/** The content cipher of an OID, if it is one. */
export function contentCipherOf(oid: string): ContentCipher | undefined {
  return (Object.keys(CONTENT_CIPHERS) as ContentCipher[]).find((c) =>
    CONTENT_CIPHERS[c].oid === oid
  );
}

const NAMES: Record<string, string> = {
  [CT.data]: "id-data",
  [CT.signedData]: "id-signedData",
  [CT.envelopedData]: "id-envelopedData",
  [ATTR.contentType]: "id-contentType",
  [ATTR.messageDigest]: "id-messageDigest",
  [ATTR.signingTime]: "id-signingTime",
  [ATTR.randomNonce]: "id-randomNonce",
  [ALG.sha256]: "id-sha256",
  [ALG.sha1]: "id-sha1",
  [ALG.rsaEncryption]: "rsaEncryption",
  [ALG.sha256WithRsa]: "sha256WithRSAEncryption",
  [ALG.rsaesOaep]: "id-RSAES-OAEP",
  [ALG.mgf1]: "id-mgf1",
  [ALG.pSpecified]: "id-pSpecified",
  [ALG.tdesCbc]: "des-ede3-cbc",
  [ALG.aes128Cbc]: "aes128-CBC",
  [ALG.aes192Cbc]: "aes192-CBC",
  [ALG.aes256Cbc]: "aes256-CBC",
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.5": "serialNumber",
};

/** `name (oid)` for a known OID, the dotted OID otherwise. */
export function oidName(oid: string): string {
  const n = NAMES[oid];
  return n ? `${n} (${oid})` : oid;
}
