/**
 * The one place that maps domain errors to an HTTP status and the JSON error
 * body `{"error": {"code", "message"}}` (docs/ARCHITECTURE.md, "Contracts
 * other code relies on").
 *
 * Anything that is not a known domain error is a 500 with a fixed message:
 * its detail goes to the log (which redacts hex runs), never to the client.
 *
 * @module
 */
import {
  AuthenticationError,
  ConflictError,
  ForbiddenError,
  IntegrityError,
  NotFoundError,
  PayloadTooLargeError,
  ProtocolError,
  TooManyRequestsError,
  UnauthorizedError,
  UpstreamError,
  ValidationError,
} from "../../src/protocol/errors.ts";
import { StoreError } from "../../src/store/mod.ts";
import { HsmError } from "../../src/hsm/mod.ts";
import { OPERATOR_SCHEME } from "../../src/protocol/operator_request.ts";

/** An error for a route matched by path but not by method (405). */
export class MethodNotAllowedError extends ProtocolError {
  /** The methods the path accepts. */
  readonly allow: string[];
  /**
   * @param method the method used.
   * @param allow the methods the path accepts.
   */
  constructor(method: string, allow: string[]) {
    super("method_not_allowed", `method ${method} not allowed here; allowed: ${allow.join(", ")}`);
    this.allow = allow;
  }
}

/** A request body whose media type the route does not take (415; the code stays `unsupported_media_type`). */
export class UnsupportedMediaTypeError extends ProtocolError {}

/** The precise reasons of refusals whose answer is kept vague on purpose: for the log only. */
const LOG_REASONS = new WeakMap<object, string>();

/**
 * Attaches to a refusal a reason the server logs but never answers (e.g. which
 * of "no such operator" and "wrong signature" it was, which an outsider must not tell apart).
 *
 * @param e the refusal.
 * @param reason what the log line says.
 * @returns `e`.
 */
export function withLogReason<E extends Error>(e: E, reason: string): E {
  LOG_REASONS.set(e, reason);
  return e;
}

/**
 * The reason {@link withLogReason} attached to a refusal.
 *
 * @param e the thrown value.
 * @returns the reason, or `undefined`.
 */
export function logReasonOf(e: unknown): string | undefined {
  return typeof e === "object" && e !== null ? LOG_REASONS.get(e) : undefined;
}

/** What {@link toHttpError} decided: status, code, message, and whether it was expected. */
export interface HttpError {
  status: number;
  code: string;
  message: string;
  /** false for an unexpected error (a bug or a fault below us): logged with its detail. */
  expected: boolean;
}

/**
 * Maps any thrown value to an HTTP status and error body fields.
 *
 * @param e the thrown value.
 * @returns status, code, message (safe to send) and whether the error was a domain error.
 */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof ProtocolError) {
    const status = e instanceof ValidationError
      ? 400
      : e instanceof UnauthorizedError
      ? 401
      : e instanceof AuthenticationError
      ? 401
      : e instanceof ForbiddenError
      ? 403
      : e instanceof NotFoundError
      ? 404
      : e instanceof MethodNotAllowedError
      ? 405
      : e instanceof ConflictError
      ? 409
      : e instanceof PayloadTooLargeError
      ? 413
      : e instanceof UnsupportedMediaTypeError
      ? 415
      : e instanceof IntegrityError
      ? 422
      : e instanceof TooManyRequestsError
      ? 429
      : e instanceof UpstreamError
      ? 502
      : 400;
    return { status, code: e.code, message: e.message, expected: true };
  }
  if (e instanceof HsmError) {
    // What reaches here is a condition of the HSM itself (see HSM_CONDITIONS in hsm.ts), not of
    // the request: the service is unavailable; the log has the HSM's code and message.
    return {
      status: 503,
      code: "hsm_unavailable",
      message: "the HSM cannot serve requests now; the server log has the detail",
      expected: false,
    };
  }
  if (e instanceof StoreError) {
    // A refusal by the database (a race another check did not catch): 409/404; a fault: 503.
    const status = e.code === "conflict" || e.code === "duplicate" || e.code === "tk_reused"
      ? 409
      : e.code === "not_found"
      ? 404
      : e.code === "busy"
      ? 503
      : 500;
    if (status < 500) return { status, code: e.code, message: e.message, expected: true };
    return {
      status,
      code: `store_${e.code}`,
      message: "the store is not available",
      expected: false,
    };
  }
  return {
    status: 500,
    code: "internal_error",
    message: "internal error; the server log has the detail",
    expected: false,
  };
}

/**
 * The JSON error body every answer that refuses a request carries.
 *
 * @param code the stable error code.
 * @param message what was wrong (safe to send: no key material).
 * @returns `{"error": {"code", "message"}}` as text.
 */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/**
 * Builds the JSON error response for a thrown value.
 *
 * @param e the thrown value.
 * @returns the response and the mapped error (for the request log).
 */
export function errorResponse(e: unknown): { response: Response; error: HttpError } {
  const error = toHttpError(e);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (e instanceof MethodNotAllowedError) headers["allow"] = e.allow.join(", ");
  if (error.status === 401) headers["www-authenticate"] = OPERATOR_SCHEME;
  if (e instanceof TooManyRequestsError) {
    headers["retry-after"] = String(Math.max(1, Math.ceil(e.retryAfterMs / 1000)));
  }
  const response = new Response(errorBody(error.code, error.message), {
    status: error.status,
    headers,
  });
  return { response, error };
}
