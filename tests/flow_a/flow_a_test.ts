/**
 * Flow A (CN103714639A S1-S17) through the real servers, HSMs, store and
 * devices: the whole path, then every fault a terminal or operator can meet, each with
 * its exact status and error code, in-process and over real sockets.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { allCores, hex, toHex } from "../_helpers.ts";
import {
  AuthenticationError,
  batchMacInput,
  IntegrityError,
  tkUploadSigningInput,
} from "../../src/protocol/mod.ts";
import { retailMac } from "../../src/crypto/mod.ts";
import { openSqliteStore } from "../../src/store/mod.ts";
import { pinPadTestHarness } from "../../devices/pin_pad.ts";
import type { OperatorCard } from "../../devices/operator_card.ts";
import { type Json, makeWorld, type Mode, type World } from "./_fixture.ts";
import { ackBody, kmsNonce } from "../_device_proof.ts";
import type { PosTerminal } from "../../devices/pos_terminal.ts";
import { componentKey } from "../../demo/setup.ts";

/**
 * In-process on every core; over real sockets on the default (wasm) core only: the socket
 * path is the same for every core, and the js core's RSA key generation is slow.
 */
function modesFor(coreName: string, names: string[]): Mode[] {
  const socketCore = names.includes("wasm") ? "wasm" : names[0];
  return coreName === socketCore ? ["in-process", "socket"] : ["in-process"];
}

async function orderOf(w: World, orderId: string, sns: string[]) {
  const r = await w.call("POST", `${w.mtmsUrl}/v1/orders`, { orderId, serialNumbers: sns });
  assertEquals(r.status, 201, JSON.stringify(r.body));
}

/** A world with one order whose terminals went through S1-S15 (issued, not downloaded). */
async function issuedWorld(w: World, orderId: string, sns: string[]) {
  await orderOf(w, orderId, sns);
  const terminals = [];
  for (const sn of sns) {
    const pos = await w.pos(sn);
    await w.collect(pos, orderId);
    terminals.push(pos);
  }
  const t = await w.call("POST", `${w.mtmsUrl}/v1/orders/${orderId}/transfer`);
  assertEquals(t.status, 200, JSON.stringify(t.body));
  const i = await w.call("POST", `${w.kmsUrl}/v1/orders/${orderId}/tmks`);
  assertEquals(i.status, 200, JSON.stringify(i.body));
  return terminals;
}

