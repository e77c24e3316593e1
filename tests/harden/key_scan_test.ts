/**
 * Key scan: no clear key the HSMs created or
 * recovered appears in anything a run leaves behind.
 *
 * Each run is a child process (`_key_scan_run.ts`): the demo (flow A, flow
 * B and TR-34 2-pass over real HTTP sockets, KMS and MTMS servers), then the
 * error paths of the three flows against the same servers. Its software HSMs have the
 * test-only key observer, which sends every clear key they create or recover
 * to this test over a loopback socket. The child's `TMPDIR` is a directory of
 * this test, so every temporary file it makes is found. Afterwards this test
 * searches, for every 8-byte window of every observed key (raw, hex in any
 * case, base64 and base64url; `_key_scan.ts`):
 *
 * - every file the run left: the SQLite databases with their `-wal` and
 *   `-shm` (copied while the servers ran, and after they stopped), the server
 *   logs, the KMS CA files, every temporary file;
 * - every HTTP request and response, headers and bodies (`http.jsonl`);
 * - the child's stdout and stderr (the demo's output and the error paths'
 *   messages) and every error answer;
 * - with `KMS_TEST_DATABASE_URL`: a second run on PostgreSQL, `pg_dump` of
 *   its two schemas, and what PostgreSQL's server log gained during the run
 *   (when this test can read it).
 *
 * 0 hits are required. A control run plants windows of observed keys in each
 * kind of artefact, each in another encoding, and the scan must find every one
 * of them (a scan that cannot fail would prove nothing).
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import postgres from "postgres";
import { figure, LONG, size, Tally } from "./_figures.ts";
import { type Hit, KeyScanner, type Secret } from "./_key_scan.ts";

const RUN = new URL("./_key_scan_run.ts", import.meta.url).pathname;
const PG_URL = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";

interface ObservedLine {
  origin: string;
  what: string;
  hex: string;
}

interface Artefact {
  /** Its kind (database, log, HTTP exchange, temporary file, ...). */
  kind: string;
  name: string;
  bytes: Uint8Array;
}

interface RunResult {
  keys: ObservedLine[];
  artefacts: Artefact[];
  /** How the PostgreSQL tables were dumped, if the run used PostgreSQL. */
  dump?: string;
  stdout: string;
  code: number;
}

const enc = new TextEncoder();

async function hasPgDump(): Promise<boolean> {
  try {
    const r = await new Deno.Command("pg_dump", { args: ["--version"], stdout: "null" }).output();
    return r.success;
  } catch {
    return false;
  }
}

