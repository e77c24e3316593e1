/**
 * The fast certificate reading (`src/pki/_x509_fast.ts`) against the pkijs
 * reading: on every profile this CA issues, on certificates node-forge builds
 * in other shapes, and on thousands of mutations of both, the fast reading
 * either declines or gives exactly the pkijs reading's fields, and never
 * accepts what pkijs refuses. `parseCertificate` gives the same answers,
 * errors included, whichever reading served it.
 */
import forge from "node-forge";
import { assert, assertEquals } from "@std/assert";
import { nodeRsaKey } from "./_keys.ts";
import {
  type CertificateProfile,
  decodePem,
  issueCertificate,
  parseCertificate,
  PROFILES,
} from "../../src/pki/mod.ts";
import {
  certificateInfo,
  parseCertificateInternal,
  type ParsedCertificate,
  readWithPkijs,
} from "../../src/pki/certificate.ts";
import { readCertificateFast } from "../../src/pki/_x509_fast.ts";

const ca = nodeRsaKey(2048);
const ee = nodeRsaKey(2048);
const ORG = { organization: "Acme Terminals", country: "CN" };
const VALID = { notBefore: new Date("2026-01-01T00:00:00Z"), notAfter: new Date("2031-01-01Z") };

/** Every profile, with names of several kinds, DER. */
async function issued(): Promise<Uint8Array[]> {
  const root = await issueCertificate({
    profile: "root-ca",
    subject: { commonName: "Root CA \u00e9\u4e2d", ...ORG },
    publicKey: ca.publicKey,
    ...VALID,
    issuer: { privateKey: ca.privateKey },
  });
  const out = [decodePem(root, "CERTIFICATE")];
  for (const profile of Object.keys(PROFILES) as CertificateProfile[]) {
    if (profile === "root-ca") continue;
    const pem = await issueCertificate({
      profile,
      subject: {
        commonName: `${profile} leaf`,
        organizationalUnit: "Line 3",
        ...(PROFILES[profile].subjectSerialNumber ? { serialNumber: "SN0001" } : {}),
        ...ORG,
      },
      publicKey: ee.publicKey,
      ...VALID,
      issuer: { privateKey: ca.privateKey, certificate: root },
      ...(profile === "kms-server" ? { dnsNames: ["kms.example.test", "a.example.test"] } : {}),
    });
    out.push(decodePem(pem, "CERTIFICATE"));
  }
  return out;
}

/** node-forge certificates: other encoders' choices (times past 2049, v1, other extensions). */
function forgeMade(): Uint8Array[] {
  const key = forge.pki.publicKeyFromPem(
    forge.pki.publicKeyToPem(
      forge.pki.setRsaPublicKey(
        new forge.jsbn.BigInteger(
          forge.util.bytesToHex(String.fromCharCode(...ee.publicKey.n)),
          16,
        ),
        new forge.jsbn.BigInteger("65537"),
      ),
    ),
  );
  const shapes: {
    version?: number;
    from?: string;
    until?: string;
    ext: unknown[];
    attrs?: unknown[];
  }[] = [
    { ext: [{ name: "basicConstraints", cA: true, pathLenConstraint: 3, critical: true }] },
    { ext: [{ name: "basicConstraints", cA: false }] },
    { ext: [{ name: "keyUsage", digitalSignature: true, decipherOnly: true, critical: true }] },
    { ext: [{ name: "extKeyUsage", serverAuth: true, clientAuth: true }] },
    { ext: [{ name: "subjectAltName", altNames: [{ type: 2, value: "x.test" }] }] },
    { ext: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }] },
    { ext: [{ name: "nsCertType", client: true }] },
    { ext: [{ name: "nsCertType", client: true, critical: true }] },
    {
      ext: [{ name: "subjectKeyIdentifier" }, {
        name: "authorityKeyIdentifier",
        keyIdentifier: true,
      }],
    },
    { until: "2051-06-30T12:00:00Z", ext: [] },
    { version: 0, ext: [] },
    { from: "1999-12-31T23:59:59Z", until: "2049-12-31T23:59:59Z", ext: [] },
    {
      ext: [],
      attrs: [{ name: "commonName", value: "x", valueTagClass: forge.asn1.Type.BMPSTRING }],
    },
    { ext: [], attrs: [{ name: "localityName", value: "Shenzhen" }] },
  ];
  const signer = forge.pki.privateKeyFromPem(
    forge.pki.privateKeyToPem(
      forge.pki.setRsaPrivateKey(
        ...[
          ca.privateKey.n,
          ca.privateKey.e,
          ca.privateKey.d,
          ca.privateKey.p,
          ca.privateKey.q,
          ca.privateKey.dp,
          ca.privateKey.dq,
          ca.privateKey.qi,
        ].map((b) =>
          new forge.jsbn.BigInteger(forge.util.bytesToHex(String.fromCharCode(...b)), 16)
        ) as [
          forge.jsbn.BigInteger,
          forge.jsbn.BigInteger,
          forge.jsbn.BigInteger,
          forge.jsbn.BigInteger,
          forge.jsbn.BigInteger,
          forge.jsbn.BigInteger,
          forge.jsbn.BigInteger,
          forge.jsbn.BigInteger,
        ],
      ),
    ),
  );
  return shapes.map((s, i) => {
    const c = forge.pki.createCertificate();
    c.version = s.version ?? 2;
    c.publicKey = key;
    c.serialNumber = (0x11 + i).toString(16);
    c.validity.notBefore = new Date(s.from ?? "2026-03-01T08:09:10Z");
    c.validity.notAfter = new Date(s.until ?? "2030-02-28T23:59:59Z");
    const attrs = s.attrs ?? [{ name: "commonName", value: `forge ${i}` }];
    c.setSubject(attrs as forge.pki.CertificateField[]);
    c.setIssuer([{ name: "commonName", value: "forge CA" }, { name: "countryName", value: "CN" }]);
    c.setExtensions(s.ext as object[]);
    c.sign(signer, forge.md.sha256.create());
    const der = forge.asn1.toDer(forge.pki.certificateToAsn1(c)).getBytes();
    return Uint8Array.from(der, (ch) => ch.charCodeAt(0));
  });
}

