/**
 * The key ceremony: `deno task ceremony <step>` makes the key components of
 * the LMK, PK and MAK, each custodian's in a file of their own, and the
 * ceremony record that names who took part and every KCV, never a key.
 *
 *   generate  a fresh random component for one custodian, with its KCV
 *   enter     a component the custodian types (a new one, or a lost file
 *             re-entered from its paper copy, checked against its KCV)
 *   combine   checks two or more components against their KCVs, forms the
 *             key in memory only, and writes the record with the combined KCV
 *   log       checks the ceremony log's hash chain and prints it
 *
 * A component file holds one line, `CUSTODIAN:KEY:KCV`, the form the servers
 * read with `--lmk-component-file` (mode 0600, created new: never
 * overwritten). Every step appends a line to the ceremony log (`--log`), each
 * line carrying the SHA-256 of the line before it, so a changed, removed or
 * reordered step shows.
 *
 * The key types and lengths come from the HSM's own tables: the LMK as
 * `LMK_TYPES` (AES-256 or triple-length TDES), PK and MAK as `KEY_TEMPLATES`
 * (TDES, 24 and 16 bytes). KCVs: ANSI X9.24-1 annex A (CMAC for AES, legacy
 * for TDES).
 *
 * @module
 */
import { loadCore } from "../src/core/mod.ts";
import { fromHex, randomBytes, setOddParity, toHex, zeroize } from "../src/crypto/mod.ts";
import {
  checkNotDegenerate,
  combineComponents,
  CUSTODIAN_PATTERN,
  HsmError,
  KEY_TEMPLATES,
  keyCheckValue,
  LMK_TYPES,
  type LmkAlgorithm,
  type LmkComponent,
  testLmkSource,
} from "../src/hsm/mod.ts";
import {
  type CommandSpec,
  type FlagSpec,
  type Invocation,
  runCommand,
  UsageError,
} from "./flags.ts";
import { appendChained, ChainError, readChain } from "./_chain.ts";

/** The keys a ceremony makes. */
const KEYS = ["lmk", "pk", "mak"] as const;
type KeyName = typeof KEYS[number];

/** Length and algorithm of each key, from the HSM's tables. */
function keyType(
  key: KeyName,
  algorithm: LmkAlgorithm,
): { length: number; algorithm: LmkAlgorithm } {
  if (key === "lmk") return { length: LMK_TYPES[algorithm].length, algorithm };
  return {
    length: (key === "pk" ? KEY_TEMPLATES.PK : KEY_TEMPLATES.MAK).length,
    algorithm: "tdes",
  };
}

const KEY_FLAG: FlagSpec = {
  name: "key",
  type: "string",
  help: "which key the component belongs to",
  choices: KEYS,
  required: true,
};
const ALGORITHM_FLAG: FlagSpec = {
  name: "algorithm",
  type: "string",
  help: "the LMK's algorithm (PK and MAK are always TDES)",
  choices: ["aes", "tdes"],
  default: "aes",
};
const LOG_FLAG: FlagSpec = {
  name: "log",
  type: "string",
  help: "the ceremony log every step is appended to",
  default: "ceremony.log",
  metavar: "FILE",
};
const CUSTODIAN_FLAG: FlagSpec = {
  name: "custodian",
  type: "string",
  help: "who holds this component (letters, digits, . _ @ -)",
  required: true,
  metavar: "NAME",
};
const OUT_FLAG: FlagSpec = {
  name: "out",
  type: "string",
  help: "the component file to create (mode 0600; an existing file is never overwritten)",
  required: true,
  metavar: "FILE",
};