const cores = await allCores();
for (const core of cores) {
  for (const mode of modesFor(core.name, cores.map((c) => c.name))) {
    Deno.test(`flow A ${mode} (${core.name}): S1-S17 for an order of 3, KCVs agree on both sides`, async () => {
      const w = await makeWorld(core, mode);
      try {
        const sns = ["SN00000001", "SN00000002", "SN00000003"];
        const terminals = await issuedWorld(w, "PO-TEST-1", sns);
        const status = await w.call("GET", `${w.mtmsUrl}/v1/orders/PO-TEST-1`);
        assertEquals(status.body, {
          orderId: "PO-TEST-1",
          terminals: 3,
          collected: 3,
          state: "transferred",
        });
        for (const pos of terminals) {
          const d = await pos.downloadTmk();
          assertEquals(d.state, "delivered");
          assertEquals(d.kmsKcv, d.pinPadKcv);
          const s = await w.call("GET", `${w.kmsUrl}/v1/terminals/${pos.sn}`);
          assertEquals(s.status, 200);
          assertEquals(s.body.state, "delivered");
          assertEquals(s.body.tmkKcv, pos.pinPad.state().tmkKcv);
          assertEquals(s.body.tkKcv, pos.pinPad.state().tkKcv);
          // the KMS's TMK is the PIN pad's TMK: same KCV computed by the test from the clear key
          const keys = await pinPadTestHarness(pos.pinPad).clearKeys();
          assert(keys.tmk !== undefined && keys.tmk.length === 16);
        }
        // a second issuance issues nothing more
        const again = await w.call("POST", `${w.kmsUrl}/v1/orders/PO-TEST-1/tmks`);
        assertEquals(again.body, {
          orderId: "PO-TEST-1",
          issued: 0,
          alreadyIssued: 3,
          terminals: 3,
        });
        // a second transfer is idempotent
        const t2 = await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-TEST-1/transfer`);
        assertEquals(t2.body, { orderId: "PO-TEST-1", transferred: 3, duplicate: "yes" });
        // OpenAPI of both servers lists their routes
        const ko = await w.call("GET", `${w.kmsUrl}/openapi.json`);
        assertEquals(
          Object.keys(ko.body.paths).sort(),
          [
            "/healthz",
            "/openapi.json",
            "/v1/approvals",
            "/v1/approvals/{approvalId}",
            "/v1/approvals/{approvalId}/approve",
            "/v1/audit/checkpoints",
            "/v1/audit/export",
            "/v1/audit/verify",
            "/v1/kms-ca",
            "/v1/operators",
            "/v1/operators/{operatorId}/disable",
            "/v1/orders/{orderId}/tmks",
            "/v1/server-keys",
            "/v1/server-keys/{name}/rotate",
            "/v1/server-keys/{name}/versions/{version}",
            "/v1/terminals/{sn}",
            "/v1/terminals/{sn}/tmk",
            "/v1/terminals/{sn}/tmk/ack",
            "/v1/terminals/{sn}/tmk/challenge",
            "/v1/tk-batches",
          ],
        );
        const mo = await w.call("GET", `${w.mtmsUrl}/openapi.json`);
        assert("/v1/orders/{orderId}/tks" in mo.body.paths);
        assertEquals((await w.call("GET", `${w.kmsUrl}/healthz`)).status, 200);
        // every security event is in the append-only audit logs
        const kmsEvents = await auditEvents(`${w.dir}/kms.db`);
        for (
          const e of [
            "lmk_loaded",
            "tk_batch_imported",
            "tk_imported",
            "tmk_issued",
            "tmk_sent",
            "tmk_delivered",
          ]
        ) {
          assert(kmsEvents.includes(`${e}:success`), `KMS audit has ${e}: ${kmsEvents.join(" ")}`);
        }
        assertEquals(kmsEvents.filter((e) => e === "tmk_delivered:success").length, 3);
        const mtmsEvents = await auditEvents(`${w.dir}/mtms.db`);
        for (const e of ["lmk_loaded", "order_created", "tk_collected", "order_transferred"]) {
          assert(
            mtmsEvents.includes(`${e}:success`),
            `MTMS audit has ${e}: ${mtmsEvents.join(" ")}`,
          );
        }
      } finally {
        await w.close();
      }
    });

    Deno.test(`flow A ${mode} (${core.name}): each bad input or fault gets its 4xx and nothing half-done`, async () => {
      const w = await makeWorld(core, mode);
      try {
        const [a, b] = await issuedWorld(w, "PO-FAULT-1", ["SNA0000001", "SNA0000002"]);
        // --- MTMS: order, SN, certificate, signature, time, hash ---
        await orderOf(w, "PO-FAULT-2", ["SNB0000001", "SNB0000002"]);
        const pos = await w.pos("SNB0000001");
        const challenge = pos.startOperatorAuth();
        const answer = await w.operator.answerChallenge(challenge);
        await pos.finishOperatorAuth({
          certificate: answer.certificate,
          cryptogram: answer.cryptogram,
        });
        const exp = await pos.generateAndExportTk(w.mtmsCertificate);
        const good = await signedUpload(w, w.card, "PO-FAULT-2", "SNB0000001", exp);
        const otherCa = await w.pki.foreignOperator();
        const expired = await w.pki.issueOperator("Operator 0099", { expired: true });
        const kms = (m: string, p: string, body?: unknown) => w.call(m, p, body);
        const cases: [string, () => Promise<{ status: number; body: Json }>, number, string][] = [
          [
            "upload: malformed hex",
            () => post(w, "PO-FAULT-2", { ...good, tkKcv: "zz0000" }),
            400,
            "invalid_field",
          ],
          [
            "upload: wrong length",
            () => post(w, "PO-FAULT-2", { ...good, tkHash: good.tkHash.slice(2) }),
            400,
            "invalid_field",
          ],
          ["upload: unknown order", () => post(w, "PO-NOPE", good), 404, "unknown_order"],
          [
            "upload: SN not in order",
            () => post(w, "PO-FAULT-2", { ...good, sn: "SNZ9999999" }),
            404,
            "unknown_terminal",
          ],
          [
            "upload: certificate from another CA",
            async () =>
              post(
                w,
                "PO-FAULT-2",
                await signedUpload(w, otherCa.card, "PO-FAULT-2", "SNB0000001", exp),
              ),
            401,
            "certificate_untrusted",
          ],
          [
            "upload: expired certificate",
            async () =>
              post(
                w,
                "PO-FAULT-2",
                await signedUpload(w, expired.card, "PO-FAULT-2", "SNB0000001", exp),
              ),
            401,
            "certificate_expired",
          ],
          [
            "upload: wrong signature",
            () => post(w, "PO-FAULT-2", { ...good, tkKcv: flipHex(good.tkKcv) }),
            401,
            "signature_invalid",
          ],
          [
            "upload: signed too long ago",
            async () =>
              post(
                w,
                "PO-FAULT-2",
                await signedUpload(w, w.card, "PO-FAULT-2", "SNB0000001", exp, -600_000),
              ),
            401,
            "time_outside_window",
          ],
          [
            "upload: TK hash does not match",
            async () =>
              post(
                w,
                "PO-FAULT-2",
                await signedUpload(w, w.card, "PO-FAULT-2", "SNB0000001", {
                  ...exp,
                  tkHash: flipHex(exp.tkHash),
                }),
              ),
            422,
            "tk_hash_mismatch",
          ],
          [
            "upload: oversized body",
            () => post(w, "PO-FAULT-2", { ...good, signature: "A".repeat(40_000) }),
            413,
            "body_too_large",
          ],
          [
            "transfer: incomplete order",
            () => w.call("POST", `${w.mtmsUrl}/v1/orders/PO-FAULT-2/transfer`),
            409,
            "order_incomplete",
          ],
          [
            "transfer: no token",
            () => w.call("POST", `${w.mtmsUrl}/v1/orders/PO-FAULT-2/transfer`, undefined, null),
            401,
            "unauthorized",
          ],
          // --- KMS ---
          [
            "batch: bad MAC",
            () =>
              w.call("POST", `${w.kmsUrl}/v1/tk-batches`, {
                orderId: "PO-FAULT-9",
                tks: [{
                  sn: "SNC0000001",
                  tkBlock:
                    "B0080K0TB00E00001234567890ABCDEF1234567890ABCDEF1234567890ABCDEF1234567890ABCDEF",
                  tkKcv: "000000",
                  tkHash: "00".repeat(32),
                }],
                mac: "0000000000000000",
              }),
            422,
            "mac_invalid",
          ],
          [
            "issue: unknown order",
            () => w.call("POST", `${w.kmsUrl}/v1/orders/PO-NOPE/tmks`),
            404,
            "unknown_order",
          ],
          [
            "issue: wrong token",
            () =>
              w.call(
                "POST",
                `${w.kmsUrl}/v1/orders/PO-FAULT-1/tmks`,
                undefined,
                "not-the-operator-secret",
              ),
            401,
            "unauthorized",
          ],
          [
            "download: unknown SN",
            async () =>
              w.call("POST", `${w.kmsUrl}/v1/terminals/SNZ9999999/tmk`, {
                nonce: await kmsNonce(kms, `${w.kmsUrl}/v1/terminals/SNZ9999999`),
                mac: "00".repeat(8),
              }),
            404,
            "unknown_terminal",
          ],
          [
            "download: malformed SN",
            () =>
              w.call("POST", `${w.kmsUrl}/v1/terminals/sn-1/tmk`, {
                nonce: "00".repeat(32),
                mac: "00".repeat(8),
              }),
            400,
            "invalid_field",
          ],
          [
            "ack: before download",
            async () =>
              w.call("POST", `${w.kmsUrl}/v1/terminals/${b.sn}/tmk/ack`, {
                tmkKcv: "000000",
                nonce: await kmsNonce(kms, `${w.kmsUrl}/v1/terminals/${b.sn}`),
                mac: "00".repeat(8),
              }),
            409,
            "not_sent",
          ],
          [
            "ack: malformed KCV",
            () =>
              w.call("POST", `${w.kmsUrl}/v1/terminals/${b.sn}/tmk/ack`, {
                tmkKcv: "00000",
                nonce: "00".repeat(32),
                mac: "00".repeat(8),
              }),
            400,
            "invalid_field",
          ],
          [
            "status: no token",
            () => w.call("GET", `${w.kmsUrl}/v1/terminals/${a.sn}`, undefined, null),
            401,
            "unauthorized",
          ],
          [
            "status: never keys",
            async () => {
              const r = await w.call("GET", `${w.kmsUrl}/v1/terminals/${a.sn}`);
              assertEquals(Object.keys(r.body).sort(), [
                "orderId",
                "sn",
                "state",
                "tkKcv",
                "tmkKcv",
                "updatedAt",
              ]);
              return { status: 418, body: { error: { code: "checked" } } };
            },
            418,
            "checked",
          ],
        ];
        for (const [name, run, status, code] of cases) {
          const r = await run();
          assertEquals(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
          assertEquals(r.body.error?.code, code, name);
        }
        // nothing half-done: the MTMS still has 0 of 2 for PO-FAULT-2, and the good upload works
        assertEquals((await w.call("GET", `${w.mtmsUrl}/v1/orders/PO-FAULT-2`)).body.collected, 0);
        assertEquals((await post(w, "PO-FAULT-2", good)).status, 201);
        assertEquals(
          (await post(w, "PO-FAULT-2", good)).status,
          200,
          "the same upload again is idempotent",
        );

        // --- download before issuance, after delivery; KCV mismatch ---
        const d = await a.downloadTmk();
        assertEquals(d.state, "delivered");
        const again = await w.call(
          "POST",
          `${w.kmsUrl}/v1/terminals/${a.sn}/tmk`,
          await genuineDownload(w, a),
        );
        assertEquals([again.status, again.body.error.code], [409, "already_delivered"]);
        const dl = await w.call(
          "POST",
          `${w.kmsUrl}/v1/terminals/${b.sn}/tmk`,
          await genuineDownload(w, b),
        );
        assertEquals(dl.status, 200);
        // The holder of TMK acknowledges with a wrong KCV (its MAC covers that KCV).
        await b.pinPad.installTmk(dl.body);
        const tmkB = (await pinPadTestHarness(b.pinPad).clearKeys()).tmk!;
        const wrong = await w.call(
          "POST",
          `${w.kmsUrl}/v1/terminals/${b.sn}/tmk/ack`,
          await ackBody(tmkB, b.sn, dl.body.ackNonce, core, flipHex(dl.body.tmkKcv)),
        );
        assertEquals([wrong.status, wrong.body.error.code], [422, "kcv_mismatch"]);
        const st = await w.call("GET", `${w.kmsUrl}/v1/terminals/${b.sn}`);
        assertEquals(st.body.state, "tmk_sent", "a wrong ack changes nothing");

        // --- a second, different batch for the same order ---
        await orderOf(w, "PO-FAULT-3", ["SND0000001"]);
        const p3 = await w.pos("SND0000001");
        await w.collect(p3, "PO-FAULT-3");
        assertEquals(
          (await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-FAULT-3/transfer`)).status,
          200,
        );
        const before = await w.call(
          "POST",
          `${w.kmsUrl}/v1/terminals/SND0000001/tmk`,
          await genuineDownload(w, p3),
        );
        assertEquals([before.status, before.body.error.code], [409, "not_issued"]);
        // a batch with a valid MAC (the test knows MAK) but other content than the stored one
        const tks = [{
          sn: "SND0000001",
          tkBlock: "B0080K0TB00E0000" + "0".repeat(64),
          tkKcv: "000000",
          tkHash: "00".repeat(32),
        }];
        const mak = xorComponents(w.components.mak);
        const mac = toHex(
          await retailMac(mak, batchMacInput({ orderId: "PO-FAULT-3", tks }), { padding: 2, core }),
        );
        const conflict = await w.call("POST", `${w.kmsUrl}/v1/tk-batches`, {
          orderId: "PO-FAULT-3",
          tks,
          mac,
        });
        assertEquals([conflict.status, conflict.body.error.code], [409, "batch_conflict"]);
      } finally {
        await w.close();
      }
    });
  }

  Deno.test(`flow A devices (${core.name}): operator card removed, replayed Rnd, window, TK hash`, async () => {
    const w = await makeWorld(core, "in-process");
    try {
      const pos = await w.pos("SNE0000001");
      // card removed: S2 refuses
      w.card.remove();
      const ch = pos.startOperatorAuth();
      const e1 = await assertRejects(() => w.operator.answerChallenge(ch), AuthenticationError);
      assertEquals(e1.code, "card_absent");
      w.operator.insertCard(w.card);
      // no TK without authentication
      const e2 = await assertRejects(
        () => pos.generateAndExportTk(w.mtmsCertificate),
        AuthenticationError,
      );
      assertEquals(e2.code, "not_authenticated");
      // a replayed answer fails even inside the window
      const ch2 = pos.startOperatorAuth();
      const ans = await w.operator.answerChallenge(ch2);
      await pos.finishOperatorAuth({ certificate: ans.certificate, cryptogram: ans.cryptogram });
      const e3 = await assertRejects(
        () => pos.finishOperatorAuth({ certificate: ans.certificate, cryptogram: ans.cryptogram }),
        AuthenticationError,
      );
      assertEquals(e3.code, "rnd_unknown");
      pos.startOperatorAuth();
      const e4 = await assertRejects(
        () => pos.finishOperatorAuth({ certificate: ans.certificate, cryptogram: ans.cryptogram }),
        AuthenticationError,
      );
      assertEquals(e4.code, "rnd_mismatch");
      // an operator from another CA and an expired card fail S6
      for (
        const [card, code] of [
          [(await w.pki.foreignOperator()).card, "certificate_untrusted"],
          [
            (await w.pki.issueOperator("Operator 0099", { expired: true })).card,
            "certificate_expired",
          ],
        ] as [OperatorCard, string][]
      ) {
        const c = pos.startOperatorAuth();
        w.operator.insertCard(card);
        const a2 = await w.operator.answerChallenge(c);
        const e = await assertRejects(
          () => pos.finishOperatorAuth({ certificate: a2.certificate, cryptogram: a2.cryptogram }),
          AuthenticationError,
        );
        assertEquals(e.code, code);
      }
      w.operator.insertCard(w.card);
      // an MTMS certificate from another CA is refused by the PIN pad
      const c5 = pos.startOperatorAuth();
      const a5 = await w.operator.answerChallenge(c5);
      await pos.finishOperatorAuth({ certificate: a5.certificate, cryptogram: a5.cryptogram });
      await pos.pinPad.generateTk();
      const e5 = await assertRejects(
        () => pos.pinPad.exportTk(w.pki.foreignOperatorCertificate),
        AuthenticationError,
      );
      assertEquals(e5.code, "certificate_untrusted");
      // a TK whose hash no longer matches is refused on export and on use
      await pinPadTestHarness(pos.pinPad).corruptTk();
      const e6 = await assertRejects(() => pos.pinPad.exportTk(w.mtmsCertificate), IntegrityError);
      assertEquals(e6.code, "tk_hash_mismatch");
      const e7 = await assertRejects(
        () =>
          pos.pinPad.installTmk({
            sn: pos.sn,
            tmkBlock: "B0080K0TB00E0000" + "0".repeat(64),
            tmkKcv: "000000",
          }),
        IntegrityError,
      );
      assertEquals(e7.code, "tk_hash_mismatch");
    } finally {
      await w.close();
    }
  });

  Deno.test(`flow A (${core.name}): KMS down, then two different batches for one order at once`, async () => {
    const w = await makeWorld(core, "in-process");
    try {
      await orderOf(w, "PO-RACE-1", ["SNG0000001", "SNG0000002", "SNG0000003"]);
      for (const sn of ["SNG0000001", "SNG0000002", "SNG0000003"]) {
        await w.collect(await w.pos(sn), "PO-RACE-1");
      }
      // the KMS is unreachable: the transfer fails with 502, the order stays open, and no
      // batch leaves the MTMS (the key version check comes first)
      w.kmsDown = true;
      const down = await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-RACE-1/transfer`);
      assertEquals([down.status, down.body.error.code], [502, "kms_refused"]);
      assertEquals(
        (await w.call("GET", `${w.mtmsUrl}/v1/orders/PO-RACE-1`)).body.state,
        "collecting",
      );
      assertEquals(w.mtmsToKms.filter((x) => x.requestBody).length, 0);
      // the KMS fails on the batch itself: the same answer, the order still open
      w.kmsDown = (r) => r.method === "POST";
      const lost = await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-RACE-1/transfer`);
      assertEquals([lost.status, lost.body.error.code], [502, "kms_refused"]);
      assertEquals(
        (await w.call("GET", `${w.mtmsUrl}/v1/orders/PO-RACE-1`)).body.state,
        "collecting",
      );
      w.kmsDown = false;
      // the batch the MTMS sent, and the same TKs in another order with a valid MAC: another body
      const a = JSON.parse(w.mtmsToKms.at(-1)!.requestBody);
      const tks = [...a.tks].reverse();
      const mac = toHex(
        await retailMac(
          xorComponents(w.components.mak),
          batchMacInput({ orderId: "PO-RACE-1", tks }),
          {
            padding: 2,
            core,
          },
        ),
      );
      const b = { orderId: "PO-RACE-1", tks, mac };
      const results = await Promise.all([
        w.call("POST", `${w.kmsUrl}/v1/tk-batches`, a),
        w.call("POST", `${w.kmsUrl}/v1/tk-batches`, b),
      ]);
      const statuses = results.map((r) => r.status).sort();
      assertEquals(statuses, [201, 409], JSON.stringify(results.map((r) => r.body)));
      assertEquals(results.find((r) => r.status === 409)!.body.error.code, "batch_conflict");
      // exactly one batch is stored: the order's three terminals, once
      const issued = await w.call("POST", `${w.kmsUrl}/v1/orders/PO-RACE-1/tmks`);
      assertEquals(issued.body, {
        orderId: "PO-RACE-1",
        issued: 3,
        alreadyIssued: 0,
        terminals: 3,
      });
    } finally {
      await w.close();
    }
  });

  Deno.test(`flow A (${core.name}): a KMS restarted on the same database carries on`, async () => {
    const w = await makeWorld(core, "in-process");
    try {
      await orderOf(w, "PO-RESTART", ["SNF0000001", "SNF0000002"]);
      const terminals = [await w.pos("SNF0000001"), await w.pos("SNF0000002")];
      for (const p of terminals) await w.collect(p, "PO-RESTART");
      assertEquals(
        (await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-RESTART/transfer`)).status,
        200,
      );
      await w.restartKms();
      assertEquals((await w.call("POST", `${w.kmsUrl}/v1/orders/PO-RESTART/tmks`)).body.issued, 2);
      const d1 = await terminals[0].downloadTmk();
      assertEquals(d1.state, "delivered");
      await w.restartKms();
      const again = await w.call(
        "POST",
        `${w.kmsUrl}/v1/terminals/SNF0000001/tmk`,
        await genuineDownload(w, terminals[0]),
      );
      assertEquals(again.body.error.code, "already_delivered");
      const d2 = await terminals[1].downloadTmk();
      assertEquals(d2.kmsKcv, d2.pinPadKcv);
      // the same transfer after the restart is still idempotent
      const t2 = await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-RESTART/transfer`);
      assertEquals(t2.body.duplicate, "yes");
    } finally {
      await w.close();
    }
  });
}

