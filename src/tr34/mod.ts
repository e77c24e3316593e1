/**
 * TR-34 remote key loading (ASC X9 TR 34-2019): CMS (RFC 5652) SignedData
 * and EnvelopedData on pkijs/asn1js with the project's crypto core, the TR-34
 * key block, and the tokens of both sides: the key distribution host (KDH:
 * key tokens 1-pass and 2-pass, rebind and unbind tokens, its CA's CRL) and
 * the key receiving device (KRD: credential and random number tokens, and
 * the checks on everything the KDH sends). Every failed check is a
 * {@link Tr34Error} with its own `code`.
 *
 * @example
 * ```ts
 * import { createKeyToken, Krd, readRandomNumberToken, signerOf, TMK_POLICY } from "./mod.ts";
 * import type { RsaPrivateKey } from "../core/mod.ts";
 * declare const kdhCert: string, kdhKey: RsaPrivateKey, kmsCa: string;
 * declare const krdCert: string, krdKey: RsaPrivateKey;
 * const krd = new Krd({ certificate: krdCert, key: krdKey, kdhCas: [kmsCa], policy: TMK_POLICY });
 * const nonce = readRandomNumberToken(krd.randomNumberToken());
 * const token = await createKeyToken({ certificate: kdhCert, sign: signerOf(kdhKey) }, {
 *   krd: krdCert, header: "A0256K0TB00E0000", key: crypto.getRandomValues(new Uint8Array(16)), nonce,
 * });
 * const { header, key } = await krd.openKeyToken(token);
 * ```
 *
 * @module
 */
export { Tr34Error, type Tr34ErrorCode } from "./errors.ts";
export { ALG, ATTR, CONTENT_CIPHERS, type ContentCipher, CT, oidName } from "./oids.ts";
export type { CertId } from "./_der.ts";
export {
  buildSignedData,
  readSignedData,
  type SignedData,
  type SignerInfo,
  type SignFunction,
  verifySigner,
} from "./cms.ts";
export {
  envelope,
  type EnvelopedData,
  type KeyTransport,
  keyTransportOf,
  type OaepParams,
  type OpenedEnvelope,
  openEnvelope,
  readEnvelopedData,
} from "./enveloped.ts";
export {
  decodeKeyBlock,
  encodeKeyBlock,
  enforcePolicy,
  type KeyUsePolicy,
  readHeader,
  TMK_POLICY,
  type Tr34KeyBlock,
} from "./keyblock.ts";
export {
  type Certificate,
  checkKdhCertificate,
  checkKrdCertificate,
  type KdhCheck,
  readCertificate,
} from "./certs.ts";
export {
  buildCrl,
  type Crl,
  type CrlSpec,
  isRevoked,
  readCrl,
  type RevokedEntry,
  verifyCrl,
} from "./crl.ts";
export {
  buildCredentialToken,
  buildRandomNumberToken,
  MIN_NONCE_LENGTH,
  readCredentialToken,
  readRandomNumberToken,
  type TokenKind,
  tokenKind,
} from "./tokens.ts";
export {
  type BindingTokenRequest,
  createBindingToken,
  createKeyToken,
  type EnvelopedKeyTokenRequest,
  type Freshness,
  type KdhSigner,
  type KeyTokenRequest,
  signerOf,
  signKeyToken,
} from "./kdh.ts";
export {
  type BindingOptions,
  type BindingResult,
  DEFAULT_TIMESTAMP_WINDOW_MS,
  type FreshnessCheck,
  openBindingToken,
  type OpenedKeyToken,
  openKeyToken,
  type OpenKeyTokenOptions,
} from "./krd.ts";
export { Krd, type KrdConfig } from "./device.ts";
export { type ExplainedField, explainText, explainToken } from "./explain.ts";
