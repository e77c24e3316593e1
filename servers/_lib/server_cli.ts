/**
 * The command line of the server processes (`deno task kms`, `deno task
 * mtms`) on the shared front end `cli/flags.ts`: the flags both servers take,
 * the rules between them, the errors a start can end in (each one line for
 * the user, exit 2), and what a failed start leaves behind: nothing.
 *
 * @module
 */
import {
  type CommandSpec,
  type FlagSpec,
  type FlagValues,
  parseFlags,
  runCommand,
  UsageError,
} from "../../cli/flags.ts";
import { loadCore } from "../../src/core/mod.ts";
import { HsmError } from "../../src/hsm/mod.ts";
import { CertificateError } from "../../src/pki/mod.ts";
import { ProtocolError, ValidationError } from "../../src/protocol/errors.ts";
import { isPostgresUrl, StoreError } from "../../src/store/mod.ts";
import type { HsmMode } from "../../src/hsm/mod.ts";
import { parseComponents } from "./hsm.ts";
import type { Level, Logger } from "./log.ts";
import { serveMetrics, type ServerMetrics } from "./metrics.ts";
import type { Running } from "./serve.ts";

/** The flags every server takes, as {@link toServerFlags} reads them. */
export interface ServerFlags {
  port: number;
  hostname: string;
  /** A SQLite database file or a `postgres://` URL. */
  db: string;
  /** LMK components, two or more, each `CUSTODIAN:KEY:KCV` from a distinct custodian. */
  lmkComponents: string[];
  /** The LMK's KCV from the key ceremony record (required in production mode). */
  lmkKcv: string | undefined;
  /** The HSM's mode: "production" (the default) or "test". */
  hsmMode: HsmMode;
  /** The operator API's secret (signs each operator request; at least 16 characters). */
  token: string | undefined;
  /** `--tls-cert-file` and `--tls-key-file` (PEM): serve HTTPS. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** `--ca-root` (PEM file): the root CA the server checks certificates against. */
  caRoot: string | undefined;
  /** `--insecure-http`: plain HTTP asked for explicitly. */
  insecureHttp: boolean;
  /** `--log-level`: the lowest level logged. */
  logLevel: Level;
  /** `--metrics-port`: `/metrics` served on 127.0.0.1 at this port (none without). */
  metricsPort: number | undefined;
  /** Other string flags the server declared, by name. */
  extra: Record<string, string | undefined>;
}

/** What the server's flags default to and where their environment variables start. */
export interface ServerFlagOptions {
  /** The environment variables' prefix, e.g. `KMS` for `KMS_TOKEN`. */
  envPrefix: string;
  defaultPort: number;
  defaultDb: string;
}

/** The operator token's shortest length (`createHandler` refuses a shorter one). */
export const MIN_TOKEN_LENGTH = 16;

const LEVELS = ["debug", "info", "warn", "error"] as const;

/**
 * The flags both servers take: address, database, LMK, HSM mode, operator
 * token, TLS, log level and the metrics port.
 *
 * @param o the environment prefix and the defaults.
 * @returns the flag specs, secrets marked.
 */
