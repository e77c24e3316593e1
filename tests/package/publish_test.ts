/**
 * The library as JSR would publish it: `deno publish --dry-run` succeeds, and
 * the package holds the library, its licence and README, and nothing of the
 * servers, tests, benchmarks or CI.
 */
import { assert, assertEquals } from "@std/assert";

const ROOT = new URL("../../", import.meta.url);

Deno.test("publish: the dry run passes and ships only the library", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
  const files = [...text.matchAll(/file:\/\/\S+?\/((?:src|LICENSE|README)\S*)/g)].map((m) => m[1]);
  const root = ROOT.pathname;
  const shipped = [...text.matchAll(/file:\/\/(\S+)/g)].map((m) => m[1].replace(root, ""));
  assert(shipped.includes("LICENSE"), "LICENSE is shipped");
  assert(shipped.includes("README.md"), "README.md is shipped");
  assert(shipped.includes("src/core/wasm/tmk_core.wasm"), "the built core is shipped");
  for (const f of shipped) {
    assert(
      /^(LICENSE|README\.md|deno\.json|src\/(core|crypto|keyblock|pki)\/)/.test(f),
      `only the library is shipped, not ${f}`,
    );
  }
  assert(files.length > 20, `the dry run lists the package's files:\n${text}`);
});

Deno.test("publish: deno doc --lint is clean on every export of deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const entries = [...new Set(Object.values(config.exports as Record<string, string>))];
  assertEquals(entries.length, 4, entries.join(", "));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...entries],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
  assertEquals(text.split("\n").filter((l) => l.startsWith("error")), []);
});
