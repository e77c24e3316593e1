/**
 * `deno task op`: the operator client of the KMS and the MTMS. Each request
 * is signed with the operator's own Ed25519 key (`--operator` and
 * `--key-file`, see `src/protocol/operator_key.ts`), or as the bootstrap
 * administrator with the server's `--token` secret (`--token-file`): its
 * only way in before the first operator is enrolled.
 * Answers print as readable tables, or as JSON with `--json`.
 *
 * Commands: `keygen`; `order create`, `order status`, `transfer` (MTMS);
 * `issue`, `terminal`, `unlock`, `release`, `kms-ca install`, `kms-ca show`, `keys
 * rotate` (KMS); `approvals`, `approve`; `audit export`, `audit verify`,
 * `audit checkpoint`; `operator add`, `operator list`, `operator disable`.
 * A request under dual control answers with a
 * pending approval that a second operator runs with `approve`.
 *
 * Exit status: 0 done (or held for approval), 1 the server refused (its
 * code and message are printed), 2 bad usage or an unreachable server.
 *
 * @example
 * ```sh
 * deno task op keygen --out alice.key            # prints alice's public key
 * deno task op operator add --server https://kms:8441 --token-file admin.token \
 *   --id alice --name "Alice" --role operator --public-key <hex>
 * deno task op issue PO-1 --server https://kms:8441 --operator alice --key-file alice.key
 * ```
 *
 * @module
 */
import { generateOperatorKey } from "../src/protocol/operator_key.ts";
import { ROLES } from "../src/protocol/operator_api.ts";
import {
  keyValueTable,
  OpClient,
  rowsTable,
  ServerRefusal,
  signerOf,
  Unreachable,
} from "./_op_client.ts";
import {
  type CommandSpec,
  enterCallerDirectory,
  type FlagSpec,
  type FlagValues,
  formatHelp,
  parseFlags,
  UsageError,
} from "./flags.ts";

/** Where the client writes; tests pass their own. */
export interface OpIo {
  stdout(text: string): void;
  stderr(line: string): void;
}

const defaultIo: OpIo = {
  stdout: (t) => Deno.stdout.writeSync(new TextEncoder().encode(t)),
  stderr: (l) => console.error(l),
};

const CONNECT: FlagSpec[] = [
  {
    name: "server",
    type: "string",
    required: true,
    env: "OP_SERVER",
    metavar: "URL",
    help: "the server (KMS or MTMS), e.g. https://kms.example:8441",
  },
  {
    name: "operator",
    type: "string",
    env: "OP_OPERATOR",
    metavar: "ID",
    help: "your operator id (signs with --key); without it, the bootstrap administrator",
  },
  {
    name: "key-file",
    type: "string",
    env: "OP_KEY_FILE",
    metavar: "FILE",
    help: "your Ed25519 private key (PKCS#8 PEM, from keygen; keep it mode 0600)",
  },
  {
    name: "token",
    type: "string",
    secret: true,
    env: "OP_TOKEN",
    help: "the bootstrap administrator's secret (the server's --token)",
  },
  {
    name: "ca",
    type: "string",
    env: "OP_CA",
    metavar: "FILE",
    help: "CA certificate (PEM) of an HTTPS server",
  },
  { name: "json", type: "bool", default: false, help: "print the answer as JSON" },
];

/** One command: its flags, positionals and what it does with a client. */
interface OpCommand {
  summary: string;
  flags?: FlagSpec[];
  positionals?: { usage: string; min: number; max: number };
  /** Without a server (keygen). */
  local?: (v: FlagValues, io: OpIo) => Promise<void>;
  run?: (c: OpClient, v: FlagValues, p: string[], io: OpIo) => Promise<void>;
}

const one = (usage: string) => ({ usage, min: 1, max: 1 });
const enc = encodeURIComponent;

/** Prints an answer: JSON, or the table `render` makes of it. */
function show(io: OpIo, v: FlagValues, body: unknown, render: (b: never) => string): void {
  io.stdout(v.json ? JSON.stringify(body, null, 2) + "\n" : render(body as never));
}

