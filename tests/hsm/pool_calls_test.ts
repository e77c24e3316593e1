/**
 * The HSM pool's call lane (`HsmPool.sign`, `HsmPool.importKeyRsa`): a
 * worker's answer equals the in-thread HSM's on the same LMK (the same
 * signature bytes; the same AUK, KCV and hash); a refusal is the same error
 * (class, code, message, cause) with the same audit events, which reach the
 * call's sink before the call settles; a call overtakes a long batch of key
 * pairs on the same worker; a worker that crashes rejects its calls in
 * flight, a pool that closes lets them end with their answers (audited
 * once), and a closed pool refuses new ones (Deno's
 * test sanitizers check that no worker is left).
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { oaepEncrypt, setOddParity, toHex } from "../../src/crypto/mod.ts";
import {
  type HsmAuditEvent,
  HsmError,
  KEY_TEMPLATES,
  type KeyTemplate,
  SoftwareHsm,
} from "../../src/hsm/mod.ts";
import { KeyBlockError } from "../../src/keyblock/mod.ts";
import { HsmPool, HsmPoolError } from "../../src/hsm/pool.ts";
import { randomBytes } from "../_helpers.ts";
import { makeComponents } from "./_fixtures.ts";

const core = await loadCore("wasm");

/** An in-thread HSM and a pool of `size` workers on the same LMK, each with its audit records. */
async function world(size = 2, workerUrl?: URL) {
  const { components } = await makeComponents("aes", 2, core);
  const events: HsmAuditEvent[] = [];
  const hsm = await SoftwareHsm.open(
    { mode: "test", core, audit: (e) => void events.push(e) },
    { components },
  );
  events.length = 0;
  const poolEvents: HsmAuditEvent[] = [];
  const pool = await HsmPool.create({
    mode: "test",
    components,
    lmkKcv: hsm.lmkKcv,
    core: core.name,
    size,
    audit: (e) => void poolEvents.push(e),
    workerUrl,
  });
  poolEvents.length = 0;
  return { hsm, events, pool, poolEvents };
}

const AUK_IMPORT = { template: KEY_TEMPLATES.AUK, hash: "SHA-256" } as const;

/** The error's class, code, message, state and cause, for comparing two refusals. */
function shape(e: unknown) {
  const x = e as HsmError;
  const c = x.cause as KeyBlockError | undefined;
  return {
    class: x.constructor.name,
    name: x.name,
    code: x.code,
    message: x.message,
    state: x.state,
    cause: c === undefined ? undefined : [c.constructor.name, c.code, c.message],
  };
}

/** Runs `op` in-thread and in the pool; both must refuse alike, with the same audit events. */
async function sameRefusal(
  w: Awaited<ReturnType<typeof world>>,
  op: (h: Pick<SoftwareHsm, "sign" | "importKeyRsa">) => Promise<unknown>,
): Promise<HsmError> {
  w.events.length = 0;
  w.poolEvents.length = 0;
  const inThread = await op(w.hsm).then(() => undefined, (e) => e);
  const inWorker = await op(w.pool).then(() => undefined, (e) => e);
  assert(inThread instanceof Error, "the in-thread HSM refuses");
  assertEquals(shape(inWorker), shape(inThread));
  assertEquals(w.poolEvents, w.events);
  return inWorker as HsmError;
}

