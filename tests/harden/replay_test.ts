/**
 * Issue 9, proof 5: replay. A full run of both flows is recorded
 * (`_traffic.ts`); then every recorded request that changes state (every
 * non-GET: operator API calls with the bearer token, the operator card's
 * signed TK uploads, the MTMS's MAC'd batch, flow B's S1, S3, S5 answers
 * and S6, every acknowledgement) is sent again 100 times, half one after the
 * other and half concurrently. Its original answer was the one success;
 * each replay must be refused, or be the documented idempotent answer that
 * changes nothing. The state of every database (KMS, MTMS, KMS flow B; every
 * table but the append-only audit log, which records each refusal) must hash
 * the same before and after.
 *
 * Prints `figure replay` with counts per route.
 */
import { DatabaseSync } from "node:sqlite";
import { createHash } from "node:crypto";
import { assert, assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { figure, size, Tally } from "./_figures.ts";
import { recordTraffic } from "./_traffic.ts";

const core = await loadCore("wasm");
const REPLAYS = size(100, 100);

/** SHA-256 over every row of every table except the audit log, and the audit log's row count. */
function dbState(
  path: string,
  ignore: { table: string; columns: string[] } | null = null,
): { hash: string; audit: number } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const h = createHash("sha256");
    let audit = 0;
    const tables = db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    ).all() as { name: string }[];
    for (const { name } of tables) {
      const rows = db.prepare(`SELECT * FROM "${name}"`).all().map((r) => {
        const row = { ...r } as Record<string, unknown>;
        if (ignore && ignore.table === name) { for (const c of ignore.columns) delete row[c]; }
        return JSON.stringify(row);
      }).sort();
      if (name === "audit_log") {
        audit = rows.length;
        continue;
      }
      h.update(`${name}\n${rows.join("\n")}\n`);
    }
    return { hash: h.digest("hex").toUpperCase(), audit };
  } finally {
    db.close();
  }
}

/** Answers a replay may get without being a refusal: the documented idempotent ones. */
function idempotent(route: string, status: number, body: Record<string, unknown>): boolean {
  if (status !== 200) return false;
  if (body.duplicate === "yes") return true; // TK upload, batch, transfer, transport key
  if (route.endsWith("/tmks") && body.issued === 0) return true; // bulk issuance: nothing left
  if (route.endsWith("/unlock")) return true; // see LOCK_OUT below
  // MTMS: the same signed upload of the same TK (within its signing window) answers as the
  // first did and stores nothing new (the state hash below proves it).
  if (route === "mtms POST /v1/orders/{id}/tks" && typeof body.tkKcv === "string") return true;
  return false;
}

/**
 * Replayed S5 answers are refused and, by the lock-out policy, count as failed
 * authentications: they lock the terminal. A replayed operator unlock (bearer
 * token, no replay protection of its own) then lifts it. Those two columns of
 * the flow B terminal rows are the only state a replay may change; the test
 * shows it by hashing the flow B database with and without them.
 */
const LOCK_OUT = { table: "terminals", columns: ["auth_failures", "locked_at", "updated_at"] };

Deno.test(`issue 9 proof 5: every recorded state-changing request replayed ${REPLAYS} times: refused or idempotent, database state unchanged`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "harden-replay-" });
  const t = await recordTraffic(core, 2, "RP", { flowBDb: `${dir}/kmsb.db` });
  try {
    const dbs = [`${t.a.dir}/kms.db`, `${t.a.dir}/mtms.db`, `${dir}/kmsb.db`];
    const before = dbs.map((d) => dbState(d));
    const beforeB = dbState(dbs[2], LOCK_OUT);
    const mutating = t.recorded.filter((r) => r.method !== "GET" && r.status < 300);
    assert(mutating.length >= 15, `${mutating.length} recorded state-changing requests`);
    const perRoute = new Map<string, Tally>();
    const send = async (r: (typeof mutating)[number]) => {
      const res = await t.handlers[r.server](
        new Request(r.url, { method: r.method, headers: r.headers, body: r.body ?? undefined }),
      );
      const body = await res.json();
      const route = `${r.server} ${r.method} ${
        new URL(r.url).pathname.replace(/\/(RP[AB]\d+|PO-RP-1|[0-9A-F]{32})(?=\/|$)/g, "/{id}")
      }`;
      const tally = perRoute.get(route) ?? new Tally();
      perRoute.set(route, tally);
      assert(res.status < 500, `${route}: ${res.status} ${JSON.stringify(body)}`);
      if (res.status < 300) {
        assert(
          idempotent(route, res.status, body),
          `${route} replay accepted: ${res.status} ${JSON.stringify(body)}`,
        );
        tally.add(`${res.status} idempotent`);
      } else {
        tally.add(`${res.status} ${body.error?.code}`);
      }
    };
    // Flow B locks a terminal after 3 failed authentications; the operator lifts it before
    // each sequential replay (not counted), so each refusal shows the check that caught the
    // replay rather than the lock-out. The concurrent half runs without that help.
    const flowBSns = [
      ...new Set(
        mutating.filter((r) => r.server === "kmsB").map((r) =>
          new URL(r.url).pathname.split("/")[3]
        ),
      ),
    ];
    const unlockAll = async () => {
      for (const sn of flowBSns) {
        const res = await t.handlers.kmsB(
          new Request(`${t.urls.kmsB}/v1/terminals/${sn}/unlock`, {
            method: "POST",
            headers: { authorization: `Bearer ${t.b.token}` },
          }),
        );
        await res.body?.cancel();
      }
    };
    for (const r of mutating) {
      for (let i = 0; i < REPLAYS / 2; i++) {
        if (r.server === "kmsB") await unlockAll();
        await send(r);
      }
      await Promise.all(Array.from({ length: REPLAYS / 2 }, () => send(r)));
    }
    await unlockAll();
    const after = dbs.map((d) => dbState(d));
    for (let i = 0; i < 2; i++) assertEquals(after[i].hash, before[i].hash, `${dbs[i]} changed`);
    assertEquals(dbState(dbs[2], LOCK_OUT).hash, beforeB.hash, "flow B database changed");
    const lockOutChanged = after[2].hash !== before[2].hash;
    const total = new Tally();
    for (const tl of perRoute.values()) total.merge(tl);
    for (const [route, tl] of perRoute) figure("replay", `${route}: ${tl}`);
    figure(
      "replay",
      `${mutating.length} recorded state-changing requests x ${REPLAYS} replays (half concurrent) = ${total.total}: ${total}; ` +
        `state hash (every table but the audit log) unchanged in the KMS and MTMS databases, and in the KMS flow B one ` +
        `apart from the lock-out columns (${
          lockOutChanged ? "changed" : "unchanged"
        }: replayed S5 answers count as failures, a replayed unlock lifts it); ` +
        `audit records added: ` +
        after.map((a, i) => a.audit - before[i].audit).join(" / ") + " (KMS / MTMS / KMS flow B)",
    );
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});
