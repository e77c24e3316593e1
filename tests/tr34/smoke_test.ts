/**
 * TR-34 end to end on both cores: a KRD issues a random number, the KDH
 * builds a 2-pass key token, the KRD opens it; 1-pass with a signing time;
 * rebind and unbind; the published TR 34-2019 key block samples decode and
 * decrypt.
 *
 * @module
 */
import { assertEquals, assertExists } from "@std/assert";
import {
  createBindingToken,
  createKeyToken,
  decodeKeyBlock,
  Krd,
  readRandomNumberToken,
  signerOf,
  TMK_POLICY,
} from "../../src/tr34/mod.ts";
import { CORE_NAMES, hex, loadVectors, toHex } from "../_helpers.ts";
import { loadCore } from "../../src/core/mod.ts";
import { AT, makePki } from "./_pki.ts";

const pki = await makePki();

for (const name of CORE_NAMES) {
  Deno.test(`tr34 [${name}]: 2-pass and 1-pass key tokens open on the KRD`, async () => {
    const core = await loadCore(name);
    const krd = new Krd({
      certificate: pki.krd.cert,
      key: pki.krd.key,
      kdhCas: [pki.kdhCa.cert],
      policy: TMK_POLICY,
      core,
    });
    const kdh = { certificate: pki.kdh.cert, sign: signerOf(pki.kdh.key, core) };
    for (const cipher of ["tdes", "aes128", "aes256"] as const) {
      const nonce = readRandomNumberToken(krd.randomNumberToken());
      const tmk = hex("0123456789ABCDEFFEDCBA9876543210");
      const token = await createKeyToken(kdh, {
        krd: pki.krd.cert,
        header: "A0256K0TB00E0000",
        key: tmk,
        nonce,
        cipher,
        includeCertificate: cipher === "tdes",
        at: AT,
        core,
      });
      const opened = await krd.openKeyToken(token, AT);
      assertEquals(opened.mode, "2-pass");
      assertEquals(opened.header, "A0256K0TB00E0000");
      assertEquals(toHex(opened.key), "0123456789ABCDEFFEDCBA9876543210");
      assertEquals(opened.cipher, cipher);
      assertEquals(opened.nonce, nonce);
    }
    const t1 = new Date(AT.getTime() + 1000);
    const token = await createKeyToken(kdh, {
      krd: pki.krd.cert,
      header: "D0256K0AB00E0000",
      key: hex("00112233445566778899AABBCCDDEEFF"),
      timestamp: t1,
      at: AT,
      core,
    });
    const opened = await krd.openKeyToken(token, AT);
    assertEquals(opened.mode, "1-pass");
    assertEquals(opened.timestamp?.getTime(), t1.getTime());
    assertEquals(toHex(opened.key), "00112233445566778899AABBCCDDEEFF");
  });
}

Deno.test("tr34: a rebind token moves the KRD to the new KDH, an unbind token frees it", async () => {
  const krd = new Krd({
    certificate: pki.krd.cert,
    key: pki.krd.key,
    kdhCas: [pki.kdhCa.cert],
    kdh: pki.kdh.cert,
  });
  const old = { certificate: pki.kdh.cert, sign: signerOf(pki.kdh.key) };
  const rebind = await createBindingToken(old, {
    kind: "rebind",
    krd: pki.krd.cert,
    newKdh: pki.kdh2.cert,
    nonce: readRandomNumberToken(krd.randomNumberToken()),
  });
  const r = await krd.applyBindingToken(rebind, { at: AT });
  assertEquals(r.kind, "rebind");
  assertExists(r.newKdh);
  assertEquals(r.newKdh.subjectText.includes("TR34 Test KDH 2"), true);
  const next = { certificate: pki.kdh2.cert, sign: signerOf(pki.kdh2.key) };
  const unbind = await createBindingToken(next, {
    kind: "unbind",
    krd: pki.krd.cert,
    nonce: readRandomNumberToken(krd.randomNumberToken()),
  });
  assertEquals((await krd.applyBindingToken(unbind, { at: AT })).kind, "unbind");
  assertEquals(krd.boundKdh, undefined);
});

