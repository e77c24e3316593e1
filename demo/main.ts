/**
 * `deno task demo`: flow A (CN103714639A) end to end over HTTP for a
 * production order of POS terminals, then flow B (CN103714641A, remote
 * download with mutual authentication) and TR-34 2-pass (ASC X9 TR
 * 34-2019) on the same KMS for terminals of their own. For each flow it
 * prints one terminal's steps (with the patent's step numbers, or the TR-34
 * token names) and a table of every terminal with the KCVs on both sides;
 * then one summary line per flow (flow A's, flow B's, TR-34's last); exits 1
 * if any terminal of any flow failed.
 *
 * Flags: `--terminals N` (flow A, default 20), `--flow-b-terminals N` (flow
 * B, default 10; 0 skips flow B), `--tr34-terminals N` (TR-34, default 10;
 * 0 skips it), `--data-dir DIR` (default: a new temporary directory),
 * `--core wasm|js` (default: the default core), `--insecure-http` (plain
 * HTTP; default: HTTPS with certificates from the demo's CA, S14 over
 * mutual TLS),
 * `--serve` (after the run, the servers keep running with their operator
 * consoles; their URLs and a login per role are printed; Ctrl-C stops them).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type CoreName, type CryptoCore, loadCore } from "../src/core/mod.ts";
import { jsonLogger } from "../servers/_lib/log.ts";
import { type DemoOptions, type DemoResult, runDemo } from "./run.ts";
import { formatFlowB } from "./flow_b.ts";
import { formatTr34 } from "./tr34.ts";
import { serveAfterRun } from "./console_logins.ts";

async function pickCore(name: string | undefined): Promise<{ core: CryptoCore; note: string }> {
  if (name !== undefined) {
    if (name !== "wasm" && name !== "js") {
      throw new RangeError(`--core must be wasm or js, got ${name}`);
    }
    return { core: await loadCore(name as CoreName), note: "" };
  }
  try {
    return { core: await loadCore(), note: "" };
  } catch (e) {
    return {
      core: await loadCore("js"),
      note: ` (default core unavailable: ${(e as Error).message}; using js)`,
    };
  }
}

function bar(phase: string, done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `\r${phase.padEnd(9)} [${"#".repeat(filled)}${
    ".".repeat(width - filled)
  }] ${done}/${total}`;
}

/**
 * What a test entry point may add to a demo run (the key scan,
 * `tests/harden/_key_scan_run.ts`); `deno task demo` sets none of it.
 */
export type DemoTestHooks =
  & Pick<DemoOptions, "hsmFactory" | "transport" | "beforeShutdown" | "databases" | "observe">
  & {
    /** Sees the run's result (the PIN pads, for the key scan) before the demo prints it. */
    result?: (result: DemoResult) => void;
  };

/** A terminal count flag, `min` to 10000; undefined (and the reason on stderr) if it is not. */
function count(text: string, flag: string, min: number): number | undefined {
  const n = Number(text);
  if (/^[0-9]+$/.test(text) && n >= min && n <= 10000) return n;
  console.error(`${flag} must be an integer from ${min} to 10000, got ${text}`);
  return undefined;
}

/**
 * Runs the demo with command-line flags.
 *
 * @param args command-line arguments.
 * @param hooks test hooks (never given by `deno task demo`).
 * @returns the process exit code (0 if every terminal got its TMK).
 */
