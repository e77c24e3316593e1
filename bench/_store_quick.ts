/**
 * The store's share of bulk issuance alone: imports an order of N
 * terminals (TK blocks made by the software HSM, cycled through a pool; each
 * terminal its own TK hash, as one TK per terminal requires), then
 * walks it the way `KmsService.issueOrder` does, one page of
 * {@link ISSUE_PAGE} at a time (list the terminals without a TMK, store the
 * page's TMKs with their audit records in one transaction), with TMKs the
 * HSM made once beforehand, so that only the store is timed.
 *
 * `deno run -A bench/_store_quick.ts [terminals] [sqlite,postgres]`
 * (PostgreSQL at `KMS_TEST_DATABASE_URL`).
 *
 * @module
 */
import process from "node:process";
import { loadCore } from "../src/core/mod.ts";
import { KEY_TEMPLATES } from "../src/hsm/mod.ts";
import {
  type ImportedTk,
  openPostgresStore,
  openSqliteStore,
  type Store,
} from "../src/store/mod.ts";
import { ISSUE_PAGE, openHsm } from "../servers/kms/mod.ts";
import { randomComponents } from "../demo/setup.ts";

const n = Number(Deno.args[0] ?? 100000);
const kinds = (Deno.args[1] ?? "sqlite,postgres").split(",");
const url = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";
const core = await loadCore("wasm");
const POOL = 200;

for (const kind of kinds) {
  if (kind === "postgres" && url === "") {
    console.log("postgres: skipped, KMS_TEST_DATABASE_URL not set");
    continue;
  }
  const dir = await Deno.makeTempDir({ prefix: "store_quick_" });
  const schema = `q_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const store: Store = kind === "sqlite"
    ? await openSqliteStore(`${dir}/kms.db`)
    : await openPostgresStore(url, { schema, maxConnections: 4 });
  try {
    const hsm = await openHsm({
      lmkComponents: await randomComponents(2, 32, core),
      mode: "test",
      core,
      store,
      actor: "kms",
    });
    const tks: Omit<ImportedTk, "sn">[] = [];
    const tmks: { tmkBlock: string; tmkUnderTk: string; tmkKcv: string }[] = [];
    for (let i = 0; i < POOL; i++) {
      const tk = await hsm.generateKey(KEY_TEMPLATES.TK);
      const tkHash = await hsm.keyHash(tk.keyBlock);
      tks.push({ tkBlock: tk.keyBlock, tkKcv: tk.kcv, tkHash });
      const r = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tk.keyBlock, {
        expectedKekHash: tkHash,
      });
      tmks.push({ tmkBlock: r.keyBlock, tmkUnderTk: r.exported, tmkKcv: r.kcv });
    }
    const orderId = "PO-STORE-QUICK";
    let t0 = performance.now();
    await store.importTkBatch({
      orderId,
      bodyHash: "AB".repeat(32),
      receivedAt: new Date(),
      auditActor: "kms",
      tks: (function* () {
        for (let i = 0; i < n; i++) {
          const tkHash = i.toString(16).toUpperCase().padStart(64, "0");
          yield { sn: `SN${String(i).padStart(8, "0")}`, ...tks[i % POOL], tkHash };
        }
      })(),
    });
    const importMs = performance.now() - t0;
    let listMs = 0;
    let issueMs = 0;
    let issued = 0;
    let after: string | undefined;
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    for (;;) {
      let s = performance.now();
      const page = await store.listTksToIssue(orderId, { after, limit: ISSUE_PAGE });
      listMs += performance.now() - s;
      if (page.length === 0) break;
      after = page[page.length - 1].sn;
      const at = new Date();
      s = performance.now();
      issued += await store.issueTmks(
        page.map((t, i) => ({ sn: t.sn, ...tmks[i % POOL], issuedAt: at })),
        { auditActor: "kms" },
      );
      issueMs += performance.now() - s;
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (issued !== n) throw new Error(`issued ${issued} of ${n}`);
    const us = (x: number) => `${(x * 1000 / n).toFixed(1)} µs`;
    console.log(
      `${kind}, ${n} terminals, pages of ${ISSUE_PAGE}: import ${
        (n / importMs * 1000).toFixed(0)
      } TKs/s; issuance store path ${(n / ms * 1000).toFixed(0)} terminals/s: ${
        us(ms)
      } per terminal (list ${us(listMs)}, issue ${us(issueMs)}), this process's CPU ${
        ((cpu.user + cpu.system) / n).toFixed(1)
      } µs per terminal; load ${Deno.loadavg()[0].toFixed(1)}`,
    );
  } finally {
    if (kind === "postgres") {
      await (store as unknown as { _unsafeSql(s: string): Promise<unknown> })._unsafeSql(
        `DROP SCHEMA ${schema} CASCADE`,
      );
    }
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}
