/**
 * RSA key pairs from the HSM worker pool (`HsmPool.generateRsaKeyPairs`, the
 * source of flow B's key-pair pool): each private key is a `K3/R/D` block
 * under the LMK that the node:crypto TR-31 reference opens to the PKCS#8 key
 * of the public key given beside it; a refusal comes back at its index with
 * the in-thread HSM's error; a bad count and a closed pool are refused
 * precisely (Deno's test sanitizers check that no worker is left).
 *
 * @module
 */
import nodeCrypto from "node:crypto";
import { assertEquals, assertRejects } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { toHex } from "../../src/crypto/mod.ts";
import { KEY_TEMPLATES, SoftwareHsm } from "../../src/hsm/mod.ts";
import { HsmPool, HsmPoolError } from "../../src/hsm/pool.ts";
import { referenceUnwrap } from "../keyblock/_reference.ts";
import { makeComponents } from "./_fixtures.ts";

const core = await loadCore("wasm");

Deno.test("HSM pool: workers make RSA key pairs under the LMK that check out with node:crypto", async () => {
  const { components, lmk } = await makeComponents("aes", 2, core);
  const hsm = await SoftwareHsm.open({ mode: "test", core }, { components });
  const pool = await HsmPool.create({
    mode: "test",
    components,
    lmkKcv: hsm.lmkKcv,
    core: core.name,
    size: 2,
  });
  try {
    const [a, b] = await Promise.all([
      pool.generateRsaKeyPairs(KEY_TEMPLATES.RSA_TRANSPORT, 2048, 2),
      pool.generateRsaKeyPairs(KEY_TEMPLATES.RSA_TRANSPORT, 2048, 1),
    ]);
    if (!a.ok || !b.ok) throw new Error("a batch was refused");
    const pairs = [...a.pairs, ...b.pairs];
    assertEquals(pairs.length, 3);
    for (const p of pairs) {
      assertEquals(p.privateKeyBlock.slice(5, 12), "K3RD00N");
      const der = referenceUnwrap(lmk, p.privateKeyBlock);
      const jwk = nodeCrypto.createPrivateKey({
        key: Buffer.from(der),
        format: "der",
        type: "pkcs8",
      })
        .export({ format: "jwk" });
      assertEquals(
        toHex(new Uint8Array(Buffer.from(jwk.n!, "base64url"))),
        toHex(p.publicKey.n.subarray(p.publicKey.n[0] === 0 ? 1 : 0)),
      );
      // The caller's HSM (same LMK) takes the block.
      assertEquals((await hsm.keyInfo(p.privateKeyBlock)).algorithm, "R");
    }
    assertEquals(new Set(pairs.map((p) => toHex(p.publicKey.n))).size, 3);
    assertEquals(pool.stats().workers.reduce((n, w) => n + w.keys, 0), 3);

    // A template that is not RSA: refused at index 0 with the in-thread HSM's error.
    const inThread = await assertRejects(
      () => hsm.generateRsaKeyPair({ bits: 2048, template: KEY_TEMPLATES.TMK }),
      RangeError,
    );
    const r = await pool.generateRsaKeyPairs(KEY_TEMPLATES.TMK, 2048, 2);
    if (r.ok) throw new Error("a TMK template made RSA pairs");
    assertEquals([r.index, r.error.name, r.error.message], [0, "RangeError", inThread.message]);
    await assertRejects(
      () => pool.generateRsaKeyPairs(KEY_TEMPLATES.RSA_TRANSPORT, 2048, 0),
      RangeError,
      "count must be a positive integer, got 0",
    );
  } finally {
    await pool.close();
    await hsm.destroy();
  }
  await assertRejects(
    () => pool.generateRsaKeyPairs(KEY_TEMPLATES.RSA_TRANSPORT, 2048, 1),
    HsmPoolError,
    "closed",
  );
});
