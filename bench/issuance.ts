/**
 * Bulk TMK issuance benchmark (flow A S15, CN103714639A; docs/ARCHITECTURE.md
 * "Flow A" step 8): `deno task bench:issuance`.
 *
 * What runs is the product's own path: {@link KmsService.issueOrder} over the
 * KMS's key operations ({@link kmsKeyOps}: the software HSM unwraps TK from
 * its TR-31 block under the LMK, checks TK's SHA-256, generates a TMK, wraps
 * it under TK and under the LMK, computes its KCV) and a real store (SQLite
 * file in WAL mode, or PostgreSQL), page by page, one transaction per page.
 * The order is streamed in (TK batch import from a generator) and issued
 * page by page, so memory stays flat whatever the order size.
 *
 * Each order runs with each `--workers` count: 1 is the in-thread path (the
 * HSM on the main thread, one TMK after the other), N > 1 the HSM worker
 * pool (`src/hsm/pool.ts`: N workers issue pages while the main thread reads
 * and commits the store). Where the time goes: in-thread, by wrapping the
 * layers: the crypto core (every TDES / AES / SHA call, timed), the HSM calls
 * (minus the core's share: TR-31 assembly, CMAC logic, parity, random,
 * checks), the store calls, the rest (the service's loop).
 * With workers: the main thread's store calls (timed) and the rest of its
 * wall time (service loop, messages, waiting for the workers), and each
 * worker's HSM time (measured inside the worker) as a share of the wall
 * time. Terminals per CPU-second divide by the process's user + system CPU
 * time over every thread; on Linux the CPU time is also split by thread
 * (`/proc/self/task`: the main thread, the HSM workers' threads, which Deno
 * names `worker-N`, and the rest: V8's GC helpers, I/O), in µs per terminal;
 * on PostgreSQL, the CPU time of this machine's `postgres` processes too
 * (every session's: other clients of a shared server count).
 * Memory: the process's RSS (every thread: the main thread, the HSM
 * workers, SQLite) after the import, once the HSM is ready, when 10%, 50%
 * and 100% of the order are stored, and its peak: memory that stays flat
 * shows as the same figure at each fraction, a leak as one that grows with
 * them.
 * At the start and the end a probe spins one worker per CPU for a second and
 * prints how many CPUs the process got: on a shared machine, what the pool
 * can use at most.
 *
 * Flags: `--sizes 10000,100000,1000000`, `--stores sqlite,postgres`,
 * `--cores wasm,js`, `--workers 1,2` (default 1 and the number of CPUs;
 * repeats allowed, `1,2,1,2` interleaves runs so that both see the same load),
 * `--js-max N` (largest order run on the JS core, default 100000), `--flow-b
 * N` (iterations of the flow B costs, 0 to skip).
 * PostgreSQL from `KMS_BENCH_DATABASE_URL` or `KMS_TEST_DATABASE_URL`
 * (skipped, with a line saying so, when neither is set).
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { type CoreName, type CryptoCore, loadCore } from "../src/core/mod.ts";
import { oaepEncrypt } from "../src/crypto/mod.ts";
import { KEY_TEMPLATES } from "../src/hsm/mod.ts";
import {
  type ImportedTk,
  openPostgresStore,
  openSqliteStore,
  type Store,
} from "../src/store/mod.ts";
import {
  defaultHsmWorkers,
  type KmsKeyOps,
  kmsKeyOps,
  KmsService,
  openHsm,
  ProgressBar,
} from "../servers/kms/mod.ts";
import { randomComponents } from "../demo/setup.ts";

/** TKs of the order kept for the warm-up (the first ones made). */
const TK_POOL = 1000;

interface Timers {
  core: number;
  hsm: number;
  store: number;
}

const CORE_METHODS = [
  "tdesEncryptEcb",
  "tdesDecryptEcb",
  "tdesEncryptCbc",
  "tdesDecryptCbc",
  "aesEncryptEcb",
  "aesDecryptEcb",
  "aesEncryptCbc",
  "aesDecryptCbc",
  "sha1",
  "sha256",
  "modPow",
  "modPowPublic",
  "rsaPrivate",
] as const;

/** The core with every call timed into `t.core`. */
function timedCore(core: CryptoCore, t: Timers): CryptoCore {
  const wrapped: Record<string, unknown> = { name: core.name };
  for (const k of CORE_METHODS) {
    const f = core[k] as (...x: unknown[]) => unknown;
    wrapped[k] = (...a: unknown[]) => {
      const t0 = performance.now();
      try {
        return f.apply(core, a);
      } finally {
        t.core += performance.now() - t0;
      }
    };
  }
  return wrapped as unknown as CryptoCore;
}

