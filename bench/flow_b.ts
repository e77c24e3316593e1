/**
 * `deno task bench:flow-b`: flow B (CN103714641A) S1-S7 in a burst, end to
 * end, on one KMS process over HTTPS (as the servers run: `servers/kms/main.ts`
 * with its TLS certificate, the PIN pads trusting the root only), with a warm
 * HSM key-pair pool.
 *
 * Untimed: the PKI, the PIN pads' device keys and TEK pairs (`--device-keys`
 * of each, shared round robin), a device certificate per terminal, the KMS
 * started with `--key-pool-high` at least the burst, and the pool's first
 * fill. The fill's pace is the sustained rate: the pairs per second the
 * pool's workers make on this machine, which is what flow B serves once a
 * burst has emptied the pool.
 *
 * Timed: `--terminals` terminals, `--concurrency` at once, each S1 to S7
 * (S1 takes a pool pair; the PIN pad checks Pu_hsm's certificate, makes its
 * TK, passes the challenge, gets and acknowledges the TMK, KCVs compared).
 * It prints terminals/s, the latency per terminal, the CPU per terminal of
 * the KMS process (and of its main thread, its HSM worker threads and the
 * rest) and of this one (the PIN pads), the rate the KMS alone could serve
 * on this machine's CPUs as derived from its own CPU time, and the load
 * average (the machine is shared: compare ratios, not absolutes).
 *
 * `--inline N` runs N more terminals against a KMS without a pool (S1
 * generates its pair inline) for the ratio. `--cpu-prof DIR` writes the
 * KMS's V8 CPU profile to DIR (at its stop).
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { loadCore } from "../src/core/mod.ts";
import { PinPadFlowB } from "../devices/pin_pad_flow_b.ts";
import { FlowBTerminal } from "../devices/pos_flow_b.ts";
import type { KmsProcess } from "../demo/kms_process.ts";
import {
  copyPair,
  cpuSeconds,
  type FlowBFixture,
  makeFixture,
  metricsUrl,
  poolSample,
  startFlowBKms,
  threadCpu,
} from "./_flow_b_setup.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    terminals: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "32" },
    "pool-workers": { type: "string", default: "2" },
    "pool-batch": { type: "string", default: "16" },
    "device-keys": { type: "string", default: "16" },
    inline: { type: "string", default: "0" },
    "cpu-prof": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (flags.help) {
  console.log(
    "deno task bench:flow-b [--terminals 1000] [--concurrency 32] [--pool-workers 2]\n" +
      "  [--pool-batch 16] [--device-keys 16] [--inline 0] [--cpu-prof DIR]",
  );
  Deno.exit(0);
}
function int(name: keyof typeof flags, min: number): number {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`--${name} must be an integer >= ${min}, got ${flags[name]}`);
  }
  return v;
}
const terminals = int("terminals", 1);
const concurrency = int("concurrency", 1);
const poolWorkers = int("pool-workers", 1);
const deviceKeys = int("device-keys", 1);
const inline = int("inline", 0);

const core = await loadCore("wasm");
const load = () => Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
const sns = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(6, "0")}`);

/** Runs `list` through S1-S7, `concurrency` at once; latencies in ms. */
async function burst(kms: KmsProcess, f: FlowBFixture, list: string[]): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const one = async (i: number) => {
    const sn = list[i];
    const pad = new PinPadFlowB({
      kmsRoot: f.root.certificate,
      kmsCa: f.kmsCa.certificate,
      core,
      storageKey: crypto.getRandomValues(new Uint8Array(24)),
      device: f.devices.get(sn)!,
      makeTek: () => Promise.resolve(copyPair(f.teks[i % f.teks.length])),
    });
    const t0 = performance.now();
    const r = await new FlowBTerminal({ sn, pinPad: pad, transport: kms.devices, kmsUrl: kms.url })
      .run();
    latencies.push(performance.now() - t0);
    if (r.state !== "delivered" || r.kmsKcv !== r.pinPadKcv) {
      throw new Error(`${sn}: ${r.state}, KMS KCV ${r.kmsKcv}, PIN pad KCV ${r.pinPadKcv}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, async () => {
    while (next < list.length) await one(next++);
  }));
  return latencies;
}

/** Times a burst: wall seconds, CPU seconds of the KMS and of this process, latencies. */
async function timed(kms: KmsProcess, f: FlowBFixture, list: string[]) {
  const kms0 = await cpuSeconds(kms.pid);
  const threads0 = await threadCpu(kms.pid);
  const me0 = process.cpuUsage();
  const t0 = performance.now();
  const latencies = await burst(kms, f, list);
  const wall = (performance.now() - t0) / 1000;
  const me = process.cpuUsage(me0);
  const threads1 = await threadCpu(kms.pid);
  return {
    wall,
    kmsCpu: (await cpuSeconds(kms.pid)) - kms0,
    threads: {
      main: threads1.main - threads0.main,
      workers: threads1.workers - threads0.workers,
      other: threads1.other - threads0.other,
    },
    devicesCpu: (me.user + me.system) / 1e6,
    latencies: latencies.sort((a, b) => a - b),
  };
}

function report(name: string, n: number, r: Awaited<ReturnType<typeof timed>>): number {
  const rate = n / r.wall;
  const pct = (p: number) => r.latencies[Math.min(n - 1, Math.floor(p * n))].toFixed(0);
  console.log(
    `${name}: ${n} terminals in ${r.wall.toFixed(2)} s = ${rate.toFixed(1)} terminals/s ` +
      `(concurrency ${concurrency}); latency p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms; CPU per ` +
      `terminal: KMS ${(1000 * r.kmsCpu / n).toFixed(1)} ms, PIN pads ${
        (1000 * r.devicesCpu / n).toFixed(1)
      } ms; load ${load()}`,
  );
  const ms = (s: number) => (1000 * s / n).toFixed(1);
  console.log(
    `  KMS threads per terminal: main thread ${ms(r.threads.main)} ms, HSM workers ` +
      `${ms(r.threads.workers)} ms, other (V8 GC and compiler, I/O) ${ms(r.threads.other)} ms`,
  );
  // What the KMS alone could serve with the machine's CPUs to itself, from its CPU time: the
  // whole process's share of them, and its main thread's one CPU. Derived, not measured: the
  // PIN pads run on the same CPUs here.
  const cpus = navigator.hardwareConcurrency;
  const byProcess = cpus * n / r.kmsCpu;
  const byMain = n / r.threads.main;
  console.log(
    `  KMS alone on ${cpus} CPUs, derived from its CPU time: at most ` +
      `${Math.min(byProcess, byMain).toFixed(0)} terminals/s (all threads ${
        byProcess.toFixed(0)
      }/s, main thread ${byMain.toFixed(0)}/s; goal 200/s)`,
  );
  return rate;
}

console.log(
  `flow B burst: ${terminals} terminals, concurrency ${concurrency}, pool workers ` +
    `${poolWorkers}, ${navigator.hardwareConcurrency} CPUs; load ${load()}`,
);
const all = sns("FB", terminals);
const f = await makeFixture(core, [...all, ...sns("FI", inline)], deviceKeys);
console.log(`setup: PKI, ${deviceKeys} device keys and TEK pairs, ${f.devices.size} certificates`);

const high = terminals + concurrency;
const profile = flags["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${flags["cpu-prof"]}`] : [];
const { kms, dir } = await startFlowBKms(core, f, [
  "--key-pool-high",
  String(high),
  "--key-pool-low",
  "0",
  "--key-pool-workers",
  String(poolWorkers),
  "--key-pool-batch",
  String(int("pool-batch", 1)),
  "--metrics-port",
  "0",
], profile);
let rates: { burst: number; sustained: number } | undefined;
try {
  // The first fill, from empty to high water: the sustained rate (pairs/s).
  const url = await metricsUrl(kms);
  const fill0 = performance.now();
  const kmsFill0 = await cpuSeconds(kms.pid);
  let s = await poolSample(url);
  const ready0 = s.ready;
  while (s.ready < high) {
    await new Promise((r) => setTimeout(r, 250));
    s = await poolSample(url);
  }
  const fillS = (performance.now() - fill0) / 1000;
  const sustained = (high - ready0) / fillS;
  console.log(
    `pool fill: ${high - ready0} pairs in ${fillS.toFixed(1)} s = ${
      sustained.toFixed(1)
    } pairs/s on ` +
      `${poolWorkers} workers (KMS CPU ${(await cpuSeconds(kms.pid) - kmsFill0).toFixed(1)} s); ` +
      `load ${load()}`,
  );
  const r = timed(kms, f, all);
  const burstRate = report("burst (warm pool)", terminals, await r);
  const after = await poolSample(url);
  console.log(
    `pool after the burst: ${after.ready} ready, ${after.key_pool_taken ?? 0} taken, ` +
      `${after.key_pool_empty ?? 0} S1s found it empty`,
  );
  rates = { burst: burstRate, sustained };
} finally {
  await kms.stop();
  await Deno.remove(dir, { recursive: true });
}

if (inline > 0) {
  const { kms: k2, dir: d2 } = await startFlowBKms(core, f, ["--key-pool-high", "0"]);
  try {
    const r = await timed(k2, f, sns("FI", inline));
    const rate = report("inline (no pool)", inline, r);
    console.log(`burst / inline: ${(rates!.burst / rate).toFixed(1)}x`);
  } finally {
    await k2.stop();
    await Deno.remove(d2, { recursive: true });
  }
}
console.log(
  `summary: burst ${rates!.burst.toFixed(1)} terminals/s (goal >= 200), sustained ` +
    `${rates!.sustained.toFixed(1)} pairs/s (the pool's refill rate); burst / sustained ` +
    `${(rates!.burst / rates!.sustained).toFixed(1)}x; load ${load()}`,
);
