/**
 * The audit log's hash chain and checkpoints on both stores, against a
 * database administrator: the append-only triggers are dropped and records
 * are changed, deleted, inserted and moved with SQL; `verifyAuditChain`
 * (through the sealer, whose checkpoints a real software HSM MACs) names
 * each. Also: appends from two instances at once on one PostgreSQL database
 * form one chain, bulk writes are chained, and records name their operator.
 *
 * @module
 */
import { assert, assertEquals, assertFalse, assertRejects } from "@std/assert";
import postgres from "postgres";
import { loadCore } from "../../src/core/mod.ts";
import {
  auditRecordHash,
  type ChainedAuditRecord,
  openPostgresStore,
  openSqliteStore,
  type PostgresStore,
  type SqliteStore,
  type Store,
  withAuditOperator,
} from "../../src/store/mod.ts";
import { AuditSealer } from "../../servers/_lib/audit_seal.ts";
import { makeHsm } from "../hsm/_fixtures.ts";
import { fakeKeyBlock } from "./store_suite.ts";

const core = await loadCore("wasm");
const URL_VAR = "KMS_TEST_DATABASE_URL";
const pgUrl = Deno.env.get(URL_VAR) ?? "";

interface Backend {
  name: string;
  skip?: string;
  open(): Promise<{ store: Store; sql: (q: string) => Promise<unknown>; close(): Promise<void> }>;
  /** SQL that removes what keeps the log append-only (what a DBA can do). */
  unprotect: string[];
  /** A SQL literal of bytes from hex (how a link is written). */
  bytes(hex: string): string;
  /** SQL that makes the database refuse an insert into or update of `table` for one SN, and SQL that undoes it. */
  refuse(table: "audit_log" | "terminals", sn: string): { on: string[]; off: string[] };
}

