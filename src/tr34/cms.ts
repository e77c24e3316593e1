/**
 * CMS SignedData (RFC 5652 section 5) as TR-34 uses it (ASC X9 TR 34-2019
 * annex B): build, parse, sign with a caller's signing function, verify.
 * Digests are SHA-256; signatures RSASSA-PKCS1-v1_5 (RFC 8017 8.2) on the
 * project's crypto core.
 *
 * Signed attributes are written in DER SET OF order (X.690 11.6), and a
 * signature is verified over the attributes exactly as received, so tokens
 * whose attributes are not in DER order (some published samples) still verify.
 *
 * @module
 */
import * as asn1js from "asn1js";
import type { CryptoCore, RsaPublicKey } from "../core/mod.ts";
import { pkcs1v15Verify } from "../crypto/mod.ts";
import {
  algId,
  type Attr,
  attrEl,
  type CertId,
  certIdEl,
  children,
  ctxChildren,
  der,
  type El,
  inDerOrder,
  isCtx,
  malformed,
  octets,
  octetsOf,
  oid,
  oidOf,
  parseOne,
  raw,
  readAttr,
  readCertId,
  sameBytes,
  sortedAttrs,
  versionOf,
} from "./_der.ts";
import { Tr34Error } from "./errors.ts";
import { ALG, ATTR, CT, oidName } from "./oids.ts";

/**
 * Signs `message` (the DER of the signed attributes) with RSASSA-PKCS1-v1_5
 * and SHA-256 (RFC 8017 8.2.1) by a key the caller holds, e.g. in an HSM.
 */
export type SignFunction = (message: Uint8Array) => Promise<Uint8Array>;

/** One SignerInfo as read. */
export interface SignerInfo {
  version: number;
  /** The signer's IssuerAndSerialNumber. */
  sid: CertId;
  digestAlgorithm: string;
  /** Signed attributes, if present. */
  signedAttrs?: Attr[];
  /** The signed attributes as signed: their encoding with the SET tag (RFC 5652 5.4). */
  signedAttrsDer?: Uint8Array;
  /** Whether the signed attributes were in DER SET OF order. */
  signedAttrsInDerOrder: boolean;
  signatureAlgorithm: string;
  signature: Uint8Array;
}

/** A SignedData as read. */
export interface SignedData {
  version: number;
  digestAlgorithms: string[];
  eContentType: string;
  /** The encapsulated content, absent for a detached or empty content. */
  eContent?: Uint8Array;
  /** Each certificate's DER. */
  certificates: Uint8Array[];
  /** Each CRL's DER. */
  crls: Uint8Array[];
  signerInfos: SignerInfo[];
}

/** What {@link buildSignedData} needs beyond the content. */
export interface SignerSpec {
  /** The signer's IssuerAndSerialNumber. */
  id: CertId;
  /** The signing function. */
  sign: SignFunction;
  /** Signed attributes besides contentType and messageDigest (added here). */
  attributes: El[];
}

/** Parts of a SignedData to build. */
export interface SignedDataSpec {
  eContentType: string;
  /** The content; an absent content is written as an empty OCTET STRING. */
  eContent?: Uint8Array;
  certificates?: Uint8Array[];
  crls?: Uint8Array[];
  /** The signer; none for a degenerate (certificates-only) SignedData. */
  signer?: SignerSpec;
}

