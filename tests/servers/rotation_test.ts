/**
 * Rotation of PK and MAK under dual control, on SQLite and (with
 * `KMS_TEST_DATABASE_URL`) PostgreSQL: one operator cannot rotate (the
 * request stays pending, self-approval is 403); two operators rotate PK and
 * MAK and the audit names both and the old and new KCVs; the MTMS fetches
 * each new version over S14, and TKs and TMKs flow end to end under it; a
 * batch in flight under the previous version imports, an older one is
 * refused naming the versions taken; a garbled, swapped or mislabelled
 * hand-over is refused and the MTMS keeps its version; both servers keep
 * the rotated keys across a restart; two KMS instances on one PostgreSQL
 * database both use the new version. Real servers in-process, real HSMs and
 * stores.
 *
 * @module
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { randomComponents } from "../../demo/setup.ts";
import { type Transport, ValidationError } from "../../src/protocol/mod.ts";
import { memoryLogger } from "../../servers/_lib/log.ts";
import { ServerMetrics } from "../../servers/_lib/metrics.ts";
import { createKms, type KmsApp } from "../../servers/kms/main.ts";
import { type Json, makeWorld } from "../flow_a/_fixture.ts";
import {
  type Backend,
  batches,
  core,
  delivered,
  kpOf,
  pgDb,
  pgUrl,
  staffedWorld,
} from "./_rotation_world.ts";

function backendTest(name: string, fn: (b: Backend) => Promise<void>, only?: Backend) {
  for (const backend of ["sqlite", "postgres"] as const) {
    if (only && backend !== only) continue;
    const skip = backend === "postgres" && pgUrl === "";
    Deno.test({
      name: `rotation (${backend}): ${name}${
        skip ? " (skipped: KMS_TEST_DATABASE_URL not set)" : ""
      }`,
      ignore: skip,
      fn: () => fn(backend),
    });
  }
}

backendTest("one operator cannot rotate: it stays pending, self-approval is 403", async (b) => {
  const t = await staffedWorld(b);
  try {
    const asked = await t.as("cora", "POST", "/v1/server-keys/PK/rotate");
    assertEquals(asked.status, 202);
    assertEquals([asked.body.operation, asked.body.state], ["rotateServerKey", "pending"]);
    const self = await t.as("cora", "POST", `/v1/approvals/${asked.body.approvalId}/approve`);
    assertEquals([self.status, self.body.error.code], [403, "same_operator"]);
    const notAllowed = await t.as("otto", "POST", "/v1/server-keys/MAK/rotate");
    assertEquals([notAllowed.status, notAllowed.body.error.code], [403, "role_required"]);
    const byOperator = await t.as("otto", "POST", `/v1/approvals/${asked.body.approvalId}/approve`);
    assertEquals([byOperator.status, byOperator.body.error.code], [403, "role_required"]);
    const still = await t.as("sam", "GET", `/v1/approvals/${asked.body.approvalId}`);
    assertEquals(still.body.state, "pending");
    assertEquals(await t.versions(), { PK: 1, MAK: 1 });
    const bad = await t.as("cora", "POST", "/v1/server-keys/TK/rotate");
    assertEquals(bad.status, 400);
    assertEquals(await t.auditOf("server_key_rotated"), []);
  } finally {
    await t.close();
  }
});

Deno.test("rotation: the bootstrap administrator alone cannot rotate either", async () => {
  const w = await makeWorld(core, "in-process");
  try {
    const alone = await w.call("POST", `${w.kmsUrl}/v1/server-keys/PK/rotate`);
    assertEquals([alone.status, alone.body.error.code], [400, "approval_required"]);
    const keys = await w.call("GET", `${w.kmsUrl}/v1/server-keys`, undefined, null);
    assertEquals(keys.body.keys.map((k: Json) => k.version), [1, 1]);
  } finally {
    await w.close();
  }
});

backendTest(
  "two operators rotate PK and MAK; TKs and TMKs flow end to end under them",
  async (b) => {
    const metrics = new ServerMetrics("kms");
    const t = await staffedWorld(b, { kmsMetrics: metrics });
    try {
      const early = await t.order("PO-ROT-1", ["SNR0000001", "SNR0000002"]);
      const pk = await t.rotate("PK");
      assertEquals(
        [pk.name, pk.previousVersion, pk.version, pk.requestedBy, pk.approvedBy],
        ["PK", 1, 2, "cora", "carl"],
      );
      assert(pk.kcv !== pk.previousKcv);
      const mak = await t.rotate("MAK", "carl", "sam");
      assertEquals([mak.version, mak.requestedBy, mak.approvedBy], [2, "carl", "sam"]);
      assertEquals(await t.versions(), { PK: 2, MAK: 2 });
      const scraped = (await metrics.render()).text;
      assertStringIncludes(scraped, 'tmk_server_key_version{key="PK",server="kms"} 2');
      assertStringIncludes(scraped, 'tmk_server_key_version{key="MAK",server="kms"} 2');
      const records = await t.auditOf("server_key_rotated");
      assertEquals(records.map((r) => [r.subject, r.operator, r.kcv]), [
        ["PK v2", "cora", pk.kcv],
        ["MAK v2", "carl", mak.kcv],
      ]);
      assertEquals(
        records[0].detail,
        `PK version 1 KCV ${pk.previousKcv} -> version 2 KCV ${pk.kcv}; requested by cora, approved by carl`,
      );

      // Collected under PK 1, sent after the MTMS fetched the new versions: MAC under MAK 2.
      const t1 = await t.transfer("PO-ROT-1");
      assertEquals(t1.status, 200, JSON.stringify(t1.body));
      const fetched = t.w.mtmsToKms.filter((x) => x.method === "GET").map((x) =>
        new URL(x.url).pathname
      );
      assertEquals(fetched, [
        "/v1/server-keys",
        "/v1/server-keys/PK/versions/2",
        "/v1/server-keys/MAK/versions/2",
      ]);
      const [first] = batches(t.w);
      assertEquals(first.makVersion, 2);
      assertEquals(kpOf(first.tks[0].tkBlock), pk.previousKcv, "collected under PK 1");

      // A new order: TKs under PK 2 (block KP names it), MAC under MAK 2; TMKs delivered.
      const fresh = await t.order("PO-ROT-2", ["SNR0000003", "SNR0000004"]);
      const t2 = await t.transfer("PO-ROT-2");
      assertEquals(t2.status, 200, JSON.stringify(t2.body));
      const second = batches(t.w)[1];
      assertEquals(second.makVersion, 2);
      for (const tk of second.tks) assertEquals(kpOf(tk.tkBlock), pk.kcv);
      for (const orderId of ["PO-ROT-1", "PO-ROT-2"]) {
        const i = await t.as("otto", "POST", `/v1/orders/${orderId}/tmks`);
        assertEquals([i.status, i.body.issued], [200, 2], JSON.stringify(i.body));
      }
      await delivered([...early, ...fresh]);
    } finally {
      await t.close();
    }
  },
);

backendTest(
  "a batch in flight under the previous version imports; older ones are refused",
  async (b) => {
    let inFlight: (() => Promise<void>) | undefined;
    const around = (server: "kms" | "mtms", h: Transport): Transport =>
      server === "kms"
        ? async (r) => {
          if (inFlight && new URL(r.url).pathname === "/v1/tk-batches") {
            const f = inFlight;
            inFlight = undefined;
            await f();
          }
          return await h(r);
        }
        : h;
    const t = await staffedWorld(b, { around });
    try {
      await t.order("PO-FLY-1", ["SNF0000001"]);
      // Rotated while the batch (MAC under MAK 1, TK under PK 1) is on its way.
      inFlight = async () => {
        await t.rotate("PK");
        await t.rotate("MAK");
      };
      const sent = await t.transfer("PO-FLY-1");
      assertEquals(sent.status, 200, JSON.stringify(sent.body));
      assertEquals(inFlight, undefined, "the rotation ran while the batch was in flight");
      const [flown] = batches(t.w);
      assertEquals(flown.makVersion, 1);

      // The MTMS still holds PK 1; the KMS moves to PK 3 and MAK 3.
      await t.order("PO-FLY-2", ["SNF0000002"]);
      await t.rotate("PK");
      const mak3 = await t.rotate("MAK");
      assertEquals(await t.versions(), { PK: 3, MAK: 3 });
      // The same batch again: its MAK is retired now.
      const again = await t.w.call("POST", `${t.w.kmsUrl}/v1/tk-batches`, flown, null);
      assertEquals(again.body.error.code, "key_version_retired");
      assertEquals(
        again.body.error.message,
        `the batch's MAC is under MAK version 1, which is retired; the KMS takes MAK version 3 ` +
          `(current, KCV ${mak3.kcv}) and 2; nothing stored`,
      );
      // The MTMS fetches versions 2 and 3 and MACs under MAK 3; its TK is under PK 1: refused.
      const old = await t.transfer("PO-FLY-2");
      assertEquals(old.status, 502, JSON.stringify(old.body));
      assertStringIncludes(old.body.error.message, "key_version_retired");
      assertMatch(old.body.error.message, /the TK is under PK version 1, which is retired/);
      assertEquals(batches(t.w).at(-1).makVersion, 3);
    } finally {
      await t.close();
    }
  },
);

backendTest(
  "a garbled, swapped or mislabelled hand-over is refused; the MTMS keeps its version",
  async (b) => {
    let tamper: ((body: Json) => Json) | undefined;
    const around = (server: "kms" | "mtms", h: Transport): Transport =>
      server === "kms"
        ? async (r) => {
          const res = await h(r);
          if (!tamper || !/\/v1\/server-keys\/PK\/versions\//.test(r.url)) return res;
          const body = tamper(await res.json());
          return new Response(JSON.stringify(body), {
            status: res.status,
            headers: { "content-type": "application/json" },
          });
        }
        : h;
    const t = await staffedWorld(b, { around });
    try {
      await t.order("PO-TAMP-1", ["SNT0000001"]);
      await t.rotate("PK");
      const mak = await t.w.call(
        "GET",
        `${t.w.kmsUrl}/v1/server-keys/MAK/versions/2`,
        undefined,
        null,
      );
      assertEquals(mak.status, 400, "MAK has no version 2 yet");
      await t.rotate("MAK");
      const makBlock =
        (await t.w.call("GET", `${t.w.kmsUrl}/v1/server-keys/MAK/versions/2`, undefined, null))
          .body.keyBlock as string;
      const flip = (s: string, at: number) =>
        s.slice(0, at) + (s[at] === "0" ? "1" : "0") + s.slice(at + 1);
      const cases: [string, (h: Json) => Json, string][] = [
        [
          "garbled",
          (h) => ({ ...h, keyBlock: flip(h.keyBlock, h.keyBlock.length - 5) }),
          "decrypt_failed",
        ],
        ["swapped for MAK's", (h) => ({ ...h, keyBlock: makBlock }), "decrypt_failed"],
        [
          "another KCV",
          (h) => ({ ...h, kcv: h.kcv === "000000" ? "000001" : "000000" }),
          "kcv_mismatch",
        ],
      ];
      for (const [what, fn, code] of cases) {
        tamper = fn;
        const r = await t.transfer("PO-TAMP-1");
        assertEquals(r.status, 502, what);
        assertStringIncludes(
          r.body.error.message,
          `PK version 2 from the KMS refused (${code})`,
          what,
        );
      }
      const failures = (await t.w.call("GET", `${t.w.mtmsUrl}/v1/orders/PO-TAMP-1`)).body;
      assertEquals(failures.state, "collecting", "nothing sent");
      tamper = undefined;
      const ok = await t.transfer("PO-TAMP-1");
      assertEquals(ok.status, 200, JSON.stringify(ok.body));
      assertEquals(batches(t.w).at(-1).makVersion, 2);
    } finally {
      await t.close();
    }
  },
);

backendTest("both servers keep the rotated keys across a restart", async (b) => {
  const t = await staffedWorld(b);
  try {
    await t.order("PO-RST-1", ["SNS0000001"]);
    const pk = await t.rotate("PK");
    await t.rotate("MAK");
    assertEquals((await t.transfer("PO-RST-1")).status, 200);
    const terminals = await t.order("PO-RST-2", ["SNS0000002"]);
    await t.w.restartKms();
    await t.w.restartMtms();
    assertEquals(await t.versions(), { PK: 2, MAK: 2 });
    const before = t.w.mtmsToKms.length;
    const sent = await t.transfer("PO-RST-2");
    assertEquals(sent.status, 200, JSON.stringify(sent.body));
    const after = t.w.mtmsToKms.slice(before);
    assertEquals(after.map((x) => `${x.method} ${new URL(x.url).pathname}`), [
      "GET /v1/server-keys",
      "POST /v1/tk-batches",
    ], "nothing to fetch: the MTMS came back at version 2");
    const batch = JSON.parse(after[1].requestBody);
    assertEquals(batch.makVersion, 2);
    assertEquals(kpOf(batch.tks[0].tkBlock), pk.kcv);
    const i = await t.as("otto", "POST", `/v1/orders/PO-RST-2/tmks`);
    assertEquals(i.status, 200);
    await delivered(terminals);
  } finally {
    await t.close();
  }
});

backendTest("components that match no stored version are refused in one line", async (b) => {
  const t = await staffedWorld(b);
  try {
    const pk = await t.rotate("PK");
    const other = await randomComponents(2, 24, core);
    const e = await assertRejects(
      () =>
        createKms({
          db: t.db.kms,
          lmkComponents: t.w.components.kmsLmk,
          pkComponents: other,
          makComponents: t.w.components.mak,
          hsmMode: "test",
          token: t.w.token,
          core,
          hsmWorkers: 1,
          log: memoryLogger().logger,
        }),
      ValidationError,
    );
    assertEquals(e.code, "key_version_unknown");
    assertMatch(
      e.message,
      new RegExp(
        `^PK components \\(KCV [0-9A-F]{6}\\) match no PK version in the store \\(v1 KCV ` +
          `${pk.previousKcv}, v2 KCV ${pk.kcv}\\): enter the components of this database's key ceremony$`,
      ),
    );
    // The right components still start it, at version 2.
    await t.w.restartKms();
    assertEquals(await t.versions(), { PK: 2, MAK: 1 });
  } finally {
    await t.close();
  }
});

backendTest("two KMS instances on one PostgreSQL database both use the new version", async () => {
  let second: KmsApp | undefined;
  let viaSecond = false;
  const around = (server: "kms" | "mtms", h: Transport): Transport =>
    server === "kms" ? (r) => (viaSecond ? second!.handler(r) : h(r)) : h;
  const kmsDb = pgDb("two");
  const t = await staffedWorld("postgres", { around, db: { kms: kmsDb, mtms: pgDb("mtms") } });
  try {
    second = await createKms({
      db: kmsDb,
      lmkComponents: t.w.components.kmsLmk,
      pkComponents: t.w.components.pk,
      makComponents: t.w.components.mak,
      hsmMode: "test",
      token: t.w.token,
      core,
      hsmWorkers: 1,
      log: memoryLogger().logger,
    });
    const terminals = await t.order("PO-TWO-1", ["SNW0000001"]);
    // Rotated at the first instance; the MTMS talks to the second one.
    const pk = await t.rotate("PK");
    const mak = await t.rotate("MAK");
    viaSecond = true;
    assertEquals(await t.versions(), { PK: 2, MAK: 2 }, "the second instance reads them");
    const sent = await t.transfer("PO-TWO-1");
    assertEquals(sent.status, 200, JSON.stringify(sent.body));
    assertEquals(batches(t.w).at(-1).makVersion, 2);
    // A new order under PK 2, and MAK rotated once more at the first instance.
    viaSecond = false;
    const next = await t.order("PO-TWO-2", ["SNW0000002"]);
    const mak3 = await t.rotate("MAK");
    viaSecond = true;
    const sent2 = await t.transfer("PO-TWO-2");
    assertEquals(sent2.status, 200, JSON.stringify(sent2.body));
    const last = batches(t.w).at(-1);
    assertEquals([last.makVersion, kpOf(last.tks[0].tkBlock)], [3, pk.kcv]);
    assert(mak3.previousKcv === mak.kcv);
    viaSecond = false;
    for (const orderId of ["PO-TWO-1", "PO-TWO-2"]) {
      const i = await t.as("otto", "POST", `/v1/orders/${orderId}/tmks`);
      assertEquals(i.status, 200);
    }
    await delivered([...terminals, ...next]);
  } finally {
    await second?.close();
    await t.close();
  }
}, "postgres");
