/** Quick min-time probe: wasm vs plain BigInt RSA-2048 CRT private (not part of `deno task bench`). */
import nodeCrypto from "node:crypto";
import { loadCore } from "../src/core/mod.ts";
import { bigKey, bigRsaPrivate } from "./_bigint_rsa.ts";
const wasm = await loadCore("wasm");
const b64url = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const { privateKey } = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const j = privateKey.export({ format: "jwk" }) as Record<string, string>;
const key = {
  n: b64url(j.n),
  e: b64url(j.e),
  d: b64url(j.d),
  p: b64url(j.p),
  q: b64url(j.q),
  dp: b64url(j.dp),
  dq: b64url(j.dq),
  qi: b64url(j.qi),
};
const bk = bigKey(key);
const m = crypto.getRandomValues(new Uint8Array(256));
m[0] = 0;
function minTime(f: () => void, n: number) {
  let best = 1e9;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}
for (let r = 0; r < 4; r++) {
  const a = minTime(() => wasm.rsaPrivate(key, m), 60);
  const b = minTime(() => bigRsaPrivate(bk, m), 60);
  console.log(
    `min: wasm ${a.toFixed(2)} ms, bigint ${b.toFixed(2)} ms, ratio ${(b / a).toFixed(2)}`,
  );
}
