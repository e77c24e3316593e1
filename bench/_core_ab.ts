/**
 * Quick A/B probe (not part of `deno task bench`): this checkout's wasm core
 * against another copy of the `@tmk/wasm-core` package in the same process,
 * plus plain BigInt and node-forge, alternated, fastest of 15 rounds each.
 * Measures RSA-2048 private (CRT), modPow with e = 65537 on a new 1024- and
 * 2048-bit modulus each call (the per-modulus set-up), and 3DES 2-key ECB of
 * 64 KiB with a fresh key. Every implementation's result is checked first.
 *
 * Usage, to compare with main:
 *
 * ```
 * mkdir -p /tmp/core-main && git archive main src/core/wasm | tar -x -C /tmp/core-main
 * deno run -A bench/_core_ab.ts /tmp/core-main/src/core/wasm
 * ```
 *
 * @module
 */
import nodeCrypto from "node:crypto";
import { loadCore } from "../src/core/mod.ts";
import type { CryptoCore, RsaPrivateKey } from "../src/core/types.ts";
import { bigKey, bigRsaPrivate } from "./_bigint_rsa.ts";

const dir = Deno.args[0];
if (!dir) throw new TypeError("usage: deno run -A bench/_core_ab.ts <other src/core/wasm dir>");
const here = await loadCore("wasm");
const forge = await loadCore("js");
const otherMod = await import(new URL("mod.js", `file://${Deno.realPathSync(dir)}/`).href);
const other = otherMod.wasmCore as CryptoCore;

const b64url = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const j = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey
  .export({ format: "jwk" }) as Record<string, string>;
const key: RsaPrivateKey = {
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
const msg = crypto.getRandomValues(new Uint8Array(256));
msg[0] = 0;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const want = hex(bigRsaPrivate(bk, msg));
for (const c of [here, other, forge]) {
  if (hex(c.rsaPrivate(key, msg)) !== want) throw new Error("self-check failed: rsaPrivate");
}

/** Two random odd moduli of `len` bytes with the top bits set, used alternately. */
function moduli(len: number): Uint8Array[] {
  return [0, 1].map(() => {
    const n = crypto.getRandomValues(new Uint8Array(len));
    n[0] |= 0xc0;
    n[len - 1] |= 1;
    return n;
  });
}
const e65537 = Uint8Array.of(1, 0, 1);
const n1024 = moduli(128);
const n2048 = moduli(256);
const x1024 = new Uint8Array(128).fill(5, 100);
const x2048 = new Uint8Array(256).fill(5, 200);
let flip = 0;
const newModulus = (c: CryptoCore, ns: Uint8Array[], x: Uint8Array) => () => {
  flip ^= 1;
  c.modPow(x, e65537, ns[flip]);
};
const data = crypto.getRandomValues(new Uint8Array(65536));
const keys = Array.from({ length: 64 }, () => crypto.getRandomValues(new Uint8Array(16)));
let ki = 0;
const tdes = (c: CryptoCore) => () => c.tdesEncryptEcb(keys[ki = (ki + 1) & 63], data);
if (hex(here.tdesEncryptEcb(keys[0], data)) !== hex(forge.tdesEncryptEcb(keys[0], data))) {
  throw new Error("self-check failed: TDES");
}

const cases: [string, [string, () => void, number][]][] = [
  ["RSA-2048 private (CRT)", [
    ["this", () => here.rsaPrivate(key, msg), 20],
    ["other", () => other.rsaPrivate(key, msg), 20],
    ["BigInt", () => bigRsaPrivate(bk, msg), 20],
    ["forge", () => forge.rsaPrivate(key, msg), 2],
  ]],
  ["modPow e = 65537, new 1024-bit modulus", [
    ["this", newModulus(here, n1024, x1024), 200],
    ["other", newModulus(other, n1024, x1024), 200],
  ]],
  ["modPow e = 65537, new 2048-bit modulus", [
    ["this", newModulus(here, n2048, x2048), 50],
    ["other", newModulus(other, n2048, x2048), 50],
  ]],
  ["3DES 2-key ECB 64 KiB, fresh key", [
    ["this", tdes(here), 3],
    ["other", tdes(other), 3],
    ["forge", tdes(forge), 2],
  ]],
];
for (const [label, fns] of cases) {
  const best = new Map<string, number>();
  for (let r = 0; r < 15; r++) {
    for (const [name, f, n] of fns) {
      const t = performance.now();
      for (let i = 0; i < n; i++) f();
      best.set(name, Math.min(best.get(name) ?? Infinity, (performance.now() - t) / n));
    }
  }
  const t = best.get("this")!;
  const parts = [...best].map(([name, v]) =>
    `${name} ${v < 1 ? `${(v * 1000).toFixed(1)} us` : `${v.toFixed(2)} ms`}` +
    (name === "this" ? "" : ` (${(v / t).toFixed(2)}x this)`)
  );
  console.log(`${label}: ${parts.join(", ")}`);
}
