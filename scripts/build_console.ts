/**
 * Builds the operator console's script: `deno task build:console` bundles
 * `web/console/src/main.ts` and its modules into one file,
 * `web/console/console.js`, with `deno bundle` (browser platform, ES
 * module, no source map, nothing fetched at run time). The bundle is
 * checked in; `tests/console/bundle_test.ts` proves it is what this build
 * makes from the sources.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
const ENTRY = "web/console/src/main.ts";
/** The checked-in bundle, relative to the repository. */
export const BUNDLE = "web/console/console.js";

/**
 * Bundles the console's sources.
 *
 * @param root the repository.
 * @returns the bundle's text.
 * @throws {Error} with `deno bundle`'s messages if it fails.
 */
export async function buildConsole(root: URL = ROOT): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tmk-console-" });
  try {
    const out = `${dir}/console.js`;
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "browser", "--format", "esm", "-o", out, ENTRY],
      cwd: decodeURIComponent(root.pathname),
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!r.success) {
      throw new Error(`deno bundle ${ENTRY} failed: ${new TextDecoder().decode(r.stderr).trim()}`);
    }
    return await Deno.readTextFile(out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const text = await buildConsole();
  await Deno.writeTextFile(new URL(BUNDLE, ROOT), text);
  console.log(`${BUNDLE}: ${text.length} characters`);
}
