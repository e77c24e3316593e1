/**
 * Flow B's HSM key-pair pool (`servers/kms/key_pool.ts`): it fills to its
 * high water mark on HSM workers, drains to its low one and refills, with one
 * audit record per batch naming the count and the LMK's KCV; each pair is
 * handed out once, also to concurrent S1s; pool pairs carry terminals through
 * S1-S7; an empty pool leaves S1 generating inline; an LMK change drops every
 * pair; the metrics show the pool; nothing holds a pool pair's private key in
 * clear; and closing stops the workers with no timer or op left (the test
 * sanitizers check that). The KMS's device check remembers verified chains
 * (the same certificate comes at S1, S3 and S5): a remembered one still
 * honours expiry, the CRLs in force and the serial number.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { importPkcs8Der, kcv, pkcs1v15Sign, toHex, zeroize } from "../../src/crypto/mod.ts";
import { CrlSet, issueCrl, parseCertificate } from "../../src/pki/mod.ts";
import { AuthenticationError } from "../../src/protocol/mod.ts";
import { deviceVerifier } from "../../servers/kms/device_verifier.ts";
import {
  type Hsm,
  type HsmAuditEvent,
  KEY_TEMPLATES,
  type LmkComponent,
  SoftwareHsm,
} from "../../src/hsm/mod.ts";
import { unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import { jsonLogger } from "../../servers/_lib/mod.ts";
import { ServerMetrics } from "../../servers/_lib/metrics.ts";
import { KeyPairPool, type KeyPoolPolicy, keyPoolPolicy } from "../../servers/kms/key_pool.ts";
import { keyPoolProblems } from "../../servers/kms/key_pool_flags.ts";
import { createKms } from "../../servers/kms/main.ts";
import { FlowBTerminal } from "../../devices/pos_flow_b.ts";
import { randomComponents } from "../../demo/setup.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { deviceCredential, KMS_URL, makePki, makeWorld, testClock, type World } from "./_world.ts";
import { clearKeyIn, secretNeedles } from "./_key_scan.ts";
import { PinPadFlowB } from "../../devices/pin_pad_flow_b.ts";

const [core] = await allCores();
const pki = await makePki(core);

/** A software HSM on a fresh LMK of three components, and the components. */
async function lmkHsm(audit?: (e: HsmAuditEvent) => void) {
  const components = [];
  for (let i = 0; i < 3; i++) {
    const key = randomBytes(32);
    components.push({
      custodian: `custodian-${i + 1}`,
      key: toHex(key),
      kcv: toHex(await kcv(key, { method: "cmac", algorithm: "aes", length: 5, core })),
    });
  }
  const hsm = await SoftwareHsm.open({ mode: "test", core, audit }, { components });
  return { hsm, components };
}

/** A pool on `hsm` whose audit records land in `records`. */
function poolOn(
  hsm: Hsm,
  components: LmkComponent[],
  policy: Partial<KeyPoolPolicy>,
  records: HsmAuditEvent[],
): KeyPairPool {
  return new KeyPairPool({
    hsm,
    components,
    core: core.name,
    policy,
    audit: (e) => void records.push(e),
  });
}

Deno.test("key pool: fills to high water, drains to low water and refills, one record per batch", async () => {
  const { hsm, components } = await lmkHsm();
  const records: HsmAuditEvent[] = [];
  const pool = poolOn(hsm, components, { low: 2, high: 5, batch: 2, workers: 1 }, records);
  try {
    pool.start();
    await pool.settled();
    assertEquals([pool.stats().size, pool.stats().generated, pool.stats().batches], [5, 5, 3]);
    // One worker started (its own record), then one record per batch of 2, 2 and 1 pairs.
    assertEquals(records.map((r) => r.event), [
      "hsm_worker_started",
      "key_pool_refilled",
      "key_pool_refilled",
      "key_pool_refilled",
    ]);
    const refills = records.filter((r) => r.event === "key_pool_refilled");
    assertEquals(refills.map((r) => r.kcv), [hsm.lmkKcv, hsm.lmkKcv, hsm.lmkKcv]);
    assertEquals(
      refills.map((r) => Number(/^(\d+) RSA-2048 key pairs/.exec(r.detail ?? "")?.[1])).sort(),
      [1, 2, 2],
    );
    assert(refills.every((r) => r.detail!.includes(`under the LMK (KCV ${hsm.lmkKcv})`)));

    // Down to 3: above the low mark, no refill.
    assert(pool.take() && pool.take());
    await pool.settled();
    assertEquals([pool.stats().size, pool.stats().generated], [3, 5]);
    // Down to 2, the low mark: a refill back to 5.
    assert(pool.take());
    await pool.settled();
    assertEquals(pool.stats(), {
      size: 5,
      generated: 8,
      taken: 3,
      empty: 0,
      batches: 5,
      flushed: 0,
    });
    // Each pair: Pr_hsm as a K3/R/D block (not exportable) under the LMK, its public key distinct.
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const p = pool.take()!;
      seen.add(toHex(p.publicKey.n));
      assertEquals(p.privateKeyBlock.slice(5, 12), "K3RD00N");
      assertEquals((await hsm.keyInfo(p.privateKeyBlock)).keyUsage, "K3", "its MAC under the LMK");
    }
    assertEquals(seen.size, 5);
  } finally {
    await pool.close();
  }
});

