/**
 * CMS EnvelopedData (RFC 5652 section 6) as TR-34 uses it: one
 * KeyTransRecipientInfo with RSAES-OAEP key transport (RFC 8017 7.1, RFC 4055
 * section 4 parameters: SHA-256, MGF1 with SHA-256, empty label), and the
 * content encrypted with TDES-CBC (RFC 3370 5.1) or AES-CBC (RFC 3565)
 * under a fresh content-encryption key, PKCS #7 padded (RFC 5652 6.3).
 * RSA runs on the project's crypto core, TDES and AES on the core.
 *
 * @module
 */
import * as asn1js from "asn1js";
import type { CryptoCore, RsaPrivateKey, RsaPublicKey } from "../core/mod.ts";
import {
  oaepDecrypt,
  oaepEncrypt,
  randomBytes,
  type RsaHash,
  setOddParity,
  zeroize,
} from "../crypto/mod.ts";
import {
  algId,
  type CertId,
  certIdEl,
  children,
  der,
  type El,
  isCtx,
  malformed,
  octets,
  octetsOf,
  oid,
  oidOf,
  parseOne,
  readCertId,
  sameId,
  versionOf,
} from "./_der.ts";
import { Tr34Error } from "./errors.ts";
import { ALG, CONTENT_CIPHERS, type ContentCipher, contentCipherOf, CT, oidName } from "./oids.ts";

/** The RSAES-OAEP parameters of a recipient. */
export interface OaepParams {
  hash: RsaHash;
  label: Uint8Array;
}

/**
 * Undoes the key transport: RSAES-OAEP decryption of `encryptedKey` by the
 * recipient's private key, wherever it is held.
 */
export type KeyTransport = (encryptedKey: Uint8Array, params: OaepParams) => Promise<Uint8Array>;

/** A {@link KeyTransport} over a private key held in memory, on `core`. */
export function keyTransportOf(privateKey: RsaPrivateKey, core: CryptoCore): KeyTransport {
  return (c, p) => oaepDecrypt(privateKey, c, { hash: p.hash, label: p.label, core });
}

/** What {@link envelope} encrypts and for whom. */
export interface EnvelopeSpec {
  /** The recipient's IssuerAndSerialNumber. */
  recipient: CertId;
  /** The recipient's RSA public key. */
  publicKey: RsaPublicKey;
  /** The content (a TR-34 key block). */
  content: Uint8Array;
  /** The content cipher. */
  cipher: ContentCipher;
}

const HASH_OID: Record<RsaHash, string> = { "SHA-256": ALG.sha256, "SHA-1": ALG.sha1 };

function oaepParamsEl(): El {
  const tagged = (n: number, inner: El) =>
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: n }, value: [inner] });
  return new asn1js.Sequence({
    value: [
      tagged(0, algId(ALG.sha256, null)),
      tagged(1, algId(ALG.mgf1, algId(ALG.sha256))),
      tagged(2, algId(ALG.pSpecified, octets(new Uint8Array(0)))),
    ],
  });
}

function padPkcs7(data: Uint8Array, block: number): Uint8Array {
  const n = block - (data.length % block);
  const out = new Uint8Array(data.length + n).fill(n);
  out.set(data);
  return out;
}

function unpadPkcs7(data: Uint8Array, block: number): Uint8Array {
  const n = data.length === 0 ? 0 : data[data.length - 1];
  let bad = n === 0 || n > block ? 1 : 0;
  for (let i = 0; i < block && i < data.length; i++) {
    const inPad = i < n ? 1 : 0;
    bad |= inPad & (data[data.length - 1 - i] !== n ? 1 : 0);
  }
  if (bad) throw new Tr34Error("decrypt_failed", "the decrypted content's padding is not valid");
  return data.slice(0, data.length - n);
}

function cbc(
  core: CryptoCore,
  cipher: ContentCipher,
  encrypt: boolean,
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  if (cipher === "tdes") {
    return encrypt ? core.tdesEncryptCbc(key, iv, data) : core.tdesDecryptCbc(key, iv, data);
  }
  return encrypt ? core.aesEncryptCbc(key, iv, data) : core.aesDecryptCbc(key, iv, data);
}

