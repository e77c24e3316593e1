/**
 * Streamed TK batches (orders of 10,000 to 1,000,000 terminals):
 * `POST /v1/tk-batches` as `application/x-ndjson` to a real KMS process on
 * SQLite. A round trip (stored, duplicate in either format, TMKs issued and
 * opened under each TK); every refusal (a bad line, a wrong count, a bad
 * MAC, a truncated body, an HSM refusal, a duplicate SN, another batch for
 * the order, a known terminal, a client that hangs up) answers with the line
 * and leaves terminals, batches, orders and staging as they were; a KMS
 * killed with SIGKILL while a batch streams leaves no terminal, its staged
 * TKs go at the restart, and the batch can be sent again.
 *
 * The database is read directly (node:sqlite, or the postgres client for
 * the kill -9 test's PostgreSQL run): counts of each table, including the
 * staging table the store interface does not list.
 *
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import type { BatchEntry } from "../../src/protocol/mod.ts";
import {
  type Batch,
  type KmsKeys,
  KmsProcess,
  makeBatch,
  makeKeys,
  openTmk,
  streamLines,
  streamMac,
  waitFor,
} from "./_kms.ts";

interface Counts {
  terminals: number;
  batches: number;
  orders: number;
  staged: number;
  tkImported: number;
}

function counts(db: string): Counts {
  const d = new DatabaseSync(db, { readOnly: true });
  try {
    const n = (sql: string) => Number((d.prepare(sql).get() as { n: number }).n);
    return {
      terminals: n("SELECT count(*) AS n FROM terminals"),
      batches: n("SELECT count(*) AS n FROM tk_batches"),
      orders: n("SELECT count(*) AS n FROM orders"),
      staged: n("SELECT count(*) AS n FROM tk_staging"),
      tkImported: n("SELECT count(*) AS n FROM audit_log WHERE event = 'tk_imported'"),
    };
  } finally {
    d.close();
  }
}

async function post(
  kms: KmsProcess,
  body: string | ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${kms.url}/v1/tk-batches`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body,
    signal,
  });
  return { status: r.status, body: await r.json() };
}

async function streamed(keys: KmsKeys, orderId: string, tks: BatchEntry[]): Promise<string> {
  return streamLines(orderId, tks, await streamMac(keys, orderId, tks)).join("");
}

/** A body that sends `lines` and then waits (until cancelled). */
function hangingBody(lines: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const l of lines) c.enqueue(enc.encode(l));
    },
  });
}