/** Builds a SignedData SEQUENCE (not wrapped in a ContentInfo). */
export async function buildSignedDataBody(
  spec: SignedDataSpec,
  core: CryptoCore,
): Promise<asn1js.Sequence> {
  const content = spec.eContent ?? new Uint8Array(0);
  const signerInfos: El[] = [];
  if (spec.signer) {
    const attrs = sortedAttrs([
      attrEl(ATTR.contentType, [oid(spec.eContentType)]),
      ...spec.signer.attributes,
      attrEl(ATTR.messageDigest, [octets(core.sha256(content))]),
    ]);
    const signature = await spec.signer.sign(der(new asn1js.Set({ value: attrs })));
    if (!(signature instanceof Uint8Array)) {
      throw new TypeError("the signing function must return a Uint8Array");
    }
    signerInfos.push(
      new asn1js.Sequence({
        value: [
          new asn1js.Integer({ value: 1 }),
          certIdEl(spec.signer.id),
          algId(ALG.sha256),
          new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: attrs }),
          algId(ALG.rsaEncryption, null),
          octets(signature),
        ],
      }),
    );
  }
  const value: El[] = [
    new asn1js.Integer({ value: 1 }),
    new asn1js.Set({ value: spec.signer ? [algId(ALG.sha256)] : [] }),
    new asn1js.Sequence({
      value: [
        oid(spec.eContentType),
        new asn1js.Constructed({
          idBlock: { tagClass: 3, tagNumber: 0 },
          value: [octets(content)],
        }),
      ],
    }),
  ];
  const list = (n: number, items: Uint8Array[] | undefined) => {
    if (items && items.length > 0) {
      value.push(
        new asn1js.Constructed({
          idBlock: { tagClass: 3, tagNumber: n },
          value: items.map((d) => parseOne(d, n === 0 ? "certificate" : "CRL")),
        }),
      );
    }
  };
  list(0, spec.certificates);
  list(1, spec.crls);
  value.push(new asn1js.Set({ value: signerInfos }));
  return new asn1js.Sequence({ value });
}

/** Builds a ContentInfo holding a SignedData (RFC 5652 3, 5.1), DER. */
export async function buildSignedData(spec: SignedDataSpec, core: CryptoCore): Promise<Uint8Array> {
  const body = await buildSignedDataBody(spec, core);
  return der(
    new asn1js.Sequence({
      value: [
        oid(CT.signedData),
        new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [body] }),
      ],
    }),
  );
}

/**
 * The OID of a digest or signature AlgorithmIdentifier whose parameters are
 * absent or NULL (RFC 3370 2.1, 3.2; RFC 4055 5), the only forms those
 * algorithms take.
 */
function simpleAlgOf(el: El | undefined, what: string): string {
  const [o, params, ...rest] = children(el, what);
  if (rest.length > 0 || (params !== undefined && !(params instanceof asn1js.Null))) {
    throw malformed(`${what} (parameters must be absent or NULL)`);
  }
  return oidOf(o, what);
}

function readSignerInfo(el: El, what: string): SignerInfo {
  const f = children(el, what);
  let i = 0;
  // Version 1 goes with an IssuerAndSerialNumber sid (RFC 5652 5.3), the form TR-34 uses.
  const version = versionOf(f[i++], `${what} version`, [1]);
  const sid = readCertId(f[i++], `${what} sid`);
  const digestAlgorithm = simpleAlgOf(f[i++], `${what} digestAlgorithm`);
  let signedAttrs: Attr[] | undefined;
  let signedAttrsDer: Uint8Array | undefined;
  let signedAttrsInDerOrder = true;
  if (isCtx(f[i], 0)) {
    const members = ctxChildren(f[i], 0, `${what} signedAttrs`);
    signedAttrs = members.map((m, k) => readAttr(m, `${what} signedAttrs[${k}]`));
    signedAttrsInDerOrder = inDerOrder(members);
    signedAttrsDer = raw(f[i++]).slice();
    signedAttrsDer[0] = 0x31;
  }
  const signatureAlgorithm = simpleAlgOf(f[i++], `${what} signatureAlgorithm`);
  const signature = octetsOf(f[i++], `${what} signature`);
  if (i < f.length && !isCtx(f[i], 1)) throw malformed(`${what} (unexpected field)`);
  return {
    version,
    sid,
    digestAlgorithm,
    signedAttrs,
    signedAttrsDer,
    signedAttrsInDerOrder,
    signatureAlgorithm,
    signature,
  };
}

