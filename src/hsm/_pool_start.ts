/**
 * The start of the HSM pool's workers (`pool.ts` describes it): the pool's
 * options checked; for each worker, the LMK's components, each as bytes in
 * its own buffer made for this worker, moved to it in the transfer list (the
 * buffers here are detached, and zeroed if the move failed), then the
 * worker's answer: ready with its start events, or its refusal; and the
 * starts' audit records.
 *
 * @module
 */
import type { CoreName } from "../core/mod.ts";
import { zeroize } from "../crypto/mod.ts";
import type { LmkAlgorithm, LmkComponent } from "./lmk.ts";
import type { HsmAuditEvent } from "./types.ts";
import { HsmPoolError, type HsmPoolOptions, type Slot } from "./_pool_types.ts";
import { fromWire, type FromWorker, type ToWorker } from "./_pool_wire.ts";

/** Hex, whole bytes. */
const HEX = /^(?:[0-9A-Fa-f]{2})+$/;

/**
 * Checks the pool's options and fills in the defaults.
 *
 * @param o the options of `HsmPool.create`.
 * @returns the LMK algorithm, core, worker module and start timeout.
 * @throws {TypeError} / {RangeError} naming the option that is wrong.
 */
export function checkOptions(
  o: HsmPoolOptions,
): { algorithm: LmkAlgorithm; core: CoreName; url: URL; timeoutMs: number } {
  if (o === null || typeof o !== "object") throw new TypeError("options must be an object");
  if (!Number.isInteger(o.size) || o.size < 1 || o.size > 64) {
    throw new RangeError(`options.size must be an integer from 1 to 64, got ${o.size}`);
  }
  if (!Array.isArray(o.components)) {
    throw new TypeError("options.components must be an array of { key, kcv }");
  }
  if (typeof o.lmkKcv !== "string" || !HEX.test(o.lmkKcv)) {
    throw new RangeError(`options.lmkKcv must be hex, got ${JSON.stringify(o.lmkKcv)}`);
  }
  const core = o.core ?? "wasm";
  if (core !== "wasm" && core !== "js") {
    throw new RangeError(`options.core must be "wasm" or "js", got ${JSON.stringify(core)}`);
  }
  if (o.mode !== "production" && o.mode !== "test") {
    throw new RangeError(
      `options.mode must be "production" or "test", got ${JSON.stringify(o.mode)}`,
    );
  }
  return {
    algorithm: o.lmkAlgorithm ?? "aes",
    core,
    url: o.workerUrl ?? new URL("./_pool_worker.ts", import.meta.url),
    timeoutMs: o.startTimeoutMs ?? 60_000,
  };
}

/**
 * Writes the starts to the pool's audit sink, in worker order: one
 * `hsm_worker_started` record per worker started (its start, self-tests,
 * states and LMK, is one step here), or the refusal's own records
 * (`lmk_load_failed`, `self_test_failed`, ...), naming the worker.
 *
 * @param settled each worker's start, as {@link startWorker} settled.
 * @param o the pool's options (size, audit sink).
 * @throws the audit sink's error.
 */
export async function auditStarts(
  settled: PromiseSettledResult<HsmAuditEvent[]>[],
  o: HsmPoolOptions,
): Promise<void> {
  for (const [i, s] of settled.entries()) {
    const name = `HSM worker ${i + 1} of ${o.size}`;
    if (s.status === "fulfilled") {
      const loaded = s.value.find((e) => e.event === "lmk_loaded");
      await o.audit?.({
        event: "hsm_worker_started",
        outcome: "success",
        keyId: "LMK",
        kcv: loaded?.kcv,
        detail: `${name}: self-tests passed, LMK loaded and KCV checked (${
          loaded?.detail ?? "no detail"
        }), authorized`,
      });
    } else {
      const events = (s.reason as { events?: HsmAuditEvent[] }).events ?? [];
      for (const e of events.filter((x) => x.outcome === "failure")) {
        await o.audit?.({ ...e, detail: `${name}: ${e.detail ?? ""}` });
      }
    }
  }
}

function componentBytes(c: LmkComponent, i: number): Uint8Array {
  if (c === null || typeof c !== "object") {
    throw new TypeError(`components[${i}] must be an object { key, kcv }`);
  }
  if (c.key instanceof Uint8Array) return c.key.slice();
  if (typeof c.key !== "string" || !HEX.test(c.key)) {
    throw new RangeError(`components[${i}].key must be hex or bytes (the component is not shown)`);
  }
  const out = new Uint8Array(c.key.length / 2);
  for (let j = 0; j < out.length; j++) out[j] = parseInt(c.key.slice(2 * j, 2 * j + 2), 16);
  return out;
}

/**
 * Starts the worker of `slot`: sends it the LMK's components and waits for
 * its answer. A worker that fails or does not answer in time is marked dead.
 *
 * @param slot the worker.
 * @param o the pool's options (mode, components, LMK KCV, size).
 * @param lmkAlgorithm the LMK's algorithm.
 * @param core the crypto core the worker loads.
 * @param timeoutMs how long the worker may take.
 * @returns the worker HSM's start events.
 * @throws {HsmError} the worker's start refusal (with its `events`), naming the worker;
 *   {@link HsmPoolError} `worker_failed` / `start_timeout`.
 */
export function startWorker(
  slot: Slot,
  o: HsmPoolOptions,
  lmkAlgorithm: LmkAlgorithm,
  core: CoreName,
  timeoutMs: number,
): Promise<HsmAuditEvent[]> {
  const name = `HSM worker ${slot.index + 1} of ${o.size}`;
  return new Promise((resolve, reject) => {
    const w = slot.worker;
    const timer = setTimeout(() => {
      done();
      slot.dead = true;
      reject(new HsmPoolError("start_timeout", `${name} did not start in ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      w.onmessage = null;
      w.onerror = null;
      w.onmessageerror = null;
    };
    w.onmessage = (ev: MessageEvent<FromWorker>) => {
      const m = ev.data;
      done();
      if (m.type === "ready") return resolve(m.events);
      if (m.type === "init_failed") {
        const e = fromWire(m.error);
        e.message = `${name}: ${e.message}`;
        return reject(Object.assign(e, { events: m.events }));
      }
      reject(new HsmPoolError("worker_failed", `${name} answered its start with ${m.type}`));
    };
    w.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      done();
      slot.dead = true;
      reject(new HsmPoolError("worker_failed", `${name} failed to start: ${ev.message}`));
    };
    w.onmessageerror = () => {
      done();
      reject(new HsmPoolError("worker_failed", `${name}: its start answer did not deserialize`));
    };
    const components: { custodian?: string; key: Uint8Array; kcv: string }[] = [];
    try {
      for (const [i, c] of o.components.entries()) {
        components.push({ custodian: c.custodian, key: componentBytes(c, i), kcv: c.kcv });
      }
      const msg: ToWorker = {
        type: "init",
        mode: o.mode,
        by: `HSM pool start (${name})`,
        components,
        lmkAlgorithm,
        lmkKcv: o.lmkKcv,
        core,
      };
      // Moved, not copied: after this the buffers here are detached (0 bytes).
      w.postMessage(msg, components.map((c) => c.key.buffer as ArrayBuffer));
    } catch (e) {
      done();
      reject(e);
    } finally {
      zeroize(...components.map((c) => c.key).filter((k) => k.byteLength > 0));
    }
  });
}
