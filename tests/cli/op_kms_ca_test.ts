/**
 * `deno task op kms-ca install` and `kms-ca show` against a running KMS
 * (socket, plain HTTP on loopback): the bootstrap administrator installs the
 * first KMS CA alone while nobody is enrolled; afterwards one custodian's
 * install is held, its requester cannot approve it, a second custodian's
 * approval installs it; `show` prints a readable table without the PEM, or
 * JSON with `--json`; `--help` names every flag, and a missing flag is one
 * line, exit 2.
 *
 * @module
 */
import { assert, assertEquals, assertFalse, assertMatch, assertStringIncludes } from "@std/assert";
import { generateRsaKeyPair, publicKeyOf, toHex } from "../../src/crypto/mod.ts";
import { KEY_TEMPLATES, SoftwareHsm } from "../../src/hsm/mod.ts";
import { issueCertificate } from "../../src/pki/mod.ts";
import { jsonLogger } from "../../servers/_lib/mod.ts";
import { parseComponents, publicKeyFingerprint } from "../../servers/_lib/hsm.ts";
import { startKms } from "../../servers/kms/main.ts";
import { main, type OpIo } from "../../cli/op.ts";
import { randomComponents } from "../../demo/setup.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { makePki, T0 } from "../flow_b/_world.ts";

const [core] = await allCores();

async function op(...args: string[]) {
  let stdout = "";
  const stderr: string[] = [];
  const io: OpIo = { stdout: (t) => stdout += t, stderr: (l) => stderr.push(l) };
  const code = await main(args, io);
  return { code, stdout, stderr: stderr.join("\n") };
}

Deno.test("op kms-ca: install under dual control, show as a table or JSON, flags checked", async () => {
  const pki = await makePki(core);
  const lmk = await randomComponents(2, 32, core);
  const dir = await Deno.makeTempDir({ prefix: "op-kms-ca-" });
  const token = toHex(randomBytes(16));
  const kms = await startKms({
    port: 0,
    hostname: "127.0.0.1",
    db: `${dir}/kms.db`,
    lmkComponents: lmk,
    hsmMode: "test",
    pkComponents: await randomComponents(2, 24, core),
    makComponents: await randomComponents(2, 16, core),
    token,
    log: jsonLogger(() => {}),
    core,
  });
  try {
    // Two KMS CAs under the root, their keys as blocks under the KMS's LMK.
    const hsm = await SoftwareHsm.open({ mode: "test", core }, {
      components: parseComponents(lmk, "LMK", { custodians: true }),
    });
    const key2 = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
    const cert2 = await issueCertificate({
      profile: "kms-ca",
      subject: { commonName: "TMK KMS CA 2" },
      publicKey: key2,
      notBefore: new Date(T0 - 86_400_000),
      notAfter: new Date(T0 + 365 * 86_400_000),
      issuer: { privateKey: pki.root.key, certificate: pki.root.certificate },
    }, { core });
    for (
      const [name, key, cert] of [["ca1", pki.kmsCa.key, pki.kmsCa.certificate], [
        "ca2",
        key2,
        cert2,
      ]] as const
    ) {
      await Deno.writeTextFile(`${dir}/${name}.pem`, cert);
      const block = (await hsm.importRsaPrivateKey(key, KEY_TEMPLATES.RSA_CA)).privateKeyBlock;
      await Deno.writeTextFile(`${dir}/${name}.tr31`, block + "\n");
    }
    await Deno.writeTextFile(`${dir}/admin.token`, token + "\n");
    const server = ["--server", kms.url];
    const admin = [...server, "--token-file", `${dir}/admin.token`];
    const as = (id: string) => [...server, "--operator", id, "--key-file", `${dir}/${id}.key`];
    const files = (
      n: string,
    ) => ["--certificate", `${dir}/${n}.pem`, "--key-block", `${dir}/${n}.tr31`];

    const help = await op("kms-ca", "install", "--help");
    assertEquals(help.code, 0);
    for (const f of ["--certificate FILE", "--key-block FILE", "--server URL", "--json"]) {
      assertStringIncludes(help.stdout, f);
    }
    const missing = await op("kms-ca", "install", ...admin, "--certificate", `${dir}/ca1.pem`);
    assertEquals(missing.code, 2);
    assertFalse(/^\s+at /m.test(missing.stderr));
    assertStringIncludes(missing.stderr, "deno task op kms-ca install: --key-block is required");
    const none = await op("kms-ca", "show", ...admin);
    assertEquals(none.code, 1);
    assertStringIncludes(none.stderr, "kms_ca_not_installed");

    // Nobody enrolled: the bootstrap administrator installs the first CA alone.
    const first = await op("kms-ca", "install", ...admin, ...files("ca1"));
    assertEquals(first.code, 0, first.stderr);
    assertMatch(first.stdout, /^version\s+1$/m);
    assertMatch(first.stdout, /^approvedBy\s+(null|-|)$/m);

    const keys: Record<string, string> = {};
    for (const id of ["sam", "carol", "dave"]) {
      keys[id] = /public key ([0-9A-F]{64})/.exec(
        (await op("keygen", "--out", `${dir}/${id}.key`)).stdout,
      )![1];
    }
    const add = (id: string, role: string) =>
      op(
        "operator",
        "add",
        ...admin,
        "--id",
        id,
        "--name",
        id,
        "--role",
        role,
        "--public-key",
        keys[id],
      );
    assertEquals((await add("sam", "supervisor")).code, 0);
    for (const id of ["carol", "dave"]) {
      const held = await add(id, "custodian");
      const approval = /deno task op approve ([0-9a-f-]{36})/.exec(held.stdout)![1];
      assertEquals((await op("approve", approval, ...as("sam"))).code, 0);
    }

    const held = await op("kms-ca", "install", ...as("carol"), ...files("ca2"));
    assertEquals(held.code, 0, held.stderr);
    const approval = /deno task op approve ([0-9a-f-]{36})/.exec(held.stdout)?.[1];
    assert(approval, held.stdout);
    const self = await op("approve", approval, ...as("carol"));
    assertEquals(self.code, 1);
    assertStringIncludes(self.stderr, "same_operator");
    assertEquals((await op("approve", approval, ...as("dave"))).code, 0);

    const shown = await op("kms-ca", "show", ...as("sam"));
    assertEquals(shown.code, 0, shown.stderr);
    assertMatch(shown.stdout, /^version\s+2$/m);
    assertMatch(shown.stdout, /^subject\s+CN=TMK KMS CA 2$/m);
    assertMatch(shown.stdout, /^requestedBy\s+carol$/m);
    assertMatch(shown.stdout, /^approvedBy\s+dave$/m);
    assertMatch(
      shown.stdout,
      new RegExp(`^keyFingerprint\\s+${publicKeyFingerprint(publicKeyOf(key2), core)}$`, "m"),
    );
    assertFalse(shown.stdout.includes("BEGIN CERTIFICATE"), "the table leaves the PEM out");
    const json = JSON.parse((await op("kms-ca", "show", ...as("sam"), "--json")).stdout);
    assertEquals([json.version, json.certificate], [2, cert2]);
    assertEquals(json.notAfter, new Date(T0 + 365 * 86_400_000).toISOString());
  } finally {
    await kms.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
