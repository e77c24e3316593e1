/**
 * Starting a server on a socket (plain HTTP, or TLS with the socket limits
 * of `listener.ts`) and stopping it on SIGTERM and SIGINT. The flags of
 * the server processes are `server_cli.ts`'s.
 *
 * @module
 */
import type { Logger } from "./log.ts";
import { listen, type ServeLimits, type ServerTls } from "./listener.ts";

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

export { parseServerFlags, type ServerFlags } from "./server_cli.ts";
