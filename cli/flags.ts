/**
 * The command-line front end every task shares: flags declared once with
 * their environment variable, default and help text; `--help` generated from
 * that declaration; every bad or missing flag reported at once, one line
 * each; secrets taken from a file or the environment, never silently from
 * argv; a JSON config file that can set any flag.
 *
 * Precedence, highest first: the command line, the flag's environment
 * variable, the config file (`--config FILE`), the default.
 *
 * @module
 */

/** What a flag holds. `list` flags may be repeated and keep every value. */
export type FlagType = "string" | "int" | "bool" | "list";

/** One flag of a command. */
export interface FlagSpec {
  /** The flag's name without dashes, e.g. `port`, `lmk-component`. */
  name: string;
  type: FlagType;
  /** One line of help. */
  help: string;
  /** The environment variable that sets it (a list is comma-separated there). */
  env?: string;
  /** The value when nothing sets it. */
  default?: string | number | boolean | string[];
  /** Startup fails when nothing sets it. */
  required?: boolean;
  /** The only values a string flag may take. */
  choices?: readonly string[];
  /** Bounds of an int flag (inclusive). */
  min?: number;
  max?: number;
  /**
   * A secret (a key component, a token): read from `--NAME-file PATH` (one
   * value per file; a list flag takes the file flag repeatedly) or from the
   * environment. Given on the command line it is still taken, with a warning,
   * because argv is visible to every user of the machine.
   */
  secret?: boolean;
  /** A secret file holds the whole value over several lines (a PEM private key). */
  multiline?: boolean;
  /** The placeholder shown in help, e.g. `FILE`, `N`. */
  metavar?: string;
}

/** A command: its name, a line saying what it does, and its flags. */
export interface CommandSpec {
  /** As typed, e.g. `deno task kms`. */
  name: string;
  summary: string;
  flags: readonly FlagSpec[];
  /** Positional arguments: their names in help, and how many are allowed. */
  positionals?: { usage: string; min: number; max: number };
  /** Accept `--config FILE` (JSON: flag names to values). */
  config?: boolean;
  /**
   * The flags that matter most, as shown after `usage:` (default `[flags]`),
   * e.g. `--order ORDER-ID [flags]`; printed again under a usage problem.
   */
  usage?: string;
  /**
   * Rules between flags (one needs another, a length, a format), run after
   * every flag is read: each string returned is one more problem, reported
   * with the others. A flag whose own value was refused is `undefined` here.
   */
  check?: (values: FlagValues) => string[];
}

/** The parsed values, by flag name. */
export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

/** What {@link parseFlags} returns. */
export interface Parsed {
  values: FlagValues;
  positionals: string[];
  /** Lines to show the user before starting (a secret on argv). */
  warnings: string[];
  /** `--help` was given: print {@link formatHelp} and exit 0. */
  help: boolean;
}

/** Everything wrong with a command line, one line per problem. */
export class UsageError extends Error {
  /** The problems, one line each. */
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(problems.join("\n"));
    this.name = "UsageError";
    this.problems = problems;
  }
}

/** Where the parser reads the environment and files; tests pass their own. */
export interface ParseSources {
  env?: (name: string) => string | undefined;
  readFile?: (path: string) => string;
}

const HELP = "help";
const CONFIG = "config";

function byName(spec: CommandSpec): Map<string, FlagSpec> {
  const map = new Map<string, FlagSpec>();
  for (const f of spec.flags) {
    if (!/^[a-z][a-z0-9-]*$/.test(f.name) || f.name === HELP || f.name === CONFIG) {
      throw new Error(`flag spec: bad or reserved flag name ${JSON.stringify(f.name)}`);
    }
    if (map.has(f.name)) throw new Error(`flag spec: --${f.name} is declared twice`);
    map.set(f.name, f);
  }
  return map;
}

/** The raw strings given for each flag, and where they came from. */
interface Raw {
  values: Map<string, string[]>;
  from: Map<string, string>;
}

function addRaw(raw: Raw, name: string, value: string, from: string): void {
  const list = raw.values.get(name) ?? [];
  list.push(value);
  raw.values.set(name, list);
  if (!raw.from.has(name)) raw.from.set(name, from);
}

