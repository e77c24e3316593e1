/**
 * HTTP plumbing shared by the KMS and the MTMS: a table of routes
 * (`URLPattern` + method + handler), strict input validation before any
 * handler runs, a body size cap, signed single-use operator requests with
 * per-route roles and dual control (`operator_gate.ts`: each operator signs
 * with its own key; the nonce remembered in the store),
 * `/healthz`, and an `/openapi.json` generated from the same table and
 * schemas (one source of truth).
 *
 * Order of checks for each request: route (404), method (405; `HEAD` is
 * served wherever `GET` is, by the `GET` route, answered without its body);
 * for operator routes the body read whole first (413: the signature covers
 * it); path parameters (400); for a JSON body the media type (415: exactly
 * `application/json`, parameters only `charset=utf-8`), body size (413),
 * JSON syntax and fields (400); for operator routes the signature, time and
 * nonce (401; 429 from a source held off after failures) and the role
 * (403), then for a dual-control route the pending approval (202); then the
 * handler, whose audit records name the operator.
 * (What an operator route's body must look like is public, in
 * `/openapi.json`: checking it first tells an outsider nothing more.) Domain errors from the
 * handler become JSON error bodies via `errorResponse`.
 *
 * @module
 */
import type { Schema } from "../../src/protocol/schema.ts";
import { NotFoundError, PayloadTooLargeError, ValidationError } from "../../src/protocol/errors.ts";
import { type OperatorRole, withAuditOperator } from "../../src/store/mod.ts";
import {
  errorResponse,
  logReasonOf,
  MethodNotAllowedError,
  UnsupportedMediaTypeError,
} from "./errors.ts";
import { endedOutcome, type Level, type Logger } from "./log.ts";
import { isMediaType } from "./media_type.ts";
import type { ServerMetrics } from "./metrics.ts";
import { openApiDocument } from "./openapi.ts";
import { type ActingOperator, OperatorGate } from "./operator_gate.ts";
import { type PathMatcher, pathMatcher } from "./path_match.ts";

export { openApiDocument };
export { isMediaType, type MediaType, parseMediaType } from "./media_type.ts";

/** HTTP methods the servers use. */
export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** Who may call a route: anyone (the protocol authenticates the content), or the operator (a signed, single-use request). */
export type Access = "public" | "operator";

/** What a handler receives once every check has passed. */
export interface RouteInput<B> {
  /** Path parameters, each checked against its schema. */
  params: Record<string, string>;
  /** The body, parsed and checked against the route's schema (`undefined` without one). */
  body: B;
  /** On an operator route: the operator the request was signed by (or approved for). */
  operator?: ActingOperator;
  /** On a dual-control route run after approval: the operator who approved it. */
  approvedBy?: string;
}

/** One documented response of a route. */
export interface ResponseSpec {
  description: string;
  schema?: Schema<unknown>;
}

/** A route as declared by a server. */
export interface RouteSpec<B> {
  method: Method;
  /** URLPattern pathname, e.g. `/v1/orders/:orderId/tks`. */
  path: string;
  /** Stable OpenAPI operation id. */
  operationId: string;
  summary: string;
  access: Access;
  /** Operator routes: the roles that may call it (403 `role_required` for others); default any. */
  roles?: readonly OperatorRole[];
  /**
   * Operator routes: dual control. Each request waits as a pending approval
   * (202) until an operator with one of `approvers` other than its requester
   * approves it; then it runs once. Its body is stored meanwhile: never key material.
   */
  dualControl?: { approvers: readonly OperatorRole[] };
  /** Schemas of the path parameters (every `:name` in `path`). */
  params?: Record<string, Schema<string>>;
  /** Schema of the JSON body; without one, a body is refused. */
  body?: Schema<B>;
  /**
   * The body may be left out (no content type, no bytes): the handler then
   * gets `body` undefined (a route two flows share, one of which sends none).
   */
  bodyOptional?: boolean;
  /** Body size cap in bytes (default {@link DEFAULT_MAX_BODY}). */
  maxBody?: number;
  /**
   * A second media type the route takes besides JSON (e.g. `application/x-ndjson`):
   * a request of that type reaches the handler with `body` undefined and its
   * body unread, for the handler to stream (with its own caps).
   */
  streamType?: string;
  /** Documented responses by status. */
  responses: Record<number, ResponseSpec>;
  /** Does the work; throws domain errors for refusals. */
  handler(request: Request, input: RouteInput<B>): Promise<Response>;
}

/** A route with its body type erased, as kept in a table. */
export type Route = RouteSpec<unknown> & { matcher: PathMatcher };

/** Default body size cap: 64 KiB. */
export const DEFAULT_MAX_BODY = 64 * 1024;

