/**
 * The KDH certificate revocation list of TR-34 (ASC X9 TR 34-2019 B.2.1.3):
 * an X.509 v2 CRL (RFC 5280 section 5) issued by the CA that certifies KDHs,
 * carried in key, rebind and unbind tokens so the KRD can refuse a revoked
 * KDH. Built with pkijs, signed sha256WithRSAEncryption by a signing function
 * (the CA key may sit in an HSM), verified on the crypto core.
 *
 * @module
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import type { CryptoCore } from "../core/mod.ts";
import { pkcs1v15Verify } from "../crypto/mod.ts";
import { buf, der, malformed, parseOne, sameBytes } from "./_der.ts";
import type { SignFunction } from "./cms.ts";
import { type Certificate, readCertificate } from "./certs.ts";
import { Tr34Error } from "./errors.ts";
import { ALG } from "./oids.ts";

/** A revoked certificate entry. */
export interface RevokedEntry {
  /** The certificate's serial number (INTEGER content octets). */
  serial: Uint8Array;
  /** When it was revoked. */
  date: Date;
}

/** A CRL as read. */
export interface Crl {
  der: Uint8Array;
  /** The issuer Name, DER. */
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
  revoked: RevokedEntry[];
  signatureAlgorithm: string;
  /** The DER TBSCertList, as signed. */
  tbs: Uint8Array;
  signature: Uint8Array;
}

/** Reads a DER CRL. */
export function readCrl(bytes: Uint8Array): Crl {
  let crl: pkijs.CertificateRevocationList;
  try {
    crl = new pkijs.CertificateRevocationList({ schema: parseOne(bytes, "CRL") });
  } catch (e) {
    if (e instanceof Tr34Error) throw e;
    throw malformed("CRL", e);
  }
  return {
    der: bytes,
    issuer: der(crl.issuer.toSchema()),
    thisUpdate: crl.thisUpdate.value,
    nextUpdate: crl.nextUpdate?.value,
    revoked: (crl.revokedCertificates ?? []).map((r) => ({
      serial: new Uint8Array(r.userCertificate.valueBlock.valueHexView),
      date: r.revocationDate.value,
    })),
    signatureAlgorithm: crl.signatureAlgorithm.algorithmId,
    tbs: new Uint8Array(crl.tbsView),
    signature: new Uint8Array(crl.signatureValue.valueBlock.valueHexView),
  };
}

/** What {@link buildCrl} needs. */
export interface CrlSpec {
  /** The issuing CA's certificate (PEM or DER). */
  issuer: string | Uint8Array;
  /** Signs the TBSCertList with the CA key (RSASSA-PKCS1-v1_5, SHA-256). */
  sign: SignFunction;
  /** The revoked certificates. */
  revoked: RevokedEntry[];
  thisUpdate: Date;
  nextUpdate: Date;
}

function serialEl(serial: Uint8Array): asn1js.Integer {
  const i = new asn1js.Integer();
  i.valueBlock.valueHexView = buf(serial);
  i.valueBlock.isHexOnly = true;
  return i;
}

/**
 * Builds and signs a v2 CRL, DER, and checks its signature under the CA's key
 * before returning it.
 *
 * @throws {Tr34Error} `crl_invalid` if the signature does not verify under the CA key.
 */
export async function buildCrl(spec: CrlSpec, core: CryptoCore): Promise<Uint8Array> {
  const ca = readCertificate(spec.issuer, "CRL issuer certificate");
  const alg = () =>
    new pkijs.AlgorithmIdentifier({
      algorithmId: ALG.sha256WithRsa,
      algorithmParams: new asn1js.Null(),
    });
  const crl = new pkijs.CertificateRevocationList({
    version: 1,
    signature: alg(),
    issuer: ca.pkijs.subject,
    thisUpdate: new pkijs.Time({ type: 0, value: spec.thisUpdate }),
    nextUpdate: new pkijs.Time({ type: 0, value: spec.nextUpdate }),
  });
  if (spec.revoked.length > 0) {
    crl.revokedCertificates = spec.revoked.map((r) =>
      new pkijs.RevokedCertificate({
        userCertificate: serialEl(r.serial),
        revocationDate: new pkijs.Time({ type: 0, value: r.date }),
      })
    );
  }
  // encodeTBS is protected in pkijs's typings but is the documented TBS encoder.
  const tbs = der((crl as unknown as { encodeTBS(): asn1js.Sequence }).encodeTBS());
  crl.tbsView = buf(tbs);
  crl.signatureAlgorithm = alg();
  crl.signatureValue = new asn1js.BitString({ valueHex: buf(await spec.sign(tbs)) });
  const out = der(crl.toSchema());
  await verifyCrl(readCrl(out), ca, core);
  return out;
}

/**
 * Checks that `crl` is issued and signed by `ca`.
 *
 * @throws {Tr34Error} `crl_invalid`.
 */
export async function verifyCrl(crl: Crl, ca: Certificate, core: CryptoCore): Promise<void> {
  if (!sameBytes(crl.issuer, ca.subject)) {
    throw new Tr34Error("crl_invalid", `the CRL is not issued by ${ca.subjectText}`);
  }
  if (crl.signatureAlgorithm !== ALG.sha256WithRsa) {
    throw new Tr34Error("crl_invalid", "the CRL must be signed sha256WithRSAEncryption");
  }
  if (!(await pkcs1v15Verify(ca.publicKey, crl.tbs, crl.signature, { core }))) {
    throw new Tr34Error("crl_invalid", `the CRL signature does not verify under ${ca.subjectText}`);
  }
}

/** Reads the CRLs given, skipping absent ones. */
export function readCrls(ders: (Uint8Array | undefined)[]): Crl[] {
  return ders.filter((d) => d !== undefined).map(readCrl);
}

/** Whether `serial` is on the CRL. */
export function isRevoked(crl: Crl, serial: Uint8Array): boolean {
  const strip = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    return b.subarray(i);
  };
  return crl.revoked.some((r) => sameBytes(strip(r.serial), strip(serial)));
}