Deno.test("HSM pool calls: sign and importKeyRsa in a worker give the in-thread HSM's results", async () => {
  const w = await world();
  try {
    const ca = await w.hsm.generateRsaKeyPair({ template: KEY_TEMPLATES.RSA_CA });
    const tbs = randomBytes(300);
    const signatures = await Promise.all([1, 2, 3].map(() => w.pool.sign(ca.privateKeyBlock, tbs)));
    const expected = toHex(await w.hsm.sign(ca.privateKeyBlock, tbs));
    assertEquals(signatures.map((s) => toHex(s)), [expected, expected, expected]);

    const pr = await w.hsm.generateRsaKeyPair({ template: KEY_TEMPLATES.RSA_TRANSPORT });
    const auk = setOddParity(randomBytes(16));
    const ct = await oaepEncrypt(pr.publicKey, auk, { hash: "SHA-256", core });
    const mine = await w.hsm.importKeyRsa(pr.privateKeyBlock, ct, AUK_IMPORT);
    const theirs = await w.pool.importKeyRsa(pr.privateKeyBlock, ct, {
      ...AUK_IMPORT,
      expectedKcv: mine.kcv,
    });
    assertEquals([theirs.kcv, theirs.hash], [mine.kcv, mine.hash]);
    // The worker's block is under the same LMK, with the AUK's attributes.
    assertEquals(await w.hsm.keyCheckValue(theirs.keyBlock), mine.kcv);
    assertEquals(theirs.keyBlock.slice(0, 16), mine.keyBlock.slice(0, 16));
    assertEquals(w.events, []);
    assertEquals(w.poolEvents, []);
    const stats = w.pool.stats().workers;
    assertEquals(stats.reduce((n, s) => n + s.calls, 0), 4);
    assert(stats.every((s) => s.calls >= 1), "calls spread over both workers");
  } finally {
    await w.pool.close();
    await w.hsm.destroy();
  }
});

Deno.test("HSM pool calls: refusals carry the in-thread code, message, cause and audit events", async () => {
  const w = await world(1);
  try {
    const pr = await w.hsm.generateRsaKeyPair({ template: KEY_TEMPLATES.RSA_TRANSPORT });
    const ca = await w.hsm.generateRsaKeyPair({ template: KEY_TEMPLATES.RSA_CA });
    const auk = setOddParity(randomBytes(16));
    const ct = await oaepEncrypt(pr.publicKey, auk, { hash: "SHA-256", core });
    const flipped = ct.slice();
    flipped[100] ^= 1;
    const cases: [string, (h: Pick<SoftwareHsm, "sign" | "importKeyRsa">) => Promise<unknown>][] = [
      ["decrypt_failed", (h) => h.importKeyRsa(pr.privateKeyBlock, flipped, AUK_IMPORT)],
      [
        "decrypt_failed",
        (h) => h.importKeyRsa(pr.privateKeyBlock, ct, { ...AUK_IMPORT, hash: "SHA-1" }),
      ],
      [
        "kcv_mismatch",
        (h) => h.importKeyRsa(pr.privateKeyBlock, ct, { ...AUK_IMPORT, expectedKcv: "000000" }),
      ],
      ["key_usage", (h) => h.sign(pr.privateKeyBlock, randomBytes(32))],
      ["key_usage", (h) => h.importKeyRsa(ca.privateKeyBlock, ct, AUK_IMPORT)],
      [
        "key_block",
        (h) => h.sign(ca.privateKeyBlock.slice(0, -4) + "0000", randomBytes(32)),
      ],
    ];
    for (const [code, op] of cases) {
      const e = await sameRefusal(w, op);
      assert(e instanceof HsmError, code);
      assertEquals(e.code, code);
      assertEquals(w.events.map((x) => x.event), ["key_refused"], code);
      if (code === "key_block") assert(e.cause instanceof KeyBlockError, "the cause crosses too");
    }
    // Arguments the HSM checks: the same TypeError / RangeError.
    const bad = await sameRefusal(w, (h) => h.sign(ca.privateKeyBlock, "abc" as never));
    assertEquals(bad.name, "TypeError");
    const template = { ...KEY_TEMPLATES.AUK, keyUsage: "ZZ" } as unknown as KeyTemplate;
    await sameRefusal(w, (h) => h.importKeyRsa(pr.privateKeyBlock, ct, { template }));

    // A call's own sink takes its events, before the call settles; the pool's sees none.
    w.poolEvents.length = 0;
    const mine: HsmAuditEvent[] = [];
    let settledWith = -1;
    await w.pool.importKeyRsa(pr.privateKeyBlock, flipped, AUK_IMPORT, {
      audit: (e) => void mine.push(e),
    }).catch(() => settledWith = mine.length);
    assertEquals([settledWith, mine[0].event, w.poolEvents.length], [1, "key_refused", 0]);
    // A sink that fails fails the call with its error (fail closed), not with the refusal.
    await assertRejects(
      () =>
        w.pool.importKeyRsa(pr.privateKeyBlock, flipped, AUK_IMPORT, {
          audit: () => Promise.reject(new Error("audit log down")),
        }),
      Error,
      "audit log down",
    );
  } finally {
    await w.pool.close();
    await w.hsm.destroy();
  }
});

