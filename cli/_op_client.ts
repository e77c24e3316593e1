/**
 * The operator client's plumbing: who signs (an enrolled operator's Ed25519
 * key, or the bootstrap administrator's secret), one signed request to a
 * server, and how answers are printed (readable tables, or JSON).
 *
 * @module
 */
import { signOperatorRequest } from "../src/protocol/operator_request.ts";
import { importOperatorKey, signOperatorRequestWithKey } from "../src/protocol/operator_key.ts";
import { UsageError } from "./flags.ts";

/** Who signs the requests. */
export type Signer =
  | { kind: "key"; operator: string; key: CryptoKey }
  | { kind: "token"; token: string };

/** A server's answer that is an error (`{"error": {code, message}}`), with its status. */
export class ServerRefusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(`${status} ${code}: ${message}`);
    this.name = "ServerRefusal";
    this.status = status;
    this.code = code;
  }
}

/** The server could not be reached (refused, reset, TLS). */
export class Unreachable extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot reach ${url}: ${(cause as Error).message ?? String(cause)}`);
    this.name = "Unreachable";
  }
}

/**
 * The signer the flags name: `--operator` with its key (PKCS#8 PEM text),
 * else `--token` (the bootstrap administrator).
 *
 * @throws {UsageError} when neither is complete.
 */
export async function signerOf(
  operator: string | undefined,
  key: string | undefined,
  token: string | undefined,
): Promise<Signer> {
  if (operator !== undefined && operator !== "admin") {
    if (key === undefined) {
      throw new UsageError([
        `--operator ${operator} needs its key: --key-file FILE (or OP_KEY_FILE)`,
      ]);
    }
    try {
      return { kind: "key", operator, key: (await importOperatorKey(key)).privateKey };
    } catch (e) {
      throw new UsageError([`--key-file: ${(e as Error).message}`]);
    }
  }
  if (token === undefined) {
    throw new UsageError([
      "sign with --operator ID and --key-file FILE, or as the bootstrap administrator with " +
      "--token-file FILE (or OP_TOKEN)",
    ]);
  }
  return { kind: "token", token };
}

/** A client of one server for one signer. */
export class OpClient {
  readonly #base: string;
  readonly #signer: Signer;
  readonly #client: Deno.HttpClient | undefined;

  constructor(base: string, signer: Signer, caCert?: string) {
    this.#base = base.replace(/\/+$/, "");
    this.#signer = signer;
    this.#client = caCert ? Deno.createHttpClient({ caCerts: [caCert] }) : undefined;
  }

  /** Sends one signed request; returns its status and response (body unread). */
  async send(
    method: string,
    path: string,
    body?: unknown,
    accept = "application/json",
  ): Promise<Response> {
    const url = new URL(this.#base + path);
    const bytes = body === undefined
      ? new Uint8Array(0)
      : new TextEncoder().encode(JSON.stringify(body));
    const authorization = this.#signer.kind === "key"
      ? await signOperatorRequestWithKey(this.#signer.key, this.#signer.operator, {
        method,
        url,
        body: bytes,
      })
      : await signOperatorRequest(this.#signer.token, { method, url, body: bytes });
    const headers: Record<string, string> = { authorization, accept };
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      return await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : bytes,
        client: this.#client,
      });
    } catch (e) {
      throw new Unreachable(url.origin, e);
    }
  }

  /** A signed request whose answer is JSON; a refusal throws {@link ServerRefusal}. */
  async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const r = await this.send(method, path, body);
    const text = await r.text();
    let parsed: unknown = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      throw new ServerRefusal(r.status, "not_json", `the answer is not JSON: ${text.slice(0, 80)}`);
    }
    if (r.status >= 400) {
      const e = (parsed as { error?: { code?: string; message?: string } })?.error;
      throw new ServerRefusal(r.status, e?.code ?? "error", e?.message ?? text.slice(0, 200));
    }
    return { status: r.status, body: parsed };
  }

  close(): void {
    this.#client?.close();
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "-";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** Field / value lines of one object, names aligned. */
export function keyValueTable(o: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(o).map((k) => k.length));
  return Object.entries(o).map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join("\n") + "\n";
}

/** A table with a header row and one row per object (the columns given). */
export function rowsTable(rows: readonly Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return "(none)\n";
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(columns), ...cells.map(line)].join("\n") + "\n";
}
