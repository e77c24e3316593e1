/**
 * The demo page's server (web/serve.ts) serves the page and the package's
 * browser files with their content types, and nothing else of the repository.
 */
import { assertEquals } from "@std/assert";
import { handler } from "../../web/serve.ts";

const get = (path: string, method = "GET") =>
  handler(new Request(`http://127.0.0.1${path}`, { method }));

Deno.test("page server: the page, the package, checks and vectors with their content types", async () => {
  const cases: [string, string][] = [
    ["/", "text/html; charset=utf-8"],
    ["/page.js", "text/javascript; charset=utf-8"],
    ["/src/core/wasm/mod.js", "text/javascript; charset=utf-8"],
    ["/src/core/wasm/tmk_core.wasm", "application/wasm"],
    ["/tests/runtimes/checks.mjs", "text/javascript; charset=utf-8"],
    ["/tests/vectors/sha.json", "application/json"],
  ];
  for (const [path, type] of cases) {
    const r = await get(path);
    await r.body?.cancel();
    assertEquals([r.status, r.headers.get("content-type")], [200, type], path);
  }
});

Deno.test("page server: refuses everything else", async () => {
  const cases: [string, string, number][] = [
    ["/src/core/wasm_core.ts", "GET", 404], // outside the served folders
    ["/deno.json", "GET", 404],
    ["/src/core/wasm/../../../deno.json", "GET", 404], // normalised by URL: /deno.json
    ["/src/core/wasm/%2e%2e/_args.ts", "GET", 404],
    ["/web/serve.ts", "GET", 404],
    ["/serve.ts", "GET", 404], // .ts never served
    ["/missing.html", "GET", 404],
    ["/tests/vectors/", "GET", 404],
    ["/", "POST", 405],
  ];
  for (const [path, method, status] of cases) {
    const r = await get(path, method);
    await r.body?.cancel();
    assertEquals(r.status, status, `${method} ${path}`);
  }
});
