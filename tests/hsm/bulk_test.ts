/**
 * `SoftwareHsm.generateKeysUnderKek` (bulk TMK issuance) against the general
 * path and independent checks, on both cores: every TMK's D block opens
 * under the LMK and its B block under the clear TK to the same key, its KCV
 * is node:crypto's, its headers are those `generateKeyUnderKek` writes; a
 * batch with a refused item stops there with the error and audit records
 * `generateKeyUnderKek` gives for that item; on the wasm core the one-call
 * kernel does the work (the core's AES-CBC decryption is not called per
 * item) and leaves no key in the core's memory.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { type CryptoCore, loadCore } from "../../src/core/mod.ts";
import { coreExports } from "../../src/core/wasm/loader.js";
import { type HsmAuditEvent, KEY_TEMPLATES, type SoftwareHsm } from "../../src/hsm/mod.ts";
import { deriveKeys, unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import { makeHsm, refKcv } from "./_fixtures.ts";

const TK24 = { ...KEY_TEMPLATES.TK, length: 24 as const };

/** TK blocks (16- and 24-byte TKs) with their hashes. */
async function tks(hsm: SoftwareHsm, n: number) {
  const items: { kekBlock: string; expectedKekHash: string }[] = [];
  for (let i = 0; i < n; i++) {
    const tk = await hsm.generateKey(i % 3 === 2 ? TK24 : KEY_TEMPLATES.TK);
    items.push({ kekBlock: tk.keyBlock, expectedKekHash: await hsm.keyHash(tk.keyBlock) });
  }
  return items;
}

/** The core with its AES-CBC decryptions counted. */
function counting(core: CryptoCore): { core: CryptoCore; decryptions: () => number } {
  let n = 0;
  return {
    core: {
      ...core,
      name: core.name,
      aesDecryptCbc(key, iv, data) {
        n++;
        return core.aesDecryptCbc(key, iv, data);
      },
    },
    decryptions: () => n,
  };
}

function headerOf(block: string, bodyHex: number): string {
  return block.slice(0, block.length - bodyHex);
}

for (const name of ["wasm", "js"] as const) {
  Deno.test(`[${name}] bulk issuance: every TMK opens under the LMK and its TK, KCV and headers as one call's`, async () => {
    const c = counting(await loadCore(name));
    const { hsm, lmk } = await makeHsm(c.core);
    const items = await tks(hsm, 30);
    const one = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, items[0].kekBlock, {
      expectedKekHash: items[0].expectedKekHash,
    });
    const before = c.decryptions();
    const r = await hsm.generateKeysUnderKek(KEY_TEMPLATES.TMK, items);
    assert(r.ok);
    assertEquals(r.keys.length, items.length);
    if (name === "wasm") assert(c.decryptions() - before < 5, "the kernel did not run");
    else assertEquals(c.decryptions() - before, items.length);
    const seen = new Set<string>();
    for (const [i, k] of r.keys.entries()) {
      const tk = (await unwrapKeyBlock(lmk, items[i].kekBlock, { core: c.core })).key;
      const d = await unwrapKeyBlock(lmk, k.keyBlock, { core: c.core });
      const b = await unwrapKeyBlock(tk, k.exported, { core: c.core });
      assertEquals(b.key, d.key);
      assertEquals(d.key.length, 16);
      assertEquals(k.kcv, refKcv(d.key));
      assertEquals(headerOf(k.keyBlock, 96), headerOf(one.keyBlock, 96));
      assertEquals(headerOf(k.exported, 80), headerOf(one.exported, 80));
      assertEquals(d.header, (await unwrapKeyBlock(lmk, one.keyBlock, { core: c.core })).header);
      seen.add(k.kcv + k.keyBlock);
    }
    assertEquals(seen.size, items.length, "every TMK is fresh");
  });

  Deno.test(`[${name}] bulk issuance: a refused item stops the batch as generateKeyUnderKek refuses it`, async () => {
    const core = await loadCore(name);
    const { hsm, events } = await makeHsm(core);
    const items = await tks(hsm, 8);
    const mak = await hsm.generateKey(KEY_TEMPLATES.MAK);
    const flip = (s: string, at: number) =>
      s.slice(0, at) + (s[at] === "0" ? "1" : "0") + s.slice(at + 1);
    const bad: [string, { kekBlock: string; expectedKekHash?: string }][] = [
      ["wrong hash", { ...items[5], expectedKekHash: "AB".repeat(32) }],
      ["lowercase hash", { ...items[5], expectedKekHash: items[5].expectedKekHash.toLowerCase() }],
      ["altered MAC", {
        ...items[5],
        kekBlock: flip(items[5].kekBlock, items[5].kekBlock.length - 1),
      }],
      ["altered ciphertext", {
        ...items[5],
        kekBlock: flip(items[5].kekBlock, items[5].kekBlock.length - 60),
      }],
      ["lowercase body", { ...items[5], kekBlock: items[5].kekBlock.slice(0, -1) + "a" }],
      ["not a TK", { kekBlock: mak.keyBlock }],
      ["short hash", { ...items[5], expectedKekHash: "AB" }],
    ];
    for (const [what, item] of bad) {
      const batch = items.map((x, i) => i === 5 ? item : x);
      events.splice(0);
      const r = await hsm.generateKeysUnderKek(KEY_TEMPLATES.TMK, batch);
      const bulkEvents = events.splice(0);
      let expected: unknown;
      try {
        await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, item.kekBlock, {
          expectedKekHash: item.expectedKekHash,
        });
      } catch (e) {
        expected = e;
      }
      const oneEvents = events.splice(0);
      if (what === "lowercase hash") {
        assert(r.ok, what);
        assertEquals(expected, undefined, what);
        continue;
      }
      assert(!r.ok, what);
      assertEquals(r.index, 5, what);
      assert(expected instanceof Error, what);
      assertEquals(String(r.error), String(expected), what);
      assertEquals((r.error as { code?: string }).code, (expected as { code?: string }).code, what);
      const strip = (e: HsmAuditEvent[]) =>
        e.map(({ event, outcome, detail }) => ({ event, outcome, detail }));
      assertEquals(strip(bulkEvents), strip(oneEvents), what);
    }
  });
}

Deno.test("[wasm] bulk issuance: no clear key or LMK-derived key left in the core's memory", async () => {
  const core = await loadCore("wasm");
  const { hsm, lmk, secrets } = await makeHsm(core);
  const items = await tks(hsm, 20);
  const r = await hsm.generateKeysUnderKek(KEY_TEMPLATES.TMK, items);
  assert(r.ok);
  for (const it of items) secrets.push((await unwrapKeyBlock(lmk, it.kekBlock, { core })).key);
  for (const k of r.keys) secrets.push((await unwrapKeyBlock(lmk, k.keyBlock, { core })).key);
  const d = await deriveKeys("D", lmk, core);
  secrets.push(d.kbek, d.kbak, ...(d.kbakSubkeys ?? []));
  const windows = new Set<string>();
  for (const s of secrets) {
    for (let j = 0; j + 8 <= s.length; j++) windows.add(s.subarray(j, j + 8).join(","));
  }
  const memory = new Uint8Array(coreExports().memory.buffer);
  let hit = -1;
  for (let i = 0; i + 8 <= memory.length && hit < 0; i++) {
    if (memory[i] !== 0 && windows.has(memory.subarray(i, i + 8).join(","))) hit = i;
  }
  assertEquals(hit, -1, `a key's 8 bytes at wasm memory offset ${hit}`);
  assert(secrets.length > 40);
});