Deno.test("key pool: policy and flags are checked, naming what is wrong", () => {
  assertEquals(keyPoolPolicy(), { low: 32, high: 256, workers: 1, batch: 8 });
  assertEquals(keyPoolPolicy({ high: 0, low: 0 }).high, 0);
  const cases: [Partial<KeyPoolPolicy>, string][] = [
    [{ low: 10, high: 10 }, "key pool low (10) must be below high (10)"],
    [{ high: -1 }, "key pool high must be an integer from 0 to 100000, got -1"],
    [{ workers: 65 }, "key pool workers must be an integer from 0 to 64, got 65"],
    [{ batch: 0 }, "key pool batch must be an integer from 1 to 1000, got 0"],
    [{ low: 1.5 }, "key pool low must be an integer from 0 to 100000, got 1.5"],
  ];
  for (const [p, msg] of cases) assertThrows(() => keyPoolPolicy(p), RangeError, msg);
  assertEquals(keyPoolProblems({ "key-pool-low": 8, "key-pool-high": 8 }), [
    "--key-pool-low (8) must be below --key-pool-high (8)",
  ]);
  assertEquals(keyPoolProblems({ "key-pool-low": 8, "key-pool-high": 0 }), []);
  assertEquals(keyPoolProblems({ "key-pool-low": 7, "key-pool-high": 8 }), []);
});

/** A world whose S1 takes pairs from a pool of `policy`; the pool and its audit records. */
async function poolWorld(policy: Partial<KeyPoolPolicy>, via?: "socket") {
  let pool: KeyPairPool | undefined;
  const records: HsmAuditEvent[] = [];
  const w = await makeWorld(core, {
    pki,
    via,
    keyPool: (hsm, components) => (pool = poolOn(hsm, components, policy, records)),
  });
  return { w, pool: pool!, records };
}

/** The Pu_hsm modulus (hex) each terminal got, from the store. */
async function puHsmOf(w: World, sn: string): Promise<string> {
  const t = await w.store.getTerminal(sn);
  assert(t?.puHsmCert && t.prHsmBlock, `${sn} has Pu_hsm and Pr_hsm`);
  return t.puHsmCert;
}

Deno.test("key pool: a pair is handed out once, also to concurrent S1s", async () => {
  const { w, pool } = await poolWorld({ low: 0, high: 6, batch: 3, workers: 1 }, "socket");
  try {
    pool.start();
    await pool.settled();
    const sns = Array.from({ length: 6 }, (_, i) => `PL00000${i + 1}`);
    await Promise.all(sns.map((sn) => w.terminal(sn).requestHsmKey()));
    const certs = await Promise.all(sns.map((sn) => puHsmOf(w, sn)));
    assertEquals(new Set(certs).size, 6);
    const blocks = await Promise.all(sns.map(async (sn) => (await w.store.getTerminal(sn))!));
    assertEquals(new Set(blocks.map((t) => t.prHsmBlock)).size, 6);
    // Every S1 had a pool pair: none generated inline.
    assertEquals([pool.stats().taken, pool.stats().empty], [6, 0]);
    await pool.settled();
    // The refill made new pairs, none of them one handed out before.
    const later = Array.from({ length: 6 }, () => pool.take()!);
    const given = new Set(blocks.map((t) => t.prHsmBlock));
    assert(later.every((p) => p && !given.has(p.privateKeyBlock)));
    // Many takes at once on a pool of 6: 6 distinct pairs, the rest nothing.
    await pool.settled();
    const burst = Array.from({ length: 40 }, () => pool.take());
    const got = burst.filter((p) => p !== undefined);
    assertEquals(got.length, 6);
    assertEquals(new Set(got.map((p) => p!.privateKeyBlock)).size, 6);
  } finally {
    await pool.close();
    await w.close();
  }
});