/** The PostgreSQL schemas as text: `pg_dump` if installed, else a SELECT of every table. */
async function dumpSchemas(schemas: string[]): Promise<{ text: Uint8Array; how: string }> {
  if (await hasPgDump()) {
    const r = await new Deno.Command("pg_dump", {
      args: ["--no-owner", ...schemas.flatMap((s) => ["--schema", s]), PG_URL],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(r.success, `pg_dump failed: ${new TextDecoder().decode(r.stderr)}`);
    return { text: r.stdout, how: "pg_dump" };
  }
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  let out = "";
  try {
    for (const s of schemas) {
      const tables = await sql`SELECT table_name FROM information_schema.tables
        WHERE table_schema = ${s} ORDER BY table_name`;
      for (const t of tables) {
        const rows = await sql.unsafe(`SELECT * FROM ${s}.${t.table_name}`);
        out += `-- ${s}.${t.table_name}\n${
          JSON.stringify(rows, (_k, v) => v instanceof Uint8Array ? `\\x${toHexLower(v)}` : v)
        }\n`;
      }
    }
  } finally {
    await sql.end();
  }
  return { text: enc.encode(out), how: "SELECT * of every table (pg_dump not installed)" };
}

function toHexLower(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

async function dropSchemas(schemas: string[]): Promise<void> {
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    for (const s of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  } finally {
    await sql.end();
  }
}

/** Where PostgreSQL's server logs are (Debian's packages; the cluster CI starts). */
const PG_LOG_DIR = "/var/log/postgresql";

/** Each readable PostgreSQL server log and its size now (none if the directory is not readable). */
async function pgLogSizes(): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  try {
    for await (const e of Deno.readDir(PG_LOG_DIR)) {
      if (!e.isFile || !e.name.endsWith(".log")) continue;
      const path = `${PG_LOG_DIR}/${e.name}`;
      try {
        const f = await Deno.open(path);
        f.close();
        sizes.set(path, (await Deno.stat(path)).size);
      } catch (err) {
        if (!(err instanceof Deno.errors.PermissionDenied)) throw err;
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied)) {
      throw err;
    }
  }
  return sizes;
}

/** What each log gained since `before` (the whole file if it was rotated). */
async function pgLogTails(before: Map<string, number>): Promise<Artefact[]> {
  const out: Artefact[] = [];
  for (const [path, size] of await pgLogSizes()) {
    const from = (before.get(path) ?? 0) <= size ? (before.get(path) ?? 0) : 0;
    const f = await Deno.open(path);
    try {
      await f.seek(from, Deno.SeekMode.Start);
      const bytes = new Uint8Array(size - from);
      let n = 0;
      while (n < bytes.length) {
        const r = await f.read(bytes.subarray(n));
        if (r === null) break;
        n += r;
      }
      out.push({
        kind: "PostgreSQL server log (the run's part)",
        name: path,
        bytes: bytes.subarray(0, n),
      });
    } finally {
      f.close();
    }
  }
  return out;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(p);
    else if (e.isFile) yield p;
  }
}

function kindOf(rel: string): string {
  if (rel.startsWith("tmp/")) return "temporary file";
  if (rel.startsWith("run/removed/")) return "temporary file (removed during the run)";
  if (rel === "run/http.jsonl") return "HTTP traffic (whole record)";
  if (/\.db$/.test(rel)) return "SQLite database file";
  if (/\.db-wal$/.test(rel)) return "SQLite -wal";
  if (/\.db-shm$/.test(rel)) return "SQLite -shm";
  if (/\.log$/.test(rel)) return "server log";
  return "other file of the run";
}

/**
 * One child run and everything it left.
 *
 * @param o sizes, PostgreSQL or not, control (plant) or not.
 */
async function run(
  o: { terminals: number; flowB: number; pg: "none" | "kms" | "both"; plant: boolean },
): Promise<RunResult> {
  const root = await Deno.makeTempDir({ prefix: "key-scan-" });
  await Deno.mkdir(`${root}/tmp`);
  const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const schemas = o.pg === "none" ? [] : o.pg === "kms" ? [`t_ks_kms_${tag}`] : [
    `t_ks_kms_${tag}`,
    `t_ks_mtms_${tag}`,
  ];
  const pgUrl = (s: string) => `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}schema=${s}`;
  const pgLogsBefore = schemas.length > 0 ? await pgLogSizes() : new Map<string, number>();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received = (async () => {
    const conn = await listener.accept();
    const chunks: Uint8Array[] = [];
    for await (const c of conn.readable) chunks.push(c);
    return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
  })();
  try {
    const args = [
      "run",
      "--allow-all",
      RUN,
      "--dir",
      `${root}/run`,
      "--terminals",
      String(o.terminals),
      "--flow-b-terminals",
      String(o.flowB),
    ];
    if (schemas.length > 0) {
      args.push("--kms-db", pgUrl(schemas[0]));
      args.push("--mtms-db", schemas[1] ? pgUrl(schemas[1]) : `${root}/run/data/mtms.db`);
    }
    if (o.plant) args.push("--plant");
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      env: {
        TMPDIR: `${root}/tmp`,
        TMK_TEST_KEY_OBSERVER: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, `the run failed:\n${stdout}\n${stderr}`);
    const keys = (await received).split("\n").filter((l) => l !== "").map((l) => {
      const [origin, what, hex] = l.split("\t");
      return { origin, what, hex };
    });

    const artefacts: Artefact[] = [
      { kind: "stdout", name: "stdout", bytes: out.stdout },
      { kind: "stderr", name: "stderr", bytes: out.stderr },
    ];
    for await (const path of walk(root)) {
      const rel = path.slice(root.length + 1);
      artefacts.push({ kind: kindOf(rel), name: rel, bytes: await Deno.readFile(path) });
    }
    // The HTTP record, split by part; error answers and printed errors as "error messages".
    const parts: Record<string, string[]> = {
      "HTTP request headers": [],
      "HTTP request bodies": [],
      "HTTP response headers": [],
      "HTTP response bodies": [],
      "error messages": [],
    };
    const http = await Deno.readTextFile(`${root}/run/http.jsonl`);
    let exchanges = 0;
    for (const line of http.split("\n").filter((l) => l !== "")) {
      const x = JSON.parse(line);
      exchanges++;
      parts["HTTP request headers"].push(`${x.method} ${x.url}`, ...x.requestHeaders.flat());
      parts["HTTP request bodies"].push(x.requestBody);
      parts["HTTP response headers"].push(String(x.status), ...x.responseHeaders.flat());
      parts["HTTP response bodies"].push(x.responseBody);
      if (x.status >= 400) parts["error messages"].push(x.responseBody);
    }
    parts["error messages"].push(
      ...stdout.split("\n").filter((l) => l.startsWith("error path ")),
      ...stderr.split("\n").filter((l) => /error/i.test(l)),
    );
    for (const [kind, texts] of Object.entries(parts)) {
      artefacts.push({
        kind,
        name: `${kind} (${texts.length})`,
        bytes: enc.encode(texts.join("\n")),
      });
    }
    assert(exchanges > 0, "HTTP exchanges were recorded");
    let dump: string | undefined;
    if (schemas.length > 0) {
      const d = await dumpSchemas(schemas);
      dump = d.how;
      artefacts.push({
        kind: "PostgreSQL dump",
        name: `${d.how} ${schemas.join(", ")}`,
        bytes: d.text,
      });
      artefacts.push(...await pgLogTails(pgLogsBefore));
    }
    return { keys, artefacts, dump, stdout, code: out.code };
  } finally {
    try {
      listener.close();
    } catch { /* already closed */ }
    await received.catch(() => "");
    if (schemas.length > 0) await dropSchemas(schemas);
    await Deno.remove(root, { recursive: true });
  }
}

const fromHex = (h: string) => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));