/** The fields and internal parts of a reading, for comparison. */
function shape(p: ParsedCertificate) {
  return {
    info: certificateInfo(p),
    subjectDer: p.subjectDer,
    issuerDer: p.issuerDer,
    tbs: p.tbs,
    signature: p.signature,
    spki: p.spki,
  };
}

function pkijsReading(der: Uint8Array): ParsedCertificate | Error {
  try {
    return readWithPkijs(der);
  } catch (e) {
    return e as Error;
  }
}

/** The fast reading must be absent, or equal to the pkijs reading (which then succeeds). */
function agree(der: Uint8Array, label: string): "fast" | "declined" {
  const fast = readCertificateFast(der);
  if (!fast) return "declined";
  const slow = pkijsReading(der);
  assert(!(slow instanceof Error), `${label}: fast read what pkijs refuses (${slow})`);
  const parsed = parseCertificate(der);
  assertEquals(parsed, certificateInfo(slow as ParsedCertificate), label);
  const { subjectDer, issuerDer, tbs, signature, spki, ...fields } = fast;
  assertEquals(
    { info: { der, ...fields }, subjectDer, issuerDer, tbs, signature, spki },
    shape(slow as ParsedCertificate),
    label,
  );
  return "fast";
}

/** A small deterministic generator (xorshift32), so a failure names its case. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function mutate(der: Uint8Array, r: (n: number) => number): Uint8Array {
  const m = der.slice();
  switch (r(5)) {
    case 0:
      m[r(m.length)] ^= 1 << r(8);
      return m;
    case 1:
      m[r(m.length)] = r(256);
      return m;
    case 2:
      return m.subarray(0, r(m.length));
    case 3: {
      const at = r(m.length);
      return Uint8Array.of(...m.subarray(0, at), r(256), ...m.subarray(at));
    }
    default: {
      // A byte in the first 300 (tags, lengths, versions, names, times) set to a nearby value.
      const at = r(Math.min(300, m.length));
      m[at] = (m[at] + 1 + r(3)) & 0xff;
      return m;
    }
  }
}

Deno.test("fast reading: every issued profile is read fast, equal to pkijs", async () => {
  const certs = await issued();
  for (const [i, der] of certs.entries()) assertEquals(agree(der, `issued #${i}`), "fast");
});

Deno.test("fast reading: forge's shapes are read fast or left to pkijs, never differently", () => {
  const seen = forgeMade().map((der, i) => agree(der, `forge #${i}`));
  // Declined: an IP address name, a critical extension not processed, v1, a BMPString name.
  const F = "fast", D = "declined";
  assertEquals(seen, [F, F, F, F, F, D, F, D, F, F, D, F, D, F]);
});

Deno.test("fast reading: mutations never make the two readings disagree", async () => {
  const base = [...(await issued()), ...forgeMade()];
  const r = rng(0x5eed1234);
  let fast = 0;
  let errorsSame = 0;
  for (let k = 0; k < 3500; k++) {
    const der = mutate(base[k % base.length], r);
    if (der.length === 0) continue;
    if (agree(der, `mutation ${k}`) === "fast") fast++;
    else {
      // Declined: parseCertificate answers as pkijs does, refusal or reading.
      const slow = pkijsReading(der);
      let mine: unknown;
      try {
        mine = parseCertificate(der);
      } catch (e) {
        mine = e;
      }
      if (slow instanceof Error) {
        assert(mine instanceof Error, `mutation ${k}: accepted what pkijs refuses`);
        assertEquals([mine.name, mine.message], [slow.name, slow.message], `mutation ${k}`);
        errorsSame++;
      } else assertEquals(mine, certificateInfo(slow), `mutation ${k}`);
    }
  }
  // Many mutations still read fast (a changed name letter, serial, key bit) and many are refused.
  assert(fast > 500 && errorsSame > 1000, `fast ${fast}, refused ${errorsSame}`);
});

Deno.test("fast reading: pkijs is read on demand and equals a direct reading", async () => {
  const [root] = await issued();
  const p = readCertificateFast(root);
  assert(p);
  const parsed = parseCertificateInternal(root);
  assertEquals(Object.keys(parsed).includes("pkijs"), false);
  assertEquals(parsed.pkijs.tbsView, readWithPkijs(root).pkijs.tbsView);
});
