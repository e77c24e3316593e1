/**
 * Operator authentication of CN103714639A, steps S1-S9 (the "triple
 * check"): the POS side that issues `Rnd` and checks the operator
 * terminal's answer, and the encoding of `Rnd || TimeOne` that the operator
 * card signs with message recovery (PKCS#1 v1.5 block type 1, RFC 8017
 * section 9.2 padding applied to the raw message, "private encrypt").
 *
 * Checks, each failure with its own {@link AuthenticationError} code:
 * - `rnd_unknown` / `rnd_replayed` / `challenge_expired`: the answer is for
 *   no outstanding challenge, for one already used (a replay, refused even
 *   inside the time window), or for one older than the window.
 * - S6 `certificate_invalid` / `certificate_expired` /
 *   `certificate_not_yet_valid` / `certificate_untrusted`: OpWCRT parsed,
 *   within its validity period at TimeTwo, chained to OpRCRT.
 * - S7 `cryptogram_invalid`: C does not recover to a type-1 block of the
 *   expected length under OpWCRT's public key.
 * - S8 `rnd_mismatch`: `Rnd' != Rnd` (compared in constant time).
 * - S9 `time_outside_window`: `|TimeTwo - TimeOne'| > window`.
 *
 * A challenge is consumed by the first answer checked against it, whatever
 * the outcome.
 *
 * @module
 */
import { timingSafeEqual, toHex } from "../crypto/mod.ts";
import { AuthenticationError } from "./errors.ts";
import { RND_BYTES } from "./flow_a.ts";

/** Bytes of `TimeOne`: milliseconds since the Unix epoch, unsigned big-endian. */
export const TIME_BYTES = 8;

/** Default `|TimeTwo - TimeOne'|` window: 60 seconds. */
export const DEFAULT_WINDOW_MS = 60_000;

/**
 * Encodes the message the operator card signs in S4.
 *
 * @param rnd `Rnd`, {@link RND_BYTES} bytes.
 * @param timeOneMs `TimeOne`, milliseconds since the epoch.
 * @returns `Rnd || TimeOne` (24 bytes).
 * @throws {TypeError} if `rnd` is not a Uint8Array; {@link RangeError} for a wrong length or a time out of range.
 */
export function encodeRndTime(rnd: Uint8Array, timeOneMs: number): Uint8Array<ArrayBuffer> {
  if (!(rnd instanceof Uint8Array)) throw new TypeError("rnd must be a Uint8Array");
  if (rnd.length !== RND_BYTES) {
    throw new RangeError(`rnd must be ${RND_BYTES} bytes, got ${rnd.length}`);
  }
  if (!Number.isSafeInteger(timeOneMs) || timeOneMs < 0) {
    throw new RangeError(`timeOneMs must be a non-negative safe integer, got ${timeOneMs}`);
  }
  const out = new Uint8Array(RND_BYTES + TIME_BYTES);
  out.set(rnd);
  new DataView(out.buffer).setBigUint64(RND_BYTES, BigInt(timeOneMs));
  return out;
}

/**
 * Decodes `Rnd' || TimeOne'` recovered in S7.
 *
 * @param message the recovered message.
 * @returns `rnd` and `timeOneMs`.
 * @throws {AuthenticationError} `cryptogram_invalid` for a wrong length or a time beyond 2^53.
 */
export function decodeRndTime(message: Uint8Array): { rnd: Uint8Array; timeOneMs: number } {
  if (message.length !== RND_BYTES + TIME_BYTES) {
    throw new AuthenticationError(
      "cryptogram_invalid",
      `S7: the recovered message must be ${
        RND_BYTES + TIME_BYTES
      } bytes (Rnd || TimeOne), got ${message.length}`,
    );
  }
  const t = new DataView(message.buffer, message.byteOffset, message.length).getBigUint64(
    RND_BYTES,
  );
  if (t > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AuthenticationError("cryptogram_invalid", "S7: TimeOne' is out of range");
  }
  return { rnd: message.slice(0, RND_BYTES), timeOneMs: Number(t) };
}

/** What a successful check found (for the trace and the audit log). */
export interface AuthSuccess {
  /** OpWCRT's subject, e.g. `CN=Operator 0042`. */
  operator: string;
  /** OpWCRT's serial number (hex). */
  certificateSerial: string;
  /** The recovered `Rnd'` (uppercase hex), equal to `Rnd`. */
  rnd: string;
  timeOneMs: number;
  timeTwoMs: number;
  /** `TimeTwo - TimeOne'` in ms. */
  skewMs: number;
  windowMs: number;
}

