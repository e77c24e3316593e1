/**
 * The software HSM's state machine (`state.ts`): what it holds (state, LMK),
 * which operation each state allows, state changes, and the one way every
 * refusal is written to the audit log before it is thrown.
 *
 * @module
 */
import type { CryptoCore } from "../core/mod.ts";
import type { PreparedKbpk } from "../keyblock/mod.ts";
import { describe } from "./_args.ts";
import { HsmError } from "./errors.ts";
import type { LmkAlgorithm } from "./lmk.ts";
import {
  HSM_STATES,
  type HsmMode,
  type HsmOperation,
  type HsmState,
  OPERATION_STATES,
} from "./state.ts";
import type { HsmAuditSink } from "./types.ts";

/** What one software HSM holds; private to it (never returned by the class). */
export interface HsmContext {
  readonly mode: HsmMode;
  readonly lmkAlgorithm: LmkAlgorithm;
  /** Version of the key blocks under the LMK: D for an AES LMK, B for TDES. */
  readonly version: "B" | "D";
  readonly core: CryptoCore;
  readonly audit: HsmAuditSink | undefined;
  state: HsmState;
  lmk: Uint8Array | undefined;
  lmkKcv: string | undefined;
  /**
   * The LMK prepared for key blocks: a copy of the LMK with its KBEK/KBAK
   * (derived once, at first use), held for the HSM's lifetime like the LMK
   * itself, so LMK blocks do not run the CMAC KDF per block.
   */
  lmkKbpk: PreparedKbpk | undefined;
  /** Test mode: the marker optional block every LMK block and every TR-31 export carries. */
  marker: { id: string; data: string } | undefined;
  /** Errors already written to the audit log (an error passes several layers). */
  readonly audited: WeakSet<Error>;
}

/**
 * Writes a refusal to the audit log (`event`, outcome failure, the error's
 * code and message), then throws it: the one path of every refusal, so none
 * is thrown unaudited (fail closed: an audit failure is thrown instead).
 *
 * @param audit the audit sink, if any.
 * @param event the audit event (`key_refused`, `operation_refused`, ...).
 * @param keyId the key's role and attributes, or "HSM" / "LMK".
 * @param e the refusal.
 */
export async function refuse(
  audit: HsmAuditSink | undefined,
  event: string,
  keyId: string,
  e: unknown,
): Promise<never> {
  await audit?.({
    event,
    outcome: "failure",
    keyId,
    detail: e instanceof HsmError ? `${e.code}: ${e.message}` : (e as Error).message,
  });
  throw e;
}

/** Refuses a key (`key_refused`), once per error however many layers it passes. */
export async function refuseKey(ctx: HsmContext, e: HsmError, keyId: string): Promise<never> {
  if (ctx.audited.has(e)) throw e;
  ctx.audited.add(e);
  return await refuse(ctx.audit, "key_refused", keyId, e);
}

/**
 * Lets `op` run in the HSM's state (with an LMK loaded, for every operation
 * but loadLmk), or refuses it, audited: `wrong_state` for the state,
 * `no_lmk` for the missing LMK.
 */
export async function enter(ctx: HsmContext, op: HsmOperation): Promise<void> {
  const allowed: readonly HsmState[] = OPERATION_STATES[op];
  if (allowed.includes(ctx.state) && (ctx.lmk !== undefined || op === "loadLmk")) return;
  const e = allowed.includes(ctx.state)
    ? new HsmError(
      "no_lmk",
      `${op}: no LMK is loaded (state ${ctx.state}); load it in the secure state first`,
      { state: ctx.state, operation: op },
    )
    : new HsmError(
      "wrong_state",
      `${op} is refused in the ${ctx.state} state (allowed in: ${allowed.join(", ")})`,
      { state: ctx.state, operation: op },
    );
  await refuse(ctx.audit, "operation_refused", "HSM", e);
}

/**
 * Moves the HSM to `state`, audited (`state_changed`); the current state
 * changes nothing; "authorized" needs the LMK (`no_lmk`, audited as
 * `state_change_refused`).
 *
 * @throws {RangeError} for an unknown state; {@link TypeError} for a `by` that is not a string.
 */
export async function setState(ctx: HsmContext, state: HsmState, by: string): Promise<void> {
  if (!HSM_STATES.includes(state)) {
    throw new RangeError(
      `state must be one of ${HSM_STATES.join(", ")}, got ${JSON.stringify(state)}`,
    );
  }
  if (typeof by !== "string") throw new TypeError(`by must be a string, got ${describe(by)}`);
  const from = ctx.state;
  if (state === from) return;
  if (state === "authorized" && ctx.lmk === undefined) {
    const e = new HsmError(
      "no_lmk",
      `setState: the HSM cannot enter the authorized state without an LMK (state ${from}; load it in secure)`,
      { state: from, operation: "setState" },
    );
    await refuse(ctx.audit, "state_change_refused", "HSM", e);
  }
  ctx.state = state;
  await ctx.audit?.({
    event: "state_changed",
    outcome: "success",
    keyId: "HSM",
    detail: `${from} -> ${state} by ${by.slice(0, 100)} (${ctx.mode} mode)`,
  });
}

/** The LMK's KCV; `no_lmk` before the LMK is loaded. */
export function lmkKcvOf(ctx: HsmContext): string {
  if (ctx.lmkKcv === undefined) {
    throw new HsmError("no_lmk", `lmkKcv: no LMK is loaded (state ${ctx.state})`, {
      state: ctx.state,
      operation: "lmkKcv",
    });
  }
  return ctx.lmkKcv;
}