/**
 * Declares a route (keeps the body type for the handler, erases it for the table).
 *
 * @param spec the route.
 * @returns the route with its compiled path.
 * @throws {RangeError} if a `:param` in the path has no schema or a schema has no `:param`.
 * @throws {TypeError} for a path `URLPattern` refuses (see {@link pathMatcher}).
 */
export function route<B>(spec: RouteSpec<B>): Route {
  const names = [...spec.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
  const declared = Object.keys(spec.params ?? {});
  for (const n of names) {
    if (!declared.includes(n)) {
      throw new RangeError(`route ${spec.path}: path parameter :${n} has no schema`);
    }
  }
  for (const n of declared) {
    if (!names.includes(n)) {
      throw new RangeError(`route ${spec.path}: schema for ${n} but no :${n} in the path`);
    }
  }
  return { ...(spec as RouteSpec<unknown>), matcher: pathMatcher(spec.path) };
}

/**
 * A JSON response.
 *
 * @param status HTTP status.
 * @param value the body (must not hold key material).
 * @returns the response.
 */
export function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/**
 * Reads a request body with a size cap, counting bytes as they arrive (a
 * lying or absent Content-Length does not get past the cap).
 *
 * @param request the request.
 * @param maxBytes the cap.
 * @returns the bytes (empty for no body).
 * @throws {PayloadTooLargeError} over the cap.
 */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    await request.body?.cancel();
    throw new PayloadTooLargeError(
      "body_too_large",
      `request body is ${declared} bytes; the limit here is ${maxBytes}`,
    );
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (request.body) {
    const reader = request.body.getReader();
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw new PayloadTooLargeError(
          "body_too_large",
          `request body is over the limit of ${maxBytes} bytes`,
        );
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  return bytes;
}

/**
 * Reads a request body as JSON with a size cap.
 *
 * @param request the request.
 * @param maxBytes the cap.
 * @returns the decoded JSON value.
 * @throws {PayloadTooLargeError} over the cap; {@link ValidationError} for an empty body, bad UTF-8 or bad JSON.
 */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  return parseJsonBytes(await readBody(request, maxBytes));
}

/**
 * Decodes a request body already read as JSON.
 *
 * @param bytes the body.
 * @returns the decoded JSON value.
 * @throws {ValidationError} for an empty body, bad UTF-8 or bad JSON.
 */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  if (bytes.length === 0) {
    throw new ValidationError("invalid_json", "request body must be a JSON object");
  }
  let textBody: string;
  try {
    textBody = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError("invalid_json", "request body is not valid UTF-8");
  }
  try {
    return JSON.parse(textBody);
  } catch {
    // The parser's message quotes the input: not echoed (it could hold a key sent by mistake).
    throw new ValidationError("invalid_json", "request body is not valid JSON");
  }
}

/** The store scope under which servers remember operator request nonces. */
export const OPERATOR_NONCE_SCOPE = "operator-request";

/** Options of {@link createHandler}. */
export interface HandlerOptions {
  /** Name and version for `/openapi.json` and `/healthz`. */
  title: string;
  version: string;
  description?: string;
  routes: Route[];
  /**
   * Who may call the operator routes: operators, roles, dual control. Without
   * it, one is made of `operatorToken` and `rememberOperatorNonce` in which
   * only the bootstrap administrator exists.
   */
  operators?: OperatorGate;
  /**
   * The bootstrap administrator's secret (HMAC key of signed operator
   * requests, see `src/protocol/operator_request.ts`). Required if any route
   * has `access: "operator"` and `operators` is not given.
   */
  operatorToken?: string;
  /**
   * Remembers an operator request's nonce until `expiresAt`, atomically;
   * false if it was already there (a replay). Required with `operatorToken`
   * (a store's `rememberNonce` under one scope).
   */
  rememberOperatorNonce?: (nonce: string, expiresAt: Date) => Promise<boolean>;
  /** The server's clock (tests move it). */
  now?: () => Date;
  log: Logger;
  /** Extra readiness check for `/healthz` (e.g. the database answers); throws if not ready. */
  ready?: () => void | Promise<void>;
  /** Counts each request by route pattern (`unmatched` for none), method and status. */
  metrics?: Pick<ServerMetrics, "request">;
}

/**
 * Checks a handler's options.
 *
 * @throws {RangeError} if an operator route exists without a token or nonce memory, or two
 *   routes share method and path.
 */
