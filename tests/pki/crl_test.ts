/**
 * src/pki CRLs: issued by the root and the KMS CA, read back by `parseCrl`
 * and by `openssl crl`; `verifyChain` with `crls` refuses what the issuer's
 * newest CRL lists, exactly where `openssl verify -crl_check_all` does; a
 * missing, stale, not yet valid or forged CRL fails with its own code.
 */
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import {
  CertificateError,
  type CertificateErrorCode,
  CrlSet,
  issueCertificate,
  issueCrl,
  parseCertificate,
  parseCrl,
  verifyChain,
  type VerifyOptions,
} from "../../src/pki/mod.ts";
import { pkcs1v15Sign } from "../../src/crypto/mod.ts";
import { nodeRsaKey } from "./_keys.ts";

const KEYS = { root: nodeRsaKey(), kmsCa: nodeRsaKey(), card: nodeRsaKey(), term: nodeRsaKey() };
const T = (s: string) => new Date(s);
const VALID = { notBefore: T("2026-01-01T00:00:00Z"), notAfter: T("2031-01-01T00:00:00Z") };
const AT = T("2027-06-01T00:00:00Z");
const ORG = { organization: "TMK Test", country: "CN" };

const root = await issueCertificate({
  profile: "root-ca",
  subject: { commonName: "CRL Root", ...ORG },
  publicKey: KEYS.root.publicKey,
  ...VALID,
  issuer: { privateKey: KEYS.root.privateKey },
});
const byRoot = { privateKey: KEYS.root.privateKey, certificate: root };
const kmsCa = await issueCertificate({
  profile: "kms-ca",
  subject: { commonName: "CRL KMS CA", ...ORG },
  publicKey: KEYS.kmsCa.publicKey,
  ...VALID,
  issuer: byRoot,
});
const byKmsCa = { privateKey: KEYS.kmsCa.privateKey, certificate: kmsCa };
const card = await issueCertificate({
  profile: "operator-card",
  subject: { commonName: "Operator 7", ...ORG },
  publicKey: KEYS.card.publicKey,
  ...VALID,
  issuer: byRoot,
});
const terminal = await issueCertificate({
  profile: "terminal-hsm",
  subject: { commonName: "Pu_hsm", serialNumber: "SN0007", ...ORG },
  publicKey: KEYS.term.publicKey,
  ...VALID,
  issuer: byKmsCa,
});
const cardSerial = parseCertificate(card).serialNumber;
const termSerial = parseCertificate(terminal).serialNumber;

const THIS = T("2027-05-01T00:00:00Z");
const NEXT = T("2027-07-01T00:00:00Z");

function crl(
  issuer: typeof byRoot,
  crlNumber: bigint,
  revoked: string[],
  times = { thisUpdate: THIS, nextUpdate: NEXT },
): Promise<string> {
  return issueCrl({
    issuer,
    ...times,
    crlNumber,
    revoked: revoked.map((serialNumber) => ({
      serialNumber,
      revokedAt: T("2027-04-15T00:00:00Z"),
      reason: "keyCompromise" as const,
    })),
  });
}

