/**
 * Flow A's download and acknowledgement (S16-S17) against an outsider, over
 * TLS sockets to running servers, on SQLite and on PostgreSQL: a party that
 * sees and replays every message but holds neither TK nor TMK sends
 * downloads and acknowledgements (no proof, a wrong MAC, a forged nonce, a
 * nonce for another SN, an expired nonce, a used nonce, the genuine
 * messages replayed). Each is refused; the KMS's tables and its audit log
 * are unchanged (no false `tmk_sent` or `tmk_delivered` record); the
 * refusals are counted in the metrics and logged at most once per serial
 * number; and the genuine POS then downloads and acknowledges its TMK.
 *
 * @module
 */
import { assert, assertEquals, assertGreater } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { toHex } from "../../src/crypto/mod.ts";
import { ServerMetrics } from "../../servers/_lib/metrics.ts";
import { pinPadTestHarness } from "../../devices/pin_pad.ts";
import { type DbReader, postgresReader, sqliteReader } from "../harden/_faults.ts";
import { randomBytes } from "../_helpers.ts";
import { ackBody } from "../_device_proof.ts";
import { type Json, makeWorld, type World } from "./_fixture.ts";

const core = await loadCore("wasm");
const url = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";
const TTL_MS = 5000;

/** A fresh order of `sns`, collected, transferred and issued; the POS terminals. */
async function issued(w: World, orderId: string, sns: string[]) {
  const created = await w.call("POST", `${w.mtmsUrl}/v1/orders`, { orderId, serialNumbers: sns });
  assertEquals(created.status, 201, JSON.stringify(created.body));
  const terminals = [];
  for (const sn of sns) {
    const pos = await w.pos(sn);
    await w.collect(pos, orderId);
    terminals.push(pos);
  }
  assertEquals((await w.call("POST", `${w.mtmsUrl}/v1/orders/${orderId}/transfer`)).status, 200);
  assertEquals((await w.call("POST", `${w.kmsUrl}/v1/orders/${orderId}/tmks`)).status, 200);
  return terminals;
}

/** Counts of the KMS's `tmk_events_total` series whose event starts with `prefix`. */
async function counted(metrics: ServerMetrics, prefix: string): Promise<number> {
  const { text } = await metrics.render();
  let n = 0;
  for (const m of text.matchAll(/^tmk_events_total\{[^}]*event="([^"]+)"[^}]*\} (\d+)/gm)) {
    if (m[1].startsWith(prefix)) n += Number(m[2]);
  }
  return n;
}

