/**
 * TR-34 against an independent CMS implementation, `openssl cms` (OpenSSL 3):
 * every key token this library builds verifies (signature, messageDigest,
 * certificate chain) and its EnvelopedData decrypts to the key block; what
 * `openssl cms -encrypt` and `openssl cms -sign` build from the same parts is
 * read, verified and opened here. So does a key token the KMS's way builds:
 * the HSM envelopes the TMK under its LMK and signs with the KDH key block.
 *
 * @module
 */
import * as asn1js from "asn1js";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import {
  buildCredentialToken,
  buildCrl,
  buildSignedData,
  createBindingToken,
  createKeyToken,
  CT,
  decodeKeyBlock,
  encodeKeyBlock,
  Krd,
  openEnvelope,
  readCertificate,
  readCredentialToken,
  readRandomNumberToken,
  readSignedData,
  signerOf,
  signKeyToken,
  TMK_POLICY,
  tokenKind,
  Tr34Error,
  verifySigner,
} from "../../src/tr34/mod.ts";
import { keyTransportOf } from "../../src/tr34/mod.ts";
import { hex, toHex } from "../_helpers.ts";
import { KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import { makeHsm } from "../hsm/_fixtures.ts";
import { AT, makePki, run } from "./_pki.ts";

const pki = await makePki();
const core = await loadCore();
const chain = `${pki.dir}/chain.pem`;
await Deno.writeTextFile(chain, pki.root.cert + pki.kdhCa.cert);
const kdh = { certificate: pki.kdh.cert, sign: signerOf(pki.kdh.key, core) };
/** `-attime` for openssl: the test PKI's validity point. */
const ATTIME = String(AT.getTime() / 1000);

/** Wraps an EnvelopedData SEQUENCE in a ContentInfo (RFC 5652 3), as openssl reads it. */
function contentInfo(type: string, body: Uint8Array): Uint8Array {
  const inner = asn1js.fromBER(body.slice().buffer).result;
  const ci = new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: type }),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [inner] }),
    ],
  });
  return new Uint8Array(ci.toBER());
}

/** The content of a ContentInfo (the inverse of {@link contentInfo}). */
function unwrap(ci: Uint8Array): Uint8Array {
  const seq = asn1js.fromBER(ci.slice().buffer).result as asn1js.Sequence;
  const tagged = seq.valueBlock.value[1] as asn1js.Constructed;
  return new Uint8Array(tagged.valueBlock.value[0].toBER());
}