/**
 * Builds an EnvelopedData SEQUENCE (DER) with a fresh content-encryption key
 * and IV. The key is zeroed before return.
 */
export async function envelope(spec: EnvelopeSpec, core: CryptoCore): Promise<Uint8Array> {
  const c = CONTENT_CIPHERS[spec.cipher];
  if (!c) throw new RangeError(`cipher must be tdes, aes128, aes192 or aes256, got ${spec.cipher}`);
  const cek = randomBytes(c.keyLength);
  if (spec.cipher === "tdes") setOddParity(cek);
  const iv = randomBytes(c.block);
  const padded = padPkcs7(spec.content, c.block);
  try {
    const encryptedContent = cbc(core, spec.cipher, true, cek, iv, padded);
    const encryptedKey = await oaepEncrypt(spec.publicKey, cek, { hash: "SHA-256", core });
    const ktri = new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 0 }),
        certIdEl(spec.recipient),
        algId(ALG.rsaesOaep, oaepParamsEl()),
        octets(encryptedKey),
      ],
    });
    const eci = new asn1js.Sequence({
      value: [
        oid(CT.data),
        algId(c.oid, octets(iv)),
        new asn1js.Primitive({
          idBlock: { tagClass: 3, tagNumber: 0 },
          valueHex: new Uint8Array(encryptedContent),
        }),
      ],
    });
    return der(
      new asn1js.Sequence({
        value: [new asn1js.Integer({ value: 0 }), new asn1js.Set({ value: [ktri] }), eci],
      }),
    );
  } finally {
    zeroize(cek);
    zeroize(padded);
  }
}

/** Reads RSAES-OAEP-params (RFC 8017 A.2.1), SHA-1 defaults included. */
export function readOaepParams(el: El | undefined): OaepParams {
  const bad = (what: string) =>
    new Tr34Error("unsupported_algorithm", `RSAES-OAEP ${what} is not supported`);
  const hashOf = (o: string): RsaHash => {
    const h = (Object.keys(HASH_OID) as RsaHash[]).find((k) => HASH_OID[k] === o);
    if (!h) throw bad(`hash ${oidName(o)}`);
    return h;
  };
  let hash: RsaHash = "SHA-1";
  let mgfHash: RsaHash = "SHA-1";
  let label: Uint8Array = new Uint8Array(0);
  const fields = el === undefined || el instanceof asn1js.Null
    ? []
    : children(el, "RSAES-OAEP-params");
  for (const f of fields) {
    const inner = children(f, "RSAES-OAEP-params field", -1)[0];
    const [algo, params] = children(inner, "RSAES-OAEP-params AlgorithmIdentifier");
    const o = oidOf(algo, "RSAES-OAEP-params algorithm");
    if (isCtx(f, 0)) hash = hashOf(o);
    else if (isCtx(f, 1)) {
      if (o !== ALG.mgf1) throw bad(`mask generation function ${oidName(o)}`);
      mgfHash = hashOf(oidOf(children(params, "MGF1 hash")[0], "MGF1 hash"));
    } else if (isCtx(f, 2)) {
      if (o !== ALG.pSpecified) throw bad(`label source ${oidName(o)}`);
      label = octetsOf(params, "pSpecified label");
    } else throw malformed("RSAES-OAEP-params (unknown field)");
  }
  if (mgfHash !== hash) throw bad(`MGF1 hash (${mgfHash}) different from the hash (${hash})`);
  return { hash, label };
}

/** An EnvelopedData as read, still encrypted. */
export interface EnvelopedData {
  version: number;
  /** Each KeyTransRecipientInfo. */
  recipients: {
    rid: CertId;
    keyEncryptionAlgorithm: string;
    params?: El;
    encryptedKey: Uint8Array;
  }[];
  contentType: string;
  contentEncryptionAlgorithm: string;
  iv?: Uint8Array;
  encryptedContent: Uint8Array;
}

