/**
 * A KMS server in its own process, as the scale tests and the streaming
 * benchmark run it: spawned with `Deno.execPath()` on `servers/kms/main.ts`
 * (test-mode HSM, components and operator token in its environment),
 * stoppable with SIGINT and killable with SIGKILL, its RSS read from /proc.
 * It serves HTTPS with certificates from a CA made once per run and asks for
 * the MTMS's client certificate, which its `call`, `fetch` and `transport`
 * present; `devices` trusts the root only.
 *
 * @module
 */
import { loadCore } from "../src/core/mod.ts";
import {
  fetchTransport,
  signOperatorRequest,
  type TlsTransport,
  tlsTransport,
  type Transport,
} from "../src/protocol/mod.ts";
import { type DemoPki, makeDemoPki, randomComponents, type TlsIdentity } from "./setup.ts";

/** The TLS of the KMS processes of a run: a CA, the KMS's certificate, the MTMS's client one. */
interface ProcessTls {
  pki: DemoPki;
  server: TlsIdentity;
  mtmsClient: TlsIdentity;
}

let processTls: Promise<ProcessTls> | undefined;

/** The CA and certificates every KMS process of this run serves with (made once). */
function tlsOfRun(): Promise<ProcessTls> {
  processTls ??= (async () => {
    const pki = await makeDemoPki(await loadCore("wasm"));
    const [server, mtmsClient] = await Promise.all([
      pki.issueTls("kms-server", "localhost"),
      pki.issueTls("mtms-client", "MTMS"),
    ]);
    return { pki, server, mtmsClient };
  })();
  return processTls;
}

/**
 * Writes the KMS's TLS files (certificate, key, root, CRL) to a new directory.
 *
 * @returns the KMS's flags for them, and the directory.
 */
async function tlsFlags(t: ProcessTls): Promise<{ args: string[]; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "kms-process-tls-" });
  await Deno.writeTextFile(`${dir}/cert.pem`, t.server.cert);
  await Deno.writeTextFile(`${dir}/key.pem`, t.server.key);
  await Deno.writeTextFile(`${dir}/root.pem`, t.pki.rootPem);
  await Deno.writeTextFile(`${dir}/crl.pem`, await t.pki.issueCrl(1n, []));
  return {
    dir,
    args: [
      "--tls-cert-file",
      `${dir}/cert.pem`,
      "--tls-key-file",
      `${dir}/key.pem`,
      "--ca-root",
      `${dir}/root.pem`,
      "--crl-file",
      `${dir}/crl.pem`,
    ],
  };
}

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
  /** Over TLS: the MTMS's transport (client certificate), the devices', the files' directory. */
  readonly #tls?: { mtms: TlsTransport; devices: TlsTransport; dir: string };

  private constructor(
    url: string,
    child: Deno.ChildProcess,
    log: string[],
    tls?: { mtms: TlsTransport; devices: TlsTransport; dir: string },
  ) {
    this.url = url;
    this.#child = child;
    this.#log = log;
    this.#tls = tls;
  }

  /**
   * Starts `deno run servers/kms/main.ts --port 0 --db <db>` and waits until
   * it listens: over HTTPS with certificates from this run's CA, asking for
   * the MTMS's client certificate (S14), or with `--insecure-http` in `args`
   * over plain HTTP.
   *
   * @param db SQLite file or postgres:// URL.
   * @param keys components and token (passed in the environment).
   * @param args more flags (flow B: `--kms-ca-cert`, `--kms-ca-key-block`).
   * @param runFlags `deno run` flags before the script (a benchmark's `--cpu-prof`).
   * @returns the running process.
   */
  static async start(
    db: string,
    keys: KmsKeys,
    args: string[] = [],
    runFlags: string[] = [],
  ): Promise<KmsProcess> {
    const t = args.includes("--insecure-http") ? undefined : await tlsOfRun();
    const files = t ? await tlsFlags(t) : undefined;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        ...runFlags,
        MAIN,
        "--port",
        "0",
        "--db",
        db,
        ...files?.args ?? [],
        ...args,
      ],
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
    // Over TLS, by the name its certificate holds.
    if (t) url = `https://localhost:${new URL(url).port}`;
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
    return new KmsProcess(
      url,
      child,
      log,
      t && files
        ? {
          mtms: tlsTransport([t.pki.rootPem], t.mtmsClient),
          devices: tlsTransport([t.pki.rootPem]),
          dir: files.dir,
        }
        : undefined,
    );
  }

  /** How the MTMS reaches this KMS (over TLS, with its client certificate). */
  get transport(): Transport {
    return this.#tls?.mtms.transport ?? fetchTransport;
  }

  /** How devices reach this KMS (over TLS, trusting the run's root only). */
  get devices(): Transport {
    return this.#tls?.devices.transport ?? fetchTransport;
  }

  /**
   * A request to a path of this KMS, as the MTMS sends it.
   *
   * @param path path under the server.
   * @param init the request's method, headers, body.
   * @returns the response.
   */
  fetch(path: string, init: RequestInit): Promise<Response> {
    return this.transport(new Request(`${this.url}${path}`, init));
  }

  /** Closes the TLS clients and removes the TLS files. */
  async #release(): Promise<void> {
    if (!this.#tls) return;
    this.#tls.mtms.close();
    this.#tls.devices.close();
    await Deno.remove(this.#tls.dir, { recursive: true }).catch(() => {});
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
    await this.#release();
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
    await this.#release();
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
    const r = await this.fetch(path, { method, headers, body: text });
    return { status: r.status, body: await r.json() };
  }
}
