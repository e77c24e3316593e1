/**
 * TR-34 2-pass between the KMS (KDH, its key a block under the LMK, the TMK
 * enveloped inside the HSM) and simulated PIN pads (KRD) over a real socket,
 * on SQLite and, with `KMS_TEST_DATABASE_URL`, on PostgreSQL: every
 * terminal delivered with the same KCV on both sides, the TMK recorded and
 * audited, the routes in the OpenAPI document, and afterwards no clear key
 * (TMKs, KRD private keys, LMK and its components) in the database, the KMS
 * log or any HTTP body. Then each refusal through the server with its
 * TR-34 code: a replayed random number (at the KMS and at the PIN pad), a
 * token for another KRD, a KRD certificate for another SN, a revoked KDH
 * certificate, a key block header the TMK slot's use forbids; and a TR-34
 * terminal is kept out of the other flows' routes, and a flow B one out of
 * TR-34's. The acknowledgement proves possession of the TMK: an outsider
 * with the KCV only, another terminal's proof or a replayed one is refused,
 * counted, and changes nothing; the genuine PIN pad is then delivered. A KDH
 * whose key block or certificate does not check out keeps the KMS from
 * starting.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { importPkcs8Der, toHex } from "../../src/crypto/mod.ts";
import {
  callJson,
  type Exchange,
  fetchTransport,
  HsmKeyResponse,
  type RemoteError,
  Tr34KeyTokenResponse,
  Tr34TerminalStatus,
  ValidationError,
} from "../../src/protocol/mod.ts";
import { TMK_POLICY, Tr34Error } from "../../src/tr34/mod.ts";
import { type PinPadTr34, pinPadTr34TestHarness } from "../../devices/pin_pad_tr34.ts";
import { Tr34Terminal } from "../../devices/pos_tr34.ts";
import { makeDemoPki, randomComponents } from "../../demo/setup.ts";
import { kdhForKms } from "../../demo/tr34.ts";
import { jsonLogger } from "../../servers/_lib/mod.ts";
import { createKms } from "../../servers/kms/main.ts";
import { allCores } from "../_helpers.ts";
import { dumpDatabase, PG_URL, startTr34Kms, type Tr34Kms } from "./_kms.ts";

const [core] = await allCores();
const pki = await makeDemoPki(core);

function terminal(k: Tr34Kms, sn: string, pad: Tr34Terminal["pinPad"], seen?: Exchange[]) {
  return new Tr34Terminal({
    sn,
    pinPad: pad,
    transport: fetchTransport,
    kmsUrl: k.url,
    observe: seen ? (e) => seen.push(e) : undefined,
  });
}

async function post(url: string, body: unknown): Promise<{ status: number; code?: string }> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const j = await r.json();
  return { status: r.status, code: j.error?.code };
}

/** Every 8-byte window of every secret, upper and lower hex and base64, found in `text`. */
function leaks(secrets: Uint8Array[], text: string): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    for (let i = 0; i + 8 <= s.length; i += 4) {
      const w = s.subarray(i, i + 8);
      for (const n of [toHex(w), toHex(w).toLowerCase(), btoa(String.fromCharCode(...w))]) {
        if (text.includes(n)) found.push(n);
      }
    }
  }
  return found;
}

const backends = [{ name: "SQLite", postgres: false }];
if (PG_URL) backends.push({ name: "PostgreSQL", postgres: true });

