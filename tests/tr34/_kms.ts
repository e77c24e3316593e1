/**
 * A KMS with a TR-34 KDH on a socket for the TR-34 server tests: the demo's
 * CA (root flashed into the PIN pads, KDH and KRD certificates, CRL), the
 * KDH key made in an HSM on the KMS's LMK, `startKms` on a free loopback
 * port with a SQLite file or a PostgreSQL schema, the KMS log kept, and PIN
 * pads made as the factory makes them.
 *
 * @module
 */
import postgres from "postgres";
import type { CryptoCore } from "../../src/core/mod.ts";
import { fromHex, generateRsaKeyPair, randomBytes } from "../../src/crypto/mod.ts";
import { jsonLogger } from "../../servers/_lib/mod.ts";
import { ServerMetrics } from "../../servers/_lib/metrics.ts";
import { type KmsServer, startKms } from "../../servers/kms/main.ts";
import type { PinPadTr34 } from "../../devices/pin_pad_tr34.ts";
import { PinPadFlowB } from "../../devices/pin_pad_flow_b.ts";
import { componentKey, type DemoPki, randomComponents } from "../../demo/setup.ts";
import { kdhForKms, makeTr34PinPad } from "../../demo/tr34.ts";
import { kmsCaForKms, makeFlowBPki } from "../../demo/flow_b.ts";
import type { KeyUsePolicy } from "../../src/tr34/mod.ts";

/** The PostgreSQL URL of the tests, if set. */
export const PG_URL = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";

/** A running KMS with TR-34. */
export interface Tr34Kms {
  server: KmsServer;
  url: string;
  token: string;
  /** Where its database is: a SQLite path, or a PostgreSQL URL with its schema. */
  db: string;
  /** The PostgreSQL schema, for a PostgreSQL run. */
  schema?: string;
  /** The KMS's log lines. */
  logs: string[];
  /** The KMS's metrics (refused acknowledgements among its events). */
  metrics: ServerMetrics;
  /** The LMK components' clear keys (for the scans). */
  lmkComponents: Uint8Array[];
  newPad(sn: string, policy?: KeyUsePolicy): Promise<PinPadTr34>;
  /**
   * A flow B PIN pad (KMS started with `flowB`) flashed with the root and the
   * KMS's CA, its device certificate for `sn` issued under the root the KMS
   * checks devices against.
   */
  newFlowBPad(sn: string): Promise<PinPadFlowB>;
  close(): Promise<void>;
}

/**
 * Starts a KMS with a TR-34 KDH.
 *
 * @param core the crypto core.
 * @param pki the CA.
 * @param o `postgres`: on a new schema of {@link PG_URL}; `revokeKdh`: the CRL the KMS hands
 *   out lists its own KDH certificate; `flowB`: flow B is served too (KMS CA under the same root).
 */
export async function startTr34Kms(
  core: CryptoCore,
  pki: DemoPki,
  o: { postgres?: boolean; revokeKdh?: boolean; flowB?: boolean } = {},
): Promise<Tr34Kms> {
  const dir = await Deno.makeTempDir({ prefix: "tr34-kms-" });
  const schema = o.postgres
    ? `t_tr34_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
    : undefined;
  const db = schema
    ? `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}schema=${schema}`
    : `${dir}/kms.db`;
  const lmk = await randomComponents(2, 32, core);
  const token = crypto.randomUUID();
  const logs: string[] = [];
  const metrics = new ServerMetrics("kms");
  const tr34 = await kdhForKms(pki, lmk, dir, core, db, { revokeKdh: o.revokeKdh });
  const kmsCa = o.flowB
    ? await kmsCaForKms(await makeFlowBPki(core, pki), lmk, dir, core, db)
    : undefined;
  const server = await startKms({
    port: 0,
    db,
    lmkComponents: lmk,
    hsmMode: "test",
    pkComponents: await randomComponents(2, 24, core),
    makComponents: await randomComponents(2, 16, core),
    token,
    log: jsonLogger((l) => logs.push(l)),
    metrics,
    core,
    hsmWorkers: 1,
    tr34,
    kmsCa,
    deviceRoots: o.flowB ? [pki.rootPem] : undefined,
  });
  return {
    server,
    url: server.url,
    token,
    db,
    schema,
    logs,
    metrics,
    lmkComponents: lmk.map((c) => fromHex(componentKey(c))),
    newPad: (sn, policy) => makeTr34PinPad(sn, pki, core, policy),
    newFlowBPad: async (sn) => {
      if (!kmsCa) throw new Error("newFlowBPad: the KMS was started without flowB");
      const key = await generateRsaKeyPair({ bits: 2048, core });
      return new PinPadFlowB({
        kmsRoot: pki.rootPem,
        kmsCa: kmsCa.certificate,
        core,
        storageKey: randomBytes(24),
        device: {
          privateKey: key.privateKey,
          certificate: await pki.issueDevice(sn, key.publicKey),
        },
      });
    },
    close: async () => {
      await server.shutdown();
      if (schema) {
        const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
        try {
          await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await sql.end();
        }
      }
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Every row of every table of the KMS's database, as text (for the key scans). */
export async function dumpDatabase(k: Tr34Kms): Promise<string> {
  if (!k.schema) {
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(k.db);
    let out = "";
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      for (const { name } of tables) {
        out += JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all());
      }
    } finally {
      db.close();
    }
    return out;
  }
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  let out = "";
  try {
    const tables = await sql`SELECT table_name FROM information_schema.tables
      WHERE table_schema = ${k.schema} ORDER BY table_name`;
    for (const t of tables) {
      out += JSON.stringify(await sql.unsafe(`SELECT * FROM ${k.schema}.${t.table_name}`));
    }
  } finally {
    await sql.end();
  }
  return out;
}
