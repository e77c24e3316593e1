/**
 * TR-34 from `deno task kms` as a custodian runs it: `--generate-kdh-key`
 * makes the KDH key pair in the HSM (the private key a key block under the
 * LMK), the CA certifies the public key for `tr34-kdh`, and a KMS process
 * started with `--tr34-kdh-cert --tr34-kdh-key-block --device-root` loads a
 * TMK into a PIN pad by TR-34 2-pass. Bad TR-34 flags are refused at start.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { generateRsaKeyPair, importPublicKeyPem, randomBytes } from "../../src/crypto/mod.ts";
import { issueCertificate } from "../../src/pki/mod.ts";
import { PinPadTr34 } from "../../devices/pin_pad_tr34.ts";
import { Tr34Terminal } from "../../devices/pos_tr34.ts";
import { makePki } from "../flow_b/_world.ts";
import { KmsProcess, makeKeys } from "../scale/_kms.ts";

const core = await loadCore("wasm");
const MAIN = new URL("../../servers/kms/main.ts", import.meta.url).pathname;
const DAY = 86_400_000;
const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

Deno.test("kms process: TR-34 from a KDH key the custodian made with --generate-kdh-key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tr34-process-" });
  const keys = await makeKeys();
  const pki = await makePki(core, "Tr34Process");
  await Deno.writeTextFile(`${dir}/device-root.pem`, pki.root.certificate);
  const made = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "--generate-kdh-key", `${dir}/kdh`, "--db", `${dir}/kms.db`],
    env: { KMS_LMK_COMPONENTS: keys.lmk.join(","), KMS_HSM_MODE: "test", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(made.code, 0, new TextDecoder().decode(made.stderr));
  const kdhPublic = importPublicKeyPem(await Deno.readTextFile(`${dir}/kdh.pub.pem`));
  const now = Date.now();
  await Deno.writeTextFile(
    `${dir}/kdh.pem`,
    await issueCertificate({
      profile: "tr34-kdh",
      subject: { commonName: "KMS TR-34 KDH" },
      publicKey: kdhPublic,
      notBefore: seconds(now - DAY),
      notAfter: seconds(now + 365 * DAY),
      issuer: { certificate: pki.root.certificate, privateKey: pki.root.key },
    }, { core }),
  );
  assert(!(await Deno.readTextFile(`${dir}/kdh.tr31`)).includes("PRIVATE"), "a key block only");
  const k = await KmsProcess.start(`${dir}/kms.db`, keys, [
    "--device-root",
    `${dir}/device-root.pem`,
    "--tr34-kdh-cert",
    `${dir}/kdh.pem`,
    "--tr34-kdh-key-block",
    `${dir}/kdh.tr31`,
  ]);
  try {
    const sn = "TP00000001";
    const krdKey = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
    const krdCert = await issueCertificate({
      profile: "tr34-krd",
      subject: { commonName: `PIN pad ${sn} KRD`, serialNumber: sn },
      publicKey: krdKey,
      notBefore: seconds(now - DAY),
      notAfter: seconds(now + 365 * DAY),
      issuer: { certificate: pki.root.certificate, privateKey: pki.root.key },
    }, { core });
    const pad = await PinPadTr34.create({
      root: pki.root.certificate,
      core,
      storageKey: randomBytes(24),
      device: { privateKey: krdKey, certificate: krdCert },
    });
    const r = await new Tr34Terminal({ sn, pinPad: pad, transport: k.devices, kmsUrl: k.url })
      .run();
    assertEquals(r.state, "delivered");
  } finally {
    await k.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kms process: TR-34 flags without their partners are one line each, exit 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      MAIN,
      "--insecure-http",
      "--db",
      "/nonexistent-dir/kms.db",
      "--tr34-kdh-cert",
      MAIN,
      "--tr34-crl",
      MAIN,
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 2, err);
  assertMatch(err, /TR-34 needs both --tr34-kdh-cert and --tr34-kdh-key-block \(or neither\)/);
  assertMatch(err, /TR-34 needs --device-root/);
  assert(!err.includes("    at "), "no stack trace");
});
