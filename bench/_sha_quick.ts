/** Quick min-time probe: wasm vs hash-wasm vs as-sha256 SHA-256 (not part of `deno task bench`). */
import { digest as asDigest } from "@chainsafe/as-sha256";
import { createSHA256 } from "hash-wasm";
import { loadCore } from "../src/core/mod.ts";
import { minTime } from "./_min_time.ts";
const wasm = await loadCore("wasm");
const hw = await createSHA256();
const hwd = (d: Uint8Array) => {
  hw.init();
  hw.update(d);
  return hw.digest("binary");
};
for (const size of [32, 1024, 1 << 20]) {
  const d = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
  const data = size > 65536 ? new Uint8Array(size).map((_, i) => d[i & 65535]) : d;
  const reps = size > 65536 ? 1 : size > 100 ? 1000 : 10000;
  const run = (f: (d: Uint8Array) => unknown) => () => {
    for (let i = 0; i < reps; i++) f(data);
  };
  for (let r = 0; r < 2; r++) {
    const a = minTime(run(wasm.sha256), 30) / reps * 1000;
    const b = minTime(run(hwd), 30) / reps * 1000;
    const c = minTime(run(asDigest), 30) / reps * 1000;
    console.log(
      `${size} B: wasm ${a.toFixed(3)} us, hash-wasm ${b.toFixed(3)} us, as-sha256 ${
        c.toFixed(3)
      } us`,
    );
  }
}
