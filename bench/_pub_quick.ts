/**
 * Quick min-time probe of RSA public operations (modPowPublic, e = 65537) on
 * the wasm core's builds against a plain V8 BigInt square-and-multiply: one
 * modulus over and over (its Montgomery setup kept), 32 moduli in turn (kept:
 * the core keeps 64), and 128 in turn (each call sets its modulus up).
 * Moduli are random odd numbers of the full size: the arithmetic is the same
 * as on an RSA modulus. Not part of `deno task bench`. Run:
 * `deno run --allow-all bench/_pub_quick.ts [rounds] [bits]`.
 *
 * `... _pub_quick.ts count CALLS MODULI [fma|simd]` times nothing: it makes
 * CALLS RSA-2048 public operations over MODULI moduli in turn, for an
 * instruction count that the machine's load does not change, as the
 * difference of two runs under `valgrind --tool=callgrind` with
 * `--v8-flags=--no-liftoff,--single-threaded` (one compiler tier, no
 * background threads), one with CALLS 0.
 */
import { coreVariant, wasmCoreFor } from "../src/core/wasm/mod.js";
import { fusedMultiplyAdd } from "../src/core/wasm/loader.js";
import { minTime } from "./_min_time.ts";
import { bigModPow, toBig } from "./_bigint_rsa.ts";

if (Deno.args[0] === "count") {
  const [calls, count] = [Number(Deno.args[1]), Number(Deno.args[2])];
  const core = wasmCoreFor(Deno.args[3] === "simd" ? "simd" : "fma");
  // a fixed sequence (a linear congruential generator), so that every run does the same work
  let seed = 12345;
  const byte = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  const list = Array.from({ length: count }, () => {
    const n = Uint8Array.from({ length: 256 }, byte);
    n[0] |= 0x80;
    n[255] |= 1;
    return n;
  });
  const x = Uint8Array.from({ length: 256 }, byte);
  x[0] = 0;
  for (let i = 0; i < calls; i++) core.modPowPublic(x, new Uint8Array([1, 0, 1]), list[i % count]);
  Deno.exit(0);
}
const rounds = Number(Deno.args[0] ?? 3);
const bits = Number(Deno.args[1] ?? 2048);
const moduli: Uint8Array[] = [];
for (let i = 0; i < 128; i++) {
  const n = crypto.getRandomValues(new Uint8Array(bits / 8));
  n[0] |= 0x80;
  n[n.length - 1] |= 1;
  moduli.push(n);
}
const e = new Uint8Array([1, 0, 1]);
const m = crypto.getRandomValues(new Uint8Array(bits / 8));
m[0] = 0;
const bm = toBig(m);
const bn = moduli.map(toBig);
const builds = fusedMultiplyAdd() ? ["fma", "simd"] as const : ["simd"] as const;
for (const b of builds) {
  const core = wasmCoreFor(b);
  for (const [i, n] of moduli.entries()) {
    if (toBig(core.modPowPublic(m, e, n)) !== bigModPow(bm, 65537n, bn[i])) {
      throw new Error(`${b}: wrong result`);
    }
  }
}
console.log(
  `RSA-${bits} public (e = 65537); default build: ${coreVariant()}; ` +
    "µs per call, the least of 8 runs of 128 calls, over 1, 32 and 128 moduli in turn",
);
const CALLS = 128;
const per = (ms: number) => (1000 * ms / CALLS).toFixed(1);
const sets = [1, 32, 128];
for (let r = 0; r < rounds; r++) {
  const parts: string[] = [];
  const row = (name: string, f: (i: number) => void) => {
    const t = sets.map((count) =>
      per(minTime(() => {
        for (let i = 0; i < CALLS; i++) f(i % count);
      }, 25))
    );
    parts.push(`${name} ${t.join(" / ")}`);
  };
  row("bigint", (i) => bigModPow(bm, 65537n, bn[i]));
  for (const b of builds) {
    const core = wasmCoreFor(b);
    row(b, (i) => core.modPowPublic(m, e, moduli[i]));
  }
  console.log(parts.join(", "));
}