const SPECS: Record<string, CommandSpec> = {
  generate: {
    name: "deno task ceremony generate",
    summary: "Generates a random key component for one custodian and writes it with its KCV.",
    flags: [KEY_FLAG, ALGORITHM_FLAG, CUSTODIAN_FLAG, OUT_FLAG, LOG_FLAG],
  },
  enter: {
    name: "deno task ceremony enter",
    summary: "Reads a component the custodian types on stdin (hex), checks it against its KCV, " +
      "and writes it. Re-entering a lost component: give the KCV from the ceremony record.",
    flags: [
      KEY_FLAG,
      ALGORITHM_FLAG,
      CUSTODIAN_FLAG,
      OUT_FLAG,
      LOG_FLAG,
      {
        name: "kcv",
        type: "string",
        help: "the component's KCV, as on the custodian's paper copy",
        required: true,
      },
    ],
  },
  combine: {
    name: "deno task ceremony combine",
    summary: "Checks the components against their KCVs, forms the key in memory and writes the " +
      "ceremony record with the combined KCV. The key itself is never written.",
    flags: [
      KEY_FLAG,
      ALGORITHM_FLAG,
      LOG_FLAG,
      {
        name: "component",
        type: "list",
        help: "a custodian's component, CUSTODIAN:KEY:KCV",
        secret: true,
      },
      {
        name: "expect-kcv",
        type: "string",
        help: "the combined KCV recorded earlier, to check against",
      },
      {
        name: "record",
        type: "string",
        help: "where to write the ceremony record (JSON)",
        metavar: "FILE",
      },
    ],
  },
  log: {
    name: "deno task ceremony log",
    summary: "Checks the ceremony log's hash chain and prints its steps.",
    flags: [LOG_FLAG],
  },
};

/** A component file's one line. */
function componentLine(custodian: string, key: Uint8Array, kcv: string): string {
  return `${custodian}:${toHex(key)}:${kcv}\n`;
}

/**
 * Creates the component file (new only, mode 0600) and logs the step; the
 * log is checked before the file is made, and the file removed if the step
 * cannot be logged, so a step is either both or neither.
 */
async function writeComponent(
  path: string,
  line: string,
  log: string,
  step: Record<string, unknown>,
): Promise<void> {
  await readChain(log);
  try {
    await Deno.writeTextFile(path, line, { createNew: true, mode: 0o600 });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new UsageError([`--out ${path} exists: a component file is never overwritten`]);
    }
    throw e;
  }
  try {
    await Deno.chmod(path, 0o600);
    await appendChained(log, step);
  } catch (e) {
    await Deno.remove(path);
    throw e;
  }
}

function checkCustodian(custodian: string): void {
  if (!CUSTODIAN_PATTERN.test(custodian)) {
    throw new UsageError([`--custodian must be 1 to 64 letters, digits, ".", "_", "@" or "-"`]);
  }
}

const kcvBytes = (algorithm: LmkAlgorithm) => algorithm === "aes" ? 5 : 3;

async function generate({ values }: Invocation): Promise<void> {
  const key = values.key as KeyName;
  const t = keyType(key, values.algorithm as LmkAlgorithm);
  const custodian = values.custodian as string;
  checkCustodian(custodian);
  const core = await loadCore();
  let part = randomBytes(t.length);
  if (t.algorithm === "tdes") part = setOddParity(part);
  try {
    checkNotDegenerate("the generated component", part, t.algorithm);
    const kcv = await keyCheckValue(part, t.algorithm, kcvBytes(t.algorithm), core);
    await writeComponent(
      values.out as string,
      componentLine(custodian, part, kcv),
      values.log as string,
      {
        step: "component_generated",
        key,
        algorithm: t.algorithm,
        custodian,
        kcv,
        file: values.out as string,
      },
    );
    console.log(
      `${key.toUpperCase()} component for ${custodian}: KCV ${kcv}, written to ${values.out}`,
    );
  } finally {
    zeroize(part);
  }
}

/** Reads one line from stdin without echo when stdin is a terminal. */
async function readSecretLine(prompt: string): Promise<string> {
  const tty = Deno.stdin.isTerminal();
  if (tty) {
    await Deno.stderr.write(new TextEncoder().encode(prompt));
    Deno.stdin.setRaw(true);
  }
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null || buf[0] === 0x0a || buf[0] === 0x0d) break;
      bytes.push(buf[0]);
    }
  } finally {
    if (tty) {
      Deno.stdin.setRaw(false);
      await Deno.stderr.write(new TextEncoder().encode("\n"));
    }
  }
  const text = new TextDecoder().decode(new Uint8Array(bytes)).replace(/\s+/g, "");
  bytes.fill(0);
  return text;
}