async function dropSchema(schema: string): Promise<void> {
  const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

const BACKENDS: Backend[] = [
  {
    name: "sqlite",
    open: async () => {
      const store = await openSqliteStore(":memory:");
      return {
        store,
        sql: (q) => (store as SqliteStore)._unsafeSql(q),
        close: () => store.close(),
      };
    },
    unprotect: [
      "DROP TRIGGER audit_log_no_update",
      "DROP TRIGGER audit_log_no_delete",
      "DROP TRIGGER audit_checkpoints_no_update",
      "DROP TRIGGER audit_checkpoints_no_delete",
    ],
    bytes: (hex) => `X'${hex}'`,
    refuse: (table, sn) => ({
      on: [
        `CREATE TRIGGER test_refuse BEFORE ${
          table === "audit_log" ? "INSERT" : "UPDATE"
        } ON ${table}
         WHEN NEW.${table === "audit_log" ? "subject" : "sn"} = '${sn}'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
      ],
      off: ["DROP TRIGGER test_refuse"],
    }),
  },
  {
    name: "postgres",
    skip: pgUrl === "" ? `${URL_VAR} not set` : undefined,
    open: async () => {
      const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
      const store = await openPostgresStore(pgUrl, { schema, maxConnections: 4 });
      return {
        store,
        sql: (q) => (store as PostgresStore)._unsafeSql(q),
        close: async () => {
          await store.close();
          await dropSchema(schema);
        },
      };
    },
    unprotect: [
      "DROP TRIGGER audit_log_no_change ON audit_log",
      "DROP TRIGGER audit_log_no_truncate ON audit_log",
      "DROP TRIGGER audit_checkpoints_no_change ON audit_checkpoints",
      "ALTER TABLE audit_log ALTER COLUMN id DROP IDENTITY",
    ],
    bytes: (hex) => `decode('${hex}', 'hex')`,
    refuse: (table, sn) => ({
      on: [
        `CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
           IF NEW.${table === "audit_log" ? "subject" : "sn"} = '${sn}' THEN
             RAISE EXCEPTION 'refused by the test';
           END IF;
           RETURN NEW;
         END $$`,
        `CREATE TRIGGER test_refuse BEFORE ${
          table === "audit_log" ? "INSERT" : "UPDATE"
        } ON ${table} FOR EACH ROW EXECUTE FUNCTION test_refuse()`,
      ],
      off: [`DROP TRIGGER test_refuse ON ${table}`, "DROP FUNCTION test_refuse()"],
    }),
  },
];

const T0 = new Date("2026-11-23T12:00:00.000Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const hash = (n: number) => n.toString(16).toUpperCase().padStart(64, "0");

/**
 * Fills a log: single records (some by operator alice), a batch import and
 * a bulk issuance (bulk-chained), a checkpoint, then two more records.
 * Returns the id of the checkpointed record and the last id.
 */
async function populate(
  store: Store,
  sealer: AuditSealer,
): Promise<{ sealed: number; last: number }> {
  for (let i = 0; i < 3; i++) {
    await store.appendAudit({
      at: at(i),
      actor: "kms",
      event: "tmk_sent",
      subject: `SN${i}`,
      outcome: "success",
    });
  }
  await withAuditOperator("alice", async () => {
    await store.importTkBatch({
      orderId: "PO-1",
      bodyHash: hash(1),
      receivedAt: at(10),
      auditActor: "kms",
      tks: [1, 2, 3].map((i) => ({
        sn: `SNB${i}`,
        tkBlock: fakeKeyBlock(),
        tkKcv: "ABCDEF",
        tkHash: hash(i),
      })),
    });
    await store.issueTmks(
      [1, 2, 3].map((i) => ({
        sn: `SNB${i}`,
        tmkBlock: fakeKeyBlock(),
        tmkUnderTk: fakeKeyBlock(),
        tmkKcv: "123456",
        issuedAt: at(20 + i),
      })),
      { auditActor: "kms" },
    );
  });
  const c = await sealer.seal();
  for (let i = 0; i < 2; i++) {
    await store.appendAudit({
      at: at(30 + i),
      actor: "kms",
      event: "unlock",
      subject: `SNU${i}`,
      outcome: "success",
    });
  }
  return { sealed: c!.seq, last: (await store.auditHead()).seq };
}

/** Rewrites every link so the chain is consistent again (what a DBA with SHA-256 can do). */
async function recomputeChain(
  store: Store,
  sql: (q: string) => Promise<unknown>,
  bytes: (hex: string) => string,
): Promise<void> {
  const rows = await store.listAuditChain({ afterId: 0, limit: 1000 });
  let prev = rows[0].prevHash!;
  for (const r of rows) {
    const fixed: ChainedAuditRecord = { ...r, prevHash: prev };
    if (r.prevHash !== prev) {
      await sql(`UPDATE audit_log SET prev_hash = ${bytes(prev)} WHERE id = ${r.id}`);
    }
    prev = auditRecordHash(fixed);
  }
}

function kinds(problems: readonly { seq: number; kind: string }[]): string[] {
  return problems.map((p) => `${p.kind}@${p.seq}`);
}

for (const b of BACKENDS) {
  const test = (
    name: string,
    fn: (s: Store, sql: (q: string) => Promise<unknown>, sealer: AuditSealer) => Promise<void>,
  ) =>
    Deno.test({
      name: `audit chain[${b.name}]: ${name}${b.skip ? ` (skipped: ${b.skip})` : ""}`,
      ignore: b.skip !== undefined,
      fn: async () => {
        const { store, sql, close } = await b.open();
        try {
          const { hsm } = await makeHsm(core);
          await fn(store, sql, new AuditSealer(store, hsm, { actor: "kms" }));
        } finally {
          await close();
        }
      },
    });

  test(
    "records link in order, name their operator; an untouched log verifies",
    async (s, _sql, sealer) => {
      const { sealed, last } = await populate(s, sealer);
      const rows = await s.listAuditChain({ afterId: 0, limit: 100 });
      assertEquals(
        rows.map((r) => r.id),
        Array.from({ length: last }, (_, i) => i + 1),
        "ids are the chain",
      );
      for (let i = 1; i < rows.length; i++) {
        assertEquals(rows[i].prevHash, auditRecordHash(rows[i - 1]));
      }
      assertEquals(
        rows.filter((r) => r.operator === "alice").map((r) => r.event),
        [
          "tk_imported",
          "tk_imported",
          "tk_imported",
          "tmk_issued",
          "tmk_issued",
          "tmk_issued",
        ],
      );
      assertEquals(rows.find((r) => r.event === "tmk_sent")!.operator, null);
      const r = await sealer.verify();
      assertEquals(r.problems, []);
      assert(r.ok);
      assertEquals([r.records, r.checkpointsVerified, r.lastCheckpoint, r.afterLastCheckpoint], [
        last,
        1,
        sealed,
        last - sealed,
      ]);
    },
  );

  const tampered = (
    name: string,
    tamper: (
      sql: (q: string) => Promise<unknown>,
      ids: { sealed: number; last: number },
      s: Store,
    ) => Promise<unknown>,
    expected: (ids: { sealed: number; last: number }) => string[],
  ) =>
    test(`triggers dropped: ${name} is found`, async (s, sql, sealer) => {
      const ids = await populate(s, sealer);
      for (const q of b.unprotect) await sql(q);
      await tamper(sql, ids, s);
      const r = await sealer.verify();
      assertFalse(r.ok, name);
      const got = kinds(r.problems);
      for (const k of expected(ids)) assert(got.includes(k), `${name}: ${k} in ${got.join(", ")}`);
    });

  tampered(
    "a changed record",
    (sql) => sql("UPDATE audit_log SET subject = 'SN-OTHER' WHERE id = 2"),
    () => ["link@3"],
  );
  tampered(
    "a change to the record a checkpoint covers",
    (sql, { sealed }) => sql(`UPDATE audit_log SET outcome = 'failure' WHERE id = ${sealed}`),
    ({ sealed }) => [`checkpoint_hash@${sealed}`, `link@${sealed + 1}`],
  );
  tampered(
    "a deleted record",
    (sql) => sql("DELETE FROM audit_log WHERE id = 4"),
    () => ["gap@5", "link@5"],
  );
  tampered(
    "a record appended with a forged link",
    (sql, { last }) =>
      sql(
        `INSERT INTO audit_log (id, at, actor, event, outcome, prev_hash)
         VALUES (${last + 1}, '2026-11-23T13:00:00.000Z', 'kms', 'unlock', 'success', ${
          b.bytes(hash(7))
        })`,
      ),
    ({ last }) => [`link@${last + 1}`],
  );
  tampered(
    "a record inserted in the middle (ids shifted)",
    async (sql, _ids, s) => {
      const four = (await s.listAuditChain({ afterId: 3, limit: 1 }))[0];
      const forged: ChainedAuditRecord = {
        ...four,
        id: 5,
        event: "key_refused",
        prevHash: auditRecordHash(four),
      };
      await sql("UPDATE audit_log SET id = -id WHERE id >= 5");
      await sql("UPDATE audit_log SET id = 1 - id WHERE id < 0");
      await sql(
        `INSERT INTO audit_log (id, at, actor, event, outcome, prev_hash)
         VALUES (5, '${forged.at}', '${forged.actor}', 'key_refused', 'success', ${
          b.bytes(forged.prevHash!)
        })`,
      );
    },
    () => ["link@6"],
  );
  tampered(
    "two records swapped",
    async (sql) => {
      await sql("UPDATE audit_log SET id = -3 WHERE id = 3");
      await sql("UPDATE audit_log SET id = 3 WHERE id = 4");
      await sql("UPDATE audit_log SET id = 4 WHERE id = -3");
    },
    () => ["link@3", "link@4", "link@5"],
  );
  tampered(
    "a change whose chain was recomputed (the checkpoint's MAC still holds the old hash)",
    async (sql, _ids, s) => {
      await sql("UPDATE audit_log SET detail = 'rewritten' WHERE id = 2");
      await recomputeChain(s, sql, b.bytes);
    },
    ({ sealed }) => [`checkpoint_hash@${sealed}`],
  );
  tampered(
    "a recomputed chain with its checkpoint's hash rewritten (the MAC no longer verifies)",
    async (sql, { sealed }, s) => {
      await sql("DELETE FROM audit_log WHERE id = 1");
      await sql("UPDATE audit_log SET id = 1 - id");
      await sql("UPDATE audit_log SET id = -id");
      await sql(`UPDATE audit_log SET prev_hash = ${b.bytes("0".repeat(64))} WHERE id = 1`);
      await recomputeChain(s, sql, b.bytes);
      const row = (await s.listAuditChain({ afterId: sealed - 1, limit: 1 }))[0];
      await sql(`UPDATE audit_checkpoints SET hash = '${auditRecordHash(row)}'`);
    },
    ({ sealed }) => [`checkpoint_mac@${sealed}`],
  );

  test(
    "bulk records of an actor with quotes and non-ASCII text chain as single ones",
    async (s, _sql, sealer) => {
      const actor = 'kms "Zürich" \\ 東京 \u{1F511}';
      await withAuditOperator("op.ü-less_1", async () => {
        await s.importTkBatch({
          orderId: "PO-U",
          bodyHash: hash(7),
          receivedAt: at(1),
          auditActor: actor,
          tks: [1, 2, 3].map((i) => ({
            sn: `SNU${i}`,
            tkBlock: fakeKeyBlock(),
            tkKcv: "ABCDEF",
            tkHash: hash(i),
          })),
        });
      });
      assertEquals(
        await s.issueTmks(
          [1, 2, 3].map((i) => ({
            sn: `SNU${i}`,
            tmkBlock: fakeKeyBlock(),
            tmkUnderTk: null,
            tmkKcv: "654321",
            issuedAt: at(2 + i),
          })),
          { auditActor: actor },
        ),
        3,
      );
      const rows = await s.listAuditChain({ afterId: 0, limit: 100 });
      assertEquals(rows.map((r) => [r.actor, r.operator, r.subject]), [
        [actor, "op.ü-less_1", "SNU1"],
        [actor, "op.ü-less_1", "SNU2"],
        [actor, "op.ü-less_1", "SNU3"],
        [actor, null, "SNU1"],
        [actor, null, "SNU2"],
        [actor, null, "SNU3"],
      ]);
      for (let i = 1; i < rows.length; i++) {
        assertEquals(rows[i].prevHash, auditRecordHash(rows[i - 1]));
      }
      assertEquals((await s.getTerminal("SNU2"))?.tmkUnderTk, null);
      assertEquals((await sealer.verify()).problems, []);
    },
  );

  for (const table of ["audit_log", "terminals"] as const) {
    test(
      `a bulk issuance the database refuses midway (${table}) stores nothing of its page; the chain stays whole`,
      async (s, sql, sealer) => {
        const n = 250;
        const sns = Array.from({ length: n }, (_, i) => `SNM${String(i).padStart(4, "0")}`);
        await s.importTkBatch({
          orderId: "PO-M",
          bodyHash: hash(8),
          receivedAt: at(1),
          auditActor: "kms",
          tks: sns.map((sn, i) => ({
            sn,
            tkBlock: fakeKeyBlock(),
            tkKcv: "ABCDEF",
            tkHash: hash(i + 1),
          })),
        });
        const head = await s.auditHead();
        const page = sns.map((sn) => ({
          sn,
          tmkBlock: fakeKeyBlock(),
          tmkUnderTk: fakeKeyBlock(),
          tmkKcv: "123456",
          issuedAt: at(2),
        }));
        // Past the first multi-row statements of the page: refused while the page is half written.
        const { on, off } = b.refuse(table, sns[180]);
        for (const q of on) await sql(q);
        await assertRejects(() => s.issueTmks(page, { auditActor: "kms" }));
        assertEquals((await s.countTerminals("PO-M")).withTmk, 0);
        assertEquals(await s.auditHead(), head);
        assertEquals((await sealer.verify()).problems, []);
        for (const q of off) await sql(q);
        // Run again, the page is issued whole, each TMK with its record.
        assertEquals(await s.issueTmks(page, { auditActor: "kms" }), n);
        assertEquals((await s.countTerminals("PO-M")).withTmk, n);
        assertEquals((await s.auditHead()).seq, head.seq + n);
        const r = await sealer.verify();
        assertEquals(r.problems, []);
        assertEquals(r.records, 2 * n);
      },
    );
  }
}

Deno.test({
  name: `audit chain[postgres]: two instances appending at once keep one chain${
    pgUrl === "" ? ` (skipped: ${URL_VAR} not set)` : ""
  }`,
  ignore: pgUrl === "",
  fn: async () => {
    const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
    const a = await openPostgresStore(pgUrl, { schema, maxConnections: 4 });
    const b = await openPostgresStore(pgUrl, { schema, maxConnections: 4 });
    try {
      const tks = (o: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({
          sn: `${o}${String(i).padStart(5, "0")}`,
          tkBlock: fakeKeyBlock(),
          tkKcv: "ABCDEF",
          tkHash: hash(i + 1 + (o === "A" ? 0 : 1000)),
        }));
      const work = (s: Store, tag: string) => [
        ...Array.from(
          { length: 20 },
          (_, i) =>
            s.appendAudit({
              at: at(i),
              actor: tag,
              event: "tmk_sent",
              subject: `${tag}${i}`,
              outcome: "success",
            }),
        ),
        s.importTkBatch({
          orderId: `PO-${tag}`,
          bodyHash: hash(9),
          receivedAt: T0,
          auditActor: tag,
          tks: tks(tag, 50),
        }),
      ];
      await Promise.all([...work(a, "A"), ...work(b, "B")]);
      const { hsm } = await makeHsm(core);
      const r = await new AuditSealer(a, hsm, { actor: "kms" }).verify();
      assertEquals(r.problems, []);
      assertEquals(r.records, 2 * (20 + 50));
      assertEquals((await b.auditHead()).seq, 140);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  },
});

Deno.test({
  name:
    `audit chain[postgres]: issuance pages linked on the head one instance holds stay one chain when another instance writes${
      pgUrl === "" ? ` (skipped: ${URL_VAR} not set)` : ""
    }`,
  ignore: pgUrl === "",
  fn: async () => {
    const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
    const a = await openPostgresStore(pgUrl, { schema, maxConnections: 4 });
    const b = await openPostgresStore(pgUrl, { schema, maxConnections: 4 });
    try {
      const sns = Array.from({ length: 8 }, (_, i) => `SNP${i}`);
      await a.importTkBatch({
        orderId: "PO-P",
        bodyHash: hash(10),
        receivedAt: T0,
        auditActor: "kms",
        tks: sns.map((sn, i) => ({
          sn,
          tkBlock: fakeKeyBlock(),
          tkKcv: "ABCDEF",
          tkHash: hash(i + 1),
        })),
      });
      const issue = (s: Store, i: number[], audited = true) =>
        s.issueTmks(
          i.map((k) => ({
            sn: sns[k],
            tmkBlock: fakeKeyBlock(),
            tmkUnderTk: null,
            tmkKcv: "123456",
            issuedAt: at(k),
          })),
          audited ? { auditActor: "kms" } : undefined,
        );
      // The first page reads the head; the second links on the one the first left.
      assertEquals(await issue(a, [0, 1]), 2);
      assertEquals(await issue(a, [2]), 1);
      // Another instance appends: the next page finds its ids taken and reads the head again.
      await b.appendAudit({
        at: at(3),
        actor: "other",
        event: "tmk_sent",
        subject: "SNX",
        outcome: "success",
      });
      assertEquals(await issue(a, [3]), 1);
      // Another instance issues a terminal of the next page: that page is stored without it.
      assertEquals(await issue(b, [4], false), 1);
      assertEquals(await issue(a, [4, 5]), 1);
      // A page refused midway on a held head stores nothing; run again, it is stored whole.
      const pg = BACKENDS.find((x) => x.name === "postgres")!;
      const sql = (q: string) => a._unsafeSql(q);
      const head = await a.auditHead();
      const { on, off } = pg.refuse("audit_log", sns[7]);
      for (const q of on) await sql(q);
      await assertRejects(() => issue(a, [6, 7]));
      assertEquals((await a.countTerminals("PO-P")).withTmk, 6);
      assertEquals(await a.auditHead(), head);
      for (const q of off) await sql(q);
      assertEquals(await issue(a, [6, 7]), 2);
      assertEquals((await a.countTerminals("PO-P")).withTmk, 8);
      const rows = await a.listAuditChain({ afterId: 8, limit: 100 });
      assertEquals(
        rows.map((r) => r.subject),
        ["SNP0", "SNP1", "SNP2", "SNX", "SNP3", "SNP5", "SNP6", "SNP7"],
      );
      const { hsm } = await makeHsm(core);
      const r = await new AuditSealer(a, hsm, { actor: "kms" }).verify();
      assertEquals(r.problems, []);
      assertEquals(r.records, 16);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  },
});
