/**
 * TR-31 key block wrap + unwrap (versions B and D, a 16-byte TDES key under a
 * 16-byte TDES / 32-byte AES KBPK), per crypto core. node:crypto has no TR-31,
 * so there is no native column. Setup (keys, cores) is outside the timed part;
 * each iteration checks the unwrapped key.
 *
 * Run: `deno bench --allow-all bench/keyblock_bench.ts`
 */
import { allCores } from "./_cores.ts";
import { unwrapKeyBlock, wrapKeyBlock } from "../src/keyblock/mod.ts";

const cores = await allCores();
const key = crypto.getRandomValues(new Uint8Array(16));
const kbpkTdes = crypto.getRandomValues(new Uint8Array(16));
const kbpkAes = crypto.getRandomValues(new Uint8Array(32));

const cases = [
  { version: "B", kbpk: kbpkTdes, header: "B0000P0TE00E0000" },
  { version: "D", kbpk: kbpkAes, header: "D0000P0TE00E0000" },
] as const;

for (const c of cases) {
  for (const core of cores) {
    Deno.bench({
      name: `TR-31 ${c.version} wrap+unwrap (${core.name})`,
      group: `tr31-${c.version}`,
      baseline: core.name === "js",
      async fn() {
        const block = await wrapKeyBlock(c.kbpk, c.header, key, { core });
        const out = await unwrapKeyBlock(c.kbpk, block, { core });
        if (out.key[0] !== key[0] || out.key[15] !== key[15]) throw new Error("round trip failed");
      },
    });
  }
}
