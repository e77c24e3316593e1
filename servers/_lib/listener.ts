/**
 * An HTTP/1.1 server, plain or TLS (RFC 9112, RFC 8446), that serves a
 * fetch-style handler and guards its sockets: header, body-read and idle
 * timeouts, a cap on open connections in all and per source address, an
 * optional client certificate checked by the caller (mutual TLS), and a
 * graceful shutdown with a deadline.
 *
 * It is built on `node:http` / `node:https` because `Deno.serve` has no
 * option to request a client certificate and exposes neither the connection
 * nor any timeout; `Deno.listenTls` does not report the peer's certificate
 * either. Deno's `node:https` server does both (`requestCert`,
 * `getPeerCertificate().raw`).
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { ValidationError } from "../../src/protocol/errors.ts";
import { errorBody, errorResponse } from "./errors.ts";
import type { Logger } from "./log.ts";

/** Socket limits of a server. */
export interface ServeLimits {
  /** From the connection's opening (TLS handshake included) to the end of the first request's headers. */
  headersTimeoutMs: number;
  /** Longest wait for the next piece of a request body the handler is reading. */
  bodyReadTimeoutMs: number;
  /** A connection with no request in flight (keep-alive, or a later request's headers) is closed after this. */
  idleTimeoutMs: number;
  /** Open connections in all. */
  maxConnections: number;
  /** Open connections from one source address. */
  maxConnectionsPerSource: number;
  /** At shutdown, in-flight requests get this long to finish before their connections are closed. */
  shutdownGraceMs: number;
}

/** The limits a server gets unless told otherwise. */
export const DEFAULT_LIMITS: Readonly<ServeLimits> = {
  headersTimeoutMs: 10_000,
  bodyReadTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  maxConnections: 1024,
  maxConnectionsPerSource: 64,
  shutdownGraceMs: 10_000,
};

/** The identity a client certificate proved, as the caller's check returns it. */
export interface PeerIdentity {
  /** The certificate's subject, for logs. */
  subject: string;
  /** The certificate (DER). */
  certificate: Uint8Array;
  /**
   * Set when the certificate was sent but failed the check and the server
   * lets the connection go on (a port that devices share, without
   * certificates): a route that needs the identity refuses, naming this.
   */
  refused?: { code: string; message: string };
}

/** TLS settings of a server. */
export interface ServerTls {
  /** Certificate chain (PEM), leaf first. */
  cert: string;
  /** Private key (PEM, PKCS#8 or PKCS#1). */
  key: string;
  /**
   * Asks each client for a certificate and passes it (DER, or `undefined`
   * when none was sent) to this check, once per connection. The check throws
   * to refuse: the connection is closed. What it returns is the request's
   * {@link peerIdentity}.
   */
  checkClient?: (certificate: Uint8Array | undefined) => Promise<PeerIdentity | undefined>;
}

/** Options of {@link listen}. */
export interface ListenOptions {
  port?: number;
  hostname?: string;
  /** Serve TLS with this certificate and key; plain HTTP without. */
  tls?: ServerTls;
  /** Overrides of {@link DEFAULT_LIMITS}. */
  limits?: Partial<ServeLimits>;
  /** Where refusals and timeouts are logged. */
  log?: Logger;
}

/** A listening server. */
export interface Listening {
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish up to the grace period, closes the rest. */
  shutdown(): Promise<void>;
  finished: Promise<void>;
}

const PEERS = new WeakMap<Request, PeerIdentity>();
const SOURCES = new WeakMap<Request, string>();

/**
 * The address a request came from (rate limits per source).
 *
 * @param request a request this module's server passed to its handler.
 * @returns the remote address, or `undefined` (another server, or in process).
 */
export function requestSource(request: Request): string | undefined {
  return SOURCES.get(request);
}

/**
 * Records where a request came from (for servers other than this module's).
 *
 * @param request the request.
 * @param source its remote address.
 */
export function setRequestSource(request: Request, source: string): void {
  SOURCES.set(request, source);
}

/**
 * The identity the client certificate of a request's connection proved.
 *
 * @param request a request this module's server passed to its handler.
 * @returns the identity, or `undefined` (no client certificate, or another server).
 */
export function peerIdentity(request: Request): PeerIdentity | undefined {
  return PEERS.get(request);
}

/** Per-connection state. */
interface Conn {
  /** The TCP socket (for TLS, the socket under the TLS layer). */
  socket: Socket;
  source: string;
  inFlight: number;
  timer?: ReturnType<typeof setTimeout>;
  /** The client certificate's check at the handshake, TLS with client certificates only. */
  peer?: Promise<PeerIdentity | undefined>;
  /** The same check again (per request: a CRL reloaded since the handshake applies). */
  recheck?: () => Promise<PeerIdentity | undefined>;
  /** The signals of the requests in flight. */
  requests: Set<AbortController>;
}

