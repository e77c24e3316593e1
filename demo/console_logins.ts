/**
 * The console logins of `deno task demo --serve`: one operator id per role
 * (two custodians, for a ceremony), each with a fresh random password
 * hashed with argon2id, to print once and forget.
 *
 * @module
 */
import {
  type ConsoleDirectory,
  type ConsoleRole,
  hashPassword,
  staticDirectory,
} from "../servers/_lib/console_auth.ts";
import type { ConsoleOptions } from "../servers/_lib/console.ts";
import type { DemoOptions } from "./run.ts";
import { openStore } from "../servers/_lib/store.ts";
import { generateOperatorKey } from "../src/protocol/mod.ts";

/** One login as printed. */
export interface DemoLogin {
  id: string;
  role: ConsoleRole;
  password: string;
}

/** The demo's people: id, name, role. */
export const PEOPLE: [string, string, ConsoleRole][] = [
  ["operator1", "Demo Operator", "operator"],
  ["supervisor1", "Demo Supervisor", "supervisor"],
  ["custodian1", "Demo Custodian 1", "custodian"],
  ["custodian2", "Demo Custodian 2", "custodian"],
  ["auditor1", "Demo Auditor", "auditor"],
];

/**
 * Makes the demo's logins.
 *
 * @returns the logins (passwords in clear, to print) and the directory the servers get.
 */
export async function demoLogins(): Promise<{ logins: DemoLogin[]; directory: ConsoleDirectory }> {
  const logins: DemoLogin[] = [];
  const records = [];
  for (const [id, name, role] of PEOPLE) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    const password = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
    logins.push({ id, role, password });
    records.push({ id, name, role, passwordHash: await hashPassword(password) });
  }
  return { logins, directory: staticDirectory(records) };
}

/**
 * Prints the consoles' URLs and the logins, then waits for SIGINT or
 * SIGTERM (the servers keep running until then).
 *
 * @param urls the KMS's and the MTMS's base URLs.
 * @param logins the logins to print.
 * @param caRoot the file of the CA root their HTTPS certificates chain to.
 * @param print where the lines go (default stdout).
 */
export async function serveUntilSignal(
  urls: { kmsUrl: string; mtmsUrl: string },
  logins: DemoLogin[],
  caRoot: string,
  print: (line: string) => void = console.log,
): Promise<void> {
  print("");
  print("The servers keep running with their consoles:");
  print(`  MTMS console: ${urls.mtmsUrl}/console/`);
  print(`  KMS console:  ${urls.kmsUrl}/console/`);
  if (urls.kmsUrl.startsWith("https:")) {
    print(`Their certificates chain to the demo's CA root: ${caRoot} (trust it in the browser)`);
  }
  print("Logins (operator id, password, role):");
  for (const l of logins) print(`  ${l.id.padEnd(12)} ${l.password}  ${l.role}`);
  print("Press Ctrl-C to stop.");
  await new Promise<void>((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
}

/**
 * Enrolls operators in each server's store (the operators table the
 * console takes its people and roles from), each with a fresh Ed25519 key
 * for the signed API whose private half is not kept: these logins use the
 * console only.
 *
 * @param databases the servers' databases (SQLite files or `postgres://` URLs).
 * @param people id, name and role of each.
 */
export async function enrollOperators(
  databases: string[],
  people: readonly (readonly [string, string, ConsoleRole])[],
): Promise<void> {
  for (const db of databases) {
    const store = await openStore(db);
    try {
      for (const [id, name, role] of people) {
        const { publicKey } = await generateOperatorKey();
        await store.addOperator({
          id,
          name,
          role,
          publicKey: publicKey.toUpperCase(),
          createdAt: new Date(),
          createdBy: "demo",
        });
      }
    } finally {
      await store.close();
    }
  }
}

/**
 * `--serve`: logins for the consoles, and a `beforeShutdown` hook (after
 * the one already set) that enrolls the demo's people in both servers'
 * stores, writes the CA root to the data directory, prints the consoles and
 * the logins and waits for a signal.
 *
 * @param hooks the run's hooks; `beforeShutdown` is replaced.
 * @param dataDir the run's data directory (read when the hook runs).
 * @returns the consoles' options for both servers.
 */
export async function serveAfterRun(
  hooks: Pick<DemoOptions, "beforeShutdown" | "databases">,
  dataDir: () => string,
): Promise<ConsoleOptions> {
  const { logins, directory } = await demoLogins();
  const after = hooks.beforeShutdown;
  hooks.beforeShutdown = async (running) => {
    await after?.(running);
    const dbs = hooks.databases ??
      { kms: `${dataDir()}/kms.db`, mtms: `${dataDir()}/mtms.db` };
    await enrollOperators([dbs.kms, dbs.mtms], PEOPLE);
    const root = `${dataDir()}/ca-root.pem`;
    await Deno.writeTextFile(root, running.pki.rootPem);
    await serveUntilSignal(running, logins, root);
  };
  return { directory };
}
