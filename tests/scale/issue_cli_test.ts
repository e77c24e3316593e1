/**
 * `deno task kms:issue`: bulk issuance from the command line on the KMS's
 * database, with a progress bar on stderr; a second run issues nothing; bad
 * usage exits 2 with the usage line.
 *
 * @module
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { openStore } from "../../servers/_lib/store.ts";
import { KmsProcess, makeBatch, makeKeys } from "./_kms.ts";

const CLI = new URL("../../servers/kms/issue.ts", import.meta.url).pathname;

async function runCli(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, ...args],
    env: { ...env, NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("scale: kms:issue issues an order from the command line with a progress bar", async () => {
  const dir = await Deno.makeTempDir({ prefix: "issue_cli_" });
  try {
    const db = `${dir}/kms.db`;
    const keys = await makeKeys();
    const n = 1100;
    const batch = await makeBatch(keys, "PO-CLI-1", n);
    const kms = await KmsProcess.start(db, keys);
    try {
      assertEquals((await kms.call("POST", "/v1/tk-batches", batch.request)).status, 201);
    } finally {
      await kms.stop();
    }
    const env = {
      KMS_LMK_COMPONENTS: keys.lmk.join(","),
      KMS_HSM_MODE: "test",
      KMS_PK_COMPONENTS: keys.pk.join(","),
      KMS_MAK_COMPONENTS: keys.mak.join(","),
    };
    const first = await runCli(["--order", "PO-CLI-1", "--db", db], env);
    assertEquals(first.code, 0, first.stderr);
    assertEquals(JSON.parse(first.stdout), {
      orderId: "PO-CLI-1",
      issued: n,
      alreadyIssued: 0,
      terminals: n,
    });
    assertStringIncludes(first.stderr, "issuing PO-CLI-1 [");
    assertStringIncludes(first.stderr, `100% ${n}/${n}`);
    const store = await openStore(db);
    assertEquals(await store.countTerminals("PO-CLI-1"), {
      terminals: n,
      withTmk: n,
      delivered: 0,
    });
    await store.close();

    const second = await runCli(["--order", "PO-CLI-1", "--db", db], env);
    assertEquals(second.code, 0, second.stderr);
    assertEquals(JSON.parse(second.stdout).issued, 0);

    const unknown = await runCli(["--order", "PO-NONE", "--db", db], env);
    assertEquals(unknown.code, 1);
    assertStringIncludes(unknown.stderr, "bulk issuance refused (unknown_order)");

    const usage = await runCli(["--db", db], env);
    assertEquals(usage.code, 2);
    assertStringIncludes(usage.stderr, "usage: deno task kms:issue --order ORDER-ID");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
