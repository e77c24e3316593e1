/**
 * `deno task ca`, run as a process and checked by openssl, an independent
 * implementation: the root key file opens with the passphrase in `openssl
 * pkey`; every profile's certificate passes `openssl verify` against the
 * root with the project's key usages and EKUs; a revoked certificate is in
 * the CRL `openssl crl -text` prints and fails `openssl verify -crl_check`;
 * usage problems are one line each, exit 2, and write nothing.
 */
import { assert, assertEquals, assertFalse, assertMatch, assertStringIncludes } from "@std/assert";
import { CA_SPECS } from "../../cli/ca.ts";
import { EXT_KEY_USAGE, PROFILES } from "../../src/pki/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const CA = `${ROOT}cli/ca.ts`;
const PASSPHRASE = "correct horse battery staple";

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(cmd: string, args: string[], cwd: string): Promise<Out> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const ca = (args: string[], cwd: string) =>
  exec(Deno.execPath(), ["run", "--allow-all", "--config", `${ROOT}deno.json`, CA, ...args], cwd);
const openssl = (args: string[], cwd: string) => exec("openssl", args, cwd);

function ok(out: Out): string {
  assertEquals(out.code, 0, out.stderr);
  return out.stdout;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cli-ca-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const EKU_TEXT: Record<string, string> = {
  [EXT_KEY_USAGE.serverAuth]: "TLS Web Server Authentication",
  [EXT_KEY_USAGE.clientAuth]: "TLS Web Client Authentication",
};

Deno.test("ca: init, issue every profile, openssl verify with the project's EKUs", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/pass`, `${PASSPHRASE}\n`);
    const pass = ["--dir", "ca", "--passphrase-file", "pass"];
    ok(
      await ca(["init", ...pass, "--cn", "TMK Root CA", "--country", "CN", "--bits", "2048"], dir),
    );
    assertEquals((await Deno.stat(`${dir}/ca/root.key`)).mode! & 0o777, 0o600);
    const key = await Deno.readTextFile(`${dir}/ca/root.key`);
    assertStringIncludes(key, "-----BEGIN ENCRYPTED PRIVATE KEY-----");
    ok(await openssl(["pkey", "-in", "ca/root.key", "-passin", "file:pass", "-noout"], dir));
    const wrong = await openssl(
      ["pkey", "-in", "ca/root.key", "-passin", "pass:wrong", "-noout"],
      dir,
    );
    assert(wrong.code !== 0, "openssl opened the root key with a wrong passphrase");

    // A public key from a PEM file (made by openssl), and key pairs made by the tool.
    ok(await openssl(["genrsa", "-out", "sub.key", "2048"], dir));
    ok(await openssl(["rsa", "-in", "sub.key", "-pubout", "-out", "sub.pub"], dir));
    const profiles = Object.keys(PROFILES).filter((p) => p !== "root-ca");
    for (const profile of profiles) {
      const keyArgs = profile === "mtms-transport"
        ? ["--public-key", "sub.pub"]
        : ["--key-out", `${profile}.key`, "--bits", "2048"];
      ok(
        await ca([
          "issue",
          ...pass,
          "--profile",
          profile,
          "--cn",
          `${profile} one`,
          "--serial-number",
          "SN00000001",
          "--out",
          `${profile}.pem`,
          ...keyArgs,
          ...(profile === "kms-server" ? ["--dns", "kms.example", "--dns", "localhost"] : []),
        ], dir),
      );
      assertEquals(
        ok(await openssl(["verify", "-CAfile", "ca/root.pem", `${profile}.pem`], dir)).trim(),
        `${profile}.pem: OK`,
      );
      const ext = ok(
        await openssl(
          ["x509", "-in", `${profile}.pem`, "-noout", "-ext", "extendedKeyUsage,basicConstraints"],
          dir,
        ),
      );
      const spec = PROFILES[profile as keyof typeof PROFILES];
      for (const eku of spec.extKeyUsage ?? []) assertStringIncludes(ext, EKU_TEXT[eku] ?? eku);
      assertStringIncludes(ext, spec.ca ? "CA:TRUE" : "CA:FALSE");
      if (profile !== "mtms-transport") {
        assertEquals((await Deno.stat(`${dir}/${profile}.key`)).mode! & 0o777, 0o600);
        // The private key written is the certified one.
        const certMod = ok(
          await openssl(["x509", "-in", `${profile}.pem`, "-noout", "-modulus"], dir),
        );
        const keyMod = ok(
          await openssl(["rsa", "-in", `${profile}.key`, "-noout", "-modulus"], dir),
        );
        assertEquals(certMod, keyMod);
      }
    }
    const sub = ok(await openssl(["x509", "-in", "mtms-transport.pem", "-noout", "-modulus"], dir));
    assertEquals(sub, ok(await openssl(["rsa", "-in", "sub.key", "-noout", "-modulus"], dir)));
    const san = ok(
      await openssl(["x509", "-in", "kms-server.pem", "-noout", "-ext", "subjectAltName"], dir),
    );
    assertStringIncludes(san, "DNS:kms.example, DNS:localhost");
    const listed = ok(await ca(["list", "--dir", "ca", "--json"], dir)).trim().split("\n");
    assertEquals(listed.map((l) => JSON.parse(l).profile), ["root-ca", ...profiles]);
  });
});

Deno.test("ca: revoke, then the CRL lists it (openssl crl -text) and openssl verify refuses it", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/pass`, PASSPHRASE);
    const pass = ["--dir", "ca", "--passphrase-file", "pass"];
    ok(await ca(["init", ...pass, "--cn", "TMK Root CA", "--bits", "2048"], dir));
    for (const name of ["card-1", "card-2"]) {
      ok(
        await ca([
          "issue",
          ...pass,
          "--profile",
          "operator-card",
          "--cn",
          name,
          "--key-out",
          `${name}.key`,
          "--out",
          `${name}.pem`,
          "--bits",
          "2048",
        ], dir),
      );
    }
    const serial = ok(await openssl(["x509", "-in", "card-1.pem", "-noout", "-serial"], dir))
      .trim().replace(/^serial=/, "");
    ok(await ca(["revoke", "--dir", "ca", "--serial", serial, "--reason", "keyCompromise"], dir));
    const again = await ca(["revoke", "--dir", "ca", "--serial", serial], dir);
    assertEquals(again.code, 2);
    assertStringIncludes(again.stderr, `${serial} was revoked at`);
    ok(await ca(["crl", ...pass], dir));
    const text = ok(await openssl(["crl", "-in", "ca/crl.pem", "-noout", "-text"], dir));
    assertStringIncludes(text, `Serial Number: ${serial}`);
    assertStringIncludes(text, "Key Compromise");
    assertMatch(text, /CRL Number: \s*1\b/);
    ok(await openssl(["crl", "-in", "ca/crl.pem", "-CAfile", "ca/root.pem", "-noout"], dir));
    const refused = await openssl(
      ["verify", "-crl_check", "-CAfile", "ca/root.pem", "-CRLfile", "ca/crl.pem", "card-1.pem"],
      dir,
    );
    assert(refused.code !== 0);
    assertStringIncludes(refused.stdout + refused.stderr, "certificate revoked");
    const fine = ok(
      await openssl(
        ["verify", "-crl_check", "-CAfile", "ca/root.pem", "-CRLfile", "ca/crl.pem", "card-2.pem"],
        dir,
      ),
    );
    assertEquals(fine.trim(), "card-2.pem: OK");
    ok(await ca(["crl", ...pass], dir));
    assertMatch(
      ok(await openssl(["crl", "-in", "ca/crl.pem", "-noout", "-crlnumber"], dir)),
      /crlNumber=0x02/,
    );
    const table = ok(await ca(["list", "--dir", "ca"], dir));
    assertMatch(table, new RegExp(`${serial}\\s+operator-card\\s+revoked \\(keyCompromise\\)`));
    // A wrong passphrase opens nothing and issues nothing.
    await Deno.writeTextFile(`${dir}/wrong`, "not the passphrase at all");
    const before = await Deno.readTextFile(`${dir}/ca/crl.pem`);
    const wrong = await ca(["crl", "--dir", "ca", "--passphrase-file", "wrong"], dir);
    assertEquals(wrong.code, 2);
    assertEquals(wrong.stderr.trim().split("\n"), [
      "deno task ca crl: the passphrase does not open this key file (or the file is damaged)",
    ]);
    assertEquals(await Deno.readTextFile(`${dir}/ca/crl.pem`), before);
  });
});

