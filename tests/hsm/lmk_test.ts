/**
 * Loading the LMK from key components: the right components, a wrong
 * component (named), one component, wrong lengths, duplicates, a wrong
 * expected KCV; on both cores and both LMK types. A failed load leaves no
 * HSM and writes one audit record; no message shows a component.
 *
 * @module
 */
import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { kcv, toHex } from "../../src/crypto/mod.ts";
import type { CryptoCore } from "../../src/core/mod.ts";
import {
  type HsmAuditEvent,
  HsmError,
  runSelfTests,
  SELF_TESTS,
  SoftwareHsm,
} from "../../src/hsm/mod.ts";
import { allCores } from "../_helpers.ts";
import { leakScanner, makeComponents } from "./_fixtures.ts";

/**
 * A test HSM brought to the secure state, then `loadLmk`; `events` holds only
 * what the load wrote.
 */
async function load(
  components: unknown[],
  o: { algorithm: "aes" | "tdes"; core: CryptoCore; lmkKcv?: string; events?: HsmAuditEvent[] },
): Promise<SoftwareHsm> {
  const events = o.events ?? [];
  const hsm = await SoftwareHsm.create({
    mode: "test",
    lmkAlgorithm: o.algorithm,
    core: o.core,
    audit: (e) => void events.push(e),
  });
  await hsm.setState("secure", "test");
  events.splice(0);
  await hsm.loadLmk(components as never, { lmkKcv: o.lmkKcv });
  return hsm;
}

