/**
 * The operator console on a server: its assets under `/console/` (from the
 * repository's `web/console/`, nothing from elsewhere), the login, logout
 * and session routes under `/console/api/`, and each server's own console
 * routes, every one of which names the roles that may call it.
 *
 * Every answer carries a Content-Security-Policy that allows script only
 * from this origin (no inline script, no `eval`) and the other headers of
 * OWASP's secure headers list. A state-changing request needs the session
 * cookie, the session's CSRF token in `X-CSRF-Token`, and, when the browser
 * sends one, an `Origin` equal to the server's.
 *
 * A request body is read only up to {@link CONSOLE_MAX_BODY}, counted as it
 * arrives (413 past it), and logins from one source address are limited
 * before any password is hashed (429 with `Retry-After`).
 *
 * @module
 */
import { withAuditOperator } from "../../src/store/mod.ts";
import { toHttpError } from "./errors.ts";
import { requestSource } from "./listener.ts";
import type { Logger } from "./log.ts";
import { pathMatcher } from "./path_match.ts";
import { sourceKey } from "./rate_limit.ts";
import { readBody } from "./router.ts";
import {
  type ConsoleDirectory,
  type ConsoleRole,
  type ConsoleSession,
  csrfMatches,
  SessionBook,
  type SessionPolicy,
} from "./console_auth.ts";

/**
 * The console's session cookie of a server. Cookies are per host, not per
 * port, so each server's name is in its cookie's: a KMS and an MTMS on one
 * host keep their sessions apart.
 */
export function sessionCookieName(server: string): string {
  return `tmk_console_${server.toLowerCase()}`;
}

/** What a console route's handler receives. */
export interface ConsoleContext {
  request: Request;
  params: Record<string, string>;
  session: ConsoleSession;
  /** The JSON body of a POST (undefined for GET). */
  body: unknown;
  url: URL;
  /** Whether the session still holds (not idle, not logged out), without counting as a use. */
  alive(): Promise<boolean>;
}

/** One console API route. */
export interface ConsoleRoute {
  method: "GET" | "POST";
  /** Path under `/console/api`, URLPattern syntax (e.g. `/orders/:orderId`). */
  path: string;
  /** Who may call it. */
  roles: readonly ConsoleRole[];
  handler(ctx: ConsoleContext): Promise<Response>;
}

/** A page of the console and the roles that see it. */
export interface ConsolePage {
  id: string;
  title: string;
  roles: readonly ConsoleRole[];
}

/** Options of {@link withConsole}. */
export interface ConsoleOptions {
  /** Where the operators come from. */
  directory: ConsoleDirectory;
  /** Session lifetimes and login limits. */
  policy?: Partial<SessionPolicy>;
  /** The clock (tests move it). */
  now?: () => number;
}

/** What a server adds: its name, pages and routes. */
export interface ConsoleServer {
  /** "KMS" or "MTMS". */
  server: string;
  pages: readonly ConsolePage[];
  routes: readonly ConsoleRoute[];
  log: Logger;
}

/** The Content-Security-Policy of every console answer. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** The console's own files and their types: a Map, so no inherited name is one of them. */
const ASSETS: ReadonlyMap<string, string> = new Map([
  ["index.html", "text/html; charset=utf-8"],
  ["console.css", "text/css; charset=utf-8"],
  ["console.js", "text/javascript; charset=utf-8"],
]);

/** The largest request body a console route reads, in bytes. */
export const CONSOLE_MAX_BODY = 64 * 1024;

const ASSET_DIR = new URL("../../web/console/", import.meta.url);

function securityHeaders(url: URL, type: string, cache: boolean): Headers {
  const h = new Headers({
    "content-type": type,
    "content-security-policy": CONSOLE_CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), usb=(), payment=()",
    "cache-control": cache ? "no-cache" : "no-store",
  });
  if (url.protocol === "https:") {
    h.set("strict-transport-security", "max-age=31536000; includeSubDomains");
  }
  return h;
}

/**
 * A JSON answer of the console (never cached).
 *
 * @param status HTTP status.
 * @param value the body (never key material).
 * @param url the request's URL (HSTS on HTTPS).
 */
