/**
 * Probe of the HSM's per-terminal issuance call on the wasm core, in this
 * thread: `generateKeyUnderKek(TMK, TK block, { expectedKekHash })` over a
 * set of TK blocks, best of a few rounds (the least disturbed by other
 * processes), in µs per call; with `--batch`, the batched call the pool's
 * workers make. Setup is outside the timed part.
 *
 * Run: `deno run -A bench/_issue_quick.ts [rounds] [calls per round]`
 */
import { loadCore } from "../src/core/mod.ts";
import { KEY_TEMPLATES, SoftwareHsm } from "../src/hsm/mod.ts";
import { randomLmkComponents } from "../demo/setup.ts";

const rounds = Number(Deno.args[0] ?? 5);
const calls = Number(Deno.args[1] ?? 20_000);
const core = await loadCore("wasm");
const hsm = await SoftwareHsm.open(
  { mode: "test", lmkAlgorithm: "aes", core },
  { components: await randomLmkComponents(3, core) },
);
const tks: { block: string; hash: string }[] = [];
for (let i = 0; i < 500; i++) {
  const tk = await hsm.generateKey(KEY_TEMPLATES.TK);
  tks.push({ block: tk.keyBlock, hash: await hsm.keyHash(tk.keyBlock) });
}

let best = Infinity;
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    const tk = tks[i % tks.length];
    const k = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tk.block, {
      expectedKekHash: tk.hash,
    });
    if (k.kcv.length !== 6) throw new Error("bad KCV");
  }
  const us = (performance.now() - t0) * 1000 / calls;
  best = Math.min(best, us);
  console.log(`round ${r + 1}: ${us.toFixed(2)} µs per call`);
}
console.log(`best: ${best.toFixed(2)} µs per call (${Math.round(1e6 / best)} per second)`);
