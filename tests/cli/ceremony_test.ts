/**
 * `deno task ceremony`, run as a custodian runs it: component files with
 * their KCVs, the combined KCV, the chained ceremony log, and every refusal
 * as one line with exit status 2. KCVs are checked against node:crypto.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { createCipheriv } from "node:crypto";

const CLI = new URL("../../cli/ceremony.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function ceremony(dir: string, args: string[], stdin = ""): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", CLI, ...args],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const out = await child.output();
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: dec(out.stdout), stderr: dec(out.stderr) };
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();
}

function unhex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));
}

/** AES CMAC of one zero block (SP 800-38B): E_K(K1), K1 = dbl(E_K(0)). */
function aesCmacKcv(key: Uint8Array, bytes: number): string {
  const ecb = (k: Uint8Array, b: Uint8Array) => {
    const c = createCipheriv(`aes-${8 * k.length}-ecb`, k, null);
    c.setAutoPadding(false);
    return new Uint8Array(c.update(b));
  };
  const l = ecb(key, new Uint8Array(16));
  const k1 = new Uint8Array(16);
  for (let i = 0; i < 16; i++) k1[i] = ((l[i] << 1) | (i < 15 ? l[i + 1] >> 7 : 0)) & 0xff;
  if (l[0] & 0x80) k1[15] ^= 0x87;
  return hex(ecb(key, k1)).slice(0, 2 * bytes);
}

/** TDES of a zero block (the legacy KCV), two- or three-key. */
function tdesKcv(key: Uint8Array, bytes: number): string {
  const k = key.length === 16 ? new Uint8Array([...key, ...key.subarray(0, 8)]) : key;
  const c = createCipheriv("des-ede3-cbc", k, new Uint8Array(8));
  c.setAutoPadding(false);
  return hex(new Uint8Array(c.update(new Uint8Array(8)))).slice(0, 2 * bytes);
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, i) => x ^ b[i]);
}

function oddParity(k: Uint8Array): Uint8Array {
  return k.map((b) => {
    let ones = 0;
    for (let i = 1; i < 8; i++) ones += (b >> i) & 1;
    return (b & 0xfe) | (ones % 2 === 0 ? 1 : 0);
  });
}

async function readComponent(
  path: string,
): Promise<{ custodian: string; key: Uint8Array; kcv: string }> {
  const line = await Deno.readTextFile(path);
  const m = /^([^:]+):([0-9A-F]+):([0-9A-F]+)\n$/.exec(line);
  assert(m !== null, `component file line: ${line.length} characters`);
  return { custodian: m[1], key: unhex(m[2]), kcv: m[3] };
}

