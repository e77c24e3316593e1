/**
 * The shared command-line front end: precedence, every problem at once,
 * secrets from files, config files, generated help.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { type CommandSpec, formatHelp, parseFlags, UsageError } from "../../cli/flags.ts";

const spec: CommandSpec = {
  name: "deno task thing",
  summary: "Does a thing.",
  config: true,
  flags: [
    {
      name: "port",
      type: "int",
      help: "TCP port",
      env: "T_PORT",
      default: 8441,
      min: 0,
      max: 65535,
    },
    {
      name: "mode",
      type: "string",
      help: "mode",
      env: "T_MODE",
      default: "production",
      choices: ["production", "test"],
    },
    {
      name: "db",
      type: "string",
      help: "database",
      required: true,
      env: "T_DB",
      metavar: "FILE|URL",
    },
    { name: "component", type: "list", help: "a key component", env: "T_COMPONENTS", secret: true },
    { name: "token", type: "string", help: "operator secret", env: "T_TOKEN", secret: true },
    { name: "verbose", type: "bool", help: "talk more", default: false },
  ],
};

function sources(env: Record<string, string> = {}, files: Record<string, string> = {}) {
  return {
    env: (n: string) => env[n],
    readFile: (p: string) => {
      if (!(p in files)) throw new Deno.errors.NotFound(p);
      return files[p];
    },
  };
}

function problems(
  args: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
) {
  const e = assertThrows(() => parseFlags(spec, args, sources(env, files)), UsageError);
  return (e as UsageError).problems;
}

Deno.test("flags: argv beats the environment, which beats the config file, which beats the default", () => {
  const files = { "c.json": JSON.stringify({ port: 3, mode: "test", db: "cfg.db" }) };
  const all = parseFlags(
    spec,
    ["--port", "1", "--config", "c.json"],
    sources({ T_PORT: "2" }, files),
  );
  assertEquals(all.values.port, 1);
  assertEquals(all.values.mode, "test");
  assertEquals(all.values.db, "cfg.db");
  const envWins = parseFlags(spec, ["--config", "c.json"], sources({ T_PORT: "2" }, files));
  assertEquals(envWins.values.port, 2);
  const dflt = parseFlags(spec, ["--db=x.db"], sources());
  assertEquals(dflt.values.port, 8441);
  assertEquals(dflt.values.mode, "production");
  assertEquals(dflt.values.verbose, false);
});

Deno.test("flags: every problem is reported at once, one line each", () => {
  const p = problems([
    "--port",
    "70000",
    "--mode",
    "prod",
    "--nope",
    "x",
    "--verbose=maybe",
    "extra",
  ]);
  assertEquals(p, [
    "unknown flag --nope",
    '--verbose takes no value or =true/=false, got "maybe"',
    '--port must be a whole number from 0 to 65535, got "70000"',
    '--mode must be one of production, test, got "prod"',
    "--db is required (or T_DB): database",
    'unexpected argument "extra"',
  ]);
});

Deno.test("flags: a one-value flag given twice is refused; a list keeps every value", () => {
  assertEquals(problems(["--db", "a", "--db", "b"]), ["--db is given 2 times; it takes one value"]);
  const r = parseFlags(spec, ["--db", "a", "--component", "A", "--component", "B"], sources());
  assertEquals(r.values.component, ["A", "B"]);
});

Deno.test("flags: a value that looks like a flag is not taken as a value", () => {
  assertEquals(problems(["--db", "--port", "1"]), [
    "--db needs a value",
    "--db is required (or T_DB): database",
  ]);
});

Deno.test("flags: secrets from files and the environment draw no warning; on argv they do", () => {
  const files = { "c1": "AAAA\n", "c2": "BBBB", "tok": "s3cret-token-value\n" };
  const r = parseFlags(
    spec,
    ["--db", "x", "--component-file", "c1", "--component-file", "c2", "--token-file", "tok"],
    sources({}, files),
  );
  assertEquals(r.values.component, ["AAAA", "BBBB"]);
  assertEquals(r.values.token, "s3cret-token-value");
  assertEquals(r.warnings, []);
  const fromEnv = parseFlags(spec, ["--db", "x"], sources({ T_COMPONENTS: "A,B", T_TOKEN: "t" }));
  assertEquals(fromEnv.values.component, ["A", "B"]);
  assertEquals(fromEnv.warnings, []);
  const argv = parseFlags(spec, [
    "--db",
    "x",
    "--token",
    "t",
    "--component",
    "A",
    "--component",
    "B",
  ], sources());
  assertEquals(argv.warnings.length, 2);
  assert(argv.warnings[0].includes("--token on the command line"));
  assert(argv.warnings[0].includes("--token-file or T_TOKEN"));
  for (const w of argv.warnings) {
    assert(!w.includes("t ") || !w.includes(" t "), "a warning never repeats the secret");
  }
});

Deno.test("flags: secret files that are missing, empty or hold two lines are named", () => {
  assertEquals(
    problems(
      ["--db", "x", "--token-file", "none", "--component-file", "two", "--component-file", "empty"],
      {},
      {
        two: "A\nB\n",
        empty: "",
      },
    ),
    [
      "--token-file none: no such file",
      "--component-file two must hold one value on one line",
      "--component-file empty must hold one value on one line",
    ],
  );
  assertEquals(problems(["--db", "x", "--db-file", "f"]), ["unknown flag --db-file"]);
});

Deno.test("flags: a config file that is not JSON, not an object, or names unknown flags is refused", () => {
  const files = {
    bad: "{port: 1",
    arr: "[1]",
    unk: JSON.stringify({ prot: 1, port: [1, 2], db: { a: 1 } }),
  };
  assert(problems(["--config", "bad"], {}, files)[0].startsWith("--config bad: not JSON: "));
  assertEquals(problems(["--config", "arr", "--db", "x"], {}, files), [
    "--config arr: must be a JSON object of flag names to values",
  ]);
  assertEquals(problems(["--config", "unk"], {}, files), [
    '--config unk: unknown flag "prot"',
    "--config unk: port takes one value, not a list",
    "--config unk: db must be a string, number or boolean",
    "--db is required (or T_DB): database",
  ]);
  assertEquals(problems(["--config", "missing", "--db", "x"]), ["--config missing: no such file"]);
});

Deno.test("flags: values from the environment and config are named by their source in errors", () => {
  assertEquals(problems(["--db", "x"], { T_PORT: "eighty" }), [
    'T_PORT must be a whole number from 0 to 65535, got "eighty"',
  ]);
  const files = { c: JSON.stringify({ mode: "fast", db: "x" }) };
  assertEquals(problems(["--config", "c"], {}, files), [
    'mode in --config c must be one of production, test, got "fast"',
  ]);
});

Deno.test("flags: --help wins over every problem and lists every flag with its variable and default", () => {
  const r = parseFlags(spec, ["--nope", "--help"], sources());
  assert(r.help);
  const text = formatHelp(spec);
  for (const f of spec.flags) assert(text.includes(`--${f.name}`), `help lists --${f.name}`);
  for (const env of ["T_PORT", "T_MODE", "T_DB", "T_COMPONENTS", "T_TOKEN"]) {
    assert(text.includes(env), env);
  }
  assert(text.includes("(default: 8441)"));
  assert(text.includes("--token-file FILE"));
  assert(text.includes("--component-file FILE"));
  assert(text.includes("--config FILE"));
  assert(text.startsWith("usage: deno task thing [flags]\n"));
});

Deno.test("flags: a spec with a reserved or repeated name is a programming error", () => {
  assertThrows(
    () => parseFlags({ ...spec, flags: [{ name: "help", type: "bool", help: "" }] }, []),
    Error,
    "reserved",
  );
  assertThrows(
    () => parseFlags({ ...spec, flags: [spec.flags[0], spec.flags[0]] }, []),
    Error,
    "declared twice",
  );
});

Deno.test("flags: a multiline secret file is taken whole; a one-line secret file is not", () => {
  const pemSpec: CommandSpec = {
    name: "t",
    summary: "",
    flags: [{ name: "key", type: "string", help: "a PEM key", secret: true, multiline: true }],
  };
  const pem = "-----BEGIN PRIVATE KEY-----\nAAAA\nBBBB\n-----END PRIVATE KEY-----\n";
  const r = parseFlags(pemSpec, ["--key-file", "k.pem"], sources({}, { "k.pem": pem }));
  assertEquals(r.values.key, pem.trim());
  const e = assertThrows(
    () => parseFlags(pemSpec, ["--key-file", "empty"], sources({}, { empty: "\n" })),
    UsageError,
  );
  assertEquals((e as UsageError).problems, ["--key-file empty must hold a value"]);
});
