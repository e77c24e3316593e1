/**
 * The KMS CA private key lives only as a TR-31 key block under the KMS's LMK
 * (docs/ARCHITECTURE.md: servers keep every key as a key block under their HSM's LMK):
 * the custodian's `deno task kms --import-ca-key PEM --out FILE` writes the
 * block, the KMS runs on `--kms-ca-cert` and `--kms-ca-key-block` and
 * certifies Pu_hsm through `hsm.sign`. Afterwards neither the KMS's input
 * files nor its database hold the CA private key in clear. The import writes
 * one `kms_ca_key_imported` audit record with the key's fingerprint.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { exportPkcs8Der, exportPkcs8Pem, publicKeyOf, toHex } from "../../src/crypto/mod.ts";
import { ValidationError } from "../../src/protocol/mod.ts";
import { KEY_TEMPLATES, SoftwareHsm } from "../../src/hsm/mod.ts";
import { jsonLogger } from "../../servers/_lib/mod.ts";
import { parseComponents, publicKeyFingerprint } from "../../servers/_lib/hsm.ts";
import { createKms } from "../../servers/kms/main.ts";
import { importKmsCaKey } from "../../servers/kms/import_ca_key.ts";
import { checkKmsCa, loadKmsCa } from "../../servers/kms/kms_ca.ts";
import { openSqliteStore, type Store } from "../../src/store/mod.ts";
import { PinPadFlowB } from "../../devices/pin_pad_flow_b.ts";
import { FlowBTerminal } from "../../devices/pos_flow_b.ts";
import { randomComponents } from "../../demo/setup.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { deviceCredential, KMS_URL, makePki } from "./_world.ts";
import { clearKeyIn as clearKeyInFor } from "./_key_scan.ts";

const [core] = await allCores();
const pki = await makePki(core);

/** The KMS CA key's secret parts found in `bytes` (`_key_scan.ts`). */
function clearKeyIn(bytes: Uint8Array): string[] {
  return clearKeyInFor(bytes, pki.kmsCa.key);
}

