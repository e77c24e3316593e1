/**
 * A/B probe of the HSM's per-terminal issuance call, in one process: this
 * tree's software HSM against another tree's (main's, unpacked with
 * `git archive`), each opened with the same LMK components on its own wasm
 * core, alternated round by round so both see the same machine load. Each
 * round issues `calls` TMKs over 500 TK blocks, by `generateKeysUnderKek`
 * in batches of 500 where the HSM has it (as the pool's workers call it),
 * else by `generateKeyUnderKek(TMK, TK block, { expectedKekHash })` per key,
 * and measures the process's CPU time per key; the best round of each side
 * is kept. Every result's KCV is
 * checked against the TMK block's own, through the other side's HSM once.
 *
 * Run:
 * ```
 * mkdir -p /tmp/tree-main && git archive main src | tar -x -C /tmp/tree-main
 * deno run -A bench/_issue_ab.ts /tmp/tree-main [rounds] [calls]
 * ```
 */
import process from "node:process";
import { randomLmkComponents } from "../demo/setup.ts";

const other = Deno.args[0];
if (!other) throw new Error("usage: _issue_ab.ts <other tree> [rounds] [calls]");
const rounds = Number(Deno.args[1] ?? 8);
const calls = Number(Deno.args[2] ?? 5_000);

type Hsm = {
  generateKey(t: unknown): Promise<{ keyBlock: string }>;
  keyHash(b: string): Promise<string>;
  keyCheckValue(b: string): Promise<string>;
  generateKeyUnderKek(
    t: unknown,
    kek: string,
    o: { expectedKekHash?: string },
  ): Promise<{ keyBlock: string; exported: string; kcv: string }>;
  generateKeysUnderKek?(
    t: unknown,
    items: { kekBlock: string; expectedKekHash?: string }[],
  ): Promise<{ ok: boolean; keys?: unknown[] }>;
};

async function side(root: string, components?: unknown) {
  const hsmMod = await import(new URL("src/hsm/mod.ts", root).href);
  const coreMod = await import(new URL("src/core/mod.ts", root).href);
  const core = await coreMod.loadCore("wasm");
  const comps = components ?? await randomLmkComponents(3, core);
  const hsm: Hsm = await hsmMod.SoftwareHsm.open(
    { mode: "test", lmkAlgorithm: "aes", core },
    { components: comps },
  );
  return { hsm, comps, tmk: hsmMod.KEY_TEMPLATES.TMK, tkT: hsmMod.KEY_TEMPLATES.TK };
}

const here = new URL("../", import.meta.url).href;
const there = new URL(other.endsWith("/") ? other : other + "/", "file:///").href;
const a = await side(here);
const b = await side(there, a.comps);
const tks: { block: string; hash: string }[] = [];
for (let i = 0; i < 500; i++) {
  const tk = await a.hsm.generateKey(a.tkT);
  tks.push({ block: tk.keyBlock, hash: await a.hsm.keyHash(tk.keyBlock) });
}
// Each side's TMK blocks open under the other's HSM with the same KCV.
for (const [x, y] of [[a, b], [b, a]]) {
  const r = await x.hsm.generateKeyUnderKek(x.tmk, tks[0].block, { expectedKekHash: tks[0].hash });
  if ((await y.hsm.keyCheckValue(r.keyBlock)) !== r.kcv) throw new Error("KCVs differ");
}

const items = tks.map((t) => ({ kekBlock: t.block, expectedKekHash: t.hash }));

/** A round: batches of 500 where the HSM takes batches (as the pool's workers call it), else one call per key. */
async function round(s: typeof a): Promise<number> {
  const c0 = process.cpuUsage();
  if (s.hsm.generateKeysUnderKek) {
    for (let i = 0; i < calls; i += items.length) {
      const r = await s.hsm.generateKeysUnderKek(s.tmk, items);
      if (!r.ok || r.keys?.length !== items.length) throw new Error("batch refused");
    }
  } else {
    for (let i = 0; i < calls; i++) {
      const tk = tks[i % tks.length];
      const r = await s.hsm.generateKeyUnderKek(s.tmk, tk.block, { expectedKekHash: tk.hash });
      if (r.kcv.length !== 6) throw new Error("bad KCV");
    }
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / (Math.ceil(calls / items.length) * items.length);
}

const best = { here: Infinity, there: Infinity };
for (let r = 0; r < rounds; r++) {
  best.here = Math.min(best.here, await round(a));
  best.there = Math.min(best.there, await round(b));
}
const load = Deno.loadavg().map((l) => l.toFixed(1)).join(" ");
console.log(
  `generateKeyUnderKek, CPU µs per call (best of ${rounds} x ${calls}; load ${load}): ` +
    `this tree ${best.here.toFixed(1)}, ${other} ${best.there.toFixed(1)}, ` +
    `ratio ${(best.there / best.here).toFixed(2)}x`,
);
