/**
 * Flow B against the outsider: someone on the network who knows or guesses
 * serial numbers, reads and replays all traffic, and sends anything to any
 * public route, but holds no key and no certificate of ours. Each test sends
 * one attack over HTTPS to a running KMS (the TLS fixture's `localhost`
 * certificate), on SQLite and on PostgreSQL, and shows the terminal's state
 * unchanged, no audit record for the attack, and the genuine device
 * succeeding afterwards. Refusals are counted in the metrics and backed off,
 * never locked.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import postgres from "postgres";
import { generateRsaKeyPair, pkcs1v15Sign, toHex } from "../../src/crypto/mod.ts";
import { CrlSet, issueCertificate, issueCrl, parseCertificate } from "../../src/pki/mod.ts";
import {
  answerSigningInput,
  challengeSigningInput,
  type Exchange,
  hsmKeySigningInput,
  type Transport,
} from "../../src/protocol/mod.ts";
import { KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import type { Terminal } from "../../src/store/mod.ts";
import { ServerMetrics } from "../../servers/_lib/metrics.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { call, deviceCredential, makePki, makeWorld, type World } from "./_world.ts";

const [core] = await allCores();
const pki = await makePki(core);
const outsiderPki = await makePki(core, "TMK"); // copies every name of ours, keys of its own

const url = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";

/** The backends: SQLite always, PostgreSQL with `KMS_TEST_DATABASE_URL`. */
const BACKENDS = [
  { name: "sqlite", skip: undefined },
  { name: "postgres", skip: url === "" ? "KMS_TEST_DATABASE_URL not set" : undefined },
] as const;