for (const backend of ["sqlite", "postgres"] as const) {
  const skip = backend === "postgres" && url === "";
  Deno.test({
    name: `outsider (${backend}, TLS): no download, acknowledgement or false record without TK ` +
      `and TMK; refusals counted, not audited; the genuine POS succeeds after` +
      (skip ? " (ignored: KMS_TEST_DATABASE_URL not set)" : ""),
    ignore: skip,
    async fn() {
      const tag = `${Date.now().toString(36)}${toHex(randomBytes(3)).toLowerCase()}`;
      const schemas = { kms: `t_out_kms_${tag}`, mtms: `t_out_mtms_${tag}` };
      const pg = (s: string) => `${url}${url.includes("?") ? "&" : "?"}schema=${s}`;
      const metrics = new ServerMetrics("kms");
      const w = await makeWorld(core, "socket", {
        db: backend === "postgres" ? { kms: pg(schemas.kms), mtms: pg(schemas.mtms) } : undefined,
        nonceTtlMs: TTL_MS,
        kmsMetrics: metrics,
        deviceFailureLimits: { freeFailures: 4, baseMs: 300, maxMs: 600 },
      });
      const reader: DbReader = backend === "postgres"
        ? await postgresReader(pg(schemas.kms), schemas.kms)
        : sqliteReader(`${w.dir}/kms.db`);
      try {
        assert(w.kmsUrl.startsWith("https://localhost:"), w.kmsUrl);
        const [a, b] = await issued(w, `PO-OUT-${backend.toUpperCase()}`, [
          "SNO0000001",
          "SNO0000002",
        ]);
        const base = (sn: string) => `${w.kmsUrl}/v1/terminals/${sn}`;
        const refusals: string[] = [];
        // Requests to the device routes, without an operator signature. A 429 (the hold-off
        // the outsider's failures earn its SN and address) is waited out and noted.
        const post = async (path: string, body?: unknown) => {
          for (;;) {
            const r = await w.call("POST", path, body, null);
            if (r.status !== 429) return r;
            refusals.push("rate_limited");
            await new Promise((ok) => setTimeout(ok, 650));
          }
        };
        const nonceFor = async (sn: string) => (await post(`${base(sn)}/tmk/challenge`)).body.nonce;
        /** Sends an outsider's request (its body made anew after a 429); returns its refusal. */
        const refused = async (what: string, path: string, body: () => Promise<unknown>) => {
          let r = await w.call("POST", path, await body(), null);
          while (r.status === 429) {
            refusals.push("rate_limited");
            await new Promise((ok) => setTimeout(ok, 650));
            r = await w.call("POST", path, await body(), null);
          }
          assert(
            r.status >= 400 && r.status < 500,
            `${what}: ${r.status} ${JSON.stringify(r.body)}`,
          );
          refusals.push(r.body.error.code);
          return `${r.status} ${r.body.error.code}`;
        };
        const randomMac = () => toHex(randomBytes(8));

        // --- before the genuine download: the outsider cannot take the TMK ---
        const sn = a.sn;
        const before = await reader.state();
        const expired = await nonceFor(sn);
        assertEquals(
          await refused("no proof", `${base(sn)}/tmk`, () => Promise.resolve(undefined)),
          "415 unsupported_media_type",
        );
        assertEquals(
          await refused("a guessed MAC", `${base(sn)}/tmk`, async () => ({
            nonce: await nonceFor(sn),
            mac: randomMac(),
          })),
          "401 proof_invalid",
        );
        const forged = async () => {
          const n = await nonceFor(sn);
          return { nonce: n.slice(0, 48) + toHex(randomBytes(8)), mac: randomMac() };
        };
        assertEquals(await refused("a forged tag", `${base(sn)}/tmk`, forged), "401 nonce_invalid");
        assertEquals(
          await refused("a nonce for another SN", `${base(sn)}/tmk`, async () => ({
            nonce: await nonceFor(b.sn),
            mac: randomMac(),
          })),
          "401 nonce_invalid",
        );
        assertEquals(
          await refused(
            "an acknowledgement before any download",
            `${base(sn)}/tmk/ack`,
            async () => ({
              tmkKcv: "000000",
              nonce: await nonceFor(sn),
              mac: randomMac(),
            }),
          ),
          "409 not_sent",
        );
        await new Promise((ok) => setTimeout(ok, TTL_MS + 100));
        assertEquals(
          await refused("an expired nonce", `${base(sn)}/tmk`, async () => ({
            nonce: expired,
            mac: await a.pinPad.proveTk(sn, expired),
          })),
          "401 nonce_expired",
        );
        const mid = await reader.state();
        assertEquals(mid.hash, before.hash, "no table changed");
        assertEquals(mid.audit, before.audit, "no audit record");

        // --- the genuine POS downloads (its messages are seen by the outsider) ---
        const n1 = await nonceFor(sn);
        const genuineDownload = { nonce: n1, mac: await a.pinPad.proveTk(sn, n1) };
        const dl = await post(`${base(sn)}/tmk`, genuineDownload);
        assertEquals(dl.status, 200, JSON.stringify(dl.body));
        await a.pinPad.installTmk(dl.body);
        const sent = await reader.state();
        assertEquals((await reader.state(before.audit)).newEvents, ["tmk_sent"]);

        // --- the outsider replays and acknowledges: refused, nothing changes ---
        assertEquals(
          await refused(
            "the genuine download replayed",
            `${base(sn)}/tmk`,
            () => Promise.resolve(genuineDownload),
          ),
          "401 nonce_used",
        );
        assertEquals(
          await refused("the seen KCV with a guessed MAC", `${base(sn)}/tmk/ack`, async () => ({
            tmkKcv: dl.body.tmkKcv,
            nonce: await nonceFor(sn),
            mac: randomMac(),
          })),
          "401 proof_invalid",
        );
        assertEquals(
          await refused(
            "the seen KCV on the seen ack nonce",
            `${base(sn)}/tmk/ack`,
            () =>
              Promise.resolve({
                tmkKcv: dl.body.tmkKcv,
                nonce: dl.body.ackNonce,
                mac: randomMac(),
              }),
          ),
          "401 proof_invalid",
        );
        assertEquals(
          await refused(
            "the proof of TK as a proof of TMK",
            `${base(sn)}/tmk/ack`,
            () => Promise.resolve({ tmkKcv: dl.body.tmkKcv, ...genuineDownload }),
          ),
          "401 proof_invalid",
        );
        const after = await reader.state();
        assertEquals(after.hash, sent.hash, "no table changed");
        assertEquals(after.audit, sent.audit, "no audit record: no false tmk_delivered");

        // --- the genuine POS acknowledges; its acknowledgement replayed is refused ---
        // (On a fresh nonce: the download's may have expired while the outsider was held off.)
        const n2 = await nonceFor(sn);
        const tmk = (await pinPadTestHarness(a.pinPad).clearKeys()).tmk!;
        const genuineAck = await ackBody(tmk, sn, n2, core);
        assertEquals(genuineAck.mac, (await a.pinPad.proveTmk(sn, n2)).mac);
        const ack = await post(`${base(sn)}/tmk/ack`, genuineAck);
        assertEquals([ack.status, ack.body.state], [200, "delivered"], JSON.stringify(ack.body));
        const delivered = await reader.state();
        assertEquals((await reader.state(after.audit)).newEvents, ["tmk_delivered"]);
        assertEquals(
          await refused(
            "the genuine acknowledgement replayed",
            `${base(sn)}/tmk/ack`,
            () => Promise.resolve(genuineAck),
          ),
          "401 nonce_used",
        );
        assertEquals((await reader.state()).hash, delivered.hash);
        assertEquals((await reader.state()).audit, delivered.audit);

        // --- the second terminal, attacked with the first one's nonces, still gets its TMK ---
        assertEquals(
          await refused("another SN's nonce", `${base(b.sn)}/tmk`, async () => ({
            nonce: await nonceFor(sn),
            mac: await b.pinPad.proveTk(b.sn, await nonceFor(sn)),
          })),
          "401 nonce_invalid",
        );
        // Every refusal so far but the router's 400 (a malformed body) is the delivery's, counted.
        assertEquals(
          await counted(metrics, "flow_a_"),
          refusals.filter((c) => c !== "unsupported_media_type").length,
        );
        const d = await b.downloadTmk();
        assertEquals([d.state, d.kmsKcv], ["delivered", d.pinPadKcv]);
        const status = await w.call("GET", `${base(b.sn)}`);
        assertEquals(status.body.state, "delivered");

        // --- counted, held off, sampled in the log; never audited ---
        assert(refusals.includes("rate_limited"), `the hold-off answered 429: ${refusals}`);
        const logged = (s: string) =>
          w.logs.kms.filter((l) => l.includes('"flow_a.refused"') && l.includes(`"sn":"${s}"`));
        assertEquals(logged(sn).length, 1, "one sampled line per SN per minute");
        assertGreater(refusals.length, 10);
        const events = (await reader.state(before.audit)).newEvents;
        assertEquals(events.filter((e) => e === "tmk_delivered").length, 2);
        assertEquals(events.filter((e) => e === "tmk_sent").length, 2);
      } finally {
        await w.close();
        await reader.close();
      }
    },
  });
}

