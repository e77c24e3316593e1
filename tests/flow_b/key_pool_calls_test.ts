/**
 * Flow B on a KMS with a key-pair pool (`createKms` with `keyPool`): the
 * pool's HSM workers sign the Pu_hsm certificates (S1) and recover AUK (S3)
 * (`KeyPairPool.rsaOps`), and terminals still go through S1-S7; an S3 whose
 * AUK does not decrypt is refused exactly as on a KMS without a pool (same
 * status, code and message, same audit record under the HSM's actor, nothing
 * stored); an HSM in this thread that is not authorized refuses the call
 * itself, with or without workers; and the workers' calls are counted in
 * `/metrics`.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { pkcs1v15Sign, toHex } from "../../src/crypto/mod.ts";
import {
  type HsmAuditEvent,
  HsmError,
  KEY_TEMPLATES,
  type LmkComponent,
  SoftwareHsm,
} from "../../src/hsm/mod.ts";
import { transportKeySigningInput } from "../../src/protocol/mod.ts";
import { openSqliteStore } from "../../src/store/mod.ts";
import { jsonLogger } from "../../servers/_lib/mod.ts";
import { ServerMetrics } from "../../servers/_lib/metrics.ts";
import { KeyPairPool, type KeyPoolPolicy } from "../../servers/kms/key_pool.ts";
import { createKms } from "../../servers/kms/main.ts";
import { FlowBTerminal } from "../../devices/pos_flow_b.ts";
import { PinPadFlowB } from "../../devices/pin_pad_flow_b.ts";
import { randomComponents } from "../../demo/setup.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { call, deviceCredential, KMS_URL, makePki } from "./_world.ts";

const [core] = await allCores();
const pki = await makePki(core);
const lmk = await randomComponents(2, 32, core);
const components: LmkComponent[] = lmk.map((c) => {
  const [custodian, key, kcv] = c.split(":");
  return { custodian, key, kcv };
});
const pk = await randomComponents(2, 24, core);
const mak = await randomComponents(2, 16, core);

/** What a KMS answered to an S3 whose AUK does not decrypt, and what it recorded. */
interface Refusal {
  status: number;
  error: unknown;
  records: unknown[];
}

/**
 * A KMS on a fresh database (with a key-pair pool of `keyPool`, or none):
 * a terminal through S1-S7, then a second one whose S3 carries a flipped
 * AUK ciphertext (refused), then its good S3.
 *
 * @returns the refusal, and the KMS's `/metrics` text at the end.
 */
