/**
 * Flow B over a real socket (`Deno.serve` on a free loopback port, `fetch`
 * as the terminal's transport): the whole run, refusals as JSON error
 * bodies, and afterwards a scan of the database, the KMS log and every
 * HTTP body for any clear key (AUK, TMK, Pr_tek, the PIN pad's storage key,
 * the LMK components).
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import { toHex } from "../../src/crypto/mod.ts";
import {
  answerSigningInput,
  type Exchange,
  fetchTransport,
  RemoteError,
} from "../../src/protocol/mod.ts";
import { serveHandler } from "../../servers/_lib/mod.ts";
import { type PinPadFlowB, pinPadFlowBTestHarness } from "../../devices/pin_pad_flow_b.ts";
import { FlowBTerminal } from "../../devices/pos_flow_b.ts";
import { allCores } from "../_helpers.ts";
import { makePki, makeWorld } from "./_world.ts";

const [core] = await allCores();
const pki = await makePki(core);

Deno.test("over a socket: S1-S7, refusals as JSON errors, and no clear key anywhere", async () => {
  const dir = await Deno.makeTempDir();
  const w = await makeWorld(core, { pki, dbPath: `${dir}/kms.db` });
  const server = serveHandler(w.handler, { port: 0 });
  const exchanges: Exchange[] = [];
  const pads: PinPadFlowB[] = [];
  try {
    for (const sn of ["FS000001", "FS000002"]) {
      const pad = w.newPad();
      pads.push(pad);
      const pos = new FlowBTerminal({
        sn,
        pinPad: pad,
        transport: fetchTransport,
        kmsUrl: server.url,
        observe: (e) => exchanges.push(e),
      });
      const r = await pos.run();
      assertEquals([r.state, r.kmsKcv], ["delivered", r.pinPadKcv]);
      // A refusal over the wire: a second download after delivery (in a new session).
      await pos.authenticate();
      const e1 = await assertRejects(() => pos.downloadTmk(), RemoteError);
      assertEquals([e1.status, e1.code], [409, "already_delivered"]);
    }
    const res = await fetch(
      `${server.url}/v1/terminals/FS000001/challenges/${"AB".repeat(16)}/response`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          crnd2: "0011223344556677",
          ...(await w.sign(
            "FS000001",
            answerSigningInput("FS000001", "AB".repeat(16), "0011223344556677"),
          )),
        }),
      },
    );
    assertEquals(res.status, 401);
    assertEquals((await res.json()).error.code, "challenge_unknown");
    const big = await fetch(`${server.url}/v1/terminals/FS000001/challenges`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rnd1: "00".repeat(4096) }),
    });
    assertEquals([big.status, (await big.json()).error.code], [413, "body_too_large"]);

    // The scan: every clear key, in upper and lower hex and base64.
    const secrets: Uint8Array[] = [...w.lmkComponents];
    for (const pad of pads) {
      const k = await pinPadFlowBTestHarness(pad).clearKeys();
      secrets.push(k.auk!, k.tmk!, k.prTekPkcs8!);
    }
    const lmk = w.lmkComponents.reduce((a, b) => a.map((x, i) => x ^ b[i]));
    secrets.push(lmk);
    const db = new DatabaseSync(`${dir}/kms.db`);
    let dump = "";
    for (
      const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
    ) {
      dump += JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all());
    }
    db.close();
    const bodies = exchanges.map((e) => e.requestBody + e.responseBody).join("\n");
    const logs = w.logLines.join("\n");
    assert(
      dump.includes("FS000001") && bodies.includes("encryptedTmk") && logs.includes("http.request"),
    );
    for (const s of secrets) {
      const needles = [toHex(s), toHex(s).toLowerCase(), btoa(String.fromCharCode(...s))];
      // Long keys (Pr_tek) are also searched by a 16-byte window of their middle.
      if (s.length > 64) needles.push(toHex(s.subarray(s.length / 2, s.length / 2 + 16)));
      for (const n of needles) {
        for (const [where, text] of [["database", dump], ["HTTP bodies", bodies], ["log", logs]]) {
          assert(!text.includes(n), `a clear key (${s.length} bytes) is in the ${where}`);
        }
      }
    }
    // Pr_hsm never leaves the HSM in clear: the stored block is not a PKCS#8 in hex.
    assert(!/3082[0-9A-F]{4}020100300D06092A864886F70D0101010500/.test(dump + bodies + logs));
  } finally {
    await server.shutdown();
    await w.close();
    await Deno.remove(dir, { recursive: true });
  }
});
