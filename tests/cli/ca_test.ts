/**
 * `deno task ca`, run as a process and checked by openssl, an independent
 * implementation: the root key file opens with the passphrase in `openssl
 * pkey`; every profile's certificate passes `openssl verify` against the
 * root with the project's key usages and EKUs; a revoked certificate is in
 * the CRL `openssl crl -text` prints and fails `openssl verify -crl_check`;
 * usage problems are one line each, exit 2, and write nothing. Revocation
 * takes two officers: one asks, a second, different one approves, each
 * signing with an enrolled Ed25519 key; self-approval, unknown officers,
 * wrong keys and forged index lines are refused in one line; the CRL (and
 * a server's CRL check) has only approved revocations.
 */
import {
  assert,
  assertEquals,
  assertFalse,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { CA_SPECS } from "../../cli/ca.ts";
import { appendChained, readChain } from "../../cli/_chain.ts";
import { generateOperatorKey } from "../../src/protocol/operator_key.ts";
import { CertificateError } from "../../src/pki/mod.ts";
import { loadCrlFile } from "../../servers/_lib/revocation.ts";
import { clientCertificateCheck } from "../../servers/_lib/tls.ts";
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
/** As `deno task ca` runs it: with the task's narrow permissions. */
const task = (args: string[], cwd: string) =>
  exec(Deno.execPath(), ["task", "-q", "--config", `${ROOT}deno.json`, "ca", ...args], cwd);

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

/** Officers' key files (`deno task op keygen`'s format) in `dir`; returns `init --officer` flags. */
async function officerKeys(dir: string, ids: string[]): Promise<string[]> {
  const flags: string[] = [];
  for (const id of ids) {
    const k = await generateOperatorKey();
    await Deno.writeTextFile(`${dir}/${id}.key`, k.privateKeyPem, { mode: 0o600 });
    flags.push("--officer", `${id}:${k.publicKey}`);
  }
  return flags;
}

const as = (id: string) => ["--officer", id, "--key-file", `${id}.key`];

/** The request id `revoke` printed. */
function requestOf(out: string): string {
  const m = /request ([0-9a-f]{8});/.exec(out);
  assert(m, out);
  return m[1];
}

/** One line on stderr, exit 2, no stack trace. */
function refused(out: Out, line: string): void {
  assertEquals(out.code, 2, out.stderr);
  assertFalse(/^\s+at /m.test(out.stderr), out.stderr);
  assertEquals(out.stderr.trim().split("\n"), [line]);
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
    const officers = await officerKeys(dir, ["alice", "bob"]);
    ok(await ca(["init", ...pass, "--cn", "TMK Root CA", "--bits", "2048", ...officers], dir));
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
    const asked = ok(
      await ca(
        ["revoke", "--dir", "ca", "--serial", serial, "--reason", "keyCompromise", ...as("alice")],
        dir,
      ),
    );
    ok(await ca(["approve", "--dir", "ca", "--request", requestOf(asked), ...as("bob")], dir));
    const again = await ca(["revoke", "--dir", "ca", "--serial", serial, ...as("bob")], dir);
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
      const help = ok(await ca([...step.split(" "), "--help"], dir));
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

Deno.test("ca: revocation needs two officers; the CRL and a server's CRL check have only approved ones", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/pass`, PASSPHRASE);
    const pass = ["--dir", "ca", "--passphrase-file", "pass"];
    const officers = await officerKeys(dir, ["alice", "bob", "carol"]);
    // alice at init; bob added later with the root passphrase; carol's key is never enrolled.
    ok(
      await ca(
        ["init", ...pass, "--cn", "TMK Root CA", "--bits", "2048", ...officers.slice(0, 2)],
        dir,
      ),
    );
    const bobKey = officers[3].split(":")[1];
    const noPass = await ca([
      "officer",
      "add",
      "--dir",
      "ca",
      "--id",
      "bob",
      "--name",
      "Bob",
      "--public-key",
      bobKey,
    ], dir);
    assertEquals(noPass.code, 2);
    assertStringIncludes(noPass.stderr, "--passphrase is required");
    await Deno.writeTextFile(`${dir}/wrong`, "not the passphrase at all");
    refused(
      await ca([
        "officer",
        "add",
        "--dir",
        "ca",
        "--passphrase-file",
        "wrong",
        "--id",
        "bob",
        "--name",
        "Bob",
        "--public-key",
        bobKey,
      ], dir),
      "deno task ca officer add: the passphrase does not open this key file (or the file is damaged)",
    );
    ok(
      await ca(
        ["officer", "add", ...pass, "--id", "bob", "--name", "Bob", "--public-key", bobKey],
        dir,
      ),
    );
    refused(
      await ca(
        ["officer", "add", ...pass, "--id", "bob", "--name", "Bob", "--public-key", bobKey],
        dir,
      ),
      "deno task ca officer add: officer bob is enrolled already",
    );
    const list = ok(await ca(["officer", "list", "--dir", "ca", "--json"], dir)).trim().split("\n");
    assertEquals(list.map((l) => JSON.parse(l).id), ["alice", "bob"]);

    for (const name of ["client-1", "client-2"]) {
      ok(
        await ca([
          "issue",
          ...pass,
          "--profile",
          "mtms-client",
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
    const serialOf = async (f: string) =>
      ok(await openssl(["x509", "-in", f, "-noout", "-serial"], dir)).trim().replace(
        /^serial=/,
        "",
      );
    const [s1, s2] = [await serialOf("client-1.pem"), await serialOf("client-2.pem")];

    // An unknown officer, a key that is not the officer's: refused, nothing recorded.
    const before = await Deno.readTextFile(`${dir}/ca/index.log`);
    refused(
      await ca(["revoke", "--dir", "ca", "--serial", s1, ...as("carol")], dir),
      "deno task ca revoke: carol is not an enrolled officer of this CA (deno task ca officer list)",
    );
    refused(
      await ca([
        "revoke",
        "--dir",
        "ca",
        "--serial",
        s1,
        "--officer",
        "alice",
        "--key-file",
        "bob.key",
      ], dir),
      "deno task ca revoke: bob.key is not the key enrolled for officer alice",
    );
    assertEquals(await Deno.readTextFile(`${dir}/ca/index.log`), before);

    // One officer asks for both; the request alone revokes nothing.
    const r1 = requestOf(
      ok(
        await ca([
          "revoke",
          "--dir",
          "ca",
          "--serial",
          s1,
          "--reason",
          "keyCompromise",
          ...as("alice"),
        ], dir),
      ),
    );
    const r2 = requestOf(
      ok(await ca(["revoke", "--dir", "ca", "--serial", s2, ...as("alice")], dir)),
    );
    refused(
      await ca(["revoke", "--dir", "ca", "--serial", s1, ...as("bob")], dir),
      `deno task ca revoke: ${s1}: officer alice asked already (request ${r1}); a second officer approves it with deno task ca approve`,
    );
    const pending = ok(await ca(["pending", "--dir", "ca", "--json"], dir)).trim().split("\n");
    assertEquals(pending.map((l) => JSON.parse(l).requestId), [r1, r2]);
    // Self-approval and an unknown approver are refused.
    refused(
      await ca(["approve", "--dir", "ca", "--request", r1, ...as("alice")], dir),
      `deno task ca approve: officer alice asked for request ${r1}: a second, different officer approves it`,
    );
    refused(
      await ca(["approve", "--dir", "ca", "--request", r1, ...as("carol")], dir),
      "deno task ca approve: carol is not an enrolled officer of this CA (deno task ca officer list)",
    );
    const crlOf = async () => {
      ok(await ca(["crl", ...pass], dir));
      return ok(await openssl(["crl", "-in", "ca/crl.pem", "-noout", "-text"], dir));
    };
    assertFalse((await crlOf()).includes("Serial Number"), "a pending request is in no CRL");

    // A server's CRL check (the KMS's --crl-file) takes client-1 while its revocation waits.
    const crls = await loadCrlFile(`${dir}/ca/crl.pem`);
    const root = await Deno.readTextFile(`${dir}/ca/root.pem`);
    const check = clientCertificateCheck({
      roots: [root],
      purpose: "mtms-client",
      required: true,
      crls: crls.current,
    });
    const der = async (f: string) =>
      Uint8Array.from(
        atob((await Deno.readTextFile(`${dir}/${f}`)).replace(/-----[^-]+-----|\s/g, "")),
        (c) => c.charCodeAt(0),
      );
    assertStringIncludes((await check(await der("client-1.pem")))!.subject, "client-1");

    // bob approves client-1's: the CRL lists it alone, and the server refuses it after a reload.
    const approved = ok(await task(["approve", "--dir", "ca", "--request", r1, ...as("bob")], dir));
    assertStringIncludes(
      approved,
      `${s1} revoked (keyCompromise): asked by alice, approved by bob`,
    );
    refused(
      await ca(["approve", "--dir", "ca", "--request", r1, ...as("bob")], dir),
      `deno task ca approve: request ${r1} was approved by bob at ${
        JSON.parse(
          (await Deno.readTextFile(`${dir}/ca/index.log`)).trim().split("\n").at(-1)!,
        ).revokedAt
      }`,
    );
    const text = await crlOf();
    assertStringIncludes(text, `Serial Number: ${s1}`);
    assertFalse(text.includes(s2), "client-2's request is still pending");
    await crls.reload();
    const revoked = await der("client-1.pem");
    const e = await assertRejects(() => check(revoked), CertificateError);
    assertEquals(e.code, "revoked");
    assertStringIncludes((await check(await der("client-2.pem")))!.subject, "client-2");
    assertMatch(
      ok(await ca(["list", "--dir", "ca"], dir)),
      new RegExp(`${s2}\\s+mtms-client\\s+revocation asked \\(${r2}\\)`),
    );
  });
});

Deno.test("ca: a forged officer or approval line in the index is refused, naming the line", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/pass`, PASSPHRASE);
    const pass = ["--dir", "ca", "--passphrase-file", "pass"];
    const officers = await officerKeys(dir, ["alice", "bob", "mallory"]);
    ok(
      await ca(
        ["init", ...pass, "--cn", "TMK Root CA", "--bits", "2048", ...officers.slice(0, 4)],
        dir,
      ),
    );
    ok(
      await ca([
        "issue",
        ...pass,
        "--profile",
        "operator-card",
        "--cn",
        "card",
        "--key-out",
        "card.key",
        "--out",
        "card.pem",
        "--bits",
        "2048",
      ], dir),
    );
    const serial = ok(await openssl(["x509", "-in", "card.pem", "-noout", "-serial"], dir)).trim()
      .replace(/^serial=/, "");
    const index = `${dir}/ca/index.log`;
    const clean = await Deno.readTextFile(index);
    const steps = ["list", "pending", "officer list"];

    // mallory enrols herself by hand: the chain holds, the root's signature does not.
    const forged = await appendChained(index, {
      step: "officer",
      id: "mallory",
      name: "mallory",
      publicKey: officers[5].split(":")[1],
      addedAt: new Date().toISOString(),
      rootSig: "00".repeat(256),
    });
    for (const step of steps) {
      refused(
        await ca([...step.split(" "), "--dir", "ca"], dir),
        `deno task ca ${step}: ${
          index.replace(`${dir}/`, "")
        } line ${forged.seq}: officer mallory is not signed by the root key (the index was changed, or forged)`,
      );
    }
    refused(
      await ca(["crl", ...pass], dir),
      `deno task ca crl: ca/index.log line ${forged.seq}: officer mallory is not signed by the root key (the index was changed, or forged)`,
    );

    // alice asks; an approval in bob's name signed with alice's key is refused.
    await Deno.writeTextFile(index, clean);
    const r = requestOf(
      ok(await ca(["revoke", "--dir", "ca", "--serial", serial, ...as("alice")], dir)),
    );
    const request = (await readChain(index)).at(-1)!;
    const fake = await appendChained(index, {
      step: "revoked",
      requestId: r,
      serial: request.serial,
      reason: request.reason,
      requestedBy: "alice",
      requestedAt: request.requestedAt,
      approvedBy: "bob",
      revokedAt: new Date().toISOString(),
      sig: request.sig,
    });
    refused(
      await ca(["crl", ...pass], dir),
      `deno task ca crl: ca/index.log line ${fake.seq}: the signature of officer bob on request ${r} does not verify (the index was changed, or forged)`,
    );
    assertFalse(
      (await Deno.readTextFile(`${dir}/ca/crl.pem`).catch(() => "")).includes("CRL"),
      "no CRL written",
    );
  });
});

