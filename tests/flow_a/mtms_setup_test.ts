/**
 * The MTMS alone: `--generate-transport-key` (the HSM makes the pair, recorded
 * in the audit log with its fingerprint; the private key leaves only as a
 * TR-31 block under the LMK), the CA certifies
 * the public key, and an MTMS started from those files takes a real TK upload.
 */
import { assert, assertEquals, assertFalse, assertMatch } from "@std/assert";
import { CORE_NAMES, operatorAuthorization } from "../_helpers.ts";
import { loadCore } from "../../src/core/mod.ts";
import { importPublicKeyPem } from "../../src/crypto/mod.ts";
import { memoryLogger } from "../../servers/_lib/log.ts";
import { publicKeyFingerprint } from "../../servers/_lib/hsm.ts";
import { openSqliteStore } from "../../src/store/mod.ts";
import { createMtms } from "../../servers/mtms/main.ts";
import { OperatorTerminal } from "../../devices/operator_terminal.ts";
import { PinPad } from "../../devices/pin_pad.ts";
import { PosTerminal } from "../../devices/pos_terminal.ts";
import { makeDemoPki, randomComponents } from "../../demo/setup.ts";

// One core: the command runs on the default core; the flow itself runs on every core elsewhere.
const coreName = CORE_NAMES.includes("wasm") ? "wasm" : CORE_NAMES[0];

Deno.test(`MTMS alone (${coreName}): --generate-transport-key, CA certificate, TK upload`, async () => {
  const core = await loadCore(coreName);
  const dir = await Deno.makeTempDir({ prefix: "flowa-mtms-" });
  try {
    const lmk = await randomComponents(2, 32, core);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../servers/mtms/main.ts", import.meta.url).pathname,
        "--generate-transport-key",
        `${dir}/transport`,
        "--db",
        `${dir}/mtms.db`,
      ],
      env: { MTMS_LMK_COMPONENTS: lmk.join(","), MTMS_HSM_MODE: "test", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    const keyBlock = (await Deno.readTextFile(`${dir}/transport.tr31`)).trim();
    assert(
      /^D[0-9]{4}K3RD/.test(keyBlock),
      `an RSA key block under the AES LMK: ${keyBlock.slice(0, 16)}`,
    );
    assertFalse(keyBlock.includes("PRIVATE KEY"));
    const publicKey = importPublicKeyPem(await Deno.readTextFile(`${dir}/transport.pub.pem`));
    // The ceremony is in the MTMS's audit log: the HSM's start, and the key by its fingerprint.
    {
      const store = await openSqliteStore(`${dir}/mtms.db`);
      try {
        const log = await store.listAudit({ limit: 100 });
        assertEquals(log.map((r) => r.event), [
          "state_changed",
          "lmk_loaded",
          "state_changed",
          "transport_key_generated",
          "state_changed",
        ]);
        const fingerprint = publicKeyFingerprint(publicKey, core);
        assertEquals([log[3].actor, log[3].keyId, log[3].kcv], [
          "mtms custodian",
          "MTMS transport",
          fingerprint,
        ]);
        assert(stderr.includes(`fingerprint ${fingerprint}`), stderr);
      } finally {
        await store.close();
      }
    }
    const pki = await makeDemoPki(core);
    const certificate = await pki.issueServer("MTMS transport", publicKey);
    const mtms = await createMtms({
      db: `${dir}/mtms.db`,
      lmkComponents: lmk,
      hsmMode: "test",
      pkComponents: await randomComponents(2, 24, core),
      makComponents: await randomComponents(2, 16, core),
      token: "mtms-setup-operator-secret",
      log: memoryLogger().logger,
      core,
      kmsUrl: "http://kms.invalid",
      caRoot: pki.rootPem,
      transportKey: { keyBlock, certificate },
    });
    try {
      const transport = (r: Request) => mtms.handler(r);
      const orderBody = JSON.stringify({ orderId: "PO-ALONE-1", serialNumbers: ["SNH0000001"] });
      const created = await transport(
        new Request("http://mtms.test/v1/orders", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: await operatorAuthorization(
              "mtms-setup-operator-secret",
              "POST",
              "http://mtms.test/v1/orders",
              orderBody,
            ),
          },
          body: orderBody,
        }),
      );
      assertEquals(created.status, 201);
      const op = new OperatorTerminal({ transport, mtmsUrl: "http://mtms.test" });
      op.insertCard((await pki.issueOperator("Operator 0042")).card);
      const pos = new PosTerminal({
        sn: "SNH0000001",
        pinPad: await PinPad.create({ root: pki.rootPem, core }),
        transport,
        kmsUrl: "http://kms.invalid",
      });
      const answer = await op.answerChallenge(pos.startOperatorAuth());
      await pos.finishOperatorAuth({
        certificate: answer.certificate,
        cryptogram: answer.cryptogram,
      });
      const mtmsCert = await op.mtmsCertificate();
      assertEquals(mtmsCert, certificate);
      const exp = await pos.generateAndExportTk(mtmsCert);
      const up = await op.uploadTk("PO-ALONE-1", "SNH0000001", exp);
      assertEquals(up, {
        orderId: "PO-ALONE-1",
        sn: "SNH0000001",
        tkKcv: exp.tkKcv,
        collected: 1,
        terminals: 1,
      });
      // The MTMS's metrics: its requests by route pattern, its order, its HSM.
      const metrics = (await mtms.metrics.render()).text;
      assertMatch(
        metrics,
        /tmk_http_requests_total\{route="\/v1\/orders",method="POST",status="201",server="mtms"\} 1\n/,
      );
      assertMatch(metrics, /tmk_orders\{state="collecting",server="mtms"\} 1\n/);
      assertMatch(metrics, /tmk_hsm_state\{state="authorized",server="mtms"\} 1\n/);
      assertMatch(metrics, /tmk_store_call_seconds_count\{server="mtms",op="putCollectedTk"\} 1\n/);
    } finally {
      await mtms.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
