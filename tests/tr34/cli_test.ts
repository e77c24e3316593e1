/**
 * The TR-34 command line (cli/tr34.ts): `token` writes a key token that
 * `open` checks (header and KCV printed, never the key) and `explain` lists;
 * refused tokens exit 2 with their Tr34Error code; `explain` names the rule
 * a foreign token breaks.
 *
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { type Io, main } from "../../cli/tr34.ts";
import { createBindingToken, explainToken, Krd, signerOf } from "../../src/tr34/mod.ts";
import { hex } from "../_helpers.ts";
import { makePki, run } from "./_pki.ts";

const pki = await makePki();
const KEY = "0123456789ABCDEFFEDCBA9876543210";
const NONCE = "167EB0E72781E4940112233445566778";

/** Runs the CLI in this process; returns status, stdout bytes and stderr text. */
async function cli(args: string[], stdin: Uint8Array = new Uint8Array(0)) {
  const out: Uint8Array[] = [];
  let err = "";
  const io: Io = {
    stdout: (b) => out.push(b.slice()),
    stderr: (t) => err += t + "\n",
    stdin: () => Promise.resolve(stdin),
  };
  const code = await main(args, io);
  const stdout = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
  out.reduce((off, b) => (stdout.set(b, off), off + b.length), 0);
  return { code, stdout, text: new TextDecoder().decode(stdout), stderr: err };
}

const tokenArgs = [
  "token",
  "--kdh-cert",
  pki.kdh.certFile,
  "--kdh-key",
  pki.kdh.keyFile,
  "--krd-cert",
  pki.krd.certFile,
  "--header",
  "A0256K0TB00E0000",
  "--key",
  KEY,
];
const openArgs = [
  "open",
  "--krd-cert",
  pki.krd.certFile,
  "--krd-key",
  pki.krd.keyFile,
  "--kdh-cert",
  pki.kdh.certFile,
  "--ca",
  pki.kdhCa.certFile,
];

Deno.test("tr34 cli: token then open prints the header and KCV, never the key", async () => {
  const t = await cli([...tokenArgs, "--nonce", NONCE, "--cipher", "tdes"]);
  assertEquals(t.code, 0, t.stderr);
  const file = `${pki.dir}/kt.der`;
  await Deno.writeFile(file, t.stdout);
  const o = await cli([...openArgs, "--nonce", NONCE, file]);
  assertEquals(o.code, 0, o.stderr);
  assertStringIncludes(o.text, "mode: 2-pass");
  assertStringIncludes(o.text, "header: A0256K0TB00E0000");
  // TDES legacy KCV of the key (tests/vectors/kcv.json has this key's KCV 08D7B4).
  assertStringIncludes(o.text, "kcv: 08D7B4");
  assert(!o.text.includes(KEY) && !o.text.includes(KEY.slice(0, 16)), "the key was printed");
  // From standard input, with the token's nonce unchecked and said so.
  const s = await cli([...openArgs, "-"], t.stdout);
  assertEquals(s.code, 0, s.stderr);
  assertStringIncludes(s.text, "not checked");
});

Deno.test("tr34 cli: a 1-pass token opens inside its window and is refused outside it", async () => {
  const t = await cli([
    ...tokenArgs,
    "--timestamp",
    "2027-06-01T00:00:00Z",
    "--out",
    `${pki.dir}/one.der`,
  ]);
  assertEquals(t.code, 0, t.stderr);
  const ok = await cli([...openArgs, "--at", "2027-06-01T00:01:00Z", `${pki.dir}/one.der`]);
  assertEquals(ok.code, 0, ok.stderr);
  assertStringIncludes(ok.text, "signing time: 2027-06-01T00:00:00.000Z");
  const late = await cli([...openArgs, "--at", "2027-06-01T01:00:00Z", `${pki.dir}/one.der`]);
  assertEquals(late.code, 1);
  assertStringIncludes(late.stderr, "timestamp_window");
});

Deno.test("tr34 cli: refusals exit 1 with their code, usage errors exit 2", async () => {
  const t = await cli([...tokenArgs, "--nonce", NONCE]);
  const file = `${pki.dir}/kt2.der`;
  await Deno.writeFile(file, t.stdout);
  const wrong = await cli([...openArgs, "--nonce", "00".repeat(16), file]);
  assertEquals([wrong.code, wrong.stderr.includes("nonce_mismatch")], [1, true]);
  const other = await cli([
    ...openArgs.slice(0, 2),
    pki.krd2.certFile,
    "--krd-key",
    pki.krd2.keyFile,
    ...openArgs.slice(5),
    file,
  ]);
  assertEquals([other.code, other.stderr.includes("wrong_recipient")], [1, true]);
  const cut = `${pki.dir}/cut.der`;
  await Deno.writeFile(cut, t.stdout.subarray(0, 100));
  const trunc = await cli([...openArgs, cut]);
  assertEquals([trunc.code, trunc.stderr.includes("malformed")], [1, true]);
  for (
    const bad of [
      [...tokenArgs],
      [...tokenArgs, "--nonce", "XYZ"],
      [...tokenArgs, "--nonce", NONCE, "--timestamp", "now"],
      [...tokenArgs, "--nonce", "0011"],
      ["open", "--krd-cert", pki.krd.certFile, file],
      ["frobnicate"],
      ["explain", `${pki.dir}/absent.der`],
    ]
  ) {
    const r = await cli(bad);
    assertEquals(r.code, 2, `${bad.join(" ")}: ${r.stderr}`);
    assertStringIncludes(r.stderr, "deno task tr34");
  }
});

