/**
 * The core's demo page and a static file server for the browser checks:
 * serves web/ at `/`, and the files a browser needs to run the
 * @tmk/wasm-core package and its checks (src/core/wasm/, tests/runtimes/,
 * tests/vectors/; bench/runtimes_bench.mjs for `deno task bench:runtimes`)
 * under their repository paths, so relative imports resolve
 * the same as on disk. Nothing else of the repository is served.
 *
 * Usage: `deno task page` (listens on 127.0.0.1:8088; `--port N` to change,
 * `--port 0` for any free port).
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/** The repository folders served, besides web/ at `/`. */
export const SERVED_PREFIXES = [
  "/src/core/wasm/",
  "/tests/runtimes/",
  "/tests/vectors/",
  "/bench/runtimes_bench.mjs",
];

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
};

function notFound(): Response {
  return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
}

function badRequest(what: string): Response {
  return new Response(`bad request: ${what}\n`, {
    status: 400,
    headers: { "content-type": "text/plain" },
  });
}

/**
 * What a decoded path may contain: letters, digits, `_`, `-`, `.` and `/`.
 * Anything else (`%` left by a double encoding, a backslash, a NUL, a control
 * or non-ASCII character) is refused before the file system is asked.
 */
const SAFE_PATH = /^\/[A-Za-z0-9_.\/-]*$/;

/**
 * The repository-relative file a request path names, or `undefined` if it
 * names nothing served. The path is decoded once; a segment that is empty,
 * `.`, `..` or starts with a dot is refused, so no encoding (double,
 * `%2e%2e`, backslashes, overlong UTF-8, NUL) can leave the allow-list.
 *
 * @param raw the URL's pathname, still percent-encoded.
 * @returns the relative path, or `undefined`.
 * @throws {URIError} for a malformed percent-encoding (overlong UTF-8 included).
 */
export function servedPath(raw: string): string | undefined {
  let path = decodeURIComponent(raw);
  if (!SAFE_PATH.test(path)) return undefined;
  if (path === "/") path = "/index.html";
  const segments = path.slice(1).split("/");
  if (segments.some((s) => s === "" || s.startsWith("."))) return undefined;
  const inRepo = SERVED_PREFIXES.some((p) => path.startsWith(p));
  const rel = inRepo ? path.slice(1) : `web${path}`;
  const dot = rel.lastIndexOf(".");
  if (dot < 0 || TYPES[rel.slice(dot)] === undefined) return undefined;
  return rel;
}

/** The folders served files must really be in (after symbolic links are followed). */
async function insideServedFolder(rel: string): Promise<boolean> {
  const real = await Deno.realPath(new URL(rel, ROOT));
  const root = await Deno.realPath(ROOT);
  const allowed = ["/web/", ...SERVED_PREFIXES];
  return allowed.some((p) =>
    p.endsWith("/") ? real.startsWith(`${root}${p}`) : real === `${root}${p}`
  );
}

/**
 * Handles one request: GET/HEAD of an allow-listed file, else 404 (405 for
 * other methods, 400 for a malformed URL or percent-encoding).
 *
 * @param req the request
 * @returns the file with its content type, or an error status
 */
export async function handler(req: Request): Promise<Response> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  let rel: string | undefined;
  try {
    rel = servedPath(new URL(req.url).pathname);
  } catch {
    return badRequest("malformed URL or percent-encoding");
  }
  if (rel === undefined) return notFound();
  try {
    if (!(await insideServedFolder(rel))) return notFound();
    const body = await Deno.readFile(new URL(rel, ROOT));
    return new Response(req.method === "HEAD" ? null : body, {
      headers: {
        "content-type": TYPES[rel.slice(rel.lastIndexOf("."))],
        "cache-control": "no-store",
      },
    });
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory ||
      e instanceof Deno.errors.NotADirectory
    ) {
      return notFound();
    }
    throw e;
  }
}

/**
 * Starts the server on 127.0.0.1.
 *
 * @param port the port (0 for any free one)
 * @param signal aborts the server
 * @returns the server and its base URL
 */
export function servePage(
  port: number,
  signal?: AbortSignal,
): { server: Deno.HttpServer<Deno.NetAddr>; url: string } {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    signal,
    onListen() {},
    onError: () => new Response("internal error\n", { status: 500 }),
  }, handler);
  return { server, url: `http://127.0.0.1:${server.addr.port}` };
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--port");
  const port = i >= 0 ? Number(Deno.args[i + 1]) : 8088;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be an integer 0..65535, got ${Deno.args[i + 1]}`);
    Deno.exit(2);
  }
  const { url } = servePage(port);
  console.log(`TMK wasm core page: ${url}/`);
}
