/**
 * The page server (web/serve.ts) over a real socket: whatever the encoding of
 * the path (double-encoded, `%2e%2e`, backslashes, overlong UTF-8, NUL), it
 * serves its allow-list only; a malformed percent-encoding is 400, never 500.
 * Requests are written raw, so no client normalises the path first.
 */
import { assert, assertEquals } from "@std/assert";
import { servedPath, servePage } from "../../web/serve.ts";

async function rawGet(port: number, target: string): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      ),
    );
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(64 * 1024);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(
      chunks.reduce((a, b) => new Uint8Array([...a, ...b]), new Uint8Array()),
    );
    const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1]);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch {
      // already closed by the server
    }
  }
}

Deno.test("page server: no encoding of a path leaves the allow-list; malformed is 400", async () => {
  const ac = new AbortController();
  const { server } = servePage(0, ac.signal);
  const port = server.addr.port;
  try {
    const outside: string[] = [
      "/src/core/wasm/%252e%252e/%252e%252e/%252e%252e/deno.json",
      "/src/core/wasm/%2e%2e/%2e%2e/%2e%2e/deno.json",
      "/src/core/wasm/%2E%2E%2F%2E%2E%2F%2E%2E%2Fdeno.json",
      "/src/core/wasm/..%2f..%2f..%2fdeno.json",
      "/src/core/wasm/..%5c..%5c..%5cdeno.json",
      "/src/core/wasm/..\\..\\..\\deno.json",
      "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/%252e%252e/%252e%252e/etc/passwd",
      "/tests/vectors/%00.json",
      "/index.html%00.json",
      "/src/core/wasm/%2fetc%2fpasswd",
      "//etc/passwd",
      "/src/core/wasm/.%2e/.%2e/.%2e/deno.json",
      "/.git/config",
      "/web/serve.ts",
    ];
    for (const target of outside) {
      const r = await rawGet(port, target);
      assert(r.status === 404 || r.status === 400, `${target}: ${r.status}`);
      assert(!r.body.includes('"tasks"') && !r.body.includes("root:"), `${target}: file leaked`);
    }
    const malformed = ["/%", "/%zz", "/index%2.html", "/%c0%ae%c0%ae/deno.json", "/%e0%80%ae.html"];
    for (const target of malformed) {
      assertEquals((await rawGet(port, target)).status, 400, target);
    }
    assertEquals((await rawGet(port, "/index.html")).status, 200);
    assertEquals((await rawGet(port, "/src/core/wasm/mod.js")).status, 200);
  } finally {
    ac.abort();
    await server.finished;
  }
});

Deno.test("page server: servedPath decodes once and keeps only allow-listed files", () => {
  assertEquals(servedPath("/"), "web/index.html");
  assertEquals(servedPath("/tests/vectors/sha.json"), "tests/vectors/sha.json");
  assertEquals(servedPath("/%2e%2e/deno.json"), undefined);
  assertEquals(servedPath("/%252e%252e/deno.json"), undefined);
  assertEquals(servedPath("/tests/vectors/.hidden.json"), undefined);
  assertEquals(servedPath("/src/core/wasm//mod.js"), undefined);
  let threw = false;
  try {
    servedPath("/%c0%ae");
  } catch (e) {
    threw = e instanceof URIError;
  }
  assert(threw, "an overlong UTF-8 encoding is a URIError");
});
