/**
 * The HSM's TR-34 export (`Hsm.exportKeyTr34`): the EnvelopedData opens with
 * the KRD's private key to a TR-34 key block whose key is the very key under
 * the LMK (unwrapped here with the LMK the test knows), whose header is the
 * key's own attributes and whose KDH is the given certificate; a key token
 * signed by the HSM around it passes every check of a KRD. A key the
 * allow-list keeps in (exportability N), a weak content cipher for the key,
 * or a bad certificate is refused, and no result or error holds a clear key.
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { kcv, toHex } from "../../src/crypto/mod.ts";
import { HsmError, KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import {
  decodeKeyBlock,
  keyTransportOf,
  Krd,
  openEnvelope,
  readCertificate,
  readRandomNumberToken,
  signKeyToken,
  TMK_POLICY,
} from "../../src/tr34/mod.ts";
import { allCores } from "../_helpers.ts";
import { AT, makePki } from "../tr34/_pki.ts";
import { leakScanner, makeHsm, show } from "./_fixtures.ts";

const pki = await makePki();

for (const core of await allCores()) {
  Deno.test(`[${core.name}] exportKeyTr34: the KRD opens the TMK under the LMK, header and KDH its own`, async () => {
    const { hsm, lmk } = await makeHsm(core);
    const tmk = await hsm.generateKey(KEY_TEMPLATES.TMK);
    for (const cipher of ["aes256", "tdes"] as const) {
      const out = await hsm.exportKeyTr34(tmk.keyBlock, {
        krdCertificate: pki.krd.cert,
        kdhCertificate: pki.kdh.cert,
        cipher,
      });
      assertMatch(out.header, /^D0016K0TB00E0000$/);
      assertEquals(out.kcv, tmk.kcv);
      const krd = readCertificate(pki.krd.cert, "KRD");
      const opened = await openEnvelope(
        out.envelopedData,
        krd.id,
        keyTransportOf(pki.krd.key, core),
        core,
      );
      assertEquals(opened.cipher, cipher);
      const block = decodeKeyBlock(opened.content);
      const underLmk = await unwrapKeyBlock(lmk, tmk.keyBlock, { core });
      assertEquals(toHex(block.key), toHex(underLmk.key));
      assertEquals(block.header, out.header);
      const kdh = readCertificate(pki.kdh.cert, "KDH");
      assertEquals(toHex(block.kdh.serial), toHex(kdh.id.serial));
      assertEquals(toHex(block.kdh.issuer), toHex(kdh.id.issuer));
      assertEquals(toHex(await kcv(block.key, { method: "legacy", core })), tmk.kcv);
    }
  });

  Deno.test(`[${core.name}] exportKeyTr34 + sign with the KDH key block: a KRD accepts the 2-pass token`, async () => {
    const { hsm } = await makeHsm(core);
    const kdhKey = await hsm.importRsaPrivateKey(pki.kdh.key, KEY_TEMPLATES.RSA_KDH);
    const tmk = await hsm.generateKey(KEY_TEMPLATES.TMK);
    const krd = new Krd({
      certificate: pki.krd.cert,
      key: pki.krd.key,
      kdhCas: [pki.kdhCa.cert],
      policy: TMK_POLICY,
      core,
    });
    const nonce = readRandomNumberToken(krd.randomNumberToken());
    const out = await hsm.exportKeyTr34(tmk.keyBlock, {
      krdCertificate: pki.krd.cert,
      kdhCertificate: pki.kdh.cert,
    });
    const token = await signKeyToken(
      { certificate: pki.kdh.cert, sign: (m) => hsm.sign(kdhKey.privateKeyBlock, m) },
      {
        envelopedData: out.envelopedData,
        header: out.header,
        nonce,
        includeCertificate: true,
        core,
      },
    );
    const got = await krd.openKeyToken(token, AT);
    assertEquals(got.mode, "2-pass");
    assertEquals(got.header, out.header);
    assertEquals(toHex(await kcv(got.key, { method: "legacy", core })), tmk.kcv);
  });

  Deno.test(`[${core.name}] exportKeyTr34 refuses a key kept in, a weak cipher, bad certificates; no key shows`, async () => {
    const { hsm, lmk, events, secrets } = await makeHsm(core);
    const tk = await hsm.generateKey(KEY_TEMPLATES.TK);
    const tmk = await hsm.generateKey(KEY_TEMPLATES.TMK);
    const scan = leakScanner([
      ...secrets,
      (await unwrapKeyBlock(lmk, tk.keyBlock, { core })).key,
      (await unwrapKeyBlock(lmk, tmk.keyBlock, { core })).key,
    ]);
    const opts = { krdCertificate: pki.krd.cert, kdhCertificate: pki.kdh.cert };
    const e = await assertRejects(() => hsm.exportKeyTr34(tk.keyBlock, opts), HsmError);
    assertEquals(e.code, "key_usage");
    assertMatch(e.message, /exportKeyTr34: the exported key must have exportability E or S, got N/);
    assert(events.some((x) => x.event === "key_refused"));
    await assertRejects(
      () => hsm.exportKeyTr34(tmk.keyBlock, { ...opts, krdCertificate: "not a certificate" }),
      RangeError,
      "options.krdCertificate is not an RSA X.509 certificate",
    );
    await assertRejects(
      () =>
        hsm.exportKeyTr34(tmk.keyBlock, {
          ...opts,
          kdhCertificate: 42 as unknown as string,
        }),
      TypeError,
      "options.kdhCertificate must be a PEM string or DER bytes",
    );
    await assertRejects(
      () => hsm.exportKeyTr34(tmk.keyBlock, { ...opts, cipher: "des" as unknown as "tdes" }),
      RangeError,
      "options.cipher must be tdes, aes128, aes192 or aes256",
    );
    const good = await hsm.exportKeyTr34(tmk.keyBlock, opts);
    assertEquals(scan(show(good)), null);
    assertEquals(scan(e.message), null);
  });
}
