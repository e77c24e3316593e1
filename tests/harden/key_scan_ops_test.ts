/**
 * Key scan of the dual-control operations: the flow A servers' HSMs are
 * observed (`tests/hsm/observed_hsm.ts`: every clear key they create or
 * recover, among them each new PK and MAK, the key exchange keys of their
 * hand-over with their KBEK and KBAK, and the new KMS CA's private key when
 * the KMS checks it), the dual-control traffic runs (`_traffic_ops.ts`:
 * operators enrolled, PK and MAK rotated and approved, a transfer that makes
 * the MTMS fetch both new versions over S14, a KMS CA installed and
 * approved), and the key scanner (`_key_scan.ts`) searches for each of them:
 *
 * - the wire: every operator request (bodies and headers) and every call
 *   the MTMS made to the KMS, request and answer (the S14 key hand-over);
 * - the rows of `server_key_versions` (KMS and MTMS), `kms_ca` and
 *   `approvals` (the held requests' bodies, the KMS CA's among them).
 *
 * 0 hits are required; a key planted in a row is found first (the scan
 * cannot pass vacuously). On SQLite, and on PostgreSQL when
 * `KMS_TEST_DATABASE_URL` is set.
 *
 * Prints `figure key-scan-ops`.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { openPostgresStore } from "../../src/store/mod.ts";
import { observedHsmFactory, type ObservedKey } from "../hsm/observed_hsm.ts";
import { figure } from "./_figures.ts";
import { KeyScanner } from "./_key_scan.ts";
import { recordTraffic } from "./_traffic.ts";
import type { OperatorKeys } from "./_traffic_ops.ts";

const core = await loadCore("wasm");
const url = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";
const enc = new TextEncoder();
const TABLES = ["server_key_versions", "kms_ca", "approvals"];

type Rows = Record<string, Record<string, unknown>[]>;

/** The rows of the scanned tables of one database. */
async function rowsOf(db: string): Promise<Rows> {
  const out: Rows = {};
  if (db.startsWith("postgres")) {
    const store = await openPostgresStore(db, { maxConnections: 1 });
    const sql = (q: string) =>
      (store as unknown as { _unsafeSql(s: string): Promise<Record<string, unknown>[]> })
        ._unsafeSql(q);
    try {
      for (const t of TABLES) out[t] = await sql(`SELECT * FROM "${t}"`);
    } finally {
      await store.close();
    }
    return out;
  }
  const d = new DatabaseSync(db, { readOnly: true });
  try {
    for (const t of TABLES) out[t] = d.prepare(`SELECT * FROM "${t}"`).all();
  } finally {
    d.close();
  }
  return out;
}

/** A row as text (byte columns as hex, so that the scanner sees their bytes in hex too). */
function rowText(r: Record<string, unknown>): string {
  return JSON.stringify(
    r,
    (_, v) =>
      v instanceof Uint8Array ? Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("") : v,
  );
}

for (const backend of ["sqlite", "postgres"] as const) {
  const skip = backend === "postgres" && url === "";
  Deno.test({
    name: `key scan of rotation, S14 hand-over, KMS CA install and approvals: no clear key on ` +
      `the wire or in the rows [${backend}]${
        skip ? " (skipped: KMS_TEST_DATABASE_URL not set)" : ""
      }`,
    ignore: skip,
    fn: async () => {
      const seen: ObservedKey[] = [];
      const keys: OperatorKeys = new Map();
      const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
      const pg = (s: string) => `${url}${url.includes("?") ? "&" : "?"}schema=t_ks_${s}_${tag}`;
      const t = await recordTraffic(core, 0, "KS", {
        operatorKeys: keys,
        flowA: {
          hsmFactory: observedHsmFactory((k) => seen.push(k)),
          ...(backend === "postgres" ? { db: { kms: pg("kms"), mtms: pg("mtms") } } : {}),
        },
      });
      try {
        const secrets = seen.filter((k) => k.bytes.length >= 8).map((k, i) => ({
          name: `${k.origin} ${i}: ${k.what}`,
          bytes: k.bytes,
        }));
        // Among them: the new versions (generated at the KMS, imported at the MTMS), the key
        // exchange keys of the hand-over, the new KMS CA's private key.
        assert(seen.some((k) => /successor's key exchange key/.test(k.what)), "exchange keys");
        assert(
          seen.some((k) => k.origin === "rsa-private" && /^d of an RSA key \(sign/.test(k.what)),
          "the KMS CA's private key",
        );
        const scanner = new KeyScanner(secrets);

        const kmsDb = backend === "postgres" ? pg("kms") : `${t.a.dir}/kms.db`;
        const mtmsDb = backend === "postgres" ? pg("mtms") : `${t.a.dir}/mtms.db`;
        const kms = await rowsOf(kmsDb);
        const mtms = await rowsOf(mtmsDb);
        // What is scanned is there: both versions of each key at both servers, the CA, the
        // held requests (the KMS CA's body among them), the hand-over on the wire.
        assertEquals(kms.server_key_versions.length, 4, "KMS key versions");
        assertEquals(mtms.server_key_versions.length, 4, "MTMS key versions");
        assertEquals(kms.kms_ca.length, 1);
        assert(kms.approvals.some((a) => String(a.body).includes("keyBlock")), "CA approval body");
        const handOver = t.a.mtmsToKms.filter((x) => /\/versions\/2$/.test(x.url));
        assertEquals(handOver.map((x) => [x.status, x.responseBody.includes("keyBlock")]), [
          [200, true],
          [200, true],
        ]);

        // The control: a clear key planted in a row is found.
        const planted = seen.find((k) => k.origin === "generated" && k.bytes.length === 24)!;
        const row = { ...kms.server_key_versions[0], key_block: planted.bytes };
        assert(scanner.scan("planted", enc.encode(rowText(row))).length > 0, "planted key found");

        const hits = [];
        const wire = [
          ...t.recorded.map((r) => `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`),
          ...t.a.mtmsToKms.map((x) => `${x.method} ${x.url}\n${x.requestBody}\n${x.responseBody}`),
        ];
        hits.push(...scanner.scan("wire", enc.encode(wire.join("\n"))));
        let rows = 0;
        for (const [server, tables] of [["kms", kms], ["mtms", mtms]] as const) {
          for (const [table, rs] of Object.entries(tables)) {
            for (const r of rs) {
              rows++;
              hits.push(...scanner.scan(`${server} ${table}`, enc.encode(rowText(r))));
            }
          }
        }
        assertEquals(hits, []);
        figure(
          "key-scan-ops",
          `[${backend}] ${secrets.length} observed clear keys, ${wire.length} requests and ` +
            `exchanges on the wire (${handOver.length} S14 hand-overs), ${rows} rows of ` +
            `${TABLES.join(", ")}: 0 hits; a planted key found`,
        );
      } finally {
        await t.close();
        if (backend === "postgres") {
          const store = await openPostgresStore(url, { maxConnections: 1 });
          const sql = (q: string) =>
            (store as unknown as { _unsafeSql(s: string): Promise<unknown> })._unsafeSql(q);
          try {
            for (const s of ["kms", "mtms"]) {
              await sql(`DROP SCHEMA IF EXISTS t_ks_${s}_${tag} CASCADE`);
            }
          } finally {
            await store.close();
          }
        }
      }
    },
  });
}