Deno.test("KMS CA: imported once by the CLI; the KMS's input files and database hold no clear CA key", async () => {
  const dir = await Deno.makeTempDir();
  const lmk = await randomComponents(2, 32, core);
  const pemPath = `${dir}/custodian-ca.key`;
  const certPath = `${dir}/kms-ca.pem`;
  const blockPath = `${dir}/kms-ca.keyblock`;
  const dbPath = `${dir}/kms.db`;
  try {
    await Deno.writeTextFile(pemPath, exportPkcs8Pem(pki.kmsCa.key));
    await Deno.writeTextFile(certPath, pki.kmsCa.certificate);
    // The scanner finds every secret part where the key is in clear: PEM, DER, hex (it can fail).
    const der = exportPkcs8Der(pki.kmsCa.key);
    const all = ["d", "p", "q", "dp", "dq", "qi"];
    for (
      const clear of [
        await Deno.readFile(pemPath),
        der,
        new TextEncoder().encode(toHex(der).toUpperCase()),
      ]
    ) {
      assertEquals([...new Set(clearKeyIn(clear).map((n) => n.split(" ")[0]))], all);
    }

    // The custodian's step, as a process: `deno task kms --import-ca-key PEM --out FILE`.
    const cli = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "servers/kms/main.ts",
        "--import-ca-key",
        pemPath,
        "--out",
        blockPath,
        ...lmk.flatMap((c) => ["--lmk-component", c]),
        "--hsm-mode",
        "test",
        "--db",
        dbPath,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(cli.stderr);
    assertEquals(cli.code, 0, stderr);
    assert(stderr.includes(`written to ${blockPath}`), stderr);
    assertEquals(cli.stdout.length, 0);
    // One audit record of the import, with the fingerprint (SHA-256 of the SPKI, 8 bytes).
    const fingerprint = publicKeyFingerprint(publicKeyOf(pki.kmsCa.key), core);
    assertEquals(fingerprint.length, 16);
    {
      const s = await openSqliteStore(dbPath);
      try {
        const rows = await s.listAudit({ limit: 100, event: "kms_ca_key_imported" });
        assertEquals(rows.length, 1);
        assertEquals(
          [rows[0].actor, rows[0].keyId, rows[0].kcv, rows[0].outcome],
          ["kms custodian", "KMS CA", fingerprint, "success"],
        );
        assert(stderr.includes(fingerprint), stderr);
      } finally {
        await s.close();
      }
    }
    assertEquals(clearKeyIn(cli.stderr), []);
    const block = (await Deno.readTextFile(blockPath)).trim();
    assertEquals(block.slice(5, 12), "S1RS00N", "usage S1, algorithm R, mode S, not exportable");
    assertEquals((await Deno.stat(blockPath)).mode! & 0o777, 0o600);

    // The KMS as `--kms-ca-cert FILE --kms-ca-key-block FILE` starts it; one flow B download.
    const app = await createKms({
      db: dbPath,
      lmkComponents: lmk,
      hsmMode: "test",
      pkComponents: await randomComponents(2, 24, core),
      makComponents: await randomComponents(2, 16, core),
      token: toHex(randomBytes(16)),
      log: jsonLogger(() => {}),
      core,
      kmsCa: await loadKmsCa(certPath, blockPath),
      deviceRoots: [pki.root.certificate],
    });
    try {
      const pad = new PinPadFlowB({
        kmsRoot: pki.root.certificate,
        kmsCa: pki.kmsCa.certificate,
        core,
        storageKey: randomBytes(24),
        device: await deviceCredential(core, pki.root, "CA000001", Date.now()),
      });
      const r = await new FlowBTerminal({
        sn: "CA000001",
        pinPad: pad,
        transport: app.handler,
        kmsUrl: KMS_URL,
      }).run();
      assertEquals([r.state, r.kmsKcv], ["delivered", r.pinPadKcv]);
    } finally {
      await app.close();
    }

    // Nothing the KMS reads or writes holds the CA key in clear.
    for (const f of [certPath, blockPath, dbPath]) {
      assertEquals(clearKeyIn(await Deno.readFile(f)), [], f);
    }
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith("kms.db")) {
        assertEquals(clearKeyIn(await Deno.readFile(`${dir}/${e.name}`)), [], e.name);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KMS CA key block: import, load and check refuse what they should, precisely", async () => {
  const dir = await Deno.makeTempDir();
  const lmk = await randomComponents(2, 32, core);
  const otherLmk = await randomComponents(2, 32, core);
  const store: Store = await openSqliteStore(":memory:");
  const importKey = (pemPath: string, outPath: string, lmkComponents: string[]) =>
    importKmsCaKey({ pemPath, outPath, lmkComponents, hsmMode: "test", core, store });
  try {
    const pem = `${dir}/ca.key`;
    const rootPem = `${dir}/root.key`;
    const cert = `${dir}/ca.pem`;
    await Deno.writeTextFile(pem, exportPkcs8Pem(pki.kmsCa.key));
    await Deno.writeTextFile(rootPem, exportPkcs8Pem(pki.root.key));
    await Deno.writeTextFile(cert, pki.kmsCa.certificate);
    await importKey(pem, `${dir}/ca.block`, lmk);
    await importKey(rootPem, `${dir}/root.block`, lmk);
    await importKey(pem, `${dir}/other-lmk.block`, otherLmk);
    const hsm = await SoftwareHsm.open({ mode: "test", core }, {
      components: parseComponents(lmk, "LMK", { custodians: true }),
    });
    const ca = await loadKmsCa(cert, `${dir}/ca.block`);
    assertEquals(ca.certificate, pki.kmsCa.certificate);
    await checkKmsCa(hsm, ca, core);
    // A key block of another usage (an RSA transport key) is no CA key.
    const transport = await hsm.importRsaPrivateKey(pki.kmsCa.key, KEY_TEMPLATES.RSA_TRANSPORT);
    await Deno.writeTextFile(`${dir}/transport.block`, transport.privateKeyBlock);

    await assertRejects(
      () => importKey(pem, `${dir}/ca.block`, lmk),
      Deno.errors.AlreadyExists,
    );
    const importCases: [string, string][] = [
      [cert, "is not an RSA private key in PEM"],
      [`${dir}/ca.block`, "is not an RSA private key in PEM"],
    ];
    for (const [src, msg] of importCases) {
      const e = await assertRejects(
        () => importKey(src, `${dir}/new.block`, lmk),
        ValidationError,
        msg,
      );
      assertEquals(e.code, "invalid_kms_ca");
    }
    const loadCases: [string, string, string][] = [
      [pem, `${dir}/ca.block`, "is not a PEM certificate"],
      [cert, pem, "is not a TR-31 key block"],
      [cert, cert, "is not a TR-31 key block"],
    ];
    for (const [c, b, msg] of loadCases) {
      const e = await assertRejects(() => loadKmsCa(c, b), ValidationError, msg);
      assertEquals(e.code, "invalid_kms_ca");
    }
    const checkCases: [string, string][] = [
      ["root.block", "does not hold the private key of the KMS CA certificate"],
      ["other-lmk.block", "refused by the HSM"],
      ["transport.block", "refused by the HSM"],
    ];
    for (const [b, msg] of checkCases) {
      const bad = await loadKmsCa(cert, `${dir}/${b}`);
      const e = await assertRejects(() => checkKmsCa(hsm, bad, core), ValidationError, msg);
      assertEquals(e.code, "invalid_kms_ca");
      assert(!e.message.includes(bad.privateKeyBlock), "the key block is not in the message");
    }
    // Each import attempt wrote one record: 3 imported, 1 refused (file exists), 2 not PEM keys.
    const rows = await store.listAudit({ limit: 100, event: "kms_ca_key_imported" });
    assertEquals(rows.map((r) => r.outcome), [
      "success",
      "success",
      "success",
      "failure",
      "failure",
      "failure",
    ]);
    assertEquals(rows[0].kcv, publicKeyFingerprint(publicKeyOf(pki.kmsCa.key), core));
    assertEquals(rows[1].kcv, publicKeyFingerprint(publicKeyOf(pki.root.key), core));
    assertEquals(rows[3].kcv, rows[0].kcv);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
