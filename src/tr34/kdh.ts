/**
 * The key distribution host (KDH) side of TR-34 (ASC X9 TR 34-2019 sections
 * 5.4 and 5.5, annex B.8 to B.11, B.14): build key tokens (2-pass with the
 * KRD's random number, 1-pass with a signing time), rebind and unbind tokens.
 *
 * The KDH never needs its private key in memory here: it passes a
 * {@link SignFunction} (for the KMS, the HSM signing with the KDH key held
 * as a key block under its LMK). {@link signerOf} makes one from a key in
 * memory (tests, the CLI).
 *
 * @example
 * ```ts
 * import { createKeyToken, signerOf } from "./mod.ts";
 * import type { RsaPrivateKey } from "../core/mod.ts";
 * declare const kdhCert: string, kdhKey: RsaPrivateKey, krdCert: string, nonce: Uint8Array;
 * const tmk = crypto.getRandomValues(new Uint8Array(16));
 * const token = await createKeyToken(
 *   { certificate: kdhCert, sign: signerOf(kdhKey) },
 *   { krd: krdCert, header: "A0256K0TB00E0000", key: tmk, nonce },
 * );
 * ```
 *
 * @module
 */
import * as asn1js from "asn1js";
import { type CryptoCore, loadCore, type RsaPrivateKey } from "../core/mod.ts";
import { pkcs1v15Sign, zeroize } from "../crypto/mod.ts";
import { attrEl, der, type El, octets } from "./_der.ts";
import { checkKrdCertificate, readCertificate } from "./certs.ts";
import { buildSignedData, buildSignedDataBody, type SignFunction } from "./cms.ts";
import { envelope, readEnvelopedData } from "./enveloped.ts";
import { encodeKeyBlock, readHeader } from "./keyblock.ts";
import { ATTR, CONTENT_CIPHERS, type ContentCipher, CT } from "./oids.ts";
import { bindingContent, MIN_NONCE_LENGTH } from "./tokens.ts";

/** Who signs: the KDH (or, for CA binding tokens, the CA) certificate and a signing function. */
export interface KdhSigner {
  /** The signer's certificate (PEM or DER). */
  certificate: string | Uint8Array;
  /** RSASSA-PKCS1-v1_5 / SHA-256 signature of the given bytes by the certificate's key. */
  sign: SignFunction;
}

/** A {@link SignFunction} over a private key in memory, on `core` (default core if absent). */
export function signerOf(privateKey: RsaPrivateKey, core?: CryptoCore): SignFunction {
  return async (m) => pkcs1v15Sign(privateKey, m, { core: core ?? await loadCore() });
}

/** Freshness of a token: the KRD's random number (2-pass) or a signing time (1-pass). */
export interface Freshness {
  /** The random number from the KRD's random number token (2-pass). */
  nonce?: Uint8Array;
  /** The signing time (1-pass). Exactly one of `nonce`, `timestamp`. */
  timestamp?: Date;
}

/** What goes into a key token. */
export interface KeyTokenRequest extends Freshness {
  /** The KRD's certificate (PEM or DER), e.g. from its credential token. */
  krd: string | Uint8Array;
  /** The TR-31 key block header of the key, e.g. `A0256K0TB00E0000`. */
  header: string;
  /** The key to load; not kept. */
  key: Uint8Array;
  /** Content cipher of the EnvelopedData (default `aes256`; `tdes` for TDES-only KRDs). */
  cipher?: ContentCipher;
  /** The KDH CA's CRL (DER) to carry to the KRD. */
  crl?: Uint8Array;
  /** Also carry the KDH certificate in the token's certificates field. */
  includeCertificate?: boolean;
  /** CA certificates that must have issued the KRD certificate (checked when given). */
  krdCas?: (string | Uint8Array)[];
  /** Time to check the KRD certificate's validity at (default now). */
  at?: Date;
  /** The crypto core (default `await loadCore()`). */
  core?: CryptoCore;
}

function freshnessAttr(f: Freshness): El {
  const { nonce, timestamp } = f;
  if ((nonce === undefined) === (timestamp === undefined)) {
    throw new TypeError("give exactly one of nonce (2-pass) and timestamp (1-pass)");
  }
  if (nonce !== undefined) {
    if (!(nonce instanceof Uint8Array)) throw new TypeError("nonce must be a Uint8Array");
    if (nonce.length < MIN_NONCE_LENGTH) {
      throw new RangeError(`nonce must be at least ${MIN_NONCE_LENGTH} bytes, got ${nonce.length}`);
    }
    return attrEl(ATTR.randomNonce, [octets(nonce)]);
  }
  if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime())) {
    throw new TypeError("timestamp must be a valid Date");
  }
  const y = timestamp.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new RangeError(`timestamp must be in 1950..2049, got ${y}`);
  return attrEl(ATTR.signingTime, [new asn1js.UTCTime({ valueDate: timestamp })]);
}

/**
 * Builds a key token KT_KDH (B.8 1-pass, B.9 2-pass): the key and its header
 * in a TR-34 key block, enveloped to the KRD (RSAES-OAEP, TDES- or AES-CBC),
 * signed by the KDH with the header and the freshness as signed attributes.
 *
 * @throws {TypeError} for a missing or wrong argument.
 * @throws {RangeError} for a short nonce or a timestamp UTCTime cannot hold.
 * @throws {Tr34Error} `malformed` for a bad header or certificate,
 *   `header_forbidden` for a key length the header's algorithm lacks,
 *   `krd_untrusted` for a KRD certificate that fails its checks.
 */
