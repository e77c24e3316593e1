/**
 * A flow A world for the rotation tests (in-process KMS and MTMS on SQLite
 * or PostgreSQL) with operators enrolled at the KMS: sam (supervisor), cora
 * and carl (custodians), otto (operator), aud (auditor); and the steps the
 * tests take: rotate, read the versions, collect and transfer orders, read
 * the audit.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { readKeyBlockHeader } from "../../src/keyblock/mod.ts";
import {
  generateOperatorKey,
  importOperatorKey,
  signOperatorRequestWithKey,
} from "../../src/protocol/operator_key.ts";
import { type Json, makeWorld, type World, type WorldOptions } from "../flow_a/_fixture.ts";

export const core = await loadCore("wasm");
const enc = new TextEncoder();
export const pgUrl = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";

export type Backend = "sqlite" | "postgres";

export function pgDb(tag: string): string {
  const schema = `t_rot_${tag}_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  return `${pgUrl}${pgUrl.includes("?") ? "&" : "?"}schema=${schema}`;
}

/** A world whose KMS (and MTMS) store is the backend's, with operators enrolled at the KMS. */
export async function staffedWorld(backend: Backend, options: WorldOptions = {}) {
  const dir = await Deno.makeTempDir({ prefix: "rotation-" });
  const db = options.db ??
    (backend === "postgres"
      ? { kms: pgDb("kms"), mtms: pgDb("mtms") }
      : { kms: `${dir}/kms.db`, mtms: `${dir}/mtms.db` });
  const w = await makeWorld(core, "in-process", { ...options, db });
  const keys = new Map<string, CryptoKey>();
  const as = async (who: string, method: string, path: string, body?: unknown) => {
    const url = `${w.kmsUrl}${path}`;
    const text = body === undefined ? "" : JSON.stringify(body);
    const authorization = await signOperatorRequestWithKey(keys.get(who)!, who, {
      method,
      url,
      body: enc.encode(text),
    });
    const headers: Record<string, string> = { authorization };
    if (body !== undefined) headers["content-type"] = "application/json";
    const r = await w.transport(
      new Request(url, { method, headers, body: body === undefined ? undefined : text }),
    );
    return { status: r.status, body: await r.json() as Json };
  };
  const enroll = async (id: string, role: string, approver?: string) => {
    const k = await generateOperatorKey();
    keys.set(id, (await importOperatorKey(k.privateKeyPem)).privateKey);
    const asked = await w.call("POST", `${w.kmsUrl}/v1/operators`, {
      id,
      name: `Operator ${id}`,
      role,
      publicKey: k.publicKey,
    });
    if (approver === undefined) return assertEquals(asked.status, 201, JSON.stringify(asked.body));
    assertEquals(asked.status, 202, JSON.stringify(asked.body));
    const ok = await as(approver, "POST", `/v1/approvals/${asked.body.approvalId}/approve`);
    assertEquals(ok.status, 201, JSON.stringify(ok.body));
  };
  await enroll("sam", "supervisor");
  for (const [id, role] of [["cora", "custodian"], ["carl", "custodian"], ["otto", "operator"]]) {
    await enroll(id, role, "sam");
  }
  await enroll("aud", "auditor", "sam");
  /** A rotation asked by `requester` and approved by `approver`: the approved answer. */
  const rotate = async (name: string, requester = "cora", approver = "carl") => {
    const asked = await as(requester, "POST", `/v1/server-keys/${name}/rotate`);
    assertEquals(asked.status, 202, JSON.stringify(asked.body));
    const done = await as(approver, "POST", `/v1/approvals/${asked.body.approvalId}/approve`);
    assertEquals(done.status, 200, JSON.stringify(done.body));
    return done.body;
  };
  const versions = async () => {
    const r = await w.call("GET", `${w.kmsUrl}/v1/server-keys`, undefined, null);
    assertEquals(r.status, 200);
    return Object.fromEntries(r.body.keys.map((k: Json) => [k.name, k.version]));
  };
  const order = async (orderId: string, sns: string[]) => {
    const r = await w.call("POST", `${w.mtmsUrl}/v1/orders`, { orderId, serialNumbers: sns });
    assertEquals(r.status, 201, JSON.stringify(r.body));
    const terminals = [];
    for (const sn of sns) {
      const pos = await w.pos(sn);
      await w.collect(pos, orderId);
      terminals.push(pos);
    }
    return terminals;
  };
  const transfer = (orderId: string) =>
    w.call("POST", `${w.mtmsUrl}/v1/orders/${orderId}/transfer`);
  const auditOf = async (event: string) => {
    const r = await as("aud", "GET", "/v1/audit/export");
    assertEquals(r.status, 200);
    return (r.body.records as Json[]).filter((x) => x.event === event);
  };
  return {
    w,
    as,
    rotate,
    versions,
    order,
    transfer,
    auditOf,
    dir,
    db,
    close: async () => {
      await w.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The batches the MTMS sent, parsed (JSON bodies). */
export function batches(w: World): Json[] {
  return w.mtmsToKms.filter((x) => x.url.endsWith("/v1/tk-batches")).map((x) =>
    JSON.parse(x.requestBody)
  );
}

/** The KCV a TK block names in its optional block KP. */
export function kpOf(tkBlock: string): string | undefined {
  return readKeyBlockHeader(tkBlock).optionalBlocks.find((b) => b.id === "KP")?.data.slice(2);
}

export async function delivered(terminals: Awaited<ReturnType<World["pos"]>>[]) {
  for (const pos of terminals) {
    const d = await pos.downloadTmk();
    assertEquals(d.state, "delivered");
  }
}
