/**
 * The tests' observed HSM (`observed_hsm.ts`): its observer receives a copy
 * of every clear key the software HSM creates or recovers, and what it
 * receives is the right key, checked independently (node:crypto TDES for
 * KCVs, node:crypto RSA-OAEP, BigInt for RSA). The key scan (SECURITY.md)
 * searches its artefacts for these keys.
 */
import nodeCrypto from "node:crypto";
import { assert, assertEquals, assertRejects } from "@std/assert";
import { exportSpkiDer, setOddParity } from "../../src/crypto/mod.ts";
import {
  HsmError,
  KEY_TEMPLATES,
  SoftwareHsm,
  type SoftwareHsmOptions,
} from "../../src/hsm/mod.ts";
import { unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import { allCores, randomBytes, toBigInt, toHex } from "../_helpers.ts";
import { makeComponents, refKcv } from "./_fixtures.ts";
import { type ObservedKey, openObservedHsm, type TestKeyObserver } from "./observed_hsm.ts";

function xorAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts[0].length);
  for (const p of parts) for (let i = 0; i < out.length; i++) out[i] ^= p[i];
  return out;
}

for (const core of await allCores()) {
  Deno.test(`HSM key observer (${core.name}): every clear key it creates or recovers, checked independently`, async () => {
    const { components, lmk, clear } = await makeComponents("aes", 2, core);
    const seen: ObservedKey[] = [];
    const hsm = await openObservedHsm({
      mode: "test",
      core,
      testKeyObserver: (k) => seen.push(k),
    }, { components });
    const of = (origin: string, what?: RegExp) =>
      seen.filter((k) => k.origin === origin && (what === undefined || what.test(k.what)));
    const has = (origin: string, bytes: Uint8Array) =>
      seen.some((k) => k.origin === origin && toHex(k.bytes) === toHex(bytes));

    // loadLmk: the LMK, its components, and the LMK's KBEK/KBAK.
    assert(has("lmk", lmk), "the LMK");
    for (const c of clear) assert(has("component", c), "each LMK component");
    assertEquals(of("derived", /of the LMK \(version D\)/).length, 2);

    // generateKey: the key the HSM made (its KCV from node:crypto equals the HSM's).
    let n = seen.length;
    const tk = await hsm.generateKey(KEY_TEMPLATES.TK);
    const generated = seen.slice(n).filter((k) => k.what === "a 16-byte TDES key");
    assertEquals(generated.length, 1);
    assertEquals(refKcv(generated[0].bytes), tk.kcv);
    const tkClear = generated[0].bytes;
    // the block under the LMK holds exactly that key (unwrapped by the test with the LMK it knows)
    assertEquals(toHex((await unwrapKeyBlock(lmk, tk.keyBlock, { core })).key), toHex(tkClear));

    // importKeyFromComponents: the components and the key formed from them (odd parity).
    const pkParts = [setOddParity(randomBytes(24)), setOddParity(randomBytes(24))];
    n = seen.length;
    const pk = await hsm.importKeyFromComponents(
      pkParts.map((p) => ({ key: toHex(p), kcv: refKcv(p) })),
      KEY_TEMPLATES.PK,
    );
    const formed = seen.slice(n).filter((k) => k.origin === "formed");
    assertEquals(formed.length, 1);
    assertEquals(toHex(formed[0].bytes), toHex(setOddParity(xorAll(pkParts))));
    assertEquals(refKcv(formed[0].bytes), pk.kcv);
    for (const p of pkParts) assert(has("component", p), "each PK component");

    // generateKeyUnderKek: the TMK, the TK unwrapped, the TK's KBEK/KBAK (version B).
    n = seen.length;
    const tmk = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tk.keyBlock);
    const after = seen.slice(n);
    const tmkClear = after.find((k) => k.what === "a 16-byte TDES key")!.bytes;
    assertEquals(refKcv(tmkClear), tmk.kcv);
    assert(after.some((k) => k.origin === "unwrapped" && toHex(k.bytes) === toHex(tkClear)));
    assertEquals(after.filter((k) => k.origin === "derived").length, 2);
    assertEquals(
      toHex((await unwrapKeyBlock(tkClear, tmk.exported, { core })).key),
      toHex(tmkClear),
    );

    // exportKey under PK, importKey back under PK: the key unwrapped from under the KEK.
    const underPk = await hsm.exportKey(tmk.keyBlock, pk.keyBlock);
    n = seen.length;
    const back = await hsm.importKey(underPk.exported, pk.keyBlock, {
      template: KEY_TEMPLATES.TMK,
    });
    assertEquals(back.kcv, tmk.kcv);
    const imported = seen.slice(n).filter((k) => k.what.includes("the imported key"));
    assertEquals(imported.map((k) => [k.origin, toHex(k.bytes)]), [["unwrapped", toHex(tmkClear)]]);
    assertEquals(seen.slice(n).filter((k) => k.what.includes("version B")).length, 2);

    // generateRsaKeyPair: p * q = n of the public key it returns (BigInt).
    n = seen.length;
    const pair = await hsm.generateRsaKeyPair({ bits: 1024 });
    const parts = (from: ObservedKey[]) =>
      Object.fromEntries(
        from.filter((k) => k.origin === "rsa-private").map((k) => [k.what.split(" ")[0], k.bytes]),
      );
    const rsa = parts(seen.slice(n));
    assertEquals(Object.keys(rsa).sort(), ["d", "dp", "dq", "p", "q", "qi"]);
    assertEquals(toBigInt(rsa.p) * toBigInt(rsa.q), toBigInt(pair.publicKey.n));
    const e = toBigInt(pair.publicKey.e);
    assertEquals((toBigInt(rsa.d) * e) % (toBigInt(rsa.p) - 1n), 1n);

    // importKeyRsa: a key node:crypto encrypted under the public key; the unwrapped RSA key too.
    const auk = setOddParity(randomBytes(16));
    const ct = new Uint8Array(nodeCrypto.publicEncrypt({
      key: nodeCrypto.createPublicKey({
        key: exportSpkiDer(pair.publicKey),
        format: "der",
        type: "spki",
      }),
      padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: "sha256",
    }, auk));
    n = seen.length;
    await hsm.importKeyRsa(pair.privateKeyBlock, ct, { template: KEY_TEMPLATES.AUK });
    assert(has("imported", auk), "the RSA-decrypted key");
    assertEquals(toHex(parts(seen.slice(n)).q), toHex(rsa.q), "Pr unwrapped from its block");

    // Every observed key is a copy: the HSM zeroizes its own, the copies stay intact.
    assert(seen.every((k) => k.bytes.some((b) => b !== 0)), "no observed key was zeroed");
  });
}

Deno.test("HSM key observer: must be a function; without it nothing is observed", async () => {
  const [core] = await allCores();
  const { components } = await makeComponents("aes", 2, core);
  await assertRejects(
    () =>
      openObservedHsm({
        mode: "test",
        core,
        testKeyObserver: "yes" as unknown as TestKeyObserver,
      }, { components }),
    TypeError,
    "options.testKeyObserver must be a function, got string",
  );
  // an HSM without the option works and there is no way to attach one later
  const hsm = await SoftwareHsm.open({ mode: "test", core }, { components });
  const k = await hsm.generateKey(KEY_TEMPLATES.TK);
  assertEquals(k.kcv.length, 6);
  assert(!("testKeyObserver" in hsm));
  // a production HSM refuses it (test_only), and so never observes
  const e = await assertRejects(
    () =>
      SoftwareHsm.create(
        { mode: "production", core, testKeyObserver: () => {} } as SoftwareHsmOptions,
      ),
    HsmError,
    "production mode refuses the test-only option options.testKeyObserver",
  );
  assertEquals(e.code, "test_only");
});
