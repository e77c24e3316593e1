/** Quick min-time probe: wasm vs node-forge 3DES 2-key ECB, fresh key per call (not part of `deno task bench`). */
import { loadCore } from "../src/core/mod.ts";
import { minTime } from "./_min_time.ts";
const wasm = await loadCore("wasm");
const js = await loadCore("js");
const keys = Array.from({ length: 256 }, () => crypto.getRandomValues(new Uint8Array(16)));
let ki = 0;
const nextKey = () => keys[ki = (ki + 1) & 255];
for (const size of [16, 65536]) {
  const d = crypto.getRandomValues(new Uint8Array(size));
  const reps = size === 16 ? 2000 : 1;
  for (let r = 0; r < 3; r++) {
    const a = minTime(() => {
      for (let i = 0; i < reps; i++) wasm.tdesEncryptEcb(nextKey(), d);
    }, 200) / reps;
    const b = minTime(() => {
      for (let i = 0; i < reps; i++) js.tdesEncryptEcb(nextKey(), d);
    }, 200) / reps;
    console.log(
      `${size} B: wasm ${(a * 1000).toFixed(2)} us, forge ${(b * 1000).toFixed(2)} us, ${
        (b / a).toFixed(2)
      }x`,
    );
  }
}
