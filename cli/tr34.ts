/**
 * `deno task tr34`: a command line for people who debug TR-34 tokens (ASC X9
 * TR 34-2019) from other systems.
 *
 * - `token`: builds a DER key token, 2-pass (`--nonce`) or 1-pass (`--timestamp`).
 * - `open`: checks a key token as a KRD and prints its header and KCV, never the key.
 * - `explain`: prints each field of any TR-34 token and the rule a field breaks.
 *
 * Flags are read by the shared front end (cli/flags.ts): `--help` after a
 * command lists its flags, and the key may come from `--key-file` or
 * `TR34_KEY` instead of the command line. Exit status: 0 done, 1 the token
 * failed a check (its Tr34Error code is printed), 2 bad usage or an
 * unreadable file.
 *
 * @example
 * ```sh
 * deno task tr34 token --kdh-cert kdh.crt --kdh-key kdh.key --krd-cert krd.crt \
 *   --header A0256K0TB00E0000 --key 0123456789ABCDEFFEDCBA9876543210 --nonce 167EB0E72781E494 > kt.der
 * deno task tr34 open --krd-cert krd.crt --krd-key krd.key --kdh-cert kdh.crt --nonce 167EB0E72781E494 kt.der
 * deno task tr34 explain kt.der
 * ```
 *
 * @module
 */
import { fromHex, importPrivateKeyPem, kcv, toHex, zeroize } from "../src/crypto/mod.ts";
import {
  type ContentCipher,
  createKeyToken,
  explainText,
  explainToken,
  openKeyToken,
  signerOf,
  Tr34Error,
} from "../src/tr34/mod.ts";
import { type CommandSpec, type FlagSpec, formatHelp, parseFlags, UsageError } from "./flags.ts";

const CERT = (name: string, who: string): FlagSpec => ({
  name,
  type: "string",
  required: true,
  metavar: "FILE",
  help: `the ${who} certificate (PEM)`,
});
const KEY_FILE = (name: string, who: string): FlagSpec => ({
  name,
  type: "string",
  required: true,
  metavar: "FILE",
  help: `the ${who} private key (PKCS#8 or PKCS#1 PEM)`,
});
const CRL: FlagSpec = {
  name: "crl",
  type: "string",
  metavar: "FILE",
  help: "the KDH CA's CRL (DER)",
};

const SPECS: Record<string, CommandSpec> = {
  token: {
    name: "deno task tr34 token",
    summary: "Builds a TR-34 key token (DER on standard output or --out): 2-pass with " +
      "--nonce, 1-pass with --timestamp.",
    flags: [
      CERT("kdh-cert", "KDH"),
      KEY_FILE("kdh-key", "KDH"),
      CERT("krd-cert", "KRD"),
      {
        name: "header",
        type: "string",
        required: true,
        metavar: "H",
        help: "the TR-31 key block header, e.g. A0256K0TB00E0000",
      },
      {
        name: "key",
        type: "string",
        required: true,
        secret: true,
        env: "TR34_KEY",
        metavar: "HEX",
        help: "the key to load",
      },
      { name: "nonce", type: "string", metavar: "HEX", help: "the KRD's random number (2-pass)" },
      {
        name: "timestamp",
        type: "string",
        metavar: "T",
        help: 'the signing time (1-pass), ISO 8601 or "now"',
      },
      {
        name: "cipher",
        type: "string",
        default: "aes256",
        choices: ["tdes", "aes128", "aes192", "aes256"],
        help: "the EnvelopedData content cipher",
      },
      CRL,
      { name: "include-cert", type: "bool", help: "carry the KDH certificate in the token" },
      { name: "out", type: "string", metavar: "FILE", help: "write the token here" },
    ],
  },
  open: {
    name: "deno task tr34 open",
    summary: "Checks a key token as its KRD would and prints its header and KCV, never the key.",
    positionals: { usage: "TOKEN (a DER file, or - for standard input)", min: 1, max: 1 },
    flags: [
      CERT("krd-cert", "KRD"),
      KEY_FILE("krd-key", "KRD"),
      CERT("kdh-cert", "KDH"),
      {
        name: "ca",
        type: "list",
        metavar: "FILE",
        help: "a CA certificate trusted to issue KDH certificates (PEM)",
      },
      CRL,
      {
        name: "nonce",
        type: "string",
        metavar: "HEX",
        help: "the random number the token must carry (unchecked when absent)",
      },
      { name: "at", type: "string", metavar: "T", help: "the time of the checks (default now)" },
      {
        name: "window-seconds",
        type: "int",
        min: 1,
        help: "the 1-pass signing time window",
      },
    ],
  },
  explain: {
    name: "deno task tr34 explain",
    summary: "Prints each field of any TR-34 token and the rule a field breaks, if any.",
    positionals: { usage: "TOKEN (a DER file, or - for standard input)", min: 1, max: 1 },
    flags: [],
  },
};

