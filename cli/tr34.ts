/**
 * `deno task tr34`: a command line for people who debug TR-34 tokens (ASC X9
 * TR 34-2019) from other systems.
 *
 * - `token`: builds a DER key token, 2-pass (`--nonce`) or 1-pass (`--timestamp`).
 * - `open`: checks a key token as a KRD and prints its header and KCV, never the key.
 * - `explain`: prints each field of any TR-34 token and the rule a field breaks.
 *
 * Exit status: 0 done, 1 bad usage or unreadable file, 2 the token failed a
 * check (the Tr34Error code is printed).
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
import { parseArgs } from "node:util";
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

const USAGE = `usage:
  tr34 token --kdh-cert F --kdh-key F --krd-cert F --header H --key HEX
             (--nonce HEX | --timestamp T) [--cipher tdes|aes128|aes192|aes256]
             [--crl F] [--include-cert] [--out F]
  tr34 open --krd-cert F --krd-key F --kdh-cert F [--ca F]... [--crl F]
            [--nonce HEX] [--at T] [--window-seconds N] TOKEN
  tr34 explain TOKEN
Certificates are PEM; keys are PKCS#8 or PKCS#1 PEM; T is an ISO 8601 time or "now";
TOKEN and --crl are DER (TOKEN may also be "-" for standard input).`;

/** A usage or file error: exit status 1. */
class UsageError extends Error {
  /** @param usage whether to print the usage text after the message. */
  constructor(message: string, readonly usage = true) {
    super(message);
  }
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

type Values = Record<string, string | boolean | string[] | undefined>;

function need(v: Values, name: string): string {
  const x = v[name];
  if (typeof x !== "string" || x === "") throw new UsageError(`--${name} is required`);
  return x;
}

function readText(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as Error).message}`, false);
  }
}

async function readBytes(path: string, what: string, io: Io): Promise<Uint8Array> {
  if (path === "-") return await io.stdin();
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as Error).message}`, false);
  }
}

function hexArg(v: Values, name: string): Uint8Array {
  try {
    return fromHex(need(v, name));
  } catch {
    throw new UsageError(`--${name} must be hex with an even number of digits`);
  }
}

function timeArg(s: string, name: string): Date {
  const t = s === "now" ? new Date() : new Date(s);
  if (Number.isNaN(t.getTime())) throw new UsageError(`--${name} must be an ISO 8601 time`);
  return t;
}

function keyFile(path: string, what: string) {
  try {
    return importPrivateKeyPem(readText(path, what));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(
      `${what} ${path} is not an RSA private key PEM: ${(e as Error).message}`,
      false,
    );
  }
}

async function tokenCommand(v: Values, io: Io): Promise<void> {
  if ((v.nonce === undefined) === (v.timestamp === undefined)) {
    throw new UsageError("give exactly one of --nonce (2-pass) and --timestamp (1-pass)");
  }
  const cipher = (v.cipher ?? "aes256") as ContentCipher;
  if (!["tdes", "aes128", "aes192", "aes256"].includes(cipher)) {
    throw new UsageError(`--cipher must be tdes, aes128, aes192 or aes256, got ${cipher}`);
  }
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
    if (e instanceof TypeError || e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  } finally {
    zeroize(key);
  }
}

async function openCommand(v: Values, file: string, io: Io): Promise<void> {
  const expected = v.nonce === undefined ? undefined : hexArg(v, "nonce");
  const window = v["window-seconds"] === undefined ? undefined : Number(v["window-seconds"]);
  if (window !== undefined && !(window > 0)) {
    throw new UsageError("--window-seconds must be a positive number");
  }
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
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "kdh-cert": { type: "string" },
        "kdh-key": { type: "string" },
        "krd-cert": { type: "string" },
        "krd-key": { type: "string" },
        header: { type: "string" },
        key: { type: "string" },
        nonce: { type: "string" },
        timestamp: { type: "string" },
        cipher: { type: "string" },
        crl: { type: "string" },
        ca: { type: "string", multiple: true },
        at: { type: "string" },
        "window-seconds": { type: "string" },
        "include-cert": { type: "boolean" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    const [cmd, ...rest] = positionals;
    if (values.help || cmd === undefined) throw new UsageError("");
    const one = () => {
      if (rest.length !== 1) throw new UsageError(`${cmd} takes one TOKEN file`);
      return rest[0];
    };
    if (cmd === "token") {
      if (rest.length > 0) throw new UsageError("token takes no file argument");
      await tokenCommand(values, io);
    } else if (cmd === "open") await openCommand(values, one(), io);
    else if (cmd === "explain") {
      const text = explainText(explainToken(await readBytes(one(), "token", io)));
      io.stdout(new TextEncoder().encode(text + "\n"));
    } else throw new UsageError(`unknown command ${cmd}`);
    return 0;
  } catch (e) {
    if (e instanceof Tr34Error) {
      io.stderr(`tr34: ${e.code}: ${e.message}`);
      return 2;
    }
    const m = (e as Error).message;
    const usage = !(e instanceof UsageError) || e.usage;
    io.stderr(m ? `tr34: ${m}${usage ? `\n${USAGE}` : ""}` : USAGE);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