/** The store with every call timed into `t.store`, and a hook after each page issued. */
function timedStore(store: Store, t: Timers, afterIssue: (n: number) => void): Store {
  return new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      return async (...a: unknown[]) => {
        const t0 = performance.now();
        try {
          return await v.apply(target, a);
        } finally {
          t.store += performance.now() - t0;
          if (prop === "issueTmks") afterIssue((a[0] as unknown[]).length);
        }
      };
    },
  });
}

/** CPU seconds (user + system) per thread id of this process, from /proc (Linux); null elsewhere. */
function threadCpu(): Map<number, { name: string; s: number }> | null {
  const out = new Map<number, { name: string; s: number }>();
  try {
    for (const t of Deno.readDirSync(`/proc/${Deno.pid}/task`)) {
      try {
        const stat = Deno.readTextFileSync(`/proc/${Deno.pid}/task/${t.name}/stat`);
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        // utime and stime, in clock ticks (USER_HZ, 100 on Linux).
        out.set(Number(t.name), { name, s: (Number(f[11]) + Number(f[12])) / 100 });
      } catch {
        // the thread ended while we looked
      }
    }
  } catch {
    return null;
  }
  return out;
}

/** CPU seconds between two {@link threadCpu} samples: main thread, HSM workers, other threads. */
function cpuByThread(
  a: Map<number, { name: string; s: number }> | null,
  b: Map<number, { name: string; s: number }> | null,
): { main: number; workers: number; other: number } | null {
  if (!a || !b) return null;
  const out = { main: 0, workers: 0, other: 0 };
  for (const [tid, t] of b) {
    const d = t.s - (a.get(tid)?.s ?? 0);
    // Deno names a Web Worker's thread "worker-N".
    if (tid === Deno.pid) out.main += d;
    else if (t.name.startsWith("worker-")) out.workers += d;
    else out.other += d;
  }
  return out;
}

/**
 * CPU seconds (user + system) of this machine's PostgreSQL server processes
 * (`postgres` in /proc, every backend of every session: on a shared server
 * this counts other clients too); null where /proc cannot be read.
 */
function postgresServerCpu(): number | null {
  let s = 0;
  try {
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^[0-9]+$/.test(e.name)) continue;
      try {
        const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
        if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) !== "postgres") continue;
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        s += (Number(f[11]) + Number(f[12])) / 100;
      } catch {
        // the process ended while we looked
      }
    }
  } catch {
    return null;
  }
  return s;
}

/**
 * How many CPUs this process can get right now: one Web Worker per CPU spins
 * for `ms` milliseconds; the process's CPU time over the wall time. On the
 * shared machine this shows how much of the second vCPU other sessions left
 * (the HSM pool cannot beat it).
 */
async function cpuProbe(ms = 1000): Promise<number> {
  const src = `self.onmessage = (e) => { const t = performance.now(); let x = 0;
    while (performance.now() - t < e.data) x++; self.postMessage(x); };`;
  const url = URL.createObjectURL(new Blob([src], { type: "application/javascript" }));
  const workers = Array.from(
    { length: navigator.hardwareConcurrency },
    () => new Worker(url, { type: "module" }),
  );
  try {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(workers.map((w) =>
      new Promise((resolve) => {
        w.onmessage = resolve;
        w.postMessage(ms);
      })
    ));
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1e3 / (performance.now() - t0);
  } finally {
    for (const w of workers) w.terminate();
    URL.revokeObjectURL(url);
  }
}

function rss(): number {
  return Deno.memoryUsage().rss;
}

const mib = (b: number) => (b / 1048576).toFixed(0);
const pct = (x: number, total: number) => `${(100 * x / total).toFixed(0)}%`;

/**
 * Fractions of the order at which RSS is sampled: memory that stays flat
 * shows as the same figure at each, a leak as a figure that grows with them.
 */
const RSS_FRACTIONS = [0.1, 0.5, 1];

interface Row {
  store: string;
  core: string;
  workers: number;
  terminals: number;
  importS: number;
  issueS: number;
  perS: number;
  /** RSS after the import (after a forced GC), before the HSM starts. */
  rssStart: number;
  /** RSS once the HSM is ready (workers started), when the clock starts. */
  rssReady: number;
  /** RSS when {@link RSS_FRACTIONS} of the order are stored. */
  rssAt: number[];
  /** The largest RSS seen after a page stored. */
  rssPeak: number;
  core_: number;
  hsm: number;
  storeMs: number;
  /** CPU seconds (user + system) of this process, every thread, during issuance. */
  cpuS: number;
  /** With workers: each worker's HSM milliseconds. */
  workerMs: number[];
  /** CPU seconds by thread during issuance (Linux), or null. */
  threads: { main: number; workers: number; other: number } | null;
  /** PostgreSQL server CPU seconds during issuance (a local server, on Linux), or null. */
  dbCpuS: number | null;
}

