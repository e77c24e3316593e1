/**
 * Signed operator requests: the operator API (order creation, transfer,
 * bulk issuance, terminal status, unlocking a terminal) authenticated per
 * request, so that a captured request cannot be sent again.
 *
 * The operator's secret (the server's `--token`) never travels. Each request
 * carries
 *
 * ```
 * Authorization: TMK-HMAC-SHA256 ts=<unix seconds>,nonce=<32 hex digits>,sig=<64 hex digits>
 * ```
 *
 * where `sig` is HMAC-SHA256 (FIPS 198-1, RFC 2104) under the UTF-8 bytes of
 * the secret over the canonical string
 *
 * ```
 * TMK-HMAC-SHA256 \n METHOD \n /path?query \n ts \n nonce \n hex(SHA-256(body))
 * ```
 *
 * (newline-separated, no spaces). The server accepts a request only if the
 * signature matches (compared in constant time), `ts` is within
 * {@link OPERATOR_WINDOW_S} seconds of its clock, and the nonce has not been
 * seen in that window (the server remembers it in its store before the
 * handler runs, so two copies sent at once cannot both pass). A replayed
 * request is refused with `request_replayed` whatever its first outcome was.
 *
 * @module
 */
import { fromHex, timingSafeEqual, toHex } from "../crypto/mod.ts";
import { UnauthorizedError } from "./errors.ts";

/** The authorization scheme's name, also the first line of the signed string. */
export const OPERATOR_SCHEME = "TMK-HMAC-SHA256";

/** How far `ts` may be from the server's clock, in seconds, either way. */
export const OPERATOR_WINDOW_S = 300;

/** Nonce size in bytes (hex on the wire). */
export const OPERATOR_NONCE_BYTES = 16;

const HEADER_RE = new RegExp(
  `^${OPERATOR_SCHEME} ts=([0-9]{1,12}),nonce=([0-9a-f]{${
    2 * OPERATOR_NONCE_BYTES
  }}),sig=([0-9a-f]{64})$`,
);

const enc = new TextEncoder();

/** Lowercase hex, the header's and the canonical string's form. */
function hexOf(b: ArrayBuffer | Uint8Array): string {
  return toHex(b instanceof Uint8Array ? b : new Uint8Array(b), { case: "lower" });
}

function checkSecret(secret: unknown): asserts secret is string {
  if (typeof secret !== "string") {
    throw new TypeError(`operator secret must be a string, got ${typeof secret}`);
  }
  if (secret.length < 16) {
    throw new RangeError(
      `operator secret must be at least 16 characters, got ${secret.length}`,
    );
  }
}

/** The string the HMAC covers (exported for tests and other clients). */
export async function operatorCanonicalString(
  method: string,
  pathAndQuery: string,
  ts: number,
  nonce: string,
  body: Uint8Array,
): Promise<string> {
  const bodyHash = hexOf(await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>));
  return [OPERATOR_SCHEME, method.toUpperCase(), pathAndQuery, String(ts), nonce, bodyHash].join(
    "\n",
  );
}

/** HMAC-SHA256 under the secret of one request's canonical string. */
async function requestMac(
  secret: string,
  request: { method: string; url: string | URL; body: Uint8Array },
  ts: number,
  nonce: string,
): Promise<Uint8Array> {
  return await hmac(
    secret,
    await operatorCanonicalString(
      request.method,
      pathAndQueryOf(request.url),
      ts,
      nonce,
      request.body,
    ),
  );
}

async function hmac(secret: string, message: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(message)));
}

/** The path and query of a request URL, as signed. */
export function pathAndQueryOf(url: string | URL): string {
  const u = typeof url === "string" ? new URL(url) : url;
  return u.pathname + u.search;
}

/**
 * The `Authorization` header value of one operator request.
 *
 * @param secret the operator secret (at least 16 characters).
 * @param request method, absolute URL and body bytes (empty for none).
 * @param at the signing time (default now) and nonce (default random); tests pass both.
 * @returns the header value.
 * @throws {TypeError}/{RangeError} for a bad secret, method or nonce.
 * @example
 * ```ts
 * const h = await signOperatorRequest("0123456789abcdef", {
 *   method: "GET",
 *   url: "http://127.0.0.1:8443/v1/terminals/SN1",
 *   body: new Uint8Array(0),
 * });
 * ```
 */
