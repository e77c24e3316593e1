/**
 * Every Tr34Error code, each from a token or certificate that breaks exactly
 * the rule the code names; a table at the end checks that no code is left
 * without its case.
 *
 * @module
 */
import * as asn1js from "asn1js";
import { assertEquals, assertRejects } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import {
  buildCrl,
  buildSignedData,
  type CertId,
  createBindingToken,
  createKeyToken,
  CT,
  encodeKeyBlock,
  envelope,
  Krd,
  type KrdConfig,
  openKeyToken,
  type OpenKeyTokenOptions,
  readCertificate,
  readRandomNumberToken,
  readSignedData,
  signerOf,
  TMK_POLICY,
  Tr34Error,
  type Tr34ErrorCode,
} from "../../src/tr34/mod.ts";
import { hex, toHex } from "../_helpers.ts";
import { AT, makePki } from "./_pki.ts";

const pki = await makePki();
const core = await loadCore();
const kdh = { certificate: pki.kdh.cert, sign: signerOf(pki.kdh.key, core) };
const kdhId: CertId = readCertificate(pki.kdh.cert, "kdh").id;
const TMK = hex("0123456789ABCDEFFEDCBA9876543210");
const HDR = "A0256K0TB00E0000";
const covered = new Set<Tr34ErrorCode>();

function krd(extra: Partial<KrdConfig> = {}): Krd {
  return new Krd({
    certificate: pki.krd.cert,
    key: pki.krd.key,
    kdhCas: [pki.kdhCa.cert],
    kdh: pki.kdh.cert,
    policy: TMK_POLICY,
    core,
    ...extra,
  });
}

async function refused(code: Tr34ErrorCode, f: () => unknown): Promise<Tr34Error> {
  const e = await assertRejects(async () => {
    await f();
  }, Tr34Error);
  assertEquals(e.code, code, e.message);
  covered.add(code);
  return e;
}

/** A 2-pass token for `device`, with a random number it issued. */
async function twoPass(device: Krd, extra: Record<string, unknown> = {}): Promise<Uint8Array> {
  const nonce = readRandomNumberToken(device.randomNumberToken());
  return await createKeyToken(kdh, {
    krd: pki.krd.cert,
    header: HDR,
    key: TMK,
    nonce,
    at: AT,
    core,
    ...extra,
  });
}

function attr(type: string, value: asn1js.AsnType): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: type }), new asn1js.Set({ value: [value] })],
  });
}
const octs = (b: Uint8Array) => new asn1js.OctetString({ valueHex: b.slice().buffer });
const text = (s: string) => new TextEncoder().encode(s);

/** A key token built part by part, so that one part can break a rule. */
async function handMade(parts: {
  nonce?: Uint8Array;
  signedHeader?: string;
  blockHeader?: string;
  key?: Uint8Array;
}): Promise<Uint8Array> {
  const krdCert = readCertificate(pki.krd.cert, "krd");
  const block = encodeKeyBlock(kdhId, parts.key ?? TMK, parts.blockHeader ?? HDR);
  const env = await envelope(
    { recipient: krdCert.id, publicKey: krdCert.publicKey, content: block, cipher: "aes256" },
    core,
  );
  const attributes = [];
  if (parts.nonce) attributes.push(attr("1.2.840.113549.1.9.25.3", octs(parts.nonce)));
  if (parts.signedHeader !== undefined) {
    attributes.push(attr(CT.data, octs(text(parts.signedHeader))));
  }
  return await buildSignedData({
    eContentType: CT.envelopedData,
    eContent: env,
    signer: { id: kdhId, sign: kdh.sign, attributes },
  }, core);
}

/** Replaces the first occurrence of `from` in `bytes` by `to` (same length). */
function patch(bytes: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  const out = bytes.slice();
  outer: for (let i = 0; i + from.length <= out.length; i++) {
    for (let j = 0; j < from.length; j++) if (out[i + j] !== from[j]) continue outer;
    out.set(to, i);
    return out;
  }
  throw new Error("pattern not found");
}