async function run(keyPool?: Partial<KeyPoolPolicy>): Promise<{ refusal: Refusal; text: string }> {
  const dir = await Deno.makeTempDir();
  const metrics = new ServerMetrics("kms");
  const boot = await SoftwareHsm.open({ mode: "test", core }, { components });
  const caBlock = (await boot.importRsaPrivateKey(pki.kmsCa.key, KEY_TEMPLATES.RSA_CA))
    .privateKeyBlock;
  await boot.destroy();
  const app = await createKms({
    db: `${dir}/kms.db`,
    lmkComponents: lmk,
    hsmMode: "test",
    pkComponents: pk,
    makComponents: mak,
    token: toHex(randomBytes(16)),
    log: jsonLogger(() => {}),
    core,
    metrics,
    kmsCa: { certificate: pki.kmsCa.certificate, privateKeyBlock: caBlock },
    deviceRoots: [pki.root.certificate],
    keyPool,
  });
  let refusal: Refusal;
  let text: string;
  try {
    if (keyPool) {
      // The first fill runs on the workers: once it is in, they run.
      const full = new RegExp(
        `^tmk_key_pool_pairs\\{kind="ready",server="kms"\\} ${keyPool.high}$`,
        "m",
      );
      while (!full.test((await metrics.render()).text)) {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    const pad = async (sn: string) => {
      const device = await deviceCredential(core, pki.root, sn, Date.now());
      const p = new PinPadFlowB({
        kmsRoot: pki.root.certificate,
        kmsCa: pki.kmsCa.certificate,
        core,
        storageKey: randomBytes(24),
        device,
      });
      return { pad: p, device };
    };
    const first = await new FlowBTerminal({
      sn: "PC000001",
      pinPad: (await pad("PC000001")).pad,
      transport: app.handler,
      kmsUrl: KMS_URL,
    }).run();
    assertEquals([first.state, first.kmsKcv], ["delivered", first.pinPadKcv]);

    const sn = "PC000002";
    const { pad: p, device } = await pad(sn);
    const s1 = await call(app.handler, "POST", `/v1/terminals/${sn}/hsm-key`, {
      ...(await p.hsmKeyRequest(sn)),
    });
    assertEquals(s1.status, 201);
    await p.installHsmKey(sn, s1.body as { certificate: string; caCertificate: string });
    const good = await p.makeTransportKey();
    const ct = good.encryptedAuk;
    const changed = {
      ...good,
      encryptedAuk: ct.slice(0, 20) + (ct[20] === "0" ? "1" : "0") + ct.slice(21),
    };
    const bad = await call(app.handler, "PUT", `/v1/terminals/${sn}/transport-key`, {
      ...changed,
      signature: toHex(
        await pkcs1v15Sign(device.privateKey, transportKeySigningInput(sn, changed), { core }),
      ),
    });
    // The refusal stored nothing: the good S3 is the first.
    const ok = await call(app.handler, "PUT", `/v1/terminals/${sn}/transport-key`, good);
    assertEquals([ok.status, ok.body.duplicate], [201, "no"]);
    text = (await metrics.render()).text;
    refusal = { status: bad.status, error: bad.body.error, records: [] };
  } finally {
    await app.close();
  }
  const store = await openSqliteStore(`${dir}/kms.db`);
  try {
    refusal.records = (await store.listAudit({ limit: 100, event: "key_refused" })).map((r) => ({
      actor: r.actor,
      event: r.event,
      outcome: r.outcome,
      keyId: r.keyId,
      detail: r.detail,
    }));
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
  return { refusal, text };
}

Deno.test("key pool calls: S1-S7 deliver with the workers signing and recovering AUK; a bad S3 is refused as without a pool", async () => {
  const pooled = await run({ low: 0, high: 2, batch: 2, workers: 1 });
  const inline = await run();
  // Terminal 1: S1's signature and S3's recovery; terminal 2: S1, the refused S3, the good one.
  assert(
    /^tmk_events_total\{event="key_pool_worker_call",server="kms"\} 5$/m.test(pooled.text),
    pooled.text,
  );
  assert(!/key_pool_worker_call/.test(inline.text), "no pool, no worker calls");
  assertEquals(pooled.refusal.status, 422);
  assertEquals((pooled.refusal.error as { code: string }).code, "auk_undecryptable");
  assertEquals(pooled.refusal.records.length, 1);
  assertEquals(pooled.refusal, inline.refusal);
  assertEquals((pooled.refusal.records[0] as { actor: string }).actor, "kms hsm");
});

Deno.test("key pool calls: an HSM in this thread that is not authorized refuses them, workers or not", async () => {
  const events: HsmAuditEvent[] = [];
  const hsm = await SoftwareHsm.open(
    { mode: "test", core, audit: (e) => void events.push(e) },
    { components },
  );
  const ca = await hsm.importRsaPrivateKey(pki.kmsCa.key, KEY_TEMPLATES.RSA_CA);
  const calls: string[] = [];
  const pool = new KeyPairPool({
    hsm,
    components,
    core: core.name,
    policy: { low: 0, high: 1, batch: 1, workers: 1 },
    audit: () => {},
    count: (event) => void calls.push(event),
  });
  try {
    pool.start();
    await pool.settled();
    const rsa = pool.rsaOps(hsm);
    const tbs = randomBytes(32);
    assertEquals(
      toHex(await rsa.sign(ca.privateKeyBlock, tbs)),
      toHex(await hsm.sign(ca.privateKeyBlock, tbs)),
    );
    assertEquals(calls.filter((e) => e === "key_pool_worker_call").length, 1);
    await hsm.setState("secure", "test");
    events.length = 0;
    const e = await rsa.sign(ca.privateKeyBlock, tbs).then(() => undefined, (x) => x);
    assert(e instanceof HsmError);
    assertEquals([e.code, e.message], [
      "wrong_state",
      "sign is refused in the secure state (allowed in: authorized)",
    ]);
    assertEquals(events.map((x) => [x.event, x.outcome]), [["operation_refused", "failure"]]);
    assertEquals(calls.filter((e) => e === "key_pool_worker_call").length, 1, "not on the workers");
    await hsm.setState("authorized", "test");
    await rsa.sign(ca.privateKeyBlock, tbs);
    assertEquals(calls.filter((e) => e === "key_pool_worker_call").length, 2);
  } finally {
    await pool.close();
    await hsm.destroy();
  }
});

Deno.test("key pool calls: a worker that crashes in a call is replaced; the call runs here meanwhile", async () => {
  const hsm = await SoftwareHsm.open({ mode: "test", core }, { components });
  const ca = await hsm.importRsaPrivateKey(pki.kmsCa.key, KEY_TEMPLATES.RSA_CA);
  const calls: string[] = [];
  const records: HsmAuditEvent[] = [];
  const errors: unknown[] = [];
  const pool = new KeyPairPool({
    hsm,
    components,
    core: core.name,
    policy: { low: 0, high: 1, batch: 1, workers: 1 },
    audit: (e) => void records.push(e),
    count: (event) => void calls.push(event),
    onError: (e) => void errors.push(e),
    workerUrl: new URL("./_crashing_call_worker.ts", import.meta.url),
  });
  const onWorkers = () => calls.filter((e) => e === "key_pool_worker_call").length;
  const started = () => records.filter((r) => r.event === "hsm_worker_started").length;
  try {
    pool.start();
    await pool.settled();
    assertEquals(started(), 1);
    const rsa = pool.rsaOps(hsm);
    const tbs = randomBytes(32);
    const expected = toHex(await hsm.sign(ca.privateKeyBlock, tbs));
    Deno.env.set("KMS_TEST_CRASH_CALLS", "1");
    // The worker dies under the call: it is not answered there, so this thread signs.
    assertEquals(toHex(await rsa.sign(ca.privateKeyBlock, tbs)), expected);
    assertEquals(onWorkers(), 0);
    Deno.env.delete("KMS_TEST_CRASH_CALLS");
    // The next call finds the pool failed: it runs here and a new worker pool starts.
    assertEquals(toHex(await rsa.sign(ca.privateKeyBlock, tbs)), expected);
    assertEquals(onWorkers(), 0);
    for (let i = 0; i < 200 && started() < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assertEquals(started(), 2, "a new worker started and was audited");
    assertEquals(toHex(await rsa.sign(ca.privateKeyBlock, tbs)), expected);
    assertEquals(onWorkers(), 1, "the new worker answers");
    assertEquals(errors, []);
  } finally {
    Deno.env.delete("KMS_TEST_CRASH_CALLS");
    await pool.close();
    await hsm.destroy();
  }
});