export async function createKeyToken(kdh: KdhSigner, req: KeyTokenRequest): Promise<Uint8Array> {
  const core = req.core ?? await loadCore();
  if (!(req.key instanceof Uint8Array)) throw new TypeError("key must be a Uint8Array");
  if (typeof req.header !== "string") throw new TypeError("header must be a string");
  const cipher = req.cipher ?? "aes256";
  if (!Object.hasOwn(CONTENT_CIPHERS, cipher)) {
    throw new RangeError(`cipher must be tdes, aes128, aes192 or aes256, got ${cipher}`);
  }
  freshnessAttr(req); // checked before any work
  const signer = readCertificate(kdh.certificate, "KDH certificate");
  const krd = readCertificate(req.krd, "KRD certificate");
  const cas = req.krdCas?.map((c, i) => readCertificate(c, `krdCas[${i}]`));
  await checkKrdCertificate(krd, cas, req.at ?? new Date(), core);
  readHeader(req.header, req.key);
  const block = encodeKeyBlock(signer.id, req.key, req.header);
  try {
    const env = await envelope(
      { recipient: krd.id, publicKey: krd.publicKey, content: block, cipher },
      core,
    );
    const { nonce, timestamp, crl, includeCertificate, header } = req;
    return await signKeyToken(kdh, {
      envelopedData: env,
      header,
      nonce,
      timestamp,
      crl,
      includeCertificate,
      core,
    });
  } finally {
    zeroize(block);
  }
}

/** A key token whose EnvelopedData was made elsewhere: by an HSM holding the key. */
export interface EnvelopedKeyTokenRequest extends Freshness {
  /** The EnvelopedData (DER) of the TR-34 key block, to the KRD. */
  envelopedData: Uint8Array;
  /** The TR-31 header inside the key block, signed as an attribute. */
  header: string;
  /** The KDH CA's CRL (DER) to carry to the KRD. */
  crl?: Uint8Array;
  /** Also carry the KDH certificate in the token's certificates field. */
  includeCertificate?: boolean;
  core?: CryptoCore;
}

/**
 * Signs a key token KT_KDH (B.8 1-pass, B.9 2-pass) around an EnvelopedData
 * the caller already has (the KMS: its HSM made it, `Hsm.exportKeyTr34`), with
 * the header and the freshness as signed attributes. No key passes here.
 *
 * @throws {TypeError} for a missing argument; {@link RangeError} for a short nonce.
 * @throws {Tr34Error} `malformed` for a bad KDH certificate or EnvelopedData.
 */
export async function signKeyToken(
  kdh: KdhSigner,
  req: EnvelopedKeyTokenRequest,
): Promise<Uint8Array> {
  const core = req.core ?? await loadCore();
  if (!(req.envelopedData instanceof Uint8Array)) {
    throw new TypeError("envelopedData must be a Uint8Array");
  }
  if (typeof req.header !== "string") throw new TypeError("header must be a string");
  const freshness = freshnessAttr(req);
  const signer = readCertificate(kdh.certificate, "KDH certificate");
  readEnvelopedData(req.envelopedData);
  return await buildSignedData({
    eContentType: CT.envelopedData,
    eContent: req.envelopedData,
    certificates: req.includeCertificate ? [signer.der] : undefined,
    crls: req.crl ? [req.crl] : undefined,
    signer: {
      id: signer.id,
      sign: kdh.sign,
      attributes: [
        freshness,
        attrEl(ATTR.keyBlockHeader, [octets(new TextEncoder().encode(req.header))]),
      ],
    },
  }, core);
}

/** What goes into a rebind or unbind token. */
export interface BindingTokenRequest extends Freshness {
  /** `rebind` (B.10, B.11) binds the KRD to `newKdh`; `unbind` (B.13, B.14) unbinds it. */
  kind: "rebind" | "unbind";
  /** The KRD's certificate. */
  krd: string | Uint8Array;
  /**
   * When a CA (higher level authority) signs instead of the current KDH: the
   * current KDH's certificate, named beside the KRD in the content (B.10, B.13).
   */
  kdh?: string | Uint8Array;
  /** For `rebind`: the new KDH's certificate. */
  newKdh?: string | Uint8Array;
  /** The KDH CA's CRL (DER). */
  crl?: Uint8Array;
  core?: CryptoCore;
}

/**
 * Builds a rebind token (RBT_KDH, RBT_CA_UNBIND) or an unbind token (UBT_KDH,
 * UBT_CA_UNBIND), signed by `signer` (the current KDH, or the CA when `kdh` is
 * given) with the freshness as a signed attribute. A rebind token's content
 * is a SignedData SEQUENCE with no signer holding the new KDH certificate.
 */
export async function createBindingToken(
  signer: KdhSigner,
  req: BindingTokenRequest,
): Promise<Uint8Array> {
  const core = req.core ?? await loadCore();
  const freshness = freshnessAttr(req);
  const me = readCertificate(signer.certificate, "signer certificate");
  const krd = readCertificate(req.krd, "KRD certificate");
  const kdh = req.kdh === undefined ? undefined : readCertificate(req.kdh, "KDH certificate");
  const ids = bindingContent(krd.id, kdh?.id);
  let eContentType: string = CT.data;
  let eContent = ids;
  if (req.kind === "rebind") {
    if (req.newKdh === undefined) throw new TypeError("a rebind token needs newKdh");
    const next = readCertificate(req.newKdh, "new KDH certificate");
    eContentType = CT.signedData;
    eContent = der(
      await buildSignedDataBody(
        { eContentType: CT.data, eContent: ids, certificates: [next.der] },
        core,
      ),
    );
  } else if (req.kind !== "unbind") {
    throw new RangeError(`kind must be rebind or unbind, got ${req.kind}`);
  }
  return await buildSignedData({
    eContentType,
    eContent,
    crls: req.crl ? [req.crl] : undefined,
    signer: { id: me.id, sign: signer.sign, attributes: [freshness] },
  }, core);
}
