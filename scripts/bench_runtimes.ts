/**
 * `deno task bench:runtimes [seconds]`: runs bench/runtimes_bench.mjs on the
 * @tmk/wasm-core package in Deno, Node.js, Bun and headless Chromium, one
 * after the other, and prints one Markdown table (operations per second, MB/s
 * for SHA-256) for bench/README.md. `seconds` is the time per item (default 1).
 *
 * @module
 */
import { servePage } from "../web/serve.ts";
import { bunPath, ensureNpmRuntimes, playwrightDir } from "./_runtimes.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const seconds = Deno.args[0] ?? "1";
if (!(Number(seconds) > 0)) {
  throw new RangeError(`seconds must be a positive number, got ${seconds}`);
}

interface Bench {
  runtime: string;
  tdes16: number;
  sha1k: number;
  sha1m: number;
  rsa2048: number;
}

async function bench(cmd: string, args: string[]): Promise<Bench> {
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, stdin: "null", stderr: "inherit" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("BENCH "));
  if (!out.success || line === undefined) {
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}): ${text.slice(-300)}`);
  }
  return JSON.parse(line.slice(6)) as Bench;
}

const installError = await ensureNpmRuntimes();
if (installError) throw new Error(installError);
const rows: Bench[] = [];
rows.push(
  await bench(Deno.execPath(), ["run", "--allow-read=.", "bench/runtimes_cli.mjs", seconds]),
);
rows.push(
  await bench("node", ["--disable-warning=ExperimentalWarning", "bench/runtimes_cli.mjs", seconds]),
);
rows.push(await bench(bunPath(), ["bench/runtimes_cli.mjs", seconds]));
{
  const ac = new AbortController();
  const { server, url } = servePage(0, ac.signal);
  try {
    rows.push(await bench("node", ["bench/runtimes_chromium.mjs", url, playwrightDir(), seconds]));
  } finally {
    ac.abort();
    await server.finished;
  }
}

const f = (x: number, digits = 0) =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
console.log(
  "| runtime | TDES-ECB 16 B, fresh key (ops/s) | SHA-256 1 KiB (ops/s, MB/s) | SHA-256 1 MiB (MB/s) | RSA-2048 private, CRT (ops/s) |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(
    `| ${r.runtime} | ${f(r.tdes16)} | ${f(r.sha1k)} (${f((r.sha1k * 1024) / 1e6, 1)}) | ${
      f(r.sha1m * 1.048576, 1)
    } | ${f(r.rsa2048, 1)} |`,
  );
}