/** The distinct observed keys (all origins but "device") and the device keys. */
function secretsOf(keys: ObservedLine[]): { hsm: Map<string, ObservedLine>; secrets: Secret[] } {
  const hsm = new Map<string, ObservedLine>();
  const all = new Map<string, ObservedLine>();
  for (const k of keys) {
    if (!k.origin.startsWith("device") && !hsm.has(k.hex)) hsm.set(k.hex, k);
    if (!all.has(k.hex)) all.set(k.hex, k);
  }
  return {
    hsm,
    secrets: [...all.values()].map((k) => ({
      name: `${k.origin}: ${k.what}`,
      bytes: fromHex(k.hex),
    })),
  };
}

const ORIGINS = [
  "lmk",
  "component",
  "formed",
  "generated",
  "imported",
  "unwrapped",
  "derived",
  "rsa-private",
];

/** Whether this test can read PostgreSQL's server log (CI runs as root: yes). */
const pgLogReadable = PG_URL !== "" && (await pgLogSizes()).size > 0;

const terminals = size(3, 20);
const flowB = size(2, 10);

Deno.test(
  `key scan of a demo run with error paths (SQLite${
    PG_URL ? " and PostgreSQL" : ""
  }): 0 hits; the control run's plants all found`,
  async () => {
    const runs: { name: string; r: RunResult }[] = [
      { name: "SQLite", r: await run({ terminals, flowB, pg: "none", plant: false }) },
    ];
    if (PG_URL) {
      runs.push({
        name: "PostgreSQL",
        r: await run({ terminals, flowB, pg: "both", plant: false }),
      });
    } else {
      console.log("key scan on PostgreSQL skipped: KMS_TEST_DATABASE_URL not set");
    }

    let hitsTotal = 0, custodianHits = 0, deviceOnly = 0;
    const kinds = new Tally();
    const origins = new Tally();
    let keysTotal = 0, bytes = 0, artefacts = 0, windows = 0, positions = 0, errorPaths = 0;
    const needles = new Tally();
    for (const { name, r } of runs) {
      const { hsm, secrets } = secretsOf(r.keys);
      // The observer saw every kind of key, and every key the PIN pads ended with.
      for (const o of ORIGINS) {
        assert([...hsm.values()].some((k) => k.origin === o), `${name}: observed ${o} keys`);
      }
      for (const k of r.keys.filter((k) => k.origin === "device")) {
        assert(hsm.has(k.hex), `${name}: the HSMs' observer saw the ${k.what}`);
      }
      const devices = r.keys.filter((k) => k.origin === "device").length;
      assert(devices >= 2 * terminals + 2 * flowB, `${name}: ${devices} device keys`);
      for (const k of hsm.values()) origins.add(k.origin);
      keysTotal += hsm.size;
      deviceOnly += new Set(r.keys.filter((k) => k.origin === "device-only").map((k) => k.hex))
        .size;

      const scanner = new KeyScanner(secrets);
      const hits: Hit[] = [];
      for (const a of r.artefacts) {
        hits.push(...scanner.scan(`${name}: ${a.kind}: ${a.name}`, a.bytes));
        kinds.add(a.kind);
      }
      for (
        const kind of [
          "SQLite database file",
          "SQLite -wal",
          "SQLite -shm",
          "server log",
          "HTTP request headers",
          "HTTP response bodies",
          "stdout",
          "stderr",
          "error messages",
          ...(name === "PostgreSQL" ? ["PostgreSQL dump"] : []),
        ]
      ) {
        if (name === "PostgreSQL" && kind.startsWith("SQLite")) continue;
        assert(r.artefacts.some((a) => a.kind === kind && a.bytes.length > 0), `${name}: ${kind}`);
      }
      if (name === "PostgreSQL" && pgLogReadable) {
        // what the server logged during the run (possibly nothing: it is still scanned)
        assert(r.artefacts.some((a) => a.kind === "PostgreSQL server log (the run's part)"));
      }
      const errors = r.stdout.split("\n").filter((l) => l.startsWith("error path ")).length;
      // 29 of flows A and B, 6 of TR-34 (`_key_scan_tr34.ts`).
      assertEquals(errors, 35, `${name}: every error path ran`);
      errorPaths += errors;
      // The demo's key ceremony (demo/flow_b.ts kmsCaForKms) writes the KMS CA private key
      // as a PEM file to a custodian directory under TMPDIR, imports it under the KMS's LMK
      // and removes the directory: that file stands for the custodian's media and holds the
      // CA key by design. It is the only hit allowed, and the scan must find it there (the CA
      // key's parts as the KMS's HSM recovered them for signing: usage S1).
      const ceremony = (h: Hit) =>
        /run\/removed\/[0-9]+-kms-ca\.key$/.test(h.artefact) &&
        /^rsa-private: (d|p|q|dp|dq|qi) of an RSA key \(.* S1\/R\/S\)$/.test(h.secret);
      assert(hits.some(ceremony), `${name}: the custodian's PEM of the KMS CA key was scanned`);
      custodianHits += hits.filter(ceremony).length;
      const leaks = hits.filter((h) => !ceremony(h));
      assertEquals(
        leaks.map((h) => `${h.secret} in ${h.artefact} as ${h.encoding} at ${h.offset}`),
        [],
        `${name}: clear keys found`,
      );
      hitsTotal += leaks.length;
      bytes += scanner.totals.bytes;
      artefacts += scanner.totals.artefacts;
      positions += scanner.totals.positions;
      windows += scanner.windows;
      for (const [k, v] of Object.entries(scanner.needles)) {
        for (let i = 0; i < v; i++) {
          needles.add(k);
        }
      }
    }

    // The control run: plants in each kind of artefact, each found in its encoding.
    const c = await run({ terminals: 1, flowB: 1, pg: PG_URL ? "kms" : "none", plant: true });
    const cs = new KeyScanner(secretsOf(c.keys).secrets);
    const found = new Map<string, Set<string>>();
    for (const a of c.artefacts) {
      for (const h of cs.scan(a.kind, a.bytes)) {
        if (!found.has(a.kind)) found.set(a.kind, new Set());
        found.get(a.kind)!.add(h.encoding + (h.unwrapped ? " (over lines)" : ""));
      }
    }
    const expected: [string, string[]][] = [
      ["SQLite database file", ["raw"]],
      ["SQLite -wal", ["raw"]],
      ["server log", ["base64url", "base64"]],
      ["HTTP request headers", ["base64url", "base64"]],
      ["HTTP request bodies", ["hex lower"]],
      ["HTTP traffic (whole record)", ["hex lower"]],
      ["stdout", ["hex upper"]],
      ["stderr", ["base64"]],
      ["error messages", ["hex mixed"]],
      ["temporary file", ["raw"]],
      ["temporary file", ["base64 (over lines)"]],
      ...(PG_URL ? [["PostgreSQL dump", ["hex lower"]] as [string, string[]]] : []),
      ...(PG_URL && pgLogReadable
        ? [["PostgreSQL server log (the run's part)", ["hex upper"]] as [string, string[]]]
        : []),
    ];
    for (const [kind, encodings] of expected) {
      const got = found.get(kind) ?? new Set();
      assert(
        encodings.some((e) => got.has(e)),
        `control run: a key planted in ${kind} as ${encodings.join(" or ")} was found (found: ${
          [...got].join(", ") || "nothing"
        })`,
      );
    }

    const runNames = runs.map((r) => r.name).join(" + ");
    figure(
      "key-scan",
      [
        `${runNames} runs (flow A ${terminals} + flow B ${flowB} + TR-34 2 terminals each, ` +
        `${errorPaths} error paths)`,
        `keys observed ${keysTotal} (${origins}) plus ${deviceOnly} PIN pad keys no HSM holds`,
        `artefacts ${artefacts} (${kinds})`,
        `bytes scanned ${bytes}`,
        `windows ${windows} (needles ${needles})`,
        `positions checked ${positions}`,
        `hits ${hitsTotal} (besides ${custodianHits} in the custodian's PEM of the KMS CA key ` +
        `that the demo's ceremony writes and removes)`,
        `control run: ${expected.length} plants (${expected.map(([k]) => k).join(", ")}), ` +
        `${expected.length} found`,
        ...(runs[1]?.r.dump ? [`PostgreSQL dumped with ${runs[1].r.dump}`] : []),
        ...(PG_URL
          ? [
            pgLogReadable
              ? `PostgreSQL server log: the part written during each run`
              : `PostgreSQL server log not readable here (${PG_LOG_DIR}): not scanned`,
          ]
          : []),
      ].join("; ") + (LONG ? " [long]" : ""),
    );
  },
);