Deno.test("tr34 errors: malformed: truncated DER, trailing bytes, not a certificate", async () => {
  const d = krd();
  const token = await twoPass(d);
  for (const n of [1, 10, token.length >> 1]) {
    await refused("malformed", () => d.openKeyToken(token.subarray(0, token.length - n), AT));
  }
  const longer = new Uint8Array(token.length + 1);
  longer.set(token);
  await refused("malformed", () => d.openKeyToken(longer, AT));
  // Fields outside the signature that asn1js alone would let through.
  const fresh = async () => await twoPass(d);
  assertEquals(toHex((await fresh()).subarray(0, 4)).slice(0, 4), "3082");
  const flip = (t: Uint8Array, at: number, mask: number) => {
    const x = t.slice();
    x[at] ^= mask;
    return x;
  };
  // The outer length 0x04xx -> 0x00xx: a length that disagrees with the content.
  await refused("malformed", async () => d.openKeyToken(flip(await fresh(), 2, 0x04), AT));
  // The SignedData version INTEGER -> ENUMERATED, and 1 -> 5.
  await refused("malformed", async () => d.openKeyToken(flip(await fresh(), 23, 0x08), AT));
  await refused("malformed", async () => d.openKeyToken(flip(await fresh(), 25, 0x04), AT));
  // The unsigned digestAlgorithms entry id-sha256 -> 2.32.840...: not the signer's digest.
  await refused("malformed", async () => d.openKeyToken(flip(await fresh(), 32, 0x10), AT));
  // The signer's rsaEncryption NULL parameters -> an empty OCTET STRING.
  const t = await fresh();
  const nullAt = toHex(t).indexOf("06092A864886F70D0101010500") / 2 + 11;
  assertEquals(Number.isInteger(nullAt) && nullAt > 11, true);
  await refused("malformed", () => d.openKeyToken(flip(t, nullAt, 0x01), AT));
  await refused("malformed", () => readCertificate("not a certificate", "KDH certificate"));
  await refused("malformed", () => readRandomNumberToken(hex("3000")));
});

Deno.test("tr34 errors: unknown_oid: a ContentInfo that is not SignedData, an unknown token type", async () => {
  const token = await twoPass(krd());
  // id-signedData 1.2.840.113549.1.7.2 -> id-digestedData 1.2.840.113549.1.7.5
  const sd = hex("06092A864886F70D010702");
  await refused(
    "unknown_oid",
    () => krd().openKeyToken(patch(token, sd, hex("06092A864886F70D010705")), AT),
  );
  const weird = await buildSignedData({
    eContentType: "1.2.840.113549.1.7.5",
    eContent: text("x"),
    signer: { id: kdhId, sign: kdh.sign, attributes: [] },
  }, core);
  await refused("unknown_oid", () => krd().openKeyToken(weird, AT));
  // id-randomNonce 1.2.840.113549.1.9.25.3 -> 1.2.840.113549.1.9.25.4
  const rt = krd().randomNumberToken();
  await refused("unknown_oid", () =>
    readRandomNumberToken(
      patch(rt, hex("060A2A864886F70D01091903"), hex("060A2A864886F70D01091904")),
    ));
});

Deno.test("tr34 errors: unsupported_algorithm: a SHA-512 digest, the AES-GCM content cipher", async () => {
  const d = krd();
  const token = await twoPass(d);
  // The SignerInfo's digestAlgorithm id-sha256 -> id-sha512 (2.16.840.1.101.3.4.2.3): every
  // occurrence, so the SignedData's digestAlgorithms agree.
  const sha256 = hex("0609608648016503040201");
  let t = token;
  while (true) {
    try {
      t = patch(t, sha256, hex("0609608648016503040203"));
    } catch {
      break;
    }
  }
  await refused("unsupported_algorithm", () => d.openKeyToken(t, AT));
  // aes256-CBC (2.16.840.1.101.3.4.1.42) -> aes256-GCM (2.16.840.1.101.3.4.1.46) inside the
  // EnvelopedData, re-signed so that only the algorithm is wrong.
  const sd = readSignedData(await twoPass(d));
  const env = patch(sd.eContent!, hex("060960864801650304012A"), hex("060960864801650304012E"));
  const nonce = readRandomNumberToken(d.randomNumberToken());
  const resigned = await buildSignedData({
    eContentType: CT.envelopedData,
    eContent: env,
    signer: {
      id: kdhId,
      sign: kdh.sign,
      attributes: [attr("1.2.840.113549.1.9.25.3", octs(nonce)), attr(CT.data, octs(text(HDR)))],
    },
  }, core);
  await refused("unsupported_algorithm", () => d.openKeyToken(resigned, AT));
});

