/**
 * The command lines of `deno task kms`, `deno task mtms` and `deno task
 * kms:issue`, run as processes in an empty directory: `--help` lists every
 * flag with its environment variable; bad and missing flags and every
 * refused start (wrong KCV, address in use, PostgreSQL down, a missing
 * file, a short token) end in one line per problem, exit 2, no stack trace
 * and nothing written; secrets come from files or the environment, and a
 * secret on argv draws a warning and never reaches the log.
 */
import { assert, assertEquals, assertFalse, assertMatch, assertStringIncludes } from "@std/assert";
import type { CommandSpec } from "../../cli/flags.ts";
import { loadCore } from "../../src/core/mod.ts";
import { randomComponents } from "../../demo/setup.ts";
import { KMS_COMMAND } from "../../servers/kms/_cli.ts";
import { MTMS_COMMAND } from "../../servers/mtms/_cli.ts";
import { ISSUE_COMMAND } from "../../servers/kms/issue.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const KMS = `${ROOT}servers/kms/main.ts`;
const MTMS = `${ROOT}servers/mtms/main.ts`;
const ISSUE = `${ROOT}servers/kms/issue.ts`;
const TOKEN = "0123456789abcdef0123456789abcdef";
const core = await loadCore();

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a main in `cwd` with only `env` (and NO_COLOR) in its environment. */
async function run(
  main: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Out> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--config", `${ROOT}deno.json`, main, ...args],
    cwd,
    env: { ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function keys() {
  return {
    lmk: await randomComponents(2, 32, core),
    pk: await randomComponents(2, 24, core),
    mak: await randomComponents(2, 16, core),
  };
}

async function kmsEnv(): Promise<Record<string, string>> {
  const k = await keys();
  return {
    KMS_LMK_COMPONENTS: k.lmk.join(","),
    KMS_PK_COMPONENTS: k.pk.join(","),
    KMS_MAK_COMPONENTS: k.mak.join(","),
    KMS_HSM_MODE: "test",
    KMS_TOKEN: TOKEN,
  };
}

/** A refused start: exit 2, exactly the expected lines (plus the hint), no stack trace. */
function refused(out: Out, name: string, lines: string[]): void {
  assertEquals(out.code, 2, out.stderr);
  assertFalse(/^\s+at /m.test(out.stderr), `a stack trace:\n${out.stderr}`);
  assertFalse(out.stderr.includes("Uncaught"), out.stderr);
  const said = out.stderr.split("\n").filter((l) => l.startsWith(`${name}: `));
  for (const line of lines) {
    assert(
      said.some((l) => l.includes(line)),
      `no line with ${JSON.stringify(line)}:\n${out.stderr}`,
    );
  }
}

/** The directory holds nothing (a failed start wrote no file, no directory). */
async function assertEmpty(dir: string): Promise<void> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assertEquals(names, [], `left behind in ${dir}`);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cli-servers-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertHelpListsEverything(out: Out, spec: CommandSpec): void {
  assertEquals(out.code, 0, out.stderr);
  assertStringIncludes(out.stdout, `usage: ${spec.name}`);
  for (const f of spec.flags) {
    assertMatch(out.stdout, new RegExp(`^  --${f.name}\\b`, "m"), `--${f.name} in --help`);
    if (f.env) assertStringIncludes(out.stdout, `env ${f.env}`);
    if (f.secret) assertStringIncludes(out.stdout, `--${f.name}-file FILE`);
    if (f.default !== undefined && f.default !== false) {
      assertStringIncludes(out.stdout, `(default: ${f.default})`);
    }
  }
  assertStringIncludes(out.stdout, "--config FILE");
}

Deno.test("cli: --help of kms, mtms and kms:issue lists every flag, its variable and default", async () => {
  await withDir(async (dir) => {
    assertHelpListsEverything(await run(KMS, ["--help"], dir), KMS_COMMAND);
    assertHelpListsEverything(await run(MTMS, ["--help"], dir), MTMS_COMMAND);
    assertHelpListsEverything(await run(ISSUE, ["--help"], dir), ISSUE_COMMAND);
    for (const f of ["lmk-component", "pk-component", "mak-component", "token", "log-level"]) {
      assert(KMS_COMMAND.flags.some((s) => s.name === f), f);
    }
    await assertEmpty(dir);
  });
});

Deno.test("cli: every bad or missing flag at once, one line each, exit 2, nothing written", async () => {
  await withDir(async (dir) => {
    const kms = await run(KMS, ["--port", "99999", "--hsm-mode", "dev", "--bogus"], dir);
    refused(kms, "deno task kms", [
      "unknown flag --bogus",
      '--port must be a whole number from 0 to 65535, got "99999"',
      '--hsm-mode (or KMS_HSM_MODE) must be production or test, got "dev"',
      "--lmk-component: LMK component: two or more components are needed",
      "--token is required (or KMS_TOKEN, or --token-file)",
      "--pk-component: PK component: two or more components are needed",
    ]);
    const mtms = await run(MTMS, ["--log-level", "loud"], dir);
    refused(mtms, "deno task mtms", [
      '--log-level must be one of debug, info, warn, error, got "loud"',
      "--ca-root is required (or MTMS_CA_ROOT)",
      "--kms-url is required (or MTMS_KMS_URL)",
      "--transport-key is required",
      "--token is required (or MTMS_TOKEN, or --token-file)",
    ]);
    const issue = await run(ISSUE, ["--hsm-workers", "0"], dir);
    refused(issue, "deno task kms:issue", [
      "--order is required",
      "--db is required (or KMS_DATABASE_URL)",
      "--hsm-workers must be a whole number from 1 to",
    ]);
    assertStringIncludes(issue.stderr, "usage: deno task kms:issue --order ORDER-ID");
    await assertEmpty(dir);
  });
});

Deno.test("cli: refused starts are one line, exit 2, and leave no database or directory", async () => {
  await withDir(async (dir) => {
    const env = await kmsEnv();
    const base = ["--insecure-http", "--port", "0"];
    // A short token, checked before the LMK loads (the LMK here is bad too: not reached).
    refused(
      await run(KMS, [...base, "--lmk-kcv", "000000"], dir, { ...env, KMS_TOKEN: "short" }),
      "deno task kms",
      ["--token (or KMS_TOKEN) must be at least 16 characters, got 5"],
    );
    refused(await run(KMS, [...base, "--lmk-kcv", "000000"], dir, env), "deno task kms", [
      "the combined LMK does not match the expected KCV 000000",
    ]);
    refused(await run(KMS, [...base, "--ca-root", "none.pem"], dir, env), "deno task kms", [
      "--ca-root none.pem: no such file",
    ]);
    refused(
      await run(KMS, [...base, "--db", "postgres://u:pw@127.0.0.1:9/x"], dir, env),
      "deno task kms",
      ["database postgres://u:***@127.0.0.1:9/x: the database is not reachable"],
    );
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = String((busy.addr as Deno.NetAddr).port);
      const out = await run(
        KMS,
        ["--insecure-http", "--port", port, "--db", "a/b/kms.db"],
        dir,
        env,
      );
      refused(out, "deno task kms", [`address already in use 127.0.0.1:${port}`]);
    } finally {
      busy.close();
    }
    refused(
      await run(ISSUE, ["--order", "PO-1", "--db", "kms.db"], dir, env),
      "deno task kms:issue",
      [
        "--db kms.db: no such file",
      ],
    );
    await assertEmpty(dir);
  });
});

Deno.test("cli: secrets from files, --config, repeated components; argv secrets warn, never logged", async () => {
  await withDir(async (dir) => {
    const k = await keys();
    const files: string[] = [];
    for (const [name, list] of Object.entries(k)) {
      for (const [i, c] of list.entries()) {
        const path = `${dir}/${name}${i}.txt`;
        await Deno.writeTextFile(path, `${c}\n`, { mode: 0o600 });
        files.push(`--${name}-component-file`, path);
      }
    }
    await Deno.writeTextFile(`${dir}/token.txt`, TOKEN);
    await Deno.writeTextFile(
      `${dir}/kms.json`,
      JSON.stringify({ "hsm-mode": "test", "insecure-http": true, port: 0, db: `${dir}/k.db` }),
    );
    const fromFiles = await startAndStop(
      [...files, "--token-file", `${dir}/token.txt`, "--config", `${dir}/kms.json`],
    );
    assertFalse(fromFiles.includes("warning"), fromFiles);
    assertMatch(fromFiles, /"event":"kms.started"/);

    // The same secrets on argv: taken, with one warning per flag, and in no log line.
    const argv = [
      ...k.lmk.flatMap((c) => ["--lmk-component", c]),
      ...k.pk.flatMap((c) => ["--pk-component", c]),
      ...k.mak.flatMap((c) => ["--mak-component", c]),
      "--token",
      TOKEN,
    ];
    const stderr = await startAndStop([...argv, "--config", `${dir}/kms.json`]);
    for (const f of ["lmk-component", "pk-component", "mak-component", "token"]) {
      assertStringIncludes(stderr, `warning: --${f} on the command line is visible`);
    }
    for (const secret of [TOKEN, ...k.lmk, ...k.pk, ...k.mak]) {
      for (const part of secret.split(":").filter((p) => p.length >= 16)) {
        assertFalse(stderr.includes(part), "a secret on stderr");
      }
    }
    assertMatch(stderr, /"event":"http.request"/);
  });
});

/**
 * Starts the KMS, makes a good and a refused operator call, stops it with
 * SIGTERM; returns its stderr.
 */
async function startAndStop(args: string[]): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--config", `${ROOT}deno.json`, KMS, ...args],
    env: { NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let buf = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + 60_000;
  while (!/KMS listening on (\S+)/.test(buf)) {
    const r = await reader.read();
    if (r.done || Date.now() > deadline) throw new Error(`the KMS did not start:\n${buf}`);
    buf += r.value;
  }
  const url = /KMS listening on (\S+)/.exec(buf)![1];
  assertEquals((await (await fetch(`${url}/healthz`)).json()).status, "ok");
  const bad = await fetch(`${url}/v1/terminals/SN0000001`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assertEquals(bad.status, 401);
  await bad.body?.cancel();
  child.kill("SIGTERM");
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    buf += r.value;
  }
  assertEquals((await child.status).code, 0, buf);
  return buf;
}

/** A task's command from deno.json, as arguments after `deno`. */
async function taskArgs(name: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const task = config.tasks[name];
  const command: string = typeof task === "string" ? task : task.command;
  const [deno, run, ...args] = command.split(" ");
  assertEquals([deno, run], ["deno", "run"]);
  // Run from any directory: the project's config, the main by its full path.
  return [
    run,
    "--config",
    `${ROOT}deno.json`,
    ...args.map((a) => a.endsWith(".ts") ? `${ROOT}${a}` : a),
  ];
}

Deno.test("cli: the kms, mtms, kms:issue, ceremony and ca tasks run with narrow permissions", async () => {
  for (const name of ["kms", "mtms", "kms:issue", "ceremony", "ca"]) {
    const args = await taskArgs(name);
    assertFalse(args.some((a) => a === "-A" || a === "--allow-all"), `${name}: ${args}`);
    assertFalse(args.some((a) => /^--allow-(run|ffi|sys|all)/.test(a)), `${name}: ${args}`);
  }
  await withDir(async (dir) => {
    // The KMS serves with exactly its task's permissions, from its environment variables.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...await taskArgs("kms"),
        "--insecure-http",
        "--port",
        "0",
        "--metrics-port",
        "0",
        "--db",
        `${dir}/kms.db`,
      ],
      cwd: dir,
      env: { ...await kmsEnv(), NO_COLOR: "1" },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    while (!buf.includes("KMS listening on ")) {
      const r = await reader.read();
      if (r.done) break;
      buf += r.value;
    }
    child.kill("SIGTERM");
    for (let r = await reader.read(); !r.done; r = await reader.read()) buf += r.value;
    assertEquals((await child.status).code, 0, buf);
    assertMatch(buf, /"event":"kms.metrics"/);
    assertMatch(buf, /"event":"kms.stopped"/);
    // The others answer --help within their permissions.
    for (const name of ["mtms", "kms:issue", "ca"]) {
      const args = await taskArgs(name);
      const out = await run(args.at(-1)!, ["--help"], dir);
      assertEquals(out.code, 0, out.stderr);
      const perms = await new Deno.Command(Deno.execPath(), {
        args: [
          ...args,
          name === "ca" ? "list" : "--help",
          ...(name === "ca" ? ["--dir", dir] : []),
        ],
        cwd: dir,
        clearEnv: true,
        env: { NO_COLOR: "1" },
        stdin: "null",
      }).output();
      assertEquals(perms.code, 0, new TextDecoder().decode(perms.stderr));
    }
  });
});