for (const b of backends) {
  Deno.test(`TR-34 over a socket on ${b.name}: delivered, recorded, audited, no clear key anywhere`, async () => {
    const k = await startTr34Kms(core, pki, { postgres: b.postgres });
    const seen: Exchange[] = [];
    try {
      const pads: PinPadTr34[] = [];
      for (const sn of ["TS00000001", "TS00000002"]) {
        const pad = await k.newPad(sn);
        pads.push(pad);
        const r = await terminal(k, sn, pad, seen).run();
        assertEquals([r.state, r.kmsKcv], ["delivered", r.pinPadKcv]);
        const s = await callJson(
          fetchTransport,
          "GET",
          `${k.url}/v1/terminals/${sn}`,
          undefined,
          Tr34TerminalStatus,
          { token: k.token },
        );
        assertEquals([s.body.flow, s.body.state, s.body.tmkKcv], ["TR-34", "delivered", r.kmsKcv]);
        assertEquals(pad.state().tmkKcv, r.pinPadKcv);
        assertEquals(pad.state().boundKdh, "C=CN, O=TMK Demo, CN=KMS TR-34 KDH");
      }
      // A delivered TMK is not sent again.
      const again = await assertRejects(() => terminal(k, "TS00000001", pads[0]).loadTmk());
      assertEquals((again as RemoteError).code, "already_delivered");
      // The audit log: bound, issued, sent, delivered, each with the KCV where it has one.
      const dump = await dumpDatabase(k);
      for (
        const e of ["tr34_bound", "tmk_issued", "tmk_sent", "tmk_delivered", "kdh_key_generated"]
      ) {
        assert(dump.includes(`"${e}"`), `audit event ${e}`);
      }
      const api = await (await fetch(`${k.url}/openapi.json`)).json();
      assert(api.paths["/v1/terminals/{sn}/tr34/bind"]?.post, "bind in the OpenAPI document");
      assert(api.paths["/v1/terminals/{sn}/tr34/key-token"]?.post, "key-token in the OpenAPI");
      assert(api.paths["/v1/terminals/{sn}/tr34/ack"]?.post, "ack in the OpenAPI");
      // The scan: TMKs and KRD private keys of the PIN pads, the LMK and its components.
      const secrets = [...k.lmkComponents];
      secrets.push(k.lmkComponents.reduce((x, y) => x.map((v, i) => v ^ y[i])));
      for (const pad of pads) {
        const keys = await pinPadTr34TestHarness(pad).clearKeys();
        // The private parts only: the PKCS#8 DER also holds the public modulus.
        const krd = importPkcs8Der(keys.krdPkcs8);
        secrets.push(keys.tmk!, krd.d, krd.p, krd.q, krd.dp, krd.dq, krd.qi);
      }
      const bodies = seen.map((e) => e.requestBody + e.responseBody).join("\n");
      assert(bodies.includes("keyToken") && dump.includes("TS00000002"), "the scan sees data");
      // Control: the scan finds a planted window of each kind of secret.
      for (const x of secrets) assert(leaks([x], `${dump}${toHex(x.subarray(0, 8))}`).length > 0);
      assertEquals(leaks(secrets, dump), [], "database");
      assertEquals(leaks(secrets, k.logs.join("\n")), [], "KMS log");
      assertEquals(leaks(secrets, bodies), [], "HTTP bodies");
    } finally {
      await k.close();
    }
  });
}

