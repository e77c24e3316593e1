/**
 * The repository suite on the embedded SQLite store, plus what only SQLite
 * has: a database file reopened, the migrator, closing.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  openSqliteStore,
  SQLITE_MIGRATIONS,
  type SqliteStore,
  StoreError,
} from "../../src/store/mod.ts";
import { fakeKeyBlock, type StoreFactory, storeSuite } from "./store_suite.ts";
import { kmsCaSuite } from "./kms_ca_suite.ts";

const factory: StoreFactory = {
  name: "sqlite",
  expectedVersion: SQLITE_MIGRATIONS.length,
  open: () => openSqliteStore(":memory:"),
  openShared: async () => {
    const dir = await Deno.makeTempDir({ prefix: "store_test_" });
    const path = `${dir}/kms.db`;
    const a = await openSqliteStore(path);
    const b = await openSqliteStore(path);
    return {
      a,
      b,
      cleanup: async () => {
        await a.close();
        await b.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  },
  rawSql: (s, sql) => (s as SqliteStore)._unsafeSql(sql),
};
storeSuite(factory);
kmsCaSuite(factory);

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "store_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sqlite: a database file keeps its data and schema across reopen", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/kms.db`;
    const s1 = await openSqliteStore(path);
    await s1.importTkBatch({
      orderId: "PO-R",
      bodyHash: "AB".repeat(32),
      receivedAt: new Date(0),
      tks: [{ sn: "SN0000001", tkBlock: fakeKeyBlock(), tkKcv: "ABCDEF", tkHash: "CD".repeat(32) }],
    });
    await s1.close();
    const s2 = await openSqliteStore(path);
    assertEquals(await s2.schemaVersion(), SQLITE_MIGRATIONS.length);
    assertEquals((await s2.getTerminal("SN0000001"))?.orderId, "PO-R");
    const rows = await s2._unsafeSql("SELECT count(*) AS n FROM schema_version");
    assertEquals(Number(rows[0].n), SQLITE_MIGRATIONS.length, "migrations applied once");
    await s2.close();
  });
});

Deno.test("sqlite: a failing migration rolls back to the previous version", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/m.db`;
    const bad = [
      ...SQLITE_MIGRATIONS,
      {
        version: SQLITE_MIGRATIONS.length + 1,
        description: "broken",
        sql: "CREATE TABLE extra (x INTEGER); INSERT INTO no_such_table VALUES (1);",
      },
    ];
    const e = await assertRejects(() => openSqliteStore(path, { migrations: bad }), StoreError);
    assertEquals(e.code, "schema");
    assert(
      e.message.startsWith(`migration ${bad.length} (broken) failed: no such table`),
      e.message,
    );
    const s = await openSqliteStore(path);
    assertEquals(await s.schemaVersion(), SQLITE_MIGRATIONS.length);
    const t = await s._unsafeSql("SELECT name FROM sqlite_master WHERE name = 'extra'");
    assertEquals(t, [], "the half of the migration that ran is gone");
    await s.close();
  });
});

Deno.test("sqlite: a database holding one TK for two terminals stops at the unique-index migration", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/u.db`;
    const at = SQLITE_MIGRATIONS.findIndex((m) =>
      /^one TK per terminal, enforced/.test(m.description)
    );
    assert(at > 0, "the migration that makes the TK hash indexes unique exists");
    const before = SQLITE_MIGRATIONS.slice(0, at);
    const s1 = await openSqliteStore(path, { migrations: before });
    for (const [orderId, sn] of [["PO-D1", "SN0000001"], ["PO-D2", "SN0000002"]]) {
      await s1.importTkBatch({
        orderId,
        bodyHash: "AB".repeat(32),
        receivedAt: new Date(0),
        tks: [{ sn, tkBlock: fakeKeyBlock(), tkKcv: "ABCDEF", tkHash: "CD".repeat(32) }],
      });
    }
    await s1.close();
    const e = await assertRejects(() => openSqliteStore(path), StoreError);
    assertEquals(e.code, "schema");
    assert(e.message.startsWith(`migration ${at + 1} (one TK per terminal`), e.message);
    assert(e.message.includes("terminals.tk_hash"), e.message);
    const s2 = await openSqliteStore(path, { migrations: before });
    assertEquals(await s2.schemaVersion(), at, "nothing of the failed migration stays");
    assertEquals((await s2.getTerminal("SN0000002"))?.orderId, "PO-D2");
    await s2.close();
  });
});

Deno.test("sqlite: a database newer than the code is refused", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/n.db`;
    const s = await openSqliteStore(path);
    await s._unsafeSql(
      "INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 'x')",
    );
    await s.close();
    const e = await assertRejects(() => openSqliteStore(path), StoreError);
    assertEquals(e.code, "schema");
    assertEquals(
      e.message,
      `database schema version 99 is newer than this code (knows ${SQLITE_MIGRATIONS.length})`,
    );
  });
});

Deno.test("sqlite: migrations must be numbered 1, 2, 3 ...", async () => {
  const e = await assertRejects(
    () => openSqliteStore(":memory:", { migrations: [{ ...SQLITE_MIGRATIONS[0], version: 2 }] }),
    StoreError,
  );
  assertEquals(e.message, "migration 0 must have version 1, has 2");
});

Deno.test("sqlite: a closed store refuses calls", async () => {
  const s = await openSqliteStore(":memory:");
  await s.close();
  await s.close();
  const e = await assertRejects(() => s.getOrder("PO-1"), StoreError, "the store is closed");
  assertEquals(e.code, "closed");
});
