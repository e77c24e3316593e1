/**
 * Domain errors shared by servers and devices. Each carries a stable `code`
 * (snake_case) that goes on the wire as `{"error": {"code", "message"}}`;
 * servers map the class to an HTTP status in one place
 * (`servers/_lib/errors.ts`), and devices turn an error body back into a
 * {@link RemoteError} with the same code.
 *
 * Messages never contain key material: they name fields, lengths, counts
 * and identifiers (serial numbers, order ids), never key bytes.
 *
 * @module
 */

/** Base class of every domain error: a stable machine-readable `code`. */
export class ProtocolError extends Error {
  /** Stable snake_case reason, e.g. `rnd_mismatch`. */
  readonly code: string;
  /**
   * @param code stable snake_case reason.
   * @param message human-readable detail (no key material).
   */
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Malformed input: bad JSON, a missing, unknown or badly formatted field. */
export class ValidationError extends ProtocolError {}

/** A request body over its size cap. */
export class PayloadTooLargeError extends ProtocolError {}

/** An unknown order, terminal, route or resource. */
export class NotFoundError extends ProtocolError {}

/** The request is well-formed but the resource's state refuses it (already delivered, not issued, a different batch for the same order). */
export class ConflictError extends ProtocolError {}

/** An operator API request without a valid signature, outside its time window, or replayed. */
export class UnauthorizedError extends ProtocolError {}

/**
 * An authenticated operator may not do this: the route needs another role
 * (`role_required`), or dual control refused it (`same_operator`).
 */
export class ForbiddenError extends ProtocolError {}

/**
 * The operator authentication of flow A (S6-S9) or a signed upload failed.
 * Codes: `certificate_invalid`, `certificate_expired`, `certificate_not_yet_valid`,
 * `certificate_untrusted`, `cryptogram_invalid`, `rnd_mismatch`, `rnd_unknown`
 * (never issued, or already used: a replay), `time_outside_window`,
 * `card_absent`, `not_authenticated`, `signature_invalid`; on flow A's device
 * routes `nonce_invalid`, `nonce_expired`, `nonce_used`, `proof_invalid`.
 */
export class AuthenticationError extends ProtocolError {}

/** Too many failures from this caller or for this terminal: try again after `retryAfterMs`. */
export class TooManyRequestsError extends ProtocolError {
  /** How long to wait, in ms. */
  readonly retryAfterMs: number;
  /**
   * @param code the error code.
   * @param message what was limited.
   * @param retryAfterMs how long to wait, in ms.
   */
  constructor(code: string, message: string, retryAfterMs: number) {
    super(code, message);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Cryptographic integrity failed: a MAC, a KCV or a TK hash that does not
 * match (`mac_invalid`, `kcv_mismatch`, `tk_hash_mismatch`, `decrypt_failed`).
 */
export class IntegrityError extends ProtocolError {}

/** A server this one depends on refused or failed (e.g. KMS refused the MTMS's batch). */
export class UpstreamError extends ProtocolError {}

/** An error answer from a server, as seen by a client (a device or the demo). */
export class RemoteError extends ProtocolError {
  /** HTTP status of the answer. */
  readonly status: number;
  /** From a `Retry-After` header in seconds (a 429 or 503): when to try again, in ms. */
  readonly retryAfterMs?: number;
  /**
   * @param status HTTP status.
   * @param code the `error.code` of the body.
   * @param message the `error.message` of the body.
   * @param retryAfterMs the answer's `Retry-After`, in ms, if it had one.
   */
  constructor(status: number, code: string, message: string, retryAfterMs?: number) {
    super(code, `${status} ${code}: ${message}`);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}