function readSecretFile(path: string, f: FlagSpec, read: (p: string) => string): string {
  const text = read(path);
  const value = f.multiline ? text.trim() : text.replace(/\r?\n$/, "");
  if (value === "" || (!f.multiline && /[\r\n]/.test(value))) {
    throw new Error(
      `--${f.name}-file ${path} must hold ${f.multiline ? "a value" : "one value on one line"}`,
    );
  }
  return value;
}

interface ArgvResult {
  raw: Raw;
  positionals: string[];
  help: boolean;
  config?: string;
}

/** Splits argv into flag values, collecting every problem instead of stopping at the first. */
function scanArgv(
  spec: CommandSpec,
  flags: Map<string, FlagSpec>,
  args: readonly string[],
  read: (p: string) => string,
  problems: string[],
  warnings: string[],
): ArgvResult {
  const out: ArgvResult = {
    raw: { values: new Map(), from: new Map() },
    positionals: [],
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "--") {
      if (arg.startsWith("-") && arg !== "-") {
        if (arg === "-h") out.help = true;
        else problems.push(`unknown flag ${arg} (flags are spelled --name)`);
      } else out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    let inline: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (name === HELP) {
      out.help = true;
      continue;
    }
    const fileOf = name.endsWith("-file") ? flags.get(name.slice(0, -5)) : undefined;
    const f = flags.get(name) ?? (fileOf?.secret ? fileOf : undefined);
    const isConfig = name === CONFIG && spec.config === true;
    if (f === undefined && !isConfig) {
      problems.push(`unknown flag --${name}`);
      if (inline === undefined && args[i + 1] !== undefined && !args[i + 1].startsWith("--")) i++;
      continue;
    }
    if (f?.type === "bool" && f === flags.get(name)) {
      if (inline === undefined) inline = "true";
      if (inline !== "true" && inline !== "false") {
        problems.push(`--${name} takes no value or =true/=false, got ${JSON.stringify(inline)}`);
        continue;
      }
      addRaw(out.raw, name, inline, "argv");
      continue;
    }
    if (inline === undefined) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith("--")) {
        problems.push(`--${name} needs a value`);
        continue;
      }
      inline = next;
      i++;
    }
    if (isConfig) {
      out.config = inline;
      continue;
    }
    const flag = f as FlagSpec;
    if (flag !== flags.get(name)) {
      try {
        addRaw(out.raw, flag.name, readSecretFile(inline, flag, read), "file");
      } catch (e) {
        problems.push(fileProblem(e, `--${name} ${inline}`));
      }
      continue;
    }
    if (flag.secret && !warnings.some((w) => w.includes(`--${flag.name} `))) {
      warnings.push(
        `warning: --${flag.name} on the command line is visible to every user of this machine; ` +
          `use --${flag.name}-file${flag.env ? ` or ${flag.env}` : ""}`,
      );
    }
    addRaw(out.raw, flag.name, inline, "argv");
  }
  return out;
}

function fileProblem(e: unknown, what: string): string {
  if (e instanceof Deno.errors.NotFound) return `${what}: no such file`;
  if (e instanceof Deno.errors.PermissionDenied) return `${what}: permission denied`;
  return e instanceof Error ? e.message : `${what}: ${String(e)}`;
}

