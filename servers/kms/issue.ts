/**
 * Bulk TMK issuance from the command line (flow A S15, CN103714639A):
 * `deno task kms:issue --order PO-1 [--db kms.db | --db postgres://...] [--hsm-workers N]`.
 *
 * The same service and key operations as `POST /v1/orders/{orderId}/tmks`,
 * run by an operator on the KMS host for orders too large for one HTTP
 * request (a million terminals), with a progress bar on stderr whose rate
 * counts the terminals this run issued. It may run beside KMS servers on the
 * same database: terminals are issued once whoever gets there first, and an
 * interrupted run is finished by running it again. The flags are the KMS's
 * (`deno task kms:issue --help`): key components from `--*-component-file`
 * or the environment (`KMS_LMK_COMPONENTS`, `KMS_PK_COMPONENTS`,
 * `KMS_MAK_COMPONENTS`), `KMS_LMK_KCV`, `KMS_HSM_MODE`, the database from
 * `--db` or `KMS_DATABASE_URL`; the TMKs are made by `--hsm-workers` HSM
 * workers while this thread reads and writes the store. Prints the counts
 * as JSON.
 *
 * @module
 */
import { type CommandSpec, type FlagValues, runCommand } from "../../cli/flags.ts";
import { loadCore } from "../../src/core/mod.ts";
import { ProgressBar } from "../_lib/progress.ts";
import * as cli from "../_lib/server_cli.ts";
import { openStore } from "../_lib/store.ts";
import { kmsKeyOps, MAX_HSM_WORKERS } from "./_keys.ts";
import { type KmsKeyOps, KmsService } from "./service.ts";

const COMMON = cli.serverFlagSpecs({ envPrefix: "KMS", defaultPort: 0, defaultDb: "" })
  .filter((f) => ["lmk-component", "lmk-kcv", "hsm-mode"].includes(f.name));

/** `deno task kms:issue`: every flag, its environment variable and default. */
export const ISSUE_COMMAND: CommandSpec = {
  name: "deno task kms:issue",
  summary: "Issues the TMKs of one order on the KMS's database, with a progress bar on " +
    "stderr; prints the counts as JSON. Run it again to finish an interrupted run.",
  usage: "--order ORDER-ID [--db FILE|postgres://...] [flags]",
  config: true,
  flags: [
    {
      name: "order",
      type: "string",
      required: true,
      help: "the order whose terminals get their TMKs",
      metavar: "ORDER-ID",
    },
    {
      name: "db",
      type: "string",
      required: true,
      env: "KMS_DATABASE_URL",
      help: "the KMS's store: a SQLite file or a postgres:// URL",
      metavar: "FILE|URL",
    },
    ...COMMON,
    ...cli.sharedKeyFlags("KMS", "MTMS"),
    {
      name: "hsm-workers",
      type: "int",
      min: 1,
      max: MAX_HSM_WORKERS,
      env: "KMS_HSM_WORKERS",
      help: "HSM workers that make the TMKs (default: the number of CPUs; 1: none)",
    },
  ],
  check: (v) => [
    ...cli.startProblems(v, "KMS", []),
    ...cli.componentProblems(v, "pk-component", "PK component", false),
    ...cli.componentProblems(v, "mak-component", "MAK component", false),
  ],
};

/** Issues the order; 1 when the KMS refuses (unknown order, a TK failing its check). */
async function issue(v: FlagValues): Promise<number> {
  const order = cli.str(v, "order")!;
  const db = cli.str(v, "db")!;
  const missing = cli.missingFiles(v, ["db"]);
  if (!db.startsWith("postgres") && missing.length > 0) {
    throw new cli.StartupError(`${missing[0]} (the KMS's database is not created here)`);
  }
  const store = await openStore(db);
  let ops: KmsKeyOps | undefined;
  try {
    ops = await kmsKeyOps({
      lmkComponents: cli.list(v, "lmk-component"),
      lmkKcv: cli.str(v, "lmk-kcv"),
      hsmMode: cli.toServerFlags(v).hsmMode,
      pkComponents: cli.list(v, "pk-component"),
      makComponents: cli.list(v, "mak-component"),
      core: await loadCore(),
      store,
      hsmWorkers: v["hsm-workers"] as number | undefined,
    });
    // Made before the first page, its rate counts what this run issues, from its start.
    const before = await store.countTerminals(order);
    const bar = new ProgressBar(`issuing ${order}`, before.terminals, { base: before.withTmk });
    const r = await new KmsService(ops, store).issueOrder(order, {
      onProgress: (done) => bar.update(done),
    });
    bar.done();
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

/**
 * Runs the CLI and exits: 0 done, 1 refused, 2 bad usage.
 *
 * @param args command-line arguments.
 */
export async function main(args: string[]): Promise<void> {
  await runCommand(ISSUE_COMMAND, args, async ({ values }) => {
    const code = await issue(values);
    Deno.exit(code);
  }, cli.STARTUP_ERRORS);
}

if (import.meta.main) await main(Deno.args);