async function enter({ values }: Invocation): Promise<void> {
  const key = values.key as KeyName;
  const t = keyType(key, values.algorithm as LmkAlgorithm);
  const custodian = values.custodian as string;
  checkCustodian(custodian);
  const given = (values.kcv as string).toUpperCase();
  if (!/^(?:[0-9A-F]{2}){3,16}$/.test(given)) {
    throw new UsageError([`--kcv must be 3 to 16 bytes of hex`]);
  }
  const typed = await readSecretLine(`${key.toUpperCase()} component for ${custodian} (hex): `);
  if (!/^[0-9A-Fa-f]*$/.test(typed) || typed.length !== 2 * t.length) {
    throw new UsageError([
      `the component must be ${t.length} bytes of hex (${2 * t.length} digits); ` +
      `${typed.length} characters were typed (not shown)`,
    ]);
  }
  const part = fromHex(typed.toUpperCase());
  try {
    const kcv = await keyCheckValue(part, t.algorithm, given.length / 2, await loadCore());
    if (kcv !== given) {
      await appendChained(values.log as string, {
        step: "component_entry_refused",
        key,
        custodian,
        kcv: given,
        reason: "kcv_mismatch",
      });
      throw new HsmError(
        "component_kcv",
        `the typed component does not match KCV ${given}: type it again`,
      );
    }
    await writeComponent(
      values.out as string,
      componentLine(custodian, part, kcv),
      values.log as string,
      {
        step: "component_entered",
        key,
        algorithm: t.algorithm,
        custodian,
        kcv,
        file: values.out as string,
      },
    );
    console.log(
      `${key.toUpperCase()} component for ${custodian}: KCV ${kcv} checked, written to ${values.out}`,
    );
  } finally {
    zeroize(part);
  }
}

function parseComponentLine(line: string, i: number): LmkComponent {
  const m = /^([^:]+):([0-9A-Fa-f]+):([0-9A-Fa-f]+)$/.exec(line.trim());
  if (m === null) {
    throw new UsageError([
      `component ${i + 1}: expected CUSTODIAN:KEY:KCV (${line.length} characters given)`,
    ]);
  }
  return { custodian: m[1], key: m[2], kcv: m[3] };
}

async function combine({ values }: Invocation): Promise<void> {
  const key = values.key as KeyName;
  const t = keyType(key, values.algorithm as LmkAlgorithm);
  const lines = (values.component as string[] | undefined) ?? [];
  if (lines.length < 2) {
    throw new UsageError([
      `two or more --component-file (or --component) are needed (dual control), got ${lines.length}`,
    ]);
  }
  const components = lines.map(parseComponentLine);
  const core = await loadCore();
  const expectKcv = values["expect-kcv"] as string | undefined;
  const { key: formed, kcv } = await combineComponents(components, t.algorithm, core, {
    length: t.length,
    what: key.toUpperCase(),
    requireCustodians: true,
    expectedKcv: expectKcv,
  });
  try {
    if (key === "lmk" && testLmkSource(formed, t.algorithm) !== undefined) {
      throw new HsmError("weak_key", "the combined LMK is a published test key");
    }
  } finally {
    zeroize(formed);
  }
  const record = {
    ceremony: `${key.toUpperCase()} formed from ${components.length} components`,
    key,
    algorithm: t.algorithm,
    at: new Date().toISOString(),
    custodians: components.map((c) => ({
      custodian: c.custodian,
      componentKcv: String(c.kcv).toUpperCase(),
    })),
    combinedKcv: kcv,
  };
  await appendChained(values.log as string, { step: "key_combined", ...record });
  const text = JSON.stringify(record, null, 2) + "\n";
  if (values.record !== undefined) {
    await Deno.writeTextFile(values.record as string, text, { createNew: true });
  }
  console.log(text.trimEnd());
}

async function showLog({ values }: Invocation): Promise<void> {
  const entries = await readChain(values.log as string);
  for (const e of entries) console.log(JSON.stringify(e));
  console.error(`${values.log}: ${entries.length} steps, hash chain intact`);
}

const STEPS: Record<string, (inv: Invocation) => Promise<void>> = {
  generate,
  enter,
  combine,
  log: showLog,
};

/** The usage line when no step or an unknown one is given. */
export function usage(): string {
  return "usage: deno task ceremony <generate|enter|combine|log> [flags]   (--help after a step lists its flags)";
}

if (import.meta.main) {
  const [step, ...rest] = Deno.args;
  if (step === "--help" || step === "-h") {
    console.log(usage());
    for (const [name, s] of Object.entries(SPECS)) console.log(`  ${name.padEnd(9)} ${s.summary}`);
    Deno.exit(0);
  }
  if (step === undefined || !(step in STEPS)) {
    console.error(
      step === undefined ? usage() : `unknown step ${JSON.stringify(step)}; ${usage()}`,
    );
    Deno.exit(2);
  }
  await runCommand(SPECS[step], rest, STEPS[step], [HsmError, RangeError, ChainError]);
}
