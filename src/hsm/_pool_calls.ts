/**
 * The HSM pool's call lane (`pool.ts`): single HSM operations (`sign`,
 * `importKeyRsa`) run in a worker, one message each way. A call goes to the
 * live worker with the fewest calls in flight, at once (no queue here: the
 * worker handles it as soon as it arrives, ahead of its batches); answers
 * come back in any order and are matched by id. The worker HSM's security
 * events come back with the answer and go to the call's audit sink before
 * the call is settled: its result, or the HSM's refusal rebuilt as the same
 * error (an {@link HsmError} with its code and message).
 *
 * @module
 */
import { HsmPoolError, type HsmPoolErrorCode, type PendingCall, type Slot } from "./_pool_types.ts";
import { fromWire, type FromWorker, type ToWorker } from "./_pool_wire.ts";
import type { HsmAuditSink } from "./types.ts";

/**
 * The live worker with the fewest calls in flight, then the fewest batches.
 *
 * @param slots the pool's workers.
 * @returns that worker, or undefined when none is live.
 */
export function pickSlot(slots: readonly Slot[]): Slot | undefined {
  let best: Slot | undefined;
  for (const s of slots) {
    if (s.dead) continue;
    if (
      !best || s.calls.size < best.calls.size ||
      (s.calls.size === best.calls.size && s.jobs.length < best.jobs.length)
    ) best = s;
  }
  return best;
}

/**
 * Sends a call to a worker; it is in flight from then on.
 *
 * @param slot the worker.
 * @param id the call's id (unique in the pool).
 * @param pending the call, its audit sink and how to settle it.
 * @throws the `postMessage` error for arguments that do not clone (nothing is in flight then).
 */
export function sendCall(slot: Slot, id: number, pending: PendingCall): void {
  slot.worker.postMessage({ type: "call", id, call: pending.call } satisfies ToWorker);
  slot.calls.set(id, pending);
}

/**
 * Settles the call a worker answered: its events to the call's audit sink
 * (or the pool's), then its result or refusal; an audit failure rejects the
 * call instead (fail closed).
 *
 * @param slot the worker that answered.
 * @param m its answer.
 * @param poolAudit the pool's audit sink.
 * @returns false when no call of that id is in flight on that worker.
 */
export async function settleCall(
  slot: Slot,
  m: Extract<FromWorker, { type: "answer" }>,
  poolAudit: HsmAuditSink | undefined,
): Promise<boolean> {
  const c = slot.calls.get(m.id);
  if (!c) return false;
  slot.calls.delete(m.id);
  slot.callsDone++;
  slot.busyMs += m.busyMs;
  const audit = c.audit ?? poolAudit;
  try {
    for (const e of m.events) await audit?.(e);
  } catch (e) {
    c.reject(e);
    return true;
  }
  if (m.result.ok) c.resolve(m.result.value);
  else c.reject(fromWire(m.result.error));
  return true;
}

/**
 * Rejects every call in flight on a worker that will not answer (it failed,
 * or it is terminated) with an {@link HsmPoolError}, and forgets them.
 *
 * @param slot the worker.
 * @param code the error's code.
 * @param message what happened (each call's error adds that it was not answered).
 */
export function rejectCalls(slot: Slot, code: HsmPoolErrorCode, message: string): void {
  for (const c of slot.calls.values()) {
    c.reject(new HsmPoolError(code, `${message}; this ${c.call.op} call was not answered`));
  }
  slot.calls.clear();
}