export function serverFlagSpecs(o: ServerFlagOptions): FlagSpec[] {
  const p = o.envPrefix;
  return [
    {
      name: "port",
      type: "int",
      min: 0,
      max: 65535,
      default: o.defaultPort,
      env: `${p}_PORT`,
      help: "the port of the API (0: any free port)",
    },
    {
      name: "hostname",
      type: "string",
      default: "127.0.0.1",
      env: `${p}_HOSTNAME`,
      help: "the address the API listens on",
      metavar: "HOST",
    },
    {
      name: "db",
      type: "string",
      default: o.defaultDb,
      env: `${p}_DATABASE_URL`,
      help: "the store: a SQLite file, or a postgres:// URL shared by several instances",
      metavar: "FILE|URL",
    },
    {
      name: "lmk-component",
      type: "list",
      secret: true,
      env: `${p}_LMK_COMPONENTS`,
      help: "an LMK component from the ceremony, two or more from distinct custodians",
      metavar: "CUSTODIAN:KEY:KCV",
    },
    {
      name: "lmk-kcv",
      type: "string",
      env: `${p}_LMK_KCV`,
      help: "the LMK's KCV from the ceremony record (required in production mode)",
      metavar: "KCV",
    },
    {
      name: "hsm-mode",
      type: "string",
      default: "production",
      env: `${p}_HSM_MODE`,
      help: "the HSM's mode: production or test",
      metavar: "MODE",
    },
    {
      name: "token",
      type: "string",
      secret: true,
      env: `${p}_TOKEN`,
      help: `the operator API's secret (at least ${MIN_TOKEN_LENGTH} characters)`,
      metavar: "SECRET",
    },
    fileFlag("tls-cert-file", `${p}_TLS_CERT_FILE`, "the server's certificate chain (PEM): HTTPS"),
    fileFlag("tls-key-file", `${p}_TLS_KEY_FILE`, "the server's private key (PEM), with the above"),
    {
      name: "insecure-http",
      type: "bool",
      default: false,
      help: "serve plain HTTP (no TLS files), logged as a warning",
    },
    {
      name: "log-level",
      type: "string",
      choices: LEVELS,
      default: "info",
      env: `${p}_LOG_LEVEL`,
      help: "the lowest level of the JSON log lines on stderr",
      metavar: "LEVEL",
    },
    {
      name: "metrics-port",
      type: "int",
      min: 0,
      max: 65535,
      env: `${p}_METRICS_PORT`,
      help: "serve /metrics (Prometheus) on 127.0.0.1 at this port, apart from the API " +
        "(none without)",
    },
  ];
}

/**
 * The flags of the keys the MTMS and the KMS share: PK and MAK components.
 *
 * @param envPrefix `KMS` or `MTMS`.
 * @param peer the other server, for the help text.
 * @returns the two list flags, secret.
 */
export function sharedKeyFlags(envPrefix: string, peer: string): FlagSpec[] {
  const flag = (name: string, key: string, job: string): FlagSpec => ({
    name,
    type: "list",
    secret: true,
    env: `${envPrefix}_${key}_COMPONENTS`,
    help: `a component of ${key}, the key shared with the ${peer} that ${job}`,
    metavar: "[CUSTODIAN:]KEY:KCV",
  });
  return [flag("pk-component", "PK", "protects TKs"), flag("mak-component", "MAK", "MACs batches")];
}

/**
 * A server's command (`deno task kms` for `KMS`): the flags every server
 * takes ({@link serverFlagSpecs}, the database by default
 * `data/kms.db`), the shared keys' ({@link sharedKeyFlags}), then its own;
 * `--config FILE` accepted.
 *
 * @param envPrefix `KMS` or `MTMS`: the environment prefix, and in lower case the task's name.
 * @param o the summary, the default port, the peer server (for the help text)
 *   and the rules between the flags.
 * @param flags the server's own flags.
 * @returns the command spec.
 */
export function serverCommand(
  envPrefix: string,
  o: { summary: string; defaultPort: number; peer: string; check: CommandSpec["check"] },
  flags: FlagSpec[],
): CommandSpec {
  const task = envPrefix.toLowerCase();
  return {
    name: `deno task ${task}`,
    summary: o.summary,
    config: true,
    flags: [
      ...serverFlagSpecs({ envPrefix, defaultPort: o.defaultPort, defaultDb: `data/${task}.db` }),
      ...sharedKeyFlags(envPrefix, o.peer),
      ...flags,
    ],
    check: o.check,
  };
}

/**
 * What every start of a server checks: {@link serverFlagProblems}, the files
 * the flags name, and the LMK components, which every step needs.
 *
 * @param v the parsed values.
 * @param envPrefix `KMS` or `MTMS`.
 * @param files the flags naming files to read.
 * @returns one line per problem.
 */
