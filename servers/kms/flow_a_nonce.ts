/**
 * The KMS's flow A nonces (`src/protocol/flow_a_proof.ts`): stateless and
 * tagged, so issuing one writes nothing. A nonce is 32 bytes:
 *
 * ```text
 * rnd (16 random bytes) || issued at (8 bytes, ms since 1970, big-endian) || tag (8 bytes)
 * tag = retail MAC under the challenge key of "TMKA-NONCE1" || 0x00 || len(SN) || SN || rnd || time
 * ```
 *
 * The tag binds the nonce to its serial number and time; a nonce is
 * accepted until `ttlMs` after its time, and only once (the caller
 * remembers it in the store after the device's proof verifies).
 *
 * @module
 */
import { fromHex, randomBytes, toHex } from "../../src/crypto/mod.ts";
import { AuthenticationError } from "../../src/protocol/mod.ts";
import type { FlowAProofOps } from "./flow_a_keys.ts";

/** How long a nonce is accepted by default: two minutes. */
export const NONCE_TTL_MS = 120_000;

/** A nonce's time may be this far ahead of the checking instance's clock (clock skew). */
const SKEW_MS = 5_000;

const PREFIX = new TextEncoder().encode("TMKA-NONCE1");

/** The bytes the tag covers. */
function tagInput(sn: string, rnd: Uint8Array, time: Uint8Array): Uint8Array {
  const s = new TextEncoder().encode(sn);
  const out = new Uint8Array(PREFIX.length + 2 + s.length + rnd.length + time.length);
  out.set(PREFIX);
  out[PREFIX.length + 1] = s.length;
  out.set(s, PREFIX.length + 2);
  out.set(rnd, PREFIX.length + 2 + s.length);
  out.set(time, PREFIX.length + 2 + s.length + rnd.length);
  return out;
}

/** Issues and checks nonces. */
export class NonceIssuer {
  readonly #ops: FlowAProofOps;
  readonly #ttlMs: number;

  /**
   * @param ops the HSM's tag operations.
   * @param ttlMs how long a nonce is accepted (default {@link NONCE_TTL_MS}).
   */
  constructor(ops: FlowAProofOps, ttlMs = NONCE_TTL_MS) {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1000) {
      throw new RangeError(`the nonce lifetime must be at least 1000 ms, got ${ttlMs}`);
    }
    this.#ops = ops;
    this.#ttlMs = ttlMs;
  }

  /**
   * A fresh nonce for `sn`.
   *
   * @param sn the serial number (checked by the caller).
   * @param now the time of issue.
   * @returns the nonce (hex) and when it expires.
   */
  async issue(sn: string, now: Date): Promise<{ nonce: string; expiresAt: Date }> {
    const rnd = randomBytes(16);
    const time = new Uint8Array(8);
    new DataView(time.buffer).setBigUint64(0, BigInt(now.getTime()));
    const tag = await this.#ops.tagNonce(tagInput(sn, rnd, time));
    const nonce = new Uint8Array(32);
    nonce.set(rnd);
    nonce.set(time, 16);
    nonce.set(tag.subarray(0, 8), 24);
    return { nonce: toHex(nonce), expiresAt: new Date(now.getTime() + this.#ttlMs) };
  }

  /**
   * Checks a nonce's time and tag for `sn` (not whether it was used).
   *
   * @param sn the serial number of the request.
   * @param nonce the nonce, hex of 32 bytes (checked by the route's schema).
   * @param now the time of the check.
   * @returns when the nonce expires (how long to remember it).
   * @throws {AuthenticationError} `nonce_expired` (or from the future), `nonce_invalid` (tag, or another SN).
   */
  async check(sn: string, nonce: string, now: Date): Promise<Date> {
    const b = fromHex(nonce);
    const time = b.subarray(16, 24);
    const issued = Number(new DataView(time.buffer, time.byteOffset, 8).getBigUint64(0));
    if (issued > now.getTime() + SKEW_MS || now.getTime() - issued > this.#ttlMs) {
      throw new AuthenticationError(
        "nonce_expired",
        "the nonce is expired (or not from this KMS); ask for a new one at POST .../tmk/challenge",
      );
    }
    if (!(await this.#ops.verifyNonceTag(tagInput(sn, b.subarray(0, 16), time), b.subarray(24)))) {
      throw new AuthenticationError(
        "nonce_invalid",
        `the nonce was not issued by this KMS for ${sn}; ask for one at POST .../tmk/challenge`,
      );
    }
    return new Date(issued + this.#ttlMs);
  }
}
