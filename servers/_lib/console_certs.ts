/**
 * The certificates page of the console: the certificates a server holds or
 * issued (subject, issuer, serial number, validity, purpose), which of them
 * the CRLs in force revoke (by issuer Name and serial number), and those CRLs (issuer, number, this and next
 * update, revoked serial numbers). RFC 5280 fields, read with `src/pki`.
 *
 * @module
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { toHex } from "../../src/crypto/mod.ts";
import { type CrlSet, parseCertificate } from "../../src/pki/mod.ts";
import type { Store } from "../../src/store/mod.ts";

/** Where a server's certificates come from. */
export interface CertificateSource {
  /** The certificates, each with what it is for. */
  certificates(): Promise<{ label: string; pem: string }[]>;
  /** The CRLs in force, if the server was given any. */
  crls?: () => CrlSet;
}

/**
 * A certificate's issuer or subject Name as DER: a CRL names its issuer the
 * same way, so the two match byte for byte (their text forms may spell
 * attributes differently).
 */
function nameDer(certificateDer: Uint8Array, which: "issuer" | "subject"): string {
  const cert = new pkijs.Certificate({ schema: asn1js.fromBER(certificateDer).result });
  return toHex(new Uint8Array(cert[which].toSchema().toBER()));
}

/** The page's figures: certificates, revoked ones, CRLs. */
export async function certificateView(source: CertificateSource): Promise<Record<string, unknown>> {
  const crls = source.crls?.().crls ?? [];
  const revokedBy = new Map<string, { revokedAt: string; reason: string }>();
  for (const c of crls) {
    for (const [serial, r] of c.revoked) {
      revokedBy.set(`${toHex(c.issuerDer)}|${serial}`, {
        revokedAt: r.revokedAt.toISOString(),
        reason: r.reason,
      });
    }
  }
  const held = (await source.certificates()).map((c) => ({ ...c, info: parseCertificate(c.pem) }));
  // A CRL's issuer as the certificate of that name spells it, when the server holds it.
  const nameOf = new Map(held.map((c) => [nameDer(c.info.der, "subject"), c.info.subjectText]));
  const issued = held.map(({ label, info }) => {
    return {
      label,
      subject: info.subjectText,
      issuer: info.issuerText,
      serialNumber: info.serialNumber,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      ca: info.ca,
      revoked: revokedBy.get(`${nameDer(info.der, "issuer")}|${info.serialNumber}`) ?? null,
    };
  });
  return {
    issued,
    revoked: issued.filter((c) => c.revoked !== null),
    crls: crls.map((c) => ({
      issuer: nameOf.get(toHex(c.issuerDer)) ?? c.issuerText,
      crlNumber: c.crlNumber.toString(),
      thisUpdate: c.thisUpdate.toISOString(),
      nextUpdate: c.nextUpdate.toISOString(),
      revoked: [...c.revoked.keys()],
    })),
  };
}

/**
 * The KMS's certificates: its CA's, and each flow B terminal's Pu_hsm
 * certificate (the terminals from the audit log's `hsm_key_issued`).
 *
 * @param store the KMS store.
 * @param kmsCaCertificate the KMS CA's certificate (PEM) while the store holds none.
 * @param max at most this many terminal certificates.
 */
export function kmsCertificates(
  store: Store,
  kmsCaCertificate: string | undefined,
  max = 200,
): () => Promise<{ label: string; pem: string }[]> {
  return async () => {
    const out: { label: string; pem: string }[] = [];
    const ca = (await store.currentKmsCa())?.certificate ?? kmsCaCertificate;
    if (ca) out.push({ label: "KMS CA", pem: ca });
    const seen = new Set<string>();
    let afterId = 0;
    while (seen.size < max) {
      const page = await store.listAudit({ afterId, limit: 1000, event: "hsm_key_issued" });
      for (const r of page) {
        if (r.outcome !== "success" || !r.subject || seen.has(r.subject)) continue;
        seen.add(r.subject);
        const t = await store.getTerminal(r.subject);
        if (t?.puHsmCert) out.push({ label: `Pu_hsm of ${r.subject}`, pem: t.puHsmCert });
      }
      if (page.length < 1000) break;
      afterId = page[page.length - 1].id;
    }
    return out;
  };
}