async function openssl(args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const r = await run("openssl", args, stdin);
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** openssl cms -verify of a DER SignedData; returns the verified eContent. */
function opensslVerify(token: Uint8Array): Promise<Uint8Array> {
  return openssl(
    ["cms", "-verify", "-inform", "DER", "-binary", "-CAfile", chain, "-certfile", pki.kdh.certFile]
      .concat(["-purpose", "any", "-attime", ATTIME]),
    token,
  );
}

/** openssl cms -decrypt of an EnvelopedData SEQUENCE for the KRD; returns the content. */
function opensslDecrypt(env: Uint8Array): Promise<Uint8Array> {
  return openssl(
    ["cms", "-decrypt", "-inform", "DER", "-binary", "-recip", pki.krd.certFile]
      .concat(["-inkey", pki.krd.keyFile]),
    contentInfo(CT.envelopedData, env),
  );
}

for (const cipher of ["tdes", "aes128", "aes192", "aes256"] as const) {
  Deno.test(`tr34 openssl: a 2-pass key token (${cipher}) verifies and decrypts with openssl cms`, async () => {
    const key = hex(cipher === "tdes" ? "0123456789ABCDEFFEDCBA9876543210" : "00".repeat(32));
    const header = cipher === "tdes" ? "A0256K0TB00E0000" : "D0256K0AB00E0000";
    const token = await createKeyToken(kdh, {
      krd: pki.krd.cert,
      header,
      key,
      nonce: hex("167EB0E72781E4940112233445566778"),
      cipher,
      at: AT,
      core,
    });
    const env = await opensslVerify(token);
    assertEquals(toHex(env), toHex(readSignedData(token).eContent!));
    const block = decodeKeyBlock(await opensslDecrypt(env));
    assertEquals(block.header, header);
    assertEquals(toHex(block.key), toHex(key));
    assertEquals(block.kdh, readCertificate(pki.kdh.cert, "kdh").id);
  });
}

Deno.test("tr34 openssl: a key token the HSM builds (TMK enveloped inside it) verifies and decrypts", async () => {
  const { hsm, lmk } = await makeHsm(core);
  const kdhBlock = await hsm.importRsaPrivateKey(pki.kdh.key, KEY_TEMPLATES.RSA_KDH);
  const tmk = await hsm.generateKey(KEY_TEMPLATES.TMK);
  const out = await hsm.exportKeyTr34(tmk.keyBlock, {
    krdCertificate: pki.krd.cert,
    kdhCertificate: pki.kdh.cert,
  });
  const token = await signKeyToken(
    { certificate: pki.kdh.cert, sign: (m) => hsm.sign(kdhBlock.privateKeyBlock, m) },
    { envelopedData: out.envelopedData, header: out.header, nonce: hex("00".repeat(16)), core },
  );
  const env = await opensslVerify(token);
  assertEquals(toHex(env), toHex(out.envelopedData));
  const block = decodeKeyBlock(await opensslDecrypt(env));
  assertEquals(block.header, out.header);
  assertEquals(toHex(block.key), toHex((await unwrapKeyBlock(lmk, tmk.keyBlock, { core })).key));
  assertEquals(block.kdh, readCertificate(pki.kdh.cert, "kdh").id);
});

Deno.test("tr34 openssl: a 1-pass token, a rebind token and an unbind token verify with openssl cms", async () => {
  const oneP = await createKeyToken(kdh, {
    krd: pki.krd.cert,
    header: "A0256K0TB00E0000",
    key: hex("0123456789ABCDEFFEDCBA9876543210"),
    timestamp: AT,
    at: AT,
    core,
  });
  await opensslVerify(oneP);
  const rebind = await createBindingToken(kdh, {
    kind: "rebind",
    krd: pki.krd.cert,
    newKdh: pki.kdh2.cert,
    timestamp: AT,
    core,
  });
  assertEquals(toHex(await opensslVerify(rebind)), toHex(readSignedData(rebind).eContent!));
  const unbind = await createBindingToken(kdh, {
    kind: "unbind",
    krd: pki.krd.cert,
    timestamp: AT,
    core,
  });
  assertEquals(toHex(await opensslVerify(unbind)), toHex(readSignedData(unbind).eContent!));
});

Deno.test("tr34 openssl: a token with one signature byte changed fails openssl cms -verify", async () => {
  const token = await createKeyToken(kdh, {
    krd: pki.krd.cert,
    header: "A0256K0TB00E0000",
    key: hex("0123456789ABCDEFFEDCBA9876543210"),
    timestamp: AT,
    at: AT,
    core,
  });
  const args = ["cms", "-verify", "-inform", "DER", "-noverify", "-certfile", pki.kdh.certFile];
  assertEquals((await run("openssl", args, token)).code, 0);
  const bad = token.slice();
  bad[bad.length - 10] ^= 1;
  const r = await run("openssl", args, bad);
  assert(r.code !== 0, "openssl accepted a tampered signature");
  assertStringIncludes(r.stderr, "CMS_SignerInfo_verify:verification failure");
});

/** `openssl cms -encrypt` of `content` to the KRD with RSAES-OAEP SHA-256. */
async function opensslEnvelope(content: Uint8Array, cipher: string): Promise<Uint8Array> {
  const ci = await openssl(
    ["cms", "-encrypt", "-binary", "-outform", "DER", `-${cipher}`, "-recip", pki.krd.certFile]
      .concat(["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"])
      .concat(["-keyopt", "rsa_mgf1_md:sha256"]),
    content,
  );
  return unwrap(ci);
}

for (const [cipher, ours] of [["des3", "tdes"], ["aes128", "aes128"], ["aes256", "aes256"]]) {
  Deno.test(`tr34 openssl: an EnvelopedData from openssl cms -encrypt -${cipher} opens here`, async () => {
    const kdhId = readCertificate(pki.kdh.cert, "kdh").id;
    const block = encodeKeyBlock(
      kdhId,
      hex("0123456789ABCDEFFEDCBA9876543210"),
      "A0256K0TB00E0000",
    );
    const env = await opensslEnvelope(block, cipher);
    const krdId = readCertificate(pki.krd.cert, "krd").id;
    const opened = await openEnvelope(env, krdId, keyTransportOf(pki.krd.key, core), core);
    assertEquals(opened.cipher, ours);
    assertEquals(toHex(opened.content), toHex(block));
    // The same envelope in a key token signed here is accepted by a KRD.
    const krd = new Krd({
      certificate: pki.krd.cert,
      key: pki.krd.key,
      kdhCas: [pki.kdhCa.cert],
      kdh: pki.kdh.cert,
      policy: TMK_POLICY,
    });
    const nonce = readRandomNumberToken(krd.randomNumberToken());
    const token = await buildSignedData({
      eContentType: CT.envelopedData,
      eContent: env,
      signer: {
        id: kdhId,
        sign: kdh.sign,
        attributes: [
          attr("1.2.840.113549.1.9.25.3", new asn1js.OctetString({ valueHex: nonce })),
          attr(
            CT.data,
            new asn1js.OctetString({ valueHex: new TextEncoder().encode("A0256K0TB00E0000") }),
          ),
        ],
      },
    }, core);
    const got = await krd.openKeyToken(token, AT);
    assertEquals(toHex(got.key), "0123456789ABCDEFFEDCBA9876543210");
  });
}

function attr(type: string, value: asn1js.AsnType): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: type }), new asn1js.Set({ value: [value] })],
  });
}