Deno.test("cli: the ceremony's component files start a production KMS; --log-level warn", async () => {
  await withDir(async (dir) => {
    const ceremony = `${ROOT}cli/ceremony.ts`;
    const files: string[] = [];
    for (const key of ["lmk", "pk", "mak"]) {
      for (const custodian of ["alice", "bob"]) {
        const out = `${key}-${custodian}.txt`;
        const args = ["generate", "--key", key, "--custodian", custodian, "--out", out];
        assertEquals((await run(ceremony, args, dir)).code, 0);
        files.push(`--${key}-component-file`, `${dir}/${out}`);
      }
    }
    const combined = await run(ceremony, [
      "combine",
      "--key",
      "lmk",
      "--component-file",
      "lmk-alice.txt",
      "--component-file",
      "lmk-bob.txt",
    ], dir);
    assertEquals(combined.code, 0, combined.stderr);
    const kcv = JSON.parse(combined.stdout).combinedKcv;
    await Deno.writeTextFile(`${dir}/token.txt`, TOKEN);
    const stderr = await startAndStop([
      ...files,
      "--lmk-kcv",
      kcv,
      "--token-file",
      `${dir}/token.txt`,
      "--insecure-http",
      "--port",
      "0",
      "--db",
      `${dir}/kms.db`,
      "--log-level",
      "warn",
    ]);
    const levels = stderr.split("\n").filter((l) => l.startsWith("{")).map((l) =>
      JSON.parse(l).level
    );
    assert(levels.length > 0, stderr);
    assertEquals(levels.filter((l) => l === "info" || l === "debug"), [], stderr);
    assertStringIncludes(stderr, '"event":"kms.insecure_http"');
  });
});