async function openssl(args: string[], stdin?: string): Promise<{ code: number; out: string }> {
  const child = new Deno.Command("openssl", {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const r = await child.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** `openssl verify -crl_check_all` of `leaf` under the root, with the KMS CA and the CRLs. */
async function opensslVerify(leaf: string, crls: string[]): Promise<{ code: number; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "crl_test_" });
  try {
    await Deno.writeTextFile(`${dir}/root.pem`, root);
    await Deno.writeTextFile(`${dir}/ca.pem`, kmsCa);
    await Deno.writeTextFile(`${dir}/crls.pem`, crls.join(""));
    await Deno.writeTextFile(`${dir}/leaf.pem`, leaf);
    return await openssl([
      "verify",
      "-attime",
      String(AT.getTime() / 1000),
      "-crl_check_all",
      "-CAfile",
      `${dir}/root.pem`,
      "-untrusted",
      `${dir}/ca.pem`,
      "-CRLfile",
      `${dir}/crls.pem`,
      `${dir}/leaf.pem`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function refused(
  leaf: string,
  options: Partial<VerifyOptions>,
  code: CertificateErrorCode,
  message: RegExp,
): Promise<void> {
  const e = await assertRejects(
    () =>
      verifyChain(leaf, {
        roots: [root],
        intermediates: [kmsCa],
        purpose: leaf === card ? "operator-card" : "terminal-hsm",
        at: AT,
        ...options,
      }),
    CertificateError,
  );
  assertEquals(e.code, code, e.message);
  assertMatch(e.message, message);
}

Deno.test("crl: issued CRLs read back the same with parseCrl and openssl crl", async () => {
  const pem = await crl(byRoot, 5n, [cardSerial]);
  const info = parseCrl(pem);
  assertEquals(info.crlNumber, 5n);
  assertEquals(info.thisUpdate, THIS);
  assertEquals(info.nextUpdate, NEXT);
  assertMatch(info.issuerText, /CRL Root/);
  assertEquals([...info.revoked.keys()], [cardSerial]);
  assertEquals(info.revoked.get(cardSerial)?.reason, "keyCompromise");

  const dir = await Deno.makeTempDir({ prefix: "crl_test_" });
  try {
    await Deno.writeTextFile(`${dir}/root.pem`, root);
    const r = await openssl(["crl", "-noout", "-text", "-CAfile", `${dir}/root.pem`], pem);
    assertEquals(r.code, 0, r.out);
    assertMatch(r.out, /verify OK/);
    assertMatch(r.out, /X509v3 CRL Number:\s*5/);
    assertMatch(r.out, new RegExp(`Serial Number: ${cardSerial}`, "i"));
    assertMatch(r.out, /Key Compromise/);
    assertMatch(r.out, /X509v3 Authority Key Identifier/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("crl: a revoked certificate is refused, as by openssl verify -crl_check_all", async () => {
  const empty = [await crl(byRoot, 1n, []), await crl(byKmsCa, 1n, [])];
  for (const leaf of [card, terminal]) {
    const r = await opensslVerify(leaf, empty);
    assertEquals(r.code, 0, r.out);
    await verifyChain(leaf, {
      roots: [root],
      intermediates: [kmsCa],
      purpose: leaf === card ? "operator-card" : "terminal-hsm",
      at: AT,
      crls: empty,
    });
  }
  const revoking = [await crl(byRoot, 2n, [cardSerial]), await crl(byKmsCa, 2n, [termSerial])];
  for (const leaf of [card, terminal]) {
    const r = await opensslVerify(leaf, revoking);
    assert(r.code !== 0, r.out);
    assertMatch(r.out, /certificate revoked/);
    await refused(leaf, { crls: revoking }, "revoked", /was revoked at .*keyCompromise/);
  }
  // The KMS CA revoked by the root takes every certificate it issued with it.
  const caRevoked = [await crl(byRoot, 3n, [parseCertificate(kmsCa).serialNumber]), empty[1]];
  const r = await opensslVerify(terminal, caRevoked);
  assert(r.code !== 0, r.out);
  await refused(terminal, { crls: caRevoked }, "revoked", /CRL KMS CA/);
});

Deno.test("crl: the newest CRL of an issuer applies, so a reloaded set refuses at once", async () => {
  const old = await crl(byRoot, 1n, []);
  const set = new CrlSet([old]);
  await verifyChain(card, { roots: [root], purpose: "operator-card", at: AT, crls: set });
  const reloaded = new CrlSet([old, await crl(byRoot, 2n, [cardSerial])]);
  await refused(card, { crls: reloaded }, "revoked", /CRL 2 of/);
});

Deno.test("crl: missing, stale, early and forged CRLs fail with their own code", async () => {
  await refused(terminal, { crls: [await crl(byRoot, 1n, [])] }, "crl_missing", /CRL KMS CA/);
  const stale = await crl(byRoot, 1n, [], {
    thisUpdate: T("2027-01-01T00:00:00Z"),
    nextUpdate: T("2027-02-01T00:00:00Z"),
  });
  await refused(card, { crls: [stale] }, "crl_stale", /was due to be replaced/);
  const early = await crl(byRoot, 1n, [], {
    thisUpdate: T("2027-07-01T00:00:00Z"),
    nextUpdate: T("2027-08-01T00:00:00Z"),
  });
  await refused(card, { crls: [early] }, "crl_not_yet_valid", /not valid before/);
  // issueCrl checks what a signer returns: the KMS CA's key cannot sign the root's CRL.
  const forged = await assertRejects(
    () =>
      issueCrl({
        issuer: { certificate: root, sign: (tbs) => pkcs1v15Sign(KEYS.kmsCa.privateKey, tbs) },
        thisUpdate: THIS,
        nextUpdate: NEXT,
        crlNumber: 9n,
        revoked: [],
      }),
    CertificateError,
  );
  assertEquals(forged.code, "bad_signature");
  // A CRL altered after signing is refused by the check.
  const good = await crl(byRoot, 9n, []);
  const der = parseCrl(good).der;
  der[der.length - 5] ^= 1;
  await refused(card, { crls: [der] }, "crl_bad_signature", /is not signed by it/);
});

Deno.test("crl: issueCrl and CrlSet refuse bad input with the field named", async () => {
  const base = { issuer: byRoot, thisUpdate: THIS, nextUpdate: NEXT, crlNumber: 1n, revoked: [] };
  await assertRejects(
    () => issueCrl({ ...base, nextUpdate: THIS }),
    RangeError,
    "request.nextUpdate",
  );
  await assertRejects(
    () =>
      issueCrl({
        ...base,
        revoked: [
          { serialNumber: cardSerial, revokedAt: THIS },
          { serialNumber: cardSerial, revokedAt: THIS },
        ],
      }),
    RangeError,
    "is listed twice",
  );
  await assertRejects(
    () => issueCrl({ ...base, revoked: [{ serialNumber: "abc", revokedAt: THIS }] }),
    RangeError,
    "request.revoked[0].serialNumber",
  );
  await assertRejects(() => issueCrl({ ...base, crlNumber: -1n }), RangeError, "crlNumber");
  const e = await assertRejects(
    () => issueCrl({ ...base, issuer: { privateKey: KEYS.card.privateKey, certificate: card } }),
    CertificateError,
  );
  assertEquals(e.code, "issuer_key_usage");
  const bad = assertThrows(() => new CrlSet(["not a CRL"]), CertificateError);
  assertMatch(bad.message, /^crls\[0\]: /);
});

Deno.test("crl: a CRL's signature is checked for each parse and each issuer's exact bytes", async () => {
  const good = await crl(byRoot, 11n, []);
  const set = new CrlSet([good]);
  const opts = { roots: [root], purpose: "operator-card" as const, at: AT, crls: set };
  for (let i = 0; i < 3; i++) await verifyChain(card, opts);
  // The same CRL bytes altered: a new set, a new parse, refused every time.
  const der = parseCrl(good).der;
  der[der.length - 5] ^= 1;
  for (let i = 0; i < 3; i++) {
    await refused(card, { crls: new CrlSet([der]) }, "crl_bad_signature", /is not signed by it/);
  }
  // The verified set under another root of the same name (another key): refused.
  const otherKey = nodeRsaKey();
  const otherRoot = await issueCertificate({
    profile: "root-ca",
    subject: { commonName: "CRL Root", ...ORG },
    publicKey: otherKey.publicKey,
    ...VALID,
    issuer: { privateKey: otherKey.privateKey },
  });
  const otherCard = await issueCertificate({
    profile: "operator-card",
    subject: { commonName: "Operator 0077", ...ORG },
    publicKey: KEYS.card.publicKey,
    ...VALID,
    issuer: { privateKey: otherKey.privateKey, certificate: otherRoot },
  });
  const e = await assertRejects(
    () => verifyChain(otherCard, { ...opts, roots: [otherRoot] }),
    CertificateError,
  );
  assertEquals(e.code, "crl_bad_signature");
  await verifyChain(card, opts);
});