/** Writes `entries` as a fresh, well-chained index (what a forger who rewrites the file does). */
async function rechain(index: string, entries: Record<string, unknown>[]): Promise<void> {
  await Deno.remove(index);
  for (const { seq: _s, at: _a, prev: _p, ...step } of entries) await appendChained(index, step);
}

Deno.test("ca: a changed officer signature, a moved approval or a revocation without officers is refused", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/pass`, PASSPHRASE);
    const pass = ["--dir", "ca", "--passphrase-file", "pass"];
    ok(
      await ca([
        "init",
        ...pass,
        "--cn",
        "TMK Root CA",
        "--bits",
        "2048",
        ...await officerKeys(dir, ["alice", "bob"]),
      ], dir),
    );
    const serials: string[] = [];
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
      serials.push(
        ok(await openssl(["x509", "-in", `${name}.pem`, "-noout", "-serial"], dir)).trim()
          .replace(/^serial=/, ""),
      );
    }
    const r = requestOf(
      ok(await ca(["revoke", "--dir", "ca", "--serial", serials[0], ...as("alice")], dir)),
    );
    ok(await ca(["approve", "--dir", "ca", "--request", r, ...as("bob")], dir));
    const index = `${dir}/ca/index.log`;
    const clean = await Deno.readTextFile(index);
    const entries = await readChain(index);
    const asked = entries.findIndex((e) => e.step === "revoke-requested");
    const approval = entries.findIndex((e) => e.step === "revoked");
    assert(asked > 0 && approval === entries.length - 1, JSON.stringify(entries));
    const both = async (line: string) => {
      for (const step of ["crl", "list"]) {
        const args = step === "crl" ? ["crl", ...pass] : ["list", "--dir", "ca"];
        refused(await ca(args, dir), `deno task ca ${step}: ca/index.log ${line}`);
      }
    };
    const flip = (sig: unknown) => {
      const s = String(sig);
      return s.slice(0, 10) + (s[10] === "0" ? "1" : "0") + s.slice(11);
    };

    // bob's signature on the approval changed (the last line: the chain itself still holds).
    const lines = clean.trimEnd().split("\n");
    const changed = { ...entries[approval], sig: flip(entries[approval].sig) };
    await Deno.writeTextFile(
      index,
      [...lines.slice(0, -1), JSON.stringify(changed)].join("\n") + "\n",
    );
    await both(
      `line ${approval + 1}: the signature of officer bob on request ${r} does not verify ` +
        "(the index was changed, or forged)",
    );
    // alice's signature on the request changed in place: the next line's link breaks.
    lines[asked] = JSON.stringify({ ...entries[asked], sig: flip(entries[asked].sig) });
    await Deno.writeTextFile(index, lines.join("\n") + "\n");
    await both(`line ${asked + 2}: prev does not match the line before (a line was changed)`);
    // ... and with the chain rewritten around it: her signature does not verify.
    await rechain(index, entries.map((e, i) => i === asked ? { ...e, sig: flip(e.sig) } : e));
    await both(
      `line ${asked + 1}: the signature of officer alice on request ${r} does not verify ` +
        "(the index was changed, or forged)",
    );

    // The approval moved before its request: out of sequence, and re-chained, without a request.
    const moved = [...entries];
    [moved[asked], moved[approval]] = [moved[approval], moved[asked]];
    await Deno.writeTextFile(index, moved.map((e) => JSON.stringify(e)).join("\n") + "\n");
    await both(
      `line ${asked + 1}: seq ${approval + 1}, expected ${asked + 1} (a line was removed or moved)`,
    );
    await rechain(index, moved);
    await both(
      `line ${asked + 1}: revocation of ${serials[0]} without a pending request of an officer ` +
        "(the index was changed, or forged)",
    );

    // A revocation of card-2 appended with no officer's request or approval.
    await Deno.writeTextFile(index, clean);
    const forged = await appendChained(index, {
      step: "revoked",
      serial: serials[1],
      reason: "keyCompromise",
      revokedAt: new Date().toISOString(),
    });
    await both(
      `line ${forged.seq}: revocation of ${serials[1]} without a pending request of an officer ` +
        "(the index was changed, or forged)",
    );
  });
});