Deno.test("key pool: pool pairs carry terminals through S1-S7; an empty pool generates inline", async () => {
  const { w, pool } = await poolWorld({ low: 0, high: 2, batch: 2, workers: 0 });
  try {
    // Not started and empty: S1 generates its pair inline (and starts a refill).
    const first = await w.terminal("PL100001").run();
    assertEquals([first.state, first.kmsKcv], ["delivered", first.pinPadKcv]);
    assertEquals([pool.stats().taken, pool.stats().empty], [0, 1]);
    await pool.settled();
    assertEquals(pool.stats().size, 2);
    for (const sn of ["PL100002", "PL100003"]) {
      const r = await w.terminal(sn).run();
      assertEquals([r.state, r.kmsKcv], ["delivered", r.pinPadKcv]);
    }
    assertEquals([pool.stats().taken, pool.stats().empty], [2, 1]);
  } finally {
    await pool.close();
    await w.close();
  }
});

Deno.test("key pool: an LMK change drops every pair and stops the workers", async () => {
  const { hsm, components } = await lmkHsm();
  const records: HsmAuditEvent[] = [];
  const pool = poolOn(hsm, components, { low: 0, high: 3, batch: 3, workers: 1 }, records);
  try {
    pool.start();
    await pool.settled();
    assertEquals(pool.stats().size, 3);
    const kcvBefore = hsm.lmkKcv;
    await hsm.destroy();
    assertEquals(pool.take(), undefined);
    assertEquals(pool.stats(), {
      size: 0,
      generated: 3,
      taken: 0,
      empty: 1,
      batches: 1,
      flushed: 3,
    });
    const flushed = records.filter((r) => r.event === "key_pool_flushed");
    assertEquals(flushed.length, 1);
    assertEquals(flushed[0].kcv, kcvBefore);
    assert(flushed[0].detail!.includes("3 key pairs under the LMK"), flushed[0].detail);
    // No refill from now on.
    assertEquals(pool.take(), undefined);
    await pool.settled();
    assertEquals(pool.stats().generated, 3);
  } finally {
    await pool.close();
  }

  // In this thread, on an HSM whose LMK changes under the pool.
  const a = await lmkHsm();
  const b = await lmkHsm();
  let current: SoftwareHsm = a.hsm;
  const switching = new Proxy({} as Hsm, {
    get: (_, prop) => {
      const v = Reflect.get(current, prop, current);
      return typeof v === "function" ? v.bind(current) : v;
    },
  });
  const inThread: HsmAuditEvent[] = [];
  const p2 = poolOn(switching, a.components, { low: 0, high: 2, batch: 2, workers: 4 }, inThread);
  try {
    assertEquals(p2.policy.workers, 0, "not a software HSM itself: no workers");
    p2.start();
    await p2.settled();
    assertEquals(p2.stats().size, 2);
    current = b.hsm;
    assertEquals(p2.take(), undefined);
    assertEquals([p2.stats().flushed, p2.stats().size], [2, 0]);
    assertEquals(inThread.map((r) => r.event), ["key_pool_refilled", "key_pool_flushed"]);
    assert(inThread[1].detail!.includes(`another LMK (KCV ${b.hsm.lmkKcv})`));
  } finally {
    await p2.close();
  }

  // A refill that ends after the LMK changed adds nothing, with no take to notice it.
  current = a.hsm;
  const late: HsmAuditEvent[] = [];
  const p3 = poolOn(switching, a.components, { low: 0, high: 2, batch: 2, workers: 0 }, late);
  try {
    p3.start();
    current = b.hsm;
    await p3.settled();
    assertEquals([p3.stats().size, p3.stats().generated], [0, 0]);
    assertEquals(late.map((r) => r.event), ["key_pool_flushed"]);
  } finally {
    await p3.close();
  }
});

