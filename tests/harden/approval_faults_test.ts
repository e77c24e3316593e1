/**
 * Dual control under a fault, step by step (what `faults_test.ts` proves
 * for every call, here with each record named): an approved rotation whose
 * run fails (the HSM does not answer; the store fails on the rotation's own
 * audit record) is pending again, with one failure record and no new key
 * version; approved once more it runs, and the grant, the execution and
 * the rotation are recorded together; a third approval is refused. While
 * no operator is enrolled, a bootstrap enrolment that fails records no
 * waiver; its retry records the waiver with the enrolment. On SQLite, and
 * on PostgreSQL when `KMS_TEST_DATABASE_URL` is set.
 *
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { operatorAuthorization } from "../_helpers.ts";
import {
  type Backend,
  type DbReader,
  FaultPlan,
  faultyHsm,
  faultyStore,
  postgresReader,
  sqliteReader,
} from "./_faults.ts";
import { recordTraffic } from "./_traffic.ts";
import { type OperatorKeys, signAs } from "./_traffic_ops.ts";

const core = await loadCore("wasm");
const url = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";

/** A flow A world whose KMS store and HSM fail where `plan` says; its KMS database's reader. */
async function world(backend: Backend, prefix: string, keys?: OperatorKeys) {
  const plan = new FaultPlan(backend);
  const schema = `t_af_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const db = `${url}${url.includes("?") ? "&" : "?"}schema=${schema}`;
  const t = await recordTraffic(core, 0, prefix, {
    operatorKeys: keys,
    flowA: {
      instrument: {
        kms: { store: (s) => faultyStore(s, plan), hsm: (h) => faultyHsm(h, plan) },
      },
      ...(backend === "postgres" ? { db: { kms: db, mtms: `${db}_m` } } : {}),
    },
  });
  const reader: DbReader = backend === "postgres"
    ? await postgresReader(db, schema)
    : sqliteReader(`${t.a.dir}/kms.db`);
  const call = async (who: string, method: string, path: string, body?: unknown) => {
    const u = `${t.urls.kms}${path}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      authorization: who === "admin"
        ? await operatorAuthorization(t.a.token, method, u, text)
        : await signAs(keys!, who, method, u, text),
    };
    if (text) headers["content-type"] = "application/json";
    const r = await t.handlers.kms(new Request(u, { method, headers, body: text }));
    return { status: r.status, body: await r.json() };
  };
  /** One request with `target` failing. */
  const failing = async (target: string, variant: number, send: () => ReturnType<typeof call>) => {
    plan.armAt(target, variant);
    try {
      return await send();
    } finally {
      plan.disarm();
      assertEquals(plan.fired?.what, target.split(".")[1], `${target} was not called`);
    }
  };
  const events = async (since: number) => {
    const s = await reader.state(since);
    return s.newEvents.map((e, i) => `${e} ${s.newOutcomes[i]}`);
  };
  return {
    t,
    call,
    failing,
    events,
    audit: async () => (await reader.state()).audit,
    close: async () => {
      await t.close();
      await reader.close();
      if (backend === "postgres") {
        const r = await postgresReader(
          `${url}${url.includes("?") ? "&" : "?"}schema=${schema}_m`,
          `${schema}_m`,
        );
        await r.close();
      }
    },
  };
}

for (const backend of ["sqlite", "postgres"] as Backend[]) {
  const skip = backend === "postgres" && url === ""
    ? " (skipped: KMS_TEST_DATABASE_URL not set)"
    : "";
  Deno.test({
    name:
      `an approved rotation that fails is pending again and runs once when approved anew [${backend}]${skip}`,
    ignore: skip !== "",
    fn: async () => {
      const keys: OperatorKeys = new Map();
      const w = await world(backend, "AF", keys);
      try {
        const asked = await w.call("cora", "POST", "/v1/server-keys/MAK/rotate");
        assertEquals(asked.status, 202);
        const id = asked.body.approvalId as string;
        const approve = () => w.call("carl", "POST", `/v1/approvals/${id}/approve`);
        const versions = async () =>
          (await w.call("sam", "GET", "/v1/server-keys")).body.keys.map((k: { version: number }) =>
            k.version
          );
        for (
          const [target, variant] of [["hsm.generateKey", 1], ["store.appendAudit", 0]] as const
        ) {
          const mark = await w.audit();
          const failed = await w.failing(target, variant, approve);
          assert(
            failed.status >= 500,
            `${target}: ${failed.status} ${JSON.stringify(failed.body)}`,
          );
          const a = await w.call("sam", "GET", `/v1/approvals/${id}`);
          assertEquals([a.body.state, a.body.approvedBy], ["pending", undefined], target);
          assertEquals(await versions(), [2, 2], target);
          const recorded = await w.events(mark);
          assertEquals(recorded, ["approval_executed failure"], target);
        }
        const mark = await w.audit();
        const done = await approve();
        assertEquals([done.status, done.body.version, done.body.approvedBy], [200, 3, "carl"]);
        assertEquals(await w.events(mark), [
          "approval_granted success",
          "approval_executed success",
          "server_key_rotated success",
        ]);
        const a = await w.call("sam", "GET", `/v1/approvals/${id}`);
        assertEquals([a.body.state, a.body.status, a.body.approvedBy], ["done", 200, "carl"]);
        const again = await w.call("sam", "POST", `/v1/approvals/${id}/approve`);
        assertEquals([again.status, again.body.error.code], [409, "approval_not_pending"]);
        assertEquals(await versions(), [2, 3]);
      } finally {
        await w.close();
      }
    },
  });

  Deno.test({
    name:
      `a bootstrap enrolment that fails records no waiver; its retry records it [${backend}]${skip}`,
    ignore: skip !== "",
    fn: async () => {
      const w = await world(backend, "AW");
      try {
        const body = {
          id: "sam",
          name: "Operator sam",
          role: "supervisor",
          publicKey: "A".repeat(64),
        };
        for (
          const [target, variant] of [["store.addOperator", 1], ["store.appendAudit", 0]] as const
        ) {
          const mark = await w.audit();
          const failed = await w.failing(
            target,
            variant,
            () => w.call("admin", "POST", "/v1/operators", body),
          );
          assert(
            failed.status >= 500,
            `${target}: ${failed.status} ${JSON.stringify(failed.body)}`,
          );
          assertEquals(await w.events(mark), [], target);
        }
        const mark = await w.audit();
        const ok = await w.call("admin", "POST", "/v1/operators", body);
        assertEquals(ok.status, 201, JSON.stringify(ok.body));
        const recorded = await w.events(mark);
        assertEquals(recorded, ["dual_control_waived success", "operator_added success"]);
        assertStringIncludes(JSON.stringify(ok.body), '"createdBy":"admin"');
      } finally {
        await w.close();
      }
    },
  });
}