/** The usage line when no command or an unknown one is given. */
export function usage(): string {
  return "usage: deno task tr34 <token|open|explain> [flags]   (--help after a command lists its flags)";
}

/** A problem with the command line or a file it names: exit status 2. */
function usageError(message: string): UsageError {
  return new UsageError([message]);
}

/** Where the command writes. */
export interface Io {
  stdout: (bytes: Uint8Array) => void;
  stderr: (text: string) => void;
  stdin: () => Promise<Uint8Array>;
}

const defaultIo: Io = {
  stdout: (b) => {
    let off = 0;
    while (off < b.length) off += Deno.stdout.writeSync(b.subarray(off));
  },
  stderr: (t) => console.error(t),
  stdin: async () => new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer()),
};

type Values = Record<string, string | number | boolean | string[] | undefined>;

function need(v: Values, name: string): string {
  const x = v[name];
  if (typeof x !== "string" || x === "") throw usageError(`--${name} is required`);
  return x;
}

function readText(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw usageError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

async function readBytes(path: string, what: string, io: Io): Promise<Uint8Array> {
  if (path === "-") return await io.stdin();
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    throw usageError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

function hexArg(v: Values, name: string): Uint8Array {
  try {
    return fromHex(need(v, name));
  } catch {
    throw usageError(`--${name} must be hex with an even number of digits`);
  }
}

function timeArg(s: string, name: string): Date {
  const t = s === "now" ? new Date() : new Date(s);
  if (Number.isNaN(t.getTime())) throw usageError(`--${name} must be an ISO 8601 time`);
  return t;
}

function keyFile(path: string, what: string) {
  try {
    return importPrivateKeyPem(readText(path, what));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw usageError(`${what} ${path} is not an RSA private key PEM: ${(e as Error).message}`);
  }
}

async function tokenCommand(v: Values, io: Io): Promise<void> {
  if ((v.nonce === undefined) === (v.timestamp === undefined)) {
    throw usageError("give exactly one of --nonce (2-pass) and --timestamp (1-pass)");
  }
  const cipher = v.cipher as ContentCipher;
  const key = hexArg(v, "key");
  try {
    const token = await createKeyToken(
      {
        certificate: readText(need(v, "kdh-cert"), "KDH certificate"),
        sign: signerOf(keyFile(need(v, "kdh-key"), "KDH key")),
      },
      {
        krd: readText(need(v, "krd-cert"), "KRD certificate"),
        header: need(v, "header"),
        key,
        nonce: v.nonce === undefined ? undefined : hexArg(v, "nonce"),
        timestamp: v.timestamp === undefined
          ? undefined
          : timeArg(need(v, "timestamp"), "timestamp"),
        cipher,
        crl: v.crl === undefined ? undefined : await readBytes(need(v, "crl"), "CRL", io),
        includeCertificate: v["include-cert"] === true,
      },
    );
    if (typeof v.out === "string") Deno.writeFileSync(v.out, token);
    else io.stdout(token);
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw usageError(e.message);
    throw e;
  } finally {
    zeroize(key);
  }
}

async function openCommand(v: Values, file: string, io: Io): Promise<void> {
  const expected = v.nonce === undefined ? undefined : hexArg(v, "nonce");
  const window = v["window-seconds"] as number | undefined;
  let nonceNote = "";
  const opened = await openKeyToken(await readBytes(file, "token", io), {
    krdCertificate: readText(need(v, "krd-cert"), "KRD certificate"),
    krdKey: keyFile(need(v, "krd-key"), "KRD key"),
    kdhCertificate: readText(need(v, "kdh-cert"), "KDH certificate"),
    kdhCas: ((v.ca ?? []) as string[]).map((f) => readText(f, "CA certificate")),
    crl: v.crl === undefined ? undefined : await readBytes(need(v, "crl"), "CRL", io),
    at: v.at === undefined ? undefined : timeArg(need(v, "at"), "at"),
    timestampWindowMs: window === undefined ? undefined : window * 1000,
    freshness: {
      nonce: (n) => {
        if (expected === undefined) nonceNote = " (not checked: no --nonce given)";
        else if (toHex(n) !== toHex(expected)) {
          throw new Tr34Error(
            "nonce_mismatch",
            `the token's random number ${toHex(n)} is not --nonce`,
          );
        }
      },
    },
  });
  try {
    const algorithm = opened.header[7] === "A" ? "aes" : "tdes";
    const method = algorithm === "aes" ? "cmac" : "legacy";
    const check = toHex(await kcv(opened.key, { method, algorithm }));
    const lines = [
      `mode: ${opened.mode}`,
      `header: ${opened.header}`,
      `kcv: ${check} (${algorithm === "aes" ? "AES-CMAC" : "TDES legacy"})`,
      `key length: ${opened.key.length} bytes`,
      `kdh: ${opened.kdh.subjectText}`,
      `cipher: ${opened.cipher}`,
      opened.nonce ? `nonce: ${toHex(opened.nonce)}${nonceNote}` : "",
      opened.timestamp ? `signing time: ${opened.timestamp.toISOString()}` : "",
    ];
    io.stdout(new TextEncoder().encode(lines.filter((l) => l !== "").join("\n") + "\n"));
  } finally {
    zeroize(opened.key);
  }
}

/**
 * Runs the command line `args`.
 *
 * @returns the exit status.
 */
export async function main(args: string[], io: Io = defaultIo): Promise<number> {
  const text = (t: string) => io.stdout(new TextEncoder().encode(t));
  const [cmd, ...rest] = args;
  if (cmd === "--help" || cmd === "-h") {
    text(
      `${usage()}\n${
        Object.entries(SPECS).map(([n, s]) => `  ${n.padEnd(8)} ${s.summary}`).join("\n")
      }\n`,
    );
    return 0;
  }
  const spec = cmd === undefined ? undefined : SPECS[cmd];
  if (spec === undefined) {
    io.stderr(cmd === undefined ? usage() : `unknown command ${JSON.stringify(cmd)}; ${usage()}`);
    return 2;
  }
  try {
    const parsed = parseFlags(spec, rest);
    if (parsed.help) {
      text(formatHelp(spec));
      return 0;
    }
    for (const w of parsed.warnings) io.stderr(`${spec.name}: ${w}`);
    const { values, positionals } = parsed;
    if (cmd === "token") await tokenCommand(values, io);
    else if (cmd === "open") await openCommand(values, positionals[0], io);
    else text(explainText(explainToken(await readBytes(positionals[0], "token", io))) + "\n");
    return 0;
  } catch (e) {
    if (e instanceof Tr34Error) {
      io.stderr(`${spec.name}: ${e.code}: ${e.message}`);
      return 1;
    }
    if (!(e instanceof UsageError)) throw e;
    for (const p of e.problems) io.stderr(`${spec.name}: ${p}`);
    io.stderr(`${spec.name}: see --help`);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
