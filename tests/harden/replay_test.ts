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
 * The dual-control requests (`_traffic_ops.ts`: each rotation of PK and MAK,
 * the KMS CA install, each approval, signed by an operator's key) are
 * replayed as recorded: each is refused (`request_replayed`); an approval
 * signed anew by its approver is refused as done (`approval_not_pending`);
 * four approvers at once on one pending rotation: it runs once.
 *
 * Prints `figure replay` with counts per route.
 */
import { DatabaseSync } from "node:sqlite";
import { createHash } from "node:crypto";
import { assert, assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { figure, size, Tally } from "./_figures.ts";
import { recordTraffic } from "./_traffic.ts";
import { type OperatorKeys, signAs } from "./_traffic_ops.ts";
import { sqliteReader } from "./_faults.ts";
import { parseOperatorHeader } from "../../src/protocol/operator_key.ts";

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

Deno.test("dual control: a replayed rotation, KMS CA install or approval is refused; an approval runs once", async () => {
  const keys: OperatorKeys = new Map();
  const t = await recordTraffic(core, 0, "RO", { operatorKeys: keys });
  try {
    const kmsDb = `${t.a.dir}/kms.db`;
    const ops = t.recorded.filter((r) =>
      r.server === "kms" && r.method === "POST" &&
      /\/v1\/(server-keys\/(PK|MAK)\/rotate|kms-ca|approvals\/[0-9a-f-]{36}\/approve)$/.test(
        new URL(r.url).pathname,
      )
    );
    // PK and MAK rotated, a KMS CA installed: three requests, and five approvals (with two
    // enrolments).
    assertEquals(ops.length, 8, ops.map((r) => r.url).join(", "));
    // Every table but the audit log and the nonces of signed operator requests (an approval
    // signed anew uses up its own nonce, by design).
    const reader = sqliteReader(kmsDb);
    const before = await reader.state();
    const tally = new Tally();
    for (const r of ops) {
      const send = () =>
        t.handlers.kms(
          new Request(r.url, { method: r.method, headers: r.headers, body: r.body ?? undefined }),
        );
      // The same signed request, again and again, then concurrently.
      const answers = [await send(), await send(), ...await Promise.all([send(), send(), send()])];
      for (const res of answers) {
        const body = await res.json();
        assertEquals([res.status, body.error?.code], [401, "request_replayed"], r.url);
        tally.add(`${res.status} ${body.error.code}`);
      }
      // The same approval signed anew by its approver: it ran once already.
      const m = /\/v1\/approvals\/([0-9a-f-]{36})\/approve$/.exec(r.url);
      if (!m) continue;
      const who = parseOperatorHeader(new Headers(r.headers).get("authorization"));
      assert(who.scheme === "ed25519");
      const again = await t.handlers.kms(
        new Request(r.url, {
          method: "POST",
          headers: { authorization: await signAs(keys, who.parts.keyId, "POST", r.url, undefined) },
        }),
      );
      const body = await again.json();
      assertEquals([again.status, body.error?.code], [409, "approval_not_pending"], r.url);
      tally.add(`${again.status} ${body.error.code}`);
    }
    assertEquals((await reader.state()).hash, before.hash, "the KMS's state changed");
    // Two approvers at once on one pending rotation: it runs once.
    const url = `${t.urls.kms}/v1/server-keys/MAK/rotate`;
    const asked = await t.handlers.kms(
      new Request(url, {
        method: "POST",
        headers: { authorization: await signAs(keys, "cora", "POST", url, undefined) },
      }),
    );
    assertEquals(asked.status, 202);
    const approve = `${t.urls.kms}/v1/approvals/${(await asked.json()).approvalId}/approve`;
    const race = await Promise.all(
      ["carl", "sam", "carl", "sam"].map(async (who) =>
        (await t.handlers.kms(
          new Request(approve, {
            method: "POST",
            headers: { authorization: await signAs(keys, who, "POST", approve, undefined) },
          }),
        )).status
      ),
    );
    assertEquals(race.sort(), [200, 409, 409, 409], `concurrent approvals: ${race}`);
    const versions = await (await t.handlers.kms(new Request(`${t.urls.kms}/v1/server-keys`)))
      .json();
    assertEquals(versions.keys.map((k: { version: number }) => k.version), [2, 3]);
    figure(
      "replay",
      `dual control: ${ops.length} recorded rotation, KMS CA install and approval requests ` +
        `replayed 5 times each and approvals signed anew: ${tally}; KMS state unchanged; ` +
        `4 concurrent approvals of one rotation: ${race.join(" ")}`,
    );
  } finally {
    await t.close();
  }
});
