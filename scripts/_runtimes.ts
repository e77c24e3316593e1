/**
 * The runtimes the @tmk/wasm-core package is tested and benchmarked in, and
 * their installation: Bun and playwright-core from npm into `.runtimes/` (a
 * local, git-ignored folder; pinned versions; nothing installed when the
 * pinned versions are already there), Node.js from PATH, Chromium from
 * Debian's package at /usr/bin/chromium (never downloaded by a tool).
 *
 * @module
 */

/** Pinned npm packages installed into {@link RUNTIMES_DIR}. */
export const NPM_PACKAGES = { "bun": "1.4.5", "playwright-core": "1.65.1" } as const;

/** Where the npm packages go (git-ignored). */
export const RUNTIMES_DIR = new URL("../.runtimes/", import.meta.url);

/** Debian's Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Lowest Node.js major version supported. */
export const NODE_MIN_MAJOR = 20;

/** A path of the local install. */
export function runtimesPath(rel: string): string {
  return decodeURIComponent(new URL(rel, RUNTIMES_DIR).pathname);
}

async function installedVersion(name: string): Promise<string | null> {
  try {
    const text = await Deno.readTextFile(runtimesPath(`node_modules/${name}/package.json`));
    return (JSON.parse(text) as { version?: string }).version ?? null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Installs the pinned npm packages into `.runtimes/` unless they are already there.
 *
 * @returns null when ready, else the reason the install failed
 */
export async function ensureNpmRuntimes(): Promise<string | null> {
  if ((await missingPackages()).length === 0) return null;
  await Deno.mkdir(RUNTIMES_DIR, { recursive: true });
  // Test files run in parallel processes: one installs while the others wait
  // on this lock, then find the packages there.
  const lock = await Deno.open(runtimesPath(".install.lock"), { create: true, write: true });
  try {
    await lock.lock(true);
    const missing = await missingPackages();
    return missing.length === 0 ? null : await install(missing);
  } finally {
    lock.close();
  }
}

async function missingPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const [name, version] of Object.entries(NPM_PACKAGES)) {
    if (await installedVersion(name) !== version) missing.push(`${name}@${version}`);
  }
  return missing;
}

async function install(missing: string[]): Promise<string | null> {
  const pkg = runtimesPath("package.json");
  await Deno.writeTextFile(
    pkg,
    JSON.stringify({ private: true, description: "test runtimes (scripts/_runtimes.ts)" }) + "\n",
  );
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        runtimesPath("."),
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
        ...Object.entries(NPM_PACKAGES).map(([n, v]) => `${n}@${v}`),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    return `npm could not be started: ${(e as Error).message}`;
  }
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join(" | ");
    return `npm install ${missing.join(" ")} failed (exit ${out.code}): ${err}`;
  }
  for (const [name, version] of Object.entries(NPM_PACKAGES)) {
    const got = await installedVersion(name);
    if (got !== version) return `npm install left ${name} at ${got ?? "nothing"}, want ${version}`;
  }
  return null;
}

/** Path of the local Bun binary. */
export function bunPath(): string {
  return runtimesPath("node_modules/.bin/bun");
}

/** Path of the local playwright-core package. */
export function playwrightDir(): string {
  return runtimesPath("node_modules/playwright-core");
}
