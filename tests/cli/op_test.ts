/**
 * `deno task op`, the operator client: `--help` lists each command and its
 * flags with their environment variables; a bad flag and a missing flag
 * each print one line, exit 2, no stack trace; and an end-to-end run
 * against a running MTMS and KMS (sockets): operators enrolled (the second
 * with a supervisor's approval), an order of a serial range created,
 * collected by the simulated factory line, transferred and issued by an
 * operator signing with its own key, a role refused, the audit
 * checkpointed, exported and verified, then found tampered once a record
 * is changed in the database behind the triggers' back.
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { openSqliteStore } from "../../src/store/mod.ts";
import { main, type OpIo } from "../../cli/op.ts";
import { makeWorld } from "../flow_a/_fixture.ts";

const OP = new URL("../../cli/op.ts", import.meta.url).pathname;

async function spawn(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", OP, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs the client in this process, capturing what it prints. */
async function op(...args: string[]) {
  let stdout = "";
  const stderr: string[] = [];
  const io: OpIo = { stdout: (t) => stdout += t, stderr: (l) => stderr.push(l) };
  const code = await main(args, io);
  return { code, stdout, stderr: stderr.join("\n") };
}

Deno.test("op: --help lists the commands and each command's flags", async () => {
  const top = await spawn(["--help"]);
  assertEquals(top.code, 0);
  for (
    const c of [
      "order create",
      "transfer",
      "issue",
      "unlock",
      "release",
      "kms-ca install",
      "keys rotate",
      "approve",
      "audit verify",
      "operator add",
    ]
  ) {
    assertStringIncludes(top.stdout, c);
  }
  const issue = await spawn(["issue", "--help"]);
  assertEquals(issue.code, 0);
  assertStringIncludes(issue.stdout, "usage: deno task op issue [flags] ORDER");
  for (
    const f of ["--server URL", "env OP_SERVER", "--key-file FILE", "--token-file FILE", "--json"]
  ) {
    assertStringIncludes(issue.stdout, f);
  }
});

Deno.test("op: a bad flag and a missing flag are one line each, exit 2, no stack trace", async () => {
  const bad = await spawn(["terminal", "SN00000001", "--server", "http://127.0.0.1:9", "--colour"]);
  assertEquals(bad.code, 2);
  assertEquals(bad.stderr.trim().split("\n"), [
    "deno task op terminal: unknown flag --colour",
    "deno task op terminal: see --help",
  ]);
  const missing = await spawn(["order", "create", "--count", "2"], {
    OP_SERVER: "http://127.0.0.1:9",
  });
  assertEquals(missing.code, 2);
  const lines = missing.stderr.trim().split("\n");
  assertEquals(lines.length, 3, missing.stderr);
  assertMatch(lines[0], /^deno task op order create: --order-id is required/);
  assertMatch(lines[1], /^deno task op order create: --first is required/);
  const unknown = await spawn(["frobnicate"]);
  assertEquals(unknown.code, 2);
  assertEquals(unknown.stderr.trim().split("\n").length, 1);
  for (const r of [bad, missing, unknown]) assert(!/\bat .*\.ts:\d+/.test(r.stderr), r.stderr);
});