export function startProblems(v: FlagValues, envPrefix: string, files: string[]): string[] {
  const problems = [...serverFlagProblems(v, envPrefix), ...missingFiles(v, files)];
  if (list(v, "lmk-component").length === 0) {
    problems.push(...componentProblems(v, "lmk-component", "LMK component", true));
  }
  return problems;
}

/**
 * What serving checks besides {@link startProblems}: the operator token and
 * the shared keys' components.
 */
export function servingProblems(v: FlagValues, envPrefix: string): string[] {
  const problems: string[] = [];
  if (str(v, "token") === undefined) {
    problems.push(
      `--token is required (or ${envPrefix}_TOKEN, or --token-file): the operator API's secret`,
    );
  }
  problems.push(...componentProblems(v, "pk-component", "PK component", false));
  problems.push(...componentProblems(v, "mak-component", "MAK component", false));
  return problems;
}

/** A string flag naming a file. */
export function fileFlag(name: string, env: string | undefined, help: string): FlagSpec {
  return { name, type: "string", env, help, metavar: "FILE" };
}

/** A flag's value as a string, or undefined. */
export function str(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** A list flag's values (empty when nothing set it). */
export function list(values: FlagValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : [];
}

/**
 * The rules between the common server flags: the HSM mode, TLS files in
 * pairs and not with `--insecure-http`, the token's length, the
 * components' form. Values left undefined by their own problem are skipped.
 *
 * @param v the parsed values.
 * @param envPrefix for the messages (`KMS_HSM_MODE`).
 * @returns one line per problem.
 */
export function serverFlagProblems(v: FlagValues, envPrefix: string): string[] {
  const problems: string[] = [];
  const mode = str(v, "hsm-mode");
  if (mode !== undefined && mode !== "production" && mode !== "test") {
    problems.push(
      `--hsm-mode (or ${envPrefix}_HSM_MODE) must be production or test, got ${
        JSON.stringify(mode.slice(0, 40))
      }`,
    );
  }
  const cert = str(v, "tls-cert-file");
  if ((cert === undefined) !== (str(v, "tls-key-file") === undefined)) {
    problems.push(
      "HTTPS needs both --tls-cert-file and --tls-key-file (or neither, for plain HTTP)",
    );
  }
  if (v["insecure-http"] === true && cert !== undefined) {
    problems.push("--insecure-http and --tls-cert-file exclude each other");
  }
  const token = str(v, "token");
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    problems.push(
      `--token (or ${envPrefix}_TOKEN) must be at least ${MIN_TOKEN_LENGTH} characters, ` +
        `got ${token.length}`,
    );
  }
  if (list(v, "lmk-component").length > 0) {
    problems.push(...componentProblems(v, "lmk-component", "LMK component", true));
  }
  return problems;
}

/**
 * The form of a component list flag, checked before any key is loaded: two
 * or more, each `[CUSTODIAN:]KEY:KCV`. Messages name positions, never values.
 *
 * @param v the parsed values.
 * @param flag the list flag (`pk-component`).
 * @param name what the components form, for messages.
 * @param custodians each component must name its custodian.
 * @returns one line, or none.
 */
export function componentProblems(
  v: FlagValues,
  flag: string,
  name: string,
  custodians: boolean,
): string[] {
  try {
    parseComponents(list(v, flag), name, { custodians });
    return [];
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return [`--${flag}: ${e.message}`];
  }
}

/**
 * Reads the common flags out of parsed values.
 *
 * @param v values parsed against {@link serverFlagSpecs} (and the server's own flags).
 * @returns the typed flags; `extra` holds every other string flag.
 */