for (const core of await allCores()) {
  for (const algorithm of ["aes", "tdes"] as const) {
    const tag = `[${core.name}] hsm LMK (${algorithm})`;

    Deno.test(`${tag}: two or three right components load; the LMK KCV is that of their XOR`, async () => {
      for (const n of [2, 3]) {
        const { components, lmk } = await makeComponents(algorithm, n, core);
        const events: HsmAuditEvent[] = [];
        const hsm = await load(components, { algorithm, core, events });
        const expected = toHex(
          await kcv(lmk, {
            method: algorithm === "aes" ? "cmac" : "legacy",
            algorithm,
            length: algorithm === "aes" ? 5 : 3,
            core,
          }),
        );
        assertEquals(hsm.lmkKcv, expected);
        assertEquals(hsm.lmkAlgorithm, algorithm);
        assertEquals(events, [{
          event: "lmk_loaded",
          outcome: "success",
          keyId: "LMK",
          kcv: expected,
          detail: `${algorithm === "aes" ? "AES-256" : "TDES"} LMK from ${n} components ` +
            `(custodians ${components.map((c) => c.custodian).join(", ")}; test mode)`,
        }]);
        // The expected LMK KCV, when given, is checked.
        const again = await load(components, { algorithm, core, lmkKcv: expected.toLowerCase() });
        assertEquals(again.lmkKcv, expected);
        // Lowercase hex components (as typed) are accepted.
        const lower = components.map((c) => ({
          custodian: c.custodian,
          key: (c.key as string).toLowerCase(),
          kcv: c.kcv.toLowerCase(),
        }));
        assertEquals((await load(lower, { algorithm, core })).lmkKcv, expected);
      }
    });

    Deno.test(`${tag}: bad components are refused with the exact reason, nothing loaded, one audit record`, async () => {
      const { components, clear } = await makeComponents(algorithm, 3, core);
      const len = algorithm === "aes" ? 32 : 24;
      const flip = (hex: string) => (hex[0] === "0" ? "1" : "0") + hex.slice(1);
      const cases: [
        string,
        unknown[],
        string | undefined,
        typeof HsmError | typeof RangeError | typeof TypeError,
        string,
        string?,
      ][] = [
        [
          "wrong component 2",
          [
            components[0],
            { ...components[1], key: flip(components[1].key as string) },
            components[2],
          ],
          undefined,
          HsmError,
          `LMK component 2 of 3 does not match its KCV ${
            components[1].kcv
          }: re-enter that component`,
          "component_kcv",
        ],
        [
          "wrong KCV of component 3",
          [components[0], components[1], { ...components[2], kcv: flip(components[2].kcv) }],
          undefined,
          HsmError,
          `LMK component 3 of 3 does not match its KCV ${flip(components[2].kcv)}`,
          "component_kcv",
        ],
        [
          "a single component",
          [components[0]],
          undefined,
          HsmError,
          "the LMK needs two or more components (dual control), got 1",
          "components",
        ],
        [
          "no components",
          [],
          undefined,
          HsmError,
          "the LMK needs two or more components (dual control), got 0",
          "components",
        ],
        [
          "short component",
          [components[0], { ...components[1], key: (components[1].key as string).slice(2) }],
          undefined,
          HsmError,
          `LMK component 2 of 2: key must be ${len} bytes, got ${len - 1}`,
          "components",
        ],
        [
          "long component",
          [{ ...components[0], key: components[0].key + "00" }, components[1]],
          undefined,
          HsmError,
          `LMK component 1 of 2: key must be ${len} bytes, got ${len + 1}`,
          "components",
        ],
        [
          "component not hex",
          [components[0], { ...components[1], key: "zz" + (components[1].key as string).slice(2) }],
          undefined,
          RangeError,
          "LMK component 2 of 2: key must be hex (the component is not shown)",
        ],
        [
          "KCV too short",
          [components[0], { ...components[1], kcv: "ABCD" }],
          undefined,
          RangeError,
          `LMK component 2 of 2: kcv must be 3 to ${
            algorithm === "aes" ? 16 : 8
          } bytes of hex, got "ABCD"`,
        ],
        [
          "component as number",
          [components[0], { custodian: "b", key: 5, kcv: components[1].kcv }],
          undefined,
          TypeError,
          "LMK component 2 of 2: key must be a hex string or a Uint8Array, got number",
        ],
        [
          "identical components",
          [components[0], { ...components[0], custodian: "another" }],
          undefined,
          HsmError,
          "components 1 and 2 are identical: each custodian needs their own",
          "weak_key",
        ],
        [
          "all-zero component",
          [components[0], { custodian: "b", key: "00".repeat(len), kcv: "000000" }],
          undefined,
          HsmError,
          "LMK component 2 of 2 is all zeros",
          "weak_key",
        ],
        [
          "wrong expected LMK KCV",
          components,
          "000000",
          HsmError,
          "the combined LMK does not match the expected KCV 000000: a component is wrong",
          "combined_kcv",
        ],
      ];
      const leaks = leakScanner(clear);
      for (const [name, comps, lmkKcv, cls, msg, code] of cases) {
        const events: HsmAuditEvent[] = [];
        const e = await assertRejects(
          () => load(comps, { algorithm, core, lmkKcv, events }),
          cls as typeof Error,
          msg,
          name,
        );
        if (code) assertEquals((e as HsmError).code, code, name);
        assertEquals(events.length, 1, `${name}: one audit record`);
        assertEquals(events[0].event, "lmk_load_failed", name);
        assertEquals(events[0].outcome, "failure", name);
        assertStringIncludes(events[0].detail!, msg, name);
        assertEquals(
          leaks(e.message + JSON.stringify(events)),
          null,
          `${name}: no component in the message`,
        );
      }
    });
  }

  Deno.test(`[${core.name}] hsm self-tests: a core giving one wrong answer stops the HSM, named`, async () => {
    for (const t of SELF_TESTS) {
      // A faulty core: the one primitive the test exercises answers wrong.
      const faulty: CryptoCore = Object.create(core);
      const wrong = (f: (...a: Uint8Array[]) => Uint8Array) => (...a: Uint8Array[]) => {
        const r = f.apply(core, a);
        r[r.length - 1] ^= 1;
        return r;
      };
      const fn = t.name.startsWith("TDES-ECB encrypt")
        ? "tdesEncryptEcb"
        : t.name.startsWith("TDES-ECB decrypt")
        ? "tdesDecryptEcb"
        : t.name === "SHA-1"
        ? "sha1"
        : t.name === "SHA-256"
        ? "sha256"
        : "modPow";
      Object.defineProperty(faulty, fn, { value: wrong(core[fn] as never) });
      const events: HsmAuditEvent[] = [];
      const e = await assertRejects(
        () =>
          SoftwareHsm.create({ mode: "test", core: faulty, audit: (ev) => void events.push(ev) }),
        HsmError,
        t.name === "RSA private"
          ? "self-test RSA public failed"
          : `self-test ${t.name} failed on the ${core.name} core`,
      );
      assertEquals(e.code, "self_test");
      assertEquals(events.map((x) => x.event), ["self_test_failed"]);
    }
    runSelfTests(core);
  });

  Deno.test(`[${core.name}] hsm LMK: options are checked`, async () => {
    const { components } = await makeComponents("aes", 2, core);
    await assertRejects(
      () => SoftwareHsm.create({ components, mode: "test", core } as never),
      TypeError,
      "options.components: the LMK is loaded with loadLmk in the secure state",
    );
    await assertRejects(
      () => SoftwareHsm.create({ core } as never),
      RangeError,
      'options.mode must be "production" or "test", got nothing',
    );
    await assertRejects(
      () => SoftwareHsm.create(null as never),
      TypeError,
      "options must be an object, got null",
    );
    await assertRejects(
      () => SoftwareHsm.create({ mode: "test", lmkAlgorithm: "des" as "aes", core }),
      RangeError,
      'options.lmkAlgorithm must be "aes" or "tdes", got "des"',
    );
    await assertRejects(
      () => SoftwareHsm.create({ mode: "test", core, audit: "log" as never }),
      TypeError,
      "options.audit must be a function, got string",
    );
    // AES components are 32 bytes: TDES-length components do not load an AES LMK.
    const tdes = await makeComponents("tdes", 2, core);
    const e = await assertRejects(
      () => load(tdes.components, { algorithm: "aes", core }),
      HsmError,
      "LMK component 1 of 2: key must be 32 bytes, got 24",
    );
    assertEquals(e.code, "components");
  });
}