const clientGone = () => new DOMException("the client closed the connection", "AbortError");

/** Aborts the connection's requests with `reason`, then closes it. */
function closeConn(c: Conn, reason: DOMException): void {
  for (const ac of c.requests) if (!ac.signal.aborted) ac.abort(reason);
  c.socket.destroy();
}

function arm(c: Conn, ms: number, onFire: () => void): void {
  clearTimeout(c.timer);
  c.timer = setTimeout(onFire, ms);
}

/** Counts refusals and logs the 1st, 10th, 100th, ... so a flood cannot fill the log. */
function refusalLog(log: Logger | undefined) {
  const counts = new Map<string, number>();
  return (event: string, source: string) => {
    const n = (counts.get(event) ?? 0) + 1;
    counts.set(event, n);
    if (Number.isInteger(Math.log10(n))) log?.log("warn", event, { source, total: n });
  };
}

/** A request's body as a stream that reads only when pulled, with the body-read timeout. */
function bodyStream(
  req: http.IncomingMessage,
  c: Conn,
  limits: ServeLimits,
  onCancel: () => void,
  onGone: () => void,
): ReadableStream<Uint8Array> {
  req.pause();
  let waiting: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  const chunks: Uint8Array[] = [];
  let ended = false;
  let failed: unknown;
  req.on("data", (b: Uint8Array) => {
    chunks.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    req.pause();
    waiting?.resolve();
  });
  req.on("end", () => {
    ended = true;
    waiting?.resolve();
  });
  const fail = (e: unknown) => {
    failed ??= e;
    waiting?.reject(failed);
  };
  // The client went away mid-body ("aborted", or a close before the end): the
  // request's signal is aborted first, so the handler's error is logged as such.
  const gone = () => {
    if (ended) return;
    onGone();
    fail(clientGone());
  };
  req.on("error", gone);
  req.on("close", gone);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (chunks.length === 0 && !ended) {
        if (failed !== undefined) throw failed;
        const got = new Promise<void>((resolve, reject) => (waiting = { resolve, reject }));
        req.resume();
        arm(c, limits.bodyReadTimeoutMs, () => {
          const reason = new DOMException("request body read timed out", "TimeoutError");
          fail(reason);
          closeConn(c, reason);
        });
        try {
          await got;
        } finally {
          clearTimeout(c.timer);
          waiting = undefined;
        }
      }
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else if (ended) controller.close();
    },
    cancel() {
      onCancel();
      req.resume();
    },
  }, { highWaterMark: 0 });
}

function toRequest(
  req: http.IncomingMessage,
  base: string,
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal,
): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  // The target is origin-form (it starts with "/"): joined to the base as text, so that a
  // path starting with "//" stays a path instead of being read as another host.
  return new Request(new URL(base + req.url!), {
    method: req.method,
    headers,
    body,
    signal,
    // @ts-ignore: `duplex` is required for a streamed body and missing from Deno's RequestInit type.
    duplex: "half",
  });
}

async function writeResponse(
  res: http.ServerResponse,
  response: Response,
  close: boolean,
): Promise<void> {
  const cookies = response.headers.getSetCookie();
  for (const [k, v] of response.headers) if (k !== "set-cookie") res.setHeader(k, v);
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (close) res.setHeader("connection", "close");
  res.writeHead(response.status);
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  try {
    while (!res.destroyed) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
    }
  } finally {
    if (res.destroyed) await reader.cancel().catch(() => {});
    res.end();
  }
}

/** What the request handling of one server shares. */
interface ServerState {
  limits: ServeLimits;
  conns: Set<Conn>;
  bySource: Map<string, number>;
  /** The connection of each socket, TCP and TLS. */
  connOf: WeakMap<object, Conn>;
  closing: boolean;
  /** Called when the last in-flight request of a closing server is done. */
  drained: (() => void)[];
  refused: (event: string, source: string) => void;
}

function inFlight(st: ServerState): number {
  let n = 0;
  for (const c of st.conns) n += c.inFlight;
  return n;
}