function checkHandlerOptions(options: HandlerOptions): void {
  if (options.routes.some((r) => r.access === "operator") && !options.operators) {
    if (!options.operatorToken) {
      throw new RangeError("operatorToken is required: the route table has operator routes");
    }
    if (options.operatorToken.length < 16) {
      throw new RangeError(
        `operatorToken must be at least 16 characters, got ${options.operatorToken.length}`,
      );
    }
    if (!options.rememberOperatorNonce) {
      throw new RangeError(
        "rememberOperatorNonce is required: operator requests are single-use",
      );
    }
  }
  const seen = new Set<string>();
  for (const r of options.routes) {
    const k = `${r.method} ${r.path}`;
    if (seen.has(k)) throw new RangeError(`duplicate route ${k}`);
    seen.add(k);
  }
}

/** `/healthz` and `/openapi.json` (`doc`, built once). */
async function serveBuiltIn(
  request: Request,
  url: URL,
  options: HandlerOptions,
  doc: string,
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    throw new MethodNotAllowedError(request.method, ["GET", "HEAD"]);
  }
  if (url.pathname === "/openapi.json") {
    return new Response(doc, { headers: { "content-type": "application/json" } });
  }
  try {
    await options.ready?.();
  } catch (e) {
    options.log.log("warn", "health.not_ready", { reason: (e as Error).message });
    return json(503, { status: "not ready", service: options.title });
  }
  return json(200, { status: "ok", service: options.title, version: options.version });
}

/**
 * The route of a request and its path's groups.
 *
 * @throws {NotFoundError} `not_found`; {@link MethodNotAllowedError} if the path has other methods.
 */
function matchRoute(
  routes: Route[],
  method: string,
  url: URL,
): { r: Route; groups: Record<string, string> } {
  const matches: { r: Route; groups: Record<string, string> }[] = [];
  for (const r of routes) {
    const groups = r.matcher.match(url.pathname);
    if (groups) matches.push({ r, groups });
  }
  if (matches.length === 0) {
    throw new NotFoundError("not_found", `no resource at ${url.pathname}`);
  }
  // HEAD is GET without the body (RFC 9110 9.3.2): the GET route answers it.
  const hit = matches.find((m) => m.r.method === (method === "HEAD" ? "GET" : method));
  if (!hit) throw new MethodNotAllowedError(method, allowed(matches.map((m) => m.r.method)));
  return hit;
}

/** The methods a path takes: its routes', and HEAD wherever GET is. */
function allowed(methods: string[]): string[] {
  return methods.includes("GET") ? [...methods, "HEAD"] : methods;
}

/**
 * The path parameters, percent-decoded and checked against their schemas.
 *
 * @throws {ValidationError} `invalid_field` naming the parameter.
 */
function pathParams(
  r: Route,
  groups: Record<string, string>,
): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, schema] of Object.entries(r.params ?? {})) {
    let raw = groups[name] ?? "";
    try {
      raw = decodeURIComponent(raw);
    } catch {
      throw new ValidationError(
        "invalid_field",
        `path parameter ${name} is not valid percent-encoding`,
      );
    }
    params[name] = schema.parse(raw, name);
  }
  return params;
}

/**
 * The JSON body of a request, checked against the route's schema; a route
 * without one takes only an empty body or `{}`.
 *
 * @param signedBody the body already read for the signature, if any.
 * @returns the parsed body (`undefined` for a route without a body schema).
 * @throws {UnsupportedMediaTypeError} `unsupported_media_type`; {@link ValidationError}
 *   `invalid_json`, a field's code, `unexpected_body`; {@link PayloadTooLargeError} over the cap.
 */
async function routeBody(
  request: Request,
  r: Route,
  contentType: string,
  signedBody: Uint8Array | undefined,
): Promise<unknown> {
  if (r.body) {
    if (r.bodyOptional && contentType === "" && !signedBody) {
      if ((await readBody(request, 1024)).length === 0) return undefined;
      throw new UnsupportedMediaTypeError(
        "unsupported_media_type",
        "content-type must be application/json for a request body",
      );
    }
    if (!isMediaType(contentType, "application/json")) {
      if (!signedBody) await request.body?.cancel();
      throw new UnsupportedMediaTypeError(
        "unsupported_media_type",
        `content-type must be application/json${
          r.streamType ? ` or ${r.streamType}` : ""
        } (the only parameter taken is charset=utf-8), got ${
          JSON.stringify(contentType.slice(0, 60))
        }`,
      );
    }
    const raw = signedBody
      ? parseJsonBytes(signedBody)
      : await readJson(request, r.maxBody ?? DEFAULT_MAX_BODY);
    return r.body.parse(raw, "body");
  }
  if (signedBody || request.body) {
    // A body where none is expected must be empty or "{}" (read with a small cap).
    const text = new TextDecoder().decode(signedBody ?? await readBody(request, 1024)).trim();
    if (text !== "" && text !== "{}") {
      throw new ValidationError("unexpected_body", `${r.method} ${r.path} takes no request body`);
    }
  }
  return undefined;
}

