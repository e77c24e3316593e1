/**
 * The repository suite on the PostgreSQL store, plus what only it has: the
 * migrator under concurrent openers, schemas kept apart, a closed store,
 * bad URLs. Each test runs in its own schema, dropped afterwards.
 *
 * Needs `KMS_TEST_DATABASE_URL` (a role that may create schemas in its
 * database; `.ci/run` sets one up). Without it every test here is
 * registered as ignored with the reason in its name, and the reason is
 * printed.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import postgres from "postgres";
import {
  openPostgresStore,
  POSTGRES_MIGRATIONS,
  type PostgresStore,
  redactUrl,
  type Store,
  StoreError,
} from "../../src/store/mod.ts";
import { fakeKeyBlock, type StoreFactory, storeSuite } from "./store_suite.ts";
import { kmsCaSuite } from "./kms_ca_suite.ts";

const URL_VAR = "KMS_TEST_DATABASE_URL";
const url = Deno.env.get(URL_VAR) ?? "";
const skip = url === "" ? `${URL_VAR} not set` : undefined;

/** A schema name no other test uses. */
function freshSchema(): string {
  return `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
}

async function dropSchema(schema: string): Promise<void> {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Opens a store in a fresh schema; closing it drops the schema. */
async function openFresh(): Promise<PostgresStore> {
  const schema = freshSchema();
  const s = await openPostgresStore(url, { schema, maxConnections: 4 });
  const close = s.close.bind(s);
  s.close = async () => {
    await close();
    await dropSchema(schema);
  };
  return s;
}

const factory: StoreFactory = {
  name: "postgres",
  expectedVersion: POSTGRES_MIGRATIONS.length,
  skip,
  open: openFresh,
  openShared: async () => {
    const schema = freshSchema();
    const a = await openPostgresStore(url, { schema, maxConnections: 4 });
    const b = await openPostgresStore(url, { schema, maxConnections: 4 });
    return {
      a,
      b,
      cleanup: async () => {
        await a.close();
        await b.close();
        await dropSchema(schema);
      },
    };
  },
  rawSql: (s: Store, sql: string) => (s as PostgresStore)._unsafeSql(sql),
};
storeSuite(factory);
kmsCaSuite(factory);

function pgTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: `postgres: ${name}${skip ? ` (skipped: ${skip})` : ""}`,
    ignore: skip !== undefined,
    fn,
  });
}

pgTest("instances started together migrate one schema once", async () => {
  const schema = freshSchema();
  try {
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresStore(url, { schema, maxConnections: 2 })),
    );
    for (const s of stores) assertEquals(await s.schemaVersion(), POSTGRES_MIGRATIONS.length);
    const rows = await stores[0]._unsafeSql("SELECT count(*) AS n FROM schema_version");
    assertEquals(Number(rows[0].n), POSTGRES_MIGRATIONS.length, "each migration applied once");
    await Promise.all(stores.map((s) => s.close()));
  } finally {
    await dropSchema(schema);
  }
});

pgTest("the URL's ?schema= parameter chooses the schema", async () => {
  const a = await openFresh();
  try {
    await a.registerTerminal("SNSCHEMA1", new Date(0));
    const sep = url.includes("?") ? "&" : "?";
    const b = await openPostgresStore(`${url}${sep}schema=${a.schema}`);
    assertEquals(b.schema, a.schema);
    assertEquals((await b.getTerminal("SNSCHEMA1"))?.state, "registered");
    await b.close();
  } finally {
    await a.close();
  }
});

pgTest("two schemas on one database do not see each other", async () => {
  const a = await openFresh();
  const b = await openFresh();
  try {
    await a.importTkBatch({
      orderId: "PO-S",
      bodyHash: "AB".repeat(32),
      receivedAt: new Date(0),
      tks: [{ sn: "SN0000001", tkBlock: fakeKeyBlock(), tkKcv: "ABCDEF", tkHash: "CD".repeat(32) }],
    });
    assertEquals((await a.getTerminal("SN0000001"))?.orderId, "PO-S");
    assertEquals(await b.getTerminal("SN0000001"), null);
  } finally {
    await a.close();
    await b.close();
  }
});

pgTest("data and schema survive reopening; a newer database is refused", async () => {
  const schema = freshSchema();
  try {
    const s1 = await openPostgresStore(url, { schema });
    await s1.registerTerminal("SNREOPEN1", new Date(0));
    await s1.close();
    const s2 = await openPostgresStore(url, { schema });
    assertEquals((await s2.getTerminal("SNREOPEN1"))?.state, "registered");
    await s2._unsafeSql(
      "INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', now())",
    );
    await s2.close();
    const e = await assertRejects(() => openPostgresStore(url, { schema }), StoreError);
    assertEquals(e.code, "schema");
    assertEquals(
      e.message,
      `database schema version 99 is newer than this code (knows ${POSTGRES_MIGRATIONS.length})`,
    );
  } finally {
    await dropSchema(schema);
  }
});

pgTest("a failing migration rolls back to the previous version", async () => {
  const schema = freshSchema();
  try {
    const bad = [...POSTGRES_MIGRATIONS, {
      version: POSTGRES_MIGRATIONS.length + 1,
      description: "broken",
      sql: "CREATE TABLE extra (x integer); INSERT INTO no_such_table VALUES (1);",
    }];
    const e = await assertRejects(
      () => openPostgresStore(url, { schema, migrations: bad }),
      StoreError,
    );
    assertEquals(e.code, "schema");
    assert(e.message.startsWith(`migration ${bad.length} (broken) failed:`), e.message);
    const s = await openPostgresStore(url, { schema });
    assertEquals(await s.schemaVersion(), POSTGRES_MIGRATIONS.length);
    const t = await s._unsafeSql("SELECT to_regclass('extra') AS r");
    assertEquals(t[0].r, null, "the half of the migration that ran is gone");
    await s.close();
  } finally {
    await dropSchema(schema);
  }
});

pgTest("a closed store refuses calls", async () => {
  const s = await openFresh();
  await s.close();
  await s.close();
  const e = await assertRejects(() => s.getOrder("PO-1"), StoreError, "the store is closed");
  assertEquals(e.code, "closed");
});

pgTest(
  "an unreachable database is a StoreError busy naming the URL without its password",
  async () => {
    const e = await assertRejects(
      () => openPostgresStore("postgres://u:secretpw@127.0.0.1:1/db"),
      StoreError,
    );
    assertEquals(e.code, "busy");
    assert(e.message.includes("postgres://u:***@127.0.0.1:1/db"), e.message);
    assert(!e.message.includes("secretpw"), e.message);
  },
);

Deno.test("postgres: bad URL and options are refused before connecting", async () => {
  const cases: [() => Promise<unknown>, ErrorConstructor, string][] = [
    [() => openPostgresStore(5 as unknown as string), TypeError, "url must be a string"],
    [
      () => openPostgresStore("mysql://x@y/z"),
      RangeError,
      'url must start with postgres:// or postgresql://, got "mysql://x@y/z"',
    ],
    [
      () => openPostgresStore("postgres://x@y/z", { schema: "Bad-Name" }),
      RangeError,
      'options.schema must be 1-63 characters a-z 0-9 _ starting with a letter or _, got "Bad-Name"',
    ],
    [
      () => openPostgresStore("postgres://x@y/z", { maxConnections: 0 }),
      RangeError,
      "options.maxConnections must be an integer from 1 to 1000, got 0",
    ],
  ];
  for (const [fn, cls, msg] of cases) await assertRejects(fn, cls, msg);
  assertEquals(redactUrl("postgresql://me:pw@h:5432/d"), "postgresql://me:***@h:5432/d");
});

pgTest("bulk issuance stores a null TMK-under-TK (flow B) as NULL, not text", async () => {
  const s = await openFresh();
  try {
    await s.registerTerminal("SNNULL01", new Date(0));
    await s.registerTerminal("SNNULL02", new Date(0));
    const at = new Date("2026-11-23T12:00:00.123Z");
    const n = await s.issueTmks([
      {
        sn: "SNNULL01",
        tmkBlock: fakeKeyBlock(),
        tmkUnderTk: null,
        tmkKcv: "AAAAAA",
        issuedAt: at,
      },
      {
        sn: "SNNULL02",
        tmkBlock: fakeKeyBlock(),
        tmkUnderTk: "00".repeat(16),
        tmkKcv: "BBBBBB",
        issuedAt: at,
      },
    ]);
    assertEquals(n, 2);
    assertEquals((await s.getTerminal("SNNULL01"))?.tmkUnderTk, null);
    assertEquals((await s.getTerminal("SNNULL02"))?.tmkUnderTk, "00".repeat(16));
    assertEquals((await s.getTerminal("SNNULL01"))?.tmkIssuedAt, at.toISOString());
  } finally {
    await s.close();
  }
});
if (skip) console.log(`postgres store tests skipped: ${skip}`);
