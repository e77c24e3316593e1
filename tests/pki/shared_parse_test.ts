/**
 * src/pki's remembered parses of trust anchors, intermediates and issuers
 * (`parseCertificateShared`): a changed certificate is never served from an
 * earlier parse, every signature is still checked on every call, and what a
 * caller gets back cannot change what the next call sees.
 */
import { assert, assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { CertificateError, decodePem, issueCertificate, verifyChain } from "../../src/pki/mod.ts";
import { parseCertificateShared, SHARED_PARSES } from "../../src/pki/certificate.ts";
import { nodeRsaKey } from "./_keys.ts";

const core = await loadCore("wasm");
const ORG = { organization: "TMK Test", country: "CN" };
const T = (s: string) => new Date(s);
const AT = T("2027-06-01T00:00:00Z");
const rootKey = nodeRsaKey();
const otherRootKey = nodeRsaKey();
const cardKey = nodeRsaKey();

/** A root-ca certificate named "Shared Root" for `key`, valid from `from`. */
function root(key = rootKey, from = "2026-01-01T00:00:00Z"): Promise<string> {
  return issueCertificate({
    profile: "root-ca",
    subject: { commonName: "Shared Root", ...ORG },
    publicKey: key.publicKey,
    notBefore: T(from),
    notAfter: T("2046-01-01T00:00:00Z"),
    issuer: { privateKey: key.privateKey },
  }, { core });
}

const rootPem = await root();
const card = await issueCertificate({
  profile: "operator-card",
  subject: { commonName: "Operator 0042", ...ORG },
  publicKey: cardKey.publicKey,
  notBefore: T("2026-01-01T00:00:00Z"),
  notAfter: T("2031-01-01T00:00:00Z"),
  issuer: { privateKey: rootKey.privateKey, certificate: rootPem },
}, { core });
const verify = (roots: (string | Uint8Array)[]) =>
  verifyChain(card, { roots, purpose: "operator-card", at: AT });

async function refusedWith(roots: (string | Uint8Array)[], code: string): Promise<void> {
  const e = await assertRejects(() => verify(roots), CertificateError);
  assertEquals(e.code, code);
}

Deno.test("shared parses: the same input gives the same frozen parse, another input its own", async () => {
  const a = parseCertificateShared(rootPem);
  assert(Object.isFrozen(a));
  assertStrictEquals(parseCertificateShared(rootPem), a);
  const der = decodePem(rootPem, "CERTIFICATE");
  const b = parseCertificateShared(der);
  assert(b !== a);
  assertEquals(b.der, a.der);
  const other = parseCertificateShared(await root(otherRootKey));
  assert(other.publicKey.n !== a.publicKey.n);
  assert(!other.publicKey.n.every((v, i) => v === a.publicKey.n[i]));
});

Deno.test("shared parses: a root replaced under the same name is checked afresh", async () => {
  await verify([rootPem]);
  // Same subject, another key: the card's signature no longer verifies.
  await refusedWith([await root(otherRootKey)], "bad_signature");
  await verify([rootPem]);
  // Same key, a validity that starts after the check time: the new root's own dates apply.
  await refusedWith([await root(rootKey, "2028-01-01T00:00:00Z")], "not_yet_valid");
  await verify([decodePem(rootPem, "CERTIFICATE")]);
});

Deno.test("shared parses: a corrupted root signature is refused on every call", async () => {
  const der = decodePem(rootPem, "CERTIFICATE");
  await verify([der]);
  const bad = der.slice();
  bad[bad.length - 1] ^= 1; // last byte of the root's self-signature
  for (let i = 0; i < 3; i++) await refusedWith([bad], "bad_signature");
  await verify([der]);
});

Deno.test("shared parses: changing a returned path does not change the next verification", async () => {
  const first = await verify([rootPem]);
  const anchor = first.path[0];
  anchor.notBefore.setTime(T("2030-01-01T00:00:00Z").getTime());
  anchor.publicKey.n.fill(0);
  anchor.keyUsage?.splice(0);
  const again = await verify([rootPem]);
  assertEquals(again.path[0].notBefore, T("2026-01-01T00:00:00Z"));
  assert(again.path[0].publicKey.n.some((v) => v !== 0));
  assert(again.path[0].keyUsage?.includes("keyCertSign"));
});

Deno.test("shared parses: an issuer certificate replaced under the same key sets the validity", async () => {
  const request = (issuerPem: string) =>
    issueCertificate({
      profile: "operator-card",
      subject: { commonName: "Operator 0043", ...ORG },
      publicKey: cardKey.publicKey,
      notBefore: T("2027-01-01T00:00:00Z"),
      notAfter: T("2031-01-01T00:00:00Z"),
      issuer: { privateKey: rootKey.privateKey, certificate: issuerPem },
    }, { core });
  await request(rootPem);
  await assertRejects(
    async () => request(await root(rootKey, "2028-01-01T00:00:00Z")),
    RangeError,
    "must lie within issuer",
  );
  await request(rootPem);
});

Deno.test("shared parses: at most SHARED_PARSES are kept, the least recently used go", () => {
  const first = parseCertificateShared(rootPem);
  // Other inputs for the same certificate: PEM with different line ends.
  for (let i = 0; i < SHARED_PARSES; i++) {
    parseCertificateShared(rootPem.replaceAll("\n", "\r\n") + "\n".repeat(i));
  }
  assert(parseCertificateShared(rootPem) !== first);
  const kept = parseCertificateShared(rootPem);
  assertStrictEquals(parseCertificateShared(rootPem), kept);
});
