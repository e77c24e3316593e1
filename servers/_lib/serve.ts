/**
 * Starting a server on a socket (plain HTTP, or TLS with the socket limits
 * of `listener.ts`), stopping it on SIGTERM and SIGINT, and parsing the
 * command-line flags shared by `servers/kms/main.ts` and `servers/mtms/main.ts`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { HsmMode } from "../../src/hsm/mod.ts";
import { ValidationError } from "../../src/protocol/errors.ts";
import type { Logger } from "./log.ts";
import { listen, type ServeLimits, type ServerTls, setRequestSource } from "./listener.ts";

/** A running server. */
export interface Running {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Port actually bound (useful with port 0). */
  port: number;
  /** Stops accepting, waits for in-flight requests to finish. */
  shutdown(): Promise<void>;
  /** Settles when the server has stopped. */
  finished: Promise<void>;
}

/**
 * Serves a handler on a loopback (or given) address.
 *
 * @param handler the request handler.
 * @param options `port` (0 for any free port), `hostname` (default 127.0.0.1), `signal` to stop.
 * @returns the running server.
 */
export function serveHandler(
  handler: (request: Request) => Promise<Response>,
  options: { port?: number; hostname?: string; signal?: AbortSignal } = {},
): Running {
  const ac = new AbortController();
  options.signal?.addEventListener("abort", () => ac.abort(), { once: true });
  const server = Deno.serve({
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
    signal: ac.signal,
    onListen: () => {},
  }, (request, info) => {
    setRequestSource(request, (info.remoteAddr as Deno.NetAddr).hostname);
    return handler(request);
  });
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    finished: server.finished,
    async shutdown() {
      ac.abort();
      await server.finished;
    },
  };
}

/** A server as a handler plus what to release when it stops (its store). */
export interface App {
  /** The request handler. */
  handler: (request: Request) => Promise<Response>;
  /** Releases what the app holds. */
  close(): Promise<void>;
}

/** A running {@link App}: the socket, the handler for in-process calls, and a shutdown. */
export interface RunningApp extends Running {
  /** The request handler (for in-process calls). */
  handler: (request: Request) => Promise<Response>;
}

/** Where and how {@link serveApp} serves. */
export interface ServeAppOptions {
  port?: number;
  hostname?: string;
  log: Logger;
  /** Serve HTTPS with this certificate and key (and, if set, check client certificates). */
  tls?: ServerTls;
  /**
   * Socket limits. With `tls` or `limits` the server is `listener.ts`'s, with
   * timeouts and connection caps; with neither it is `Deno.serve` on plain HTTP.
   */
  limits?: Partial<ServeLimits>;
}

/**
 * Serves an {@link App} on a socket and logs `<name>.started` / `<name>.stopped`.
 *
 * @param name the server's name in log events (`kms`, `mtms`).
 * @param app the handler and its close.
 * @param options address, logger, TLS and limits.
 * @returns the running server; `shutdown` stops accepting, lets in-flight
 *   requests finish (up to the limits' grace period), closes the app, then
 *   logs `<name>.stopped`.
 */
export async function serveApp(
  name: string,
  app: App,
  options: ServeAppOptions,
): Promise<RunningApp> {
  const running: Running = options.tls || options.limits
    ? await listen(app.handler, {
      port: options.port,
      hostname: options.hostname,
      tls: options.tls,
      limits: options.limits,
      log: options.log,
    })
    : serveHandler(app.handler, { port: options.port, hostname: options.hostname });
  options.log.log("info", `${name}.started`, { url: running.url, tls: options.tls !== undefined });
  let stopping: Promise<void> | undefined;
  return {
    ...running,
    handler: app.handler,
    shutdown() {
      stopping ??= (async () => {
        try {
          await running.shutdown();
        } finally {
          await app.close();
          options.log.log("info", `${name}.stopped`, {});
        }
      })();
      return stopping;
    },
  };
}

/**
 * Stops a server gracefully on SIGTERM or SIGINT: logs `<name>.stopping`,
 * runs its shutdown (stop accepting, finish in-flight requests, close the
 * store, write the stopped record), then exits 0; 1 if the shutdown fails.
 *
 * @param name the server's name in log events.
 * @param server the running server.
 * @param log where `<name>.stopping` goes.
 */
