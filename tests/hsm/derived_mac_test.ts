/**
 * The HSM's MAC under a derived key (`verifyDerivedMac`): a CMAC-TDES under
 * the key derived from a TK or TMK block (SP 800-108 counter mode, CMAC)
 * verifies exactly when it was made under that key with that label and
 * context; every other usage is refused with `key_usage`; bad arguments are
 * refused naming what was wrong. On both cores.
 *
 * @module
 */
import { assert, assertEquals, assertFalse, assertRejects } from "@std/assert";
import { cmac, kdfCmacCounter } from "../../src/crypto/mod.ts";
import { HsmError, KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { makeHsm } from "./_fixtures.ts";

const te = new TextEncoder();

for (const core of await allCores()) {
  Deno.test(`[${core.name}] hsm verifyDerivedMac: the device's MAC under a key derived from TK or TMK`, async () => {
    const { hsm, lmk } = await makeHsm(core, "aes");
    for (const template of [KEY_TEMPLATES.TK, KEY_TEMPLATES.TMK]) {
      const k = await hsm.generateKey(template);
      const clear = (await unwrapKeyBlock(lmk, k.keyBlock, { core })).key;
      const sn = te.encode("SN00000001");
      const data = randomBytes(40);
      const derived = await kdfCmacCounter(clear, te.encode("TMK download"), sn, 16, {
        cipher: "tdes",
        core,
      });
      const mac = await cmac(derived, data, { cipher: "tdes", core });
      const d = { label: "TMK download", context: sn };
      assert(await hsm.verifyDerivedMac(k.keyBlock, d, data, mac));
      assert(await hsm.verifyDerivedMac(k.keyBlock, d, data, mac.slice(0, 4)), "leftmost 4 bytes");
      const flipped = mac.slice();
      flipped[7] ^= 1;
      assertFalse(await hsm.verifyDerivedMac(k.keyBlock, d, data, flipped), "one bit of the MAC");
      const other = data.slice();
      other[0] ^= 1;
      assertFalse(await hsm.verifyDerivedMac(k.keyBlock, d, other, mac), "one bit of the data");
      assertFalse(
        await hsm.verifyDerivedMac(k.keyBlock, { label: "TMK ack", context: sn }, data, mac),
        "another label",
      );
      assertFalse(
        await hsm.verifyDerivedMac(
          k.keyBlock,
          { ...d, context: te.encode("SN00000002") },
          data,
          mac,
        ),
        "another context",
      );
      // The MAC under the base key itself, not the derived one, does not verify.
      const underBase = await cmac(clear, data, { cipher: "tdes", core });
      assertFalse(await hsm.verifyDerivedMac(k.keyBlock, d, data, underBase), "MAC under TK");
      clear.fill(0);
    }
  });

  Deno.test(`[${core.name}] hsm verifyDerivedMac: only a TDES KEK or AUK is a base key; bad arguments named`, async () => {
    const { hsm } = await makeHsm(core, "aes");
    const d = { label: "TMK download", context: te.encode("SN00000001") };
    const data = new Uint8Array(16);
    const mac = new Uint8Array(8);
    for (const t of [KEY_TEMPLATES.MAK]) {
      const k = await hsm.generateKey(t);
      const e = await assertRejects(
        () => hsm.verifyDerivedMac(k.keyBlock, d, data, mac),
        HsmError,
        `verifyDerivedMac: the base key must have key usage K0 or D0, got ${t.keyUsage}`,
      );
      assertEquals(e.code, "key_usage");
    }
    // Flow B's AUK is a base key (its session MAC key); a wrong MAC is false, not an error.
    const auk = await hsm.generateKey(KEY_TEMPLATES.AUK);
    assertFalse(await hsm.verifyDerivedMac(auk.keyBlock, d, data, mac), "zero MAC under AUK");
    const rsa = await hsm.generateRsaKeyPair({ bits: 1024 });
    assertEquals(
      (await assertRejects(
        () => hsm.verifyDerivedMac(rsa.privateKeyBlock, d, data, mac),
        HsmError,
      )).code,
      "key_usage",
    );
    const tk = (await hsm.generateKey(KEY_TEMPLATES.TK)).keyBlock;
    const bad: [() => Promise<unknown>, ErrorConstructor, string][] = [
      [
        () => hsm.verifyDerivedMac(tk, { ...d, label: "\x00\x01" }, data, mac),
        RangeError,
        "derivation.label",
      ],
      [
        () => hsm.verifyDerivedMac(tk, { ...d, label: "TMK" }, data, mac),
        RangeError,
        "derivation.label",
      ],
      [
        () => hsm.verifyDerivedMac(tk, { ...d, label: "x".repeat(65) }, data, mac),
        RangeError,
        "derivation.label",
      ],
      [
        () => hsm.verifyDerivedMac(tk, { ...d, context: new Uint8Array(65) }, data, mac),
        RangeError,
        "derivation.context",
      ],
      [
        () => hsm.verifyDerivedMac(tk, null as never, data, mac),
        TypeError,
        "derivation must be an object",
      ],
      [
        () => hsm.verifyDerivedMac(tk, d, new Uint8Array(4097), mac),
        RangeError,
        "data must be at most 4096",
      ],
      [
        () => hsm.verifyDerivedMac(tk, d, data, new Uint8Array(3)),
        RangeError,
        "mac must be 4 to 8 bytes",
      ],
      [
        () => hsm.verifyDerivedMac(tk, d, data, new Uint8Array(9)),
        RangeError,
        "mac must be 4 to 8 bytes",
      ],
      [() => hsm.verifyDerivedMac(tk, d, "data" as never, mac), TypeError, "data must be"],
    ];
    for (const [f, type, msg] of bad) await assertRejects(f, type, msg);
  });
}
