/**
 * src/pki: issuing every profile on every core, checked by node:crypto's
 * X509Certificate and by `openssl verify`; chain verification; a table of bad
 * certificates and bad inputs, each with the exact error it must raise.
 */
import { X509Certificate } from "node:crypto";
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import { allCores, toHex } from "../_helpers.ts";
import type { CryptoCore } from "../../src/core/mod.ts";
import {
  buildCertificate,
  CertificateError,
  type CertificateErrorCode,
  type CertificatePurpose,
  decodePem,
  encodePem,
  EXT_KEY_USAGE,
  issueCertificate,
  oidFromContent,
  oidToContent,
  parseCertificate,
  verifyChain,
  type VerifyOptions,
} from "../../src/pki/mod.ts";
import { parseCertificateInternal } from "../../src/pki/certificate.ts";
import { exportJwk, importPrivateKeyPem, pkcs1v15Sign } from "../../src/crypto/mod.ts";
import { nodeRsaKey, type TestKey } from "./_keys.ts";

const KEYS = {
  root: nodeRsaKey(),
  kmsCa: nodeRsaKey(),
  other: nodeRsaKey(),
  card: nodeRsaKey(),
  mtms: nodeRsaKey(),
  kms: nodeRsaKey(),
  terminal: nodeRsaKey(),
  spare: nodeRsaKey(),
};

const T = (s: string) => new Date(s);
const ROOT_VALIDITY = { notBefore: T("2026-01-01T00:00:00Z"), notAfter: T("2046-01-01T00:00:00Z") };
const CA_VALIDITY = { notBefore: T("2026-01-01T00:00:00Z"), notAfter: T("2041-01-01T00:00:00Z") };
const EE_VALIDITY = { notBefore: T("2026-01-01T00:00:00Z"), notAfter: T("2031-01-01T00:00:00Z") };
const AT = T("2027-06-01T00:00:00Z");
const ORG = { organization: "TMK Test", country: "CN" };

interface Pki {
  root: string;
  kmsCa: string;
  card: string;
  mtms: string;
  kms: string;
  terminal: string;
}

async function makePki(core: CryptoCore): Promise<Pki> {
  const root = await issueCertificate({
    profile: "root-ca",
    subject: { commonName: "TMK Root CA", ...ORG },
    publicKey: KEYS.root.publicKey,
    ...ROOT_VALIDITY,
    issuer: { privateKey: KEYS.root.privateKey },
  }, { core });
  const byRoot = { privateKey: KEYS.root.privateKey, certificate: root };
  const kmsCa = await issueCertificate({
    profile: "kms-ca",
    subject: { commonName: "TMK KMS CA", ...ORG },
    publicKey: KEYS.kmsCa.publicKey,
    ...CA_VALIDITY,
    issuer: byRoot,
  }, { core });
  const card = await issueCertificate({
    profile: "operator-card",
    subject: { commonName: "Operator 0001", organizationalUnit: "Factory", ...ORG },
    publicKey: KEYS.card.publicKey,
    ...EE_VALIDITY,
    issuer: byRoot,
  }, { core });
  const mtms = await issueCertificate({
    profile: "mtms-transport",
    subject: { commonName: "MTMS transport key", ...ORG },
    publicKey: KEYS.mtms.publicKey,
    ...EE_VALIDITY,
    issuer: byRoot,
  }, { core });
  const kms = await issueCertificate({
    profile: "kms-server",
    subject: { commonName: "kms.tmk.test", ...ORG },
    publicKey: KEYS.kms.publicKey,
    ...EE_VALIDITY,
    issuer: byRoot,
    dnsNames: ["kms.tmk.test"],
  }, { core });
  const terminal = await issueCertificate({
    profile: "terminal-hsm",
    subject: { commonName: "Pu_hsm", serialNumber: "SN00012345", ...ORG },
    publicKey: KEYS.terminal.publicKey,
    ...EE_VALIDITY,
    issuer: { privateKey: KEYS.kmsCa.privateKey, certificate: kmsCa },
  }, { core });
  return { root, kmsCa, card, mtms, kms, terminal };
}

const cores = await allCores();
const pkis = new Map<string, Pki>();
for (const core of cores) pkis.set(core.name, await makePki(core));

