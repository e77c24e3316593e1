/**
 * The checked front's flow B ledger and replay memory: the part of
 * {@link ./checked.ts} that the flow B service and the operator nonce
 * memory call. Each method checks its arguments,
 * runs its statements on the backend and maps the rows.
 *
 * @module
 */
import type { Backend, Exec } from "./_backend.ts";
import {
  checkAuthFailure,
  checkAuthSuccess,
  checkChallenge,
  checkDate,
  checkHsmKey,
  checkId,
  checkNonce,
  checkTransportKey,
} from "./_check.ts";
import { iso, type Row, toChallenge } from "./_rows.ts";
import type { NonceMemory } from "./api.ts";
import { StoreError } from "./errors.ts";
import type {
  AuthFailureResult,
  ChallengeInput,
  ConsumeResult,
  HsmKeyInput,
  TransportKeyInput,
} from "./types.ts";

/** Throws `not_found` unless the terminal exists (after a conditional update changed nothing). */
export async function mustExist(x: Exec, sn: string): Promise<void> {
  if (!(await x.get("SELECT 1 FROM terminals WHERE sn = ?", sn))) {
    throw new StoreError("not_found", `terminal ${sn} does not exist`);
  }
}

/** Why `consumeChallenge` failed, from the challenge's row (or its absence). */
function challengeRefusal(c: Row | undefined, sn: string): ConsumeResult {
  if (!c) return { ok: false, reason: "not_found" };
  if (c.sn !== sn) return { ok: false, reason: "wrong_terminal" };
  if (c.used_at !== null) return { ok: false, reason: "used" };
  return { ok: false, reason: "expired" };
}

/**
 * The flow B ledger's own methods (registration, keys, lock-out, sessions,
 * challenges) and the nonce memory over a backend (the audit log and the
 * operators are in {@link ./_audit_front.ts}). The
 * terminal methods both flows share are in {@link ./checked.ts}.
 */
export abstract class LedgerFront implements NonceMemory {
  /** The database behind the front. */
  protected readonly backend: Backend;

  /** @param backend the database. */
  constructor(backend: Backend) {
    this.backend = backend;
  }

  // ---- KMS: flow B ----

  setHsmKey(sn: string, key: HsmKeyInput): Promise<boolean> {
    checkHsmKey(sn, key);
    const sql = key.replace
      ? `UPDATE terminals SET pu_hsm_cert = ?, pr_hsm_block = ?, auk_block = NULL, pu_tek = NULL,
           tk_hash = NULL, tk_kcv = NULL, state = 'hsm_key_issued', updated_at = ?
         WHERE sn = ? AND tmk_block IS NULL AND order_id IS NULL`
      : `UPDATE terminals SET pu_hsm_cert = ?, pr_hsm_block = ?, state = 'hsm_key_issued',
           updated_at = ?
         WHERE sn = ? AND pr_hsm_block IS NULL AND tmk_block IS NULL AND order_id IS NULL`;
    return this.backend.one(`terminal ${sn}`, async (x) => {
      const n = await x.run(sql, key.puHsmCert, key.prHsmBlock, iso(key.at), sn);
      if (n === 0) await mustExist(x, sn);
      return n === 1;
    });
  }

  setTransportKey(sn: string, tk: TransportKeyInput): Promise<boolean> {
    checkTransportKey(sn, tk);
    return this.backend.one(`terminal ${sn}`, async (x) => {
      const n = await x.run(
        `UPDATE terminals SET auk_block = ?, pu_tek = ?, tk_hash = ?, tk_kcv = ?,
           state = 'tk_received', updated_at = ?
         WHERE sn = ? AND pr_hsm_block IS NOT NULL AND auk_block IS NULL AND tmk_block IS NULL`,
        tk.aukBlock,
        tk.puTek,
        tk.tkHash,
        tk.tkKcv,
        iso(tk.at),
        sn,
      );
      if (n === 0) await mustExist(x, sn);
      return n === 1;
    });
  }

  recordAuthFailure(
    sn: string,
    options: { maxFailures: number; at: Date },
  ): Promise<AuthFailureResult> {
    checkAuthFailure(sn, options);
    const at = iso(options.at);
    return this.backend.atomic(`terminal ${sn}`, async (x) => {
      const before = await x.get(
        `SELECT locked_at FROM terminals WHERE sn = ?${this.backend.lockRow}`,
        sn,
      );
      if (!before) throw new StoreError("not_found", `terminal ${sn} does not exist`);
      const r = (await x.get(
        `UPDATE terminals SET auth_failures = auth_failures + 1,
           locked_at = CASE WHEN locked_at IS NULL AND auth_failures + 1 >= ? THEN ? ELSE locked_at END,
           updated_at = ?
         WHERE sn = ? RETURNING auth_failures, locked_at`,
        options.maxFailures,
        at,
        at,
        sn,
      ))!;
      const locked = r.locked_at !== null;
      return {
        failures: Number(r.auth_failures),
        locked,
        lockedNow: locked && before.locked_at === null,
      };
    });
  }

