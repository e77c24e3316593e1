/**
 * The server processes (`servers/kms/main.ts`, `servers/mtms/main.ts`, spawned
 * with `Deno.execPath()`):
 * the KMS refuses to serve plain HTTP unless asked, serves HTTPS from its
 * flags, and on SIGTERM stops accepting, finishes the request in flight,
 * closes the store and logs `kms.stopped`, then exits 0; the MTMS stops the
 * same way on SIGINT and SIGTERM.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { randomComponents } from "../../demo/setup.ts";
import { tlsClient } from "../../servers/_lib/tls.ts";
import { importPublicKeyPem } from "../../src/crypto/mod.ts";
import { issueByRoot, root, server } from "./_tls_fixture.ts";

const MAIN = new URL("../../servers/kms/main.ts", import.meta.url).pathname;
const MTMS_MAIN = new URL("../../servers/mtms/main.ts", import.meta.url).pathname;
const core = await loadCore();

async function kmsEnv(): Promise<Record<string, string>> {
  return {
    KMS_LMK_COMPONENTS: (await randomComponents(2, 32, core)).join(","),
    KMS_HSM_MODE: "test",
    KMS_PK_COMPONENTS: (await randomComponents(2, 24, core)).join(","),
    KMS_MAK_COMPONENTS: (await randomComponents(2, 16, core)).join(","),
    KMS_TOKEN: "0123456789abcdef0123456789abcdef",
    NO_COLOR: "1",
  };
}

/** A spawned server with its stderr collected. */
interface Kms {
  child: Deno.ChildProcess;
  /** Settles once the process's stderr has ended and been read whole. */
  drained: Promise<void>;
  url: string;
  /** stderr so far. */
  err(): string;
  /** Resolves when stderr contains `text`. */
  waitFor(text: string): Promise<void>;
}

async function spawnKms(dir: string, args: string[]): Promise<Kms> {
  return await spawnServer("KMS", MAIN, await kmsEnv(), ["--db", `${dir}/kms.db`, ...args]);
}

