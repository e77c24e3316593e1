/**
 * Internal: assembles and signs an X.509 v3 certificate (RFC 5280 section 4.1)
 * with node-forge's certificate builder, exactly as specified, with no policy
 * checks (those are in `issue.ts`). The signature is the project's
 * RSASSA-PKCS1-v1_5 SHA-256 on the crypto core, handed to forge through the
 * `cert.sign` hook (see below); forge's own RSA is not used.
 *
 * Exported through `mod.ts` for the bad certificates that `issue.ts` refuses
 * to make (a CA:false issuer, an issuer without keyCertSign).
 *
 * @module
 */
import {
  type CryptoCore,
  forge,
  fromBinary,
  type RsaPrivateKey,
  type RsaPublicKey,
  toBigInteger,
  toBinary,
} from "../core/mod.ts";
import { type DistinguishedName, NAME_ATTRIBUTES } from "./name.ts";
import type { KeyUsage } from "./profiles.ts";
import { pkcs1v15Sign, pkcs1v15Verify, toHex } from "../crypto/mod.ts";
import { oidToContent } from "./_oid.ts";
import type { ParsedCertificate } from "./certificate.ts";

/** Everything that goes into one certificate. */
export interface BuildSpec {
  /** Positive serial number, big-endian, first byte 0x01..0x7f. */
  serialNumber: Uint8Array;
  /** The subject's name. */
  subject: DistinguishedName;
  /** The issuer's certificate, whose subject becomes the issuer name; absent: self-issued. */
  issuerCertificate?: ParsedCertificate;
  /** The subject's public key. */
  publicKey: RsaPublicKey;
  /** Start of validity. */
  notBefore: Date;
  /** End of validity. */
  notAfter: Date;
  /** basicConstraints (critical); absent: no extension. */
  basicConstraints?: { ca: boolean; pathLength?: number };
  /** keyUsage bits (critical); absent: no extension. */
  keyUsage?: readonly KeyUsage[];
  /** extKeyUsage OIDs (non-critical); absent: no extension. */
  extKeyUsage?: readonly string[];
  /** subjectAltName dNSName entries (non-critical); absent or empty: no extension. */
  dnsNames?: readonly string[];
  /** subjectKeyIdentifier (non-critical); absent: no extension. */
  subjectKeyIdentifier?: Uint8Array;
  /** authorityKeyIdentifier keyIdentifier (non-critical); absent: no extension. */
  authorityKeyIdentifier?: Uint8Array;
  /** Further extensions, value as DER (tests: an unknown critical extension). */
  extraExtensions?: readonly { oid: string; critical: boolean; value: Uint8Array }[];
  /** The issuer's private key (signed with src/crypto `pkcs1v15Sign`), or ... */
  signingKey?: RsaPrivateKey;
  /** ... a signer: RSASSA-PKCS1-v1_5 SHA-256 of the TBSCertificate DER (e.g. by an HSM). */
  sign?: (tbs: Uint8Array) => Promise<Uint8Array>;
  /** If given, the signature must verify under this key (checked with src/crypto). */
  verifyWith?: RsaPublicKey;
  /** The crypto core that hashes and signs. */
  core: CryptoCore;
}

const { asn1 } = forge;

function oidValue(oid: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, toBinary(oidToContent(oid)));
}

function nameAttributes(dn: DistinguishedName): forge.pki.CertificateField[] {
  const out: forge.pki.CertificateField[] = [];
  for (const a of NAME_ATTRIBUTES) {
    const v = dn[a.key];
    if (v === undefined) continue;
    out.push({
      type: a.oid,
      value: v,
      valueTagClass: (a.printable ? asn1.Type.PRINTABLESTRING : asn1.Type.UTF8) as never,
    });
  }
  return out;
}

function issuerAttributes(issuer: ParsedCertificate): forge.pki.CertificateField[] {
  // The issuer name is copied attribute by attribute, with its string type; `issue.ts`
  // checks afterwards that it came out byte for byte as the issuer's subject.
  return issuer.pkijs.subject.typesAndValues.map((tv) => {
    const tag = tv.value.idBlock.tagNumber;
    const value = (tv.value as unknown as { valueBlock: { value: unknown } }).valueBlock.value;
    if (typeof value !== "string") {
      throw new RangeError(`issuer name attribute ${tv.type} is not a string`);
    }
    return { type: tv.type, value, valueTagClass: tag as never };
  });
}