Deno.test("stream: a streamed batch round trip: stored, a duplicate in either format, TMKs open under each TK", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stream_test_" });
  const keys = await makeKeys();
  const kms = await KmsProcess.start(`${dir}/kms.db`, keys);
  try {
    const orderId = "PO-ST1";
    const b = await makeBatch(keys, orderId, 1201);
    const body = await streamed(keys, orderId, b.request.tks);
    const r = await post(kms, body);
    assertEquals(r, { status: 201, body: { orderId, accepted: 1201, duplicate: "no" } });
    assertEquals(counts(`${dir}/kms.db`), {
      terminals: 1201,
      batches: 1,
      orders: 1,
      staged: 0,
      tkImported: 1201,
    });
    assertEquals(await post(kms, body), {
      status: 200,
      body: { orderId, accepted: 1201, duplicate: "yes" },
    });
    // The same order as one JSON body (its MAC over the bytes): the same batch.
    assertEquals(await kms.call("POST", "/v1/tk-batches", b.request), {
      status: 200,
      body: { orderId, accepted: 1201, duplicate: "yes" },
    });
    const api = await kms.call("GET", "/openapi.json");
    const content =
      (api.body.paths as Record<string, { post: { requestBody: { content: object } } }>)[
        "/v1/tk-batches"
      ].post.requestBody.content;
    assertEquals(Object.keys(content), ["application/json", "application/x-ndjson"]);
    // Without a final newline after the MAC line: the same.
    assertEquals((await post(kms, body.slice(0, -1))).body.duplicate, "yes");
    assertEquals(counts(`${dir}/kms.db`).terminals, 1201);
    const issued = await kms.call("POST", `/v1/orders/${orderId}/tmks`, undefined, keys.token);
    assertEquals(issued.body.issued, 1201);
    for (const i of [0, 499, 500, 1200]) {
      const sn = b.request.tks[i].sn;
      const dl = await kms.call("POST", `/v1/terminals/${sn}/tmk`);
      assertEquals(dl.status, 200);
      assertEquals(await openTmk(b.tk.get(sn)!, dl.body.tmkBlock as string), dl.body.tmkKcv);
      const st = await kms.call("GET", `/v1/terminals/${sn}`, undefined, keys.token);
      assertEquals(st.body.tkKcv, b.tkKcv.get(sn));
    }
  } finally {
    await kms.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stream: every refusal names the line and leaves terminals, batches, orders and staging unchanged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stream_test_" });
  const db = `${dir}/kms.db`;
  const keys = await makeKeys();
  const kms = await KmsProcess.start(db, keys);
  try {
    const first = await makeBatch(keys, "PO-ST0", 3);
    assertEquals(
      (await post(kms, await streamed(keys, "PO-ST0", first.request.tks))).status,
      201,
    );
    const base = counts(db);
    const orderId = "PO-ST2";
    // 1100 TKs: two chunks are staged before the end of the body.
    const b: Batch = await makeBatch(keys, orderId, 1100);
    const tks = b.request.tks;
    const mac = await streamMac(keys, orderId, tks);
    const lines = streamLines(orderId, tks, mac);
    const bad = (i: number, field: Partial<BatchEntry>) =>
      tks.map((t, k) => (k === i ? { ...t, ...field } : t));
    const flipped = (mac[0] === "0" ? "1" : "0") + mac.slice(1);
    const other = await makeBatch(keys, "PO-ST0", 3);
    const cases: {
      name: string;
      body: () => string | Promise<string>;
      status: number;
      code: string;
      msg: string;
    }[] = [
      {
        name: "a bad serial number",
        body: () => streamLines(orderId, bad(700, { sn: "bad sn" }), mac).join(""),
        status: 400,
        code: "invalid_field",
        msg: "line 702: body.tks[700].sn",
      },
      {
        name: "a line that is not JSON",
        body: () => [...lines.slice(0, 900), "{not json\n", ...lines.slice(901)].join(""),
        status: 400,
        code: "invalid_json",
        msg: "line 901: not a JSON object",
      },
      {
        name: "a bad header",
        body: () => [`{"orderId":"po 1","tks":1100}\n`, ...lines.slice(1)].join(""),
        status: 400,
        code: "invalid_field",
        msg: "line 1: body.orderId",
      },
      {
        name: "fewer TKs than announced",
        body: () => streamLines(orderId, tks, mac, 1101).join(""),
        status: 400,
        code: "wrong_count",
        msg: "line 1102: the MAC line after 1100 TKs; the header announced 1101",
      },
      {
        name: "more TKs than announced",
        body: () => streamLines(orderId, tks, mac, 1099).join(""),
        status: 400,
        code: "wrong_count",
        msg: "line 1101: more TK lines than the 1099 the header announced",
      },
      {
        name: "a bad MAC",
        body: () => streamLines(orderId, tks, flipped).join(""),
        status: 422,
        code: "mac_invalid",
        msg: "line 1102: the MAC of the batch for order PO-ST2 does not verify",
      },
      {
        name: "a MAC over other TKs",
        body: () => streamLines(orderId, tks.slice(1), mac).join(""),
        status: 422,
        code: "mac_invalid",
        msg: "line 1101: the MAC",
      },
      {
        name: "a body without its MAC line",
        body: () => lines.slice(0, -1).join(""),
        status: 400,
        code: "truncated",
        msg: "line 1102: the body ended; expected the MAC line",
      },
      {
        name: "a body cut inside a TK line",
        body: () => lines.join("").slice(0, lines.slice(0, 1000).join("").length + 40),
        status: 400,
        code: "invalid_json",
        msg: "line 1001: not a JSON object",
      },
      {
        name: "something after the MAC line",
        body: () => [...lines, lines[5]].join(""),
        status: 400,
        code: "trailing_data",
        msg: "line 1103: nothing may follow the MAC line",
      },
      {
        name: "a TK whose KCV does not match (HSM refusal)",
        body: () => streamLines(orderId, bad(1050, { tkKcv: "000000" }), mac).join(""),
        status: 422,
        code: "kcv_mismatch",
        msg: "line 1052: body.tks[1050]",
      },
      {
        name: "a serial number twice",
        body: async () => {
          const dup = tks.map((t, k) => (k === 1000 ? tks[10] : t));
          return streamLines(orderId, dup, await streamMac(keys, orderId, dup)).join("");
        },
        status: 400,
        code: "duplicate_sn",
        msg: `line 1002: body.tks[1000].sn ${tks[10].sn} appears twice`,
      },
      {
        name: "another batch for an order that has one",
        body: () => streamed(keys, "PO-ST0", other.request.tks),
        status: 409,
        code: "batch_conflict",
        msg: "order PO-ST0 already has a different batch",
      },
      {
        name: "a terminal already known under another order",
        body: () => streamed(keys, orderId, [...tks.slice(0, 600), first.request.tks[1]]),
        status: 409,
        code: "terminal_conflict",
        msg: first.request.tks[1].sn,
      },
    ];
    for (const c of cases) {
      const r = await post(kms, await c.body());
      const err = r.body.error as { code: string; message: string };
      assertEquals(
        [r.status, err?.code],
        [c.status, c.code],
        `${c.name}: ${JSON.stringify(r.body)}`,
      );
      assertStringIncludes(err.message, c.msg, c.name);
      const now = counts(db);
      assertEquals({ ...now, tkImported: base.tkImported }, base, `${c.name}: nothing stored`);
      assertEquals(now.tkImported, base.tkImported, `${c.name}: no tk_imported record`);
    }
    // The same batch again: a duplicate, nothing changes.
    assertEquals(
      (await post(kms, await streamed(keys, "PO-ST0", first.request.tks))).body.duplicate,
      "yes",
    );
    assertEquals(counts(db), base);

    // A client that hangs up after two chunks: its staged TKs go.
    const stop = new AbortController();
    const pending = post(kms, hangingBody(lines.slice(0, 1050)), stop.signal).catch((e) => e);
    await waitFor("staged TKs of the hanging upload", () => Promise.resolve(counts(db).staged > 0));
    stop.abort(new Error("the client hangs up"));
    const gone = await pending;
    assert(gone instanceof Error, `the aborted request ends in an error, got ${gone}`);
    await waitFor("the staged TKs dropped", () => Promise.resolve(counts(db).staged === 0));
    assertEquals(counts(db), base);

    // After all that, the good batch goes through.
    assertEquals((await post(kms, lines.join(""))).status, 201);
    assertEquals(counts(db).terminals, base.terminals + 1100);
  } finally {
    await kms.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

const pgUrl = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";

/** Table counts of a store: the SQLite file, or a PostgreSQL schema. */
async function countsOf(kind: "sqlite" | "postgres", db: string, schema: string): Promise<Counts> {
  if (kind === "sqlite") return counts(db);
  const sql = postgres(pgUrl, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  try {
    const n = async (q: Promise<{ n: string }[]>) => Number((await q)[0].n);
    return {
      terminals: await n(sql`SELECT count(*) AS n FROM terminals`),
      batches: await n(sql`SELECT count(*) AS n FROM tk_batches`),
      orders: await n(sql`SELECT count(*) AS n FROM orders`),
      staged: await n(sql`SELECT count(*) AS n FROM tk_staging`),
      tkImported: await n(sql`SELECT count(*) AS n FROM audit_log WHERE event = 'tk_imported'`),
    };
  } finally {
    await sql.end();
  }
}

for (const kind of ["sqlite", "postgres"] as const) {
  const skip = kind === "postgres" && pgUrl === "" ? "KMS_TEST_DATABASE_URL not set" : undefined;
  Deno.test({
    name:
      `stream: kill -9 of the KMS while a batch streams: no terminal, staging cleared at the restart, sent again [${kind}]${
        skip ? ` (skipped: ${skip})` : ""
      }`,
    ignore: skip !== undefined,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "stream_test_" });
      const schema = `t_stream_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
      const db = kind === "sqlite"
        ? `${dir}/kms.db`
        : `${pgUrl}${pgUrl.includes("?") ? "&" : "?"}schema=${schema}`;
      const at = () => countsOf(kind, db, schema);
      const keys = await makeKeys();
      const orderId = "PO-ST9";
      const b = await makeBatch(keys, orderId, 1300);
      const lines = streamLines(
        orderId,
        b.request.tks,
        await streamMac(keys, orderId, b.request.tks),
      );
      const k1 = await KmsProcess.start(db, keys);
      try {
        const pending = post(k1, hangingBody(lines.slice(0, 1200))).catch((e) => e);
        await waitFor("staged TKs", async () => (await at()).staged >= 1000);
        await k1.kill();
        assert((await pending) instanceof Error, "the request dies with the process");
      } finally {
        await k1.kill();
      }
      const killed = await at();
      assert(killed.staged >= 1000, `staged TKs left by the killed process: ${killed.staged}`);
      assertEquals([killed.terminals, killed.batches, killed.orders], [0, 0, 0]);
      const k2 = await KmsProcess.start(db, keys, ["--staging-idle-s", "0"]);
      try {
        assertEquals(await at(), { terminals: 0, batches: 0, orders: 0, staged: 0, tkImported: 0 });
        assertEquals(await post(k2, lines.join("")), {
          status: 201,
          body: { orderId, accepted: 1300, duplicate: "no" },
        });
        assertEquals(await at(), {
          terminals: 1300,
          batches: 1,
          orders: 1,
          staged: 0,
          tkImported: 1300,
        });
      } finally {
        await k2.stop();
        await Deno.remove(dir, { recursive: true });
        if (kind === "postgres") {
          const sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
          await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await sql.end();
        }
      }
    },
  });
}
