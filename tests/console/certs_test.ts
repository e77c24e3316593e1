/**
 * The certificates page's figures: every certificate a server holds or
 * issued with its subject, issuer, serial and validity; the ones the CRLs
 * in force revoke (matched by issuer and serial number, RFC 5280 section
 * 5.3 terms); and those CRLs with their number and revoked serials.
 */
import { assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { generateRsaKeyPair } from "../../src/crypto/mod.ts";
import { CrlSet, issueCertificate, issueCrl, parseCertificate } from "../../src/pki/mod.ts";
import { certificateView } from "../../servers/_lib/console_certs.ts";

const DAY = 86_400_000;
const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

Deno.test("console certificates: issued, revoked by the CRL in force, and the CRL", async () => {
  const core = await loadCore();
  const rootKey = await generateRsaKeyPair({ bits: 2048, core });
  const now = Date.now();
  const root = await issueCertificate({
    profile: "root-ca",
    subject: { commonName: "Console Test Root", organization: "TMK Test", country: "CN" },
    publicKey: rootKey.publicKey,
    notBefore: seconds(now - DAY),
    notAfter: seconds(now + 365 * DAY),
    issuer: { privateKey: rootKey.privateKey },
  }, { core });
  const leaf = async (name: string) =>
    issueCertificate({
      profile: "mtms-transport",
      subject: { commonName: name, organization: "TMK Test" },
      publicKey: (await generateRsaKeyPair({ bits: 2048, core })).publicKey,
      notBefore: seconds(now - DAY),
      notAfter: seconds(now + 30 * DAY),
      issuer: { privateKey: rootKey.privateKey, certificate: root },
    }, { core });
  const kept = await leaf("kept");
  const lost = await leaf("lost");
  const lostSerial = parseCertificate(lost).serialNumber;
  const crl = await issueCrl({
    issuer: { privateKey: rootKey.privateKey, certificate: root },
    thisUpdate: seconds(now),
    nextUpdate: seconds(now + DAY),
    crlNumber: 7n,
    revoked: [{
      serialNumber: lostSerial,
      revokedAt: seconds(now - 1000),
      reason: "keyCompromise",
    }],
  }, { core });
  const v = await certificateView({
    certificates: () =>
      Promise.resolve([
        { label: "root", pem: root },
        { label: "kept", pem: kept },
        { label: "lost", pem: lost },
      ]),
    crls: () => new CrlSet([crl]),
  }) as {
    issued: { label: string; subject: string; revoked: { reason: string } | null }[];
    revoked: { label: string; serialNumber: string }[];
    crls: { crlNumber: string; revoked: string[]; issuer: string }[];
  };
  assertEquals(v.issued.map((c) => [c.label, c.revoked?.reason ?? null]), [
    ["root", null],
    ["kept", null],
    ["lost", "keyCompromise"],
  ]);
  assertEquals(v.revoked.map((c) => [c.label, c.serialNumber]), [["lost", lostSerial]]);
  assertEquals(v.crls.map((c) => [c.crlNumber, c.revoked]), [["7", [lostSerial]]]);
  assertEquals(v.crls[0].issuer, parseCertificate(root).subjectText);
  const none = await certificateView({ certificates: () => Promise.resolve([]) });
  assertEquals(none, { issued: [], revoked: [], crls: [] });
});