/** Runs openssl; fails loudly if it is not installed. */
async function openssl(args: string[]): Promise<{ code: number; out: string }> {
  let r: Deno.CommandOutput;
  try {
    r = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    throw new Error(
      "the openssl command is required by tests/pki (apt-get install openssl): " + e,
    );
  }
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

async function opensslVerify(
  root: string,
  leaf: string,
  untrusted?: string,
  extra: string[] = [],
): Promise<{ code: number; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "pki_test_" });
  try {
    await Deno.writeTextFile(`${dir}/root.pem`, root);
    await Deno.writeTextFile(`${dir}/leaf.pem`, leaf);
    const args = ["verify", "-x509_strict", "-attime", String(AT.getTime() / 1000)];
    args.push("-CAfile", `${dir}/root.pem`);
    if (untrusted) {
      await Deno.writeTextFile(`${dir}/ca.pem`, untrusted);
      args.push("-untrusted", `${dir}/ca.pem`);
    }
    return await openssl([...args, ...extra, `${dir}/leaf.pem`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const core of cores) {
  const pki = pkis.get(core.name)!;

  Deno.test(`pki [${core.name}]: node:crypto reads every certificate and verifies its signature`, () => {
    const root = new X509Certificate(pki.root);
    const kmsCa = new X509Certificate(pki.kmsCa);
    assertEquals(root.subject, "C=CN\nO=TMK Test\nCN=TMK Root CA");
    assertEquals(root.issuer, root.subject);
    assert(root.ca);
    assert(root.verify(KEYS.root.nodePublic));
    assert(root.checkIssued(root));
    assertEquals(new Date(root.validFrom), ROOT_VALIDITY.notBefore);
    assertEquals(new Date(root.validTo), ROOT_VALIDITY.notAfter);
    assert(kmsCa.ca);
    assertEquals(kmsCa.issuer, root.subject);
    assert(kmsCa.verify(KEYS.root.nodePublic));
    assert(kmsCa.checkIssued(root));

    const rows: [keyof Pki, X509Certificate, TestKey, string][] = [
      ["card", root, KEYS.card, "C=CN\nO=TMK Test\nOU=Factory\nCN=Operator 0001"],
      ["mtms", root, KEYS.mtms, "C=CN\nO=TMK Test\nCN=MTMS transport key"],
      ["kms", root, KEYS.kms, "C=CN\nO=TMK Test\nCN=kms.tmk.test"],
      ["terminal", kmsCa, KEYS.terminal, "C=CN\nO=TMK Test\nCN=Pu_hsm\nserialNumber=SN00012345"],
    ];
    for (const [name, issuer, key, subject] of rows) {
      const c = new X509Certificate(pki[name]);
      assertEquals(c.subject, subject, name);
      assertEquals(c.issuer, issuer.subject, name);
      assertEquals(c.ca, false, name);
      assertEquals(new Date(c.validFrom), EE_VALIDITY.notBefore, name);
      assertEquals(new Date(c.validTo), EE_VALIDITY.notAfter, name);
      assert(c.verify(issuer.publicKey), `${name} verifies with its issuer's key`);
      assert(!c.verify(KEYS.spare.nodePublic), `${name} does not verify with another key`);
      assert(c.checkIssued(issuer), name);
      assertEquals(c.publicKey.export({ format: "jwk" }), key.nodePublic.export({ format: "jwk" }));
      assertMatch(c.serialNumber, /^[4-7][0-9A-F]{31}$/, name);
    }
    assertEquals(new X509Certificate(pki.kms).subjectAltName, "DNS:kms.tmk.test");
  });

  Deno.test(`pki [${core.name}]: openssl verify accepts every certificate of the hierarchy`, async () => {
    for (const name of ["card", "mtms", "kms"] as const) {
      const r = await opensslVerify(pki.root, pki[name]);
      assertEquals(r.code, 0, `${name}: ${r.out}`);
      assertMatch(r.out, /leaf\.pem: OK/);
    }
    const t = await opensslVerify(pki.root, pki.terminal, pki.kmsCa);
    assertEquals(t.code, 0, t.out);
    const s = await opensslVerify(pki.root, pki.kms, undefined, ["-purpose", "sslserver"]);
    assertEquals(s.code, 0, s.out);
    const ext: [keyof Pki, string[]][] = [
      ["root", ["CA:TRUE, pathlen:1", "Certificate Sign, CRL Sign"]],
      ["kmsCa", ["CA:TRUE, pathlen:0", "Certificate Sign, CRL Sign"]],
      ["card", ["CA:FALSE", "Digital Signature", EXT_KEY_USAGE.operatorCard]],
      ["mtms", ["CA:FALSE", "Key Encipherment", EXT_KEY_USAGE.mtmsTransport]],
      ["kms", ["CA:FALSE", "Digital Signature, Key Encipherment", "TLS Web Server Authentication"]],
      ["terminal", ["CA:FALSE", "Key Encipherment", EXT_KEY_USAGE.terminalHsm]],
    ];
    for (const [name, want] of ext) {
      const dir = await Deno.makeTempDir({ prefix: "pki_test_" });
      try {
        await Deno.writeTextFile(`${dir}/c.pem`, pki[name]);
        const r = await openssl([
          "x509",
          "-noout",
          "-in",
          `${dir}/c.pem`,
          "-ext",
          "basicConstraints,keyUsage,extendedKeyUsage",
        ]);
        assertEquals(r.code, 0, r.out);
        const lines = r.out.split("\n").map((l) => l.trim()).filter((l) =>
          l && !l.startsWith("X509v3")
        );
        assertEquals(lines, want, name);
        assert(/X509v3 Key Usage: critical/.test(r.out), name);
        assert(/X509v3 Basic Constraints: critical/.test(r.out), name);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
    // openssl, independently, refuses a flipped signature and a terminal without its CA.
    assert((await opensslVerify(pki.root, flipSignature(pki.card))).code !== 0);
    assert((await opensslVerify(pki.root, pki.terminal)).code !== 0);
  });

  Deno.test(`pki [${core.name}]: verifyChain accepts each purpose and returns the key`, async () => {
    const rows: [keyof Pki, CertificatePurpose, TestKey, Partial<VerifyOptions>][] = [
      ["card", "operator-card", KEYS.card, {}],
      ["mtms", "mtms-transport", KEYS.mtms, {}],
      ["kms", "kms-server", KEYS.kms, {}],
      ["terminal", "terminal-hsm", KEYS.terminal, {
        intermediates: [pki.kmsCa],
        subjectSerialNumber: "SN00012345",
      }],
    ];
    for (const [name, purpose, key, extra] of rows) {
      const v = await verifyChain(pki[name], { roots: [pki.root], purpose, at: AT, ...extra });
      assertEquals(v.publicKey, key.publicKey, name);
      assertEquals(v.path[0].subjectText, "C=CN, O=TMK Test, CN=TMK Root CA");
      assertEquals(v.path.length, name === "terminal" ? 3 : 2);
      // DER input works too, and the time bounds are inclusive.
      const der = decodePem(pki[name], "CERTIFICATE");
      for (const at of [EE_VALIDITY.notBefore, EE_VALIDITY.notAfter]) {
        await verifyChain(der, { roots: [pki.root], purpose, at, ...extra });
      }
    }
    const info = parseCertificate(pki.terminal);
    assertEquals(info.subject.serialNumber, "SN00012345");
    assertEquals(info.keyUsage, ["keyEncipherment"]);
    assertEquals(info.serialNumber.length, 32);
    assertEquals(parseCertificate(pki.root).pathLength, 1);
    assertEquals(parseCertificate(pki.kmsCa).pathLength, 0);
    assertEquals(
      toHex(parseCertificate(pki.terminal).authorityKeyIdentifier!),
      toHex(parseCertificate(pki.kmsCa).subjectKeyIdentifier!),
    );
  });

  Deno.test(`pki [${core.name}]: bad certificates fail with the exact check`, async () => {
    const byRoot = { privateKey: KEYS.root.privateKey, certificate: pki.root };
    const card = (validity: { notBefore: Date; notAfter: Date }, issuer = byRoot) =>
      issueCertificate({
        profile: "operator-card",
        subject: { commonName: "Operator 0002", ...ORG },
        publicKey: KEYS.card.publicKey,
        ...validity,
        issuer,
      }, { core });
    const otherRoot = await issueCertificate({
      profile: "root-ca",
      subject: { commonName: "Other Root CA", ...ORG },
      publicKey: KEYS.other.publicKey,
      ...ROOT_VALIDITY,
      issuer: { privateKey: KEYS.other.privateKey },
    }, { core });
    const impostorRoot = await issueCertificate({
      profile: "root-ca",
      subject: { commonName: "TMK Root CA", ...ORG },
      publicKey: KEYS.other.publicKey,
      ...ROOT_VALIDITY,
      issuer: { privateKey: KEYS.other.privateKey },
    }, { core });
    const rootParsed = parseCertificateInternal(pki.root);
    const raw = async (spec: Partial<Parameters<typeof buildCertificate>[0]>) =>
      encodePem(
        "CERTIFICATE",
        await buildCertificate({
          serialNumber: new Uint8Array([0x42, 1, 2, 3]),
          subject: { commonName: "Raw", ...ORG },
          issuerCertificate: rootParsed,
          publicKey: KEYS.spare.publicKey,
          ...CA_VALIDITY,
          signingKey: KEYS.root.privateKey,
          core,
          ...spec,
        }),
      );
    const notCa = await raw({
      subject: { commonName: "Not a CA", ...ORG },
      basicConstraints: { ca: false },
      keyUsage: ["keyCertSign", "digitalSignature"],
    });
    const selfNotCa = await raw({
      subject: { commonName: "Self-signed, not a CA", ...ORG },
      issuerCertificate: undefined,
      signingKey: KEYS.spare.privateKey,
      basicConstraints: { ca: false },
      keyUsage: ["keyCertSign"],
    });
    const noCertSign = await raw({
      subject: { commonName: "No keyCertSign", ...ORG },
      basicConstraints: { ca: true },
      keyUsage: ["cRLSign", "digitalSignature"],
    });
    const subCa = await raw({
      subject: { commonName: "Sub KMS CA", ...ORG },
      issuerCertificate: parseCertificateInternal(pki.kmsCa),
      signingKey: KEYS.kmsCa.privateKey,
      basicConstraints: { ca: true },
      keyUsage: ["keyCertSign"],
    });
    const expiredCa = await raw({
      subject: { commonName: "TMK KMS CA", ...ORG },
      publicKey: KEYS.kmsCa.publicKey,
      notBefore: T("2026-01-01T00:00:00Z"),
      notAfter: T("2027-01-01T00:00:00Z"),
      basicConstraints: { ca: true, pathLength: 0 },
      keyUsage: ["keyCertSign"],
    });
    const signedBy = (issuerPem: string, key: TestKey, spec = {}) =>
      raw({
        subject: { commonName: "Operator 0003", ...ORG },
        publicKey: KEYS.card.publicKey,
        issuerCertificate: parseCertificateInternal(issuerPem),
        signingKey: key.privateKey,
        ...EE_VALIDITY,
        basicConstraints: { ca: false },
        keyUsage: ["digitalSignature"],
        extKeyUsage: [EXT_KEY_USAGE.operatorCard],
        ...spec,
      });
    const expiredCard = await card({
      notBefore: T("2026-01-01T00:00:00Z"),
      notAfter: T("2027-01-01T00:00:00Z"),
    });
    const futureCard = await card({
      notBefore: T("2028-01-01T00:00:00Z"),
      notAfter: T("2030-01-01T00:00:00Z"),
    });
    const roots = [pki.root];
    const rows: [string, string | Uint8Array, Partial<VerifyOptions>, CertificateErrorCode][] = [
      ["expired leaf", expiredCard, {}, "expired"],
      ["expired leaf, one second after notAfter", expiredCard, {
        at: T("2027-01-01T00:00:01Z"),
      }, "expired"],
      ["leaf not yet valid", futureCard, {}, "not_yet_valid"],
      ["leaf one second before notBefore", futureCard, {
        at: T("2027-12-31T23:59:59Z"),
      }, "not_yet_valid"],
      [
        "leaf checked after the root expired",
        pki.card,
        { at: T("2046-01-01T00:00:01Z") },
        "expired",
      ],
      ["leaf checked before the root's notBefore", pki.card, {
        at: T("2025-12-31T23:59:59Z"),
      }, "not_yet_valid"],
      [
        "intermediate expired",
        await signedBy(expiredCa, KEYS.kmsCa, {
          ...EE_VALIDITY,
          notAfter: T("2027-01-01T00:00:00Z"),
          extKeyUsage: [EXT_KEY_USAGE.terminalHsm],
          keyUsage: ["keyEncipherment"],
          subject: { commonName: "Pu_hsm", serialNumber: "SN1", ...ORG },
        }),
        { intermediates: [expiredCa], purpose: "terminal-hsm" },
        "expired",
      ],
      [
        "issued by another CA",
        await card(EE_VALIDITY, {
          privateKey: KEYS.other.privateKey,
          certificate: otherRoot,
        }),
        {},
        "issuer_mismatch",
      ],
      ["terminal certificate without its KMS CA", pki.terminal, {
        purpose: "terminal-hsm",
      }, "issuer_mismatch"],
      [
        "issued by a CA with the root's name and another key",
        await card(EE_VALIDITY, {
          privateKey: KEYS.other.privateKey,
          certificate: impostorRoot,
        }),
        {},
        "bad_signature",
      ],
      ["flipped signature byte", flipSignature(pki.card), {}, "bad_signature"],
      ["tampered subject", tamper(pki.card, "Operator 0001", "Operator 0009"), {}, "bad_signature"],
      ["root with a tampered issuer name (not self-issued)", pki.card, {
        roots: [tamper(pki.root, "TMK Test", "TMK Tesu")],
      }, "issuer_mismatch"],
      ["intermediate given as root", pki.terminal, {
        roots: [pki.kmsCa],
        purpose: "terminal-hsm",
      }, "issuer_mismatch"],
      ["root with a flipped self-signature", pki.card, {
        roots: [flipSignature(pki.root)],
      }, "bad_signature"],
      ["issuer with basicConstraints CA:false", await signedBy(notCa, KEYS.spare), {
        intermediates: [notCa],
      }, "issuer_not_ca"],
      ["self-signed CA:false certificate given as root", await signedBy(selfNotCa, KEYS.spare), {
        roots: [selfNotCa],
      }, "issuer_not_ca"],
      ["end-entity certificate acting as issuer", await signedBy(pki.card, KEYS.card), {
        intermediates: [pki.card],
      }, "issuer_not_ca"],
      ["issuer without keyCertSign", await signedBy(noCertSign, KEYS.spare), {
        intermediates: [noCertSign],
      }, "issuer_key_usage"],
      [
        "CA below the KMS CA (pathLen 0)",
        await signedBy(subCa, KEYS.spare, {
          keyUsage: ["keyEncipherment"],
          extKeyUsage: [EXT_KEY_USAGE.terminalHsm],
          subject: { commonName: "Pu_hsm", serialNumber: "SN2", ...ORG },
        }),
        { intermediates: [pki.kmsCa, subCa], purpose: "terminal-hsm" },
        "path_length",
      ],
      ["operator card used as MTMS transport key", pki.card, {
        purpose: "mtms-transport",
      }, "key_usage"],
      ["MTMS transport key used as operator card", pki.mtms, {}, "key_usage"],
      [
        "certificate without keyUsage",
        await signedBy(pki.root, KEYS.root, { keyUsage: undefined }),
        {},
        "key_usage",
      ],
      ["MTMS transport certificate used as a terminal Pu_hsm", pki.mtms, {
        purpose: "terminal-hsm",
      }, "extended_key_usage"],
      ["terminal Pu_hsm used as MTMS transport key", pki.terminal, {
        intermediates: [pki.kmsCa],
        purpose: "mtms-transport",
      }, "extended_key_usage"],
      ["KMS server used as operator card", pki.kms, {}, "extended_key_usage"],
      ["terminal certificate for another SN", pki.terminal, {
        intermediates: [pki.kmsCa],
        purpose: "terminal-hsm",
        subjectSerialNumber: "SN00012346",
      }, "subject_mismatch"],
      ["sha1WithRSAEncryption", swapSignatureOid(pki.card), {}, "unsupported_algorithm"],
      ["version 2 certificate", tamperHex(pki.card, "A003020102", "A003020101"), {}, "malformed"],
      [
        "unknown critical extension",
        await signedBy(pki.root, KEYS.root, {
          extraExtensions: [{ oid: "1.2.3.4", critical: true, value: new Uint8Array([5, 0]) }],
        }),
        {},
        "unknown_critical_extension",
      ],
      [
        "keyUsage twice",
        await signedBy(pki.root, KEYS.root, {
          extraExtensions: [{
            oid: "2.5.29.15",
            critical: true,
            value: new Uint8Array([3, 2, 7, 0x80]),
          }],
        }),
        {},
        "malformed",
      ],
      [
        "keyUsage that is not a BIT STRING",
        await signedBy(pki.root, KEYS.root, {
          keyUsage: undefined,
          extraExtensions: [{ oid: "2.5.29.15", critical: true, value: new Uint8Array([5, 0]) }],
        }),
        {},
        "malformed",
      ],
      ["truncated DER", decodePem(pki.card, "CERTIFICATE").subarray(0, 300), {}, "malformed"],
      ["DER with a trailing byte", appendByte(pki.card), {}, "malformed"],
      ["empty DER", new Uint8Array(0), {}, "malformed"],
      [
        "DER that is not a certificate",
        new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]),
        {},
        "malformed",
      ],
      ["garbage text", "hello, I am a certificate", {}, "not_pem"],
      ["two PEM blocks", pki.card + pki.root, {}, "not_pem"],
      ["mismatched BEGIN/END", pki.card.replace("END CERTIFICATE", "END X509 CRL"), {}, "not_pem"],
      ["wrong PEM label", pki.card.replaceAll("CERTIFICATE", "PUBLIC KEY"), {}, "pem_label"],
      ["bad base64 character", pki.card.replace(/\n(.)/, "\n*"), {}, "bad_base64"],
      ["bad base64 length", pki.card.replace(/\n(.)/, "\n"), {}, "bad_base64"],
      [
        "empty PEM body",
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        {},
        "bad_base64",
      ],
      ["root that is not PEM", pki.card, { roots: ["not a root"] }, "not_pem"],
      ["intermediate truncated", pki.terminal, {
        intermediates: [decodePem(pki.kmsCa, "CERTIFICATE").subarray(0, 100)],
        purpose: "terminal-hsm",
      }, "malformed"],
    ];
    for (const [name, leaf, extra, code] of rows) {
      const err = await assertRejects(
        () => verifyChain(leaf, { roots, purpose: "operator-card", at: AT, ...extra }),
        CertificateError,
        undefined,
        name,
      );
      assertEquals(err.code, code, `${name}: ${err.message}`);
    }
  });
}

Deno.test("pki: issueCertificate refuses bad requests", async () => {
  const core = cores[0];
  const pki = pkis.get(core.name)!;
  const base = {
    profile: "operator-card" as const,
    subject: { commonName: "Operator 0004" },
    publicKey: KEYS.card.publicKey,
    ...EE_VALIDITY,
    issuer: { privateKey: KEYS.root.privateKey, certificate: pki.root },
  };
  const short = nodeRsaKey(1024);
  const rows: [string, Record<string, unknown>, ErrorConstructor, RegExp][] = [
    ["unknown profile", { profile: "tls" }, RangeError, /request\.profile must be one of/],
    ["no commonName", { subject: { organization: "X" } }, RangeError, /commonName is required/],
    ["long commonName", { subject: { commonName: "x".repeat(65) } }, RangeError, /1 to 64/],
    ["bad country", { subject: { commonName: "A", country: "cn" } }, RangeError, /country/],
    ["unknown attribute", { subject: { commonName: "A", email: "a@b" } }, RangeError, /email/],
    [
      "SN not printable",
      { subject: { commonName: "A", serialNumber: "SN_1" } },
      RangeError,
      /PrintableString/,
    ],
    ["1024-bit key", { publicKey: short.publicKey }, RangeError, /2048 to 4096 bits, got 1024/],
    ["key not bytes", { publicKey: { n: "00", e: "03" } }, TypeError, /request\.publicKey\.n/],
    [
      "fractional second",
      { notBefore: T("2026-01-01T00:00:00.500Z") },
      RangeError,
      /whole seconds/,
    ],
    [
      "notAfter before notBefore",
      { notAfter: T("2025-01-01T00:00:00Z") },
      RangeError,
      /must be after/,
    ],
    ["invalid date", { notAfter: new Date(NaN) }, RangeError, /invalid Date/],
    [
      "beyond the issuer's validity",
      { notAfter: T("2047-01-01T00:00:00Z") },
      RangeError,
      /within issuer/,
    ],
    [
      "no issuer certificate",
      { issuer: { privateKey: KEYS.root.privateKey } },
      RangeError,
      /certificate is required/,
    ],
    [
      "issuer key mismatch",
      {
        issuer: { privateKey: KEYS.other.privateKey, certificate: pki.root },
      },
      RangeError,
      /is not the key of issuer/,
    ],
    ["terminal without SN", { profile: "terminal-hsm" }, RangeError, /serialNumber/],
    [
      "root not self-signed",
      {
        profile: "root-ca",
        issuer: { privateKey: KEYS.root.privateKey },
      },
      RangeError,
      /private key of request\.publicKey/,
    ],
    [
      "DNS name on a CA",
      {
        profile: "kms-ca",
        dnsNames: ["a.b"],
      },
      RangeError,
      /end entities/,
    ],
    ["bad DNS name", { dnsNames: ["-bad-.host"] }, RangeError, /DNS host name/],
  ];
  for (const [name, change, cls, msg] of rows) {
    await assertRejects(
      () => issueCertificate({ ...base, ...change } as never, { core }),
      cls,
      undefined,
      name,
    ).then((e) => assertMatch(e.message, msg, name));
  }
  const caRows: [string, string, CertificateErrorCode][] = [
    ["issuer is an end entity", pki.card, "issuer_not_ca"],
    ["KMS CA cannot issue a CA", pki.kmsCa, "path_length"],
    ["issuer PEM is garbage", "garbage", "not_pem"],
  ];
  for (const [name, certificate, code] of caRows) {
    const key = certificate === pki.kmsCa ? KEYS.kmsCa : KEYS.card;
    const e = await assertRejects(
      () =>
        issueCertificate({
          ...base,
          profile: certificate === pki.kmsCa ? "kms-ca" : "operator-card",
          issuer: { privateKey: key.privateKey, certificate },
        }, { core }),
      CertificateError,
    );
    assertEquals(e.code, code, name);
  }
});

Deno.test("pki: PEM encoding round-trips and rejects bad labels", () => {
  const der = new Uint8Array(100).map((_, i) => i);
  const pem = encodePem("CERTIFICATE", der);
  assertMatch(
    pem,
    /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/]{64}\n){2}[A-Za-z0-9+/]{6}==\n-----END CERTIFICATE-----\n$/,
  );
  assertEquals(decodePem(pem, "CERTIFICATE"), der);
  assertEquals(decodePem("\r\n" + pem.replaceAll("\n", "\r\n") + "\n\n", "CERTIFICATE"), der);
  assertThrows(() => encodePem("bad--label", der), RangeError, "RFC 7468 label");
  assertThrows(() => encodePem("X", new Uint8Array(0)), RangeError, "must not be empty");
  assertThrows(() => decodePem(42 as unknown as string, "X"), TypeError, "text must be a string");
});

