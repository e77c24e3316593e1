/**
 * `deno task demo --serve`: after the run the servers keep running, the
 * consoles' URLs and one login per role are printed, each login works on
 * both consoles and the consoles show what the demo did; SIGINT stops the
 * demo, which then prints its summary and exits 0.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";

let client: Deno.HttpClient | undefined;

async function loginOn(base: string, id: string, password: string) {
  const r = await fetch(`${base}/console/api/login`, {
    client,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id, password }),
  });
  assertEquals(r.status, 200, `${id} on ${base}`);
  const session = await r.json();
  const cookie = r.headers.get("set-cookie")!.split(";")[0];
  const get = async (path: string) => {
    const g = await fetch(`${base}/console/api${path}`, { headers: { cookie }, client });
    return { status: g.status, body: await g.json() };
  };
  return { session, get };
}

Deno.test("demo --serve keeps the servers running with their consoles until SIGINT", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tmk-demo-serve-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "demo/main.ts",
      "--serve",
      "--terminals",
      "3",
      "--flow-b-terminals",
      "2",
      "--tr34-terminals",
      "0",
      "--data-dir",
      dir,
    ],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines: string[] = [];
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    while (!lines.some((l) => l.startsWith("Press Ctrl-C"))) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the demo ended early: ${lines.join("\n")}`);
      buffer += value;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      lines.push(...parts);
    }
    const url = (name: string) =>
      lines.find((l) => l.includes(`${name} console:`))!.split(/\s+/).pop()!;
    const mtms = url("MTMS").replace(/\/console\/$/, "");
    const kms = url("KMS").replace(/\/console\/$/, "");
    // HTTPS by default, with certificates from the demo's CA, whose root the demo writes.
    assertMatch(mtms, /^https:\/\/localhost:\d+$/);
    const rootLine = lines.find((l) => l.includes("chain to the demo's CA root: "))!;
    const rootPath = rootLine.split("CA root: ")[1].split(" ")[0];
    client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(rootPath)] });
    const logins = Object.fromEntries(
      lines.filter((l) => /^ {2}\S+ +\S+ {2}(operator|supervisor|custodian|auditor)$/.test(l))
        .map((l) => l.trim().split(/\s+/)).map((
          [id, password, role],
        ) => [role + ":" + id, { id, password }]),
    );
    assertEquals(Object.keys(logins).map((k) => k.split(":")[0]).sort(), [
      "auditor",
      "custodian",
      "custodian",
      "operator",
      "supervisor",
    ]);
    for (const [key, l] of Object.entries(logins)) {
      for (const base of [kms, mtms]) {
        const { session } = await loginOn(base, l.id, l.password);
        assertEquals(session.operator.role, key.split(":")[0]);
      }
    }
    const op = logins["operator:operator1"];
    const kmsView = await loginOn(kms, op.id, op.password);
    const dash = (await kmsView.get("/dashboard")).body;
    assertEquals(dash.terminalsByState.delivered, 3);
    assertEquals(dash.orders.length, 1);
    const mtmsView = await loginOn(mtms, op.id, op.password);
    const orders = (await mtmsView.get("/orders")).body.orders;
    assertEquals(orders.map((o: { state: string; collected: number }) => [o.state, o.collected]), [[
      "transferred",
      3,
    ]]);
    const certs = (await kmsView.get("/certificates")).body.issued;
    assertEquals(certs.filter((c: { label: string }) => c.label.startsWith("Pu_hsm")).length, 2);
    const page = await fetch(`${kms}/console/`, { client });
    assertEquals(page.status, 200);
    await page.body?.cancel();
  } finally {
    client?.close();
    child.kill("SIGINT");
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
    }
    const status = await child.status;
    lines.push(...buffer.split("\n"));
    await Deno.remove(dir, { recursive: true });
    assertEquals(status.code, 0, lines.slice(-5).join("\n"));
    assert(
      lines.some((l) => l.startsWith("flow A: 3/3 terminals got their TMK")),
      lines.join("\n"),
    );
  }
});
