/**
 * `deno task line` against running servers: the simulated line collects the
 * TKs of an order at the MTMS, waits while the operator transfers the order
 * and issues its TMKs, then every POS downloads and acknowledges its TMK.
 * The KMS's own status of each terminal is checked afterwards; bad flags
 * are one line each with exit 2.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { exportPkcs8Pem } from "../../src/crypto/mod.ts";
import { makeWorld } from "../flow_a/_fixture.ts";

const CLI = new URL("../../cli/line.ts", import.meta.url).pathname;

function spawnLine(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("line: an order's TKs collected, TMKs issued meanwhile, then downloaded and acknowledged", async () => {
  const core = await loadCore("wasm");
  const w = await makeWorld(core, "socket");
  try {
    const op = await w.pki.issueOperator("line operator");
    await Deno.writeTextFile(`${w.dir}/root.pem`, w.pki.rootPem);
    await Deno.writeTextFile(`${w.dir}/card.pem`, op.certificate);
    await Deno.writeTextFile(`${w.dir}/card.key`, exportPkcs8Pem(op.privateKey), { mode: 0o600 });
    const sns = ["LINE000098", "LINE000099", "LINE000100"];
    const order = await w.call("POST", `${w.mtmsUrl}/v1/orders`, {
      orderId: "PO-LINE-1",
      serialNumbers: sns,
    });
    assertEquals(order.status, 201, JSON.stringify(order.body));
    const line = spawnLine([
      "--mtms-url",
      w.mtmsUrl,
      "--kms-url",
      w.kmsUrl,
      "--order",
      "PO-LINE-1",
      "--first",
      "LINE000098",
      "--count",
      "3",
      "--root",
      `${w.dir}/root.pem`,
      "--card-cert",
      `${w.dir}/card.pem`,
      "--card-key-file",
      `${w.dir}/card.key`,
      "--wait-s",
      "120",
    ]);
    const reader = line.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("waiting for the TMKs")) {
      const r = await reader.read();
      if (r.done) {
        const err = new TextDecoder().decode(await new Response(line.stderr).arrayBuffer());
        throw new Error(`the line ended before collecting: ${out}\n${err}`);
      }
      out += r.value;
    }
    const t = await w.call("POST", `${w.mtmsUrl}/v1/orders/PO-LINE-1/transfer`);
    assertEquals(t.status, 200, JSON.stringify(t.body));
    const i = await w.call("POST", `${w.kmsUrl}/v1/orders/PO-LINE-1/tmks`);
    assertEquals(i.status, 200, JSON.stringify(i.body));
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      out += r.value;
    }
    const status = await line.status;
    const err = new TextDecoder().decode(await new Response(line.stderr).arrayBuffer());
    assertEquals(status.code, 0, `${out}\n${err}`);
    assertMatch(out, /line: 3\/3 terminals have their TMK, 0 failed/);
    for (const sn of sns) {
      const s = await w.call("GET", `${w.kmsUrl}/v1/terminals/${sn}`);
      assertEquals(s.body.state, "delivered", sn);
      assertMatch(out, new RegExp(`${sn}: TMK ${s.body.tmkKcv} installed`));
    }
  } finally {
    await w.close();
  }
});

Deno.test("line: bad and missing flags are one line each, exit 2, no stack trace", async () => {
  const child = spawnLine(["--count", "0", "--first", "ABC"]);
  const out = await child.output();
  const err = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 2, err);
  const lines = err.trim().split("\n");
  assert(
    lines.includes('deno task line: --count must be a whole number from 1 to 10000, got "0"'),
    err,
  );
  assert(lines.some((l) => l.startsWith("deno task line: --mtms-url is required")), err);
  assert(lines.some((l) => l.startsWith("deno task line: --card-key is required")), err);
  assert(!err.includes("    at "), "no stack trace");
});