export function consoleJson(status: number, value: unknown, url: URL): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: securityHeaders(url, "application/json", false),
  });
}

function consoleError(status: number, code: string, message: string, url: URL): Response {
  return consoleJson(status, { error: { code, message } }, url);
}

/** The value of one cookie of a request. */
export function cookieValue(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function sessionCookie(name: string, token: string, maxAgeS: number): string {
  return `${name}=${token}; Path=/console/; Max-Age=${maxAgeS}; Secure; HttpOnly; SameSite=Strict`;
}

async function serveAsset(url: URL, request: Request): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return consoleError(405, "method_not_allowed", `${request.method} is not allowed here`, url);
  }
  const name = url.pathname === "/console/" ? "index.html" : url.pathname.slice(9);
  const type = ASSETS.get(name);
  if (type === undefined) {
    return consoleError(404, "not_found", `no console asset at ${url.pathname}`, url);
  }
  const body = await Deno.readFile(new URL(name, ASSET_DIR));
  return new Response(request.method === "HEAD" ? null : body, {
    headers: securityHeaders(url, type, true),
  });
}

/**
 * Reads a small JSON body; null if it is not JSON.
 *
 * @throws {PayloadTooLargeError} `body_too_large` as soon as the body passes {@link CONSOLE_MAX_BODY}.
 */
async function jsonBody(request: Request): Promise<unknown> {
  if (!/^application\/json\b/i.test(request.headers.get("content-type") ?? "")) return null;
  const bytes = await readBody(request, CONSOLE_MAX_BODY);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
}

/** The origin check of a state-changing request: an Origin, when sent, must be ours. */
function sameOrigin(request: Request, url: URL): boolean {
  const origin = request.headers.get("origin");
  return origin === null || origin === url.origin;
}

/** What a login needs of its server's console. */
interface LoginScope {
  book: SessionBook;
  cookie: string;
  server: ConsoleServer;
  view(s: ConsoleSession): unknown;
}

/** Checks a login and sets the session cookie. */
async function login(request: Request, url: URL, scope: LoginScope): Promise<Response> {
  const { book, cookie, server } = scope;
  const body = await jsonBody(request) as { id?: unknown; password?: unknown } | null;
  if (typeof body?.id !== "string" || typeof body?.password !== "string") {
    return consoleError(400, "invalid_login", "send JSON {id, password}", url);
  }
  const source = sourceKey(requestSource(request));
  const r = await book.login(body.id, body.password, source);
  if (!r.ok && r.reason === "throttled") return throttled(r.retryAfterMs, book, url);
  if (!r.ok) {
    // Each refusal let through the source limit is logged (those past it are not: a flood
    // would flood the log); the id is cut, it is the sender's text.
    server.log.log("warn", "console.login_refused", {
      operator: body.id.slice(0, 64),
      reason: r.reason,
      source,
    });
    const status = r.reason === "locked" ? 429 : 401;
    const message = r.reason === "locked"
      ? "too many failed logins for this operator; try again later"
      : "operator id or password is wrong";
    return consoleError(
      status,
      r.reason === "locked" ? "login_locked" : "login_failed",
      message,
      url,
    );
  }
  server.log.log("info", "console.login", {
    operator: r.session.operator.id,
    role: r.session.operator.role,
  });
  const res = consoleJson(200, scope.view(r.session), url);
  res.headers.set(
    "set-cookie",
    sessionCookie(cookie, r.token, Math.round(book.policy.absoluteMs / 1000)),
  );
  return res;
}

/** The 429 of a source address past its login attempts, naming the limit. */
function throttled(retryAfterMs: number, book: SessionBook, url: URL): Response {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const res = consoleError(
    429,
    "rate_limited",
    `more than ${book.policy.sourceAttempts} login attempts in a row from this address; ` +
      `try again in ${seconds} s`,
    url,
  );
  res.headers.set("retry-after", String(seconds));
  return res;
}