/** `event:outcome` of every audit record of a database (a second connection, read only). */
async function auditEvents(path: string): Promise<string[]> {
  const store = await openSqliteStore(path);
  try {
    return (await store.listAudit({ limit: 10000 })).map((r) => `${r.event}:${r.outcome}`);
  } finally {
    await store.close();
  }
}

/** The body of a download by `pos`'s PIN pad: a fresh nonce and its proof of TK. */
async function genuineDownload(
  w: World,
  pos: PosTerminal,
): Promise<{ nonce: string; mac: string }> {
  const nonce = await kmsNonce((m, p, b) => w.call(m, p, b), `${w.kmsUrl}/v1/terminals/${pos.sn}`);
  return { nonce, mac: await pos.pinPad.proveTk(pos.sn, nonce) };
}

function flipHex(h: string): string {
  const last = parseInt(h[h.length - 1], 16) ^ 1;
  return h.slice(0, -1) + last.toString(16).toUpperCase();
}

function post(w: World, orderId: string, body: unknown) {
  return w.call("POST", `${w.mtmsUrl}/v1/orders/${orderId}/tks`, body, null);
}

async function signedUpload(
  _w: World,
  card: OperatorCard,
  orderId: string,
  sn: string,
  exp: { encryptedTk: string; tkKcv: string; tkHash: string },
  skewMs = 0,
) {
  const fields = {
    sn,
    encryptedTk: exp.encryptedTk,
    tkKcv: exp.tkKcv,
    tkHash: exp.tkHash,
    signedAt: new Date(Date.now() + skewMs).toISOString(),
  };
  const signature = toHex(await card.sign(tkUploadSigningInput(orderId, fields)));
  return { ...fields, operatorCertificate: card.certificate(), signature };
}

function xorComponents(components: string[]): Uint8Array {
  const out = hex(componentKey(components[0]));
  for (const c of components.slice(1)) {
    const b = hex(componentKey(c));
    for (let i = 0; i < out.length; i++) out[i] ^= b[i];
  }
  return out;
}