export function toServerFlags(v: FlagValues): ServerFlags {
  const cert = str(v, "tls-cert-file");
  const key = str(v, "tls-key-file");
  const extra: Record<string, string | undefined> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") extra[k] = x;
  return {
    port: v.port as number,
    hostname: str(v, "hostname") ?? "127.0.0.1",
    db: str(v, "db") as string,
    lmkComponents: list(v, "lmk-component"),
    lmkKcv: str(v, "lmk-kcv"),
    hsmMode: (str(v, "hsm-mode") ?? "production") as HsmMode,
    token: str(v, "token"),
    tls: cert !== undefined && key !== undefined ? { certFile: cert, keyFile: key } : undefined,
    caRoot: str(v, "ca-root"),
    insecureHttp: v["insecure-http"] === true,
    logLevel: (str(v, "log-level") ?? "info") as Level,
    metricsPort: typeof v["metrics-port"] === "number" ? v["metrics-port"] : undefined,
    extra,
  };
}

/**
 * The options both servers start with, from their checked flags: address,
 * database, LMK and shared key components, HSM mode, token, logger, core.
 *
 * @param v the parsed values.
 * @param log the server's logger.
 * @returns the common part of `startKms` / `startMtms` options.
 */
export async function commonOptions(v: FlagValues, log: Logger) {
  const flags = toServerFlags(v);
  return {
    port: flags.port,
    hostname: flags.hostname,
    db: flags.db,
    lmkComponents: flags.lmkComponents,
    lmkKcv: flags.lmkKcv,
    hsmMode: flags.hsmMode,
    pkComponents: list(v, "pk-component"),
    makComponents: list(v, "mak-component"),
    token: flags.token as string,
    log,
    core: await loadCore(),
  };
}

/**
 * Parses server flags without running a server: the common flags (and
 * `extra` string flags) with the rules of {@link serverFlagProblems}.
 *
 * @param args command-line arguments.
 * @param options the environment prefix, the defaults, extra string flag names.
 * @returns the flags.
 * @throws {ValidationError} `invalid_flag`, its message every problem, one per line.
 */
export function parseServerFlags(
  args: string[],
  options: ServerFlagOptions & { extra?: string[] },
): ServerFlags {
  const spec: CommandSpec = {
    name: "server",
    summary: "",
    flags: [
      ...serverFlagSpecs(options),
      fileFlag("ca-root", undefined, "the root CA (PEM)"),
      ...(options.extra ?? []).map((n) => ({ name: n, type: "string" as const, help: n })),
    ],
    check: (v) => serverFlagProblems(v, options.envPrefix),
  };
  try {
    return toServerFlags(parseFlags(spec, args).values);
  } catch (e) {
    if (e instanceof UsageError) throw new ValidationError("invalid_flag", e.message);
    throw e;
  }
}

/** A start refused for a reason the user can fix, said in one line. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** Errors whose message is the whole story at startup: one line, exit 2, no stack trace. */
export const STARTUP_ERRORS: readonly (abstract new (...a: never[]) => Error)[] = [
  StartupError,
  ProtocolError,
  HsmError,
  StoreError,
  CertificateError,
  Deno.errors.NotFound,
  Deno.errors.PermissionDenied,
  Deno.errors.AddrInUse,
  Deno.errors.AddrNotAvailable,
  Deno.errors.ConnectionRefused,
];

/**
 * Reads a file a flag names, or says which flag and why not.
 *
 * @param flag the flag (`ca-root`).
 * @param path its value.
 * @returns the text.
 * @throws {StartupError} `--ca-root FILE: no such file` (or permission denied).
 */
export async function readFlagFile(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new StartupError(`--${flag} ${path}: no such file`);
    }
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
      throw new StartupError(`--${flag} ${path}: permission denied`);
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new StartupError(`--${flag} ${path}: is a directory`);
    }
    throw e;
  }
}

/**
 * The file flags that are set but name no readable file, checked with the
 * other flags so a missing file stops the start before anything is written.
 *
 * @param v the parsed values.
 * @param flags the flags that name files to read.
 * @returns one line per missing or unreadable file.
 */
