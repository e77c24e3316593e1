/**
 * Operator requests signed with the operator's own Ed25519 key (RFC 8032,
 * through WebCrypto): each operator has a key pair, the server keeps only
 * the public key, so a database leak lets nobody sign, and the server
 * cannot sign in an operator's name (the audit's "who acted" holds). The
 * bootstrap administrator's shared secret keeps the HMAC scheme of
 * {@link ./operator_request.ts}.
 *
 * ```
 * Authorization: TMK-ED25519 key=<operator id>,ts=<unix seconds>,nonce=<32 hex>,sig=<128 hex>
 * ```
 *
 * where `sig` is the Ed25519 signature of the canonical string
 *
 * ```
 * TMK-ED25519 \n key id \n METHOD \n /path?query \n ts \n nonce \n hex(SHA-256(body))
 * ```
 *
 * The time window and single-use nonce are those of the HMAC scheme.
 *
 * Keys: the private key as PKCS#8 PEM ("PRIVATE KEY"), the public key as
 * its 32 raw bytes in uppercase hex.
 *
 * @module
 */
import { fromHex, toHex } from "../crypto/mod.ts";
import { UnauthorizedError } from "./errors.ts";
import {
  checkOperatorTime,
  OPERATOR_NONCE_BYTES,
  OPERATOR_SCHEME,
  pathAndQueryOf,
  type VerifiedOperatorRequest,
} from "./operator_request.ts";

/** The Ed25519 scheme's name, also the first line of its signed string. */
export const OPERATOR_KEY_SCHEME = "TMK-ED25519";

/**
 * The refusal of a signature that does not verify, one message for every
 * operator id, enrolled or not: the answer must not tell them apart.
 */
export const OPERATOR_SIGNATURE_INVALID =
  "the operator request's signature is not valid (no such operator, a wrong key, or the method, path, time, nonce or body differ from what was signed)";

/** An operator id: the key id of the header. */
export const OPERATOR_ID = /^[a-z][a-z0-9._-]{1,31}$/;

const NONCE = `[0-9a-f]{${2 * OPERATOR_NONCE_BYTES}}`;
const KEY_HEADER = new RegExp(
  `^${OPERATOR_KEY_SCHEME} key=([a-z][a-z0-9._-]{1,31}),ts=([0-9]{1,12}),nonce=(${NONCE}),sig=([0-9a-f]{128})$`,
);
const enc = new TextEncoder();
const ED25519 = { name: "Ed25519" } as const;

/** A request as both ends see it. */
export interface SignedRequestParts {
  method: string;
  url: string | URL;
  body: Uint8Array;
}

/** The string an operator's key signs. */
export async function operatorKeyCanonicalString(
  keyId: string,
  method: string,
  pathAndQuery: string,
  ts: number,
  nonce: string,
  body: Uint8Array,
): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>);
  return [
    OPERATOR_KEY_SCHEME,
    keyId,
    method.toUpperCase(),
    pathAndQuery,
    String(ts),
    nonce,
    toHex(new Uint8Array(digest), { case: "lower" }),
  ].join("\n");
}

/** A new operator key pair. */
export interface OperatorKeyPair {
  /** PKCS#8 PEM: the operator keeps it (a file of mode 0600). */
  privateKeyPem: string;
  /** 64 uppercase hex digits: what the server stores. */
  publicKey: string;
}

function pem(der: Uint8Array): string {
  const b64 = btoa(String.fromCharCode(...der));
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

/**
 * Makes an operator key pair.
 *
 * @returns the private key (PEM) and the public key (hex).
 */
export async function generateOperatorKey(): Promise<OperatorKeyPair> {
  const k = await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"]) as CryptoKeyPair;
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", k.privateKey));
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", k.publicKey));
  return { privateKeyPem: pem(der), publicKey: toHex(raw) };
}

/**
 * Reads an operator's private key.
 *
 * @param text PKCS#8 PEM of an Ed25519 key.
 * @returns the signing key and its public key (hex).
 * @throws {RangeError} if it is not an Ed25519 PKCS#8 PEM key (the text is never echoed).
 */
export async function importOperatorKey(
  text: string,
): Promise<{ privateKey: CryptoKey; publicKey: string }> {
  const m = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(
    String(text),
  );
  if (!m) throw new RangeError("the operator key must be a PKCS#8 PEM block (BEGIN PRIVATE KEY)");
  const der = Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey("pkcs8", der, ED25519, true, ["sign"]);
  } catch {
    throw new RangeError("the operator key is not an Ed25519 PKCS#8 private key");
  }
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const x = jwk.x!.replace(/-/g, "+").replace(/_/g, "/");
  const raw = Uint8Array.from(atob(x + "=".repeat((4 - x.length % 4) % 4)), (c) => c.charCodeAt(0));
  return { privateKey, publicKey: toHex(raw) };
}