function flipSignature(pem: string): string {
  const der = decodePem(pem, "CERTIFICATE");
  der[der.length - 1] ^= 0x01;
  return encodePem("CERTIFICATE", der);
}

function tamper(pem: string, from: string, to: string): string {
  const der = decodePem(pem, "CERTIFICATE");
  const f = new TextEncoder().encode(from);
  const t = new TextEncoder().encode(to);
  const at = toHex(der).indexOf(toHex(f));
  if (at < 0 || at % 2 !== 0) throw new Error(`tamper: ${from} not found`);
  der.set(t, at / 2);
  return encodePem("CERTIFICATE", der);
}

function tamperHex(pem: string, from: string, to: string): string {
  const hex = toHex(decodePem(pem, "CERTIFICATE"));
  const at = hex.indexOf(from);
  if (at < 0 || at % 2 !== 0) throw new Error(`tamperHex: ${from} not found`);
  const out = hex.slice(0, at) + to + hex.slice(at + from.length);
  return encodePem("CERTIFICATE", Uint8Array.from(out.match(/../g)!, (h) => parseInt(h, 16)));
}

function swapSignatureOid(pem: string): string {
  // sha256WithRSAEncryption 1.2.840.113549.1.1.11 -> sha1WithRSAEncryption ...1.1.5, both places.
  const hex = toHex(decodePem(pem, "CERTIFICATE")).replaceAll(
    "06092A864886F70D01010B",
    "06092A864886F70D010105",
  );
  return encodePem("CERTIFICATE", Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16)));
}

