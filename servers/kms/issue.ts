/**
 * Bulk TMK issuance from the command line (flow A S15, CN103714639A):
 * `deno task kms:issue --order PO-1 [--db kms.db | --db postgres://...] [--hsm-workers N]`.
 *
 * The same service and key operations as `POST /v1/orders/{orderId}/tmks`,
 * run by an operator on the KMS host for orders too large for one HTTP
 * request (a million terminals), with a progress bar on stderr. It may run
 * beside KMS servers on the same database: terminals are issued once
 * whoever gets there first, and an interrupted run is finished by running
 * it again. Key components come from the environment (`KMS_LMK_COMPONENTS`
 * as `CUSTODIAN:KEY:KCV,CUSTODIAN:KEY:KCV`, `KMS_LMK_KCV`, `KMS_PK_COMPONENTS`,
 * `KMS_MAK_COMPONENTS`), the HSM mode from `KMS_HSM_MODE` (production, the
 * default, or test), the database from `--db` or `KMS_DATABASE_URL`; the
 * TMKs are made by `--hsm-workers` HSM workers (or `KMS_HSM_WORKERS`; default
 * the number of CPUs, 1 for none) while this thread reads and writes the
 * store. Prints the counts as JSON.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadCore } from "../../src/core/mod.ts";
import { ProgressBar } from "../_lib/progress.ts";
import { openStore } from "../_lib/store.ts";
import { kmsKeyOps, MAX_HSM_WORKERS } from "./_keys.ts";
import { type KmsKeyOps, KmsService } from "./service.ts";

/**
 * Runs the CLI.
 *
 * @param args command-line arguments.
 * @returns the exit code: 0 done, 1 refused, 2 bad usage.
 */
export async function main(args: string[]): Promise<number> {
  let values: { order?: string; db?: string; "hsm-workers"?: string };
  try {
    values = parseArgs({
      args,
      options: {
        order: { type: "string" },
        db: { type: "string" },
        "hsm-workers": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const db = values.db ?? Deno.env.get("KMS_DATABASE_URL");
  if (!values.order || !db) {
    console.error("usage: deno task kms:issue --order ORDER-ID [--db FILE|postgres://...]");
    return 2;
  }
  const workersFlag = values["hsm-workers"] ?? Deno.env.get("KMS_HSM_WORKERS");
  const hsmWorkers = workersFlag === undefined ? undefined : Number(workersFlag);
  if (
    hsmWorkers !== undefined &&
    !(Number.isInteger(hsmWorkers) && hsmWorkers >= 1 && hsmWorkers <= MAX_HSM_WORKERS)
  ) {
    console.error(
      `--hsm-workers must be a whole number from 1 to ${MAX_HSM_WORKERS}, got ${workersFlag}`,
    );
    return 2;
  }
  const env = (n: string) => (Deno.env.get(n) ?? "").split(",").filter((s) => s !== "");
  const hsmMode = Deno.env.get("KMS_HSM_MODE") ?? "production";
  if (hsmMode !== "production" && hsmMode !== "test") {
    console.error(`KMS_HSM_MODE must be production or test, got ${JSON.stringify(hsmMode)}`);
    return 2;
  }
  const store = await openStore(db);
  let ops: KmsKeyOps | undefined;
  try {
    ops = await kmsKeyOps({
      lmkComponents: env("KMS_LMK_COMPONENTS"),
      lmkKcv: Deno.env.get("KMS_LMK_KCV"),
      hsmMode,
      pkComponents: env("KMS_PK_COMPONENTS"),
      makComponents: env("KMS_MAK_COMPONENTS"),
      core: await loadCore(),
      store,
      hsmWorkers,
    });
    let bar: ProgressBar | undefined;
    const r = await new KmsService(ops, store).issueOrder(values.order, {
      onProgress: (done, total) => {
        bar ??= new ProgressBar(`issuing ${values.order}`, total);
        bar.update(done);
      },
    });
    bar?.done();
    console.log(JSON.stringify(r));
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    console.error(`bulk issuance refused${code ? ` (${code})` : ""}: ${(e as Error).message}`);
    return 1;
  } finally {
    try {
      await ops?.close();
    } finally {
      await store.close();
    }
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
