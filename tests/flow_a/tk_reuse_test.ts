/**
 * One TK per terminal, against an insider: at the MTMS, an operator with a
 * valid card uploads a TK already collected for another SN (same order or
 * another one); at the KMS, whoever holds MAK sends a batch (JSON or
 * streamed) giving a TK a terminal already holds, or one TK twice, to a new
 * SN. Each is refused with `tk_reused` naming the SN that holds it, nothing
 * is stored (the store's state hash is unchanged), and the genuine upload
 * or batch succeeds afterwards. The KMS runs as a process on SQLite and, with
 * `KMS_TEST_DATABASE_URL`, on PostgreSQL.
 */
import { assertEquals, assertMatch, assertRejects } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { fromHex, retailMac, toHex } from "../../src/crypto/mod.ts";
import { type BatchEntry, batchMacInput, RemoteError } from "../../src/protocol/mod.ts";
import { openStore } from "../../servers/_lib/store.ts";
import { componentKey } from "../../demo/setup.ts";
import {
  type KmsKeys,
  KmsProcess,
  makeBatch,
  makeKeys,
  streamLines,
  streamMac,
} from "../scale/_kms.ts";
import { makeWorld } from "./_fixture.ts";

const core = await loadCore("wasm");

Deno.test("one TK per terminal at the MTMS: a TK collected for one SN is refused for another", async () => {
  const w = await makeWorld(core, "in-process");
  try {
    for (
      const [orderId, sns] of [["PO-REUSE-1", ["SNR0000001", "SNR0000002"]], [
        "PO-REUSE-2",
        ["SNR0000003"],
      ]] as const
    ) {
      const r = await w.call("POST", `${w.mtmsUrl}/v1/orders`, { orderId, serialNumbers: sns });
      assertEquals(r.status, 201, JSON.stringify(r.body));
    }
    const pos1 = await w.pos("SNR0000001");
    const challenge = pos1.startOperatorAuth();
    const answer = await w.operator.answerChallenge(challenge);
    await pos1.finishOperatorAuth({
      certificate: answer.certificate,
      cryptogram: answer.cryptogram,
    });
    const exp = await pos1.generateAndExportTk(w.mtmsCertificate);
    await w.operator.uploadTk("PO-REUSE-1", "SNR0000001", exp);
    const audit = () => w.logs.mtms.filter((l) => l.includes("tk_reused")).length;
    // The same TK, signed by the operator's card for another SN: same order, then another.
    for (const [orderId, sn] of [["PO-REUSE-1", "SNR0000002"], ["PO-REUSE-2", "SNR0000003"]]) {
      const e = await assertRejects(() => w.operator.uploadTk(orderId, sn, exp), RemoteError);
      assertEquals([e.status, e.code], [409, "tk_reused"]);
      assertMatch(e.message, /already collected for terminal SNR0000001/);
      const slot = await w.call("GET", `${w.mtmsUrl}/v1/orders/${orderId}`);
      assertEquals(slot.body.collected, orderId === "PO-REUSE-1" ? 1 : 0);
    }
    assertEquals(audit(), 2, "each refusal is logged");
    // The same TK again for its own SN is the idempotent repeat it always was.
    assertEquals((await w.operator.uploadTk("PO-REUSE-1", "SNR0000001", exp)).collected, 1);
    // The genuine terminals, each with its own TK, then the transfer.
    await w.collect(await w.pos("SNR0000002"), "PO-REUSE-1");
    const t = await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-REUSE-1/transfer`);
    assertEquals(t.body, { orderId: "PO-REUSE-1", transferred: 2, duplicate: "no" });
  } finally {
    await w.close();
  }
});

/** MAC of a JSON batch: retail MAC under MAK (from its components) over the canonical bytes. */
async function jsonMac(keys: KmsKeys, orderId: string, tks: BatchEntry[]): Promise<string> {
  const parts = keys.mak.map((c) => fromHex(componentKey(c)));
  const mak = parts.reduce((a, b) => a.map((x, i) => x ^ b[i]));
  return toHex(await retailMac(mak, batchMacInput({ orderId, tks }), { padding: 2, core }))
    .toUpperCase();
}

/** Sends a batch as JSON or streamed; returns the status and error code. */
async function send(
  kms: KmsProcess,
  keys: KmsKeys,
  orderId: string,
  tks: BatchEntry[],
  streamed: boolean,
): Promise<{ status: number; code?: string; message?: string }> {
  if (!streamed) {
    const r = await kms.call("POST", "/v1/tk-batches", {
      orderId,
      tks,
      mac: await jsonMac(keys, orderId, tks),
    });
    const err = r.body.error as { code: string; message: string } | undefined;
    return { status: r.status, code: err?.code, message: err?.message };
  }
  const r = await kms.fetch("/v1/tk-batches", {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: streamLines(orderId, tks, await streamMac(keys, orderId, tks)).join(""),
  });
  const j = await r.json();
  return { status: r.status, code: j.error?.code, message: j.error?.message };
}

const pgUrl = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";
for (const backend of ["sqlite", "postgres"] as const) {
  const skip = backend === "postgres" && pgUrl === "" ? "KMS_TEST_DATABASE_URL not set" : "";
  Deno.test({
    name: `one TK per terminal at the KMS (${backend}): a known TK, or one TK twice, for a new SN${
      skip ? ` (skipped: ${skip})` : ""
    }`,
    ignore: skip !== "",
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "tk_reuse_" });
      const db = backend === "sqlite"
        ? `${dir}/kms.db`
        : `${pgUrl}${pgUrl.includes("?") ? "&" : "?"}schema=t_reuse_${
          crypto.randomUUID().replaceAll("-", "").slice(0, 12)
        }`;
      const keys = await makeKeys();
      const kms = await KmsProcess.start(db, keys);
      const store = await openStore(db);
      try {
        const first = await makeBatch(keys, "PO-KREUSE-1", 2);
        assertEquals((await kms.call("POST", "/v1/tk-batches", first.request)).status, 201);
        const fresh = await makeBatch(keys, "PO-KREUSE-2", 2);
        const [held] = first.request.tks;
        const [a, b] = fresh.request.tks;
        const before = await store.stateHash();
        for (const streamed of [false, true]) {
          // A TK that terminal PO-KREUSE-1's first SN holds, given to a new SN.
          const known = await send(kms, keys, "PO-KREUSE-2", [a, { ...held, sn: b.sn }], streamed);
          assertEquals([known.status, known.code], [409, "tk_reused"], known.message);
          assertMatch(known.message!, new RegExp(`already known for terminal ${held.sn}`));
          // One TK for two SNs of the batch.
          const twice = await send(kms, keys, "PO-KREUSE-2", [a, { ...a, sn: b.sn }], streamed);
          assertEquals([twice.status, twice.code], [409, "tk_reused"], twice.message);
          assertMatch(twice.message!, new RegExp(`already known for SN ${a.sn}`));
          assertEquals(await store.stateHash(), before, "nothing stored, no audit record");
        }
        assertEquals(
          (await kms.call("GET", `/v1/terminals/${b.sn}`, undefined, keys.token)).status,
          404,
        );
        // The genuine batch, each terminal with its own TK.
        const ok = await kms.call("POST", "/v1/tk-batches", fresh.request);
        assertEquals([ok.status, ok.body.accepted], [201, 2]);
      } finally {
        await store.close();
        await kms.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
