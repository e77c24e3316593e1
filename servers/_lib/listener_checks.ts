/**
 * The listener's own checks of a request's framing (servers/_lib/listener.ts), where node's HTTP
 * parser lets a fault through or refuses without saying which: the Host header (RFC 9112
 * section 3.2), the request target's form (section 3.2), the methods a fetch `Request` cannot
 * carry, and whether a header section over the parser's cap overflowed in its request line.
 *
 * @module
 */
import type http from "node:http";

/** What a request's framing got wrong, as its JSON error says it. */
export interface Fault {
  code: string;
  message: string;
}

/** Methods a fetch `Request` refuses to carry (the Fetch standard's forbidden methods). */
const UNSERVED_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** The scheme and authority of an absolute-form target (RFC 9112 section 3.2.2). */
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]+/i;

/**
 * The path and query a request target names: an origin-form target as sent; an absolute-form
 * one (`http://host/path?query`) without its scheme and authority.
 *
 * The authority is ignored, as the Host header is for an origin-form target: the request's URL
 * is always the server's own base joined to this path as text. So a handler sees the same URL
 * whichever form the client used, an origin-dependent check (the console compares Origin with
 * the URL's origin) cannot be steered by the client, and a path starting with "//" stays a path
 * instead of being read as another host.
 *
 * @param target the request target as the parser read it.
 * @returns the path and query, starting with "/"; `undefined` for another form (`*`, an
 *   authority, another scheme).
 */
export function targetPath(target: string): string | undefined {
  if (target.startsWith("/")) return target;
  const authority = ABSOLUTE_FORM.exec(target);
  if (!authority) return undefined;
  const rest = target.slice(authority[0].length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/**
 * A Host header missing from an HTTP/1.1 request, or sent more than once, which RFC 9112
 * section 3.2 answers with 400 (the listener turns off node's own check, which answers with
 * an empty body).
 */
function hostFault(req: http.IncomingMessage): Fault | undefined {
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === "host") hosts++;
  }
  const http11 = req.httpVersionMajor > 1 || req.httpVersionMinor >= 1;
  if (hosts === 0 && http11) {
    return { code: "bad_host", message: "the request has no Host header; HTTP/1.1 requires one" };
  }
  if (hosts > 1) {
    return { code: "bad_host", message: `the request has ${hosts} Host headers; one is allowed` };
  }
  return undefined;
}

/**
 * The first fault of a request the parser accepted: its Host header, its target's form, a
 * method no handler can take.
 *
 * @param req the parsed request.
 * @returns the fault, or `undefined` when the request can reach the handler.
 */
export function requestFault(req: http.IncomingMessage): Fault | undefined {
  const host = hostFault(req);
  if (host) return host;
  if (targetPath(req.url ?? "") === undefined) {
    return {
      code: "bad_request_target",
      message: "the request target must be a path starting with /",
    };
  }
  if (UNSERVED_METHODS.has(req.method!.toUpperCase())) {
    // The fetch Request these handlers take cannot carry these methods: refused here.
    return {
      code: "method_not_supported",
      message: `method ${req.method} is not supported by this server`,
    };
  }
  return undefined;
}

/** How much of a line's start is kept: past the longest method and the space after it. */
const LINE_START = 32;

/** The start of the line being received, as far as the bytes seen so far tell. */
export interface LineTap {
  start: string;
}

/**
 * The start of the line being received after `chunk[0, end)`, given the start of the line
 * before that chunk.
 */
function lineStart(prior: string, chunk: Uint8Array, end: number): string {
  const seen = new Uint8Array(chunk.buffer, chunk.byteOffset, end);
  const lf = seen.lastIndexOf(0x0a);
  const head = lf < 0 ? prior : "";
  const from = lf + 1;
  const take = seen.subarray(from, from + Math.max(0, LINE_START - head.length));
  return head + String.fromCharCode(...take);
}

/**
 * Keeps the start of the line being received on a socket whose data the HTTP parser reads
 * through `data` events (a TLS socket). Registered after the parser's own listener, it has
 * not yet seen the chunk the parser is refusing when the parser reports an error.
 *
 * @param socket the socket the parser reads.
 * @returns the tap, updated as data arrives.
 */
export function tapLines(
  socket: { on(event: "data", f: (b: Uint8Array) => void): unknown },
): LineTap {
  const tap: LineTap = { start: "" };
  socket.on("data", (b: Uint8Array) => (tap.start = lineStart(tap.start, b, b.length)));
  return tap;
}

/**
 * Whether a header section over the parser's cap overflowed in its request line (a target
 * too long: 414) rather than in a header (431). The line the parser was in is the text after
 * the last line feed before the point of the error; a request line has a space before any
 * colon (`GET /...`), a header line a colon before any space (`name: value`).
 *
 * @param err the parser's error: the chunk it was reading and how far it got.
 * @param prior the start of the line before that chunk, or `undefined` when unknown.
 * @returns true when the overflow is known to be in the request line.
 */
export function overflowInRequestLine(
  err: { rawPacket?: unknown; bytesParsed?: unknown },
  prior: string | undefined,
): boolean {
  const packet = err.rawPacket;
  const end = err.bytesParsed;
  if (!(packet instanceof Uint8Array) || typeof end !== "number") return false;
  if (end < 0 || end > packet.length) return false;
  const seen = new Uint8Array(packet.buffer, packet.byteOffset, end);
  if (prior === undefined && seen.lastIndexOf(0x0a) < 0) return false;
  const line = lineStart(prior ?? "", packet, end);
  const space = line.indexOf(" ");
  const colon = line.indexOf(":");
  return space > 0 && (colon < 0 || space < colon);
}

/**
 * The parser's fault, by its code (`HPE_...`), in words; its message can quote input.
 *
 * @param err the parser's error.
 * @returns the fault in words.
 */
export function parserFault(err: Error & { code?: string }): string {
  const code = /^HPE_[A-Z_]+$/.test(err.code ?? "") ? err.code! : "HPE_ERROR";
  if (code === "HPE_ERROR") return "a malformed request line or header";
  return code.slice(4).toLowerCase().replaceAll("_", " ");
}