/** A world over TLS on the backend, with the default backoff, metrics and a log sink. */
async function world(
  backend: string,
  options: Parameters<typeof makeWorld>[1] = {},
): Promise<{ w: World; metrics: ServerMetrics; logs: string[]; close(): Promise<void> }> {
  const schema = `t_outsider_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const w = await makeWorld(core, {
    pki,
    via: "tls",
    guard: {},
    ...(backend === "postgres"
      ? { dbUrl: `${url}${url.includes("?") ? "&" : "?"}schema=${schema}` }
      : {}),
    ...options,
  });
  const metrics = new ServerMetrics("kms");
  const logs: string[] = [];
  w.guard.attach({
    count: (e, n) => metrics.count(e, n),
    log: (_level, event, fields) => logs.push(`${event} ${JSON.stringify(fields)}`),
  });
  return {
    w,
    metrics,
    logs,
    close: async () => {
      await w.close();
      if (backend === "postgres") {
        const sql = postgres(url, { max: 1, onnotice: () => {} });
        try {
          await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await sql.end({ timeout: 5 });
        }
      }
    },
  };
}

/** What must not change: the terminal row and the audit trail. */
async function snapshot(w: World, sn: string): Promise<{ t: Terminal | null; audit: number }> {
  return {
    t: await w.store.getTerminal(sn),
    audit: (await w.store.listAudit({ limit: 10_000 })).length,
  };
}

async function unchanged(w: World, sn: string, before: { t: Terminal | null; audit: number }) {
  assertEquals(await w.store.getTerminal(sn), before.t, "the terminal is as it was");
  assertEquals(
    (await w.store.listAudit({ limit: 10_000 })).length,
    before.audit,
    "no audit record for the outsider's requests",
  );
}

/** The count of one refusal code in the metrics' text. */
async function counted(metrics: ServerMetrics, code: string): Promise<number> {
  const { text } = await metrics.render();
  const m = new RegExp(`tmk_events_total\\{[^}]*event="flow_b_refused_${code}"[^}]*\\} (\\d+)`)
    .exec(text);
  return m ? Number(m[1]) : 0;
}

/** A transport that records every exchange (what the outsider reads off the network). */
function tapped(inner: Transport, seen: Exchange[]): Transport {
  return async (req) => {
    const body = req.body ? await req.text() : "";
    const r = await inner(
      new Request(req.url, {
        method: req.method,
        headers: req.headers,
        body: body === "" ? undefined : body,
      }),
    );
    const text = await r.text();
    seen.push({
      method: req.method,
      url: req.url,
      requestBody: body,
      status: r.status,
      responseBody: text,
    });
    return new Response(text, { status: r.status, headers: r.headers });
  };
}

const outsiderDevices = new Map<string, Awaited<ReturnType<typeof deviceCredential>>>();

/** The outsider's own "device credential": a pin-pad certificate from its own root. */
async function outsiderSignature(sn: string, input: Uint8Array) {
  if (!outsiderDevices.has(sn)) {
    outsiderDevices.set(sn, await deviceCredential(core, outsiderPki.root, sn));
  }
  const d = outsiderDevices.get(sn)!;
  return {
    deviceCertificate: d.certificate,
    signature: toHex(await pkcs1v15Sign(d.privateKey, input, { core })),
  };
}

for (const b of BACKENDS) {
  const t = (name: string, fn: () => Promise<void>) =>
    Deno.test({ name: `outsider [${b.name}]: ${name}`, ignore: b.skip !== undefined, fn });

  t("takes no TMK download or acknowledgement in a session the terminal opened", async () => {
    // Ten free refusals: this test is about the session, the next ones about the backoff.
    const { w, metrics, close } = await world(b.name, { guard: { freeFailures: 10 } });
    try {
      const sn = "FO100001";
      const seen: Exchange[] = [];
      const pos = w.terminal(sn, { transport: tapped(w.handler, seen) });
      await pos.requestHsmKey();
      await pos.sendTransportKey();
      await pos.authenticate();
      // The outsider read the session id off the wire (the challenge id in the S5 answer).
      const sessionId = JSON.parse(seen.findLast((x) => x.url.endsWith("/response"))!.responseBody)
        .sessionId as string;
      const before = await snapshot(w, sn);
      const attempts: [string, string, unknown, string][] = [
        [
          "POST",
          `/v1/terminals/${sn}/sessions/${sessionId}/tmk`,
          { mac: "00".repeat(8) },
          "session_mac_invalid",
        ],
        [
          "POST",
          `/v1/terminals/${sn}/sessions/${sessionId}/tmk`,
          { mac: toHex(randomBytes(8)) },
          "session_mac_invalid",
        ],
        ["POST", `/v1/terminals/${sn}/tmk`, undefined, "session_route_required"],
        ["POST", `/v1/terminals/${sn}/sessions/${sessionId}/tmk/ack`, {
          tmkKcv: "000000",
          mac: toHex(randomBytes(8)),
        }, "session_mac_invalid"],
        ["POST", `/v1/terminals/${sn}/tmk/ack`, { tmkKcv: "000000" }, "session_route_required"],
      ];
      for (const [method, path, body, code] of attempts) {
        const r = await call(w.handler, method, path, body);
        assertEquals([r.status, r.body.error?.code], [401, code], path);
      }
      // Replays of the genuine S5 requests it recorded.
      for (const x of seen.filter((e) => e.url.includes("/challenges"))) {
        const r = await call(w.handler, "POST", new URL(x.url).pathname, JSON.parse(x.requestBody));
        assertEquals(r.status, 401, x.url);
      }
      await unchanged(w, sn, before);
      assertEquals(await counted(metrics, "session_mac_invalid"), 3);
      // The genuine terminal downloads and acknowledges in its session.
      const d = await pos.downloadTmk();
      assertEquals([d.state, d.kmsKcv], ["delivered", d.pinPadKcv]);
    } finally {
      await close();
    }
  });

  t("cannot make a flow A terminal's S1, and a pending order's batch still imports", async () => {
    const { w, close } = await world(b.name);
    try {
      // A terminal the KMS knows from a production order: refused before anything is written.
      const tk = await w.hsm.generateKey(KEY_TEMPLATES.TK);
      await w.store.importTkBatch({
        orderId: "PO-O-1",
        bodyHash: "00".repeat(32),
        receivedAt: w.clock.date(),
        tks: [{ sn: "FA000001", tkBlock: tk.keyBlock, tkKcv: tk.kcv, tkHash: "11".repeat(32) }],
      });
      const known = await snapshot(w, "FA000001");
      const req = { time: w.clock.date().toISOString(), nonce: toHex(randomBytes(16)) };
      const r1 = await call(w.handler, "POST", "/v1/terminals/FA000001/hsm-key", {
        ...req,
        ...(await outsiderSignature("FA000001", hsmKeySigningInput("FA000001", req))),
      });
      assertEquals([r1.status, r1.body.error?.code], [409, "flow_a_terminal"]);
      await unchanged(w, "FA000001", known);
      // An SN of an order whose batch has not reached the KMS yet: S1 needs that SN's device
      // key, so the outsider's is refused and no terminal row appears.
      const pending = await snapshot(w, "FA000002");
      const r2 = await call(w.handler, "POST", "/v1/terminals/FA000002/hsm-key", {
        ...req,
        ...(await outsiderSignature("FA000002", hsmKeySigningInput("FA000002", req))),
      });
      assertEquals([r2.status, r2.body.error?.code], [401, "device_certificate_untrusted"]);
      await unchanged(w, "FA000002", pending);
      // The order's batch then imports: no terminal_conflict.
      const tk2 = await w.hsm.generateKey(KEY_TEMPLATES.TK);
      assertEquals(
        await w.store.importTkBatch({
          orderId: "PO-O-2",
          bodyHash: "22".repeat(32),
          receivedAt: w.clock.date(),
          tks: [{ sn: "FA000002", tkBlock: tk2.keyBlock, tkKcv: tk2.kcv, tkHash: "33".repeat(32) }],
        }),
        { duplicate: false, tks: 1 },
      );
    } finally {
      await close();
    }
  });

  t(
    "cannot lock a terminal with challenges and wrong answers; it is backed off, counted, sampled",
    async () => {
      const { w, metrics, logs, close } = await world(b.name);
      try {
        const sn = "FO300001";
        const pos = w.terminal(sn);
        await pos.requestHsmKey();
        await pos.sendTransportKey();
        const before = await snapshot(w, sn);
        const statuses = new Map<string, number>();
        for (let i = 0; i < 20; i++) {
          const rnd1 = toHex(randomBytes(8));
          const open = await call(w.handler, "POST", `/v1/terminals/${sn}/challenges`, {
            rnd1,
            ...(await outsiderSignature(sn, challengeSigningInput(sn, rnd1))),
          });
          const id = toHex(randomBytes(16));
          const crnd2 = toHex(randomBytes(8));
          const answer = await call(
            w.handler,
            "POST",
            `/v1/terminals/${sn}/challenges/${id}/response`,
            {
              crnd2,
              ...(await outsiderSignature(sn, answerSigningInput(sn, id, crnd2))),
            },
          );
          for (const r of [open, answer]) {
            const k = `${r.status} ${r.body.error?.code}`;
            statuses.set(k, (statuses.get(k) ?? 0) + 1);
          }
        }
        assertEquals(
          [...statuses.keys()].sort(),
          ["401 device_certificate_untrusted", "429 rate_limited"],
          JSON.stringify([...statuses]),
        );
        await unchanged(w, sn, before);
        const t = (await w.store.getTerminal(sn))!;
        assertEquals([t.authFailures, t.lockedAt], [0, null], "never locked");
        // Five free refusals; the sixth starts the backoff, and the other 34 requests are
        // refused before any check (the test's clock stands still).
        assertEquals(await counted(metrics, "device_certificate_untrusted"), 6);
        assertEquals(await counted(metrics, "rate_limited"), 34);
        // The log has a sample (the 1st, 10th, ... of each code), not a line per refusal.
        assertEquals(logs.length, 3, logs.join("\n"));
        assertStringIncludes(logs[0], "flow_b.unauthenticated_refused");
        // The backoff ends by itself; the genuine terminal authenticates and downloads.
        w.clock.advance(61_000);
        await pos.authenticate();
        assertEquals((await pos.downloadTmk()).state, "delivered");
      } finally {
        await close();
      }
    },
  );

  t("cannot rotate the key pair between the terminal's S1 and S3", async () => {
    const { w, close } = await world(b.name);
    try {
      const sn = "FO400001";
      const seen: Exchange[] = [];
      const pos = w.terminal(sn, { transport: tapped(w.handler, seen) });
      await pos.requestHsmKey();
      const before = await snapshot(w, sn);
      // Its own S1 (its own device certificate), and a replay of the terminal's.
      const req = { time: w.clock.date().toISOString(), nonce: toHex(randomBytes(16)) };
      const own = await call(w.handler, "POST", `/v1/terminals/${sn}/hsm-key`, {
        ...req,
        ...(await outsiderSignature(sn, hsmKeySigningInput(sn, req))),
      });
      assertEquals([own.status, own.body.error?.code], [401, "device_certificate_untrusted"]);
      const replay = await call(
        w.handler,
        "POST",
        `/v1/terminals/${sn}/hsm-key`,
        JSON.parse(seen[0].requestBody),
      );
      assertEquals([replay.status, replay.body.error?.code], [401, "request_replayed"]);
      // Later, outside the time window, the replay is stale.
      w.clock.advance(301_000);
      const late = await call(
        w.handler,
        "POST",
        `/v1/terminals/${sn}/hsm-key`,
        JSON.parse(seen[0].requestBody),
      );
      assertEquals([late.status, late.body.error?.code], [401, "request_stale"]);
      await unchanged(w, sn, before);
      // The terminal's S3 under its Pu_hsm goes through, and the flow completes.
      await pos.sendTransportKey();
      await pos.authenticate();
      assertEquals((await pos.downloadTmk()).state, "delivered");
    } finally {
      await close();
    }
  });

  t("cannot cancel the terminal's open session with a wrong answer", async () => {
    const { w, close } = await world(b.name);
    try {
      const sn = "FO500001";
      const seen: Exchange[] = [];
      const pos = w.terminal(sn, { transport: tapped(w.handler, seen) });
      await pos.requestHsmKey();
      await pos.sendTransportKey();
      await pos.authenticate();
      const before = await snapshot(w, sn);
      assert(before.t!.sessionExpiresAt !== null);
      const answered = seen.findLast((x) => x.url.endsWith("/response"))!;
      const path = new URL(answered.url).pathname;
      const genuine = JSON.parse(answered.requestBody);
      const wrongs: unknown[] = [
        { ...genuine, crnd2: toHex(randomBytes(8)) }, // the terminal's signature on other bytes
        genuine, // the genuine answer again
        {
          crnd2: "00".repeat(8),
          ...(await outsiderSignature(
            sn,
            answerSigningInput(sn, path.split("/")[5], "00".repeat(8)),
          )),
        },
      ];
      for (const body of wrongs) {
        const r = await call(w.handler, "POST", path, body);
        assertEquals(r.status, 401);
      }
      await unchanged(w, sn, before);
      assertEquals((await pos.downloadTmk()).state, "delivered");
    } finally {
      await close();
    }
  });

  t("a revoked device certificate is refused; the device's new one works", async () => {
    const sn = "FO600001";
    const revokedCred = await deviceCredential(core, pki.root, sn);
    const serial = parseCertificate(revokedCred.certificate).serialNumber;
    const at = Math.floor(Date.UTC(2026, 10, 23, 12, 0, 0) / 1000) * 1000;
    const crl = await issueCrl({
      issuer: { privateKey: pki.root.key, certificate: pki.root.certificate },
      thisUpdate: new Date(at - 3_600_000),
      nextUpdate: new Date(at + 86_400_000),
      crlNumber: 1n,
      revoked: [{ serialNumber: serial, revokedAt: new Date(at - 3_600_000) }],
    }, { core });
    const crls = new CrlSet([crl]);
    const { w, close } = await world(b.name, { crls: () => crls });
    try {
      const { PinPadFlowB } = await import("../../devices/pin_pad_flow_b.ts");
      const pad = (device: typeof revokedCred) =>
        new PinPadFlowB({
          kmsRoot: pki.root.certificate,
          kmsCa: pki.kmsCa.certificate,
          core,
          storageKey: randomBytes(24),
          now: w.clock.ms,
          device,
        });
      const before = await snapshot(w, sn);
      const revoked = w.terminal(sn, { pad: pad(revokedCred) });
      const e = await revoked.requestHsmKey().then(() => undefined, (x) => x);
      assertEquals([e?.status, e?.code], [401, "device_certificate_untrusted"]);
      await unchanged(w, sn, before);
      const fresh = await deviceCredential(core, pki.root, sn);
      const ok = w.terminal(sn, { pad: pad(fresh) });
      assertEquals((await ok.run()).state, "delivered");
    } finally {
      await close();
    }
  });

  t("a Pu_hsm certificate from another CA under the root is refused by the PIN pad", async () => {
    const { w, close } = await world(b.name);
    try {
      const sn = "FO700001";
      const insiderKey = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
      const now = w.clock.ms();
      const insiderCa = await issueCertificate({
        profile: "kms-ca",
        subject: { commonName: "Insider CA" },
        publicKey: insiderKey,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 86_400_000),
        issuer: { privateKey: pki.root.key, certificate: pki.root.certificate },
      }, { core });
      const leaf = await issueCertificate({
        profile: "terminal-hsm",
        subject: { commonName: `Pu_hsm ${sn}`, serialNumber: sn },
        publicKey: insiderKey,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 86_400_000),
        issuer: { privateKey: insiderKey, certificate: insiderCa },
      }, { core });
      const swap: Transport = async (req) => {
        const r = await w.handler(req);
        if (!new URL(req.url).pathname.endsWith("/hsm-key") || r.status >= 300) return r;
        const body = await r.json();
        return Response.json(
          { ...body, certificate: leaf, caCertificate: insiderCa },
          { status: r.status },
        );
      };
      const pos = w.terminal(sn, { transport: swap });
      const e = await pos.run().then(() => undefined, (x) => x);
      assertEquals(e?.code, "hsm_certificate_untrusted");
      assertEquals(pos.pinPad.state().hsmKeyFor, undefined);
      // The genuine answer, unchanged: the PIN pad takes it.
      const direct = w.terminal(sn, { pad: pos.pinPad });
      assertEquals((await direct.run()).state, "delivered");
    } finally {
      await close();
    }
  });
}