/** A flood of refused downloads: counted and logged once, no audit row, bounded memory. */
Deno.test("outsider: 300 refused downloads write no audit row and one log line", async () => {
  const metrics = new ServerMetrics("kms");
  const w = await makeWorld(core, "in-process", { kmsMetrics: metrics });
  const reader = sqliteReader(`${w.dir}/kms.db`);
  try {
    const [a] = await issued(w, "PO-FLOOD-1", ["SNF1000001"]);
    const before = await reader.state();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const r = await w.call("POST", `${w.kmsUrl}/v1/terminals/${a.sn}/tmk`, {
        nonce: toHex(randomBytes(32)),
        mac: toHex(randomBytes(8)),
      }, null);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    // The world's 100 free failures and the one that starts the hold-off, then held off.
    assertEquals(statuses.get(401), 101, JSON.stringify([...statuses]));
    assertEquals(statuses.get(429), 199);
    const after = await reader.state();
    assertEquals([after.hash, after.audit], [before.hash, before.audit]);
    assertEquals(await counted(metrics, "flow_a_download_refused"), 300);
    assertEquals(
      w.logs.kms.filter((l: Json) => l.includes('"flow_a.refused"')).length,
      1,
    );
    // The genuine POS waits out the hold-off (its Retry-After) and gets its TMK.
    const d = await a.downloadTmk();
    assertEquals([d.state, d.kmsKcv], ["delivered", d.pinPadKcv]);
  } finally {
    await w.close();
    await reader.close();
  }
});