/** Prints an answer that may be a pending approval (202). */
function showHeld(
  io: OpIo,
  v: FlagValues,
  r: { status: number; body: unknown },
  render: (b: never) => string,
): void {
  if (r.status === 202 && !v.json) {
    const a = r.body as { approvalId: string; expiresAt: string };
    io.stdout(
      keyValueTable(r.body as Record<string, unknown>) +
        `held for a second operator until ${a.expiresAt}: deno task op approve ${a.approvalId}\n`,
    );
    return;
  }
  show(io, v, r.body, render);
}

const kv = (b: Record<string, unknown>) => keyValueTable(b);

function serialRange(v: FlagValues): Record<string, unknown> {
  const first = String(v.first ?? "");
  const m = /^([A-Z0-9]*?)([0-9]{1,12})$/.exec(first);
  if (!m) {
    throw new UsageError([`--first must be a serial number ending in digits, got ${first}`]);
  }
  return { prefix: m[1], first: Number(m[2]), count: v.count, digits: m[2].length };
}

const COMMANDS: Record<string, OpCommand> = {
  keygen: {
    summary: "Makes your Ed25519 key pair: the private key to --out (mode 0600), the public key " +
      "printed (give it to a supervisor for `operator add`)",
    flags: [{
      name: "out",
      type: "string",
      required: true,
      metavar: "FILE",
      help: "private key file to write (never overwritten)",
    }],
    local: async (v, io) => {
      const k = await generateOperatorKey();
      const path = String(v.out);
      try {
        await Deno.writeTextFile(path, k.privateKeyPem, { createNew: true, mode: 0o600 });
      } catch (e) {
        throw new UsageError([`--out ${path}: ${(e as Error).message}`]);
      }
      io.stdout(
        v.json ? JSON.stringify({ publicKey: k.publicKey }) + "\n" : `public key ${k.publicKey}\n`,
      );
    },
  },
  "order create": {
    summary: "MTMS: creates a production order of a serial range (--first, --count)",
    flags: [
      { name: "order-id", type: "string", required: true, metavar: "ID", help: "the order id" },
      {
        name: "first",
        type: "string",
        required: true,
        metavar: "SN",
        help: "the first serial number, e.g. SN00000001",
      },
      {
        name: "count",
        type: "int",
        required: true,
        min: 1,
        max: 1_000_000,
        help: "how many serial numbers",
      },
    ],
    run: async (c, v, _p, io) => {
      const r = await c.call("POST", "/v1/orders", {
        orderId: v["order-id"],
        serialRange: serialRange(v),
      });
      show(io, v, r.body, kv);
    },
  },
  "order status": {
    summary: "MTMS: an order's terminals, TKs uploaded so far, and whether it was transferred",
    positionals: one("ORDER"),
    run: async (c, v, p, io) =>
      show(io, v, (await c.call("GET", `/v1/orders/${enc(p[0])}`)).body, kv),
  },
  transfer: {
    summary: "MTMS: sends an order's TKs to the KMS (once every TK is uploaded)",
    positionals: one("ORDER"),
    run: async (c, v, p, io) =>
      show(io, v, (await c.call("POST", `/v1/orders/${enc(p[0])}/transfer`)).body, kv),
  },
  issue: {
    summary: "KMS: issues a TMK for every terminal of an order",
    positionals: one("ORDER"),
    run: async (c, v, p, io) =>
      show(io, v, (await c.call("POST", `/v1/orders/${enc(p[0])}/tmks`)).body, kv),
  },
  terminal: {
    summary: "KMS: a terminal's state and KCVs",
    positionals: one("SN"),
    run: async (c, v, p, io) =>
      show(io, v, (await c.call("GET", `/v1/terminals/${enc(p[0])}`)).body, kv),
  },
  unlock: {
    summary: "KMS: lifts a terminal's lock-out (dual control: a second operator approves)",
    positionals: one("SN"),
    run: async (c, v, p, io) =>
      showHeld(io, v, await c.call("POST", `/v1/terminals/${enc(p[0])}/unlock`), kv),
  },
  release: {
    summary: "KMS, flow B: drops the registration of an SN that has no delivered TMK (dual " +
      "control: a supervisor approves)",
    positionals: one("SN"),
    run: async (c, v, p, io) =>
      showHeld(io, v, await c.call("POST", `/v1/terminals/${enc(p[0])}/release`), kv),
  },
  "kms-ca install": {
    summary: "KMS: installs or replaces the KMS CA of flow B from its certificate and its key " +
      "block under the LMK (custodian; dual control: a second custodian or a supervisor approves)",
    flags: [
      {
        name: "certificate",
        type: "string",
        required: true,
        metavar: "FILE",
        help: "the KMS CA certificate (PEM)",
      },
      {
        name: "key-block",
        type: "string",
        required: true,
        metavar: "FILE",
        help: "its private key as a key block under the KMS's LMK (deno task kms --import-ca-key)",
      },
    ],
    run: async (c, v, _p, io) => {
      const body = {
        certificate: await readFlagFile("certificate", v.certificate as string),
        keyBlock: (await readFlagFile("key-block", v["key-block"] as string)).trim(),
      };
      showHeld(io, v, await c.call("POST", "/v1/kms-ca", body), kmsCaTable);
    },
  },
  "kms-ca show": {
    summary: "KMS: the KMS CA in force (subject, fingerprints, validity, who installed it)",
    run: async (c, v, _p, io) => show(io, v, (await c.call("GET", "/v1/kms-ca")).body, kmsCaTable),
  },
  "keys rotate": {
    summary: "KMS: rotates PK or MAK (a custodian asks; another custodian or a supervisor " +
      "approves); the MTMS fetches the new version before its next transfer",
    positionals: one("PK|MAK"),
    run: async (c, v, p, io) => {
      const name = p[0].toUpperCase();
      if (name !== "PK" && name !== "MAK") {
        throw new UsageError([`the key must be PK or MAK, got ${p[0]}`]);
      }
      showHeld(io, v, await c.call("POST", `/v1/server-keys/${name}/rotate`), kv);
    },
  },
  approvals: {
    summary: "Requests waiting for a second operator",
    run: async (c, v, _p, io) => {
      const r = await c.call("GET", "/v1/approvals");
      show(
        io,
        v,
        r.body,
        (b: { approvals: Record<string, unknown>[] }) =>
          rowsTable(b.approvals, ["approvalId", "operation", "path", "requestedBy", "expiresAt"]),
      );
    },
  },
  approve: {
    summary: "Approves a pending request as the second operator; it runs once",
    positionals: one("APPROVAL"),
    run: async (c, v, p, io) =>
      show(io, v, (await c.call("POST", `/v1/approvals/${enc(p[0])}/approve`)).body, kv),
  },
  "audit export": {
    summary: "The audit log as NDJSON (records, then checkpoints), to standard output or --out",
    flags: [
      {
        name: "after",
        type: "int",
        default: 0,
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
        help: "only records after this id",
      },
      { name: "out", type: "string", metavar: "FILE", help: "write to FILE (never overwritten)" },
    ],
    run: async (c, v, _p, io) => {
      const r = await c.send(
        "GET",
        `/v1/audit/export?after=${v.after}`,
        undefined,
        "application/x-ndjson",
      );
      if (r.status !== 200) {
        const e = (await r.json()).error ?? {};
        throw new ServerRefusal(r.status, e.code ?? "error", e.message ?? "");
      }
      if (v.out === undefined) {
        io.stdout(await r.text());
        return;
      }
      const f = await Deno.open(String(v.out), { write: true, createNew: true, mode: 0o600 });
      await r.body!.pipeTo(f.writable);
    },
  },
  "audit verify": {
    summary: "Has the server recompute the audit chain and check every checkpoint's MAC",
    run: async (c, v, _p, io) => {
      const b = (await c.call("GET", "/v1/audit/verify")).body as Record<string, unknown> & {
        ok: string;
        problems: Record<string, unknown>[];
      };
      show(io, v, b, () =>
        keyValueTable({ ...b, problems: b.problems.length }) +
        (b.problems.length ? rowsTable(b.problems, ["seq", "kind", "message"]) : ""));
      if (b.ok !== "yes") {
        throw new ServerRefusal(200, "audit_tampered", "the audit log does not verify");
      }
    },
  },
  "audit checkpoint": {
    summary: "Has the HSM MAC the audit chain's head now",
    run: async (c, v, _p, io) =>
      show(io, v, (await c.call("POST", "/v1/audit/checkpoints")).body, kv),
  },
  "operator add": {
    summary: "Enrolls an operator (dual control once operators exist)",
    flags: [
      { name: "id", type: "string", required: true, metavar: "ID", help: "the new operator's id" },
      { name: "name", type: "string", required: true, help: "the new operator's name" },
      {
        name: "role",
        type: "string",
        required: true,
        choices: ROLES,
        help: "the new operator's role",
      },
      {
        name: "public-key",
        type: "string",
        required: true,
        metavar: "HEX",
        help: "its Ed25519 public key (from keygen)",
      },
    ],
    run: async (c, v, _p, io) => {
      const body = { id: v.id, name: v.name, role: v.role, publicKey: v["public-key"] };
      showHeld(io, v, await c.call("POST", "/v1/operators", body), kv);
    },
  },
  "operator list": {
    summary: "Every operator with its role",
    run: async (c, v, _p, io) => {
      const r = await c.call("GET", "/v1/operators");
      show(
        io,
        v,
        r.body,
        (b: { operators: Record<string, unknown>[] }) =>
          rowsTable(b.operators, ["id", "name", "role", "createdBy", "disabledAt"]),
      );
    },
  },
  "operator disable": {
    summary: "Disables an operator (dual control)",
    positionals: one("ID"),
    run: async (c, v, p, io) =>
      showHeld(io, v, await c.call("POST", `/v1/operators/${enc(p[0])}/disable`), kv),
  },
};

