/**
 * Quick min-time probe of RSA private (CRT), in one process: the wasm core's
 * two builds (fma: paired f64 kernels with fused multiply-add; simd), a plain
 * V8 BigInt CRT and node-forge (the JS core), as ratios. Not part of `deno
 * task bench`. Run: `deno run --allow-all bench/_rsa_quick.ts [rounds] [bits]`
 * (defaults 4 rounds, RSA-2048).
 */
import nodeCrypto from "node:crypto";
import { loadCore } from "../src/core/mod.ts";
import { coreVariant, wasmCoreFor } from "../src/core/wasm/mod.js";
import { fusedMultiplyAdd } from "../src/core/wasm/loader.js";
import { bigKey, bigRsaPrivate } from "./_bigint_rsa.ts";
import { minTime } from "./_min_time.ts";

const js = await loadCore("js");
const b64url = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const rounds = Number(Deno.args[0] ?? 4);
const bits = Number(Deno.args[1] ?? 2048);
const { privateKey } = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: bits });
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
const m = crypto.getRandomValues(new Uint8Array(bits / 8));
m[0] = 0;
const builds = fusedMultiplyAdd() ? ["fma", "simd"] as const : ["simd"] as const;
const want = bigRsaPrivate(bk, m).join();
for (const b of builds) {
  if (wasmCoreFor(b).rsaPrivate(key, m).join() !== want) throw new Error(`${b}: wrong result`);
}
console.log(`RSA-${bits} private (CRT); default build: ${coreVariant()}`);
for (let r = 0; r < rounds; r++) {
  const big = minTime(() => bigRsaPrivate(bk, m), 60);
  const forge = minTime(() => js.rsaPrivate(key, m), 20);
  const parts = [`bigint ${big.toFixed(3)} ms`, `forge ${forge.toFixed(2)} ms`];
  for (const b of builds) {
    const core = wasmCoreFor(b);
    const t = minTime(() => core.rsaPrivate(key, m), 60);
    parts.push(
      `${b} ${t.toFixed(3)} ms (x${(big / t).toFixed(2)} bigint, x${(forge / t).toFixed(1)} forge)`,
    );
  }
  console.log(parts.join(", "));
}
