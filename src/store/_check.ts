/**
 * Argument checks at the store boundary: `TypeError` for a wrong type,
 * `RangeError` for a wrong form, each naming the argument and what was
 * expected. Values that could be key material are never echoed back.
 *
 * @module
 */
import type {
  AuditInput,
  AuditQuery,
  ChallengeInput,
  CollectedTkInput,
  HsmKeyInput,
  ImportedTk,
  IssueTmksOptions,
  OrderState,
  TerminalFilter,
  TkBatchInput,
  TmkIssue,
  TransportKeyInput,
} from "./types.ts";

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object";
  return typeof value;
}

/** Shows a short identifier in an error (ids, SNs: not secrets); long values are cut. */
function show(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + "..." : s);
}

/** Identifiers: order ids, SNs, challenge ids, nonce scopes. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** Throws unless `v` is a string. */
export function checkString(name: string, v: unknown): asserts v is string {
  if (typeof v !== "string") throw new TypeError(`${name} must be a string, got ${describe(v)}`);
}

/** An identifier: 1-64 characters of A-Z a-z 0-9 . _ : - starting with a letter or digit. */
export function checkId(name: string, v: unknown): asserts v is string {
  checkString(name, v);
  if (!ID.test(v)) {
    throw new RangeError(
      `${name} must be 1-64 characters A-Z a-z 0-9 . _ : - starting with a letter or digit, got ${
        show(v)
      }`,
    );
  }
}

/** Uppercase hex of `min`..`max` characters (even length). Not echoed: it may be a MAC or hash. */
export function checkHex(name: string, v: unknown, min: number, max: number): asserts v is string {
  checkString(name, v);
  if (!/^(?:[0-9A-F]{2})*$/.test(v)) {
    throw new RangeError(`${name} must be uppercase hex of even length`);
  }
  if (v.length < min || v.length > max) {
    throw new RangeError(
      `${name} must be ${min === max ? min : `${min} to ${max}`} hex characters, got ${v.length}`,
    );
  }
}

/** A KCV: 4 to 16 uppercase hex characters (2-8 bytes). */
export function checkKcv(name: string, v: unknown): asserts v is string {
  checkHex(name, v, 4, 16);
}

/** A SHA-256 hash: 64 uppercase hex characters. */
export function checkHash(name: string, v: unknown): asserts v is string {
  checkHex(name, v, 64, 64);
}

const KEY_BLOCK = /^[A-Z][0-9]{4}[\x20-\x7e]{11,}$/;

/**
 * A TR-31 key block in form: version letter, a 4-digit length equal to the
 * string's length, printable ASCII, at least a fixed header and one cipher
 * block. The contents are checked only by the HSM that can unwrap it.
 */
export function checkKeyBlock(name: string, v: unknown): asserts v is string {
  checkString(name, v);
  if (!KEY_BLOCK.test(v) || Number(v.slice(1, 5)) !== v.length || v.length < 32) {
    throw new RangeError(
      `${name} must be a TR-31 key block (version letter, 4-digit length equal to its length, printable ASCII), got ${v.length} characters that are not`,
    );
  }
}

/** A key under a transport key: a TR-31 key block, or uppercase hex of whole 8-byte blocks. */
export function checkWrapped(name: string, v: unknown): asserts v is string {
  checkString(name, v);
  if (/^(?:[0-9A-F]{16})+$/.test(v) && v.length <= 1024) return;
  if (KEY_BLOCK.test(v) && Number(v.slice(1, 5)) === v.length && v.length >= 32) return;
  throw new RangeError(
    `${name} must be a TR-31 key block or uppercase hex of whole 8-byte blocks (at most 512 bytes)`,
  );
}

/** Text of 1..`max` characters. */
export function checkText(name: string, v: unknown, max: number): asserts v is string {
  checkString(name, v);
  if (v.length === 0 || v.length > max) {
    throw new RangeError(`${name} must be 1 to ${max} characters, got ${v.length}`);
  }
}

/** A valid `Date`. */
export function checkDate(name: string, v: unknown): asserts v is Date {
  if (!(v instanceof Date)) throw new TypeError(`${name} must be a Date, got ${describe(v)}`);
  if (Number.isNaN(v.getTime())) {
    throw new RangeError(`${name} must be a valid Date, got Invalid Date`);
  }
}

