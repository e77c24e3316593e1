/**
 * Who may use the operator console and for how long: operators with a
 * password hashed with argon2id (RFC 9106, through hash-wasm), sessions held
 * in server memory behind an opaque cookie (`Secure; HttpOnly;
 * SameSite=Strict`), a CSRF token per session, idle and absolute expiry, a
 * lock after repeated failed logins, a limit on login attempts per source
 * address (checked before any password is hashed), and the role of each
 * operator.
 *
 * The directory of operators is an interface so that the console can take
 * its people from any source: {@link staticDirectory} reads them from a list
 * of records (the `--console-users` file), each with its role and PHC-encoded
 * argon2id hash.
 *
 * @module
 */
import { argon2id, argon2Verify } from "hash-wasm";
import { timingSafeEqual, toHex } from "../../src/crypto/mod.ts";
import { FailureLimiter } from "./rate_limit.ts";

/** What an operator may do in the console. */
export const CONSOLE_ROLES = ["operator", "supervisor", "custodian", "auditor"] as const;

/** One of {@link CONSOLE_ROLES}. */
export type ConsoleRole = typeof CONSOLE_ROLES[number];

/** A person the console knows. */
export interface ConsoleOperator {
  readonly id: string;
  readonly name: string;
  readonly role: ConsoleRole;
}

/** A console login: the operator and the argon2id hash of their password (PHC string). */
export interface ConsoleCredential {
  readonly operator: ConsoleOperator;
  readonly passwordHash: string;
  /** A disabled operator cannot log in, and their sessions end. */
  readonly disabled?: boolean;
}

/** Where the console finds operators. */
export interface ConsoleDirectory {
  /** The operator with this id and their password hash, or null. */
  find(id: string): Promise<ConsoleCredential | null>;
}

/** Operator ids: letters, digits, `.`, `_`, `-`, 1 to 64 characters. */
export const OPERATOR_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** argon2id cost: 19 MiB, 2 passes, one lane (RFC 9106 section 7.4's second choice, OWASP's floor). */
const ARGON2 = { memorySize: 19 * 1024, iterations: 2, parallelism: 1, hashLength: 32 };

/**
 * Hashes a password with argon2id and a fresh 16-byte salt.
 *
 * @param password the password (8 to 256 characters).
 * @returns the PHC string (`$argon2id$v=19$m=...`).
 * @throws {RangeError} for a password out of bounds.
 */
export async function hashPassword(password: string): Promise<string> {
  if (password.length < 8 || password.length > 256) {
    throw new RangeError(`a password must be 8 to 256 characters, got ${password.length}`);
  }
  return await argon2id({
    password,
    salt: crypto.getRandomValues(new Uint8Array(16)),
    ...ARGON2,
    outputType: "encoded",
  });
}

/**
 * Checks a password against its argon2id hash.
 *
 * @returns true if it matches; false for a wrong password or a malformed hash.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (!hash.startsWith("$argon2id$") || password.length > 256) return false;
  try {
    return await argon2Verify({ password, hash });
  } catch {
    return false;
  }
}

/**
 * A directory from a list of records (each `{id, name, role, passwordHash}`).
 *
 * @param records the operators.
 * @returns the directory.
 * @throws {RangeError} naming the first bad record (id, role, hash) or a repeated id.
 */
export function staticDirectory(records: readonly unknown[]): ConsoleDirectory {
  const byId = new Map<string, ConsoleCredential>();
  records.forEach((r, i) => {
    const o = r as Record<string, unknown>;
    const where = `console user ${i}`;
    if (typeof o?.id !== "string" || !OPERATOR_ID.test(o.id)) {
      throw new RangeError(`${where}: id must match ${OPERATOR_ID.source}`);
    }
    if (!CONSOLE_ROLES.includes(o.role as ConsoleRole)) {
      throw new RangeError(`${where} (${o.id}): role must be one of ${CONSOLE_ROLES.join(", ")}`);
    }
    if (typeof o.passwordHash !== "string" || !o.passwordHash.startsWith("$argon2id$")) {
      throw new RangeError(`${where} (${o.id}): passwordHash must be an argon2id PHC string`);
    }
    if (byId.has(o.id)) throw new RangeError(`${where}: id ${o.id} appears twice`);
    const name = typeof o.name === "string" && o.name !== "" ? o.name : o.id;
    byId.set(o.id, {
      operator: { id: o.id, name, role: o.role as ConsoleRole },
      passwordHash: o.passwordHash,
      disabled: o.disabled === true,
    });
  });
  return { find: (id) => Promise.resolve(byId.get(id) ?? null) };
}

