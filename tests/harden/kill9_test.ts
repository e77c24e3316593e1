/**
 * Kill -9 at random points (with faults_test.ts, the crash guarantees). A KMS server
 * process (`servers/kms/main.ts` with flow B, spawned with
 * `Deno.execPath()`) is put under load: a new TK batch each round (and any
 * batch whose answer a kill swallowed, sent again), bulk issuance, flow A
 * downloads and acknowledgements, flow B terminals through S1-S7 (and those
 * a kill interrupted after S3 authenticating and downloading again). At a
 * random moment it gets SIGKILL (every 4th round and the last: just after
 * its load finished); the next round restarts it on the same database. After each kill, with no server running:
 *
 * - SQLite `PRAGMA integrity_check` and `foreign_key_check` clean;
 * - 0 partial batches: every batch holds exactly its terminals, no terminal
 *   of an order without its batch, no order without its batch;
 * - every batch the client got a 2xx for is present, each TK with its KCV;
 * - every TMK issued before (flow A and B: its block under the LMK, its KCV,
 *   flow A's block under TK) is unchanged: no terminal is issued twice;
 * - every TMK a terminal got (200) is the one stored; every acknowledgement
 *   that got a 2xx is still `delivered`.
 *
 * CI runs 20 rounds on SQLite (and on PostgreSQL with
 * `KMS_TEST_DATABASE_URL`, 6 rounds; 20 in the long run); `HARDEN_LONG=1`
 * runs 100 on SQLite. Prints `figure kill9`.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals, AssertionError } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { exportPkcs8Pem, randomBytes } from "../../src/crypto/mod.ts";
import { fetchTransport, ProtocolError } from "../../src/protocol/mod.ts";
import { type Store, type Terminal, terminalPages } from "../../src/store/mod.ts";
import { openStore } from "../../servers/_lib/store.ts";
import { importKmsCaKey } from "../../servers/kms/import_ca_key.ts";
import { PinPadFlowB } from "../../devices/pin_pad_flow_b.ts";
import { FlowBTerminal } from "../../devices/pos_flow_b.ts";
import { makePki } from "../flow_b/_world.ts";
import { type Batch, KmsProcess, makeBatch, makeKeys, openTmk } from "../scale/_kms.ts";
import { figure, LONG, Tally } from "./_figures.ts";

const core = await loadCore("wasm");
const url = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";
const pgSkip = url === "" ? "KMS_TEST_DATABASE_URL not set" : undefined;

/** TKs per batch: more than one issuance page (500), so kills fall between pages too. */
const BATCH = 520;
/** Flow A terminals downloading and acknowledging per round. */
const DOWNLOADS = 8;
/** Flow B terminals registered (S1, S3) before the rounds; the rounds run S5-S7. */
const FLOW_B = 4;

/** The fields of an issued TMK that must never change once stored. */
function tmkOf(t: Terminal): string {
  return JSON.stringify([t.tmkBlock, t.tmkKcv, t.tmkUnderTk]);
}

interface FlowBSlot {
  sn: string;
  terminal: FlowBTerminal;
  /** S3 answered 2xx: from then on the terminal may authenticate and download again. */
  registered: boolean;
  done: boolean;
}

