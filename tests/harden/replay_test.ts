/**
 * Replay. A full run of both flows is recorded
 * (`_traffic.ts`); then every recorded request that changes state (every
 * non-GET: signed single-use operator API calls, the operator card's
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
function dbState(path: string): { hash: string; audit: number } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const h = createHash("sha256");
    let audit = 0;
    const tables = db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    ).all() as { name: string }[];
    for (const { name } of tables) {
      const rows = db.prepare(`SELECT * FROM "${name}"`).all().map((r) => JSON.stringify(r))
        .sort();
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
  if (body.duplicate === "yes") return true; // TK upload, batch, transport key
  // MTMS: the same signed upload of the same TK (within its signing window) answers as the
  // first did and stores nothing new (the state hash below proves it).
  if (route === "mtms POST /v1/orders/{id}/tks" && typeof body.tkKcv === "string") return true;
  // KMS flow A: a challenge stores nothing (a stateless, tagged nonce); a new one each time.
  if (route === "kms POST /v1/terminals/{id}/tmk/challenge" && typeof body.nonce === "string") {
    return true;
  }
  return false;
}

Deno.test(`every recorded state-changing request replayed ${REPLAYS} times: refused or idempotent, database state unchanged`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "harden-replay-" });
  const t = await recordTraffic(core, 2, "RP", { flowBDb: `${dir}/kmsb.db` });
  try {
    const dbs = [`${t.a.dir}/kms.db`, `${t.a.dir}/mtms.db`, `${dir}/kmsb.db`];
    const before = dbs.map((d) => dbState(d));
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
    for (const r of mutating) {
      for (let i = 0; i < REPLAYS / 2; i++) await send(r);
      await Promise.all(Array.from({ length: REPLAYS / 2 }, () => send(r)));
    }
    const after = dbs.map((d) => dbState(d));
    for (let i = 0; i < 3; i++) assertEquals(after[i].hash, before[i].hash, `${dbs[i]} changed`);
    const total = new Tally();
    for (const tl of perRoute.values()) total.merge(tl);
    for (const [route, tl] of perRoute) figure("replay", `${route}: ${tl}`);
    figure(
      "replay",
      `${mutating.length} recorded state-changing requests x ${REPLAYS} replays (half concurrent) = ${total.total}: ${total}; ` +
        `state hash (every table but the audit log) unchanged in the KMS, MTMS and KMS flow B databases; ` +
        `audit records added: ` +
        after.map((a, i) => a.audit - before[i].audit).join(" / ") + " (KMS / MTMS / KMS flow B)",
    );
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});
