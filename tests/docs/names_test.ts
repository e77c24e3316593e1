/**
 * The guides name real code: every file and every function, class or
 * constant that docs/ARCHITECTURE.md puts in backticks exists in the
 * repository, so a rename that forgets the guide fails here.
 */
import { assert } from "@std/assert";

const ROOT = new URL("../../", import.meta.url);
const CODE_DIRS = ["src", "servers", "devices", "demo", "cli", "bench", "web", "scripts", "asm"];

/** Every tracked source file's path, relative to the root. */
async function sourceFiles(): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: URL, rel: string): Promise<void> {
    for await (const e of Deno.readDir(dir)) {
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), r);
      else if (/\.(ts|js|mjs|wasm|json|sh|md)$/.test(e.name)) out.push(r);
    }
  }
  for (const d of CODE_DIRS) await walk(new URL(`${d}/`, ROOT), d);
  return out;
}

/** What the guide puts in backticks. */
async function quoted(doc: string): Promise<string[]> {
  const text = await Deno.readTextFile(new URL(doc, ROOT));
  return [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
}

Deno.test("docs: every file docs/ARCHITECTURE.md names exists", async () => {
  const files = await sourceFiles();
  const missing: string[] = [];
  for (const q of await quoted("docs/ARCHITECTURE.md")) {
    const m = /^([A-Za-z0-9_./*-]+\.(?:ts|js|mjs|wasm|sh))(?: .*)?$/.exec(q);
    if (!m) continue;
    const name = m[1];
    if (name.includes("*")) {
      const re = new RegExp(`(^|/)${name.replaceAll(".", "\\.").replaceAll("*", "[^/]*")}$`);
      if (!files.some((f) => re.test(f))) missing.push(name);
    } else if (!files.some((f) => f === name || f.endsWith(`/${name}`))) missing.push(name);
  }
  assert(
    missing.length === 0,
    `files named in docs/ARCHITECTURE.md that do not exist: ${missing.join(", ")}`,
  );
});

Deno.test("docs: every function, class and constant docs/ARCHITECTURE.md names exists", async () => {
  const files = (await sourceFiles()).filter((f) => /\.(ts|js|mjs)$/.test(f));
  const code = (await Promise.all(files.map((f) => Deno.readTextFile(new URL(f, ROOT))))).join(
    "\n",
  );
  const missing: string[] = [];
  for (const q of await quoted("docs/ARCHITECTURE.md")) {
    // `Class.method`, `functionName`, `ClassName`, `CONSTANT_NAME`: identifiers only.
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?(?:\(.*\))?$/.exec(q);
    if (!m || /^(ts|js|mjs|wasm|sh|json|md)$/.test(m[2] ?? "")) continue;
    const names = [m[1], m[2]].filter((n): n is string => n !== undefined);
    const identifierLike = names.some((n) =>
      /[a-z][A-Z]|^[A-Z][a-z]+[A-Z]|^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(n)
    );
    if (!identifierLike) continue;
    for (const n of names) {
      if (!new RegExp(`\\b${n}\\b`).test(code)) missing.push(q);
    }
  }
  assert(
    missing.length === 0,
    `names in docs/ARCHITECTURE.md not found in the code: ${missing.join(", ")}`,
  );
});