export function stopOnSignals(name: string, server: Running, log: Logger): void {
  let started = false;
  const stop = (signal: Deno.Signal) => {
    if (started) return;
    started = true;
    log.log("info", `${name}.stopping`, { signal });
    server.shutdown().then(() => Deno.exit(0), (e) => {
      log.log("error", `${name}.stop_failed`, {
        error: e instanceof Error ? e.message : String(e),
      });
      Deno.exit(1);
    });
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
}

/** The flags every server takes. */
export interface ServerFlags {
  port: number;
  hostname: string;
  /** SQLite database file. */
  db: string;
  /** LMK components, two or more, each `CUSTODIAN:KEY:KCV` from a distinct custodian. */
  lmkComponents: string[];
  /** The LMK's KCV from the key ceremony record (required in production mode). */
  lmkKcv: string | undefined;
  /** The HSM's mode: "production" (the default) or "test". */
  hsmMode: HsmMode;
  /** The operator API's secret (signs each operator request; at least 16 characters). */
  token: string | undefined;
  /** `--tls-cert-file` and `--tls-key-file` (PEM): serve HTTPS. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** `--ca-root` (PEM file): the root CA the server checks certificates against. */
  caRoot: string | undefined;
  /** `--insecure-http`: plain HTTP asked for explicitly. */
  insecureHttp: boolean;
  /** Other string flags the server declared, by name. */
  extra: Record<string, string | undefined>;
}

/**
 * Parses server flags: `--port`, `--hostname`, `--db` (a SQLite file or a `postgres://`
 * URL; also `<PREFIX>_DATABASE_URL`), `--lmk-component CUSTODIAN:KEY:KCV` (repeatable,
 * also from the environment variable `<PREFIX>_LMK_COMPONENTS`, comma-separated),
 * `--lmk-kcv` (or `<PREFIX>_LMK_KCV`), `--hsm-mode production|test` (or
 * `<PREFIX>_HSM_MODE`; default production, so a server started without it
 * gets every production check and test mode is always asked for), `--token`
 * (or `<PREFIX>_TOKEN`), `--tls-cert-file` and `--tls-key-file` (PEM: serve
 * HTTPS), `--ca-root` (PEM file: the root CA), `--insecure-http` (plain
 * HTTP, asked for explicitly), plus server-specific string flags.
 *
 * Key components and the token are best passed through the environment, so
 * they do not show in the process list.
 *
 * @param args command-line arguments.
 * @param options `envPrefix` (e.g. `KMS`), `defaults` for port and db, `extra` flag names.
 * @returns the flags.
 * @throws {ValidationError} for an unknown flag, a bad port, one TLS file
 *   without the other, or `--insecure-http` with TLS files.
 */
export function parseServerFlags(
  args: string[],
  options: { envPrefix: string; defaultPort: number; defaultDb: string; extra?: string[] },
): ServerFlags {
  const extraOpts: Record<string, { type: "string" }> = {};
  for (const e of options.extra ?? []) extraOpts[e] = { type: "string" };
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: "string" },
        hostname: { type: "string" },
        db: { type: "string" },
        "lmk-component": { type: "string", multiple: true },
        "lmk-kcv": { type: "string" },
        "hsm-mode": { type: "string" },
        token: { type: "string" },
        "tls-cert-file": { type: "string" },
        "tls-key-file": { type: "string" },
        "ca-root": { type: "string" },
        "insecure-http": { type: "boolean" },
        ...extraOpts,
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new ValidationError("invalid_flag", (e as Error).message);
  }
  const portText = (values.port as string | undefined) ?? String(options.defaultPort);
  const port = Number(portText);
  if (!/^[0-9]+$/.test(portText) || port > 65535) {
    throw new ValidationError("invalid_flag", `--port must be 0-65535, got ${portText}`);
  }
  const env = (name: string) => Deno.env.get(`${options.envPrefix}_${name}`);
  const comps = (values["lmk-component"] as string[] | undefined) ??
    (env("LMK_COMPONENTS") ?? "").split(",").filter((s) => s !== "");
  const hsmMode = (values["hsm-mode"] as string | undefined) ?? env("HSM_MODE") ?? "production";
  if (hsmMode !== "production" && hsmMode !== "test") {
    throw new ValidationError(
      "invalid_flag",
      `--hsm-mode (or ${options.envPrefix}_HSM_MODE) must be production or test, got ${
        JSON.stringify(hsmMode.slice(0, 40))
      }`,
    );
  }
  const extra: Record<string, string | undefined> = {};
  for (const e of options.extra ?? []) extra[e] = values[e] as string | undefined;
  const certFile = values["tls-cert-file"] as string | undefined;
  const keyFile = values["tls-key-file"] as string | undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ValidationError(
      "invalid_flag",
      "HTTPS needs both --tls-cert-file and --tls-key-file (or neither, for plain HTTP)",
    );
  }
  const insecureHttp = values["insecure-http"] === true;
  if (insecureHttp && certFile !== undefined) {
    throw new ValidationError(
      "invalid_flag",
      "--insecure-http and --tls-cert-file exclude each other",
    );
  }
  return {
    port,
    hostname: (values.hostname as string | undefined) ?? "127.0.0.1",
    db: (values.db as string | undefined) ?? env("DATABASE_URL") ?? options.defaultDb,
    lmkComponents: comps,
    lmkKcv: (values["lmk-kcv"] as string | undefined) ?? env("LMK_KCV"),
    hsmMode,
    token: (values.token as string | undefined) ?? env("TOKEN"),
    tls: certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : undefined,
    caRoot: values["ca-root"] as string | undefined,
    insecureHttp,
    extra,
  };
}