/**
 * The `Authorization` header of one request signed with an operator's key.
 *
 * @param key the operator's signing key.
 * @param keyId the operator's id.
 * @param request method, absolute URL, body bytes.
 * @param at the signing time (default now) and nonce (default random).
 * @returns the header value.
 * @throws {RangeError} for a bad operator id or nonce.
 */
export async function signOperatorRequestWithKey(
  key: CryptoKey,
  keyId: string,
  request: SignedRequestParts,
  at: { now?: Date; nonce?: string } = {},
): Promise<string> {
  if (!OPERATOR_ID.test(keyId)) {
    throw new RangeError("keyId must be 2-32 characters a-z 0-9 . _ - starting with a letter");
  }
  const ts = Math.floor((at.now ?? new Date()).getTime() / 1000);
  const nonce = at.nonce ??
    toHex(crypto.getRandomValues(new Uint8Array(OPERATOR_NONCE_BYTES)), { case: "lower" });
  if (!new RegExp(`^${NONCE}$`).test(nonce)) {
    throw new RangeError(`nonce must be ${2 * OPERATOR_NONCE_BYTES} lowercase hex digits`);
  }
  const text = await operatorKeyCanonicalString(
    keyId,
    request.method,
    pathAndQueryOf(request.url),
    ts,
    nonce,
    request.body,
  );
  const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", key, enc.encode(text)));
  return `${OPERATOR_KEY_SCHEME} key=${keyId},ts=${ts},nonce=${nonce},sig=${
    toHex(sig, { case: "lower" })
  }`;
}

/** An Ed25519 header taken apart (not yet verified). */
export interface OperatorKeyHeader {
  keyId: string;
  ts: number;
  nonce: string;
  sig: Uint8Array;
}

/**
 * Which scheme an `Authorization` header uses, and for Ed25519 its parts.
 *
 * @param header the header value, or null.
 * @returns `hmac` (the bootstrap administrator's secret), or the Ed25519 parts.
 * @throws {UnauthorizedError} `unauthorized` for no header or a malformed Ed25519 one.
 */
export function parseOperatorHeader(
  header: string | null,
): { scheme: "hmac" } | { scheme: "ed25519"; parts: OperatorKeyHeader } {
  if (header === null || header === "") {
    throw new UnauthorizedError(
      "unauthorized",
      `this operator API needs an Authorization: ${OPERATOR_KEY_SCHEME} (or ${OPERATOR_SCHEME}) header`,
    );
  }
  if (!header.startsWith(`${OPERATOR_KEY_SCHEME} `)) return { scheme: "hmac" };
  const m = KEY_HEADER.exec(header);
  if (!m) {
    throw new UnauthorizedError(
      "unauthorized",
      `the Authorization header must be "${OPERATOR_KEY_SCHEME} key=<operator id>,ts=<unix seconds>,nonce=<${
        2 * OPERATOR_NONCE_BYTES
      } hex>,sig=<128 hex>"`,
    );
  }
  return {
    scheme: "ed25519",
    parts: { keyId: m[1], ts: Number(m[2]), nonce: m[3], sig: fromHex(m[4], { case: "any" }) },
  };
}

/**
 * Verifies an Ed25519-signed operator request against the operator's public key.
 *
 * @param publicKey the operator's public key (64 hex digits).
 * @param parts the parsed header.
 * @param request method, URL and body bytes as received.
 * @param now the server's clock.
 * @returns the nonce and how long to remember it.
 * @throws {UnauthorizedError} `unauthorized` (wrong signature), `request_expired`.
 */
export async function verifyOperatorRequestWithKey(
  publicKey: string,
  parts: OperatorKeyHeader,
  request: SignedRequestParts,
  now: Date = new Date(),
): Promise<VerifiedOperatorRequest> {
  const key = await crypto.subtle.importKey(
    "raw",
    fromHex(publicKey, { case: "any" }),
    ED25519,
    false,
    ["verify"],
  );
  const text = await operatorKeyCanonicalString(
    parts.keyId,
    request.method,
    pathAndQueryOf(request.url),
    parts.ts,
    parts.nonce,
    request.body,
  );
  if (
    !(await crypto.subtle.verify(
      "Ed25519",
      key,
      parts.sig as Uint8Array<ArrayBuffer>,
      enc.encode(text),
    ))
  ) {
    throw new UnauthorizedError("unauthorized", OPERATOR_SIGNATURE_INVALID);
  }
  return checkOperatorTime(parts.ts, parts.nonce, now);
}