Deno.test("TR-34 refusals through the server, each with its TR-34 code", async (t) => {
  const k = await startTr34Kms(core, pki);
  try {
    const a = await k.newPad("TN00000001");
    const bPad = await k.newPad("TN00000002");
    await terminal(k, "TN00000001", a).bind();
    await terminal(k, "TN00000002", bPad).bind();
    const keyTokenUrl = (sn: string) => `${k.url}/v1/terminals/${sn}/tr34/key-token`;

    await t.step(
      "a replayed random number: 401 nonce_replayed at the KMS and the PIN pad",
      async () => {
        const rt = a.randomNumberToken();
        const req = { credentialToken: await a.credentialToken(), randomNumberToken: rt };
        const first = await callJson(
          fetchTransport,
          "POST",
          keyTokenUrl("TN00000001"),
          req,
          Tr34KeyTokenResponse,
        );
        assertEquals(await post(keyTokenUrl("TN00000001"), req), {
          status: 401,
          code: "nonce_replayed",
        });
        await a.installTmk(first.body.keyToken, first.body.tmkKcv);
        const e = await assertRejects(
          () => a.installTmk(first.body.keyToken, first.body.tmkKcv),
          Tr34Error,
        );
        assertEquals(e.code, "nonce_replayed");
      },
    );

    await t.step("a token for another KRD: wrong_recipient at the PIN pad", async () => {
      // A man in the middle sends B's random number with A's credential token.
      const r = await callJson(fetchTransport, "POST", keyTokenUrl("TN00000001"), {
        credentialToken: await a.credentialToken(),
        randomNumberToken: bPad.randomNumberToken(),
      }, Tr34KeyTokenResponse);
      const e = await assertRejects(
        () => bPad.installTmk(r.body.keyToken, r.body.tmkKcv),
        Tr34Error,
      );
      assertEquals(e.code, "wrong_recipient");
      assertEquals(bPad.state().tmkKcv, undefined);
    });

    await t.step("a KRD certificate of another SN: 401 krd_untrusted, audited", async () => {
      assertEquals(
        await post(keyTokenUrl("TN00000002"), {
          credentialToken: await a.credentialToken(),
          randomNumberToken: bPad.randomNumberToken(),
        }),
        { status: 401, code: "krd_untrusted" },
      );
      assertEquals(
        await post(`${k.url}/v1/terminals/TN00000009/tr34/bind`, {
          credentialToken: await a.credentialToken(),
        }),
        { status: 401, code: "krd_untrusted" },
      );
      assertEquals(
        await post(keyTokenUrl("TN00000002"), {
          credentialToken: "3000",
          randomNumberToken: bPad.randomNumberToken(),
        }),
        { status: 400, code: "invalid_field" },
      );
      assert((await dumpDatabase(k)).includes("krd_untrusted"), "the refusal is audited");
    });

    await t.step(
      "a header the TMK slot's use forbids: header_forbidden at the PIN pad",
      async () => {
        const strict = await k.newPad("TN00000003", { ...TMK_POLICY, exportability: ["N"] });
        const pos = terminal(k, "TN00000003", strict);
        await pos.bind();
        const e = await assertRejects(() => pos.loadTmk(), Tr34Error);
        assertEquals(e.code, "header_forbidden");
        assert(e.message.includes("exportability E"), e.message);
        const s = await callJson(
          fetchTransport,
          "GET",
          `${k.url}/v1/terminals/TN00000003`,
          undefined,
          Tr34TerminalStatus,
          { token: k.token },
        );
        assertEquals(s.body.state, "tmk_sent");
      },
    );

    await t.step("a TR-34 terminal is not served by flow A's routes, nor unbound", async () => {
      // Well-formed flow A bodies: the refusal is the flow's, not the schema's.
      const nonce = "00".repeat(32);
      const mac = "00".repeat(8);
      const flowA: [string, unknown][] = [
        ["tmk", { nonce, mac }],
        ["tmk/ack", { tmkKcv: "000000", nonce, mac }],
        ["tmk/challenge", undefined],
      ];
      for (const [path, body] of flowA) {
        assertEquals(await post(`${k.url}/v1/terminals/TN00000002/${path}`, body), {
          status: 409,
          code: "tr34_terminal",
        }, path);
      }
      assertEquals(
        await post(keyTokenUrl("TN00000077"), {
          credentialToken: await a.credentialToken(),
          randomNumberToken: a.randomNumberToken(),
        }),
        { status: 404, code: "not_bound" },
      );
    });
  } finally {
    await k.close();
  }
});

