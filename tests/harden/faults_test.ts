/**
 * Fault injection (with kill9_test.ts, the crash guarantees) at each step of each
 * mutating endpoint. A full run of both flows is driven by the real devices
 * (`_traffic.ts`), then the dual-control traffic of `_traffic_ops.ts` at the
 * flow A KMS (operators enrolled, PK and MAK rotated by one custodian and
 * approved by another, a transfer that fetches the new versions, a KMS CA
 * installed: each request and each approval through the real gate); every
 * state-changing request (every non-GET) of the KMS
 * (flow A and flow B) and the MTMS is, the first time it is sent, first
 * replayed with a fault at call k of its server's HSM or store (k = 1, 2,
 * ... until a run makes fewer than k calls: that run, without a fault, is
 * the one whose answer the device gets). The MTMS's call to the KMS is a
 * step of the MTMS's requests too (a network error).
 *
 * After each faulted request: the answer is a clean error (5xx with a JSON
 * error body and no key material in it; a 4xx only for an HSM refusal, with
 * its documented code), the state of the server's database (every table but
 * the append-only audit log) hashes the same as before the request, and the
 * audit log has at most one record more, a failure. The last run, without a
 * fault, must succeed: nothing a failed attempt left behind blocks it (a
 * failed approval is pending again). One step stands on its own: the key
 * versions the MTMS fetched at the start of a transfer stay (with their
 * `server_key_received` records) when the transfer fails later; nothing
 * else may change.
 *
 * Each step gets one kind of failure, alternating between the two kinds of
 * its site (see `_faults.ts`); the long run (`HARDEN_LONG=1`) gives every
 * step both. On SQLite, and on PostgreSQL when `KMS_TEST_DATABASE_URL` is set.
 *
 * Prints `figure fault-injection`.
 */
import { assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import type { Transport } from "../../src/protocol/mod.ts";
import { figure, LONG, Tally } from "./_figures.ts";
import { recordTraffic } from "./_traffic.ts";
import { operatorAuthorization } from "../_helpers.ts";
import { parseOperatorHeader } from "../../src/protocol/operator_key.ts";
import { type OperatorKeys, signAs } from "./_traffic_ops.ts";
import {
  type Backend,
  type DbReader,
  FaultPlan,
  faultyHsm,
  faultyStore,
  postgresReader,
  sqliteReader,
} from "./_faults.ts";

const core = await loadCore("wasm");
const url = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";
const pgSkip = url === "" ? "KMS_TEST_DATABASE_URL not set" : undefined;

type ServerName = "kms" | "mtms" | "kmsB";

/** HSM refusals may surface as these documented 4xx answers (status and code). */
const DOCUMENTED_4XX = new Set([
  "422 decrypt_failed",
  "422 auk_undecryptable",
  // The KMS CA's key block refused by the HSM (`POST /v1/kms-ca`).
  "400 invalid_kms_ca",
]);

interface Counts {
  endpoints: Set<string>;
  requests: number;
  faults: number;
  bySite: Tally;
  answers: Tally;
  unchanged: number;
  auditAdded: Tally;
  retried: number;
  /** Failed transfers after which the MTMS kept the key versions it had fetched. */
  keysAdopted: number;
  /** Nonces of signed operator requests stored by failed attempts (by design). */
  burntNonces: number;
  perEndpoint: Map<string, number>;
}

function routeOf(server: ServerName, req: Request): string {
  const path = new URL(req.url).pathname
    .replace(/\/(FT[ABR]\d+|PO-FT-\d|[0-9A-F]{32}|[0-9a-f-]{36})(?=\/|$)/g, "/{id}");
  return `${server} ${req.method} ${path}`;
}

for (const backend of ["sqlite", "postgres"] as Backend[]) {
  const skip = backend === "postgres" ? pgSkip : undefined;
  Deno.test({
    name: `a fault at each HSM and store call of every mutating request ` +
      `leaves the state unchanged and the request succeeds afterwards [${backend}]` +
      (skip ? ` (skipped: ${skip})` : ""),
    ignore: skip !== undefined,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "harden-faults-" });
      const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
      const schemas = { kms: `t_fi_kms_${tag}`, mtms: `t_fi_mtms_${tag}`, kmsB: `t_fi_b_${tag}` };
      const pg = (s: string) => `${url}${url.includes("?") ? "&" : "?"}schema=${s}`;
      const plans: Record<ServerName, FaultPlan> = {
        kms: new FaultPlan(backend),
        mtms: new FaultPlan(backend),
        kmsB: new FaultPlan(backend),
      };
      const readers = new Map<ServerName, DbReader>();
      const reader = async (s: ServerName): Promise<DbReader> => {
        let r = readers.get(s);
        if (!r) {
          r = backend === "sqlite"
            ? sqliteReader(`${dir}/${s}.db`)
            : await postgresReader(pg(schemas[s]), schemas[s]);
          readers.set(s, r);
        }
        return r;
      };
      const c: Counts = {
        endpoints: new Set(),
        requests: 0,
        faults: 0,
        bySite: new Tally(),
        answers: new Tally(),
        unchanged: 0,
        auditAdded: new Tally(),
        retried: 0,
        keysAdopted: 0,
        burntNonces: 0,
        perEndpoint: new Map(),
      };
      const seen = new Set<string>();
      const operatorKeys: OperatorKeys = new Map();
      // Every violation is collected (the test fails at the end with all of them).
      const violations: string[] = [];
      const check = (ok: boolean, msg: () => string) => {
        if (!ok) {
          violations.push(msg());
          console.error(`violation: ${violations.at(-1)}`);
        }
        return ok;
      };
      const variants = LONG ? [0, 1] : null;
      const secrets: Record<ServerName, string> = {
        kms: "fault-injection-operator-a",
        mtms: "fault-injection-operator-a",
        kmsB: "fault-injection-operator-b",
      };

      /** The fault loop around one server's handler. */
      const faulting = (server: ServerName, handler: Transport): Transport => async (req) => {
        const plan = plans[server];
        if (req.method === "GET" || plan.armed) return await handler(req);
        const body = req.body ? await req.clone().text() : null;
        const key = `${server} ${req.method} ${req.url} ${body}`;
        if (seen.has(key)) return await handler(req);
        seen.add(key);
        const route = routeOf(server, req);
        c.endpoints.add(route);
        c.requests++;
        const db = await reader(server);
        let before = await db.state();
        let audit = before.audit;
        // A signed operator request is single-use (its nonce is stored before the handler
        // runs): each attempt is signed anew, as the operator's client does for a retry,
        // with the bootstrap administrator's secret or the enrolled operator's key.
        const header = req.headers.get("authorization") ?? "";
        const h = header === "" ? null : parseOperatorHeader(header);
        const signed = header.startsWith("TMK-HMAC-SHA256") || h?.scheme === "ed25519";
        const send = async () => {
          const headers = new Headers(req.headers);
          const b = body ?? undefined;
          if (h?.scheme === "ed25519") {
            headers.set(
              "authorization",
              await signAs(operatorKeys, h.parts.keyId, req.method, req.url, b),
            );
          } else if (signed) {
            headers.set(
              "authorization",
              await operatorAuthorization(secrets[server], req.method, req.url, b),
            );
          }
          return await handler(
            new Request(req.url, { method: req.method, headers, body: body ?? undefined }),
          );
        };
        let nonces = before.operatorNonces;
        for (let k = 1;; k++) {
          for (const variant of variants ?? [k % 2]) {
            plan.arm(k, variant);
            let res: Response;
            try {
              res = await send();
            } finally {
              plan.disarm();
            }
            const fired = plan.fired;
            if (!fired) {
              // Fewer than k calls: this run had no fault. It must succeed.
              const ok = res.status < 300;
              check(
                ok,
                () => `${route}: without a fault, after ${k - 1} faulted runs: ${res.status}`,
              );
              c.retried++;
              c.perEndpoint.set(route, k - 1);
              return res;
            }
            c.faults++;
            c.bySite.add(`${fired.site} ${fired.error.name}`);
            const what =
              `${route}, fault at call ${k} (${fired.site}.${fired.what}, ${fired.error.name})`;
            const text = await res.text();
            let parsed: { error?: { code?: unknown; message?: unknown } } = {};
            try {
              parsed = JSON.parse(text);
            } catch {
              check(
                false,
                () => `${what}: answer ${res.status} is not JSON: ${text.slice(0, 200)}`,
              );
            }
            const code = parsed.error?.code;
            check(
              typeof code === "string" && typeof parsed.error?.message === "string",
              () => `${what}: ${res.status} without an error body: ${text.slice(0, 300)}`,
            );
            check(
              !/[0-9A-Fa-f]{16}/.test(text),
              () => `${what}: the error body has a hex run: ${text}`,
            );
            if (res.status < 500) {
              check(
                fired.site === "hsm" && fired.error.name === "HsmError" &&
                  DOCUMENTED_4XX.has(`${res.status} ${code}`),
                () => `${what}: ${res.status} ${text}`,
              );
            }
            c.answers.add(`${res.status} ${code}`);
            const after = await db.state(audit);
            // The MTMS's fetch of the KMS's new key versions, at the start of a transfer, is
            // a step of its own: each version it adopted stays (with its record) when the
            // transfer fails later, and nothing else changes.
            const changed = Object.keys({ ...before.tables, ...after.tables })
              .filter((n) => before.tables[n] !== after.tables[n]);
            const keySync = server === "mtms" && route.endsWith("/transfer") &&
              changed.length > 0 && changed.every((n) => n === "server_key_versions");
            if (
              check(
                after.hash === before.hash || keySync,
                () => `${what}: state changed (${changed}); calls ${plan.calls}`,
              )
            ) {
              c.unchanged++;
              if (keySync) c.keysAdopted++;
            }
            if (after.hash !== before.hash) before = after;
            check(
              after.operatorNonces - nonces <= (signed ? 1 : 0),
              () => `${what}: ${after.operatorNonces - nonces} operator nonces stored`,
            );
            c.burntNonces += after.operatorNonces - nonces;
            nonces = after.operatorNonces;
            const own = after.newEvents.map((e, i) => `${e} ${after.newOutcomes[i]}`)
              .filter((e) => !(keySync && e === "server_key_received success"));
            const added = own.length;
            check(
              added <= 1 && own.every((o) => o.endsWith(" failure")),
              () => `${what}: audit records added ${after.newEvents} ${after.newOutcomes}`,
            );
            c.auditAdded.add(added === 0 ? "none" : "one failure");
            audit = after.audit;
            // Another server's database may change only on the MTMS's transfer (the KMS took
            // the batch before the MTMS's own later step failed; a retry is idempotent there).
          }
        }
      };

      let t: Awaited<ReturnType<typeof recordTraffic>> | undefined;
      try {
        t = await recordTraffic(core, 2, "FT", {
          flowBDb: backend === "sqlite" ? `${dir}/kmsB.db` : undefined,
          operatorKeys,
          flowA: {
            instrument: {
              kms: {
                store: (s) => faultyStore(s, plans.kms),
                hsm: (h) => faultyHsm(h, plans.kms),
              },
              mtms: {
                store: (s) => faultyStore(s, plans.mtms),
                hsm: (h) => faultyHsm(h, plans.mtms),
              },
            },
            token: secrets.kms,
            db: backend === "postgres"
              ? { kms: pg(schemas.kms), mtms: pg(schemas.mtms) }
              : { kms: `${dir}/kms.db`, mtms: `${dir}/mtms.db` },
            around: (server, h) => {
              const loop = faulting(server, h);
              if (server === "mtms") return loop;
              // The KMS as the MTMS reaches it: a network error is a step of the MTMS's request.
              return (req) => {
                const e = plans.mtms.step("kms", `${req.method} ${new URL(req.url).pathname}`);
                return e ? Promise.reject(e) : loop(req);
              };
            },
          },
          flowB: {
            dbUrl: backend === "postgres" ? pg(schemas.kmsB) : undefined,
            token: secrets.kmsB,
            instrument: {
              store: (s) => faultyStore(s, plans.kmsB),
              hsm: (h) => faultyHsm(h, plans.kmsB),
            },
            around: (h) => faulting("kmsB", h),
          },
        });
        assertEquals(violations, [], `${violations.length} violations:\n${violations.join("\n")}`);
        // Every mutating route: KMS flow A 5 (with the challenge), KMS flow B 7, MTMS 3, and
        // the KMS's dual-control routes 5 (enrolment, approval, rotation of PK and of MAK,
        // KMS CA install).
        assertEquals(c.endpoints.size, 20, [...c.endpoints].join(", "));
        for (const [route, n] of [...c.perEndpoint].sort()) {
          figure("fault-injection", `[${backend}] ${route}: ${n} steps`);
        }
        figure(
          "fault-injection",
          `endpoints ${c.endpoints.size}, requests ${c.requests}, injected faults ${c.faults} ` +
            `(${c.bySite}), state unchanged ${c.unchanged}, answers ${c.answers}, ` +
            `audit records added per failed request: ${c.auditAdded}, ` +
            `operator request nonces used up by failed attempts ${c.burntNonces}, ` +
            `key versions kept by the MTMS after a failed transfer ${c.keysAdopted}, ` +
            `succeeded afterwards without a fault ${c.retried}; store ${backend}`,
        );
        assertEquals(c.unchanged, c.faults);
        assertEquals(c.retried, c.requests);
      } finally {
        await t?.close();
        for (const r of readers.values()) await r.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