Deno.test("ceremony: LMK components, combined KCV and log match node:crypto", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const who of ["alice", "bob", "carol"]) {
      const r = await ceremony(dir, [
        "generate",
        "--key",
        "lmk",
        "--custodian",
        who,
        "--out",
        `${who}.comp`,
      ]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals((await Deno.stat(`${dir}/${who}.comp`)).mode! & 0o777, 0o600);
    }
    const comps = await Promise.all(
      ["alice", "bob", "carol"].map((w) => readComponent(`${dir}/${w}.comp`)),
    );
    for (const c of comps) {
      assertEquals(c.key.length, 32);
      assertEquals(c.kcv, aesCmacKcv(c.key, 5));
    }
    const lmk = xor(xor(comps[0].key, comps[1].key), comps[2].key);
    const args = ["combine", "--key", "lmk", "--record", "record.json"];
    for (const w of ["alice", "bob", "carol"]) args.push("--component-file", `${w}.comp`);
    const r = await ceremony(dir, args);
    assertEquals(r.code, 0, r.stderr);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/record.json`));
    assertEquals(record.combinedKcv, aesCmacKcv(lmk, 5));
    assertEquals(record.custodians.map((c: { custodian: string }) => c.custodian), [
      "alice",
      "bob",
      "carol",
    ]);
    const log = await Deno.readTextFile(`${dir}/ceremony.log`);
    assertEquals(log.trim().split("\n").length, 4);
    for (const c of comps) assert(!log.includes(hex(c.key)), "the log holds no component");
    assert(!log.includes(hex(lmk)) && !r.stdout.includes(hex(lmk)), "the key is never written");
    const shown = await ceremony(dir, ["log"]);
    assertEquals(shown.code, 0, shown.stderr);
    assertMatch(shown.stderr, /4 steps, hash chain intact/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ceremony: PK and MAK components are TDES with odd parity and legacy KCVs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [key, len] of [["pk", 24], ["mak", 16]] as const) {
      for (const who of ["a", "b"]) {
        const r = await ceremony(dir, [
          "generate",
          "--key",
          key,
          "--custodian",
          who,
          "--out",
          `${key}.${who}`,
        ]);
        assertEquals(r.code, 0, r.stderr);
      }
      const [a, b] = [
        await readComponent(`${dir}/${key}.a`),
        await readComponent(`${dir}/${key}.b`),
      ];
      assertEquals(a.key.length, len);
      assertEquals(hex(oddParity(a.key)), hex(a.key), "odd parity");
      assertEquals(a.kcv, tdesKcv(a.key, 3));
      const r = await ceremony(dir, [
        "combine",
        "--key",
        key,
        "--component-file",
        `${key}.a`,
        "--component-file",
        `${key}.b`,
      ]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(JSON.parse(r.stdout).combinedKcv, tdesKcv(oddParity(xor(a.key, b.key)), 3));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ceremony: a lost component is re-entered from its paper copy, checked against its KCV", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(
      (await ceremony(dir, ["generate", "--key", "mak", "--custodian", "dora", "--out", "d1"]))
        .code,
      0,
    );
    const lost = await readComponent(`${dir}/d1`);
    const typo = hex(lost.key).replace(/^./, (c) => c === "0" ? "1" : "0");
    const bad = await ceremony(dir, [
      "enter",
      "--key",
      "mak",
      "--custodian",
      "dora",
      "--kcv",
      lost.kcv,
      "--out",
      "d2",
    ], typo + "\n");
    assertEquals(bad.code, 2);
    assertEquals(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assertMatch(bad.stderr, /does not match KCV/);
    assert(!bad.stderr.includes(typo), "the typed component is not shown");
    await assertRejects(() => Deno.stat(`${dir}/d2`), Deno.errors.NotFound);
    const good = await ceremony(
      dir,
      ["enter", "--key", "mak", "--custodian", "dora", "--kcv", lost.kcv, "--out", "d2"],
      hex(lost.key).toLowerCase() + "\n",
    );
    assertEquals(good.code, 0, good.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/d2`), await Deno.readTextFile(`${dir}/d1`));
    const log = await Deno.readTextFile(`${dir}/ceremony.log`);
    assertMatch(log, /"step":"component_entry_refused"/);
    assertMatch(log, /"step":"component_entered"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ceremony: refusals are one line each with exit 2 and leave no file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const help = await ceremony(dir, ["generate", "--help"]);
    assertEquals(help.code, 0);
    for (const f of ["--key", "--algorithm", "--custodian", "--out", "--log"]) {
      assert(help.stdout.includes(f), f);
    }
    const bad = await ceremony(dir, [
      "generate",
      "--key",
      "lmk",
      "--algorithm",
      "des",
      "--bogus",
      "1",
    ]);
    assertEquals(bad.code, 2);
    assertEquals(bad.stderr.trim().split("\n"), [
      "deno task ceremony generate: unknown flag --bogus",
      'deno task ceremony generate: --algorithm must be one of aes, tdes, got "des"',
      "deno task ceremony generate: --custodian is required: who holds this component (letters, digits, . _ @ -)",
      "deno task ceremony generate: --out is required: the component file to create (mode 0600; an existing file is never overwritten)",
      "deno task ceremony generate: see --help",
    ]);
    assertEquals([...Deno.readDirSync(dir)].length, 0, "nothing written");
    assertEquals(
      (await ceremony(dir, ["generate", "--key", "pk", "--custodian", "x", "--out", "c"])).code,
      0,
    );
    const before = await Deno.readTextFile(`${dir}/c`);
    const again = await ceremony(dir, [
      "generate",
      "--key",
      "pk",
      "--custodian",
      "x",
      "--out",
      "c",
    ]);
    assertEquals(again.code, 2);
    assertMatch(again.stderr, /exists: a component file is never overwritten/);
    assertEquals(await Deno.readTextFile(`${dir}/c`), before);
    const same = await ceremony(dir, [
      "combine",
      "--key",
      "pk",
      "--component-file",
      "c",
      "--component-file",
      "c",
    ]);
    assertEquals(same.code, 2);
    assertMatch(same.stderr, /already entered component 1/);
    const one = await ceremony(dir, ["combine", "--key", "pk", "--component-file", "c"]);
    assertEquals(one.code, 2);
    assertMatch(one.stderr, /two or more/);
    assert(
      !`${bad.stderr}${again.stderr}${same.stderr}${one.stderr}`.includes("    at "),
      "no stack trace",
    );
    const unknown = await ceremony(dir, ["mint"]);
    assertEquals(unknown.code, 2);
    assertMatch(unknown.stderr, /unknown step "mint"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ceremony: a changed, removed or reordered log line is found", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const w of ["a", "b", "c"]) {
      assertEquals(
        (await ceremony(dir, ["generate", "--key", "mak", "--custodian", w, "--out", w])).code,
        0,
      );
    }
    const lines = (await Deno.readTextFile(`${dir}/ceremony.log`)).trim().split("\n");
    const tampered = {
      changed: [lines[0], lines[1].replace('"custodian":"b"', '"custodian":"z"'), lines[2]],
      removed: [lines[0], lines[2]],
      reordered: [lines[1], lines[0], lines[2]],
    };
    for (const [what, ls] of Object.entries(tampered)) {
      await Deno.writeTextFile(`${dir}/ceremony.log`, ls.join("\n") + "\n");
      const r = await ceremony(dir, ["log"]);
      assertEquals(r.code, 2, `${what}: ${r.stderr}`);
      assertMatch(r.stderr, /ceremony\.log line [0-9]+: /, what);
      const more = await ceremony(dir, [
        "generate",
        "--key",
        "mak",
        "--custodian",
        "e",
        "--out",
        `e-${what}`,
      ]);
      assertEquals(more.code, 2, `${what}: nothing is appended to a broken log`);
      await assertRejects(() => Deno.stat(`${dir}/e-${what}`), Deno.errors.NotFound);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ceremony: run as a task from another directory, it writes where it was started", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "--config",
        config,
        "ceremony",
        "generate",
        "--key",
        "mak",
        "--custodian",
        "a",
        "--out",
        "a.comp",
      ],
      cwd: dir,
      // A fresh environment: under `deno task test` this process inherits
      // INIT_CWD, which `deno task` keeps instead of setting its own.
      clearEnv: true,
      env: Object.fromEntries(
        ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"].flatMap((k) => {
          const v = Deno.env.get(k);
          return v === undefined ? [] : [[k, v]];
        }).concat([["NO_COLOR", "1"]]),
      ),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertEquals((await readComponent(`${dir}/a.comp`)).custodian, "a");
    assert((await Deno.stat(`${dir}/ceremony.log`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
