/**
 * `deno task kms --device-crl-file`: a KMS process refuses flow B's S1 from
 * a PIN pad whose device certificate the device root's CRL revokes, serves
 * the PIN pads it does not list, and after a newer CRL and `kill -HUP`
 * (no restart) serves the one that was revoked before.
 */
import { assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { exportPkcs8Pem, randomBytes } from "../../src/crypto/mod.ts";
import { issueCrl, parseCertificate } from "../../src/pki/mod.ts";
import { RemoteError } from "../../src/protocol/mod.ts";
import { openStore } from "../../servers/_lib/store.ts";
import { importKmsCaKey } from "../../servers/kms/import_ca_key.ts";
import { PinPadFlowB } from "../../devices/pin_pad_flow_b.ts";
import { FlowBTerminal } from "../../devices/pos_flow_b.ts";
import { type Ca, deviceCredential, makePki } from "./_world.ts";
import { KmsProcess, makeKeys } from "../scale/_kms.ts";

const core = await loadCore("wasm");

async function crlRevoking(root: Ca, crlNumber: bigint, serials: string[]): Promise<string> {
  const now = Math.floor(Date.now() / 1000) * 1000;
  return await issueCrl({
    issuer: { certificate: root.certificate, privateKey: root.key },
    thisUpdate: new Date(now - 60_000),
    nextUpdate: new Date(now + 86_400_000),
    crlNumber,
    revoked: serials.map((serialNumber) => ({
      serialNumber,
      revokedAt: new Date(now - 30_000),
      reason: "keyCompromise",
    })),
  }, { core });
}

Deno.test("kms process: --device-crl-file refuses a revoked PIN pad, reloads on SIGHUP", async () => {
  const dir = await Deno.makeTempDir({ prefix: "device-crl-" });
  const keys = await makeKeys();
  const pki = await makePki(core, "DeviceCrl");
  await Deno.writeTextFile(`${dir}/ca.pem`, pki.kmsCa.certificate);
  await Deno.writeTextFile(`${dir}/ca.key.pem`, exportPkcs8Pem(pki.kmsCa.key));
  await Deno.writeTextFile(`${dir}/device-root.pem`, pki.root.certificate);
  const store = await openStore(`${dir}/kms.db`);
  try {
    await importKmsCaKey({
      pemPath: `${dir}/ca.key.pem`,
      outPath: `${dir}/ca.keyblock`,
      lmkComponents: keys.lmk,
      hsmMode: "test",
      core,
      store,
    });
  } finally {
    await store.close();
  }
  const revokedSn = "DC000001";
  const goodSn = "DC000002";
  const revokedDevice = await deviceCredential(core, pki.root, revokedSn, Date.now());
  const goodDevice = await deviceCredential(core, pki.root, goodSn, Date.now());
  const serial = parseCertificate(revokedDevice.certificate).serialNumber;
  await Deno.writeTextFile(`${dir}/device.crl`, await crlRevoking(pki.root, 1n, [serial]));
  const k = await KmsProcess.start(`${dir}/kms.db`, keys, [
    "--kms-ca-cert",
    `${dir}/ca.pem`,
    "--kms-ca-key-block",
    `${dir}/ca.keyblock`,
    "--device-root",
    `${dir}/device-root.pem`,
    "--device-crl-file",
    `${dir}/device.crl`,
  ]);
  const terminal = (sn: string, device: typeof goodDevice) =>
    new FlowBTerminal({
      sn,
      pinPad: new PinPadFlowB({
        kmsRoot: pki.root.certificate,
        kmsCa: pki.kmsCa.certificate,
        core,
        storageKey: randomBytes(24),
        device,
      }),
      transport: k.devices,
      kmsUrl: k.url,
    });
  try {
    const refused = await terminal(revokedSn, revokedDevice).requestHsmKey().then(
      () => undefined,
      (e) => e,
    );
    if (!(refused instanceof RemoteError)) {
      throw refused ?? new Error("a revoked PIN pad was served");
    }
    assertEquals([refused.status, refused.code], [401, "device_certificate_untrusted"]);
    await terminal(goodSn, goodDevice).requestHsmKey();
    // A newer CRL without it, reloaded in place.
    await Deno.writeTextFile(`${dir}/device.crl`, await crlRevoking(pki.root, 2n, []));
    Deno.kill(k.pid, "SIGHUP");
    let served = false;
    for (let i = 0; i < 50 && !served; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (k.log.includes("crl.reloaded")) served = true;
    }
    assertEquals(served, true, `the KMS logged crl.reloaded:\n${k.log}`);
    await terminal(revokedSn, revokedDevice).requestHsmKey();
  } finally {
    await k.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
