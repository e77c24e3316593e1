/**
 * The wasm core's scratch memory holds no key bytes after a
 * call returns. Every core operation that takes a key (TDES ECB/CBC both
 * ways with 16- and 24-byte keys, AES ECB/CBC both ways with 16-, 24- and
 * 32-byte keys, the RSA private operation, modPow with a secret exponent,
 * SHA-1/SHA-256 of a secret) is called with a known key;
 * after each call the whole linear memory of the wasm instance is searched
 * for every 8-byte window of the key (and of the hashed secret). Then the
 * same after HSM operations on the wasm core, searching for the LMK (which
 * the test knows), the KBEK and KBAK its TR-31 D blocks derive from it (and
 * the KBAK's CMAC subkeys: these run through the core's AES on every block),
 * and for a key the test wrapped and had the HSM import.
 * The search is shown to work: a window planted in the memory is found.
 *
 * Prints `figure wasm-scratch`.
 */
import nodeCrypto from "node:crypto";
import { assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { coreExports } from "../../src/core/wasm/loader.js";
import { importPkcs8Der, setOddParity } from "../../src/crypto/mod.ts";
import { KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { deriveKeys, wrapKeyBlock } from "../../src/keyblock/mod.ts";
import { randomBytes } from "../_helpers.ts";
import { makeHsm } from "../hsm/_fixtures.ts";
import { figure } from "./_figures.ts";

const core = await loadCore("wasm");

function memory(): Uint8Array {
  return new Uint8Array((coreExports() as unknown as { memory: WebAssembly.Memory }).memory.buffer);
}

/** Offsets in the wasm memory where an 8-byte window of any secret occurs. */
function findWindows(secrets: Uint8Array[]): string[] {
  const mem = memory();
  const windows = new Map<string, string>();
  secrets.forEach((s, i) => {
    for (let j = 0; j + 8 <= s.length; j++) {
      const w = s.subarray(j, j + 8);
      if (w.every((b) => b === 0) || w.every((b) => b === 0xff)) continue;
      windows.set(String.fromCharCode(...w), `secret ${i} bytes ${j}..${j + 7}`);
    }
  });
  const hits: string[] = [];
  // Index the memory by 8-byte strings only where the first byte matches some window's.
  const first = new Set([...windows.keys()].map((k) => k.charCodeAt(0)));
  for (let o = 0; o + 8 <= mem.length; o++) {
    if (!first.has(mem[o])) continue;
    const w = windows.get(String.fromCharCode(...mem.subarray(o, o + 8)));
    if (w) hits.push(`${w} at ${o}`);
  }
  return hits;
}

Deno.test("the wasm scratch memory holds no key bytes after a core or HSM call returns", async () => {
  // The search works: a planted window is found, then wiped.
  const planted = randomBytes(16);
  const mem = memory();
  const at = mem.length - 64;
  const saved = mem.slice(at, at + 16);
  mem.set(planted, at);
  assertEquals(findWindows([planted]).length, 9);
  mem.set(saved, at);
  assertEquals(findWindows([planted]).length, 0);

  let calls = 0;
  const leaks: string[] = [];
  const check = (what: string, secrets: Uint8Array[]) => {
    calls++;
    for (const h of findWindows(secrets)) leaks.push(`${what}: ${h}`);
  };
  for (const len of [16, 24]) {
    const key = setOddParity(randomBytes(len));
    const data = randomBytes(64);
    const iv = randomBytes(8);
    core.tdesEncryptEcb(key, data);
    check(`tdesEncryptEcb ${len}`, [key]);
    core.tdesDecryptEcb(key, data);
    check(`tdesDecryptEcb ${len}`, [key]);
    core.tdesEncryptCbc(key, iv, data);
    check(`tdesEncryptCbc ${len}`, [key]);
    core.tdesDecryptCbc(key, iv, data);
    check(`tdesDecryptCbc ${len}`, [key]);
  }
  for (const len of [16, 24, 32]) {
    const key = randomBytes(len);
    const data = randomBytes(64);
    const iv = randomBytes(16);
    core.aesEncryptEcb(key, data);
    check(`aesEncryptEcb ${len}`, [key]);
    core.aesDecryptEcb(key, data);
    check(`aesDecryptEcb ${len}`, [key]);
    core.aesEncryptCbc(key, iv, data);
    check(`aesEncryptCbc ${len}`, [key]);
    core.aesDecryptCbc(key, iv, data);
    check(`aesDecryptCbc ${len}`, [key]);
  }
  const secret = randomBytes(100);
  core.sha1(secret);
  check("sha1", [secret]);
  core.sha256(secret);
  check("sha256", [secret]);
  const pair = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const rsa = importPkcs8Der(
    new Uint8Array(pair.privateKey.export({ type: "pkcs8", format: "der" })),
  );
  const input = randomBytes(200);
  core.rsaPrivate(rsa, input);
  const rsaSecrets = [rsa.d, rsa.p, rsa.q, rsa.dp, rsa.dq, rsa.qi];
  check("rsaPrivate", rsaSecrets);
  core.modPow(input, rsa.d, rsa.n);
  check("modPow (secret exponent)", [rsa.d]);

  // HSM operations on the wasm core: the LMK and a key the test had it import.
  const { hsm, lmk: lmkBytes } = await makeHsm(core);
  // what the HSM's D blocks put through the core's AES: the LMK's KBEK, KBAK and K1/K2
  const d = await deriveKeys("D", lmkBytes, core);
  const lmk = [lmkBytes, d.kbek, d.kbak, ...d.kbakSubkeys!];
  check("HSM create", lmk);
  const kek = await hsm.generateKey(KEY_TEMPLATES.PK);
  check("generateKey", lmk);
  const tmk = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, kek.keyBlock);
  check("generateKeyUnderKek", lmk);
  await hsm.exportKey(tmk.keyBlock, kek.keyBlock);
  check("exportKey", lmk);
  const clear = setOddParity(randomBytes(16));
  const mine = await wrapKeyBlock(
    lmkBytes,
    {
      version: "D",
      keyUsage: "K0",
      algorithm: "T",
      modeOfUse: "B",
      keyVersion: "00",
      exportability: "N",
      keyContext: "1",
    },
    clear,
    { core },
  );
  check("wrapKeyBlock under the LMK (test side)", [...lmk, clear]);
  await hsm.keyCheckValue(mine);
  check("keyCheckValue", [...lmk, clear]);
  await hsm.keyHash(mine);
  check("keyHash", [...lmk, clear]);
  const rsaPair = await hsm.importRsaPrivateKey(rsa, KEY_TEMPLATES.RSA_TRANSPORT);
  check("importRsaPrivateKey", [...lmk, ...rsaSecrets]);
  const ct = new Uint8Array(nodeCrypto.publicEncrypt(
    {
      key: pair.publicKey,
      padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: "sha256",
    },
    clear,
  ));
  await hsm.importKeyRsa(rsaPair.privateKeyBlock, ct, { template: KEY_TEMPLATES.AUK });
  check("importKeyRsa", [...lmk, clear, ...rsaSecrets]);
  assertEquals(calls, 33);
  figure(
    "wasm-scratch",
    `${calls} calls (core: TDES ECB/CBC x 16/24-byte keys, AES ECB/CBC x 16/24/32-byte keys, SHA-1, SHA-256, ` +
      `RSA private, modPow; HSM: create, generate, export, KCV, hash, RSA import and unwrap, with the LMK's D ` +
      `KBEK/KBAK/K1/K2 searched too), whole wasm memory (${memory().length} bytes) searched for every ` +
      `8-byte window of each key after each: ${leaks.length} hits (planted window found: yes)`,
  );
  assertEquals(leaks, []);
});
