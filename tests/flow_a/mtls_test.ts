/**
 * TLS on the wire of flow A, over real sockets: S14 (`POST /v1/tk-batches`,
 * JSON and streamed) needs the MTMS's client certificate (mutual TLS); one
 * missing, from another CA, of another purpose, or revoked (after the KMS
 * reloads its CRL, on a connection kept open) is refused with a precise
 * 401/403 and nothing is stored; devices refuse a KMS whose certificate
 * comes from another CA; the genuine MTMS and devices succeed.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import { loadCore } from "../../src/core/mod.ts";
import { tlsTransport, type Transport } from "../../src/protocol/mod.ts";
import { listen } from "../../servers/_lib/listener.ts";
import { PosTerminal } from "../../devices/pos_terminal.ts";
import { PinPad } from "../../devices/pin_pad.ts";
import { makeWorld, type World } from "./_fixture.ts";

const core = await loadCore("wasm");

async function collected(w: World, orderId: string, sns: string[]) {
  const r = await w.call("POST", `${w.mtmsUrl}/v1/orders`, { orderId, serialNumbers: sns });
  assertEquals(r.status, 201, JSON.stringify(r.body));
  const terminals = [];
  for (const sn of sns) {
    const pos = await w.pos(sn);
    await w.collect(pos, orderId);
    terminals.push(pos);
  }
  return terminals;
}

/** What the KMS stores: terminals, batches, staged TKs, audit records. */
function kmsState(w: World): Record<string, number> {
  const d = new DatabaseSync(`${w.dir}/kms.db`, { readOnly: true });
  try {
    const n = (t: string) =>
      Number((d.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n);
    return {
      terminals: n("terminals"),
      batches: n("tk_batches"),
      staged: n("tk_staging"),
      audit: n("audit_log"),
    };
  } finally {
    d.close();
  }
}

/** POSTs a batch to S14 through `transport`: JSON, or the same batch streamed. */
async function postBatch(
  transport: Transport,
  url: string,
  batch: { orderId: string; tks: unknown[]; mac: string },
  streamed: boolean,
): Promise<{ status: number; code: string; message: string }> {
  const body = streamed
    ? [{ orderId: batch.orderId, tks: batch.tks.length }, ...batch.tks, { mac: batch.mac }]
      .map((l) => `${JSON.stringify(l)}\n`).join("")
    : JSON.stringify(batch);
  const r = await transport(
    new Request(`${url}/v1/tk-batches`, {
      method: "POST",
      headers: { "content-type": streamed ? "application/x-ndjson" : "application/json" },
      body,
    }),
  );
  const j = await r.json();
  return { status: r.status, code: j.error?.code, message: j.error?.message };
}

Deno.test("mutual TLS: S14 refuses no, foreign, wrong-purpose and revoked client certificates", async () => {
  const w = await makeWorld(core, "socket", { streamAbove: 1 });
  const foreign = tlsTransport(
    [w.pki.rootPem],
    await w.pki.issueTls("mtms-client", "MTMS", {
      foreign: true,
    }),
  );
  // A certificate of the CA, but a server's (serverAuth), not the MTMS's client certificate.
  const wrongPurpose = tlsTransport(
    [w.pki.rootPem],
    await w.pki.issueTls("kms-server", "localhost"),
  );
  try {
    const [pos] = await collected(w, "PO-MTLS-1", ["SNT0000001"]);
    await collected(w, "PO-MTLS-2", ["SNT0000002", "SNT0000003"]);
    // The genuine MTMS: mutual TLS and the MAC under MAK.
    const t1 = await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-MTLS-1/transfer`);
    assertEquals(t1.body, { orderId: "PO-MTLS-1", transferred: 1, duplicate: "no" });
    const sent = JSON.parse(w.mtmsToKms.at(-1)!.requestBody);
    // The same TKs and MAC offered for another order, by parties without the MTMS's certificate.
    const other = { ...sent, orderId: "PO-MTLS-9" };
    const before = kmsState(w);
    for (const streamed of [false, true]) {
      const none = await postBatch(w.tls!.devices.transport, w.kmsUrl, other, streamed);
      assertEquals([none.status, none.code], [401, "client_certificate_required"]);
      const alien = await postBatch(foreign.transport, w.kmsUrl, other, streamed);
      assertEquals([alien.status, alien.code], [403, "client_certificate_invalid"]);
      const server = await postBatch(wrongPurpose.transport, w.kmsUrl, other, streamed);
      assertEquals([server.status, server.code], [403, "client_certificate_wrong_purpose"]);
    }
    assertEquals(kmsState(w), before);
    // The CA revokes the MTMS's client certificate; the KMS reloads its CRL (no restart).
    await w.tls!.revoke([w.tls!.mtmsClient.serialNumber]);
    const t2 = await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-MTLS-2/transfer`);
    assertEquals([t2.status, t2.body.error.code], [502, "kms_refused"]);
    assertMatch(t2.body.error.message, /403 client_certificate_revoked/);
    for (const streamed of [false, true]) {
      const revoked = await postBatch(w.tls!.mtmsToKms.transport, w.kmsUrl, other, streamed);
      assertEquals([revoked.status, revoked.code], [403, "client_certificate_revoked"]);
    }
    assertEquals(kmsState(w), before);
    assertEquals(
      (await w.call("GET", `${w.mtmsUrl}/v1/orders/PO-MTLS-2`)).body.state,
      "collecting",
    );
    assertEquals((await w.call("GET", `${w.kmsUrl}/v1/terminals/SNT0000002`)).status, 404);
    // Devices need no client certificate: the order that arrived is delivered.
    const i = await w.call("POST", `${w.kmsUrl}/v1/orders/PO-MTLS-1/tmks`);
    assertEquals(i.body.issued, 1);
    const d = await pos.downloadTmk();
    assertEquals(d.state, "delivered");
    assert(w.logs.kms.some((l) => l.includes("tls.client_certificate_refused")));
  } finally {
    foreign.close();
    wrongPurpose.close();
    await w.close();
  }
});