Deno.test("HSM pool calls: a call overtakes a long batch of key pairs on its worker", async () => {
  const w = await world(1);
  try {
    const ca = await w.hsm.generateRsaKeyPair({ template: KEY_TEMPLATES.RSA_CA });
    const tbs = randomBytes(64);
    let batchDone = false;
    const batch = w.pool.generateRsaKeyPairs(KEY_TEMPLATES.RSA_TRANSPORT, 1024, 40)
      .finally(() => batchDone = true);
    const signature = await w.pool.sign(ca.privateKeyBlock, tbs);
    assert(!batchDone, "the call was answered while the batch of 40 pairs ran");
    assertEquals(toHex(signature), toHex(await w.hsm.sign(ca.privateKeyBlock, tbs)));
    const r = await batch;
    assert(r.ok && r.pairs.length === 40, "the batch completes after the call");
    const [s] = w.pool.stats().workers;
    assertEquals([s.batches, s.keys, s.calls], [1, 40, 1]);
  } finally {
    await w.pool.close();
    await w.hsm.destroy();
  }
});

Deno.test("HSM pool calls: a worker crash rejects the calls in flight, a close lets them end; a closed pool refuses calls", async () => {
  // The real worker, plus an uncaught error on a batch of exactly 7 keys.
  const w = await world(1, new URL("./_crashing_pool_worker.ts", import.meta.url));
  const ca = await w.hsm.generateRsaKeyPair({ template: KEY_TEMPLATES.RSA_CA });
  try {
    const crashing = w.pool.generateKeysUnderKeks(
      KEY_TEMPLATES.TMK,
      Array(7).fill({ kekBlock: "not handled" }),
    );
    const inFlight = w.pool.sign(ca.privateKeyBlock, randomBytes(32));
    await assertRejects(() => crashing, HsmPoolError);
    const e = await assertRejects(() => inFlight, HsmPoolError);
    assertEquals(e.code, "worker_failed");
    assertMatch(
      e.message,
      /^HSM worker 1 of 1 failed: .*injected crash.*; this sign call was not answered$/,
    );
    const after = await assertRejects(
      () => w.pool.sign(ca.privateKeyBlock, randomBytes(32)),
      HsmPoolError,
    );
    assertEquals(after.code, "worker_failed");
  } finally {
    await w.pool.close();
  }

  const v = await world(2);
  const pr = await v.hsm.generateRsaKeyPair({ template: KEY_TEMPLATES.RSA_TRANSPORT });
  const signer = await v.hsm.generateRsaKeyPair({ template: KEY_TEMPLATES.RSA_CA });
  try {
    const message = randomBytes(32);
    const calls = [
      v.pool.sign(signer.privateKeyBlock, message),
      v.pool.importKeyRsa(pr.privateKeyBlock, randomBytes(256), AUK_IMPORT),
    ].map((p) => p.then((r) => r, (e: unknown) => e));
    await v.pool.close();
    const [signed, imported] = await Promise.all(calls);
    // The worker ended both calls before it zeroed its LMK: each settles with its own answer,
    // the signature as the in-thread HSM makes it, the refusal with its one audit record.
    assertEquals(signed, await v.hsm.sign(signer.privateKeyBlock, message));
    assert(imported instanceof HsmError, `importKeyRsa: ${imported}`);
    assertEquals(imported.code, "decrypt_failed");
    assertEquals(v.poolEvents.map((x) => [x.event, x.keyId]), [
      ["key_refused", "the RSA private key"],
    ]);
    const closed = await assertRejects(
      () => v.pool.importKeyRsa(pr.privateKeyBlock, randomBytes(256), AUK_IMPORT),
      HsmPoolError,
      "the HSM pool is closed",
    );
    assertEquals(closed.code, "closed");
  } finally {
    await v.pool.close();
    await v.hsm.destroy();
    await w.hsm.destroy();
  }
});
