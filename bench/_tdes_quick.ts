/** Quick min-time probe: wasm vs node-forge 3DES 2-key ECB (not part of `deno task bench`). */
import { loadCore } from "../src/core/mod.ts";
const wasm = await loadCore("wasm");
const js = await loadCore("js");
function minTime(f: () => void, n: number) {
  let best = 1e9;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}
const key = crypto.getRandomValues(new Uint8Array(16));
for (const size of [16, 65536]) {
  const d = crypto.getRandomValues(new Uint8Array(size));
  const reps = size === 16 ? 2000 : 1;
  for (let r = 0; r < 2; r++) {
    const a = minTime(() => {
      for (let i = 0; i < reps; i++) wasm.tdesEncryptEcb(key, d);
    }, 30) / reps;
    const b = minTime(() => {
      for (let i = 0; i < reps; i++) js.tdesEncryptEcb(key, d);
    }, 30) / reps;
    console.log(
      `${size} B: wasm ${(a * 1000).toFixed(2)} us, forge ${(b * 1000).toFixed(2)} us, ${
        (b / a).toFixed(2)
      }x`,
    );
  }
}
