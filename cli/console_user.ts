/**
 * `deno task console:user`: adds an operator to a console users file (the
 * servers' `--console-users`), with their role and the argon2id hash of a
 * password read from stdin (never from argv, which every user of the
 * machine can read). The file is a JSON array, written with mode 0600. A
 * server lets in only the operators it has enrolled (`deno task op`), with
 * the role its operators table gives.
 *
 * ```sh
 * printf '%s\n' "$PASSWORD" | deno task console:user --file users.json --id olga --role operator --name "Olga N."
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  CONSOLE_ROLES,
  type ConsoleRole,
  hashPassword,
  OPERATOR_ID,
  staticDirectory,
} from "../servers/_lib/console_auth.ts";
import { enterCallerDirectory } from "./flags.ts";

/**
 * Adds one user to the file (created if missing).
 *
 * @returns the exit code.
 */
export async function main(args: string[], stdin: ReadableStream<Uint8Array>): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      file: { type: "string" },
      id: { type: "string" },
      role: { type: "string" },
      name: { type: "string" },
    },
    strict: true,
  });
  const errors: string[] = [];
  if (!values.file) errors.push("--file FILE is required (the console users file)");
  if (!values.id || !OPERATOR_ID.test(values.id)) {
    errors.push(`--id must match ${OPERATOR_ID.source}`);
  }
  if (!CONSOLE_ROLES.includes(values.role as ConsoleRole)) {
    errors.push(`--role must be one of ${CONSOLE_ROLES.join(", ")}`);
  }
  const line = (await new Response(stdin).text()).split("\n")[0].replace(/\r$/, "");
  if (line.length < 8 || line.length > 256) {
    errors.push(`the password on stdin must be 8 to 256 characters, got ${line.length}`);
  }
  let records: unknown[] = [];
  try {
    records = JSON.parse(await Deno.readTextFile(values.file!));
    staticDirectory(records);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && values.file) {
      errors.push(`${values.file}: ${(e as Error).message}`);
    }
  }
  if (records.some((r) => (r as { id?: string }).id === values.id)) {
    errors.push(`${values.file} already has an operator ${values.id}`);
  }
  if (errors.length > 0) {
    for (const e of errors) console.error(e);
    return 2;
  }
  records.push({
    id: values.id,
    name: values.name ?? values.id,
    role: values.role,
    passwordHash: await hashPassword(line),
  });
  await Deno.writeTextFile(values.file!, JSON.stringify(records, null, 2) + "\n", { mode: 0o600 });
  console.error(`${values.id} (${values.role}) added to ${values.file}`);
  return 0;
}

if (import.meta.main) {
  enterCallerDirectory();
  Deno.exit(await main(Deno.args, Deno.stdin.readable));
}