export async function signOperatorRequest(
  secret: string,
  request: { method: string; url: string | URL; body: Uint8Array },
  at: { now?: Date; nonce?: string } = {},
): Promise<string> {
  checkSecret(secret);
  if (typeof request.method !== "string" || !/^[A-Za-z]+$/.test(request.method)) {
    throw new TypeError(`method must be an HTTP method name, got ${String(request.method)}`);
  }
  const ts = Math.floor((at.now ?? new Date()).getTime() / 1000);
  let nonce = at.nonce;
  if (nonce === undefined) {
    const b = new Uint8Array(OPERATOR_NONCE_BYTES);
    crypto.getRandomValues(b);
    nonce = hexOf(b);
  } else if (!new RegExp(`^[0-9a-f]{${2 * OPERATOR_NONCE_BYTES}}$`).test(nonce)) {
    throw new RangeError(`nonce must be ${2 * OPERATOR_NONCE_BYTES} lowercase hex digits`);
  }
  const sig = hexOf(await requestMac(secret, request, ts, nonce));
  return `${OPERATOR_SCHEME} ts=${ts},nonce=${nonce},sig=${sig}`;
}

/** What a verified operator request proved: its nonce, to be remembered until `expiresAt`. */
export interface VerifiedOperatorRequest {
  nonce: string;
  expiresAt: Date;
}

/**
 * Checks one operator request's `Authorization` header (not its nonce's
 * freshness: the caller remembers the nonce atomically in its store).
 *
 * @param secret the operator secret.
 * @param header the `Authorization` header value, or null.
 * @param request method, URL and body bytes as received.
 * @param now the server's clock.
 * @returns the nonce and how long to remember it.
 * @throws {UnauthorizedError} `unauthorized` (no or malformed header, or a wrong signature),
 *   `request_expired` (`ts` outside the window).
 */
export async function verifyOperatorRequest(
  secret: string,
  header: string | null,
  request: { method: string; url: string | URL; body: Uint8Array },
  now: Date = new Date(),
): Promise<VerifiedOperatorRequest> {
  checkSecret(secret);
  if (header === null || header === "") {
    throw new UnauthorizedError(
      "unauthorized",
      `this operator API needs an Authorization: ${OPERATOR_SCHEME} header`,
    );
  }
  const m = HEADER_RE.exec(header);
  if (!m) {
    throw new UnauthorizedError(
      "unauthorized",
      `the Authorization header must be "${OPERATOR_SCHEME} ts=<unix seconds>,nonce=<${
        2 * OPERATOR_NONCE_BYTES
      } hex>,sig=<64 hex>"`,
    );
  }
  const ts = Number(m[1]);
  const nonce = m[2];
  const expected = await requestMac(secret, request, ts, nonce);
  const given = fromHex(m[3], { case: "any" });
  if (!timingSafeEqual(expected, given)) {
    throw new UnauthorizedError(
      "unauthorized",
      "the operator request's signature is not valid (wrong secret, or the method, path, time, nonce or body differ from what was signed)",
    );
  }
  return checkOperatorTime(ts, nonce, now);
}

/**
 * Checks a signed request's time against the server's clock and says how
 * long to remember its nonce.
 *
 * @param ts the signing time, unix seconds.
 * @param nonce the request's nonce.
 * @param now the server's clock.
 * @returns the nonce and until when to remember it.
 * @throws {UnauthorizedError} `request_expired` outside {@link OPERATOR_WINDOW_S}.
 */
export function checkOperatorTime(ts: number, nonce: string, now: Date): VerifiedOperatorRequest {
  const skew = ts - now.getTime() / 1000;
  if (Math.abs(skew) > OPERATOR_WINDOW_S) {
    throw new UnauthorizedError(
      "request_expired",
      `the operator request was signed ${Math.round(Math.abs(skew))} s ${
        skew < 0 ? "ago" : "ahead of this server's clock"
      }; the window is ${OPERATOR_WINDOW_S} s`,
    );
  }
  return { nonce, expiresAt: new Date((ts + OPERATOR_WINDOW_S + 1) * 1000) };
}