Deno.test("an outsider cannot acknowledge a TR-34 delivery: the TMK is proved by MAC", async () => {
  const k = await startTr34Kms(core, pki);
  try {
    const sns = ["TO00000001", "TO00000002"];
    const pads = await Promise.all(sns.map((sn) => k.newPad(sn)));
    const tokens: Tr34KeyTokenResponse[] = [];
    for (const [i, sn] of sns.entries()) {
      await terminal(k, sn, pads[i]).bind();
      const r = await callJson(
        fetchTransport,
        "POST",
        `${k.url}/v1/terminals/${sn}/tr34/key-token`,
        {
          credentialToken: await pads[i].credentialToken(),
          randomNumberToken: pads[i].randomNumberToken(),
        },
        Tr34KeyTokenResponse,
      );
      await pads[i].installTmk(r.body.keyToken, r.body.tmkKcv);
      tokens.push(r.body);
    }
    const [a, b] = tokens;
    const ackUrl = (sn: string) => `${k.url}/v1/terminals/${sn}/tr34/ack`;
    const state = async (sn: string) =>
      (await callJson(
        fetchTransport,
        "GET",
        `${k.url}/v1/terminals/${sn}`,
        undefined,
        Tr34TerminalStatus,
        {
          token: k.token,
        },
      )).body.state;
    const refused = async () =>
      (await k.metrics.render()).text.split("\n").filter((l) => l.includes("tr34_ack_refused_"));
    assertEquals(await refused(), [], "nothing refused yet");
    // The database, but for the operator nonces of the status reads below.
    const stored = async () =>
      (await dumpDatabase(k)).replace(/,?\{"scope":"operator-request"[^}]*\}/g, "");
    const before = await stored();
    const genuineB = await pads[1].proveTmk(sns[1], b.ackNonce);
    // The outsider saw both key token answers: KCVs and nonces, no TMK.
    const attempts: [string, unknown, number, string][] = [
      ["the KCV only", { tmkKcv: a.tmkKcv }, 400, "missing_field"],
      ["the KCV only, on flow A's route", { tmkKcv: a.tmkKcv }, 400, "missing_field"],
      [
        "the KCV and nonce, a guessed MAC",
        { tmkKcv: a.tmkKcv, nonce: a.ackNonce, mac: "00".repeat(8) },
        401,
        "proof_invalid",
      ],
      ["another SN's genuine acknowledgement", genuineB, 401, "nonce_invalid"],
      [
        "another PIN pad's MAC over this SN's nonce",
        await pads[1].proveTmk(sns[0], a.ackNonce),
        401,
        "proof_invalid",
      ],
    ];
    for (const [what, body, status, code] of attempts) {
      const url = what.includes("flow A")
        ? `${k.url}/v1/terminals/${sns[0]}/tmk/ack`
        : ackUrl(sns[0]);
      assertEquals(await post(url, body), { status, code }, what);
    }
    assertEquals(await state(sns[0]), "tmk_sent");
    assertEquals(await stored(), before, "refusals store nothing, audit included");
    const counted = await refused();
    for (const code of ["proof_invalid", "nonce_invalid"]) {
      assert(counted.some((l) => l.includes(`tr34_ack_refused_${code}`)), `${code} counted`);
    }
    // The genuine PIN pads are delivered; a replay of A's acknowledgement is refused.
    const genuineA = await pads[0].proveTmk(sns[0], a.ackNonce);
    const done = await callJson(
      fetchTransport,
      "POST",
      ackUrl(sns[0]),
      genuineA,
      Tr34TerminalStatus,
    );
    assertEquals([done.body.state, done.body.tmkKcv], ["delivered", a.tmkKcv]);
    const delivered = await stored();
    assertEquals(await post(ackUrl(sns[0]), genuineA), { status: 401, code: "nonce_used" });
    assertEquals(await stored(), delivered, "a replay stores nothing");
    assert(
      (await refused()).some((l) => l.includes("tr34_ack_refused_nonce_used")),
      "replay counted",
    );
    assertEquals(await state(sns[0]), "delivered");
    const doneB = await callJson(
      fetchTransport,
      "POST",
      ackUrl(sns[1]),
      genuineB,
      Tr34TerminalStatus,
    );
    assertEquals(doneB.body.state, "delivered");
    // Exactly one delivery audit record per terminal, both successes.
    const rows = (await dumpDatabase(k)).split("},{").filter((r) => r.includes('"tmk_delivered"'));
    assertEquals(rows.length, 2, rows.join("\n"));
    assert(rows.every((r) => r.includes('"success"') && !r.includes('"failure"')), rows.join("\n"));
  } finally {
    await k.close();
  }
});

