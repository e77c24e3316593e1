/**
 * Audit completeness. After a recorded run of both flows
 * (2 terminals each), the audit log of each server (KMS, MTMS, KMS flow B)
 * is read from its database: exactly one success record per key-lifecycle
 * operation per terminal, each with actor, subject (the SN: the key's id)
 * and KCV where the key is symmetric, the KCVs equal to the ones the
 * servers report; the LMK load recorded once per HSM with its KCV; and no
 * record holds key material (no run of 16 or more hex digits outside the
 * KCV field, which is 3-5 bytes).
 *
 * The flow A KMS records each TK of an imported batch (`tk_imported`) and
 * each TMK of bulk issuance (`tmk_issued`) once, with key id and KCV: the
 * TK's KCV equal to the one the MTMS recorded when it collected that TK, the
 * TMK's equal to the one sent and delivered.
 *
 * Prints `figure audit`.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { figure } from "./_figures.ts";
import { recordTraffic } from "./_traffic.ts";

const core = await loadCore("wasm");

interface AuditRow {
  id: number;
  actor: string | null;
  event: string;
  subject: string | null;
  key_id: string | null;
  kcv: string | null;
  outcome: string;
  detail: string | null;
}

function auditOf(path: string): AuditRow[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare("SELECT * FROM audit_log ORDER BY id").all() as unknown as AuditRow[];
  } finally {
    db.close();
  }
}

Deno.test("one audit record per key-lifecycle operation, with actor, subject, KCV, outcome; no key material", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harden-audit-" });
  const t = await recordTraffic(core, 2, "AU", { flowBDb: `${dir}/kmsb.db` });
  try {
    const logs = {
      kms: auditOf(`${t.a.dir}/kms.db`),
      mtms: auditOf(`${t.a.dir}/mtms.db`),
      kmsB: auditOf(`${dir}/kmsb.db`),
    };
    let checked = 0;
    const one = (log: AuditRow[], event: string, subject: string, withKcv: boolean) => {
      const rows = log.filter((r) =>
        r.event === event && r.subject === subject && r.outcome === "success"
      );
      assertEquals(rows.length, 1, `${event} ${subject}: ${rows.length} records`);
      const r = rows[0];
      assert(r.actor && r.actor.length > 0, `${event} ${subject}: no actor`);
      if (withKcv) {
        assert(r.kcv && /^[0-9A-F]{6,10}$/.test(r.kcv), `${event} ${subject}: KCV ${r.kcv}`);
      }
      checked++;
      return r;
    };
    // The LMK of each HSM, once, with its KCV.
    for (const log of Object.values(logs)) {
      const l = log.filter((r) => r.event === "lmk_loaded");
      assertEquals(l.length, 1);
      assert(l[0].kcv && l[0].key_id === "LMK");
      checked++;
    }
    const snsA = [
      ...new Set(
        t.recorded.filter((r) => r.server === "kms" && r.url.endsWith("/tmk/ack"))
          .map((r) => new URL(r.url).pathname.split("/")[3]),
      ),
    ];
    const snsB = [
      ...new Set(
        t.recorded.filter((r) => r.server === "kmsB" && r.url.endsWith("/tmk/ack"))
          .map((r) => new URL(r.url).pathname.split("/")[3]),
      ),
    ];
    assertEquals(snsA.length, 2);
    assertEquals(snsB.length, 2);
    for (const sn of snsA) {
      const collected = one(logs.mtms, "tk_collected", sn, true);
      assert(
        collected.actor!.includes("CN="),
        `TK collected by the operator card: ${collected.actor}`,
      );
      const imported = one(logs.kms, "tk_imported", sn, true);
      assertEquals(imported.key_id, "TK");
      assertEquals(imported.kcv, collected.kcv, `${sn}: the KCV of the TK the MTMS collected`);
      const issued = one(logs.kms, "tmk_issued", sn, true);
      assertEquals(issued.key_id, "TMK");
      const sent = one(logs.kms, "tmk_sent", sn, true);
      const delivered = one(logs.kms, "tmk_delivered", sn, true);
      assertEquals(new Set([issued.kcv, sent.kcv, delivered.kcv]).size, 1);
    }
    // Per order, only the batch's outcome (with its count), no per-order issuance record.
    const batches = logs.kms.filter((r) => r.event === "tk_batch_imported");
    assertEquals(batches.map((r) => [r.outcome, r.detail]), [["success", "2 TKs"]]);
    assertEquals(logs.kms.filter((r) => r.event === "tmk_issued").length, snsA.length);
    assertEquals(logs.kms.filter((r) => r.event === "tk_imported").length, snsA.length);
    for (const sn of snsB) {
      one(logs.kmsB, "hsm_key_issued", sn, false);
      one(logs.kmsB, "tk_imported", sn, true);
      const issued = one(logs.kmsB, "tmk_issued", sn, true);
      const sent = one(logs.kmsB, "tmk_sent", sn, true);
      const delivered = one(logs.kmsB, "tmk_delivered", sn, true);
      assertEquals(new Set([issued.kcv, sent.kcv, delivered.kcv]).size, 1);
      const status = await t.b.store.getTerminal(sn);
      assertEquals(status?.tmkKcv, issued.kcv);
    }
    // No key material anywhere in any record: no hex run of 16+ digits outside the KCV.
    let rows = 0;
    for (const log of Object.values(logs)) {
      for (const r of log) {
        rows++;
        assert(r.outcome === "success" || r.outcome === "failure", JSON.stringify(r));
        for (const [k, v] of Object.entries(r)) {
          if (k === "kcv" || typeof v !== "string") continue;
          assert(
            !/[0-9A-Fa-f]{16,}/.test(v),
            `audit ${k} holds a long hex run: ${JSON.stringify(r)}`,
          );
        }
      }
    }
    figure(
      "audit",
      `${rows} audit records in 3 databases; ${checked} key-lifecycle operations checked (LMK loads; ` +
        `flow A TK collected, TK imported, TMK issued, sent, delivered per terminal; flow B Pr_hsm ` +
        `issued, AUK imported, TMK issued, sent, delivered per terminal): exactly one success record ` +
        `each with actor, subject and KCV (flow A TK imported and TMK issued also with key id TK, TMK); ` +
        `0 records with key material`,
    );
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});