/**
 * Adds the console to a server's handler: `/console/...` is the console's,
 * everything else goes to `handler`.
 *
 * @param handler the server's API handler.
 * @param server the server's pages and routes.
 * @param options the directory of operators and session policy.
 * @returns the combined handler.
 */
export function withConsole(
  handler: (request: Request) => Promise<Response>,
  server: ConsoleServer,
  options: ConsoleOptions,
): (request: Request) => Promise<Response> {
  const book = new SessionBook(options.directory, options.policy, options.now);
  const cookie = sessionCookieName(server.server);
  const routes = server.routes.map((r) => ({
    ...r,
    matcher: pathMatcher(`/console/api${r.path}`),
  }));
  const pagesOf = (role: ConsoleRole) =>
    server.pages.filter((p) => p.roles.includes(role)).map(({ id, title }) => ({ id, title }));
  const sessionView = (s: ConsoleSession) => ({
    server: server.server,
    operator: s.operator,
    csrf: s.csrf,
    idleSeconds: Math.round(book.policy.idleMs / 1000),
    pages: pagesOf(s.operator.role),
  });

  async function dispatch(request: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    if (!path.startsWith("/console/api/")) return await serveAsset(url, request);
    const post = request.method === "POST";
    if (post && !sameOrigin(request, url)) {
      return consoleError(403, "cross_origin", "this request comes from another origin", url);
    }
    if (path === "/console/api/login" && post) {
      return await login(request, url, { book, cookie, server, view: sessionView });
    }
    const token = cookieValue(request, cookie);
    const session = await book.resume(token);
    if (!session && path === "/console/api/session" && request.method === "GET") {
      // The page asks at load whether it has a session: no is an answer, not an error.
      return consoleJson(200, { server: server.server, operator: null }, url);
    }
    if (!session) {
      return consoleError(401, "no_session", "log in first (or again: the session ended)", url);
    }
    if (post && !csrfMatches(session, request.headers.get("x-csrf-token"))) {
      return consoleError(403, "csrf", "the X-CSRF-Token header is missing or wrong", url);
    }
    if (path === "/console/api/session" && request.method === "GET") {
      return consoleJson(200, sessionView(session), url);
    }
    if (path === "/console/api/logout" && post) {
      await book.logout(token);
      server.log.log("info", "console.logout", { operator: session.operator.id });
      const res = consoleJson(200, { loggedOut: true }, url);
      res.headers.set("set-cookie", sessionCookie(cookie, "", 0));
      return res;
    }
    for (const r of routes) {
      const m = r.matcher.match(path);
      if (!m || r.method !== request.method) continue;
      if (!r.roles.includes(session.operator.role)) {
        server.log.log("warn", "console.refused", {
          operator: session.operator.id,
          role: session.operator.role,
          path,
        });
        return consoleError(
          403,
          "role_refused",
          `the role ${session.operator.role} may not ${request.method} ${path}`,
          url,
        );
      }
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m)) {
        try {
          params[k] = decodeURIComponent(v);
        } catch {
          return consoleError(
            400,
            "invalid_path",
            `path parameter ${k} is not valid percent-encoding`,
            url,
          );
        }
      }
      const body = post ? await jsonBody(request) : undefined;
      if (post && body === null) {
        return consoleError(400, "invalid_json", "send a JSON body (application/json)", url);
      }
      const alive = async () => (await book.resume(token, false)) === session;
      // Every audit record written while serving it names the operator.
      return await withAuditOperator(
        session.operator.id,
        () => r.handler({ request, params, session, body, url, alive }),
      );
    }
    return consoleError(404, "not_found", `no console route ${request.method} ${path}`, url);
  }

  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === "/console") {
      return new Response(null, { status: 308, headers: { location: "/console/" } });
    }
    if (!url.pathname.startsWith("/console/")) return await handler(request);
    try {
      return await dispatch(request, url);
    } catch (e) {
      const err = toHttpError(e);
      if (!err.expected) {
        server.log.log("error", "console.unexpected", {
          path: url.pathname,
          error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        });
      }
      return consoleError(err.status, err.code, err.message, url);
    }
  };
}