/** The extensions of `spec`, in forge's form. */
function extensions(spec: BuildSpec): Record<string, unknown>[] {
  const exts: Record<string, unknown>[] = [];
  if (spec.basicConstraints) {
    const bc: Record<string, unknown> = {
      name: "basicConstraints",
      critical: true,
      cA: spec.basicConstraints.ca,
    };
    if (spec.basicConstraints.pathLength !== undefined) {
      bc.pathLenConstraint = spec.basicConstraints.pathLength;
    }
    exts.push(bc);
  }
  if (spec.keyUsage) {
    const ku: Record<string, unknown> = { name: "keyUsage", critical: true };
    for (const k of spec.keyUsage) ku[k] = true;
    exts.push(ku);
  }
  if (spec.extKeyUsage) {
    exts.push({
      name: "extKeyUsage",
      value: asn1.create(
        asn1.Class.UNIVERSAL,
        asn1.Type.SEQUENCE,
        true,
        spec.extKeyUsage.map(oidValue),
      ),
    });
  }
  if (spec.dnsNames && spec.dnsNames.length > 0) {
    exts.push({
      name: "subjectAltName",
      altNames: spec.dnsNames.map((value) => ({ type: 2, value })),
    });
  }
  if (spec.subjectKeyIdentifier) {
    exts.push({
      name: "subjectKeyIdentifier",
      value: asn1.create(
        asn1.Class.UNIVERSAL,
        asn1.Type.OCTETSTRING,
        false,
        toBinary(spec.subjectKeyIdentifier),
      ),
    });
  }
  if (spec.authorityKeyIdentifier) {
    exts.push({
      name: "authorityKeyIdentifier",
      value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(
          asn1.Class.CONTEXT_SPECIFIC,
          0,
          false,
          toBinary(spec.authorityKeyIdentifier),
        ),
      ]),
    });
  }
  for (const x of spec.extraExtensions ?? []) {
    exts.push({
      id: x.oid,
      name: x.oid,
      critical: x.critical,
      value: asn1.fromDer(toBinary(x.value)),
    });
  }
  return exts;
}

/**
 * The TBSCertificate of `cert` as DER, and its signature by `spec.sign` or
 * `spec.signingKey`, checked under `spec.verifyWith` when given.
 */
async function signTbs(
  cert: forge.pki.Certificate,
  spec: BuildSpec,
): Promise<Uint8Array> {
  // forge's cert.sign(key, md) sets the signature algorithm (sha256WithRSAEncryption, from
  // md.algorithm), encodes the TBSCertificate, feeds its DER to md.update() and then calls
  // key.sign(md) synchronously. The project's signer (src/crypto pkcs1v15Sign: SHA-256 and
  // the private operation on the core) is asynchronous, so the hook only collects the TBS
  // bytes, and the signature is set once it is computed.
  const tbsParts: string[] = [];
  const md = {
    algorithm: "sha256",
    update(bytes: string) {
      tbsParts.push(bytes);
      return md;
    },
  };
  const collector = { sign: () => "" };
  cert.sign(
    collector as unknown as forge.pki.rsa.PrivateKey,
    md as unknown as forge.md.MessageDigest,
  );
  const tbs = fromBinary(tbsParts.join(""));
  if (tbs.length === 0) throw new Error("internal error: forge produced no TBSCertificate");
  let signature: Uint8Array;
  if (spec.sign) signature = await spec.sign(tbs.slice());
  else if (spec.signingKey) {
    signature = await pkcs1v15Sign(spec.signingKey, tbs, { core: spec.core });
  } else throw new TypeError("spec.signingKey or spec.sign is required");
  if (!(signature instanceof Uint8Array)) {
    throw new TypeError("the signer must return a Uint8Array");
  }
  if (
    spec.verifyWith &&
    !(await pkcs1v15Verify(spec.verifyWith, tbs, signature, { core: spec.core }))
  ) {
    throw new RangeError(
      "the signature made for the certificate does not verify under the issuer's public key",
    );
  }
  return signature;
}

/**
 * Builds and signs a certificate.
 *
 * @param spec the contents.
 * @returns the certificate, DER.
 * @throws {RsaKeyError} (src/crypto) for a malformed signing key.
 * @throws {RangeError} if `verifyWith` is given and the signature does not verify under it.
 */
export async function buildCertificate(spec: BuildSpec): Promise<Uint8Array> {
  const cert = forge.pki.createCertificate();
  cert.version = 2;
  cert.serialNumber = toHex(spec.serialNumber, { case: "lower" });
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.publicKey = forge.pki.setRsaPublicKey(
    toBigInteger(spec.publicKey.n),
    toBigInteger(spec.publicKey.e),
  );
  const subject = nameAttributes(spec.subject);
  cert.setSubject(subject);
  cert.setIssuer(
    spec.issuerCertificate ? issuerAttributes(spec.issuerCertificate) : nameAttributes(
      spec.subject,
    ),
  );

  cert.setExtensions(extensions(spec));

  const signature = await signTbs(cert, spec);
  (cert as unknown as { signature: string }).signature = toBinary(signature);
  return fromBinary(asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes());
}