/** A live console session. */
export interface ConsoleSession {
  readonly operator: ConsoleOperator;
  /** Sent back in `X-CSRF-Token` on every state-changing request. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

/** Lifetimes and limits of sessions. */
export interface SessionPolicy {
  /** A session unused this long ends (default 15 minutes). */
  idleMs: number;
  /** A session ends this long after login whatever its use (default 8 hours). */
  absoluteMs: number;
  /** Failed logins in a row that lock an operator id (default 5). */
  maxFailures: number;
  /** How long such a lock lasts (default 5 minutes). */
  lockMs: number;
  /** Login attempts one source address may make in a row before it is held off (default 10). */
  sourceAttempts: number;
  /**
   * The first hold-off of such a source (default 1 s); each further attempt
   * doubles it, up to a minute.
   */
  sourceHoldMs: number;
  /** A source with no login attempt for this long starts again from zero (default 1 minute). */
  sourceWindowMs: number;
}

/** The defaults of {@link SessionPolicy}. */
export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  idleMs: 15 * 60_000,
  absoluteMs: 8 * 3_600_000,
  maxFailures: 5,
  lockMs: 5 * 60_000,
  sourceAttempts: 10,
  sourceHoldMs: 1_000,
  sourceWindowMs: 60_000,
};

/** The longest hold-off of a source address, unless its first one is longer. */
const SOURCE_MAX_HOLD_MS = 60_000;

/** Most source addresses and operator ids whose login attempts are remembered at once. */
const MAX_TRACKED = 100_000;

/** Why a login was refused (the answer to the browser does not tell which). */
export type LoginRefusal =
  | "unknown_operator"
  | "bad_password"
  | "disabled"
  | "locked"
  | "throttled";

/** The answer of {@link SessionBook.login}. */
export type LoginResult =
  | { ok: true; token: string; session: ConsoleSession }
  | { ok: false; reason: Exclude<LoginRefusal, "throttled"> }
  | { ok: false; reason: "throttled"; retryAfterMs: number };

function randomToken(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...b)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

async function tokenKey(token: string): Promise<string> {
  return toHex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))),
  );
}

/**
 * The sessions of one server, in memory: the cookie carries a random token,
 * the map keeps only its SHA-256, so a heap dump does not hand out sessions.
 */
export class SessionBook {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #failures = new Map<string, { count: number; lockedUntil: number }>();
  readonly #sources: FailureLimiter;
  readonly #directory: ConsoleDirectory;
  readonly policy: SessionPolicy;
  readonly #now: () => number;