Deno.test("tr34 openssl: a SignedData from openssl cms -sign over an EnvelopedData verifies here", async () => {
  const kdhId = readCertificate(pki.kdh.cert, "kdh").id;
  const block = encodeKeyBlock(kdhId, hex("0123456789ABCDEFFEDCBA9876543210"), "A0256K0TB00E0000");
  const env = await opensslEnvelope(block, "aes256");
  const args = ["cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-md", "sha256"]
    .concat(["-econtent_type", CT.envelopedData, "-signer", pki.kdh.certFile])
    .concat(["-inkey", pki.kdh.keyFile, "-nocerts"]);
  const token = await openssl(args, env);
  const sd = readSignedData(token);
  assertEquals(sd.eContentType, CT.envelopedData);
  assertEquals(toHex(sd.eContent!), toHex(env));
  assertEquals(tokenKind(sd), "key-1pass");
  const signer = readCertificate(pki.kdh.cert, "kdh");
  assertEquals(sd.signerInfos[0].sid, signer.id);
  await verifySigner(sd, sd.signerInfos[0], signer.publicKey, core);
  // openssl cannot add the key block header attribute, so a KRD refuses the token for that.
  const e = await assertRejects(
    () =>
      new Krd({ certificate: pki.krd.cert, key: pki.krd.key, kdhCas: [], kdh: pki.kdh.cert })
        .openKeyToken(token),
    Tr34Error,
  );
  assertEquals(e.code, "attribute_missing");
  // One changed content byte: the messageDigest no longer matches.
  const bad = token.slice();
  const at = indexOf(bad, env) + env.length - 3;
  bad[at] ^= 1;
  const e2 = await assertRejects(
    () => verifySigner(readSignedData(bad), sd.signerInfos[0], signer.publicKey, core),
    Tr34Error,
  );
  assertEquals(e2.code, "content_altered");
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error("needle not found");
}

Deno.test("tr34 openssl: credential tokens and the KDH CRL read with openssl", async () => {
  const krd = new Krd({ certificate: pki.krd.cert, key: pki.krd.key, kdhCas: [pki.kdhCa.cert] });
  const ct = await krd.credentialToken();
  const printed = new TextDecoder().decode(
    await openssl(["pkcs7", "-inform", "DER", "-print_certs", "-noout"], ct),
  );
  assert(printed.includes("CN = TR34 Test KRD 1"), printed);
  const kdhCert = readCertificate(pki.kdh.cert, "kdh");
  const crl = await buildCrl({
    issuer: pki.kdhCa.cert,
    sign: signerOf(pki.kdhCa.key, core),
    revoked: [{ serial: readCertificate(pki.kdh2.cert, "kdh2").id.serial, date: AT }],
    thisUpdate: AT,
    nextUpdate: new Date(AT.getTime() + 30 * 86400e3),
  }, core);
  const crlFile = `${pki.dir}/kdh_ca.crl`;
  await Deno.writeFile(crlFile, crl);
  const v = await run("openssl", [
    "crl",
    "-inform",
    "DER",
    "-in",
    crlFile,
    "-CAfile",
    pki.kdhCa.certFile,
    "-noout",
  ]);
  assertEquals(v.code, 0, v.stderr);
  assertStringIncludes(v.stderr + new TextDecoder().decode(v.stdout), "verify OK");
  // CT_KDH with the CA's CRL: the KRD binds to the KDH; the revoked KDH 2 is refused.
  const ctKdh = await buildCredentialToken([kdhCert.der], [crl], core);
  const withCrl = new TextDecoder().decode(
    await openssl(["pkcs7", "-inform", "DER", "-print_certs", "-noout"], ctKdh),
  );
  assert(withCrl.includes("CN = TR34 Test KDH 1"), withCrl);
  await krd.acceptKdhCredential(ctKdh, AT);
  assertEquals(toHex(krd.boundKdh!), toHex(kdhCert.der));
  const ctKdh2 = await buildCredentialToken(
    [readCertificate(pki.kdh2.cert, "kdh2").der],
    [crl],
    core,
  );
  const e = await assertRejects(() => krd.acceptKdhCredential(ctKdh2, AT), Tr34Error);
  assertEquals(e.code, "kdh_revoked");
  // A valid KDH other than the bound one.
  const ctShort = await buildCredentialToken(
    [readCertificate(pki.kdhShort.cert, "s").der],
    [],
    core,
  );
  const e2 = await assertRejects(
    () => krd.acceptKdhCredential(ctShort, new Date("2026-06-01T00:00:00Z")),
    Tr34Error,
  );
  assertEquals(e2.code, "wrong_kdh");
  assertEquals(readCredentialToken(ct).certificates.length, 1);
  // A KRD that trusts no CA cannot take a KDH from a credential token.
  const e3 = await assertRejects(
    () =>
      new Krd({ certificate: pki.krd.cert, key: pki.krd.key, kdhCas: [] })
        .acceptKdhCredential(ctKdh, AT),
    Tr34Error,
  );
  assertEquals(e3.code, "kdh_untrusted");
});
