/**
 * The hand-over of a shared key's successor between two HSMs with different
 * LMKs (`exportSuccessorKey`, `importSuccessorKey`): PK and MAK each reach
 * the other HSM under a key exchange key derived from the current key, with
 * the same attributes and KCV; a garbled block, another context, another
 * current key, a mismatched successor and a wrong KCV are refused with exact
 * codes; no caller-chosen derivation gives the key exchange key; TKs
 * translated to PK name it in optional block KP. On both cores.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { setOddParity, toHex } from "../../src/crypto/mod.ts";
import { HsmError, KEY_TEMPLATES, type SoftwareHsm } from "../../src/hsm/mod.ts";
import { readKeyBlockHeader, unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { makeHsm, refKcv } from "./_fixtures.ts";

const te = new TextEncoder();

/** The same key formed from the same components in both HSMs. */
async function shared(
  a: SoftwareHsm,
  b: SoftwareHsm,
  template: typeof KEY_TEMPLATES.PK | typeof KEY_TEMPLATES.MAK,
) {
  const length = template.length;
  const parts = [setOddParity(randomBytes(length)), setOddParity(randomBytes(length))];
  const c = parts.map((p) => ({ key: toHex(p), kcv: refKcv(p) }));
  return [
    await a.importKeyFromComponents(c, template),
    await b.importKeyFromComponents(c, template),
  ];
}

for (const core of await allCores()) {
  Deno.test(`[${core.name}] hsm successor: PK and MAK handed over under a derived KEK`, async () => {
    const kms = await makeHsm(core, "aes");
    const mtms = await makeHsm(core, "tdes");
    for (const template of [KEY_TEMPLATES.PK, KEY_TEMPLATES.MAK]) {
      const [curK, curM] = await shared(kms.hsm, mtms.hsm, template);
      const next = await kms.hsm.generateKey(template);
      const context = te.encode(`${template.keyUsage} v2`);
      const sent = await kms.hsm.exportSuccessorKey(next.keyBlock, curK.keyBlock, context);
      assertEquals(sent.kcv, next.kcv);
      const got = await mtms.hsm.importSuccessorKey(sent.exported, curM.keyBlock, {
        context,
        expectedKcv: next.kcv,
      });
      assertEquals(got.kcv, next.kcv);
      const a = await unwrapKeyBlock(kms.lmk, next.keyBlock, { core });
      const b = await unwrapKeyBlock(mtms.lmk, got.keyBlock, { core });
      assertEquals(toHex(b.key), toHex(a.key), "the same key under each LMK");
      assertEquals(
        [b.header.keyUsage, b.header.modeOfUse, b.header.exportability],
        [template.keyUsage, template.modeOfUse, "N"],
      );

      const refused = async (code: string, fn: () => Promise<unknown>, what: string) => {
        const e = await assertRejects(fn, HsmError, undefined, what);
        assertEquals(e.code, code, what);
      };
      const at = sent.exported.length - 3;
      const garbled = sent.exported.slice(0, at) + (sent.exported[at] === "0" ? "1" : "0") +
        sent.exported.slice(at + 1);
      await refused(
        "key_block",
        () =>
          mtms.hsm.importSuccessorKey(garbled, curM.keyBlock, { context, expectedKcv: next.kcv }),
        "garbled",
      );
      await refused("key_block", () =>
        mtms.hsm.importSuccessorKey(sent.exported, curM.keyBlock, {
          context: te.encode("other"),
          expectedKcv: next.kcv,
        }), "another context");
      const [otherM] = await shared(mtms.hsm, mtms.hsm, template);
      await refused(
        "key_block",
        () =>
          mtms.hsm.importSuccessorKey(sent.exported, otherM.keyBlock, {
            context,
            expectedKcv: next.kcv,
          }),
        "another current key",
      );
      await refused(
        "kcv_mismatch",
        () =>
          mtms.hsm.importSuccessorKey(sent.exported, curM.keyBlock, {
            context,
            expectedKcv: "000000",
          }),
        "wrong KCV",
      );
    }
    // A successor of other attributes, a base key that is not PK or MAK: refused.
    const [pk] = await shared(kms.hsm, mtms.hsm, KEY_TEMPLATES.PK);
    const mak = await kms.hsm.generateKey(KEY_TEMPLATES.MAK);
    const tk = await kms.hsm.generateKey(KEY_TEMPLATES.TK);
    const e1 = await assertRejects(
      () => kms.hsm.exportSuccessorKey(mak.keyBlock, pk.keyBlock, te.encode("PK v2")),
      HsmError,
    );
    assertEquals(e1.code, "key_usage");
    const e2 = await assertRejects(
      () => kms.hsm.exportSuccessorKey(tk.keyBlock, tk.keyBlock, te.encode("TK v2")),
      HsmError,
    );
    assertEquals(e2.code, "key_usage");
    await assertRejects(
      () => kms.hsm.exportSuccessorKey(mak.keyBlock, mak.keyBlock, new Uint8Array(0)),
      RangeError,
      "context must be 1 to 64 bytes",
    );
  });

  Deno.test(`[${core.name}] hsm successor: no caller's derivation gives the key exchange key`, async () => {
    const { hsm } = await makeHsm(core, "aes");
    const tk = await hsm.generateKey(KEY_TEMPLATES.TK);
    await assertRejects(
      () =>
        hsm.verifyDerivedMac(
          tk.keyBlock,
          { label: "HSM successor key exchange", context: te.encode("PK v2") },
          new Uint8Array(8),
          new Uint8Array(8),
        ),
      RangeError,
      'derivation.label may not start with "HSM "',
    );
  });

  Deno.test(`[${core.name}] hsm translateKeyFromRsa: the TK under PK names PK in block KP`, async () => {
    const { hsm } = await makeHsm(core, "aes");
    const pk = await hsm.generateKey(KEY_TEMPLATES.PK);
    const pair = await hsm.generateRsaKeyPair({
      bits: 2048,
      template: KEY_TEMPLATES.RSA_TRANSPORT,
    });
    const tk = setOddParity(randomBytes(16));
    const { oaepEncrypt } = await import("../../src/crypto/mod.ts");
    const ct = await oaepEncrypt(pair.publicKey, tk, { hash: "SHA-256", core });
    const r = await hsm.translateKeyFromRsa(pair.privateKeyBlock, ct, pk.keyBlock, {
      template: KEY_TEMPLATES.TK,
      hash: "SHA-256",
    });
    const kp = readKeyBlockHeader(r.exported).optionalBlocks.find((b) => b.id === "KP");
    assert(kp, "block KP present");
    assertEquals(kp.data, `00${pk.kcv}`);
  });
}