Deno.test("ca: --help lists every flag; bad and missing flags one line each, exit 2, nothing written", async () => {
  await withDir(async (dir) => {
    for (const [step, spec] of Object.entries(CA_SPECS)) {
      const help = ok(await ca([step, "--help"], dir));
      for (const f of spec.flags) assertMatch(help, new RegExp(`^  --${f.name}\\b`, "m"));
      if (spec.flags.some((f) => f.name === "passphrase")) {
        assertStringIncludes(help, "--passphrase-file FILE");
        assertStringIncludes(help, "env CA_PASSPHRASE");
      }
    }
    const bad = await ca(["init", "--cn", "x", "--bits", "1024", "--nope"], dir);
    assertEquals(bad.code, 2);
    assertFalse(/^\s+at /m.test(bad.stderr), bad.stderr);
    assertEquals(bad.stderr.trim().split("\n"), [
      "deno task ca init: unknown flag --nope",
      "deno task ca init: --passphrase is required (or CA_PASSPHRASE): " +
      "the passphrase of the root key (at least 12 characters)",
      'deno task ca init: --bits must be a whole number from 2048 to 4096, got "1024"',
      "deno task ca init: see --help",
    ]);
    // A passphrase on argv is taken with a warning; a short one is refused before any key is made.
    const short = await ca(["init", "--passphrase", "short", "--cn", "x"], dir);
    assertEquals(short.code, 2);
    assertStringIncludes(short.stderr, "--passphrase must be at least 12 characters, got 5");
    const argv = await ca(["list", "--dir", "ca"], dir);
    assertEquals(argv.code, 0, argv.stderr);
    const issue = await ca(
      ["issue", "--passphrase", PASSPHRASE, "--profile", "operator-card"],
      dir,
    );
    assertEquals(issue.code, 2);
    assertFalse(issue.stderr.includes(PASSPHRASE));
    assertStringIncludes(issue.stderr, "--cn is required");
    assertStringIncludes(issue.stderr, "--out is required");
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names, []);
  });
});