Deno.test("tr34: a CA-signed unbind token names the KRD and the bound KDH", async () => {
  const krd = new Krd({
    certificate: pki.krd.cert,
    key: pki.krd.key,
    kdhCas: [pki.kdhCa.cert],
    kdh: pki.kdh.cert,
  });
  const ca = { certificate: pki.kdhCa.cert, sign: signerOf(pki.kdhCa.key) };
  const unbind = await createBindingToken(ca, {
    kind: "unbind",
    krd: pki.krd.cert,
    kdh: pki.kdh.cert,
    timestamp: AT,
  });
  const r = await krd.applyBindingToken(unbind, { ca: pki.kdhCa.cert, at: AT });
  assertEquals(r, { kind: "unbind", byCa: true });
});

interface Sample {
  id: string;
  keyblock_der: string;
  decoded: { clear_key: string; tr31_style_header: string; kdh_serial?: number };
  ephemeral_key: string;
  content_alg: string;
  iv: string;
  encrypted_content: string;
}

Deno.test("tr34: the TR 34-2019 sample key blocks decode and decrypt (B.2.2.2.1, B.2.2.2.4)", async () => {
  const { vectors } = loadVectors<{ vectors: Sample[] }>("tr34_samples.json");
  assertEquals(vectors.length, 2);
  for (const core of [await loadCore("wasm"), await loadCore("js")]) {
    for (const v of vectors) {
      const block = decodeKeyBlock(hex(v.keyblock_der));
      assertEquals(block.header, v.decoded.tr31_style_header, v.id);
      assertEquals(toHex(block.key), v.decoded.clear_key, v.id);
      if (v.decoded.kdh_serial !== undefined) {
        assertEquals(BigInt("0x" + toHex(block.kdh.serial)), BigInt(v.decoded.kdh_serial), v.id);
      }
      const k = hex(v.ephemeral_key);
      const ct = hex(v.encrypted_content);
      const padded = v.content_alg === "des-ede3-cbc"
        ? core.tdesDecryptCbc(k, hex(v.iv), ct)
        : core.aesDecryptCbc(k, hex(v.iv), ct);
      const n = padded[padded.length - 1];
      assertEquals(toHex(padded.subarray(0, padded.length - n)), v.keyblock_der, v.id);
    }
  }
});

Deno.test("tr34: a CA-signed rebind token moves the KRD, and the new KDH's token opens", async () => {
  const krd = new Krd({
    certificate: pki.krd.cert,
    key: pki.krd.key,
    kdhCas: [pki.kdhCa.cert],
    kdh: pki.kdh.cert,
    policy: TMK_POLICY,
  });
  const ca = { certificate: pki.kdhCa.cert, sign: signerOf(pki.kdhCa.key) };
  const rebind = await createBindingToken(ca, {
    kind: "rebind",
    krd: pki.krd.cert,
    kdh: pki.kdh.cert,
    newKdh: pki.kdh2.cert,
    nonce: readRandomNumberToken(krd.randomNumberToken()),
  });
  const r = await krd.applyBindingToken(rebind, { ca: pki.kdhCa.cert, at: AT });
  assertEquals([r.kind, r.byCa], ["rebind", true]);
  const next = { certificate: pki.kdh2.cert, sign: signerOf(pki.kdh2.key) };
  const token = await createKeyToken(next, {
    krd: pki.krd.cert,
    header: "A0256K0TB00E0000",
    key: hex("0123456789ABCDEFFEDCBA9876543210"),
    nonce: readRandomNumberToken(krd.randomNumberToken()),
    at: AT,
  });
  assertEquals((await krd.openKeyToken(token, AT)).kdh.subjectText.includes("KDH 2"), true);
});