async function spawnServer(
  name: "KMS" | "MTMS",
  main: string,
  env: Record<string, string>,
  args: string[],
): Promise<Kms> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", main, "--port", "0", ...args],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let buf = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  const drained = (async () => {
    for await (const s of child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += s;
      for (const w of waiters.splice(0)) {
        if (buf.includes(w.text)) w.resolve();
        else waiters.push(w);
      }
    }
  })();
  const waitFor = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (buf.includes(text)) return resolve();
      const timer = setTimeout(() => reject(new Error(`no "${text}" in:\n${buf}`)), 60_000);
      waiters.push({
        text,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  await waitFor(`${name} listening on `);
  const url = new RegExp(`${name} listening on (\\S+)`).exec(buf)![1];
  return { child, drained, url, err: () => buf, waitFor };
}

Deno.test("kms process: plain HTTP only with --insecure-http, which logs a warning", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-socket-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "--port", "0", "--db", `${dir}/kms.db`],
      env: await kmsEnv(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 2);
    assertStringIncludes(new TextDecoder().decode(out.stderr), "--insecure-http");
    const kms = await spawnKms(dir, ["--insecure-http"]);
    try {
      assertMatch(kms.url, /^http:/);
      assertMatch(kms.err(), /"level":"warn","event":"kms.insecure_http"/);
    } finally {
      kms.child.kill("SIGTERM");
      assertEquals((await kms.child.status).code, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kms process: serves HTTPS with the certificate of its flags", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-socket-" });
  try {
    await Deno.writeTextFile(`${dir}/cert.pem`, server.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, server.key);
    const kms = await spawnKms(dir, [
      "--tls-cert-file",
      `${dir}/cert.pem`,
      "--tls-key-file",
      `${dir}/key.pem`,
    ]);
    try {
      assertMatch(kms.url, /^https:/);
      const port = new URL(kms.url).port;
      const client = tlsClient({ caCerts: [root] });
      try {
        const r = await fetch(`https://localhost:${port}/healthz`, { client });
        assertEquals(r.status, 200, await r.text());
      } finally {
        client.close();
      }
    } finally {
      kms.child.kill("SIGTERM");
      assertEquals((await kms.child.status).code, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kms process: SIGTERM finishes the request in flight, then stops", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-socket-" });
  try {
    const kms = await spawnKms(dir, ["--insecure-http"]);
    const port = Number(new URL(kms.url).port);
    const body = JSON.stringify({ tmkKcv: "ABCDEF" });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const enc = new TextEncoder();
    // A request whose body is half sent: in flight when SIGTERM comes.
    await conn.write(enc.encode(
      "POST /v1/terminals/SN00000001/tmk/ack HTTP/1.1\r\nhost: kms\r\n" +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n` +
        body.slice(0, 5),
    ));
    await new Promise((r) => setTimeout(r, 300));
    kms.child.kill("SIGTERM");
    await kms.waitFor('"event":"kms.stopping"');
    // No new connection is served once stopping.
    const late = await Deno.connect({ hostname: "127.0.0.1", port }).then(
      async (c) => {
        await c.write(enc.encode("GET /healthz HTTP/1.1\r\nhost: kms\r\n\r\n")).catch(() => 0);
        const n = await c.read(new Uint8Array(64)).catch(() => null);
        c.close();
        return n === null ? "closed" : "answered";
      },
      () => "refused",
    );
    assert(late !== "answered", late);
    await conn.write(enc.encode(body.slice(5)));
    const buf = new Uint8Array(4096);
    let answer = "";
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      answer += new TextDecoder().decode(buf.subarray(0, n));
    }
    conn.close();
    // The server answered the request (the terminal is unknown), with the connection closing.
    assertMatch(answer, /^HTTP\/1\.1 (4\d\d)[\s\S]*connection: close/i);
    assertEquals((await kms.child.status).code, 0, kms.err());
    // The last lines (the stopped record) may still be on their way through the pipe.
    await kms.drained;
    const events = kms.err().split("\n").filter((l) => l.startsWith("{")).map((l) =>
      JSON.parse(l).event
    );
    const order = ["kms.stopping", "http.request", "kms.stopped"].map((e) => events.indexOf(e));
    assert(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), events.join(", "));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mtms process: SIGINT and SIGTERM stop it with its stopped record", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mtms-socket-" });
  try {
    const env = {
      MTMS_LMK_COMPONENTS: (await randomComponents(2, 32, core)).join(","),
      MTMS_HSM_MODE: "test",
      MTMS_PK_COMPONENTS: (await randomComponents(2, 24, core)).join(","),
      MTMS_MAK_COMPONENTS: (await randomComponents(2, 16, core)).join(","),
      MTMS_TOKEN: "0123456789abcdef0123456789abcdef",
      NO_COLOR: "1",
    };
    const gen = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MTMS_MAIN, "--generate-transport-key", `${dir}/t`, "--db", `${dir}/m.db`],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(gen.code, 0, new TextDecoder().decode(gen.stderr));
    const pub = importPublicKeyPem(await Deno.readTextFile(`${dir}/t.pub.pem`));
    await Deno.writeTextFile(`${dir}/t.cert.pem`, await issueByRoot("mtms-transport", "MTMS", pub));
    await Deno.writeTextFile(`${dir}/root.pem`, root);
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const mtms = await spawnServer("MTMS", MTMS_MAIN, env, [
        "--db",
        `${dir}/m.db`,
        "--insecure-http",
        "--kms-url",
        "http://127.0.0.1:9",
        "--ca-root",
        `${dir}/root.pem`,
        "--transport-key",
        `${dir}/t.tr31`,
        "--transport-cert",
        `${dir}/t.cert.pem`,
      ]);
      const r = await fetch(`${mtms.url}/healthz`);
      assertEquals(r.status, 200, await r.text());
      mtms.child.kill(signal);
      assertEquals((await mtms.child.status).code, 0, mtms.err());
      await mtms.drained;
      assertMatch(mtms.err(), new RegExp(`"event":"mtms.stopping","signal":"${signal}"`));
      assertMatch(mtms.err(), /"event":"mtms.stopped"/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