async function readFlagFile(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError([`--${flag} ${path}: ${(e as Error).message}`]);
  }
}

/** The KMS CA without its PEM (printed with --json only). */
function kmsCaTable(b: Record<string, unknown>): string {
  const { certificate: _pem, ...rest } = b;
  return keyValueTable(rest);
}

function specOf(name: string, cmd: OpCommand): CommandSpec {
  return {
    name: `deno task op ${name}`,
    summary: cmd.summary,
    flags: cmd.local
      ? [...(cmd.flags ?? []), CONNECT[CONNECT.length - 1]]
      : [...CONNECT, ...(cmd.flags ?? [])],
    positionals: cmd.positionals,
  };
}

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(17)} ${c.summary}`);
  return `usage: deno task op COMMAND [flags]  (COMMAND --help for its flags)\n\ncommands:\n${
    rows.join("\n")
  }\n`;
}

/**
 * Runs the operator client.
 *
 * @param args the command line after `deno task op`.
 * @param io where to write (default: standard output and error).
 * @returns the exit status.
 */
export async function main(args: string[], io: OpIo = defaultIo): Promise<number> {
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h") {
    (args.length === 0 ? io.stderr : io.stdout)(usage());
    return args.length === 0 ? 2 : 0;
  }
  const two = `${args[0]} ${args[1] ?? ""}`;
  const name = two in COMMANDS ? two : args[0];
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.stderr(`deno task op: unknown command ${JSON.stringify(args[0])}; see deno task op --help`);
    return 2;
  }
  const spec = specOf(name, cmd);
  let client: OpClient | undefined;
  try {
    const parsed = parseFlags(spec, args.slice(name.split(" ").length));
    if (parsed.help) {
      io.stdout(formatHelp(spec));
      return 0;
    }
    for (const w of parsed.warnings) io.stderr(`${spec.name}: ${w}`);
    const v = parsed.values;
    if (cmd.local) {
      await cmd.local(v, io);
      return 0;
    }
    if (!URL.canParse(String(v.server)) || !/^https?:/.test(String(v.server))) {
      throw new UsageError([`--server must be an http:// or https:// URL, got ${v.server}`]);
    }
    const keyFile = v["key-file"] as string | undefined;
    const key = keyFile === undefined ? undefined : await readFlagFile("key-file", keyFile);
    const signer = await signerOf(v.operator as string, key, v.token as string);
    const ca = v.ca === undefined ? undefined : await Deno.readTextFile(String(v.ca));
    client = new OpClient(String(v.server), signer, ca);
    await cmd.run!(client, v, parsed.positionals, io);
    return 0;
  } catch (e) {
    if (e instanceof ServerRefusal) {
      io.stderr(`${spec.name}: ${e.message}`);
      return 1;
    }
    if (e instanceof UsageError) {
      for (const p of e.problems) io.stderr(`${spec.name}: ${p}`);
      io.stderr(`${spec.name}: see --help`);
      return 2;
    }
    if (e instanceof Unreachable || e instanceof Deno.errors.NotFound) {
      io.stderr(`${spec.name}: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  } finally {
    client?.close();
  }
}

if (import.meta.main) {
  enterCallerDirectory();
  Deno.exit(await main(Deno.args));
}
