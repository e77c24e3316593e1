/**
 * `deno task demo`: flow A (CN103714639A) end to end over HTTP for a
 * production order of POS terminals, then flow B (CN103714641A, remote
 * download with mutual authentication) on the same KMS for terminals of its
 * own. For each flow it prints one terminal's steps with the patent's step
 * numbers and a table of every terminal with the KCVs on both sides; then
 * one summary line per flow (flow A's, then flow B's, last); exits 1 if any
 * terminal of either flow failed.
 *
 * Flags: `--terminals N` (flow A, default 20), `--flow-b-terminals N` (flow
 * B, default 10; 0 skips flow B), `--data-dir DIR` (default: a new
 * temporary directory), `--core wasm|js` (default: the default core),
 * `--insecure-http` (plain HTTP; default: HTTPS with certificates from the
 * demo's CA, S14 over mutual TLS).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type CoreName, type CryptoCore, loadCore } from "../src/core/mod.ts";
import { jsonLogger } from "../servers/_lib/log.ts";
import { type DemoOptions, type DemoResult, runDemo } from "./run.ts";
import { formatFlowB } from "./flow_b.ts";

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
      "data-dir": { type: "string" },
      core: { type: "string" },
      "order-id": { type: "string" },
      "insecure-http": { type: "boolean", default: false },
    },
    strict: true,
  });
  const terminals = Number(values.terminals);
  if (!/^[0-9]+$/.test(values.terminals!) || terminals < 1 || terminals > 10000) {
    console.error(`--terminals must be an integer from 1 to 10000, got ${values.terminals}`);
    return 2;
  }
  const flowBTerminals = Number(values["flow-b-terminals"]);
  if (!/^[0-9]+$/.test(values["flow-b-terminals"]!) || flowBTerminals > 10000) {
    console.error(
      `--flow-b-terminals must be an integer from 0 to 10000, got ${values["flow-b-terminals"]}`,
    );
    return 2;
  }
  const { result: onResult, ...demoHooks } = hooks;
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
      core,
      dataDir,
      orderId: values["order-id"],
      insecureHttp: values["insecure-http"],
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
  // Flow A's time without flow B's (which ran on the same KMS afterwards).
  const seconds = ((performance.now() - started - (result.flowB?.ms ?? 0)) / 1000).toFixed(1);

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
  // Flow B's section (its own terminals, same KMS), then both summary lines, flow B's last.
  const flowBLines = result.flowB ? formatFlowB(result.flowB, core.name) : [];
  if (result.flowB) {
    console.log("");
    for (const l of flowBLines.slice(0, -1)) console.log(l);
  }
  console.log(
    `flow A: ${ok}/${result.rows.length} terminals got their TMK (S1-S17 over HTTP, KCVs match on both sides), ${failed} failed, ${seconds} s, core ${core.name}`,
  );
  if (result.flowB) console.log(flowBLines.at(-1));
  const flowBFailed = result.flowB ? result.flowB.rows.filter((r) => !r.ok).length : 0;
  return failed === 0 && flowBFailed === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
