/**
 * Quick probe of the servers' HTTP cost alone: the server CPU per request of
 * the listener the KMS and MTMS run (`servers/_lib/listener.ts`, node:http
 * over TLS, with its connection caps, timeouts and client certificates) and
 * of `Deno.serve` over TLS, for the same small JSON answer, each server in
 * a process of its own under the same load (32 clients over HTTP/1.1,
 * keep-alive). Not part of `deno task bench`. Run:
 * `deno run --allow-all bench/_http_quick.ts [requests]`.
 *
 * @module
 */
import { listen } from "../servers/_lib/listener.ts";
import { json } from "../servers/_lib/router.ts";

/** A flow B answer's size: ids, a nonce and a certificate. */
const BODY = { challengeId: "C".repeat(32), rnd: "A".repeat(32), certificate: "B".repeat(1500) };

if (Deno.args[0] === "serve") {
  const fx = await import("../tests/servers/_tls_fixture.ts");
  const tls = { cert: fx.server.cert, key: fx.server.key };
  const handler = () => Promise.resolve(json(200, BODY));
  let port: number;
  if (Deno.args[1] === "listener") {
    port = (await listen(handler, { hostname: "127.0.0.1", port: 0, tls })).port;
  } else {
    port = Deno.serve({ hostname: "127.0.0.1", port: 0, ...tls, onListen() {} }, handler).addr
      .port;
  }
  console.log(JSON.stringify({ port, root: fx.root }));
  await new Promise(() => {});
}

const requests = Number(Deno.args[0] ?? 10000);

/** Server CPU (ms) of process `pid`, user and system. */
function cpuMs(pid: number): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 1000 / 100;
}

async function measure(kind: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", import.meta.filename!, "serve", kind],
    stdout: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) out += (await lines.read()).value ?? "";
  const { port, root } = JSON.parse(out.split("\n")[0]);
  const client = Deno.createHttpClient({ caCerts: [root], http2: false });
  const url = `https://localhost:${port}/v1/terminals/X/challenge`;
  const run = async (n: number) => {
    let i = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (i++ < n) {
        const r = await fetch(url, { method: "POST", body: '{"a":1}', client });
        await r.arrayBuffer();
      }
    }));
  };
  try {
    await run(1000); // warm-up: connections, compilation
    const c0 = cpuMs(child.pid);
    const t0 = performance.now();
    await run(requests);
    const wall = performance.now() - t0;
    const us = 1000 * (cpuMs(child.pid) - c0) / requests;
    return `${kind}: server CPU ${us.toFixed(0)} µs per request (${
      (requests / wall * 1000).toFixed(0)
    } requests/s)`;
  } finally {
    client.close();
    child.kill();
    await child.status;
    await lines.cancel();
  }
}

console.log(`${requests} requests, 32 clients, HTTP/1.1 over TLS; load ${Deno.loadavg()[0]}`);
for (let round = 0; round < 2; round++) {
  console.log(`${await measure("listener")}; ${await measure("deno-serve")}`);
}