Deno.test("tr34 errors: bad_signature and content_altered: tampered signature and ciphertext", async () => {
  const d = krd();
  const token = await twoPass(d);
  const sig = readSignedData(token).signerInfos[0].signature;
  const badSig = sig.slice();
  badSig[100] ^= 0x01;
  await refused("bad_signature", () => d.openKeyToken(patch(token, sig, badSig), AT));
  const env = readSignedData(token).eContent!;
  const tail = env.subarray(env.length - 16);
  const flipped = tail.slice();
  flipped[3] ^= 0x80;
  await refused("content_altered", () => d.openKeyToken(patch(token, tail, flipped), AT));
});

Deno.test("tr34 errors: decrypt_failed and wrong_recipient: another KRD's key or token", async () => {
  await refused("decrypt_failed", async () => {
    const d = krd({ key: pki.krd2.key });
    return await d.openKeyToken(await twoPass(d), AT);
  });
  const d = krd();
  const nonce = readRandomNumberToken(d.randomNumberToken());
  const forOther = await createKeyToken(kdh, {
    krd: pki.krd2.cert,
    header: HDR,
    key: TMK,
    nonce,
    at: AT,
    core,
  });
  await refused("wrong_recipient", () => d.openKeyToken(forOther, AT));
  const unbind = await createBindingToken(kdh, {
    kind: "unbind",
    krd: pki.krd2.cert,
    timestamp: AT,
  });
  await refused("wrong_recipient", () => krd().applyBindingToken(unbind, { at: AT }));
});

Deno.test("tr34 errors: wrong_kdh: a token from a KDH the KRD is not bound to", async () => {
  const d = krd();
  const other = { certificate: pki.kdh2.cert, sign: signerOf(pki.kdh2.key, core) };
  const token = await createKeyToken(other, {
    krd: pki.krd.cert,
    header: HDR,
    key: TMK,
    nonce: readRandomNumberToken(d.randomNumberToken()),
    includeCertificate: true,
    at: AT,
    core,
  });
  await refused("wrong_kdh", () => d.openKeyToken(token, AT));
  // An unbound KRD and a token without its signer's certificate.
  const unbound = krd({ kdh: undefined });
  const bare = await twoPass(unbound);
  const e = await refused("wrong_kdh", () => unbound.openKeyToken(bare, AT));
  assertEquals(e.message.includes("no certificate of its signer"), true);
});

Deno.test("tr34 errors: attribute_missing: no key block header, no freshness", async () => {
  const d = krd();
  const nonce = readRandomNumberToken(d.randomNumberToken());
  await refused("attribute_missing", async () => d.openKeyToken(await handMade({ nonce }), AT));
  await refused(
    "attribute_missing",
    async () => d.openKeyToken(await handMade({ signedHeader: HDR }), AT),
  );
});

Deno.test("tr34 errors: nonce_mismatch and nonce_replayed", async () => {
  const d = krd();
  d.randomNumberToken();
  const notIssued = await createKeyToken(kdh, {
    krd: pki.krd.cert,
    header: HDR,
    key: TMK,
    nonce: hex("00112233445566778899AABBCCDDEEFF"),
    at: AT,
    core,
  });
  await refused("nonce_mismatch", () => d.openKeyToken(notIssued, AT));
  const token = await twoPass(d);
  await d.openKeyToken(token, AT);
  await refused("nonce_replayed", () => d.openKeyToken(token, AT));
});

