/**
 * An HTTP/1.1 server, plain or TLS (RFC 9112, RFC 8446), that serves a
 * fetch-style handler and guards its sockets: header, body-read, body and
 * idle timeouts, a cap on open connections in all and per source address, an
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
import { bodyStream, clientGone } from "./listener_body.ts";
import {
  type LineTap,
  overflowInRequestLine,
  parserFault,
  requestFault,
  tapLines,
  targetPath,
} from "./listener_checks.ts";
import type { Logger } from "./log.ts";

/** Socket limits of a server. */
export interface ServeLimits {
  /** From the connection's opening (TLS handshake included) to the end of the first request's headers. */
  headersTimeoutMs: number;
  /** Longest wait for the next piece of a request body the handler is reading. */
  bodyReadTimeoutMs: number;
  /**
   * Longest time in all spent waiting for a request's body, from the end of its headers to
   * its last byte (a client sending a byte now and then is cut off here, answered 408). Time
   * the handler takes between its reads is not counted, so a long stream it consumes slowly
   * is not cut; {@link bodyMinRate} extends it for a long body.
   */
  bodyTimeoutMs: number;
  /** Each this many bytes of a body received extend its {@link bodyTimeoutMs} by one second (0: never). */
  bodyMinRate: number;
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
  bodyTimeoutMs: 30_000,
  bodyMinRate: 16_384,
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
  /** TLS: the start of the line being received on the TLS socket, for the parser's refusals. */
  line?: LineTap;
  /** Plain HTTP: the bytes read on the socket when the last request's message ended. */
  headAt?: number;
}

/** Aborts the connection's requests in flight with `reason`. */
function abortRequests(c: Conn, reason: DOMException): void {
  for (const ac of c.requests) if (!ac.signal.aborted) ac.abort(reason);
}

/** Aborts the connection's requests with `reason`, then closes it. */
function closeConn(c: Conn, reason: DOMException): void {
  abortRequests(c, reason);
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

function toRequest(
  req: http.IncomingMessage,
  base: string,
  path: string,
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal,
): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  // The target's path (see targetPath) is joined to the base as text, so that a path starting
  // with "//" stays a path instead of being read as another host.
  return new Request(new URL(base + path), {
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

/** An error of node's HTTP parser, with the chunk it was reading and how far it got. */
type ParserError = Error & { code?: string; rawPacket?: unknown; bytesParsed?: unknown };

/**
 * The start of the line being received before the chunk the parser refused, where it is known:
 * on TLS, the tap of the TLS socket; on plain HTTP (whose socket the parser reads directly), a
 * chunk that opens the connection or follows the end of its last request starts a line.
 */
function priorLine(st: ServerState, socket: Socket, err: ParserError): string | undefined {
  const c = st.connOf.get(socket);
  if (c?.line) return c.line.start;
  if (!(err.rawPacket instanceof Uint8Array)) return undefined;
  const chunkAt = socket.bytesRead - err.rawPacket.length;
  return chunkAt === 0 || chunkAt === c?.headAt ? "" : undefined;
}

/** The status line and JSON error of a request the parser refused. */
function parserRefusal(st: ServerState, err: ParserError, socket: Socket): [string, string] {
  if (err.code !== "HPE_HEADER_OVERFLOW") {
    const message = `the request is not valid HTTP/1.1 (${parserFault(err)})`;
    return ["400 Bad Request", errorBody("bad_request", message)];
  }
  if (overflowInRequestLine(err, priorLine(st, socket, err))) {
    return ["414 URI Too Long", errorBody("target_too_long", "the request target is too long")];
  }
  const message = "the request's header section is too large";
  return ["431 Request Header Fields Too Large", errorBody("headers_too_large", message)];
}

/**
 * A request the HTTP parser refused (a malformed request line or header, a header section over
 * node's size cap, both Content-Length and Transfer-Encoding, ...): answered with 414 for a
 * request line over the cap, 431 for the header section over it, 400 otherwise, each with a
 * JSON error naming what was wrong, and the connection closed. The parser's message names the
 * fault, never the bytes sent. A request line over the cap is told from a header only where
 * the bytes before the parser's chunk are known (see priorLine); elsewhere it gets 431.
 */
function badRequest(st: ServerState, err: ParserError, socket: Socket): void {
  st.refused("http.bad_request", socket.remoteAddress ?? "unknown");
  if (!socket.writable) return void socket.destroy();
  const [status, body] = parserRefusal(st, err, socket);
  socket.end(
    `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
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
  c.line = tapLines(socket);
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

/** A refusal before any handler, answered as the handlers' own refusals are. */
const refusal = (code: string, message: string) =>
  errorResponse(new ValidationError(code, message)).response;

/**
 * Refuses a request whose body's deadline passed, as a refusal of the listener: logged, its
 * signal aborted (the handler's read fails with the same reason), answered 408 unless its
 * answer has begun, and its connection closed.
 */
function bodyLate(st: ServerState, c: Conn, res: http.ServerResponse, reason: DOMException) {
  st.refused("http.body_timeout", c.source);
  abortRequests(c, reason);
  if (res.headersSent || res.destroyed) return void closeConn(c, reason);
  const body = errorBody(
    "body_timeout",
    "the request body did not arrive within the body deadline (bodyTimeoutMs)",
  );
  res.writeHead(408, {
    "content-type": "application/json",
    "content-length": body.length,
    connection: "close",
  });
  res.end(body);
}

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
  if (!c.line) req.once("end", () => (c.headAt = c.socket.bytesRead));
  try {
    const peer = c.peer ? await peerOf(st, c) : undefined;
    if (peer === null) return;
    const fault = requestFault(req);
    if (fault) {
      closeAfter = true;
      req.resume();
      return await writeResponse(res, refusal(fault.code, fault.message), true);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    if (!hasBody) req.resume();
    const body = hasBody
      ? bodyStream(req, st.limits, {
        arm: (ms, onFire) => arm(c, ms, onFire),
        disarm: () => clearTimeout(c.timer),
        cancel: () => (closeAfter = true),
        gone,
        stalled: (reason) => closeConn(c, reason),
        late: (reason) => {
          closeAfter = true;
          bodyLate(st, c, res, reason);
        },
      })
      : null;
    const request = toRequest(req, base, targetPath(req.url!)!, body, ac.signal);
    if (peer) PEERS.set(request, peer);
    SOURCES.set(request, c.source);
    const response = await handler(request);
    // Answered already (the body's deadline), or the client is gone: the handler's answer is dropped.
    if (res.destroyed || res.headersSent) {
      return void (await response.body?.cancel().catch(() => {}));
    }
    await writeResponse(res, response, closeAfter || st.closing);
  } catch {
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(500, { "content-type": "application/json", connection: "close" });
      res.end(errorBody("internal_error", "internal error"));
    } else if (!res.writableEnded) res.destroy();
  } finally {
    c.requests.delete(ac);
    c.inFlight--;
    if (st.closing && inFlight(st) === 0) { for (const w of st.drained.splice(0)) w(); }
    const ending = st.closing || closeAfter;
    if (ending) c.socket.end();
    // Idle, or ended on this side while the client keeps its own open: closed at the idle timeout.
    if (ending || c.inFlight === 0) {
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
 * node's own check of the Host header answers with an empty body: this module checks it
 * instead (listener_checks.ts), and answers as it does its other refusals.
 */
const NODE_OPTIONS = { requireHostHeader: false };

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
      ...NODE_OPTIONS,
    })
    : http.createServer(NODE_OPTIONS);
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
