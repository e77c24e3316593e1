/**
 * Revocation at the PIN pad: the MTMS transport certificate is checked
 * against the CRL of the root the pad holds (written at flashing, or a newer
 * one handed with the MTMS certificate, taken without a restart). A revoked
 * certificate gets no TK; an older CRL or one from another CA does not
 * replace the one held; a certificate that is not revoked still gets its TK.
 */
import { assertEquals, assertRejects } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { generateRsaKeyPair } from "../../src/crypto/mod.ts";
import { parseCertificate } from "../../src/pki/mod.ts";
import { AuthenticationError } from "../../src/protocol/mod.ts";
import { PinPad } from "../../devices/pin_pad.ts";
import { OperatorTerminal } from "../../devices/operator_terminal.ts";
import { makeDemoPki } from "../../demo/setup.ts";

const core = await loadCore("wasm");
const pki = await makeDemoPki(core);
const [k1, k2] = await Promise.all([
  generateRsaKeyPair({ bits: 2048, core }),
  generateRsaKeyPair({ bits: 2048, core }),
]);
const mtmsCert = await pki.issueServer("MTMS transport", k1.publicKey);
const successor = await pki.issueServer("MTMS transport 2", k2.publicKey);
const serial = parseCertificate(mtmsCert).serialNumber;

/** A PIN pad holding a TK, after the operator's authentication. */
async function padWithTk(crls?: string[]): Promise<PinPad> {
  const op = new OperatorTerminal({
    transport: () => Promise.reject(new Error("no network in this test")),
    mtmsUrl: "http://mtms.test",
  });
  op.insertCard((await pki.issueOperator("Operator 0042")).card);
  const pad = await PinPad.create({ root: pki.rootPem, core, crls });
  const answer = await op.answerChallenge(pad.operatorChallenge());
  await pad.verifyOperator({ certificate: answer.certificate, cryptogram: answer.cryptogram });
  await pad.generateTk();
  return pad;
}

Deno.test("PIN pad: a revoked MTMS transport certificate gets no TK once a newer CRL is taken", async () => {
  const pad = await padWithTk([await pki.issueCrl(1n, [])]);
  assertEquals((await pad.exportTk(mtmsCert)).mtmsSubject, "C=CN, O=TMK Demo, CN=MTMS transport");
  // The CA revokes the MTMS certificate; the operator terminal hands the new CRL over.
  assertEquals(await pad.acceptCrl(await pki.issueCrl(2n, [serial]), mtmsCert), true);
  const e = await assertRejects(() => pad.exportTk(mtmsCert), AuthenticationError);
  assertEquals(e.code, "certificate_revoked");
  // An older CRL does not bring the certificate back.
  assertEquals(await pad.acceptCrl(await pki.issueCrl(1n, []), mtmsCert), false);
  const still = await assertRejects(() => pad.exportTk(mtmsCert), AuthenticationError);
  assertEquals(still.code, "certificate_revoked");
  // A CRL signed by another CA under the same name is refused, and nothing changes.
  const impostor = await makeDemoPki(core);
  const alien = await assertRejects(
    async () => pad.acceptCrl(await impostor.issueCrl(9n, []), mtmsCert),
    AuthenticationError,
  );
  assertEquals(alien.code, "crl_invalid");
  assertEquals(
    (await assertRejects(() => pad.exportTk(mtmsCert), AuthenticationError)).code,
    "certificate_revoked",
  );
  // The MTMS's next certificate, not revoked, gets the TK.
  assertEquals(
    (await pad.exportTk(successor)).mtmsSubject,
    "C=CN, O=TMK Demo, CN=MTMS transport 2",
  );
});

Deno.test("PIN pad: a CRL written at flashing already refuses the revoked certificate", async () => {
  const pad = await padWithTk([await pki.issueCrl(3n, [serial])]);
  const e = await assertRejects(() => pad.exportTk(mtmsCert), AuthenticationError);
  assertEquals(e.code, "certificate_revoked");
  assertEquals((await pad.exportTk(successor)).tkKcv.length, 6);
});