/** Reads a SignedData SEQUENCE. */
export function readSignedDataBody(el: El, what = "SignedData"): SignedData {
  const f = children(el, what);
  let i = 0;
  // 1 as in the TR 34-2019 samples, 3 as RFC 5652 5.1 asks for a content other than id-data;
  // 4 and 5 mark attribute certificates and other formats TR-34 does not carry.
  const version = versionOf(f[i++], `${what} version`, [1, 3]);
  const digestAlgorithms = children(f[i++], `${what} digestAlgorithms`, 17).map((a) =>
    simpleAlgOf(a, `${what} digestAlgorithm`)
  );
  const [ct, ec, ...extra] = children(f[i++], `${what} encapContentInfo`);
  if (extra.length > 0) throw malformed(`${what} encapContentInfo (extra fields)`);
  const eContentType = oidOf(ct, `${what} eContentType`);
  const eContent = ec === undefined
    ? undefined
    : octetsOf(ctxChildren(ec, 0, `${what} eContent`)[0], `${what} eContent`);
  const certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  if (isCtx(f[i], 0)) certificates.push(...ctxChildren(f[i++], 0, `${what} certificates`).map(raw));
  if (isCtx(f[i], 1)) crls.push(...ctxChildren(f[i++], 1, `${what} crls`).map(raw));
  const signerInfos = children(f[i++], `${what} signerInfos`, 17).map((s, k) =>
    readSignerInfo(s, `${what} signerInfos[${k}]`)
  );
  if (i !== f.length) throw malformed(`${what} (fields after signerInfos)`);
  for (const si of signerInfos) {
    if (!digestAlgorithms.includes(si.digestAlgorithm)) {
      throw malformed(`${what} digestAlgorithms (must list each signer's digest, RFC 5652 5.1)`);
    }
  }
  return { version, digestAlgorithms, eContentType, eContent, certificates, crls, signerInfos };
}

/** Reads a ContentInfo that must hold a SignedData. */
export function readSignedData(token: Uint8Array, what = "token"): SignedData {
  const [ct, content, ...rest] = children(parseOne(token, what), `${what} ContentInfo`);
  if (rest.length > 0) throw malformed(`${what} ContentInfo (extra fields)`);
  const type = oidOf(ct, `${what} contentType`);
  if (type !== CT.signedData) {
    throw new Tr34Error(
      "unknown_oid",
      `${what} contentType must be id-signedData, got ${oidName(type)}`,
    );
  }
  return readSignedDataBody(ctxChildren(content, 0, `${what} content`)[0], `${what} SignedData`);
}

/** The values of signed attribute `type`, or undefined if absent. */
export function signedAttr(si: SignerInfo, type: string): El[] | undefined {
  return si.signedAttrs?.find((a) => a.type === type)?.values;
}

/**
 * Verifies one signer of a SignedData: algorithms, the signature over the
 * signed attributes (or the content when there are none), then the
 * contentType and messageDigest attributes.
 *
 * @throws {Tr34Error} `unsupported_algorithm`, `bad_signature`, `attribute_missing`,
 *   `content_altered`.
 */
export async function verifySigner(
  sd: SignedData,
  si: SignerInfo,
  publicKey: RsaPublicKey,
  core: CryptoCore,
): Promise<void> {
  if (si.digestAlgorithm !== ALG.sha256) {
    throw new Tr34Error(
      "unsupported_algorithm",
      `digestAlgorithm must be id-sha256, got ${oidName(si.digestAlgorithm)}`,
    );
  }
  if (si.signatureAlgorithm !== ALG.rsaEncryption && si.signatureAlgorithm !== ALG.sha256WithRsa) {
    throw new Tr34Error(
      "unsupported_algorithm",
      `signatureAlgorithm must be rsaEncryption or sha256WithRSAEncryption, got ${
        oidName(si.signatureAlgorithm)
      }`,
    );
  }
  const content = sd.eContent ?? new Uint8Array(0);
  const signed = si.signedAttrsDer ?? content;
  if (!(await pkcs1v15Verify(publicKey, signed, si.signature, { core }))) {
    throw new Tr34Error("bad_signature", "the signature does not verify under the signer's key");
  }
  if (!si.signedAttrs) return;
  const ct = signedAttr(si, ATTR.contentType);
  const md = signedAttr(si, ATTR.messageDigest);
  if (!ct || ct.length !== 1 || !md || md.length !== 1) {
    throw new Tr34Error(
      "attribute_missing",
      "signed attributes must hold one contentType and one messageDigest value",
    );
  }
  if (oidOf(ct[0], "contentType attribute") !== sd.eContentType) {
    throw new Tr34Error(
      "content_altered",
      "the contentType attribute differs from the eContentType",
    );
  }
  if (!sameBytes(octetsOf(md[0], "messageDigest attribute"), core.sha256(content))) {
    throw new Tr34Error(
      "content_altered",
      "the messageDigest attribute does not match the content: the content was altered",
    );
  }
}