/** Admits a TCP connection within the caps and starts its headers timeout. */
function admit(st: ServerState, socket: Socket): void {
  const source = socket.remoteAddress ?? "unknown";
  const fromSource = st.bySource.get(source) ?? 0;
  if (st.closing || st.conns.size >= st.limits.maxConnections) {
    st.refused("http.connection_refused_server_cap", source);
    return void socket.destroy();
  }
  if (fromSource >= st.limits.maxConnectionsPerSource) {
    st.refused("http.connection_refused_source_cap", source);
    return void socket.destroy();
  }
  const c: Conn = { socket, source, inFlight: 0, requests: new Set() };
  st.conns.add(c);
  st.connOf.set(socket, c);
  st.bySource.set(source, fromSource + 1);
  arm(c, st.limits.headersTimeoutMs, () => {
    st.refused("http.headers_timeout", source);
    closeConn(c, new DOMException("request headers timed out", "TimeoutError"));
  });
  socket.on("close", () => {
    clearTimeout(c.timer);
    st.conns.delete(c);
    const left = (st.bySource.get(source) ?? 1) - 1;
    if (left === 0) st.bySource.delete(source);
    else st.bySource.set(source, left);
  });
}

/**
 * A request the HTTP parser refused (a malformed request line or header, a header section over
 * node's size cap, both Content-Length and Transfer-Encoding, ...): answered with 431 for
 * oversized headers, 400 otherwise, each with a JSON error naming what was wrong, and the
 * connection closed. The parser's message names the fault, never the bytes sent.
 */