Deno.test("devices refuse a KMS whose certificate comes from another CA, then reach the real one", async () => {
  const w = await makeWorld(core, "socket");
  // An impostor between the terminal and the KMS, with a certificate from another root: it
  // would relay each request to the real KMS.
  let relayed = 0;
  const closers: (() => void)[] = [];
  const impostor = await listen(
    (r) => {
      relayed++;
      const u = new URL(r.url);
      return w.transport(new Request(`${w.kmsUrl}${u.pathname}`, r));
    },
    { tls: await w.pki.issueTls("kms-server", "localhost", { foreign: true }) },
  );
  try {
    const [sn] = ["SNT0000011"];
    const r = await w.call("POST", `${w.mtmsUrl}/v1/orders`, {
      orderId: "PO-MTLS-3",
      serialNumbers: [sn],
    });
    assertEquals(r.status, 201);
    const pinPad = await PinPad.create({ root: w.pki.rootPem, core });
    // The terminal's own connections, trusting the root written at flashing. (A transport that
    // already spoke to the real KMS could resume that TLS session with the impostor here, as
    // both servers run in this one process and share its session ticket key.)
    const own = tlsTransport([w.pki.rootPem]);
    closers.push(own.close);
    const fooled = new PosTerminal({
      sn,
      pinPad,
      transport: own.transport,
      kmsUrl: `https://localhost:${impostor.port}`,
    });
    await w.collect(fooled, "PO-MTLS-3");
    assertEquals(
      (await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-MTLS-3/transfer`)).body.transferred,
      1,
    );
    assertEquals((await w.call("POST", `${w.kmsUrl}/v1/orders/PO-MTLS-3/tmks`)).body.issued, 1);
    // The TLS handshake fails on the device's side: not a byte of the request reaches the impostor.
    await assertRejects(() => fooled.downloadTmk(), TypeError);
    assertEquals(relayed, 0);
    const status = await w.call("GET", `${w.kmsUrl}/v1/terminals/${sn}`);
    assertEquals(status.body.state, "tmk_issued");
    // The same PIN pad through the real KMS.
    const genuine = new PosTerminal({ sn, pinPad, transport: own.transport, kmsUrl: w.kmsUrl });
    assertEquals((await genuine.downloadTmk()).state, "delivered");
  } finally {
    for (const c of closers) c();
    await impostor.shutdown();
    await w.close();
  }
});