/** Reads an EnvelopedData SEQUENCE. */
export function readEnvelopedData(bytes: Uint8Array, what = "EnvelopedData"): EnvelopedData {
  const f = children(parseOne(bytes, what), what);
  let i = 0;
  const version = versionOf(f[i++], `${what} version`, [0, 2, 3, 4]);
  if (isCtx(f[i], 0)) i++;
  const recipients = children(f[i++], `${what} recipientInfos`, 17).map((r, k) => {
    const w = `${what} recipientInfos[${k}]`;
    const [v, rid, kea, ek, ...rest] = children(r, `${w} (a KeyTransRecipientInfo)`);
    if (rest.length > 0) throw malformed(`${w} (extra fields)`);
    // Version 0 goes with an IssuerAndSerialNumber rid (RFC 5652 6.2.1).
    versionOf(v, `${w} version`, [0]);
    const [alg, params] = children(kea, `${w} keyEncryptionAlgorithm`);
    return {
      rid: readCertId(rid, `${w} rid`),
      keyEncryptionAlgorithm: oidOf(alg, `${w} keyEncryptionAlgorithm`),
      params,
      encryptedKey: octetsOf(ek, `${w} encryptedKey`),
    };
  });
  const [ct, cea, ec] = children(f[i++], `${what} encryptedContentInfo`);
  const [calg, iv] = children(cea, `${what} contentEncryptionAlgorithm`);
  return {
    version,
    recipients,
    contentType: oidOf(ct, `${what} contentType`),
    contentEncryptionAlgorithm: oidOf(calg, `${what} contentEncryptionAlgorithm`),
    iv: iv === undefined ? undefined : octetsOf(iv, `${what} IV`),
    encryptedContent: octetsOf(ec, `${what} encryptedContent`, 0),
  };
}

/** The result of {@link openEnvelope}. */
export interface OpenedEnvelope {
  /** The recipient the content was opened for. */
  recipient: CertId;
  /** The content cipher. */
  cipher: ContentCipher;
  /** The decrypted content; the caller zeroes it after use. */
  content: Uint8Array;
}

/**
 * Opens an EnvelopedData for recipient `me`.
 *
 * @throws {Tr34Error} `wrong_recipient` if no recipient is `me`;
 *   `unsupported_algorithm` for a key transport or content cipher other than
 *   RSAES-OAEP and TDES/AES-CBC; `decrypt_failed` if the key transport or the
 *   content padding fails.
 */
export async function openEnvelope(
  bytes: Uint8Array,
  me: CertId,
  transport: KeyTransport,
  core: CryptoCore,
): Promise<OpenedEnvelope> {
  const env = readEnvelopedData(bytes);
  const r = env.recipients.find((x) => sameId(x.rid, me));
  if (!r) {
    throw new Tr34Error("wrong_recipient", "the EnvelopedData has no recipient for this KRD");
  }
  if (r.keyEncryptionAlgorithm !== ALG.rsaesOaep) {
    throw new Tr34Error(
      "unsupported_algorithm",
      `keyEncryptionAlgorithm must be id-RSAES-OAEP, got ${oidName(r.keyEncryptionAlgorithm)}`,
    );
  }
  const params = readOaepParams(r.params);
  const cipher = contentCipherOf(env.contentEncryptionAlgorithm);
  if (!cipher) {
    throw new Tr34Error(
      "unsupported_algorithm",
      `contentEncryptionAlgorithm must be des-ede3-cbc or aes-CBC, got ${
        oidName(env.contentEncryptionAlgorithm)
      }`,
    );
  }
  const c = CONTENT_CIPHERS[cipher];
  if (env.iv?.length !== c.block) throw malformed(`the ${cipher} IV (must be ${c.block} bytes)`);
  if (env.encryptedContent.length === 0 || env.encryptedContent.length % c.block !== 0) {
    throw new Tr34Error("decrypt_failed", `encryptedContent must be whole ${c.block}-byte blocks`);
  }
  let cek: Uint8Array;
  try {
    cek = await transport(r.encryptedKey, params);
  } catch (e) {
    throw new Tr34Error("decrypt_failed", "the key transport (RSAES-OAEP) does not decrypt", {
      cause: e,
    });
  }
  let padded: Uint8Array | undefined;
  try {
    if (cek.length !== c.keyLength) {
      throw new Tr34Error("decrypt_failed", `the content key must be ${c.keyLength} bytes`);
    }
    padded = cbc(core, cipher, false, cek, env.iv, env.encryptedContent);
    return { recipient: r.rid, cipher, content: unpadPkcs7(padded, c.block) };
  } finally {
    zeroize(cek);
    zeroize(padded);
  }
}