function badRequest(st: ServerState, err: Error & { code?: string }, socket: Socket): void {
  st.refused("http.bad_request", socket.remoteAddress ?? "unknown");
  if (!socket.writable) return void socket.destroy();
  const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
  const body = tooLarge
    ? errorBody("headers_too_large", "the request's header section is too large")
    : errorBody("bad_request", `the request is not valid HTTP/1.1 (${parserFault(err)})`);
  socket.end(
    `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\n` +
      `content-type: application/json\r\ncontent-length: ${body.length}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}

/** The parser's fault, by its code (`HPE_...`), in words; its message can quote input. */
function parserFault(err: Error & { code?: string }): string {
  const code = /^HPE_[A-Z_]+$/.test(err.code ?? "") ? err.code! : "HPE_ERROR";
  if (code === "HPE_ERROR") return "a malformed request line or header";
  return code.slice(4).toLowerCase().replaceAll("_", " ");
}

/** Ties a TLS socket to its TCP connection and runs the client certificate check, if any. */
function secured(
  st: ServerState,
  socket: TLSSocket,
  check: ServerTls["checkClient"],
  log: Logger | undefined,
): void {
  let c: Conn | undefined;
  for (const x of st.conns) {
    if (x.socket.remotePort === socket.remotePort && x.source === socket.remoteAddress) c = x;
  }
  if (!c) return void socket.destroy();
  st.connOf.set(socket, c);
  if (!check) return;
  const raw = socket.getPeerCertificate()?.raw as Uint8Array | undefined;
  const certificate = raw && raw.length > 0 ? new Uint8Array(raw) : undefined;
  c.recheck = () => check(certificate);
  c.peer = c.recheck();
  c.peer.then((p) => {
    if (p?.refused) {
      log?.log("warn", "tls.client_certificate_refused", {
        source: c.source,
        subject: p.subject,
        code: p.refused.code,
      });
    }
  }, (e) => {
    log?.log("warn", "tls.client_refused", {
      source: c.source,
      reason: e instanceof Error ? e.message : String(e),
    });
    socket.destroy();
    c.socket.destroy();
  });
}

/**
 * The identity of a request's connection: the handshake's check (whose
 * refusal closed the connection), then the same check again, so that a
 * certificate revoked by a CRL reloaded since the handshake is refused on a
 * connection kept open.
 *
 * @returns the identity, or null when the check now refuses (the connection is closed).
 */
async function peerOf(st: ServerState, c: Conn): Promise<PeerIdentity | undefined | null> {
  await c.peer;
  try {
    return await c.recheck!();
  } catch {
    st.refused("tls.client_refused_on_request", c.source);
    closeConn(c, new DOMException("the client certificate is no longer valid", "AbortError"));
    return null;
  }
}

/** Methods a fetch `Request` refuses to carry (the Fetch standard's forbidden methods). */
const UNSERVED_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** A refusal before any handler, answered as the handlers' own refusals are. */
const refusal = (code: string, message: string) =>
  errorResponse(new ValidationError(code, message)).response;

/** Serves one request of a connection: the handler, the response, the timers after it. */
async function serveRequest(
  st: ServerState,
  handler: (request: Request) => Promise<Response>,
  base: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const c = st.connOf.get(req.socket);
  if (!c) return void res.destroy();
  clearTimeout(c.timer);
  c.inFlight++;
  const ac = new AbortController();
  c.requests.add(ac);
  let closeAfter = st.closing;
  const gone = () => {
    if (!ac.signal.aborted) ac.abort(clientGone());
  };
  res.on("close", () => {
    if (!res.writableFinished) gone();
  });
  try {
    const peer = c.peer ? await peerOf(st, c) : undefined;
    if (peer === null) return;
    if (!req.url?.startsWith("/")) {
      closeAfter = true;
      const message = "the request target must be a path starting with /";
      return await writeResponse(res, refusal("bad_request_target", message), true);
    }
    if (UNSERVED_METHODS.has(req.method!.toUpperCase())) {
      // The fetch Request these handlers take cannot carry these methods: refused here.
      closeAfter = true;
      req.resume();
      const message = `method ${req.method} is not supported by this server`;
      return await writeResponse(res, refusal("method_not_supported", message), true);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    if (!hasBody) req.resume();
    const body = hasBody ? bodyStream(req, c, st.limits, () => (closeAfter = true), gone) : null;
    const request = toRequest(req, base, body, ac.signal);
    if (peer) PEERS.set(request, peer);
    SOURCES.set(request, c.source);
    const response = await handler(request);
    if (res.destroyed) return void (await response.body?.cancel().catch(() => {}));
    await writeResponse(res, response, closeAfter || st.closing);
  } catch {
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(500, { "content-type": "application/json", connection: "close" });
      res.end(errorBody("internal_error", "internal error"));
    } else res.destroy();
  } finally {
    c.requests.delete(ac);
    c.inFlight--;
    if (st.closing && inFlight(st) === 0) { for (const w of st.drained.splice(0)) w(); }
    if (st.closing || closeAfter) c.socket.end();
    else if (c.inFlight === 0) {
      arm(c, st.limits.idleTimeoutMs, () => closeConn(c, clientGone()));
    }
  }
}

/** Stops accepting, waits for in-flight requests up to the grace period, closes every connection. */
async function drain(st: ServerState, server: http.Server): Promise<void> {
  st.closing = true;
  server.close();
  for (const c of st.conns) if (c.inFlight === 0) c.socket.destroy();
  if (inFlight(st) > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => st.drained.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, st.limits.shutdownGraceMs))),
    ]);
    clearTimeout(timer);
  }
  const late = new DOMException("the server shut down", "AbortError");
  for (const c of st.conns) closeConn(c, late);
}

/**
 * Serves a handler over HTTP/1.1, plain or TLS, with the limits of {@link ServeLimits}.
 * A request whose client goes away or times out has its `signal` aborted
 * (reason `AbortError` or `TimeoutError`), so the handler's log can tell
 * it from a server fault.
 *
 * @param handler the request handler.
 * @param options address, TLS, limits, logger.
 * @returns the listening server.
 */
export async function listen(
  handler: (request: Request) => Promise<Response>,
  options: ListenOptions = {},
): Promise<Listening> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const tls = options.tls;
  const server = tls
    ? https.createServer({
      cert: tls.cert,
      key: tls.key,
      requestCert: tls.checkClient !== undefined,
      rejectUnauthorized: false,
    })
    : http.createServer();
  // This module's timers govern; node's headers timeout is set past its own so
  // that it never fires first.
  server.headersTimeout = limits.headersTimeoutMs + 60_000;
  server.requestTimeout = 0;
  // The idle timeout is this module's too; node's equals it so that the
  // Keep-Alive header it sends tells clients the real one.
  server.keepAliveTimeout = limits.idleTimeoutMs;
  const st: ServerState = {
    limits,
    conns: new Set(),
    bySource: new Map(),
    connOf: new WeakMap(),
    closing: false,
    drained: [],
    refused: refusalLog(options.log),
  };
  server.on("connection", (socket: Socket) => admit(st, socket));
  server.on("clientError", (err: Error & { code?: string }, socket: Socket) => {
    badRequest(st, err, socket);
  });
  if (tls) {
    server.on("secureConnection", (s: TLSSocket) => secured(st, s, tls.checkClient, options.log));
  }
  const address = await new Promise<{ port: number; address: string }>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.hostname ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve(server.address() as { port: number; address: string });
    });
  });
  const host = address.address.includes(":") ? `[${address.address}]` : address.address;
  const url = `${tls ? "https" : "http"}://${host}:${address.port}`;
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    void serveRequest(st, handler, url, req, res);
  });
  const finished = new Promise<void>((resolve) => server.on("close", () => resolve()));
  return {
    url,
    port: address.port,
    finished,
    async shutdown() {
      if (!st.closing) await drain(st, server);
      await finished;
    },
  };
}
