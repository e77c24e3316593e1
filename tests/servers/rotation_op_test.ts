/**
 * `deno task op keys rotate` against a KMS and an MTMS on real sockets
 * (HTTPS, S14 over mutual TLS): a custodian asks (held for approval), its
 * own approval is refused, a second custodian or a supervisor approves,
 * with readable output and `--json`; a bad key name is one usage line; the
 * key routes of S14 refuse a client without the MTMS's certificate, and the
 * MTMS fetches the new versions over mutual TLS before its transfer.
 *
 * @module
 */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { main, type OpIo } from "../../cli/op.ts";
import { makeWorld } from "../flow_a/_fixture.ts";
import { core } from "./_rotation_world.ts";

async function op(...args: string[]) {
  let stdout = "";
  const stderr: string[] = [];
  const io: OpIo = { stdout: (t) => stdout += t, stderr: (l) => stderr.push(l) };
  const code = await main(args, io);
  return { code, stdout, stderr: stderr.join("\n") };
}

Deno.test("op keys rotate: two operators over HTTPS; the MTMS fetches over mutual TLS", async () => {
  const w = await makeWorld(core, "socket");
  try {
    const tokenFile = `${w.dir}/admin.token`;
    await Deno.writeTextFile(tokenFile, w.token + "\n");
    const ca = `${w.dir}/root.pem`;
    await Deno.writeTextFile(ca, w.pki.rootPem);
    const admin = ["--server", w.kmsUrl, "--ca", ca, "--token-file", tokenFile];
    const as = (id: string) => [
      "--server",
      w.kmsUrl,
      "--ca",
      ca,
      "--operator",
      id,
      "--key-file",
      `${w.dir}/${id}.key`,
    ];
    for (
      const [id, role] of [["sam", "supervisor"], ["cora", "custodian"], ["carl", "custodian"]]
    ) {
      const k = await op("keygen", "--out", `${w.dir}/${id}.key`);
      const publicKey = /public key ([0-9A-F]{64})/.exec(k.stdout)![1];
      const add = ["operator", "add", ...admin, "--id", id, "--name", id, "--role", role];
      const asked = await op(...add, "--public-key", publicKey);
      assertEquals(asked.code, 0, asked.stderr);
      if (id === "sam") continue;
      const approval = /deno task op approve ([0-9a-f-]{36})/.exec(asked.stdout)![1];
      assertEquals((await op("approve", approval, ...as("sam"))).code, 0);
    }
    await w.collect(
      await w.pos("SNO0000001"),
      await (async () => {
        const r = await w.call("POST", `${w.mtmsUrl}/v1/orders`, {
          orderId: "PO-OP-1",
          serialNumbers: ["SNO0000001"],
        });
        assertEquals(r.status, 201);
        return "PO-OP-1";
      })(),
    );

    const held = await op("keys", "rotate", "PK", ...as("cora"));
    assertEquals(held.code, 0, held.stderr);
    assertMatch(held.stdout, /operation\s+rotateServerKey/);
    const id = /deno task op approve ([0-9a-f-]{36})/.exec(held.stdout)![1];
    const self = await op("approve", id, ...as("cora"));
    assertEquals(self.code, 1);
    assertStringIncludes(self.stderr, "403 same_operator");
    const done = await op("approve", id, ...as("carl"));
    assertEquals(done.code, 0, done.stderr);
    assertMatch(done.stdout, /previousVersion\s+1/);
    assertMatch(done.stdout, /version\s+2/);
    assertMatch(done.stdout, /requestedBy\s+cora/);
    assertMatch(done.stdout, /approvedBy\s+carl/);

    const heldJson = await op("keys", "rotate", "mak", ...as("carl"), "--json");
    const pending = JSON.parse(heldJson.stdout);
    assertEquals([pending.operation, pending.state], ["rotateServerKey", "pending"]);
    const doneJson = await op("approve", pending.approvalId, ...as("sam"), "--json");
    const rotated = JSON.parse(doneJson.stdout);
    assertEquals(
      [rotated.name, rotated.version, rotated.requestedBy, rotated.approvedBy],
      ["MAK", 2, "carl", "sam"],
    );

    const bad = await op("keys", "rotate", "TK", ...as("cora"));
    assertEquals([bad.code, bad.stderr.split("\n")], [2, [
      "deno task op keys rotate: the key must be PK or MAK, got TK",
      "deno task op keys rotate: see --help",
    ]]);

    // S14's key routes: the MTMS's client certificate only.
    const outsider = await w.call("GET", `${w.kmsUrl}/v1/server-keys`, undefined, null);
    assertEquals([outsider.status, outsider.body.error.code], [401, "client_certificate_required"]);
    const t = await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-OP-1/transfer`);
    assertEquals(t.status, 200, JSON.stringify(t.body));
    const fetched = w.mtmsToKms.filter((x) => x.method === "GET").map((x) => [
      new URL(x.url).pathname,
      x.status,
    ]);
    assertEquals(fetched, [
      ["/v1/server-keys", 200],
      ["/v1/server-keys/PK/versions/2", 200],
      ["/v1/server-keys/MAK/versions/2", 200],
    ]);
  } finally {
    await w.close();
  }
});