Deno.test("TR-34 with a revoked KDH certificate: the PIN pad refuses with kdh_revoked", async () => {
  const k = await startTr34Kms(core, pki, { revokeKdh: true });
  try {
    const pad = await k.newPad("TV00000001");
    const pos = terminal(k, "TV00000001", pad);
    const e = await assertRejects(() => pos.bind(), Tr34Error);
    assertEquals(e.code, "kdh_revoked");
    assertEquals(pad.state().boundKdh, undefined);
    // Nor does a key token of that KDH open (it carries the same CRL).
    const r = await callJson(
      fetchTransport,
      "POST",
      `${k.url}/v1/terminals/TV00000001/tr34/key-token`,
      {
        credentialToken: await pad.credentialToken(),
        randomNumberToken: pad.randomNumberToken(),
      },
      Tr34KeyTokenResponse,
    );
    const e2 = await assertRejects(() => pad.installTmk(r.body.keyToken, r.body.tmkKcv), Tr34Error);
    assertEquals(e2.code, "kdh_revoked");
  } finally {
    await k.close();
  }
});

Deno.test("a KDH key block that is not its certificate's key: the KMS does not start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tr34-kdh-" });
  try {
    const lmk = await randomComponents(2, 32, core);
    const db = `${dir}/kms.db`;
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
    const a = await kdhForKms(pki, lmk, `${dir}/a`, core, db);
    const b = await kdhForKms(pki, lmk, `${dir}/b`, core, db);
    const pk = await randomComponents(2, 24, core);
    const mak = await randomComponents(2, 16, core);
    const start = (tr34: typeof a) =>
      createKms({
        db,
        lmkComponents: lmk,
        hsmMode: "test",
        pkComponents: pk,
        makComponents: mak,
        token: crypto.randomUUID(),
        log: jsonLogger(() => {}),
        core,
        hsmWorkers: 1,
        tr34,
      });
    const e = await assertRejects(
      () => start({ ...a, privateKeyBlock: b.privateKeyBlock }),
      ValidationError,
    );
    assertEquals(e.code, "invalid_kdh");
    assert(e.message.includes("does not hold the private key"), e.message);
    const e2 = await assertRejects(
      () => start({ ...a, krdRoots: [a.certificate] }),
      ValidationError,
    );
    assertEquals(e2.code, "invalid_kdh");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with flow B on the same KMS: each flow keeps its terminals", async () => {
  const k = await startTr34Kms(core, pki, { flowB: true });
  try {
    const pad = await k.newPad("TX00000001");
    const r = await terminal(k, "TX00000001", pad).run();
    assertEquals(r.state, "delivered");
    // Flow B's S1 on a TR-34 terminal, and TR-34's binding on a flow B terminal:
    // each S1 well formed and signed by a flow B PIN pad's device key for its SN.
    const intruder = await k.newFlowBPad("TX00000001");
    assertEquals(
      await post(
        `${k.url}/v1/terminals/TX00000001/hsm-key`,
        await intruder.hsmKeyRequest("TX00000001"),
      ),
      { status: 409, code: "tr34_terminal" },
    );
    const flowB = await k.newFlowBPad("FX00000001");
    const s1 = await fetch(`${k.url}/v1/terminals/FX00000001/hsm-key`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(await flowB.hsmKeyRequest("FX00000001")),
    });
    assertEquals(s1.status, 201);
    const answer = HsmKeyResponse.parse(await s1.json(), "S1 answer");
    await flowB.installHsmKey("FX00000001", answer);
    assertEquals(flowB.state().hsmKeyFor, "FX00000001");
    const other = await k.newPad("FX00000001");
    assertEquals(
      await post(`${k.url}/v1/terminals/FX00000001/tr34/bind`, {
        credentialToken: await other.credentialToken(),
      }),
      { status: 409, code: "flow_b_terminal" },
    );
    const s = await callJson(
      fetchTransport,
      "GET",
      `${k.url}/v1/terminals/TX00000001`,
      undefined,
      Tr34TerminalStatus,
      { token: k.token },
    );
    assertEquals([s.body.flow, s.body.state], ["TR-34", "delivered"]);
  } finally {
    await k.close();
  }
});