Deno.test("tr34 errors: timestamp_window and timestamp_replayed", async () => {
  const d = krd();
  const oneP = (t: Date) =>
    createKeyToken(kdh, { krd: pki.krd.cert, header: HDR, key: TMK, timestamp: t, at: AT, core });
  const stale = await oneP(new Date(AT.getTime() - 6 * 60 * 1000));
  await refused("timestamp_window", () => d.openKeyToken(stale, AT));
  const future = await oneP(new Date(AT.getTime() + 6 * 60 * 1000));
  await refused("timestamp_window", () => d.openKeyToken(future, AT));
  const first = await oneP(new Date(AT.getTime() + 1000));
  await d.openKeyToken(first, AT);
  await refused("timestamp_replayed", () => d.openKeyToken(first, AT));
  const earlier = await oneP(new Date(AT.getTime() - 1000));
  await refused("timestamp_replayed", () => d.openKeyToken(earlier, AT));
});

Deno.test("tr34 errors: kdh_expired, kdh_not_yet_valid, kdh_untrusted", async () => {
  const short = { certificate: pki.kdhShort.cert, sign: signerOf(pki.kdhShort.key, core) };
  const d = krd({ kdh: pki.kdhShort.cert });
  const token = await createKeyToken(short, {
    krd: pki.krd.cert,
    header: HDR,
    key: TMK,
    nonce: readRandomNumberToken(d.randomNumberToken()),
    at: AT,
    core,
  });
  await refused("kdh_expired", () => d.openKeyToken(token, AT));
  await refused("kdh_not_yet_valid", () => d.openKeyToken(token, new Date("2025-06-01T00:00:00Z")));
  const e = krd({ kdhCas: [pki.root.cert] });
  await refused("kdh_untrusted", async () => e.openKeyToken(await twoPass(e), AT));
  // An unbound KRD with no trusted CA cannot take a KDH certificate from the token itself.
  const tofu = krd({ kdh: undefined, kdhCas: [] });
  await refused(
    "kdh_untrusted",
    async () => tofu.openKeyToken(await twoPass(tofu, { includeCertificate: true }), AT),
  );
});

Deno.test("tr34 errors: kdh_revoked and crl_invalid", async () => {
  const ca = { issuer: pki.kdhCa.cert, sign: signerOf(pki.kdhCa.key, core) };
  const times = { thisUpdate: AT, nextUpdate: new Date(AT.getTime() + 86400e3) };
  const crl = await buildCrl({
    ...ca,
    ...times,
    revoked: [{ serial: kdhId.serial, date: AT }],
  }, core);
  const d = krd();
  await refused("kdh_revoked", async () => d.openKeyToken(await twoPass(d, { crl }), AT));
  // The KRD's own CRL counts even when the token carries an older, empty one.
  const empty = await buildCrl({ ...ca, ...times, revoked: [] }, core);
  const holder = krd({ crl });
  await refused(
    "kdh_revoked",
    async () => holder.openKeyToken(await twoPass(holder, { crl: empty }), AT),
  );
  // A CRL that claims to be the CA's but is signed by another key.
  await refused(
    "crl_invalid",
    () => buildCrl({ ...ca, ...times, sign: signerOf(pki.kdh2.key, core), revoked: [] }, core),
  );
  // A CRL issued and signed by a certificate other than the KDH's CA, carried in a token.
  const foreign = await buildCrl({
    issuer: pki.kdh2.cert,
    sign: signerOf(pki.kdh2.key, core),
    ...times,
    revoked: [],
  }, core);
  await refused("crl_invalid", async () => d.openKeyToken(await twoPass(d, { crl: foreign }), AT));
});

Deno.test("tr34 errors: krd_untrusted: a KRD certificate from another CA", async () => {
  await refused("krd_untrusted", async () => await twoPass(krd(), { krdCas: [pki.root.cert] }));
  await refused(
    "krd_untrusted",
    async () => await twoPass(krd(), { at: new Date("2040-01-01T00:00:00Z") }),
  );
});

