/**
 * Starting a server on a socket and parsing command-line flags, shared by
 * `servers/kms/main.ts` and `servers/mtms/main.ts`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { HsmMode } from "../../src/hsm/mod.ts";
import { ValidationError } from "../../src/protocol/errors.ts";
import type { Logger } from "./log.ts";

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
  }, handler);
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

/**
 * Serves an {@link App} on a socket and logs `<name>.started` / `<name>.stopped`.
 *
 * @param name the server's name in log events (`kms`, `mtms`).
 * @param app the handler and its close.
 * @param options `port`, `hostname` and the logger.
 * @returns the running server; `shutdown` stops it, then closes the app.
 */
export function serveApp(
  name: string,
  app: App,
  options: { port?: number; hostname?: string; log: Logger },
): RunningApp {
  const running = serveHandler(app.handler, { port: options.port, hostname: options.hostname });
  options.log.log("info", `${name}.started`, { url: running.url });
  return {
    ...running,
    handler: app.handler,
    async shutdown() {
      await running.shutdown();
      await app.close();
      options.log.log("info", `${name}.stopped`, {});
    },
  };
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
 * (or `<PREFIX>_TOKEN`), plus server-specific string flags.
 *
 * Key components and the token are best passed through the environment, so
 * they do not show in the process list.
 *
 * @param args command-line arguments.
 * @param options `envPrefix` (e.g. `KMS`), `defaults` for port and db, `extra` flag names.
 * @returns the flags.
 * @throws {ValidationError} for an unknown flag or a bad port.
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
  return {
    port,
    hostname: (values.hostname as string | undefined) ?? "127.0.0.1",
    db: (values.db as string | undefined) ?? env("DATABASE_URL") ?? options.defaultDb,
    lmkComponents: comps,
    lmkKcv: (values["lmk-kcv"] as string | undefined) ?? env("LMK_KCV"),
    hsmMode,
    token: (values.token as string | undefined) ?? env("TOKEN"),
    extra,
  };
}