function appendByte(pem: string): Uint8Array {
  const der = decodePem(pem, "CERTIFICATE");
  const out = new Uint8Array(der.length + 1);
  out.set(der);
  return out;
}

Deno.test("pki: OID content octets with arcs of any size (X.690 8.19)", () => {
  const rows: [string, string][] = [
    ["1.2.840.113549.1.1.11", "2A864886F70D01010B"], // sha256WithRSAEncryption, RFC 4055
    ["2.5.29.37", "551D25"], // id-ce-extKeyUsage, RFC 5280
    ["2.999.3", "883703"], // X.690 section 8.19.5 example
    [
      "2.25.221924170463554179671283123399974609328.1.1",
      "6982CDF585988196EA9CD9A3B1E38AE5F0C9C3300101", // as asn1js encodes it
    ],
  ];
  for (const [oid, content] of rows) {
    assertEquals(toHex(oidToContent(oid)), content, oid);
    assertEquals(oidFromContent(oidToContent(oid)), oid);
  }
  const bad: [string, string][] = [
    ["1.40", "second arc must be below 40"],
    ["3.1", "dotted OBJECT IDENTIFIER"],
    ["1.02.3", "dotted OBJECT IDENTIFIER"],
    ["1", "dotted OBJECT IDENTIFIER"],
  ];
  for (const [oid, msg] of bad) assertThrows(() => oidToContent(oid), RangeError, msg);
  assertThrows(() => oidFromContent(new Uint8Array(0)), RangeError, "empty");
  assertThrows(() => oidFromContent(new Uint8Array([0x2a, 0x86])), RangeError, "inside an arc");
  assertThrows(() => oidFromContent(new Uint8Array([0x2a, 0x80, 0x01])), RangeError, "minimal");
});