  recordAuthSuccess(
    sn: string,
    options: { sessionExpiresAt: Date; at: Date; sessionContext?: string },
  ): Promise<boolean> {
    checkAuthSuccess(sn, options);
    return this.backend.one(`terminal ${sn}`, async (x) => {
      const n = await x.run(
        `UPDATE terminals SET auth_failures = 0, session_expires_at = ?, session_context = ?,
           updated_at = ?
         WHERE sn = ? AND locked_at IS NULL`,
        iso(options.sessionExpiresAt),
        options.sessionContext ?? null,
        iso(options.at),
        sn,
      );
      if (n === 0) await mustExist(x, sn);
      return n === 1;
    });
  }

  consumeSession(sn: string, now: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("now", now);
    return this.backend.one(`terminal ${sn}`, async (x) =>
      await x.run(
        `UPDATE terminals SET session_expires_at = NULL, updated_at = ?
         WHERE sn = ? AND session_expires_at > ? AND locked_at IS NULL`,
        iso(now),
        sn,
        iso(now),
      ) === 1);
  }

  releaseFlowBTerminal(sn: string): Promise<boolean> {
    checkId("sn", sn);
    return this.backend.atomic(`terminal ${sn}`, async (x) => {
      const t = await x.get(
        `SELECT sn FROM terminals WHERE sn = ? AND order_id IS NULL AND delivered_at IS NULL${this.backend.lockRow}`,
        sn,
      );
      if (!t) return false;
      await x.run("DELETE FROM challenges WHERE sn = ?", sn);
      return await x.run("DELETE FROM terminals WHERE sn = ?", sn) === 1;
    });
  }

  unlockTerminal(sn: string, at: Date): Promise<boolean> {
    checkId("sn", sn);
    checkDate("at", at);
    return this.backend.one(`terminal ${sn}`, async (x) => {
      const n = await x.run(
        `UPDATE terminals SET locked_at = NULL, auth_failures = 0, updated_at = ?
         WHERE sn = ? AND locked_at IS NOT NULL`,
        iso(at),
        sn,
      );
      if (n === 0) await mustExist(x, sn);
      return n === 1;
    });
  }

  createChallenge(c: ChallengeInput): Promise<void> {
    checkChallenge(c);
    return this.backend.one(`challenge ${c.id}`, async (x) => {
      await mustExist(x, c.sn);
      const n = await x.run(
        `INSERT INTO challenges (id, sn, rnd, rnd1, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        c.id,
        c.sn,
        c.rnd,
        c.rnd1 ?? null,
        iso(c.createdAt),
        iso(c.expiresAt),
      );
      if (n === 0) throw new StoreError("duplicate", `challenge ${c.id} already exists`);
    });
  }

  consumeChallenge(id: string, sn: string, now: Date): Promise<ConsumeResult> {
    checkId("id", id);
    checkId("sn", sn);
    checkDate("now", now);
    const t = iso(now);
    return this.backend.one(`challenge ${id}`, async (x): Promise<ConsumeResult> => {
      const r = await x.get(
        `UPDATE challenges SET used_at = ?
         WHERE id = ? AND sn = ? AND used_at IS NULL AND expires_at > ? RETURNING *`,
        t,
        id,
        sn,
        t,
      );
      if (r) return { ok: true, challenge: toChallenge(r) };
      return challengeRefusal(await x.get("SELECT * FROM challenges WHERE id = ?", id), sn);
    });
  }

  // ---- nonces ----

  rememberNonce(scope: string, nonce: string, expiresAt: Date): Promise<boolean> {
    checkNonce(scope, nonce, expiresAt);
    return this.backend.one("nonce", async (x) =>
      await x.run(
        `INSERT INTO nonces (scope, nonce, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (scope, nonce) DO NOTHING`,
        scope,
        nonce,
        iso(expiresAt),
      ) === 1);
  }

  purgeNonces(now: Date): Promise<number> {
    checkDate("now", now);
    return this.backend.one(
      "nonces",
      (x) => x.run("DELETE FROM nonces WHERE expires_at < ?", iso(now)),
    );
  }
}
