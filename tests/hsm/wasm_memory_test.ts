/**
 * After HSM operations on the wasm core, the core's linear memory holds no
 * clear key (the wasm scratch memory holds no key bytes after a call
 * returns): every 8-byte window of every clear key the test knows (the
 * LMK, TK, TMK, PK, MAK, AUK, the RSA private fields) is searched for in the
 * whole memory.
 *
 * @module
 */
import { assertEquals, assertGreater } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { coreExports } from "../../src/core/wasm/loader.js";
import { importPkcs8Der, oaepEncrypt, setOddParity } from "../../src/crypto/mod.ts";
import { KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import { randomBytes } from "../_helpers.ts";
import { makeHsm } from "./_fixtures.ts";

function findWindow(memory: Uint8Array, secrets: Uint8Array[]): string | null {
  const windows = new Map<string, string>();
  secrets.forEach((s, i) => {
    for (let j = 0; j + 8 <= s.length; j++) {
      windows.set(Array.from(s.subarray(j, j + 8)).join(","), `secret ${i} offset ${j}`);
    }
  });
  for (let i = 0; i + 8 <= memory.length; i++) {
    if (memory[i] === 0) continue;
    const hit = windows.get(Array.from(memory.subarray(i, i + 8)).join(","));
    if (hit) return `${hit} at memory offset ${i}`;
  }
  return null;
}

Deno.test("[wasm] hsm: no clear key left in the wasm core's memory after the operations", async () => {
  const core = await loadCore("wasm");
  const { hsm, lmk, secrets } = await makeHsm(core, "tdes");
  const clear = async (block: string) => {
    const k = (await unwrapKeyBlock(lmk, block, { core })).key;
    secrets.push(k);
    return k;
  };
  const mak = await hsm.generateKey(KEY_TEMPLATES.MAK);
  await clear(mak.keyBlock);
  const pk = await hsm.generateKey(KEY_TEMPLATES.PK);
  await clear(pk.keyBlock);
  const tk = await hsm.generateKey({ ...KEY_TEMPLATES.TMK });
  await clear(tk.keyBlock);
  for (let i = 0; i < 5; i++) {
    const tmk = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tk.keyBlock);
    await clear(tmk.keyBlock);
    await hsm.exportKey(tmk.keyBlock, pk.keyBlock);
    await hsm.generateMac(mak.keyBlock, randomBytes(100));
  }
  const pair = await hsm.generateRsaKeyPair({ bits: 1024 });
  const priv = importPkcs8Der((await unwrapKeyBlock(lmk, pair.privateKeyBlock, { core })).key);
  secrets.push(priv.d, priv.p, priv.q, priv.dp, priv.dq, priv.qi);
  const auk = setOddParity(randomBytes(16));
  secrets.push(auk);
  const aukIn = await hsm.importKeyRsa(
    pair.privateKeyBlock,
    await oaepEncrypt(pair.publicKey, auk, { core }),
    { template: KEY_TEMPLATES.AUK },
  );
  await hsm.encryptData(aukIn.keyBlock, randomBytes(8));
  const memory = new Uint8Array(coreExports().memory.buffer);
  assertGreater(secrets.length, 15);
  const hit = findWindow(memory, secrets);
  console.log(
    `wasm memory scan: ${memory.length} bytes, ${secrets.length} clear keys, hit: ${hit ?? "none"}`,
  );
  assertEquals(hit, null);
  // The scan itself finds a key that is there.
  memory.set(secrets[0].subarray(0, 8), memory.length - 16);
  assertEquals(findWindow(memory, secrets) !== null, true);
  memory.fill(0, memory.length - 16);
});
