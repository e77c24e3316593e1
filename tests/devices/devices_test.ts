/**
 * The simulated devices on our own crypto, PKI and key blocks: operator
 * card and terminal (S2-S5), PIN pad (S1, S6-S11, S17) with its TK hash
 * check, checked against node:crypto where an independent implementation
 * exists (the OAEP export of TK).
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import nodeCrypto from "node:crypto";
import { allCores, hex, toHex } from "../_helpers.ts";
import { cmac, exportJwk, generateRsaKeyPair, kcv, kdfCmacCounter } from "../../src/crypto/mod.ts";
import { wrapKeyBlock } from "../../src/keyblock/mod.ts";
import {
  AuthenticationError,
  ConflictError,
  IntegrityError,
  ValidationError,
} from "../../src/protocol/mod.ts";
import { PinPad, pinPadTestHarness } from "../../devices/pin_pad.ts";
import { OperatorTerminal } from "../../devices/operator_terminal.ts";
import { makeDemoPki } from "../../demo/setup.ts";

async function authenticated(pad: PinPad, op: OperatorTerminal) {
  const ch = pad.operatorChallenge();
  const answer = await op.answerChallenge(ch);
  return await pad.verifyOperator({
    certificate: answer.certificate,
    cryptogram: answer.cryptogram,
  });
}

for (const core of await allCores()) {
  const pki = await makeDemoPki(core);
  const transport = await generateRsaKeyPair({ bits: 2048, core });
  const mtmsCert = await pki.issueServer("MTMS transport", transport.publicKey);
  const noTransport = () => Promise.reject(new Error("no network in this test"));

  Deno.test(`devices (${core.name}): S1-S9 with the operator card, then S10-S11 TK export that node:crypto decrypts`, async () => {
    const op = new OperatorTerminal({ transport: noTransport, mtmsUrl: "http://mtms.test" });
    const operator = await pki.issueOperator("Operator 0042");
    op.insertCard(operator.card);
    const pad = await PinPad.create({ root: pki.rootPem, core });
    const ok = await authenticated(pad, op);
    assertEquals(ok.operator, "C=CN, O=TMK Demo, CN=Operator 0042");
    assert(Math.abs(ok.skewMs) < 5000);
    const { tkKcv, tkHash } = await pad.generateTk();
    const exp = await pad.exportTk(mtmsCert);
    assertEquals([exp.tkKcv, exp.tkHash], [tkKcv, tkHash]);
    // node:crypto, independently, decrypts the export to the PIN pad's TK
    const jwk = exportJwk(transport.privateKey);
    const key = nodeCrypto.createPrivateKey({
      key: jwk as unknown as Record<string, string>,
      format: "jwk",
    });
    const tk = nodeCrypto.privateDecrypt(
      { key, padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      Buffer.from(exp.encryptedTk, "hex"),
    );
    const clear = await pinPadTestHarness(pad).clearKeys();
    assertEquals(toHex(new Uint8Array(tk)), toHex(clear.tk!));
    assertEquals(nodeCrypto.createHash("sha256").update(tk).digest("hex").toUpperCase(), tkHash);
    assertEquals(toHex(await kcv(clear.tk!, { core })), tkKcv);
    // one TK per authentication
    const again = await assertRejects(() => pad.generateTk(), AuthenticationError);
    assertEquals(again.code, "not_authenticated");
  });

  Deno.test(`devices (${core.name}): each refusal of the card, the terminal and the PIN pad`, async () => {
    const op = new OperatorTerminal({ transport: noTransport, mtmsUrl: "http://mtms.test" });
    const operator = await pki.issueOperator("Operator 0042");
    op.insertCard(operator.card);
    const pad = await PinPad.create({ root: pki.rootPem, core });
    // S2: no card
    op.removeCard();
    const e1 = await assertRejects(
      () => op.answerChallenge(pad.operatorChallenge()),
      AuthenticationError,
    );
    assertEquals(e1.code, "card_absent");
    // a removed card refuses to sign even if asked directly
    const e2 = await assertRejects(
      () => operator.card.privateEncrypt(new Uint8Array(24)),
      AuthenticationError,
    );
    assertEquals(e2.code, "card_absent");
    // S6: a card from another CA, an expired card
    const cases: [() => Promise<{ card: typeof operator.card }>, string][] = [
      [() => pki.foreignOperator(), "certificate_untrusted"],
      [() => pki.issueOperator("Operator 0099", { expired: true }), "certificate_expired"],
    ];
    for (const [make, code] of cases) {
      op.insertCard((await make()).card);
      const e = await assertRejects(() => authenticated(pad, op), AuthenticationError);
      assertEquals(e.code, code);
    }
    // a replayed answer
    op.insertCard(operator.card);
    const ch = pad.operatorChallenge();
    const a = await op.answerChallenge(ch);
    await pad.verifyOperator({ certificate: a.certificate, cryptogram: a.cryptogram });
    const e3 = await assertRejects(
      () => pad.verifyOperator({ certificate: a.certificate, cryptogram: a.cryptogram }),
      AuthenticationError,
    );
    assertEquals(e3.code, "rnd_unknown");
    // S11: an MTMS certificate from another CA
    await authenticated(pad, op);
    await pad.generateTk();
    const e4 = await assertRejects(
      () => pad.exportTk(pki.foreignOperatorCertificate),
      AuthenticationError,
    );
    assertEquals(e4.code, "certificate_untrusted");
    // an operator certificate is not an MTMS transport certificate
    const e5 = await assertRejects(() => pad.exportTk(operator.certificate), AuthenticationError);
    assertEquals(e5.code, "certificate_wrong_purpose");
  });

  Deno.test(`devices (${core.name}): S17 installs a TMK under TK; KCV, block and TK hash are checked`, async () => {
    const op = new OperatorTerminal({ transport: noTransport, mtmsUrl: "http://mtms.test" });
    op.insertCard((await pki.issueOperator("Operator 0042")).card);
    const pad = await PinPad.create({ root: pki.rootPem, core });
    await authenticated(pad, op);
    await pad.generateTk();
    const { tk } = await pinPadTestHarness(pad).clearKeys();
    const tmk = crypto.getRandomValues(new Uint8Array(16));
    const tmkKcv = toHex(await kcv(tmk, { core }));
    const tmkBlock = await wrapKeyBlock(tk!, "B0000K0TB00E0000", tmk, { core });
    const other = await wrapKeyBlock(
      crypto.getRandomValues(new Uint8Array(16)),
      "B0000K0TB00E0000",
      tmk,
      { core },
    );
    const bad: [{ tmkBlock: string; tmkKcv: string }, string][] = [
      [{ tmkBlock, tmkKcv: "000000" }, "kcv_mismatch"],
      [{ tmkBlock: other, tmkKcv }, "decrypt_failed"],
    ];
    for (const [d, code] of bad) {
      const e = await assertRejects(
        () => pad.installTmk({ sn: "SN00000001", ...d }),
        IntegrityError,
      );
      assertEquals(e.code, code);
      assertEquals(pad.state().tmkKcv, undefined, "nothing stored");
    }
    assertEquals(await pad.installTmk({ sn: "SN00000001", tmkBlock, tmkKcv }), { tmkKcv });
    assertEquals(pad.state().tmkKcv, tmkKcv);
    assertEquals(toHex((await pinPadTestHarness(pad).clearKeys()).tmk!), toHex(tmk));
    // a TK whose hash no longer matches: refused on export and on use
    await pinPadTestHarness(pad).corruptTk();
    const e1 = await assertRejects(() => pad.exportTk(mtmsCert), IntegrityError);
    assertEquals(e1.code, "tk_hash_mismatch");
    const e2 = await assertRejects(
      () => pad.installTmk({ sn: "SN00000001", tmkBlock, tmkKcv }),
      IntegrityError,
    );
    assertEquals(e2.code, "tk_hash_mismatch");
  });

  Deno.test(`devices (${core.name}): S16-S17 proofs are CMACs under keys derived from TK and TMK`, async () => {
    const op = new OperatorTerminal({ transport: noTransport, mtmsUrl: "http://mtms.test" });
    op.insertCard((await pki.issueOperator("Operator 0042")).card);
    const pad = await PinPad.create({ root: pki.rootPem, core });
    await authenticated(pad, op);
    await pad.generateTk();
    const sn = "SN00000001";
    const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const te = new TextEncoder();
    // The MAC input and derivation written out here from the protocol's definition.
    const expected = async (key: Uint8Array, label: string, tail: Uint8Array) => {
      const k = await kdfCmacCounter(key, te.encode(label), te.encode(sn), key.length, {
        cipher: "tdes",
        core,
      });
      const data = new Uint8Array([...te.encode(label), 0, sn.length, ...te.encode(sn), ...tail]);
      return toHex(await cmac(k, data, { cipher: "tdes", core }));
    };
    const { tk } = await pinPadTestHarness(pad).clearKeys();
    assertEquals(await pad.proveTk(sn, nonce), await expected(tk!, "TMK download", hex(nonce)));
    assert((await pad.proveTk("SN00000002", nonce)) !== (await pad.proveTk(sn, nonce)));
    const e0 = await assertRejects(() => pad.proveTmk(sn, nonce), ConflictError);
    assertEquals(e0.code, "no_tmk");
    const tmk = crypto.getRandomValues(new Uint8Array(16));
    const tmkKcv = toHex(await kcv(tmk, { core }));
    await pad.installTmk({
      sn,
      tmkBlock: await wrapKeyBlock(tk!, "B0000K0TB00E0000", tmk, { core }),
      tmkKcv,
    });
    const ack = await pad.proveTmk(sn, nonce);
    assertEquals(ack.tmkKcv, tmkKcv);
    assertEquals(
      ack.mac,
      await expected(tmk, "TMK ack", new Uint8Array([...hex(nonce), ...hex(tmkKcv)])),
    );
    await assertRejects(() => pad.proveTk(sn, "00"), ValidationError, "nonce");
    await pinPadTestHarness(pad).corruptTk();
    const e1 = await assertRejects(() => pad.proveTk(sn, nonce), IntegrityError);
    assertEquals(e1.code, "tk_hash_mismatch");
  });
}
