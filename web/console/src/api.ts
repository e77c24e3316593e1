/// <reference lib="dom" />
/**
 * The console's calls to its server: JSON over same-origin fetch with the
 * session cookie, the CSRF token on every POST, and errors as
 * {@link ApiError} with the server's code and message.
 *
 * @module
 */

/** The operator of the session. */
export interface Operator {
  id: string;
  name: string;
  role: string;
}

/** The session as the server describes it. */
export interface Session {
  server: string;
  operator: Operator;
  csrf: string;
  idleSeconds: number;
  pages: { id: string; title: string }[];
}

/** An error the server answered. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

let csrf = "";

/** Remembers the session's CSRF token (in memory only). */
export function setCsrf(token: string): void {
  csrf = token;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method === "POST") {
    headers["content-type"] = "application/json";
    headers["x-csrf-token"] = csrf;
  }
  const r = await fetch(`/console/api${path}`, {
    method,
    headers,
    body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
    credentials: "same-origin",
    cache: "no-store",
  });
  const data = await r.json().catch(() => null) as
    | { error?: { code: string; message: string } }
    | null;
  if (!r.ok) {
    throw new ApiError(
      r.status,
      data?.error?.code ?? "http_error",
      data?.error?.message ?? `HTTP ${r.status}`,
    );
  }
  return data as T;
}

/** GET a console route. */
export function get<T>(path: string): Promise<T> {
  return call<T>("GET", path);
}

/** POST to a console route. */
export function post<T>(path: string, body?: unknown): Promise<T> {
  return call<T>("POST", path, body);
}

let sessionLost: () => void = () => {};

/** What to do when a live stream says the session ended. */
export function onSessionLost(fn: () => void): void {
  sessionLost = fn;
}

/**
 * Follows a server-sent event stream of figures until `stop` is called or
 * the server ends it because the session ended.
 *
 * @returns stop.
 */
export function follow<T>(path: string, onFigures: (f: T) => void): () => void {
  const es = new EventSource(`/console/api${path}`);
  es.addEventListener("figures", (e) => onFigures(JSON.parse((e as MessageEvent).data) as T));
  es.addEventListener("ended", () => {
    es.close();
    sessionLost();
  });
  return () => es.close();
}
