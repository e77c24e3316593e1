/**
 * HSM states and modes, unit level, on both cores and both LMK types: a new
 * HSM is offline without an LMK; the state argument is checked; a test HSM
 * marks every key block under its LMK with the test optional block (read
 * back with the LMK the test knows, so the MAC covers it) and every TR-31
 * block it exports, and a production HSM marks none. The full state x
 * operation table, the custodian table and the production refusals are
 * proofs in `tests/harden/hsm_state_test.ts`.
 *
 * @module
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  HsmError,
  KEY_TEMPLATES,
  SoftwareHsm,
  TEST_KEY_BLOCK_ID,
  testMarker,
} from "../../src/hsm/mod.ts";
import { readKeyBlockHeader, unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { kcv, setOddParity, toHex } from "../../src/crypto/mod.ts";
import { makeComponents, makeHsm } from "./_fixtures.ts";

for (const core of await allCores()) {
  Deno.test(`[${core.name}] hsm state: a new HSM is offline, without an LMK; states are checked`, async () => {
    const hsm = await SoftwareHsm.create({ mode: "test", core });
    assertEquals([hsm.state, hsm.mode, hsm.hasLmk], ["offline", "test", false]);
    const e = assertThrows(() => hsm.lmkKcv, HsmError, "lmkKcv: no LMK is loaded (state offline)");
    assertEquals([e.code, e.state, e.operation], ["no_lmk", "offline", "lmkKcv"]);
    await assertRejects(
      () => hsm.setState("online" as never),
      RangeError,
      'state must be one of offline, secure, authorized, got "online"',
    );
    await assertRejects(() => hsm.setState("secure", 7 as never), TypeError, "by must be a string");
    assertEquals(hsm.state, "offline");
    await assertRejects(
      () => SoftwareHsm.create({ mode: "live" as never, core }),
      RangeError,
      'options.mode must be "production" or "test", got "live"',
    );
    await assertRejects(
      () => SoftwareHsm.create({ mode: "test", core, lmkKcv: "00" } as never),
      TypeError,
      "options.lmkKcv: the LMK is loaded with loadLmk",
    );
  });

  for (const algorithm of ["aes", "tdes"] as const) {
    Deno.test(`[${core.name}] hsm mode (${algorithm} LMK): test keys carry the test block under the MAC, production keys none`, async () => {
      const { hsm, lmk } = await makeHsm(core, algorithm);
      const made = [
        (await hsm.generateKey(KEY_TEMPLATES.TMK)).keyBlock,
        (await hsm.generateKey(KEY_TEMPLATES.MAK)).keyBlock,
        (await hsm.generateRsaKeyPair({ bits: 1024, template: KEY_TEMPLATES.RSA_TRANSPORT }))
          .privateKeyBlock,
      ];
      for (const block of made) {
        // Unwrapped with the LMK the test knows: the block's MAC covers the marker.
        const { header, key } = await unwrapKeyBlock(lmk, block, { core });
        key.fill(0);
        assertEquals(header.version, algorithm === "aes" ? "D" : "B");
        assertEquals(header.optionalBlocks[0], {
          id: TEST_KEY_BLOCK_ID,
          data: testMarker(hsm.lmkKcv),
        });
      }
      // A TR-31 export under a KEK carries it too (its header, in clear, under the KEK's MAC).
      const kek = (await hsm.generateKey(KEY_TEMPLATES.TK)).keyBlock;
      const exported = (await hsm.exportKey(made[0], kek)).exported;
      assertEquals(readKeyBlockHeader(exported).optionalBlocks?.[0], {
        id: TEST_KEY_BLOCK_ID,
        data: testMarker(hsm.lmkKcv),
      });
      // Production, same LMK (with its KCV): no optional block at all.
      const { components } = await makeComponents(algorithm, 2, core);
      const prod = await SoftwareHsm.open({ mode: "production", lmkAlgorithm: algorithm, core }, {
        components,
        lmkKcv: (await SoftwareHsm.open({ mode: "test", lmkAlgorithm: algorithm, core }, {
          components,
        })).lmkKcv,
      });
      const block = (await prod.generateKey(KEY_TEMPLATES.TMK)).keyBlock;
      assertEquals(block.slice(12, 14), "00", "no optional blocks");
      assertEquals((await prod.keyInfo(block)).keyUsage, "K0");
      const prodKek = (await prod.generateKey(KEY_TEMPLATES.TK)).keyBlock;
      assertEquals((await prod.exportKey(block, prodKek)).exported.slice(12, 14), "00");
    });
  }

  Deno.test(`[${core.name}] hsm: in production mode, PK/MAK-style keys from components need distinct custodians too`, async () => {
    const { components } = await makeComponents("aes", 2, core);
    const lmkKcv = (await SoftwareHsm.open({ mode: "test", core }, { components })).lmkKcv;
    const prod = await SoftwareHsm.open({ mode: "production", core }, { components, lmkKcv });
    const test = await SoftwareHsm.open({ mode: "test", core }, { components });
    const parts = [];
    for (let i = 0; i < 2; i++) {
      const k = setOddParity(randomBytes(24));
      parts.push({
        custodian: `officer-${i + 1}`,
        key: toHex(k),
        kcv: toHex(await kcv(k, { method: "legacy", core })),
      });
    }
    const bare = parts.map(({ key, kcv }) => ({ key, kcv }));
    const twice = parts.map((p) => ({ ...p, custodian: "officer-1" }));
    for (
      const [what, comps, message] of [
        ["no custodian", bare, "key component 1 of 2 has no custodian"],
        ["one custodian twice", twice, 'custodian "officer-1" already entered component 1'],
      ] as const
    ) {
      const e = await assertRejects(
        () => prod.importKeyFromComponents(comps, KEY_TEMPLATES.PK),
        HsmError,
        message,
      );
      assertEquals(e.code, "custodian", what);
    }
    // Named, distinct: formed, with the same KCV as a test HSM forms from the bare components.
    const formed = await prod.importKeyFromComponents(parts, KEY_TEMPLATES.PK);
    assertEquals(formed.kcv, (await test.importKeyFromComponents(bare, KEY_TEMPLATES.PK)).kcv);
  });
}
