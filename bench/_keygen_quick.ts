/**
 * Quick probe (not part of `deno task bench`): RSA-2048 key generation on the
 * wasm core against Deno's node:crypto, alternated in one process (mean wall
 * time and process CPU time of each), then OpenSSL's command line
 * (`openssl genpkey`, process start included).
 *
 * Usage: `deno run -A bench/_keygen_quick.ts [pairs]` (default 20).
 *
 * @module
 */
import nodeCrypto from "node:crypto";
import process from "node:process";
import { generateRsaKeyPair } from "../src/crypto/keygen.ts";
import { loadCore } from "../src/core/mod.ts";

const core = await loadCore("wasm");
const pairs = Number(Deno.args[0] ?? 20);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const sum = { wasm: 0, wasmCpu: 0, node: 0, nodeCpu: 0 };
for (let i = 0; i < pairs; i++) {
  let t = performance.now();
  let c = cpuMs();
  await generateRsaKeyPair({ bits: 2048, core });
  sum.wasm += performance.now() - t;
  sum.wasmCpu += cpuMs() - c;
  t = performance.now();
  c = cpuMs();
  nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  sum.node += performance.now() - t;
  sum.nodeCpu += cpuMs() - c;
}
const ms = (v: number) => `${(v / pairs).toFixed(0)} ms`;
console.log(
  `RSA-2048 keygen, ${pairs} pairs alternated, mean wall (CPU): wasm ${ms(sum.wasm)} ` +
    `(${ms(sum.wasmCpu)}), node:crypto ${ms(sum.node)} (${ms(sum.nodeCpu)}); ` +
    `wasm/node ${(sum.wasm / sum.node).toFixed(2)}x wall, ${
      (sum.wasmCpu / sum.nodeCpu).toFixed(2)
    }x CPU`,
);
const args = [
  "genpkey",
  "-algorithm",
  "RSA",
  "-pkeyopt",
  "rsa_keygen_bits:2048",
  "-out",
  "/dev/null",
];
const t0 = performance.now();
for (let i = 0; i < pairs; i++) {
  const out = new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).outputSync();
  if (!out.success) {
    throw new Error(`openssl genpkey failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}
console.log(
  `openssl genpkey, ${pairs} keys: mean ${ms(performance.now() - t0)} wall, process start included`,
);