/** The S6-S7 operations the authenticator needs (certificate chain and type-1 recovery). */
export interface AuthCrypto {
  /**
   * S6: parses OpWCRT, checks it is valid at `at` and chains to `root`.
   * Throws {@link AuthenticationError} with a `certificate_*` code.
   */
  checkCertificate(certificatePem: string, rootPem: string, at: Date): Promise<{
    subject: string;
    serial: string;
    publicKey: { n: Uint8Array; e: Uint8Array };
  }>;
  /**
   * S7: RSA public operation and removal of the type-1 padding.
   * Throws {@link AuthenticationError} `cryptogram_invalid` on any padding fault.
   */
  recover(publicKey: { n: Uint8Array; e: Uint8Array }, cryptogram: Uint8Array): Promise<Uint8Array>;
}

/** Options of {@link OperatorAuthenticator}. */
export interface OperatorAuthenticatorOptions {
  /** OpRCRT, the CA root written at flashing (PEM). */
  root: string;
  /** Allowed `|TimeTwo - TimeOne'|` and challenge age, ms (default {@link DEFAULT_WINDOW_MS}). */
  windowMs?: number;
  /** The clock for TimeTwo (default `Date.now`). */
  now?: () => number;
  crypto: AuthCrypto;
}

/**
 * The POS side of S1-S9. One instance per POS terminal; it remembers the
 * outstanding challenge and the challenges already used.
 */
export class OperatorAuthenticator {
  readonly #root: string;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #crypto: AuthCrypto;
  #pending: { rnd: Uint8Array; issuedMs: number } | undefined;
  readonly #used = new Set<string>();

  /**
   * @param options root, window, clock, crypto.
   * @throws {RangeError} for a window that is not a positive integer of ms.
   */
  constructor(options: OperatorAuthenticatorOptions) {
    const w = options.windowMs ?? DEFAULT_WINDOW_MS;
    if (!Number.isSafeInteger(w) || w <= 0) {
      throw new RangeError(`windowMs must be a positive integer, got ${w}`);
    }
    this.#root = options.root;
    this.#windowMs = w;
    this.#now = options.now ?? Date.now;
    this.#crypto = options.crypto;
  }

  /** The configured window in ms. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /**
   * S1: records `Rnd` (from the PIN pad's RNG) as the outstanding challenge;
   * a new challenge replaces an unanswered one.
   *
   * @param rnd {@link RND_BYTES} random bytes.
   * @returns the challenge message for the operator terminal.
   * @throws {RangeError} for a wrong length; {@link AuthenticationError} `rnd_replayed` if this Rnd was used before.
   */
  begin(rnd: Uint8Array): { rnd: string } {
    if (!(rnd instanceof Uint8Array)) throw new TypeError("rnd must be a Uint8Array");
    if (rnd.length !== RND_BYTES) {
      throw new RangeError(`rnd must be ${RND_BYTES} bytes, got ${rnd.length}`);
    }
    const h = toHex(rnd);
    if (this.#used.has(h)) {
      throw new AuthenticationError("rnd_replayed", "S1: this Rnd was already used");
    }
    this.#pending = { rnd: rnd.slice(), issuedMs: this.#now() };
    return { rnd: h };
  }

  /**
   * S6-S9: checks the operator terminal's answer against the outstanding
   * challenge, which is consumed whatever the outcome.
   *
   * @param answer OpWCRT (PEM) and the cryptogram C.
   * @returns what the checks saw.
   * @throws {AuthenticationError} with the code of the first check that failed.
   */
  async verify(answer: { certificate: string; cryptogram: Uint8Array }): Promise<AuthSuccess> {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending) {
      throw new AuthenticationError(
        "rnd_unknown",
        "no outstanding challenge: every Rnd is answered once (S1 first)",
      );
    }
    this.#used.add(toHex(pending.rnd));
    if (this.#used.size > 4096) this.#used.delete(this.#used.values().next().value!);
    const timeTwoMs = this.#now();
    if (timeTwoMs - pending.issuedMs > this.#windowMs) {
      throw new AuthenticationError(
        "challenge_expired",
        `the challenge is ${
          timeTwoMs - pending.issuedMs
        } ms old; the window is ${this.#windowMs} ms`,
      );
    }
    // S6
    const cert = await this.#crypto.checkCertificate(
      answer.certificate,
      this.#root,
      new Date(timeTwoMs),
    );
    // S7
    const message = await this.#crypto.recover(cert.publicKey, answer.cryptogram);
    const { rnd, timeOneMs } = decodeRndTime(message);
    // S8
    if (!timingSafeEqual(rnd, pending.rnd)) {
      throw new AuthenticationError("rnd_mismatch", "S8: the recovered Rnd' differs from Rnd");
    }
    // S9
    const skewMs = timeTwoMs - timeOneMs;
    if (Math.abs(skewMs) > this.#windowMs) {
      throw new AuthenticationError(
        "time_outside_window",
        `S9: |TimeTwo - TimeOne'| is ${Math.abs(skewMs)} ms; the window is ${this.#windowMs} ms`,
      );
    }
    return {
      operator: cert.subject,
      certificateSerial: cert.serial,
      rnd: toHex(rnd),
      timeOneMs,
      timeTwoMs,
      skewMs,
      windowMs: this.#windowMs,
    };
  }
}