Deno.test("pki: verifyChain checks validity at the current time by default", async () => {
  const core = cores[0];
  const pki = pkis.get(core.name)!;
  const now = Math.floor(Date.now() / 1000) * 1000;
  const issue = (notBefore: number, notAfter: number) =>
    issueCertificate({
      profile: "operator-card",
      subject: { commonName: "Operator 0005" },
      publicKey: KEYS.card.publicKey,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      issuer: { privateKey: KEYS.root.privateKey, certificate: pki.root },
    }, { core });
  const current = await issue(now - 60_000, now + 3_600_000);
  const past = await issue(now - 7_200_000, now - 3_600_000);
  const future = await issue(now + 3_600_000, now + 7_200_000);
  await verifyChain(current, { roots: [pki.root], purpose: "operator-card" });
  const rows: [string, string, CertificateErrorCode][] = [
    ["ended an hour ago", past, "expired"],
    ["starts in an hour", future, "not_yet_valid"],
  ];
  for (const [name, pem, code] of rows) {
    const e = await assertRejects(
      () => verifyChain(pem, { roots: [pki.root], purpose: "operator-card" }),
      CertificateError,
    );
    assertEquals(e.code, code, name);
  }
});

Deno.test("pki: certificates made by openssl are verified, and openssl's root can issue", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pki_openssl_" });
  try {
    const run = async (args: string[]) => {
      const r = await openssl(args);
      assertEquals(r.code, 0, `openssl ${args.join(" ")}: ${r.out}`);
    };
    await run([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-sha256",
      "-days",
      "30",
      "-keyout",
      `${dir}/root.key`,
      "-out",
      `${dir}/root.pem`,
      "-subj",
      "/C=CN/O=OpenSSL Test/CN=OpenSSL Root",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    await run([
      "req",
      "-new",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${dir}/card.key`,
      "-out",
      `${dir}/card.csr`,
      "-subj",
      "/CN=OpenSSL Card",
    ]);
    await Deno.writeTextFile(
      `${dir}/ext.cnf`,
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n` +
        `extendedKeyUsage=${EXT_KEY_USAGE.operatorCard}\n`,
    );
    await run([
      "x509",
      "-req",
      "-in",
      `${dir}/card.csr`,
      "-CA",
      `${dir}/root.pem`,
      "-CAkey",
      `${dir}/root.key`,
      "-set_serial",
      "0x1234",
      "-days",
      "10",
      "-sha256",
      "-extfile",
      `${dir}/ext.cnf`,
      "-out",
      `${dir}/card.pem`,
    ]);
    const root = await Deno.readTextFile(`${dir}/root.pem`);
    const card = await Deno.readTextFile(`${dir}/card.pem`);
    const v = await verifyChain(card, { roots: [root], purpose: "operator-card" });
    const nodeKey = new X509Certificate(card).publicKey.export({ format: "jwk" });
    assertEquals(exportJwk(v.publicKey).n, nodeKey.n);
    assertEquals(exportJwk(v.publicKey).e, nodeKey.e);
    assertEquals(v.certificate.subject, { commonName: "OpenSSL Card" });
    const e = await assertRejects(
      () => verifyChain(card, { roots: [root], purpose: "mtms-transport" }),
      CertificateError,
    );
    assertEquals(e.code, "key_usage");

    // Our CA under openssl's root: the issuer name is copied from a foreign certificate.
    const rootKey = importPrivateKeyPem(await Deno.readTextFile(`${dir}/root.key`));
    const rootInfo = parseCertificate(root);
    for (const core of cores) {
      const mine = await issueCertificate({
        profile: "mtms-transport",
        subject: { commonName: "MTMS under OpenSSL root" },
        publicKey: KEYS.mtms.publicKey,
        notBefore: rootInfo.notBefore,
        notAfter: rootInfo.notAfter,
        issuer: { privateKey: rootKey, certificate: root },
      }, { core });
      await Deno.writeTextFile(`${dir}/mine.pem`, mine);
      await run(["verify", "-x509_strict", "-CAfile", `${dir}/root.pem`, `${dir}/mine.pem`]);
      await verifyChain(mine, { roots: [root], purpose: "mtms-transport" });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pki: verifyChain refuses bad arguments", async () => {
  const pki = pkis.get(cores[0].name)!;
  const ok = { roots: [pki.root], purpose: "operator-card" };
  const rows: [string, unknown, unknown, ErrorConstructor, string][] = [
    ["options null", pki.card, null, TypeError, "options must be a VerifyOptions object, got null"],
    ["unknown purpose", pki.card, { ...ok, purpose: "root-ca" }, RangeError, "options.purpose"],
    [
      "at not a Date",
      pki.card,
      { ...ok, at: "2027-01-01" },
      TypeError,
      "options.at must be a Date",
    ],
    ["invalid at", pki.card, { ...ok, at: new Date(NaN) }, RangeError, "invalid Date"],
    ["roots not an array", pki.card, { ...ok, roots: pki.root }, TypeError, "options.roots"],
    ["no roots", pki.card, { ...ok, roots: [] }, RangeError, "at least one root"],
    ["leaf a number", 42, ok, TypeError, "got number"],
    ["SN a number", pki.card, { ...ok, subjectSerialNumber: 1 }, TypeError, "subjectSerialNumber"],
  ];
  for (const [name, leaf, options, cls, msg] of rows) {
    await assertRejects(
      () => verifyChain(leaf as string, options as VerifyOptions),
      cls,
      msg,
      name,
    );
  }
});

Deno.test("pki: validity after 2049 is written as GeneralizedTime and read back", async () => {
  for (const core of cores) {
    const notBefore = T("2049-12-31T23:59:59Z");
    const notAfter = T("2101-03-04T05:06:07Z");
    const pem = await issueCertificate({
      profile: "root-ca",
      subject: { commonName: "Long Root" },
      publicKey: KEYS.spare.publicKey,
      notBefore,
      notAfter,
      issuer: { privateKey: KEYS.spare.privateKey },
    }, { core });
    const der = toHex(decodePem(pem, "CERTIFICATE"));
    assert(der.includes("170D3439313233313233353935395A"), "UTCTime 491231235959Z");
    assert(der.includes("180F32313031303330343035303630375A"), "GeneralizedTime 21010304050607Z");
    const info = parseCertificate(pem);
    assertEquals([info.notBefore, info.notAfter], [notBefore, notAfter]);
    const x = new X509Certificate(pem);
    assertEquals([new Date(x.validFrom), new Date(x.validTo)], [notBefore, notAfter]);
  }
});

Deno.test("pki: an external signer (an HSM) can sign, and its signature is checked", async () => {
  for (const core of cores) {
    const pki = pkis.get(core.name)!;
    const seen: Uint8Array[] = [];
    const hsmSign = async (tbs: Uint8Array) => {
      seen.push(tbs);
      return await pkcs1v15Sign(KEYS.kmsCa.privateKey, tbs, { core });
    };
    const request = {
      profile: "terminal-hsm" as const,
      subject: { commonName: "Pu_hsm", serialNumber: "SN77" },
      publicKey: KEYS.terminal.publicKey,
      ...EE_VALIDITY,
      issuer: { certificate: pki.kmsCa, sign: hsmSign },
    };
    const pem = await issueCertificate(request, { core });
    assertEquals(seen.length, 1);
    const v = await verifyChain(pem, {
      roots: [pki.root],
      intermediates: [pki.kmsCa],
      purpose: "terminal-hsm",
      subjectSerialNumber: "SN77",
      at: AT,
    });
    assertEquals(v.publicKey, KEYS.terminal.publicKey);
    assert(new X509Certificate(pem).verify(KEYS.kmsCa.nodePublic));

    const rows: [string, Record<string, unknown>, ErrorConstructor, string][] = [
      [
        "signer with the wrong key",
        {
          certificate: pki.kmsCa,
          sign: (tbs: Uint8Array) => pkcs1v15Sign(KEYS.spare.privateKey, tbs, { core }),
        },
        RangeError,
        "does not verify under the issuer's public key",
      ],
      [
        "signer returning text",
        {
          certificate: pki.kmsCa,
          sign: () => Promise.resolve("AB"),
        },
        TypeError,
        "must return a Uint8Array",
      ],
      [
        "both privateKey and sign",
        {
          certificate: pki.kmsCa,
          privateKey: KEYS.kmsCa.privateKey,
          sign: hsmSign,
        },
        TypeError,
        "exactly one of privateKey and sign",
      ],
      ["neither", { certificate: pki.kmsCa }, TypeError, "exactly one of privateKey and sign"],
      [
        "sign not a function",
        {
          certificate: pki.kmsCa,
          sign: "hsm",
        },
        TypeError,
        "request.issuer.sign must be a function, got string",
      ],
    ];
    for (const [name, issuer, cls, msg] of rows) {
      await assertRejects(
        () => issueCertificate({ ...request, issuer } as never, { core }),
        cls,
        msg,
        name,
      );
    }
  }
});
