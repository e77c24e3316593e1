/**
 * Structured logs: one JSON object per line, `{ts, level, event, ...fields}`.
 *
 * Callers log identifiers, counts, codes and KCVs, never keys. As a second
 * line of defence every string written is passed through {@link redact},
 * which replaces any run of 32 or more hex digits (the shortest clear key we
 * handle is 16 bytes = 32 hex digits) with a marker, so a key that slipped
 * into an error message or a field still does not reach the log.
 *
 * @module
 */

/** Log severity. */
export type Level = "debug" | "info" | "warn" | "error";

/** Fields of a log line: JSON-serialisable values. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** A structured logger. */
export interface Logger {
  /**
   * Writes one line.
   *
   * @param level severity.
   * @param event a stable dotted name, e.g. `http.request`, `tk.imported`.
   * @param fields identifiers, counts, codes (no key material).
   */
  log(level: Level, event: string, fields?: LogFields): void;
}

const HEX_RUN = /[0-9A-Fa-f]{32,}/g;

/** What a redacted hex run becomes. */
const marker = (run: string) => `[redacted ${run.length} hex]`;

/**
 * Replaces every run of 32 or more hex digits with `[redacted N hex]`.
 *
 * @param s any string.
 * @returns the string with long hex runs removed.
 */
export function redact(s: string): string {
  return s.replace(HEX_RUN, marker);
}

/**
 * A hex run in JSON text that does not begin inside a `\uXXXX` escape. JSON.stringify
 * writes control characters and lone surrogates as such escapes, whose digits would
 * otherwise join a hex run that follows and be cut from their `\u`.
 */
const JSON_HEX_RUN = /(?<!\\u[0-9A-Fa-f]{0,3})[0-9A-Fa-f]{32,}/g;

/** {@link redact} over JSON text, leaving its escapes whole (the line stays valid JSON). */
function redactJson(s: string): string {
  return s.replace(JSON_HEX_RUN, marker);
}

/**
 * A logger writing JSON lines to a sink.
 *
 * @param sink receives each line without its newline (default: stderr).
 * @param minLevel lowest level written (default `info`).
 * @returns the logger.
 */
export function jsonLogger(
  sink: (line: string) => void = (line) => console.error(line),
  minLevel: Level = "info",
): Logger {
  const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  return {
    log(level, event, fields = {}) {
      if (order[level] < order[minLevel]) return;
      const line: Record<string, unknown> = { ts: new Date().toISOString(), level, event };
      for (const [k, v] of Object.entries(fields)) {
        if (v !== undefined) line[k] = typeof v === "string" ? redact(v) : v;
      }
      sink(redactJson(JSON.stringify(line)));
    },
  };
}

/**
 * A logger that keeps lines in memory (tests and the demo scan them).
 *
 * @returns the logger and the array of lines it wrote.
 */
export function memoryLogger(minLevel: Level = "debug"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: jsonLogger((l) => lines.push(l), minLevel), lines };
}

/** How a request that ended without an answer is logged. */
export interface EndedOutcome {
  /** 499 (client closed the request) or 408 (it timed out). */
  status: 408 | 499;
  code: "client_closed_request" | "request_timeout";
  level: Level;
}

/**
 * Tells a request its client abandoned (or that timed out) from a server fault:
 * the server aborts the request's signal when its connection closes early.
 *
 * @param signal the request's signal.
 * @returns the outcome to log, or `undefined` while the client is still there.
 */
export function endedOutcome(signal: AbortSignal): EndedOutcome | undefined {
  if (!signal.aborted) return undefined;
  const reason = signal.reason;
  if (reason instanceof DOMException && reason.name === "TimeoutError") {
    return { status: 408, code: "request_timeout", level: "warn" };
  }
  return { status: 499, code: "client_closed_request", level: "info" };
}
