/**
 * Per-terminal issuance crypto (flow A S15) through the software HSM, per
 * crypto core: `generateKeyUnderKek(TMK, TK block, { expectedKekHash })`
 * unwraps TK from its TR-31 D block under the AES-256 LMK, checks TK's
 * SHA-256, generates the TMK, wraps it under TK (TR-31 B) and under the LMK
 * (TR-31 D) and computes its KCV; and the same for a batch of 16 TKs by
 * `generateKeysUnderKek` (one kernel call per TMK on the wasm core after
 * the first). Also the AES primitives the D blocks use.
 * Setup (HSM, TK blocks) is outside the timed part; each call's result is
 * checked.
 *
 * Run: `deno bench --allow-all bench/hsm_issue_bench.ts`
 */
import { allCores } from "./_cores.ts";
import { KEY_TEMPLATES, SoftwareHsm } from "../src/hsm/mod.ts";
import { aesDecryptCbc, aesEncryptCbc, cmac } from "../src/crypto/mod.ts";
import { randomLmkComponents } from "../demo/setup.ts";

const cores = await allCores();
for (const core of cores) {
  const hsm = await SoftwareHsm.open(
    { mode: "test", lmkAlgorithm: "aes", core },
    { components: await randomLmkComponents(3, core) },
  );
  const tks: { block: string; hash: string }[] = [];
  for (let i = 0; i < 16; i++) {
    const tk = await hsm.generateKey(KEY_TEMPLATES.TK);
    tks.push({ block: tk.keyBlock, hash: await hsm.keyHash(tk.keyBlock) });
  }
  let n = 0;
  Deno.bench({
    name: `generateKeyUnderKek TMK under TK (${core.name})`,
    group: "issue",
    baseline: core.name === "wasm",
    async fn() {
      const tk = tks[n++ & 15];
      const r = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tk.block, {
        expectedKekHash: tk.hash,
      });
      if (r.kcv.length !== 6 || r.keyBlock[0] !== "D") throw new Error("bad issuance result");
    },
  });
  const items = tks.map((tk) => ({ kekBlock: tk.block, expectedKekHash: tk.hash }));
  Deno.bench({
    name: `generateKeysUnderKek, batch of 16 TMKs (${core.name})`,
    group: "batch",
    baseline: core.name === "wasm",
    async fn() {
      const r = await hsm.generateKeysUnderKek(KEY_TEMPLATES.TMK, items);
      if (!r.ok || r.keys.length !== 16) throw new Error("bad batch result");
    },
  });
}

const key = crypto.getRandomValues(new Uint8Array(32));
const iv = crypto.getRandomValues(new Uint8Array(16));
const data = crypto.getRandomValues(new Uint8Array(32));
const msg = crypto.getRandomValues(new Uint8Array(48));
Deno.bench({
  name: "AES-256-CBC encrypt 32 bytes (src/crypto)",
  group: "aes",
  fn() {
    if (aesEncryptCbc(key, iv, data).length !== 32) throw new Error("length");
  },
});
Deno.bench({
  name: "AES-256-CBC decrypt 32 bytes (src/crypto)",
  group: "aes",
  fn() {
    if (aesDecryptCbc(key, iv, data).length !== 32) throw new Error("length");
  },
});
Deno.bench({
  name: "AES-256-CMAC 48 bytes (src/crypto)",
  group: "aes",
  async fn() {
    if ((await cmac(key, msg, { cipher: "aes" })).length !== 16) throw new Error("length");
  },
});