export async function main(args: string[], hooks: DemoTestHooks = {}): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      terminals: { type: "string", default: "20" },
      "flow-b-terminals": { type: "string", default: "10" },
      "tr34-terminals": { type: "string", default: "10" },
      "data-dir": { type: "string" },
      core: { type: "string" },
      "order-id": { type: "string" },
      "insecure-http": { type: "boolean", default: false },
      serve: { type: "boolean", default: false },
    },
    strict: true,
  });
  const terminals = count(values.terminals!, "--terminals", 1);
  const flowBTerminals = count(values["flow-b-terminals"]!, "--flow-b-terminals", 0);
  const tr34Terminals = count(values["tr34-terminals"]!, "--tr34-terminals", 0);
  if (terminals === undefined || flowBTerminals === undefined || tr34Terminals === undefined) {
    return 2;
  }
  const { result: onResult, ...demoHooks } = hooks;
  const consoles = values.serve ? await serveAfterRun(demoHooks, () => dataDir) : undefined;
  const { core, note } = await pickCore(values.core);
  const dataDir = values["data-dir"] ?? await Deno.makeTempDir({ prefix: "tmk-demo-" });
  await Deno.mkdir(dataDir, { recursive: true });
  const enc = new TextEncoder();
  const kmsLogFile = await Deno.open(`${dataDir}/kms.log`, { create: true, append: true });
  const mtmsLogFile = await Deno.open(`${dataDir}/mtms.log`, { create: true, append: true });
  const tty = Deno.stderr.isTerminal();
  const started = performance.now();
  let result;
  try {
    result = await runDemo({
      ...demoHooks,
      terminals,
      flowBTerminals,
      tr34Terminals,
      core,
      dataDir,
      orderId: values["order-id"],
      insecureHttp: values["insecure-http"],
      console: consoles,
      kmsLog: jsonLogger((l) => kmsLogFile.writeSync(enc.encode(l + "\n"))),
      mtmsLog: jsonLogger((l) => mtmsLogFile.writeSync(enc.encode(l + "\n"))),
      progress: (phase, done, total) => {
        if (tty) {
          Deno.stderr.writeSync(enc.encode(bar(phase, done, total) + (done === total ? "\n" : "")));
        } else if (done === total || done % Math.max(1, Math.floor(total / 4)) === 0) {
          console.error(`${phase}: ${done}/${total}`);
        }
      },
    });
  } finally {
    kmsLogFile.close();
    mtmsLogFile.close();
  }
  onResult?.(result);
  // Flow A's time without flow B's and TR-34's (which ran on the same KMS afterwards).
  const others = (result.flowB?.ms ?? 0) + (result.tr34?.ms ?? 0);
  const seconds = ((performance.now() - started - others) / 1000).toFixed(1);

  console.log(`Flow A (CN103714639A), order ${result.orderId}, core ${core.name}${note}`);
  console.log(`Data and logs: ${dataDir}`);
  console.log(
    values["insecure-http"]
      ? "Sockets: plain HTTP (--insecure-http): no server identity, no confidentiality"
      : "Sockets: HTTPS with certificates from the demo's CA (devices trust its root only); " +
        "S14 over mutual TLS (the MTMS's client certificate) and MACed under MAK",
  );
  console.log("");
  console.log(`Terminal ${result.rows[0]?.sn}, step by step:`);
  for (const t of result.trace) {
    console.log(`  ${t.step.padEnd(4)} ${t.actor.padEnd(18)} ${t.text}`);
  }
  console.log("");
  const head = ["SN", "TK KCV pad", "TK KCV KMS", "TMK KCV KMS", "TMK KCV pad", "state", "result"];
  const w = [12, 11, 11, 12, 12, 10, 6];
  const line = (cells: string[]) => "  " + cells.map((c, i) => c.padEnd(w[i])).join(" ");
  console.log(line(head));
  for (const r of result.rows) {
    console.log(
      line([
        r.sn,
        r.tkKcvPad ?? "-",
        r.tkKcvKms ?? "-",
        r.tmkKcvKms ?? "-",
        r.tmkKcvPad ?? "-",
        r.state ?? "-",
        r.ok ? "ok" : "FAILED",
      ]),
    );
    if (r.error) console.log(`    ${r.error}`);
  }
  console.log("");
  const ok = result.rows.filter((r) => r.ok).length;
  const failed = result.rows.length - ok;
  const phases = Object.entries(result.timings).map(([k, v]) => `${k} ${v} ms`).join(", ");
  console.log(`  timings: ${phases}`);
  // Flow B's and TR-34's sections (their own terminals, same KMS), then the summary lines.
  const flowBLines = result.flowB ? formatFlowB(result.flowB, core.name) : [];
  if (result.flowB) {
    console.log("");
    for (const l of flowBLines.slice(0, -1)) console.log(l);
  }
  const tr34Lines = result.tr34 ? formatTr34(result.tr34, core.name) : [];
  if (result.tr34) {
    console.log("");
    for (const l of tr34Lines.slice(0, -1)) console.log(l);
  }
  console.log(
    `flow A: ${ok}/${result.rows.length} terminals got their TMK (S1-S17 over HTTP, KCVs match on both sides), ${failed} failed, ${seconds} s, core ${core.name}`,
  );
  if (result.flowB) console.log(flowBLines.at(-1));
  if (result.tr34) console.log(tr34Lines.at(-1));
  const othersFailed = [result.flowB?.rows, result.tr34?.rows]
    .flatMap((rows) => rows ?? []).filter((r) => !r.ok).length;
  return failed === 0 && othersFailed === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