/** The answer to a HEAD request: the GET's status and headers, no body. */
async function withoutBody(response: Response): Promise<Response> {
  await response.body?.cancel();
  return new Response(null, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/**
 * Builds the request handler of a server from its route table.
 *
 * @param options routes, token, logger.
 * @returns `(Request) => Promise<Response>`, for `Deno.serve` or a test.
 * @throws {RangeError} if an operator route exists without a token, or two routes share method and path.
 */
export function createHandler(options: HandlerOptions): (request: Request) => Promise<Response> {
  checkHandlerOptions(options);
  const { routes, log } = options;
  const now = options.now ?? (() => new Date());
  const doc = JSON.stringify(openApiDocument(options));
  const gate = options.operators ??
    (routes.some((r) => r.access === "operator")
      ? new OperatorGate({
        token: options.operatorToken!,
        rememberNonce: options.rememberOperatorNonce!,
        now,
      })
      : null);
  gate?.attach({
    resolve: (method, path) => matchRoute(routes, method, new URL(path, "http://approval")).r,
    run: async (a, operator) => {
      const url = new URL(a.path, "http://approval");
      const { r, groups } = matchRoute(routes, a.method, url);
      const bytes = new TextEncoder().encode(a.body ?? "");
      const request = new Request(url, { method: a.method });
      const body = await routeBody(request, r, "application/json", bytes);
      const params = pathParams(r, groups);
      const approvedBy = a.approvedBy ?? undefined;
      return await r.handler(request, { params, body, operator, approvedBy });
    },
  });

  async function dispatch(
    request: Request,
    url: URL,
    matched: { route: string },
  ): Promise<Response> {
    if (url.pathname === "/healthz" || url.pathname === "/openapi.json") {
      matched.route = url.pathname;
      return await serveBuiltIn(request, url, options, doc);
    }
    const hit = matchRoute(routes, request.method, url);
    const r = hit.r;
    matched.route = r.path;
    if (r.access === "operator") return await operatorDispatch(request, url, hit);
    const params = pathParams(r, hit.groups);
    const ct = request.headers.get("content-type") ?? "";
    if (r.streamType && isMediaType(ct, r.streamType)) {
      return await r.handler(request, { params, body: undefined });
    }
    const body = await routeBody(request, r, ct, undefined);
    return await r.handler(request, { params, body });
  }

  /** An operator request: body read first (the signature covers it), operator and role, dual control. */
  async function operatorDispatch(
    request: Request,
    url: URL,
    { r, groups }: { r: Route; groups: Record<string, string> },
  ): Promise<Response> {
    const signedBody = await readBody(request, r.body ? r.maxBody ?? DEFAULT_MAX_BODY : 1024);
    const params = pathParams(r, groups);
    const ct = request.headers.get("content-type") ?? "";
    const body = await routeBody(request, r, ct, signedBody);
    const operator = await gate!.admit(request, url, r, signedBody);
    const d = await gate!.dual(operator, r, { method: request.method, url, body: signedBody });
    if ("held" in d) return d.held;
    const run = () =>
      withAuditOperator(operator.id, () => r.handler(request, { params, body, operator }));
    return await (d.waiver ? gate!.runWaived(d.waiver, run) : run());
  }

  return async (request: Request): Promise<Response> => {
    const started = performance.now();
    const url = new URL(request.url);
    let response: Response;
    let code: string | undefined;
    let level: Level | undefined;
    let reason: string | undefined;
    const matched = { route: "unmatched" };
    try {
      response = await dispatch(request, url, matched);
    } catch (e) {
      const out = errorResponse(e);
      response = out.response;
      code = out.error.code;
      reason = logReasonOf(e);
      const ended = endedOutcome(request.signal);
      if (ended) {
        // The client went away (or timed out): nobody reads this answer, and it is no fault.
        response = new Response(null, { status: ended.status });
        code = ended.code;
        level = ended.level;
      } else if (!out.error.expected) {
        log.log("error", "http.unexpected", {
          method: request.method,
          path: url.pathname,
          error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
          stack: e instanceof Error ? e.stack?.split("\n").slice(1, 4).join(" | ") : undefined,
        });
      }
    }
    log.log(
      level ?? (response.status >= 500 ? "error" : response.status >= 400 ? "warn" : "info"),
      "http.request",
      {
        method: request.method,
        path: url.pathname,
        status: response.status,
        code,
        reason,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
    );
    const seconds = (performance.now() - started) / 1000;
    options.metrics?.request(matched.route, request.method, response.status, seconds);
    return request.method === "HEAD" ? await withoutBody(response) : response;
  };
}
