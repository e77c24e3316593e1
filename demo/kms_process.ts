/**
 * A KMS server in its own process, as the scale tests and the streaming
 * benchmark run it: spawned with `Deno.execPath()` on `servers/kms/main.ts`
 * (test-mode HSM, components and operator token in its environment),
 * stoppable with SIGINT and killable with SIGKILL, its RSS read from /proc.
 *
 * @module
 */
import { loadCore } from "../src/core/mod.ts";
import { signOperatorRequest } from "../src/protocol/mod.ts";
import { randomComponents } from "./setup.ts";

/** Key components and operator token shared by every KMS instance of a run. */
export interface KmsKeys {
  lmk: string[];
  pk: string[];
  mak: string[];
  token: string;
}

/** Fresh random components (two per key, with KCVs) and an operator token. */
export async function makeKeys(): Promise<KmsKeys> {
  const core = await loadCore("wasm");
  return {
    lmk: await randomComponents(2, 32, core),
    pk: await randomComponents(2, 24, core),
    mak: await randomComponents(2, 16, core),
    token: `token-${crypto.randomUUID()}`,
  };
}

const MAIN = new URL("../servers/kms/main.ts", import.meta.url).pathname;

/** A KMS server running in its own process. */
export class KmsProcess {
  readonly url: string;
  readonly #child: Deno.ChildProcess;
  readonly #log: string[];

  private constructor(url: string, child: Deno.ChildProcess, log: string[]) {
    this.url = url;
    this.#child = child;
    this.#log = log;
  }

  /**
   * Starts `deno run servers/kms/main.ts --port 0 --db <db> --insecure-http` and waits until it listens.
   *
   * @param db SQLite file or postgres:// URL.
   * @param keys components and token (passed in the environment).
   * @param args more flags (flow B: `--kms-ca-cert`, `--kms-ca-key-block`).
   * @returns the running process.
   */
  static async start(db: string, keys: KmsKeys, args: string[] = []): Promise<KmsProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "--port", "0", "--db", db, "--insecure-http", ...args],
      env: {
        KMS_LMK_COMPONENTS: keys.lmk.join(","),
        KMS_HSM_MODE: "test",
        KMS_PK_COMPONENTS: keys.pk.join(","),
        KMS_MAK_COMPONENTS: keys.mak.join(","),
        KMS_TOKEN: keys.token,
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const log: string[] = [];
    const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let url: string | undefined;
    const deadline = Date.now() + 60_000;
    while (url === undefined) {
      const r = await Promise.race([
        lines.read(),
        new Promise<"timeout">((res) => setTimeout(() => res("timeout"), deadline - Date.now())),
      ]);
      if (r === "timeout" || r.done) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        await child.status;
        throw new Error(`KMS did not start: ${log.join("\n")}${buf}`);
      }
      buf += r.value;
      const m = /KMS listening on (\S+)/.exec(buf);
      if (m) url = m[1].replace(/\/$/, "");
    }
    log.push(buf);
    // Keep draining stderr so the server never blocks on a full pipe.
    (async () => {
      try {
        for (;;) {
          const r = await lines.read();
          if (r.done) return;
          log.push(r.value);
        }
      } catch { /* the process was killed: its pipe closed */ }
    })();
    return new KmsProcess(url, child, log);
  }

  /** The server's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** The server's resident set size in bytes, from /proc (Linux). */
  async rss(): Promise<number> {
    const status = await Deno.readTextFile(`/proc/${this.#child.pid}/status`);
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (!m) throw new Error(`no VmRSS in /proc/${this.#child.pid}/status`);
    return Number(m[1]) * 1024;
  }

  /** The server's stderr so far (JSON log lines). */
  get log(): string {
    return this.#log.join("");
  }

  /** kill -9: no shutdown, no flush, transactions in flight lost. */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already exited */ }
    await this.#child.status;
  }

  /** Graceful stop (SIGINT: the server shuts down and closes its store). */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGINT");
    } catch { /* already exited */ }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    await this.#child.status;
    clearTimeout(timer);
  }

  /**
   * One JSON call.
   *
   * @param method HTTP method.
   * @param path path under the server.
   * @param body JSON body, if any.
   * @param token the operator secret (the request is signed).
   * @returns status and parsed body.
   */
  async call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (token) {
      headers.authorization = await signOperatorRequest(token, {
        method,
        url: `${this.url}${path}`,
        body: new TextEncoder().encode(text ?? ""),
      });
    }
    const r = await fetch(`${this.url}${path}`, { method, headers, body: text });
    return { status: r.status, body: await r.json() };
  }
}
