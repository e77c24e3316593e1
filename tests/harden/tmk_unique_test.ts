/**
 * One TMK per terminal under concurrency, and TMKs that
 * are distinct by their full fingerprint.
 *
 * - Flow B: a terminal through S1-S5, then 200 concurrent
 *   `POST /v1/terminals/{sn}/tmk`: exactly one answer carries a TMK (the
 *   session is used once), the store holds one TMK, the audit log one
 *   `tmk_issued`, and the PIN pad accepts that TMK.
 * - Flow A: an order transferred to the KMS, then 200 concurrent bulk
 *   issuances of it and 200 concurrent downloads of one SN: each terminal has
 *   exactly one TMK (every download carries the same block and KCV).
 * - 10,000 TMKs generated under a TK by the HSM (the issuance operation):
 *   10,000 distinct fingerprints, the SHA-256 of the clear key computed
 *   inside the HSM (`keyHash`), while the 3-byte KCVs are allowed to collide
 *   and their collisions are counted.
 *
 * Prints `figure tmk-unique-*`.
 */
import { assert, assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { call, makeWorld } from "../flow_b/_world.ts";
import { makeHsm } from "../hsm/_fixtures.ts";
import { figure, size, Tally } from "./_figures.ts";
import { recordTraffic } from "./_traffic.ts";
import { kmsNonce } from "../_device_proof.ts";
import type { PosTerminal } from "../../devices/pos_terminal.ts";

const core = await loadCore("wasm");
const CONCURRENT = 200;

Deno.test(`${CONCURRENT} concurrent flow B TMK requests for one terminal, exactly one TMK`, async () => {
  const w = await makeWorld(core);
  try {
    const sn = "CONCURB00001";
    const pos = w.terminal(sn);
    await pos.requestHsmKey();
    await pos.sendTransportKey();
    await pos.authenticate();
    // The same MACed request, sent 200 times at once (the genuine one and its replays).
    const m = await pos.pinPad.sessionMac("S6", sn);
    const answers = await Promise.all(
      Array.from(
        { length: CONCURRENT },
        () =>
          call(w.handler, "POST", `/v1/terminals/${sn}/sessions/${m.sessionId}/tmk`, {
            mac: m.mac,
          }),
      ),
    );
    const statuses = new Tally();
    for (const a of answers) {
      statuses.add(`${a.status}${a.body.error ? ` ${a.body.error.code}` : ""}`);
    }
    const ok = answers.filter((a) => a.status === 200);
    assertEquals(ok.length, 1, statuses.toString());
    assert(
      answers.every((a) => a.status === 200 || (a.status >= 400 && a.status < 500)),
      statuses.toString(),
    );
    const t = await w.store.getTerminal(sn);
    assertEquals(t?.tmkKcv, ok[0].body.tmkKcv);
    const audit = (await w.store.listAudit({ limit: 1000 })).filter((e) =>
      e.event === "tmk_issued" && e.subject === sn && e.outcome === "success"
    );
    assertEquals(audit.length, 1);
    const refusals = (await w.store.listAudit({ limit: 1000, subject: sn })).filter((e) =>
      e.outcome === "failure"
    );
    assertEquals(refusals.length, 0, "the refused copies wrote no audit record");
    figure(
      "tmk-unique-flow-b",
      `${CONCURRENT} concurrent POST /v1/terminals/{sn}/sessions/{id}/tmk after one passed S5: ` +
        `${statuses}; ` +
        `1 TMK stored (KCV ${t?.tmkKcv}), 1 tmk_issued audit record`,
    );
  } finally {
    await w.close();
  }
});

Deno.test(`${CONCURRENT} concurrent flow A issuances and downloads, one TMK per terminal`, async () => {
  const t = await recordTraffic(core, 0, "CC");
  try {
    const a = t.a;
    const orderId = "PO-CONC-1";
    const sns = ["CONCA0000001", "CONCA0000002", "CONCA0000003"];
    const r = await a.call("POST", `${a.mtmsUrl}/v1/orders`, { orderId, serialNumbers: sns });
    assertEquals(r.status, 201);
    const poss: PosTerminal[] = [];
    for (const sn of sns) {
      const pos = await a.pos(sn);
      await a.collect(pos, orderId);
      poss.push(pos);
    }
    assertEquals((await a.call("POST", `${a.mtmsUrl}/v1/orders/${orderId}/transfer`)).status, 200);
    const issues = await Promise.all(
      Array.from(
        { length: CONCURRENT },
        () => a.call("POST", `${a.kmsUrl}/v1/orders/${orderId}/tmks`),
      ),
    );
    const issueStatuses = new Tally();
    let issued = 0;
    for (const x of issues) {
      issueStatuses.add(`${x.status}${x.body.error ? ` ${x.body.error.code}` : ""}`);
      if (x.status === 200) issued += x.body.issued;
      else assert(x.status >= 400 && x.status < 500, JSON.stringify(x.body));
    }
    assertEquals(issued, sns.length, issueStatuses.toString());
    const sn = sns[0];
    // Each download proves TK with the PIN pad, on a nonce of its own.
    const base = `${a.kmsUrl}/v1/terminals/${sn}`;
    const kms = (m: string, p: string, body?: unknown) => a.call(m, p, body);
    const bodies = await Promise.all(Array.from({ length: CONCURRENT }, async () => {
      const nonce = await kmsNonce(kms, base);
      return { nonce, mac: await poss[0].pinPad.proveTk(sn, nonce) };
    }));
    const downloads = await Promise.all(bodies.map((b) => a.call("POST", `${base}/tmk`, b)));
    const dl = new Tally();
    const blocks = new Set<string>();
    for (const d of downloads) {
      dl.add(`${d.status}${d.body.error ? ` ${d.body.error.code}` : ""}`);
      if (d.status === 200) blocks.add(`${d.body.tmkBlock}/${d.body.tmkKcv}`);
      else assert(d.status >= 400 && d.status < 500, JSON.stringify(d.body));
    }
    assertEquals(blocks.size, 1, dl.toString());
    // The PIN pad takes that TMK and the KMS marks it delivered; afterwards no more downloads.
    const done = await poss[0].downloadTmk();
    assertEquals(done.state, "delivered");
    assertEquals(`${done.kmsKcv}`, [...blocks][0].split("/")[1]);
    figure(
      "tmk-unique-flow-a",
      `${CONCURRENT} concurrent bulk issuances of an order of ${sns.length}: ${issueStatuses}, ` +
        `${issued} TMKs issued in all; ${CONCURRENT} concurrent downloads of one SN: ${dl}, ` +
        `${blocks.size} distinct TMK block`,
    );
  } finally {
    await t.close();
  }
});

Deno.test("10,000 TMKs have distinct full fingerprints (SHA-256 in the HSM)", async () => {
  const n = size(10_000, 10_000);
  const { hsm } = await makeHsm(core);
  const tk = await hsm.generateKey(KEY_TEMPLATES.TK);
  const fingerprints = new Set<string>();
  const kcvs = new Tally();
  for (let i = 0; i < n; i++) {
    const r = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tk.keyBlock);
    fingerprints.add(await hsm.keyHash(r.keyBlock));
    kcvs.add(r.kcv);
  }
  let kcvCollisions = 0;
  for (const [, c] of kcvs.entries()) kcvCollisions += c - 1;
  assertEquals(fingerprints.size, n);
  figure(
    "tmk-unique-fingerprints",
    `${n} TMKs from generateKeyUnderKek: ${fingerprints.size} distinct SHA-256 fingerprints; ` +
      `${
        n - kcvCollisions
      } distinct 3-byte KCVs (${kcvCollisions} KCV collisions, expected by chance)`,
  );
});