Deno.test("key pool: close stops a refill in flight, no worker or timer left", async () => {
  const { hsm, components } = await lmkHsm();
  const records: HsmAuditEvent[] = [];
  const pool = poolOn(hsm, components, { low: 0, high: 200, batch: 4, workers: 2 }, records);
  pool.start();
  // Let the workers start and a batch or two come back, then close mid-fill.
  while (pool.stats().generated === 0) await new Promise((r) => setTimeout(r, 20));
  await pool.close();
  assertEquals(pool.stats().size, 0);
  assertEquals(pool.take(), undefined);
  assert(pool.stats().generated < 200);
  await pool.close();
});

Deno.test("key pool: the KMS serves it in /metrics and the audit log, no clear private key anywhere", async () => {
  const dir = await Deno.makeTempDir();
  const lmk = await randomComponents(2, 32, core);
  const lines: string[] = [];
  const metrics = new ServerMetrics("kms");
  const boot = await SoftwareHsm.open({ mode: "test", core }, {
    components: lmk.map((c) => {
      const [custodian, key, kcv] = c.split(":");
      return { custodian, key, kcv };
    }),
  });
  const caBlock = (await boot.importRsaPrivateKey(pki.kmsCa.key, KEY_TEMPLATES.RSA_CA))
    .privateKeyBlock;
  const app = await createKms({
    db: `${dir}/kms.db`,
    lmkComponents: lmk,
    hsmMode: "test",
    pkComponents: await randomComponents(2, 24, core),
    makComponents: await randomComponents(2, 16, core),
    token: toHex(randomBytes(16)),
    log: jsonLogger((l) => void lines.push(l)),
    core,
    metrics,
    kmsCa: { certificate: pki.kmsCa.certificate, privateKeyBlock: caBlock },
    deviceRoots: [pki.root.certificate],
    keyPool: { low: 1, high: 3, batch: 3, workers: 1 },
  });
  const blocks: string[] = [];
  let text = "";
  try {
    // The pool fills at the start, on its own worker: wait until /metrics shows it full.
    const full = /^tmk_key_pool_pairs\{kind="ready",server="kms"\} 3$/m;
    while (!full.test((await metrics.render()).text)) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const device = await deviceCredential(core, pki.root, "PL200001", Date.now());
    for (const sn of ["PL200001"]) {
      const pad = new PinPadFlowB({
        kmsRoot: pki.root.certificate,
        kmsCa: pki.kmsCa.certificate,
        core,
        storageKey: randomBytes(24),
        device,
      });
      const r = await new FlowBTerminal({
        sn,
        pinPad: pad,
        transport: app.handler,
        kmsUrl: KMS_URL,
      })
        .run();
      assertEquals([r.state, r.kmsKcv], ["delivered", r.pinPadKcv]);
    }
    text = (await metrics.render()).text;
    for (
      const line of [
        /^tmk_key_pool_pairs\{kind="ready",server="kms"\} \d+$/m,
        /^tmk_key_pool_pairs\{kind="low",server="kms"\} 1$/m,
        /^tmk_key_pool_pairs\{kind="high",server="kms"\} 3$/m,
        /^tmk_events_total\{event="key_pool_generated",server="kms"\} [1-9]\d*$/m,
        /^tmk_events_total\{event="key_pool_taken",server="kms"\} 1$/m,
      ]
    ) assert(line.test(text), `${line} in\n${text}`);
    // The pair the terminal got was the pool's (nothing inline).
    assert(!/event="key_pool_empty"/.test(text), text);
  } finally {
    await app.close();
  }
  try {
    const { openSqliteStore } = await import("../../src/store/mod.ts");
    const store = await openSqliteStore(`${dir}/kms.db`);
    try {
      const t = await store.getTerminal("PL200001");
      blocks.push(t!.prHsmBlock!);
      const refills = await store.listAudit({ limit: 100, event: "key_pool_refilled" });
      assert(refills.length >= 1);
      assert(refills.every((r) => r.actor === "kms key pool" && r.kcv === boot.lmkKcv));
      assertEquals(
        (await store.listAudit({ limit: 100, event: "hsm_worker_started" })).length >= 1,
        true,
      );
    } finally {
      await store.close();
    }
    // The pair's private key, opened with the LMK here: the scanner finds it in its DER.
    const lmkKey = new Uint8Array(32);
    for (const c of lmk) {
      const k = c.split(":")[1];
      for (let i = 0; i < 32; i++) lmkKey[i] ^= parseInt(k.slice(2 * i, 2 * i + 2), 16);
    }
    const { key: der } = await unwrapKeyBlock(lmkKey, blocks[0], { core });
    const needles = secretNeedles(importPkcs8Der(der));
    for (const clear of [der, new TextEncoder().encode(toHex(der).toUpperCase())]) {
      assertEquals(
        [...new Set(clearKeyIn(clear, needles).map((n) => n.split(" ")[0]))],
        ["d", "p", "q", "dp", "dq", "qi"],
        "the scanner finds the key in clear (it can fail)",
      );
    }
    zeroize(der, lmkKey);
    // Database (and its WAL), log lines, metrics: no clear Pr_hsm.
    for await (const e of Deno.readDir(dir)) {
      assertEquals(clearKeyIn(await Deno.readFile(`${dir}/${e.name}`), needles), [], e.name);
    }
    assertEquals(clearKeyIn(new TextEncoder().encode(lines.join("\n")), needles), []);
    assertEquals(clearKeyIn(new TextEncoder().encode(text), needles), []);
  } finally {
    await boot.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("key pool: workers refused at start leave S1 inline and log the failure", async () => {
  const { hsm } = await lmkHsm();
  const errors: unknown[] = [];
  const pool = new KeyPairPool({
    hsm,
    // The components of another LMK: each worker's combined KCV check refuses them.
    components: (await lmkHsm()).components,
    core: core.name,
    policy: { low: 0, high: 2, batch: 2, workers: 1 },
    audit: () => {},
    onError: (e) => void errors.push(e),
  });
  try {
    pool.start();
    await pool.settled();
    assertEquals(pool.stats().size, 0);
    assertEquals(errors.length, 1);
    await assertRejects(() => Promise.reject(errors[0]), Error, "combined");
    assertEquals(pool.take(), undefined);
  } finally {
    await pool.close();
  }
});

Deno.test("device check: a remembered chain still honours expiry, the CRLs in force and the SN", async () => {
  const clock = testClock();
  const sn = "PL300001";
  const device = await deviceCredential(core, pki.root, sn, clock.ms());
  const input = new TextEncoder().encode("S1 input");
  const signature = await pkcs1v15Sign(device.privateKey, input, { core });
  const now = Math.floor(clock.ms() / 1000) * 1000;
  const crl = async (crlNumber: bigint, revoke: boolean) =>
    new CrlSet([
      await issueCrl({
        issuer: { certificate: pki.root.certificate, privateKey: pki.root.key },
        thisUpdate: new Date(now - 60_000),
        nextUpdate: new Date(now + 400 * 86_400_000),
        crlNumber,
        revoked: revoke
          ? [{
            serialNumber: parseCertificate(device.certificate).serialNumber,
            revokedAt: new Date(now - 30_000),
            reason: "keyCompromise",
          }]
          : [],
      }, { core }),
    ]);
  let crls = await crl(1n, false);
  const verifier = deviceVerifier([pki.root.certificate], core, clock.date, () => crls);
  const check = (s = sn, sig = signature) => verifier.verify(s, device.certificate, input, sig);
  await check();
  await check();
  // Remembered or not: a signature that is not the device's, or another SN, is refused.
  const bad = signature.slice();
  bad[10] ^= 1;
  await assertRejects(() => check(sn, bad), AuthenticationError, "not signed by this PIN pad");
  await assertRejects(() => check("PL300002"), AuthenticationError, "(subject_mismatch)");
  // A new CRL set that revokes it: refused at once.
  crls = await crl(2n, true);
  await assertRejects(() => check(), AuthenticationError, "(revoked)");
  // A newer one without it; then past the certificate's end: refused though it verified before.
  crls = await crl(3n, false);
  await check();
  // Verified (and remembered) 10 s before the certificate's end, refused 10 s after it.
  const notAfter = parseCertificate(device.certificate).notAfter.getTime();
  clock.advance(notAfter - 10_000 - clock.ms());
  await check();
  clock.advance(20_000);
  await assertRejects(() => check(), AuthenticationError, "(expired)");
});