Deno.test("tr34 cli: explain lists every field and names the rule a token breaks", async () => {
  const t = await cli([...tokenArgs, "--nonce", NONCE]);
  const file = `${pki.dir}/kt3.der`;
  await Deno.writeFile(file, t.stdout);
  const e = await cli(["explain", file]);
  assertEquals(e.code, 0, e.stderr);
  for (
    const s of [
      "type: key-2pass token",
      `signedAttrs.id-randomNonce: ${NONCE}`,
      "signedAttrs.id-data: A0256K0TB00E0000",
      "keyEncryptionAlgorithm: id-RSAES-OAEP",
      "oaepParams: SHA-256, MGF1 SHA-256",
      "contentEncryptionAlgorithm: aes256-CBC",
    ]
  ) assertStringIncludes(e.text, s);
  assert(!e.text.includes("!"), e.text);
  // An openssl cms -sign token: rsaEncryption signer, SMIME capabilities, no key block header.
  const env = `${pki.dir}/env.der`;
  await Deno.writeFile(env, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]));
  const signed = await run("openssl", [
    "cms",
    "-sign",
    "-binary",
    "-nodetach",
    "-outform",
    "DER",
    "-econtent_type",
    "1.2.840.113549.1.7.3",
    "-signer",
    pki.kdh.certFile,
    "-inkey",
    pki.kdh.keyFile,
    "-md",
    "sha1",
    "-in",
    env,
  ]);
  assertEquals(signed.code, 0, signed.stderr);
  const fields = explainToken(signed.stdout);
  const problems = fields.filter((f) => f.problem).map((f) =>
    `${f.field}: ${f.value}: ${f.problem}`
  );
  const has = (re: RegExp) => assert(problems.some((p) => re.test(p)), problems.join("\n"));
  has(/digestAlgorithm: id-sha1 .*: TR 34-2019 tokens are signed with SHA-256/);
  has(/1\.2\.840\.113549\.1\.9\.15: .*: an attribute TR 34-2019 does not define/);
  has(/no id-data .*B\.8: required/);
  has(/^content: .*malformed: EnvelopedData/);
  // A random number token.
  const rt = new Krd({ certificate: pki.krd.cert, key: pki.krd.key, kdhCas: [] })
    .randomNumberToken();
  const r = await cli(["explain", "-"], rt);
  assertStringIncludes(r.text, "type: KRD random number token (B.12)");
});

Deno.test("tr34 cli: deno task tr34 runs the command line", async () => {
  const r = await run("deno", ["task", "-q", "tr34", "explain", `${pki.dir}/kt3.der`]);
  assertEquals(r.code, 0, r.stderr);
  assertStringIncludes(new TextDecoder().decode(r.stdout), "type: key-2pass token");
});

Deno.test("tr34 cli: --help lists each command's flags; the key may come from --key-file", async () => {
  const h = await cli(["token", "--help"]);
  assertEquals(h.code, 0);
  for (const f of ["--kdh-cert FILE", "--key HEX", "--key-file FILE", "--nonce HEX", "TR34_KEY"]) {
    assertStringIncludes(h.text, f);
  }
  assertEquals((await cli(["--help"])).code, 0);
  const argv = await cli([...tokenArgs, "--nonce", NONCE]);
  assertStringIncludes(argv.stderr, "visible to every user");
  const keyFile = `${pki.dir}/tmk.hex`;
  await Deno.writeTextFile(keyFile, KEY + "\n", { mode: 0o600 });
  const fromFile = await cli([...tokenArgs.slice(0, -2), "--key-file", keyFile, "--nonce", NONCE]);
  assertEquals(fromFile.code, 0, fromFile.stderr);
  assertEquals(fromFile.stderr, "");
  const file = `${pki.dir}/kt4.der`;
  await Deno.writeFile(file, fromFile.stdout);
  const o = await cli([...openArgs, "--nonce", NONCE, file]);
  assertStringIncludes(o.text, "kcv: 08D7B4");
});

Deno.test("tr34 cli: explain reads credential, rebind and unbind tokens without a broken rule", async () => {
  const kdh = { certificate: pki.kdh.cert, sign: signerOf(pki.kdh.key) };
  const tokens: [string, Uint8Array][] = [
    [
      "credential",
      await new Krd({ certificate: pki.krd.cert, key: pki.krd.key, kdhCas: [] }).credentialToken(),
    ],
    [
      "rebind",
      await createBindingToken(kdh, {
        kind: "rebind",
        krd: pki.krd.cert,
        newKdh: pki.kdh2.cert,
        timestamp: new Date("2027-06-01T00:00:00Z"),
      }),
    ],
    [
      "unbind",
      await createBindingToken(kdh, {
        kind: "unbind",
        krd: pki.krd.cert,
        nonce: hex(NONCE),
      }),
    ],
  ];
  for (const [kind, token] of tokens) {
    const fields = explainToken(token);
    assertEquals(fields[0], { field: "type", value: `${kind} token` });
    assertEquals(fields.filter((f) => f.problem), [], kind);
    if (kind !== "credential") {
      assert(fields.some((f) => f.field === "content.krd" && f.value.includes("TR34 Test CA KDH")));
    }
  }
});