async function openBenchStore(
  kind: string,
  url: string,
): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (kind === "sqlite") {
    const dir = await Deno.makeTempDir({ prefix: "bench_issuance_" });
    const store = await openSqliteStore(`${dir}/kms.db`);
    return {
      store,
      cleanup: async () => {
        await store.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  }
  const schema = `bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const store = await openPostgresStore(url, { schema, maxConnections: 4 });
  return {
    store,
    cleanup: async () => {
      await store._unsafeSql(`DROP SCHEMA ${schema} CASCADE`);
      await store.close();
    },
  };
}

type TkPool = { tkBlock: string; tkKcv: string; tkHash: string }[];

/**
 * Imports an order of `n` terminals, each its own TK made under this KMS's
 * LMK (one TK per terminal), as S14 would have stored them (setup, not
 * timed); the first {@link TK_POOL} are returned for the warm-up.
 */
async function importOrder(
  raw: Store,
  lmk: string[],
  base: CryptoCore,
  label: string,
  n: number,
): Promise<{ orderId: string; pool: TkPool; importS: number }> {
  const hsm = await openHsm({
    lmkComponents: lmk,
    mode: "test",
    core: base,
    store: raw,
    actor: "kms",
  });
  const pool: TkPool = [];
  const orderId = `PO-BENCH-${n}`;
  const bar = new ProgressBar(`${label} import`, n);
  const t0 = performance.now();
  await raw.importTkBatch({
    orderId,
    bodyHash: "AB".repeat(32),
    receivedAt: new Date(),
    auditActor: "kms",
    tks: (async function* (): AsyncGenerator<ImportedTk> {
      for (let i = 0; i < n; i++) {
        if (i % 5000 === 0) bar.update(i);
        const k = await hsm.generateKey(KEY_TEMPLATES.TK);
        const tk = { tkBlock: k.keyBlock, tkKcv: k.kcv, tkHash: await hsm.keyHash(k.keyBlock) };
        if (pool.length < TK_POOL) pool.push(tk);
        yield { sn: `SN${String(i).padStart(8, "0")}`, ...tk };
      }
    })(),
  });
  bar.done();
  return { orderId, pool, importS: (performance.now() - t0) / 1000 };
}

/** What one timed issuance measured. */
interface Issued {
  issued: number;
  issueMs: number;
  cpu: { user: number; system: number };
  threads: Row["threads"];
  dbCpuS: number | null;
  workerMs: number[];
}

/**
 * Issues the order through {@link KmsService.issueOrder} on `ops`, timing
 * the HSM (in-thread only: with workers a page's time is mostly waiting),
 * the whole process's CPU and, with workers, each worker's busy time.
 */
async function timeIssuance(
  ops: KmsKeyOps,
  store: Store,
  t: Timers,
  orderId: string,
  pool: TkPool,
  workers: number,
  ready: () => void,
): Promise<Issued> {
  const timedOps: KmsKeyOps = {
    ...ops,
    issueTmks: async (tks, o) => {
      const s = performance.now();
      try {
        return await ops.issueTmks(tks, o);
      } finally {
        if (workers === 1) t.hsm += performance.now() - s;
      }
    },
  };
  if (workers > 1) {
    // Start the workers before the clock (a server starts them at its first order).
    await ops.issueTmks([{ tkBlock: pool[0].tkBlock, tkHash: pool[0].tkHash }]);
  }
  const before = (await ops.hsmStats?.())?.workers.map((w) => w.busyMs) ?? [];
  const service = new KmsService(timedOps, store);
  ready();
  t.core = 0;
  t.hsm = 0;
  t.store = 0;
  const threads0 = threadCpu();
  const db0 = postgresServerCpu();
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const r = await service.issueOrder(orderId);
  const issueMs = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  const threads = cpuByThread(threads0, threadCpu());
  const db1 = postgresServerCpu();
  const workerMs = (await ops.hsmStats?.())?.workers.map((w, i) => w.busyMs - (before[i] ?? 0)) ??
    [];
  const dbCpuS = db0 === null || db1 === null ? null : db1 - db0;
  return { issued: r.issued, issueMs, cpu, threads, workerMs, dbCpuS };
}

async function runOne(
  kind: string,
  url: string,
  coreName: CoreName,
  n: number,
  workers: number,
): Promise<Row> {
  const base = await loadCore(coreName);
  const t: Timers = { core: 0, hsm: 0, store: 0 };
  const core = timedCore(base, t);
  const { store: raw, cleanup } = await openBenchStore(kind, url);
  try {
    const lmk = await randomComponents(2, 32, base);
    const pk = await randomComponents(2, 24, base);
    const mak = await randomComponents(2, 16, base);
    const label = `${kind}/${coreName} ${n}`;
    const { orderId, pool, importS } = await importOrder(raw, lmk, base, label, n);

    (globalThis as { gc?: () => void }).gc?.();
    const rssStart = rss();
    let rssReady = rssStart;
    let rssPeak = rssStart;
    const rssAt: number[] = [];
    let done = 0;
    const issueBar = new ProgressBar(`${label} issue`, n);
    const store = timedStore(raw, t, (k) => {
      done += k;
      const now = rss();
      rssPeak = Math.max(rssPeak, now);
      while (rssAt.length < RSS_FRACTIONS.length && done >= RSS_FRACTIONS[rssAt.length] * n) {
        rssAt.push(now);
      }
      issueBar.update(done);
    });
    const ops = await kmsKeyOps({
      lmkComponents: lmk,
      hsmMode: "test",
      pkComponents: pk,
      makComponents: mak,
      core,
      store: raw,
      hsmWorkers: workers,
    });
    let m: Issued;
    try {
      m = await timeIssuance(ops, store, t, orderId, pool, workers, () => {
        rssReady = rss();
        rssPeak = Math.max(rssPeak, rssReady);
      });
    } finally {
      await ops.close();
    }
    issueBar.done();
    if (m.issued !== n) throw new Error(`issued ${m.issued} of ${n}`);
    const c = await raw.countTerminals(orderId);
    if (c.withTmk !== n) throw new Error(`${c.withTmk} of ${n} terminals have a TMK`);
    return {
      store: kind,
      core: coreName,
      workers,
      terminals: n,
      importS,
      issueS: m.issueMs / 1000,
      perS: n / (m.issueMs / 1000),
      rssStart,
      rssReady,
      rssAt,
      rssPeak,
      core_: t.core,
      hsm: t.hsm - t.core,
      storeMs: t.store,
      cpuS: (m.cpu.user + m.cpu.system) / 1e6,
      workerMs: m.workerMs,
      threads: m.threads,
      dbCpuS: kind === "postgres" ? m.dbCpuS : null,
    };
  } finally {
    await cleanup();
  }
}

/** Flow B's per-terminal RSA costs on one core, through the software HSM. */
async function flowB(coreName: CoreName, iterations: number): Promise<string> {
  const core = await loadCore(coreName);
  const dir = await Deno.makeTempDir({ prefix: "bench_flowb_" });
  const store = await openSqliteStore(`${dir}/kms.db`);
  try {
    const hsm = await openHsm({
      lmkComponents: await randomComponents(2, 32, core),
      mode: "test",
      core,
      store,
      actor: "kms",
    });
    const keygenIt = Math.max(2, Math.ceil(iterations / 4));
    let t0 = performance.now();
    let pair!: Awaited<ReturnType<typeof hsm.generateRsaKeyPair>>;
    for (let i = 0; i < keygenIt; i++) {
      pair = await hsm.generateRsaKeyPair({ bits: 2048, template: KEY_TEMPLATES.RSA_TRANSPORT });
    }
    const keygen = (performance.now() - t0) / keygenIt;
    const pub = pair.publicKey;
    const auk = new Uint8Array(16);
    crypto.getRandomValues(auk);
    const ct = await oaepEncrypt(pub, auk, { hash: "SHA-256", core });
    t0 = performance.now();
    for (let i = 0; i < iterations; i++) {
      await hsm.importKeyRsa(pair.privateKeyBlock, ct, {
        template: KEY_TEMPLATES.AUK,
        hash: "SHA-256",
      });
    }
    const decrypt = (performance.now() - t0) / iterations;
    const tmk = await hsm.generateKey(KEY_TEMPLATES.TMK);
    t0 = performance.now();
    for (let i = 0; i < iterations; i++) {
      await hsm.exportKeyRsa(tmk.keyBlock, pub, { hash: "SHA-256" });
    }
    const encrypt = (performance.now() - t0) / iterations;
    const total = keygen + decrypt + encrypt;
    return `| ${coreName} | ${keygen.toFixed(1)} ms (${keygenIt}) | ${decrypt.toFixed(2)} ms | ${
      encrypt.toFixed(2)
    } ms | ${(1000 / total).toFixed(1)} | ${(1000 / (decrypt + encrypt)).toFixed(0)} |`;
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sizes: { type: "string", default: "10000,100000,1000000" },
      stores: { type: "string", default: "sqlite,postgres" },
      cores: { type: "string", default: "wasm,js" },
      workers: { type: "string", default: `1,${defaultHsmWorkers()}` },
      "js-max": { type: "string", default: "100000" },
      "flow-b": { type: "string", default: "20" },
    },
    strict: true,
  });
  const sizes = values.sizes.split(",").map(Number);
  const jsMax = Number(values["js-max"]);
  const url = Deno.env.get("KMS_BENCH_DATABASE_URL") ?? Deno.env.get("KMS_TEST_DATABASE_URL") ??
    "";
  const stores = values.stores.split(",").filter((s) => {
    if (s === "postgres" && url === "") {
      console.log("postgres: skipped, KMS_BENCH_DATABASE_URL / KMS_TEST_DATABASE_URL not set");
      return false;
    }
    return true;
  });
  const cores = values.cores.split(",") as CoreName[];
  // Repeats allowed (`--workers 1,2,1,2`): interleaved runs see the same load.
  const workerCounts = values.workers.split(",").map(Number);
  console.log(
    `# bulk issuance, ${
      new Date().toISOString()
    }, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, load ${
      Deno.loadavg().map((x) => x.toFixed(1)).join(" ")
    }; CPU probe (${navigator.hardwareConcurrency} spinning workers, 1 s): ${
      (await cpuProbe()).toFixed(2)
    } CPUs`,
  );
  console.log(
    `| store | core | HSM workers | terminals | terminals/s | issuance | terminals per CPU-second | CPU µs per terminal: main thread / HSM workers / other threads | PostgreSQL server CPU µs per terminal | main thread wall time: store / rest | HSM | TKs made and imported | RSS: after import / HSM ready / at ${
      RSS_FRACTIONS.map((f) => `${100 * f}%`).join(", ")
    } of the order / peak |`,
  );
  console.log(
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  const rows: Row[] = [];
  const skipped: string[] = [];
  for (const kind of stores) {
    for (const c of cores) {
      for (const n of sizes) {
        if (c === "js" && n > jsMax) {
          skipped.push(`${kind}/${c}/${n}`);
          continue;
        }
        for (const workers of workerCounts) {
          const row = await runOne(kind, url, c, n, workers);
          rows.push(row);
          const wall = row.issueS * 1000;
          const hsm = row.workers === 1
            ? `in main thread: CryptoCore calls ${pct(row.core_, wall)}, HSM, key blocks and ` +
              `the issuance kernel ${pct(row.hsm, wall)} of wall time`
            : `each worker busy ${row.workerMs.map((m) => pct(m, wall)).join(", ")} of wall time`;
          const rest = row.workers === 1
            ? wall - row.core_ - row.hsm - row.storeMs
            : wall - row.storeMs;
          const us = (s: number) => (1e6 * s / row.terminals).toFixed(0);
          const th = row.threads
            ? `${us(row.threads.main)} / ${us(row.threads.workers)} / ${us(row.threads.other)}`
            : "n/a";
          console.log(
            `| ${row.store} | ${row.core} | ${row.workers} | ${row.terminals} | ${
              row.perS.toFixed(0)
            } | ${row.issueS.toFixed(1)} s | ${(row.terminals / row.cpuS).toFixed(0)} | ${th} | ${
              row.dbCpuS === null ? "-" : us(row.dbCpuS)
            } | ${pct(row.storeMs, wall)} / ${pct(rest, wall)} | ${hsm} | ${
              row.importS.toFixed(1)
            } s | ${mib(row.rssStart)} / ${mib(row.rssReady)} / ${
              row.rssAt.map(mib).join(", ")
            } / ${mib(row.rssPeak)} MB |`,
          );
        }
      }
    }
  }
  if (skipped.length) console.log(`not run (--js-max ${jsMax}): ${skipped.join(", ")}`);
  console.log(
    `# end ${new Date().toISOString()}, load ${
      Deno.loadavg().map((x) => x.toFixed(1)).join(" ")
    }; CPU probe: ${(await cpuProbe()).toFixed(2)} CPUs`,
  );
  const it = Number(values["flow-b"]);
  if (it > 0) {
    console.log(
      "\n| core | RSA-2048 key pair (iterations) | OAEP decrypt AUK | OAEP encrypt TMK | terminals/s (all three) | terminals/s (without key pair) |",
    );
    for (const c of cores) console.log(await flowB(c, it));
  }
}
