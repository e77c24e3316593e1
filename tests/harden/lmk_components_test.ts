/**
 * The LMK comes only from two or more components, each and
 * the result checked by KCV. Every way a component can be wrong (its KCV, its
 * length, its hex, a repeat of another, all zeros, fewer than two, a wrong
 * expected LMK KCV) makes `loadLmk` reject with the exact code, keeps no LMK,
 * writes exactly one audit entry (`lmk_load_failed`, naming the check, no
 * component in it), and leaves no component bytes in the wasm scratch memory.
 *
 * Prints `figure lmk-components`.
 */
import { assertEquals, assertRejects } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { coreExports } from "../../src/core/wasm/loader.js";
import { fromHex } from "../../src/crypto/mod.ts";
import { type HsmAuditEvent, HsmError, type LmkComponent, SoftwareHsm } from "../../src/hsm/mod.ts";
import { makeComponents } from "../hsm/_fixtures.ts";
import { figure } from "./_figures.ts";

const core = await loadCore("wasm");

function wasmHolds(secret: Uint8Array): boolean {
  const mem = new Uint8Array(
    (coreExports() as unknown as { memory: WebAssembly.Memory }).memory.buffer,
  );
  const w = secret.subarray(0, 8);
  for (let o = 0; o + 8 <= mem.length; o++) {
    if (mem[o] === w[0] && mem.subarray(o, o + 8).every((b, i) => b === w[i])) return true;
  }
  return false;
}

Deno.test("a wrong LMK component is refused with its code, one audit entry, nothing left behind", async () => {
  const { components } = await makeComponents("aes", 3, core);
  const [c1, c2, c3] = components;
  const flip = (hex: string) => (hex[0] === "0" ? "1" : "0") + hex.slice(1);
  const cases: [string, LmkComponent[], string | undefined, string][] = [
    [
      "component 2 with a wrong KCV",
      [c1, { ...c2, kcv: flip(c2.kcv) }, c3],
      undefined,
      "component_kcv",
    ],
    [
      "component 3 changed (its KCV no longer matches)",
      [c1, c2, { ...c3, key: flip(c3.key as string) }],
      undefined,
      "component_kcv",
    ],
    [
      "component 1 one byte short",
      [{ ...c1, key: (c1.key as string).slice(2) }, c2, c3],
      undefined,
      "components",
    ],
    ["the same component twice", [c1, { ...c1, custodian: "z" }, c3], undefined, "weak_key"],
    ["one component only", [c1], undefined, "components"],
    [
      "an all-zero component",
      [{ custodian: "z", key: "00".repeat(32), kcv: "000000" }, c2],
      undefined,
      "weak_key",
    ],
    ["a wrong expected LMK KCV", [c1, c2, c3], "0000000000", "combined_kcv"],
  ];
  let refused = 0;
  for (const [name, comps, lmkKcv, code] of cases) {
    const events: HsmAuditEvent[] = [];
    const hsm = await SoftwareHsm.create({
      mode: "test",
      core,
      audit: (ev) => void events.push(ev),
    });
    await hsm.setState("secure", "custodians");
    events.splice(0);
    const e = await assertRejects(() => hsm.loadLmk(comps, { lmkKcv }), HsmError);
    assertEquals(hsm.hasLmk, false, `${name}: no LMK kept`);
    assertEquals((e as HsmError).code, code, name);
    assertEquals(events.length, 1, name);
    assertEquals(events[0].event, "lmk_load_failed", name);
    assertEquals(events[0].outcome, "failure", name);
    for (const c of comps) {
      const hex = (c.key as string).toUpperCase();
      assertEquals(JSON.stringify(events[0]).toUpperCase().includes(hex.slice(0, 16)), false, name);
      if (/^[0-9A-F]{16,}$/.test(hex) && hex !== "0".repeat(hex.length)) {
        assertEquals(wasmHolds(fromHex(hex)), false, `${name}: component bytes in wasm memory`);
      }
    }
    refused++;
  }
  // The right components load, once audited with the LMK's KCV.
  const events: HsmAuditEvent[] = [];
  const hsm = await SoftwareHsm.open({ mode: "test", core, audit: (ev) => void events.push(ev) }, {
    components,
  });
  assertEquals(events.map((e) => e.event), ["state_changed", "lmk_loaded", "state_changed"]);
  assertEquals(events[1].kcv, hsm.lmkKcv);
  figure(
    "lmk-components",
    `${cases.length} wrong component sets: ${refused} refused with the exact code, 1 lmk_load_failed audit entry each ` +
      `with no component in it, 0 component bytes in the wasm memory; the right set loads (1 lmk_loaded with the KCV)`,
  );
});