  /**
   * @param directory where the operators come from.
   * @param policy overrides of {@link DEFAULT_SESSION_POLICY}.
   * @param now the clock (tests move it).
   * @throws {RangeError} for a source limit that is not a positive integer.
   */
  constructor(
    directory: ConsoleDirectory,
    policy: Partial<SessionPolicy> = {},
    now: () => number = Date.now,
  ) {
    this.#directory = directory;
    this.policy = { ...DEFAULT_SESSION_POLICY, ...policy };
    this.#now = now;
    const { sourceAttempts, sourceHoldMs, sourceWindowMs } = this.policy;
    if (!Number.isSafeInteger(sourceAttempts) || sourceAttempts < 1) {
      throw new RangeError(
        `policy.sourceAttempts must be a positive integer, got ${sourceAttempts}`,
      );
    }
    // The limiter holds a key off at the failure after its free ones: the last attempt let
    // through is the one that starts the hold-off.
    this.#sources = new FailureLimiter({
      freeFailures: sourceAttempts - 1,
      baseMs: sourceHoldMs,
      maxMs: Math.max(SOURCE_MAX_HOLD_MS, sourceHoldMs),
      windowMs: sourceWindowMs,
      maxKeys: MAX_TRACKED,
    });
  }

  /**
   * Checks a login and opens a session. A source address past its attempts
   * is refused first, before anything is looked up or hashed; every attempt
   * let through counts against it until one succeeds.
   *
   * @param id the operator id sent.
   * @param password the password sent.
   * @param source the key of the address it came from (one key for all in-process calls).
   * @returns the session and its cookie token, or why it was refused.
   */
  async login(id: string, password: string, source = "local"): Promise<LoginResult> {
    const now = this.#now();
    const wait = this.#sources.retryAfter([source], now);
    if (wait > 0) return { ok: false, reason: "throttled", retryAfterMs: wait };
    this.#sources.fail([source], now);
    const f = this.#failures.get(id);
    if (f && f.lockedUntil > now) return { ok: false, reason: "locked" };
    const cred = await this.#check(id, password);
    if (typeof cred === "string") {
      if (OPERATOR_ID.test(id)) this.#failed(id, now);
      return { ok: false, reason: cred };
    }
    if (cred.disabled) return { ok: false, reason: "disabled" };
    this.#failures.delete(id);
    this.#sources.forget(source);
    const token = randomToken();
    const session: ConsoleSession = {
      operator: cred.operator,
      csrf: randomToken(),
      createdAt: now,
      lastSeen: now,
    };
    this.#sessions.set(await tokenKey(token), session);
    return { ok: true, token, session };
  }

  /**
   * The credential of an id if the password is its, else why not. An id
   * well-formed but unknown costs the same argon2id work as a known one (its
   * answer tells nothing of who exists); an id no operator can have is
   * refused without any.
   */
  async #check(
    id: string,
    password: string,
  ): Promise<ConsoleCredential | "unknown_operator" | "bad_password"> {
    if (!OPERATOR_ID.test(id)) return "unknown_operator";
    const cred = await this.#directory.find(id);
    const ok = await verifyPassword(password, cred?.passwordHash ?? UNKNOWN_ID_HASH);
    return !cred ? "unknown_operator" : ok ? cred : "bad_password";
  }

  /** Counts a failed login of an id; the id locks at `maxFailures` in a row. */
  #failed(id: string, now: number): void {
    const f = this.#failures.get(id);
    const count = (f && f.lockedUntil <= now && f.lockedUntil !== 0 ? 0 : f?.count ?? 0) + 1;
    // Re-inserted so that the map's order is the order of last failure (stalest dropped first).
    this.#failures.delete(id);
    this.#failures.set(id, {
      count,
      lockedUntil: count >= this.policy.maxFailures ? now + this.policy.lockMs : 0,
    });
    if (this.#failures.size > MAX_TRACKED) {
      this.#failures.delete(this.#failures.keys().next().value!);
    }
  }

  /**
   * The session of a cookie token, if it is live; its idle clock restarts
   * unless `touch` is false (a live stream asking whether its session still
   * holds is no use of the console). An expired session, or one whose
   * operator is gone or disabled, is ended.
   */
  async resume(token: string | undefined, touch = true): Promise<ConsoleSession | null> {
    if (!token || token.length > 100) return null;
    const key = await tokenKey(token);
    const s = this.#sessions.get(key);
    if (!s) return null;
    const now = this.#now();
    if (now - s.lastSeen > this.policy.idleMs || now - s.createdAt > this.policy.absoluteMs) {
      this.#sessions.delete(key);
      return null;
    }
    const cred = await this.#directory.find(s.operator.id);
    if (!cred || cred.disabled || cred.operator.role !== s.operator.role) {
      this.#sessions.delete(key);
      return null;
    }
    if (touch) s.lastSeen = now;
    return s;
  }

  /** Ends the session of a cookie token. @returns whether there was one. */
  async logout(token: string | undefined): Promise<boolean> {
    if (!token) return false;
    return this.#sessions.delete(await tokenKey(token));
  }

  /** How many sessions are open (expired ones not yet seen included). */
  get size(): number {
    return this.#sessions.size;
  }
}

/** Checks a CSRF token in constant time. */
export function csrfMatches(session: ConsoleSession, sent: string | null): boolean {
  if (!sent) return false;
  const a = new TextEncoder().encode(session.csrf);
  const b = new TextEncoder().encode(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A valid argon2id hash of no one's password: verified against when the id is unknown. */
export const UNKNOWN_ID_HASH =
  "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$4WxMXtueJJB69TTfllOeVuLdG6C2f04bXLZ/Rt/OK7A";