for (const backend of ["sqlite", "postgres"] as const) {
  const skip = backend === "postgres" ? pgSkip : undefined;
  const rounds = Number(Deno.env.get("KILL9_ROUNDS") ?? 0) ||
    (backend === "sqlite" ? (LONG ? 100 : 20) : (LONG ? 20 : 6));
  Deno.test({
    name: `KMS killed with SIGKILL under load at random points, ${rounds} rounds: ` +
      `integrity, whole batches, acknowledged batches present, issued TMKs unchanged [${backend}]` +
      (skip ? ` (skipped: ${skip})` : ""),
    ignore: skip !== undefined,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "harden-kill9-" });
      const schema = `t_kill9_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
      const db = backend === "sqlite"
        ? `${dir}/kms.db`
        : `${url}${url.includes("?") ? "&" : "?"}schema=${schema}`;
      const keys = await makeKeys();
      const pki = await makePki(core, "Kill9");
      await Deno.writeTextFile(`${dir}/ca.pem`, pki.kmsCa.certificate);
      await Deno.writeTextFile(`${dir}/ca.key.pem`, exportPkcs8Pem(pki.kmsCa.key));
      const args = ["--kms-ca-cert", `${dir}/ca.pem`, "--kms-ca-key-block", `${dir}/ca.keyblock`];

      const batches = new Map<string, Batch>();
      const acked = new Set<string>(); // batches with a 2xx
      const issuedBefore = new Map<string, string>(); // sn -> tmkOf, from the last check
      const downloaded = new Map<string, string>(); // sn -> KCV answered with 200
      const delivered = new Set<string>(); // acknowledgements answered 2xx
      const flowB: FlowBSlot[] = [];
      const answers = new Tally();
      const killedDuring = new Tally();
      const cutErrors = new Tally();
      let store: Store | undefined;
      let k: KmsProcess | undefined;
      let checks = 0;
      let partial = 0;
      const started = Date.now();

      const note = <T extends { status: number }>(what: string, p: Promise<T>): Promise<T> =>
        p.then((r) => {
          answers.add(`${what} ${r.status}`);
          return r;
        }, (e) => {
          answers.add(`${what} cut`);
          throw e;
        });

      /** Raw SQL on the database (read only), for the checks the Store API does not offer. */
      const sqlAll = async (q: string): Promise<Record<string, unknown>[]> => {
        if (backend === "postgres") {
          return await (store as unknown as {
            _unsafeSql(s: string): Promise<Record<string, unknown>[]>;
          })._unsafeSql(q);
        }
        const d = new DatabaseSync(`${dir}/kms.db`, { readOnly: true });
        try {
          return d.prepare(q).all() as Record<string, unknown>[];
        } finally {
          d.close();
        }
      };

      const flowATerminals = async (): Promise<Terminal[]> => {
        const out: Terminal[] = [];
        for (const orderId of acked) {
          for await (const page of terminalPages(store!, orderId)) out.push(...page);
        }
        return out;
      };

      /** The load of one round, against server `k`. */
      const load = (r: number, kms: KmsProcess, ready: Terminal[]): Promise<unknown>[] => {
        const work: Promise<unknown>[] = [];
        if (r === 0) return flowBWork(r, kms);
        // A new batch and its issuance; batches whose answer was lost, again.
        const orderId = `PO-K9-${String(r).padStart(3, "0")}`;
        for (const [id, b] of batches) {
          if (acked.has(id)) continue;
          work.push((async () => {
            const res = await note("batch", kms.call("POST", "/v1/tk-batches", b.request));
            if (res.status === 201 || res.status === 200) acked.add(id);
            else throw new Error(`batch ${id}: ${res.status} ${JSON.stringify(res.body)}`);
            await note("issue", kms.call("POST", `/v1/orders/${id}/tmks`, undefined, keys.token));
          })());
        }
        work.push((async () => {
          const b = await makeBatch(keys, orderId, BATCH);
          batches.set(orderId, b);
          const res = await note("batch", kms.call("POST", "/v1/tk-batches", b.request));
          if (res.status === 201 || res.status === 200) acked.add(orderId);
          else throw new Error(`batch ${orderId}: ${res.status} ${JSON.stringify(res.body)}`);
          const i = await note(
            "issue",
            kms.call("POST", `/v1/orders/${orderId}/tmks`, undefined, keys.token),
          );
          assertEquals(i.status, 200, JSON.stringify(i.body));
        })());
        // Orders a kill left part issued: issuance again.
        for (const id of acked) {
          if (ready.filter((t) => t.orderId === id && !t.tmkBlock).length === 0) continue;
          work.push(
            note("issue", kms.call("POST", `/v1/orders/${id}/tmks`, undefined, keys.token)),
          );
        }
        // Flow A downloads and acknowledgements.
        const waiting = ready.filter((t) => t.tmkBlock && t.state !== "delivered").slice(
          0,
          DOWNLOADS,
        );
        for (const t of waiting) {
          work.push((async () => {
            const d = await note("download", kms.call("POST", `/v1/terminals/${t.sn}/tmk`));
            assertEquals(d.status, 200, `${t.sn}: ${JSON.stringify(d.body)}`);
            const kcv = await openTmk(
              batches.get(t.orderId!)!.tk.get(t.sn)!,
              d.body.tmkBlock as string,
            );
            assertEquals(kcv, d.body.tmkKcv, `${t.sn}: the TMK opens under TK with its KCV`);
            downloaded.set(t.sn, kcv);
            const a = await note(
              "ack",
              kms.call("POST", `/v1/terminals/${t.sn}/tmk/ack`, { tmkKcv: kcv }),
            );
            assertEquals(a.status, 200, `${t.sn}: ${JSON.stringify(a.body)}`);
            delivered.add(t.sn);
          })());
        }
        work.push(...flowBWork(r, kms));
        return work;
      };

      /** Flow B: round 0 registers the terminals (S1, S3); later rounds run S5-S7 for those not done. */
      const flowBWork = (r: number, kms: KmsProcess): Promise<unknown>[] => {
        const work: Promise<unknown>[] = [];
        const observe = (x: { url: string; status: number; responseBody: string }) => {
          const path = new URL(x.url).pathname;
          const s = path.split("/")[3];
          if (path.endsWith("/tmk") && x.status === 200) {
            downloaded.set(s, JSON.parse(x.responseBody).tmkKcv);
          }
          if (path.endsWith("/tmk/ack") && x.status === 200) delivered.add(s);
          answers.add(
            `flowB ${
              path.split("/").slice(4).join("/").replace(/[0-9A-F]{32}/, "{id}")
            } ${x.status}`,
          );
        };
        if (r === 0) {
          for (let i = 0; i < FLOW_B; i++) {
            const sn = `K9B${String(i).padStart(5, "0")}`;
            flowB.push({
              sn,
              terminal: new FlowBTerminal({
                sn,
                pinPad: new PinPadFlowB({
                  kmsRoot: pki.root.certificate,
                  core,
                  storageKey: randomBytes(24),
                }),
                transport: fetchTransport,
                kmsUrl: kms.url,
              }),
              registered: false,
              done: false,
            });
          }
        }
        for (const f of flowB) {
          if (f.done || (r > 0 && !f.registered)) continue;
          f.terminal = new FlowBTerminal({
            sn: f.sn,
            pinPad: f.terminal.pinPad,
            transport: fetchTransport,
            kmsUrl: kms.url,
            observe,
          });
          work.push((async () => {
            if (!f.registered) {
              await f.terminal.requestHsmKey();
              await f.terminal.sendTransportKey();
              f.registered = true;
              if (r === 0) return;
            }
            await f.terminal.authenticate();
            const d = await f.terminal.downloadTmk();
            assertEquals(d.pinPadKcv, d.kmsKcv);
            f.done = true;
          })());
        }
        return work;
      };

      /** The checks after a kill (no server running). */
      const check = async (r: number) => {
        if (backend === "sqlite") {
          const ic = await sqlAll("PRAGMA integrity_check");
          assertEquals(ic.map((x) => Object.values(x)[0]), ["ok"], `round ${r}: integrity_check`);
          assertEquals(await sqlAll("PRAGMA foreign_key_check"), [], `round ${r}: foreign keys`);
        }
        // Whole batches: each batch row holds exactly its terminals; nothing of a batch without it.
        const wrong = await sqlAll(
          "SELECT b.order_id AS id, b.tks AS tks, (SELECT count(*) FROM terminals t " +
            "WHERE t.order_id = b.order_id) AS n FROM tk_batches b",
        );
        const orphans = await sqlAll(
          "SELECT count(*) AS n FROM terminals t WHERE t.order_id IS NOT NULL AND NOT EXISTS " +
            "(SELECT 1 FROM tk_batches b WHERE b.order_id = t.order_id)",
        );
        const bare = await sqlAll(
          "SELECT count(*) AS n FROM orders o WHERE NOT EXISTS " +
            "(SELECT 1 FROM tk_batches b WHERE b.order_id = o.order_id)",
        );
        partial += wrong.filter((w) => Number(w.tks) !== Number(w.n)).length +
          Number(orphans[0].n) + Number(bare[0].n);
        assertEquals(partial, 0, `round ${r}: partial batches ${JSON.stringify(wrong)}`);
        // Every acknowledged batch is there, each TK with its KCV.
        for (const id of acked) {
          const row = await store!.getTkBatch(id);
          assertEquals(row?.tks, BATCH, `round ${r}: batch ${id} acknowledged but missing`);
        }
        const terminals = await flowATerminals();
        for (const t of terminals) {
          assertEquals(t.tkKcv, batches.get(t.orderId!)!.tkKcv.get(t.sn), `${t.sn} TK`);
        }
        for (const f of flowB) {
          const t = await store!.getTerminal(f.sn);
          if (t) terminals.push(t);
          // Acknowledged, though the kill may have cut the answer: nothing more to do.
          if (t?.deliveredAt) f.done = true;
        }
        // Issued TMKs never change; answers and acknowledgements match what is stored.
        let issued = 0;
        for (const t of terminals) {
          if (t.tmkBlock) {
            issued++;
            const was = issuedBefore.get(t.sn);
            if (was !== undefined) assertEquals(tmkOf(t), was, `round ${r}: ${t.sn} re-issued`);
            issuedBefore.set(t.sn, tmkOf(t));
          } else {
            assert(!issuedBefore.has(t.sn), `round ${r}: ${t.sn} lost its TMK`);
          }
          const got = downloaded.get(t.sn);
          if (got !== undefined) assertEquals(t.tmkKcv, got, `round ${r}: ${t.sn} sent TMK`);
          if (delivered.has(t.sn)) assertEquals(t.state, "delivered", `round ${r}: ${t.sn}`);
        }
        assertEquals(issued, issuedBefore.size, `round ${r}: issued TMKs disappeared`);
        checks++;
        return terminals.filter((t) => t.orderId !== null);
      };

      try {
        store = await openStore(db);
        // The custodian's step: the KMS CA key as a block under the LMK (audited in the store).
        await importKmsCaKey({
          pemPath: `${dir}/ca.key.pem`,
          outPath: `${dir}/ca.keyblock`,
          lmkComponents: keys.lmk,
          hsmMode: "test",
          core,
          store,
        });
        await Deno.remove(`${dir}/ca.key.pem`);
        let ready: Terminal[] = [];
        // Round 0 registers the flow B terminals (S1, S3: RSA key generation on both sides).
        k = await KmsProcess.start(db, keys, args);
        for (const s of await Promise.allSettled(load(0, k, ready))) {
          if (s.status === "rejected") throw s.reason;
        }
        await k.stop();
        k = undefined;
        const rng = () => crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32;
        // How long a round's load took the last time one finished: the kill comes at a
        // uniformly random moment inside it, so kills land in imports, issuance, downloads and
        // acknowledgements (a round that was faster than that finishes first).
        let estimate = 400;
        for (let r = 1; r <= rounds; r++) {
          k = await KmsProcess.start(db, keys, args);
          const t0 = Date.now();
          const work = load(r, k, ready);
          let finishedAt = 0;
          const all = Promise.allSettled(work).then(() => finishedAt = Date.now());
          // Every 4th round and the last let the load finish first (killed idle a moment
          // later), so each run, however slow the machine, has batches, downloads and
          // acknowledgements that got their answers.
          const whole = r % 4 === 0 || r === rounds;
          if (whole) await all;
          const delay = whole ? Math.floor(rng() * 100) : 10 + Math.floor(rng() * 0.9 * estimate);
          await new Promise((res) => setTimeout(res, delay));
          const outcome = finishedAt ? "finished" : "running";
          estimate = finishedAt ? Math.max(150, finishedAt - t0) : Math.min(5000, estimate * 1.2);
          await k.kill();
          k = undefined;
          const settled = await Promise.allSettled(work);
          killedDuring.add(outcome === "finished" ? "after the load" : "during the load");
          if (Deno.env.get("KILL9_DEBUG")) {
            console.log(`round ${r}: kill at ${delay} ms, ${outcome}; ${answers}`);
          }
          // A request the kill cut fails on the connection; a refusal by the KMS (RemoteError)
          // or a failed check (AssertionError, IntegrityError of a device) is a bug.
          for (const s of settled) {
            if (s.status === "rejected") {
              const e = s.reason as Error;
              const cut = !(e instanceof ProtocolError) && !(e instanceof AssertionError) &&
                /connection|reset|closed|refused|EOF|broken pipe|error sending|fetch failed|body/i
                  .test(`${e.name} ${e.message}`);
              assert(cut, `round ${r}: ${e.stack ?? e}`);
              cutErrors.add(e.name);
            }
          }
          ready = await check(r);
        }
        const flowADelivered = [...delivered].filter((s) => !s.startsWith("K9B")).length;
        const flowBDelivered = [...delivered].filter((s) => s.startsWith("K9B")).length;
        figure(
          "kill9",
          `rounds ${rounds}, kills ${killedDuring} (store ${backend}), integrity checks ok ${checks}, ` +
            `partial batches ${partial}, acknowledged batches present ${acked.size} of ${acked.size} ` +
            `(${BATCH} TKs each), TMKs issued and unchanged across restarts ${issuedBefore.size}, ` +
            `re-issued 0, downloads answered and stored ${downloaded.size}, acknowledgements kept ` +
            `${flowADelivered} flow A + ${flowBDelivered} flow B; answers ${answers}; ` +
            `requests cut by the kills ${cutErrors.total} (${cutErrors}); ` +
            `${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
        // Not vacuous: kills cut work in flight, and work of every kind was acknowledged.
        assert(killedDuring.get("during the load") > 0, `${killedDuring}`);
        assert(acked.size > 0 && flowADelivered > 0 && flowBDelivered > 0, `${answers}`);
      } finally {
        await k?.kill();
        if (store) {
          if (backend === "postgres") {
            await (store as unknown as { _unsafeSql(s: string): Promise<unknown> })._unsafeSql(
              `DROP SCHEMA ${schema} CASCADE`,
            );
          }
          await store.close();
        }
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