Deno.test("op: end to end against a running MTMS and KMS", async () => {
  const core = await loadCore("wasm");
  const w = await makeWorld(core, "socket");
  try {
    const tokenFile = `${w.dir}/admin.token`;
    await Deno.writeTextFile(tokenFile, w.token + "\n");
    // The servers serve HTTPS with certificates from the world's CA.
    const ca = `${w.dir}/root.pem`;
    await Deno.writeTextFile(ca, w.pki.rootPem);
    const admin = (server: string) => ["--server", server, "--ca", ca, "--token-file", tokenFile];
    const as = (id: string, server: string) => [
      "--server",
      server,
      "--ca",
      ca,
      "--operator",
      id,
      "--key-file",
      `${w.dir}/${id}.key`,
    ];
    const keys: Record<string, string> = {};
    for (const id of ["bob", "alice", "carol"]) {
      const k = await op("keygen", "--out", `${w.dir}/${id}.key`);
      assertEquals(k.code, 0, k.stderr);
      keys[id] = /public key ([0-9A-F]{64})/.exec(k.stdout)![1];
      assertEquals((await Deno.stat(`${w.dir}/${id}.key`)).mode! & 0o777, 0o600);
    }
    // Each server enrolls bob alone (bootstrap), then alice and carol with bob's approval.
    for (const server of [w.mtmsUrl, w.kmsUrl]) {
      const bob = await op(
        "operator",
        "add",
        ...admin(server),
        "--id",
        "bob",
        "--name",
        "Bob",
        "--role",
        "supervisor",
        "--public-key",
        keys.bob,
      );
      assertEquals(bob.code, 0, bob.stderr);
      assertMatch(bob.stdout, /role\s+supervisor/);
      for (const [id, role] of [["alice", "operator"], ["carol", "auditor"]]) {
        const asked = await op(
          "operator",
          "add",
          ...admin(server),
          "--id",
          id,
          "--name",
          id,
          "--role",
          role,
          "--public-key",
          keys[id],
        );
        assertEquals(asked.code, 0, asked.stderr);
        const approval = /deno task op approve ([0-9a-f-]{36})/.exec(asked.stdout)![1];
        const ok = await op("approve", approval, ...as("bob", server));
        assertEquals(ok.code, 0, ok.stderr);
        assertMatch(ok.stdout, new RegExp(`role\\s+${role}`));
      }
    }
    // Each server's OpenAPI document names the roles of every operator route.
    for (const server of [w.kmsUrl, w.mtmsUrl]) {
      const doc = await (await w.transport(new Request(`${server}/openapi.json`))).json();
      let operatorRoutes = 0;
      for (
        const [path, ops] of Object.entries(
          doc.paths as Record<string, Record<string, { security?: Record<string, string[]>[] }>>,
        )
      ) {
        for (const [method, spec] of Object.entries(ops)) {
          if (!spec.security) continue;
          operatorRoutes++;
          assert(spec.security[0].operatorKey.length > 0, `${method} ${path} names its roles`);
        }
      }
      assert(operatorRoutes >= 11, `${server}: ${operatorRoutes} operator routes`);
    }
    const list = await op("operator", "list", ...as("bob", w.kmsUrl));
    assertEquals(list.stdout.trim().split("\n").length, 4, list.stdout);
    assertMatch(list.stdout, /^id\s+name\s+role/);
    // Alice creates an order of a serial range; the factory line collects it.
    const made = await op(
      "order",
      "create",
      ...as("alice", w.mtmsUrl),
      "--order-id",
      "PO-CLI-1",
      "--first",
      "SN00000101",
      "--count",
      "2",
    );
    assertEquals(made.code, 0, made.stderr);
    for (const sn of ["SN00000101", "SN00000102"]) await w.collect(await w.pos(sn), "PO-CLI-1");
    const status = await op("order", "status", "PO-CLI-1", ...as("alice", w.mtmsUrl), "--json");
    assertEquals(JSON.parse(status.stdout), {
      orderId: "PO-CLI-1",
      terminals: 2,
      collected: 2,
      state: "collecting",
    });
    assertEquals((await op("transfer", "PO-CLI-1", ...as("alice", w.mtmsUrl))).code, 0);
    // An auditor may not issue; alice may.
    const refused = await op("issue", "PO-CLI-1", ...as("carol", w.kmsUrl));
    assertEquals(refused.code, 1);
    assertStringIncludes(refused.stderr, "403 role_required: issueTmks needs role operator");
    const issued = await op("issue", "PO-CLI-1", ...as("alice", w.kmsUrl));
    assertEquals(issued.code, 0, issued.stderr);
    assertMatch(issued.stdout, /issued\s+2/);
    const t = await op("terminal", "SN00000101", ...as("alice", w.kmsUrl), "--json");
    assertEquals(JSON.parse(t.stdout).state, "tmk_issued");
    // The auditor: a checkpoint, the export (records name alice), the check.
    assertEquals((await op("audit", "checkpoint", ...as("carol", w.kmsUrl))).code, 0);
    const out = `${w.dir}/kms-audit.ndjson`;
    assertEquals((await op("audit", "export", ...as("carol", w.kmsUrl), "--out", out)).code, 0);
    const lines = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
    const issuedBy = lines.filter((l) => l.event === "tmk_issued").map((l) => l.operator);
    assertEquals(issuedBy, ["alice", "alice"]);
    assert(lines.some((l) => l.kind === "checkpoint"));
    const verified = await op("audit", "verify", ...as("carol", w.kmsUrl));
    assertEquals(verified.code, 0, verified.stderr);
    assertMatch(verified.stdout, /ok\s+yes/);
    // A database administrator drops the triggers and edits a record: verify says so.
    const db = await openSqliteStore(`${w.dir}/kms.db`);
    try {
      await db._unsafeSql("DROP TRIGGER audit_log_no_update");
      await db._unsafeSql("UPDATE audit_log SET subject = 'SN00000999' WHERE event = 'tmk_issued'");
    } finally {
      await db.close();
    }
    const tampered = await op("audit", "verify", ...as("carol", w.kmsUrl));
    assertEquals(tampered.code, 1);
    assertMatch(tampered.stdout, /ok\s+no/);
    assertStringIncludes(tampered.stdout, "link");
    assertStringIncludes(tampered.stderr, "audit_tampered");
  } finally {
    await w.close();
  }
});
