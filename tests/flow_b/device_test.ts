/**
 * S3 signed by the PIN pad's device key (a `pin-pad` certificate made at
 * manufacture, serialNumber = SN): the KMS takes a transport key only from
 * that PIN pad, and a refused one writes no audit record. This closes what the patent's
 * protocol leaves open: a man in the middle at first contact registering a
 * transport key of its own (its own AUK and TEK, with a TK hash it can
 * compute) and then downloading the SN's TMK under its own Pu_tek.
 */
import { assertEquals, assertRejects } from "@std/assert";
import {
  exportSpkiPem,
  generateRsaKeyPair,
  kcv,
  oaepEncrypt,
  setOddParity,
  toHex,
} from "../../src/crypto/mod.ts";
import { parseCertificate } from "../../src/pki/mod.ts";
import { RemoteError, tkHashInput, type Transport } from "../../src/protocol/mod.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { call, makePki, makeWorld, VIAS } from "./_world.ts";

const [core] = await allCores();
const pki = await makePki(core);

for (const via of VIAS) {
  Deno.test(`${via}: device-signed S3: the PIN pad's own passes, every other is refused`, async () => {
    const w = await makeWorld(core, { pki, via, devices: true });
    try {
      // The genuine PIN pad: S1-S7 through.
      const ok = w.terminal("FD000001", { pad: await w.devicePad("FD000001") });
      assertEquals((await ok.run()).state, "delivered");

      const sn = "FD000002";
      const pad = await w.devicePad(sn);
      const s1 = await call(w.handler, "POST", `/v1/terminals/${sn}/hsm-key`, {
        ...(await pad.hsmKeyRequest(sn)),
      });
      assertEquals(s1.status, 201);
      const cert = s1.body as { certificate: string; caCertificate: string };
      await pad.installHsmKey(sn, cert);
      const good = await pad.makeTransportKey();
      const plain = w.newPad();
      await plain.installHsmKey(sn, cert);
      const { deviceCertificate: _c, signature: _s, ...unsigned } = await plain.makeTransportKey();
      const foreignSn = await w.devicePad("FD000099");
      await foreignSn.installHsmKey(sn, cert);
      const otherSn = await foreignSn.makeTransportKey();
      const fake = await makePki(core, "TMK");
      const fakePad = await w.devicePad(sn, fake.root);
      await fakePad.installHsmKey(sn, cert);
      const fromFake = await fakePad.makeTransportKey();
      const flip = (h: string) => h.slice(0, 20) + (h[20] === "0" ? "1" : "0") + h.slice(21);
      const cases: [string, unknown, number, string][] = [
        ["no device signature", unsigned, 400, "missing_field"],
        ["the device certificate of another SN", otherSn, 401, "device_certificate_untrusted"],
        ["a device certificate from another root", fromFake, 401, "device_certificate_untrusted"],
        [
          "a changed signature",
          { ...good, signature: flip(good.signature!) },
          401,
          "device_signature_invalid",
        ],
        [
          "a changed AUK ciphertext",
          { ...good, encryptedAuk: flip(good.encryptedAuk) },
          401,
          "device_signature_invalid",
        ],
        [
          "the genuine signature on another Pu_tek",
          { ...good, puTek: unsigned.puTek },
          401,
          "device_signature_invalid",
        ],
      ];
      const audited = (await w.store.listAudit({ limit: 100, subject: sn })).length;
      for (const [what, body, status, code] of cases) {
        const r = await call(w.handler, "PUT", `/v1/terminals/${sn}/transport-key`, body);
        assertEquals([r.status, r.body.error?.code], [status, code], what);
        assertEquals((await w.store.getTerminal(sn))!.aukBlock, null, what);
        assertEquals(
          (await w.store.listAudit({ limit: 100, subject: sn })).length,
          audited,
          `${what}: no audit record for an unauthenticated refusal`,
        );
      }
      const r = await call(w.handler, "PUT", `/v1/terminals/${sn}/transport-key`, good);
      assertEquals(r.status, 201);
    } finally {
      await w.close();
    }
  });
}

Deno.test("MITM at first contact: its own AUK, TEK and TK hash in place of the PIN pad's S3 are refused", async () => {
  const w = await makeWorld(core, { pki, devices: true });
  try {
    const sn = "FD100001";
    const attackerTek = await generateRsaKeyPair({ bits: 2048, core });
    const attackerPuTek = exportSpkiPem(attackerTek.publicKey);
    let puHsmPem = "";
    const substitute = async (body: string): Promise<string> => {
      // Everything of its own: AUK under the real Pu_hsm, its Pu_tek, the right TK hash and KCV.
      const b = JSON.parse(body);
      const puHsm = parseCertificate(puHsmPem).publicKey;
      const auk = setOddParity(randomBytes(16));
      const der = (await import("../../src/crypto/mod.ts")).exportSpkiDer(attackerTek.publicKey);
      const tkHash = toHex(core.sha256(tkHashInput(core.sha256(auk), core.sha256(der))));
      return JSON.stringify({
        ...b, // keeps the genuine device certificate and signature: it cannot make its own
        encryptedAuk: toHex(await oaepEncrypt(puHsm, auk, { hash: "SHA-256", core })),
        aukKcv: toHex(await kcv(auk, { method: "legacy", core })),
        puTek: attackerPuTek,
        tkHash,
      });
    };
    const transport: Transport = async (req) => {
      const url = new URL(req.url);
      let body = req.body ? await req.text() : undefined;
      if (url.pathname.endsWith("/transport-key") && body) body = await substitute(body);
      const r = await w.handler(
        new Request(req.url, { method: req.method, headers: req.headers, body }),
      );
      const text = await r.text();
      if (url.pathname.endsWith("/hsm-key") && r.ok) puHsmPem = JSON.parse(text).certificate;
      return new Response(text, { status: r.status, headers: r.headers });
    };
    const pos = w.terminal(sn, { pad: await w.devicePad(sn), transport });
    const e = await assertRejects(() => pos.run(), RemoteError);
    assertEquals([e.status, e.code], [401, "device_signature_invalid"]);
    const t = (await w.store.getTerminal(sn))!;
    assertEquals([t.aukBlock, t.puTek, t.tmkBlock], [null, null, null]);
    // The genuine S3 still goes through afterwards, and the download is the PIN pad's.
    const direct = w.terminal(sn, { pad: pos.pinPad });
    await direct.sendTransportKey();
    await direct.authenticate();
    const d = await direct.downloadTmk();
    assertEquals([d.state, d.kmsKcv], ["delivered", d.pinPadKcv]);
  } finally {
    await w.close();
  }
});