Deno.test("tr34 errors: header_mismatch and header_forbidden", async () => {
  const d = krd();
  const nonce = () => readRandomNumberToken(d.randomNumberToken());
  const mixed = await handMade({
    nonce: nonce(),
    signedHeader: HDR,
    blockHeader: "A0256K1TB00E0000",
  });
  await refused("header_mismatch", () => d.openKeyToken(mixed, AT));
  // A PIN encryption key into the TMK slot.
  const pinKey = await handMade({
    nonce: nonce(),
    signedHeader: "A0256P0TE00E0000",
    blockHeader: "A0256P0TE00E0000",
  });
  const e = await refused("header_forbidden", () => d.openKeyToken(pinKey, AT));
  assertEquals(e.message.includes("P0"), true);
  // A TDES header on a 5-byte key.
  const short = await handMade({ nonce: nonce(), signedHeader: HDR, key: hex("0102030405") });
  await refused("header_forbidden", () => d.openKeyToken(short, AT));
});

Deno.test("tr34 errors: each code has its case above", () => {
  const all: Tr34ErrorCode[] = [
    "malformed",
    "unknown_oid",
    "unsupported_algorithm",
    "bad_signature",
    "content_altered",
    "decrypt_failed",
    "wrong_recipient",
    "wrong_kdh",
    "attribute_missing",
    "nonce_mismatch",
    "nonce_replayed",
    "timestamp_window",
    "timestamp_replayed",
    "kdh_expired",
    "kdh_not_yet_valid",
    "kdh_revoked",
    "kdh_untrusted",
    "krd_untrusted",
    "crl_invalid",
    "header_mismatch",
    "header_forbidden",
  ];
  assertEquals([...covered].sort(), [...all].sort());
});

Deno.test("tr34 errors: every truncation and random single-bit flips of a token give a Tr34Error", async () => {
  const nonce = hex("00112233445566778899AABBCCDDEEFF");
  const token = await createKeyToken(kdh, {
    krd: pki.krd.cert,
    header: HDR,
    key: TMK,
    nonce,
    at: AT,
    core,
  });
  const opts: OpenKeyTokenOptions = {
    krdCertificate: pki.krd.cert,
    krdKey: pki.krd.key,
    kdhCertificate: pki.kdh.cert,
    kdhCas: [pki.kdhCa.cert],
    policy: TMK_POLICY,
    at: AT,
    core,
    freshness: {
      nonce: (n) => {
        if (toHex(n) !== toHex(nonce)) throw new Tr34Error("nonce_mismatch", "another nonce");
      },
    },
  };
  assertEquals((await openKeyToken(token, opts)).header, HDR);
  // The SignedData version (ContentInfo header 4 + OID 11 + [0] 4 + SEQUENCE 4 + INTEGER tag and
  // length 2 = byte 25) is not signed, and 1 -> 3 is a valid version: that one flip may pass.
  assertEquals(toHex(token.subarray(23, 26)), "020101");
  const seen = new Set<string>();
  const check = async (bytes: Uint8Array, what: string, benign = false) => {
    try {
      await openKeyToken(bytes, opts);
    } catch (e) {
      if (!(e instanceof Tr34Error)) throw new Error(`${what}: ${e}`);
      seen.add(e.code);
      return;
    }
    if (!benign) throw new Error(`${what}: accepted`);
  };
  for (let n = 0; n < token.length; n++) await check(token.subarray(0, n), `first ${n} bytes`);
  const rnd = new Uint32Array(Number(Deno.env.get("TR34_FLIPS") ?? 300));
  crypto.getRandomValues(rnd);
  for (const r of rnd) {
    const bit = r % (token.length * 8);
    const t = token.slice();
    t[bit >> 3] ^= 0x80 >> (bit & 7);
    await check(t, `bit ${bit} flipped`, bit === 25 * 8 + 6);
  }
  assertEquals(seen.has("malformed"), true);
  assertEquals(seen.has("bad_signature") || seen.has("content_altered"), true);
});