/** Reads the JSON config file: an object of flag names to strings, numbers, booleans or lists. */
function readConfig(
  path: string,
  flags: Map<string, FlagSpec>,
  read: (p: string) => string,
  problems: string[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let doc: unknown;
  try {
    doc = JSON.parse(read(path));
  } catch (e) {
    problems.push(
      e instanceof SyntaxError
        ? `--config ${path}: not JSON: ${e.message}`
        : fileProblem(e, `--config ${path}`),
    );
    return out;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    problems.push(`--config ${path}: must be a JSON object of flag names to values`);
    return out;
  }
  for (const [key, v] of Object.entries(doc)) {
    const f = flags.get(key);
    if (f === undefined) {
      problems.push(`--config ${path}: unknown flag ${JSON.stringify(key)}`);
      continue;
    }
    const items = Array.isArray(v) ? v : [v];
    if (Array.isArray(v) && f.type !== "list") {
      problems.push(`--config ${path}: ${key} takes one value, not a list`);
      continue;
    }
    if (!items.every((x) => ["string", "number", "boolean"].includes(typeof x))) {
      problems.push(`--config ${path}: ${key} must be a string, number or boolean`);
      continue;
    }
    out.set(key, items.map(String));
  }
  return out;
}

/** Turns the chosen raw strings of one flag into its typed value, or a problem line. */
function convert(f: FlagSpec, raw: string[], from: string): string | number | boolean | string[] {
  const where = from === "argv" ? `--${f.name}` : from;
  if (f.type === "list") return raw;
  if (raw.length > 1) {
    throw new Error(`${where} is given ${raw.length} times; it takes one value`);
  }
  const text = raw[0];
  if (f.type === "bool") {
    if (text === "true" || text === "1") return true;
    if (text === "false" || text === "0") return false;
    throw new Error(`${where} must be true or false, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (f.type === "int") {
    const n = Number(text);
    const lo = f.min ?? Number.MIN_SAFE_INTEGER;
    const hi = f.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^-?[0-9]+$/.test(text) || n < lo || n > hi) {
      const range = f.min !== undefined || f.max !== undefined ? ` from ${lo} to ${hi}` : "";
      throw new Error(
        `${where} must be a whole number${range}, got ${JSON.stringify(text.slice(0, 40))}`,
      );
    }
    return n;
  }
  if (f.choices && !f.choices.includes(text)) {
    throw new Error(
      `${where} must be one of ${f.choices.join(", ")}, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  if (text === "") throw new Error(`${where} must not be empty`);
  return text;
}

/**
 * Parses a command line against its spec.
 *
 * @param spec the command.
 * @param args the arguments after the program name.
 * @param sources the environment and file reader (default: Deno's).
 * @returns the values, positionals and warnings; `help` when `--help` was given.
 * @throws {UsageError} naming every problem at once: unknown flags, missing
 *   values, bad numbers or choices, a flag given twice that takes one value,
 *   unreadable files, a bad config file, required flags nobody set.
 */
export function parseFlags(
  spec: CommandSpec,
  args: readonly string[],
  sources: ParseSources = {},
): Parsed {
  const env = sources.env ?? ((n: string) => Deno.env.get(n));
  const read = sources.readFile ?? ((p: string) => Deno.readTextFileSync(p));
  const flags = byName(spec);
  const problems: string[] = [];
  const warnings: string[] = [];
  const argv = scanArgv(spec, flags, args, read, problems, warnings);
  if (argv.help) return { values: {}, positionals: argv.positionals, warnings: [], help: true };
  const config = argv.config === undefined
    ? new Map()
    : readConfig(argv.config, flags, read, problems);
  const values: FlagValues = {};
  for (const f of spec.flags) {
    let raw = argv.raw.values.get(f.name);
    let from = argv.raw.from.get(f.name) ?? "argv";
    const envText = f.env === undefined ? undefined : env(f.env);
    if (raw === undefined && envText !== undefined && envText !== "") {
      raw = f.type === "list" ? envText.split(",").filter((s) => s !== "") : [envText];
      from = f.env as string;
    }
    if (raw === undefined && config.has(f.name)) {
      raw = config.get(f.name);
      from = `${f.name} in --config ${argv.config}`;
    }
    if (raw === undefined) {
      if (f.required) {
        problems.push(`--${f.name} is required${f.env ? ` (or ${f.env})` : ""}: ${f.help}`);
      }
      values[f.name] = f.default;
      continue;
    }
    try {
      values[f.name] = convert(f, raw, from);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const p = spec.positionals ?? { usage: "", min: 0, max: 0 };
  if (argv.positionals.length < p.min || argv.positionals.length > p.max) {
    problems.push(
      p.max === 0
        ? `unexpected argument ${JSON.stringify(argv.positionals[0])}`
        : `expected ${p.usage}, got ${argv.positionals.length} argument(s)`,
    );
  }
  if (spec.check) problems.push(...spec.check(values));
  if (problems.length > 0) throw new UsageError(problems);
  return { values, positionals: argv.positionals, warnings, help: false };
}

function describeDefault(f: FlagSpec): string {
  if (f.default === undefined || (Array.isArray(f.default) && f.default.length === 0)) return "";
  return ` (default: ${Array.isArray(f.default) ? f.default.join(",") : String(f.default)})`;
}

function usageLine(spec: CommandSpec): string {
  return `usage: ${spec.name} ${spec.usage ?? "[flags]"}${
    spec.positionals ? ` ${spec.positionals.usage}` : ""
  }`;
}

/**
 * The `--help` text: usage, summary, then each flag with its value, its
 * environment variable, its default and whether it is required.
 */
export function formatHelp(spec: CommandSpec): string {
  const lines = [
    usageLine(spec),
    "",
    spec.summary,
    "",
    "flags:",
  ];
  const rows: [string, string][] = [];
  for (const f of spec.flags) {
    const meta = f.type === "bool" ? "" : ` ${f.metavar ?? (f.type === "int" ? "N" : "VALUE")}`;
    const left = `--${f.name}${meta}${f.type === "list" ? " (repeatable)" : ""}`;
    const notes = [
      f.env ? `env ${f.env}${f.type === "list" ? " (comma-separated)" : ""}` : "",
      f.choices ? `one of ${f.choices.join(", ")}` : "",
      f.required ? "required" : "",
    ].filter((s) => s !== "");
    rows.push([
      left,
      `${f.help}${describeDefault(f)}${notes.length ? `; ${notes.join("; ")}` : ""}`,
    ]);
    if (f.secret) {
      rows.push([`--${f.name}-file FILE`, `read --${f.name} from FILE (one value, mode 0600)`]);
    }
  }
  if (spec.config) rows.push(["--config FILE", "a JSON object setting any flag above by name"]);
  rows.push(["--help", "print this help and exit"]);
  const width = Math.min(34, Math.max(...rows.map(([l]) => l.length)));
  for (const [l, r] of rows) {
    lines.push(
      l.length > width ? `  ${l}\n  ${" ".repeat(width)}  ${r}` : `  ${l.padEnd(width)}  ${r}`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * Moves to the directory `deno task` was started from. A task runs in the
 * directory of its deno.json, so `deno task --config REPO/deno.json ...` run
 * from a working directory would otherwise resolve the user's relative paths
 * against the repository; `deno task` names the caller's directory in
 * `INIT_CWD`. Without permission to read that variable nothing changes.
 */
export function enterCallerDirectory(): void {
  if (Deno.permissions.querySync({ name: "env", variable: "INIT_CWD" }).state !== "granted") return;
  const dir = Deno.env.get("INIT_CWD");
  if (dir !== undefined && dir !== "") Deno.chdir(dir);
}

/** What {@link runCommand} gives the command's body. */
export interface Invocation {
  values: FlagValues;
  positionals: string[];
}

/**
 * Runs a command's body with its parsed flags: `--help` prints the help and
 * exits 0; a usage problem prints one line each and exits 2; an error the
 * body marks as the user's (`userErrors`) prints its message and exits 2;
 * anything else is a bug and keeps its stack trace.
 *
 * @param spec the command.
 * @param args its arguments.
 * @param body the command, called once the flags are valid.
 * @param userErrors classes whose messages are complete sentences for the user.
 */
export async function runCommand(
  spec: CommandSpec,
  args: readonly string[],
  body: (inv: Invocation) => Promise<void> | void,
  userErrors: readonly (abstract new (...a: never[]) => Error)[] = [],
): Promise<void> {
  enterCallerDirectory();
  let parsed: Parsed;
  try {
    parsed = parseFlags(spec, args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    for (const p of e.problems) console.error(`${spec.name}: ${p}`);
    console.error(spec.usage ? `${usageLine(spec)} (see --help)` : `${spec.name}: see --help`);
    Deno.exit(2);
  }
  if (parsed.help) {
    console.log(formatHelp(spec));
    Deno.exit(0);
  }
  for (const w of parsed.warnings) console.error(`${spec.name}: ${w}`);
  try {
    await body({ values: parsed.values, positionals: parsed.positionals });
  } catch (e) {
    if (e instanceof UsageError) {
      for (const p of e.problems) console.error(`${spec.name}: ${p}`);
      Deno.exit(2);
    }
    if (userErrors.some((c) => e instanceof c)) {
      console.error(`${spec.name}: ${(e as Error).message}`);
      Deno.exit(2);
    }
    throw e;
  }
}