export function missingFiles(v: FlagValues, flags: readonly string[]): string[] {
  const problems: string[] = [];
  for (const flag of flags) {
    const path = str(v, flag);
    if (path === undefined) continue;
    try {
      if (!Deno.statSync(path).isFile) problems.push(`--${flag} ${path}: not a file`);
    } catch (e) {
      problems.push(
        e instanceof Deno.errors.NotFound
          ? `--${flag} ${path}: no such file`
          : `--${flag} ${path}: ${(e as Error).name}`,
      );
    }
  }
  return problems;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Makes room for a SQLite database file and remembers what it made, so a
 * start that fails can take it back: the file (with its `-wal`, `-shm` and
 * `-journal` companions) if it was not there before, and the directories
 * made for it. A `postgres://` location makes nothing.
 *
 * @param db the `--db` value.
 * @returns `undo`, which removes what this start created.
 */
export async function prepareDb(db: string): Promise<{ undo(): Promise<void> }> {
  if (isPostgresUrl(db) || db === ":memory:") return { undo: async () => {} };
  const made: string[] = [];
  const slash = db.lastIndexOf("/");
  const dir = slash <= 0 ? undefined : db.slice(0, slash);
  if (dir !== undefined) {
    const missing: string[] = [];
    for (let d = dir; d !== "" && d !== "." && !(await exists(d));) {
      missing.push(d);
      const i = d.lastIndexOf("/");
      d = i <= 0 ? "" : d.slice(0, i);
    }
    await Deno.mkdir(dir, { recursive: true });
    made.push(...missing);
  }
  const fresh = !(await exists(db));
  return {
    async undo() {
      if (fresh) {
        for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}-journal`]) {
          await Deno.remove(f).catch(() => {});
        }
      }
      for (const d of made) await Deno.remove(d).catch(() => {});
    },
  };
}

/**
 * Runs a server's `main`: the flags parsed by `cli/flags.ts` (`--help`,
 * every problem at once, exit 2), then `body`; an error of
 * {@link STARTUP_ERRORS} ends the start with its message on one line and
 * exit 2, after `cleanup` has taken back what the start wrote.
 *
 * @param spec the server's command.
 * @param args `Deno.args`.
 * @param body starts the server; registers its cleanup with `onFailure`.
 */
export async function runServer(
  spec: CommandSpec,
  args: readonly string[],
  body: (values: FlagValues, onFailure: (undo: () => Promise<void>) => void) => Promise<void>,
): Promise<void> {
  const undos: (() => Promise<void>)[] = [];
  await runCommand(spec, args, async ({ values }) => {
    try {
      await body(values, (u) => undos.push(u));
    } catch (e) {
      for (const u of undos.reverse()) await u();
      throw socketError(e) ?? e;
    }
  }, STARTUP_ERRORS);
}

/** Node's socket errors (`listen EADDRINUSE: ...`) at startup, as one line naming the flags. */
function socketError(e: unknown): StartupError | undefined {
  const code = (e as { code?: unknown }).code;
  if (typeof code !== "string" || !/^E(ADDRINUSE|ADDRNOTAVAIL|ACCES)$/.test(code)) {
    return undefined;
  }
  const what = (e as Error).message.replace(/^listen E[A-Z]+: /, "");
  return new StartupError(`cannot listen (--port, --hostname): ${what}`);
}

/**
 * Serves `/metrics` beside a started server when `--metrics-port` asks
 * (logged as `<name>.metrics`), stopped with it.
 *
 * @param name the server's name in log events.
 * @param server the running server.
 * @param metrics its metrics.
 * @param port `--metrics-port`, or undefined for none.
 * @param log where the address goes.
 * @returns the server, whose shutdown also stops the metrics listener.
 */
export function withMetricsPort<S extends Running>(
  name: string,
  server: S,
  metrics: ServerMetrics,
  port: number | undefined,
  log: Logger,
): S {
  if (port === undefined) return server;
  const m = serveMetrics(metrics, port);
  log.log("info", `${name}.metrics`, { url: `${m.url}/metrics` });
  return {
    ...server,
    shutdown: async () => {
      await m.shutdown();
      await server.shutdown();
    },
  };
}