/** An integer in `min..max`. */
export function checkInt(name: string, v: unknown, min: number, max: number): asserts v is number {
  if (typeof v !== "number") throw new TypeError(`${name} must be a number, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  }
}

/** Largest page the store returns. */
export const MAX_PAGE = 10000;

/** Checks page options; returns `after` ("" for the first page) and `limit`. */
export function checkPage(page: unknown): { after: string; limit: number } {
  if (page === null || typeof page !== "object") {
    throw new TypeError(`page must be an object { after?, limit }, got ${describe(page)}`);
  }
  const p = page as { after?: unknown; limit?: unknown };
  checkInt("page.limit", p.limit, 1, MAX_PAGE);
  if (p.after !== undefined) checkId("page.after", p.after);
  return { after: (p.after as string | undefined) ?? "", limit: p.limit as number };
}

/** Checks that `v` is one of `allowed`. */
export function checkOneOf<T extends string>(
  name: string,
  v: unknown,
  allowed: readonly T[],
): asserts v is T {
  checkString(name, v);
  if (!(allowed as readonly string[]).includes(v)) {
    throw new RangeError(
      `${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${show(v)}`,
    );
  }
}

/** Checks that `v` is a non-null object. */
export function checkObject(name: string, v: unknown): asserts v is Record<string, unknown> {
  if (v === null || typeof v !== "object") {
    throw new TypeError(`${name} must be an object, got ${describe(v)}`);
  }
}

/** Throws unless `t` is a TK of a batch (SN, key block under the LMK, KCV, SHA-256), naming `tks[i]`. */
export function checkImportedTk(i: number, t: unknown): asserts t is ImportedTk {
  checkObject(`tks[${i}]`, t);
  checkId(`tks[${i}].sn`, t.sn);
  checkKeyBlock(`tks[${i}].tkBlock`, t.tkBlock);
  checkKcv(`tks[${i}].tkKcv`, t.tkKcv);
  checkHash(`tks[${i}].tkHash`, t.tkHash);
}

/** Throws unless `t` is a TMK issue (SN, key blocks, KCV, time), naming `name`. */
export function checkTmkIssue(name: string, t: unknown): asserts t is TmkIssue {
  checkObject(name, t);
  checkId(`${name}.sn`, t.sn);
  checkKeyBlock(`${name}.tmkBlock`, t.tmkBlock);
  if (t.tmkUnderTk !== null) checkWrapped(`${name}.tmkUnderTk`, t.tmkUnderTk);
  checkKcv(`${name}.tmkKcv`, t.tmkKcv);
  checkDate(`${name}.issuedAt`, t.issuedAt);
}

/** The arguments of `stageTks` (a streamed batch's chunk), each named in the error. */
export function checkStageTks(
  uploadId: unknown,
  firstSeq: unknown,
  tks: unknown,
  at: unknown,
): asserts tks is readonly ImportedTk[] {
  checkId("uploadId", uploadId);
  checkInt("firstSeq", firstSeq, 0, 2 ** 31 - 1);
  if (!Array.isArray(tks)) throw new TypeError("tks must be an array of TKs");
  tks.forEach((t, i) => checkImportedTk(i, t));
  checkDate("at", at);
}

/** The states of an order. */
export const ORDER_STATES: readonly OrderState[] = ["collecting", "transferred", "imported"];
/** The filters of `listTerminals`. */
export const FILTERS: readonly TerminalFilter[] = ["all", "without_tmk", "with_tmk"];
const MAX_CERT = 16384;
const MAX_PUBLIC_KEY = 4096;
const NONCE = /^[A-Za-z0-9+/=_.:-]{1,256}$/;

/** The argument of `createOrder`. */
export function checkOrderInput(order: {
  orderId: string;
  state: OrderState;
  createdAt: Date;
  serialNumbers?: Iterable<string>;
}): void {
  checkObject("order", order);
  checkId("order.orderId", order.orderId);
  checkOneOf("order.state", order.state, ORDER_STATES);
  checkDate("order.createdAt", order.createdAt);
  const sns = order.serialNumbers;
  if (sns !== undefined && (sns === null || typeof sns[Symbol.iterator] !== "function")) {
    throw new TypeError("order.serialNumbers must be an iterable of strings");
  }
}

/** The argument of `putCollectedTk`. */
export function checkCollectedTk(tk: CollectedTkInput): void {
  checkObject("tk", tk);
  checkId("tk.orderId", tk.orderId);
  checkId("tk.sn", tk.sn);
  checkKeyBlock("tk.tkBlock", tk.tkBlock);
  checkKcv("tk.tkKcv", tk.tkKcv);
  checkHash("tk.tkHash", tk.tkHash);
  if (tk.mac !== undefined && tk.mac !== null) checkHex("tk.mac", tk.mac, 8, 64);
  checkDate("tk.uploadedAt", tk.uploadedAt);
}

/** The argument of `importTkBatch` (its TKs are checked as they are read). */
export function checkTkBatch(batch: TkBatchInput): void {
  checkObject("batch", batch);
  checkId("batch.orderId", batch.orderId);
  checkHash("batch.bodyHash", batch.bodyHash);
  checkDate("batch.receivedAt", batch.receivedAt);
  const tks = batch.tks as unknown;
  if (
    tks === null || typeof tks !== "object" ||
    (typeof (tks as Iterable<unknown>)[Symbol.iterator] !== "function" &&
      typeof (tks as AsyncIterable<unknown>)[Symbol.asyncIterator] !== "function")
  ) {
    throw new TypeError("batch.tks must be an iterable or async iterable of TKs");
  }
  if (batch.auditActor !== undefined) checkText("batch.auditActor", batch.auditActor, 200);
}

/** The arguments of `listStagedTks`. */
export function checkStagedPage(uploadId: string, page: { after: number; limit: number }): void {
  checkId("uploadId", uploadId);
  checkObject("page", page);
  checkInt("page.after", page.after, -1, 2 ** 31 - 1);
  checkInt("page.limit", page.limit, 1, MAX_PAGE);
}

/** The arguments of `issueTmks`. */
export function checkTmkIssues(issues: readonly TmkIssue[], options: IssueTmksOptions): void {
  if (!Array.isArray(issues)) {
    throw new TypeError("issues must be an array of TMK issues");
  }
  issues.forEach((t, i) => checkTmkIssue(`issues[${i}]`, t));
  checkObject("options", options);
  if (options.auditActor !== undefined) {
    checkText("options.auditActor", options.auditActor, 200);
  }
}

/** The arguments of `setHsmKey`. */
export function checkHsmKey(sn: string, key: HsmKeyInput): void {
  checkId("sn", sn);
  checkObject("key", key);
  checkText("key.puHsmCert", key.puHsmCert, MAX_CERT);
  checkKeyBlock("key.prHsmBlock", key.prHsmBlock);
  checkDate("key.at", key.at);
  if (key.replace !== undefined && typeof key.replace !== "boolean") {
    throw new TypeError(`key.replace must be a boolean, got ${typeof key.replace}`);
  }
}

/** The arguments of `setTransportKey`. */
export function checkTransportKey(sn: string, tk: TransportKeyInput): void {
  checkId("sn", sn);
  checkObject("tk", tk);
  checkKeyBlock("tk.aukBlock", tk.aukBlock);
  checkText("tk.puTek", tk.puTek, MAX_PUBLIC_KEY);
  checkHash("tk.tkHash", tk.tkHash);
  checkKcv("tk.tkKcv", tk.tkKcv);
  checkDate("tk.at", tk.at);
}

/** The arguments of `recordAuthFailure`. */
export function checkAuthFailure(sn: string, options: { maxFailures: number; at: Date }): void {
  checkId("sn", sn);
  checkObject("options", options);
  checkInt("options.maxFailures", options.maxFailures, 1, 1_000_000);
  checkDate("options.at", options.at);
}

/** The arguments of `recordAuthSuccess`. */
export function checkAuthSuccess(
  sn: string,
  options: { sessionExpiresAt: Date; at: Date; sessionContext?: string },
): void {
  checkId("sn", sn);
  checkObject("options", options);
  checkDate("options.sessionExpiresAt", options.sessionExpiresAt);
  if (options.sessionContext !== undefined) {
    checkHex("options.sessionContext", options.sessionContext, 16, 128);
  }
  checkDate("options.at", options.at);
}

/** The argument of `createChallenge`. */
export function checkChallenge(c: ChallengeInput): void {
  checkObject("challenge", c);
  checkId("challenge.id", c.id);
  checkId("challenge.sn", c.sn);
  checkHex("challenge.rnd", c.rnd, 16, 128);
  if (c.rnd1 !== undefined) checkHex("challenge.rnd1", c.rnd1, 16, 128);
  checkDate("challenge.createdAt", c.createdAt);
  checkDate("challenge.expiresAt", c.expiresAt);
  if (c.expiresAt.getTime() <= c.createdAt.getTime()) {
    throw new RangeError("challenge.expiresAt must be after challenge.createdAt");
  }
}

/** The arguments of `rememberNonce`. */
export function checkNonce(scope: string, nonce: string, expiresAt: Date): void {
  checkId("scope", scope);
  checkString("nonce", nonce);
  if (!NONCE.test(nonce)) {
    throw new RangeError("nonce must be 1-256 characters of A-Z a-z 0-9 + / = _ . : -");
  }
  checkDate("expiresAt", expiresAt);
}

/** The argument of `appendAudit`: facts only, each field in its form and length. */
export function checkAuditInput(e: AuditInput): void {
  checkObject("event", e);
  checkDate("event.at", e.at);
  checkText("event.actor", e.actor, 200);
  checkString("event.event", e.event);
  if (!/^[a-z][a-z0-9_.]{0,63}$/.test(e.event)) {
    throw new RangeError(
      `event.event must be a lowercase name of 1-64 characters a-z 0-9 _ ., got ${
        JSON.stringify(e.event.slice(0, 64))
      }`,
    );
  }
  if (e.subject != null) checkText("event.subject", e.subject, 200);
  if (e.keyId != null) checkText("event.keyId", e.keyId, 200);
  if (e.kcv != null) checkKcv("event.kcv", e.kcv);
  checkOneOf("event.outcome", e.outcome, ["success", "failure"] as const);
  if (e.detail != null) checkText("event.detail", e.detail, 500);
}

/** The argument of `listAudit`; returns `afterId` (0 for the first page). */
export function checkAuditQuery(q: AuditQuery): number {
  checkObject("query", q);
  checkInt("query.limit", q.limit, 1, MAX_PAGE);
  const afterId = q.afterId ?? 0;
  checkInt("query.afterId", afterId, 0, Number.MAX_SAFE_INTEGER);
  if (q.subject !== undefined) checkText("query.subject", q.subject, 200);
  if (q.event !== undefined) checkText("query.event", q.event, 64);
  return afterId;
}
