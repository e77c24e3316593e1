/**
 * README's "Run it for real" guide, run exactly as written: every `sh` block
 * of that section, in order, as one bash script in an empty directory, with
 * the checkout as `TMK_HOME` and the test database as `DATABASE_URL`. The
 * guide cannot drift from the code: a renamed flag or a changed output fails
 * here.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import postgres from "postgres";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const URL_VAR = "KMS_TEST_DATABASE_URL";
const url = Deno.env.get(URL_VAR) ?? "";
const SCHEMAS = ["tmk_kms", "tmk_mtms"];

/** The guide's shell blocks, in order. */
async function guideScript(): Promise<{ script: string; blocks: number }> {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const start = readme.indexOf("\n## Run it for real\n");
  assert(start >= 0, 'README.md has a "## Run it for real" section');
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return { script: ["set -euo pipefail", ...blocks].join("\n"), blocks: blocks.length };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function dropSchemas(): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    for (const s of SCHEMAS) await sql.unsafe(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  } finally {
    await sql.end();
  }
}

/** Kills what is left of the script's session; a session already gone is the normal case. */
function stopSession(pid: number): void {
  const left = new Deno.Command("pkill", { args: ["-KILL", "-s", String(pid)] }).outputSync();
  // pkill: 0 killed some, 1 found none; anything else is an error.
  assert(left.code === 0 || left.code === 1, `pkill -s ${pid} exited ${left.code}`);
}

Deno.test({
  name: "guide: README's Run it for real, from an empty directory to five delivered TMKs",
  ignore: url === "",
  async fn() {
    const { script, blocks } = await guideScript();
    assertEquals(blocks, 8, "the guide's steps 0 to 7, one block each");
    const dir = await Deno.makeTempDir({ prefix: "guide-" });
    // `deno` on the PATH is the Deno running this test.
    await Deno.mkdir(`${dir}/.bin`);
    await Deno.symlink(Deno.execPath(), `${dir}/.bin/deno`);
    const work = `${dir}/run`;
    await Deno.mkdir(work);
    await Deno.writeTextFile(`${dir}/guide.sh`, script);
    await dropSchemas();
    const env: Record<string, string> = {
      PATH: `${dir}/.bin:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      TMK_HOME: ROOT,
      DATABASE_URL: url,
      KMS_PORT: String(freePort()),
      MTMS_PORT: String(freePort()),
      NO_COLOR: "1",
    };
    for (const k of ["HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
      const v = Deno.env.get(k);
      if (v !== undefined) env[k] = v;
    }
    // Its own session, so that whatever the script leaves running is stopped with it.
    const child = new Deno.Command("setsid", {
      args: ["bash", `${dir}/guide.sh`],
      cwd: work,
      clearEnv: true,
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    try {
      const out = await child.output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, `the guide failed:\n${stdout}\n${stderr}`);
      assertMatch(stdout, /line: 5\/5 terminals have their TMK, 0 failed/);
      assertEquals(stdout.match(/^state\s+delivered$/gm)?.length, 5, stdout);
      assertMatch(stdout, /^ok\s+yes$/m);
      assertMatch(stdout, /^problems\s+0$/m);
      assertMatch(stderr, /ceremony\.log: 12 steps, hash chain intact/);
      const audit = await Deno.readTextFile(`${work}/kms-audit.ndjson`);
      assert(audit.split("\n").filter((l) => l !== "").length > 10, "the audit export has records");
      for (const f of ["kms-lmk.alice", "pk.bob", "card.key", "kms-tls.key"]) {
        assertEquals((await Deno.stat(`${work}/${f}`)).mode! & 0o777, 0o600, `${f} is 0600`);
      }
    } finally {
      clearTimeout(timer);
      stopSession(child.pid);
      await dropSchemas();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
