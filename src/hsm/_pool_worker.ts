/**
 * An HSM pool worker (see `pool.ts` for the design): one {@link SoftwareHsm}
 * opened from LMK components moved here by the pool, then batches of
 * `generateKeyUnderKek` calls (the HSM's `generateKeysUnderKek`) or of
 * `generateRsaKeyPair` calls, answered whole or with their first refusal.
 * Messages are handled one at a time, in order.
 *
 * @module
 */
import { loadCore } from "../core/mod.ts";
import { zeroize } from "../crypto/mod.ts";
import { type FromWorker, toWire, type ToWorker } from "./_pool_wire.ts";
import { packKeys, unpackItems } from "./_pool_pack.ts";
import { SoftwareHsm } from "./software_hsm.ts";
import type { HsmAuditEvent } from "./types.ts";

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (e: MessageEvent<ToWorker>) => void): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
let hsm: SoftwareHsm | undefined;
/** The HSM's security events since the last answer; they go back with it. */
let events: HsmAuditEvent[] = [];
let chain: Promise<void> = Promise.resolve();

function takeEvents(): HsmAuditEvent[] {
  const e = events;
  events = [];
  return e;
}

async function init(m: Extract<ToWorker, { type: "init" }>): Promise<void> {
  try {
    hsm = await SoftwareHsm.open({
      mode: m.mode,
      lmkAlgorithm: m.lmkAlgorithm,
      core: await loadCore(m.core),
      audit: (e) => {
        events.push(e);
      },
    }, { components: m.components, lmkKcv: m.lmkKcv, by: m.by });
    scope.postMessage({ type: "ready", events: takeEvents() });
  } catch (e) {
    scope.postMessage({ type: "init_failed", error: toWire(e), events: takeEvents() });
  } finally {
    // The received component bytes: the only copy of them in this isolate.
    zeroize(...m.components.map((c) => c.key));
  }
}

/** Answers a job refused at its item `index`, with the events so far and the time spent. */
function refused(id: number, index: number, error: unknown, t0: number): void {
  const busyMs = performance.now() - t0;
  scope.postMessage({
    type: "refused",
    id,
    index,
    error: toWire(error),
    events: takeEvents(),
    busyMs,
  });
}

async function batch(m: Extract<ToWorker, { type: "batch" }>): Promise<void> {
  const t0 = performance.now();
  if (!hsm) throw new Error("batch before init");
  const items = "lengths" in m.items ? unpackItems(m.items) : m.items;
  const r = await hsm.generateKeysUnderKek(m.template, items, { format: m.format });
  if (!r.ok) {
    refused(m.id, r.index, r.error, t0);
    return;
  }
  const keys = packKeys(r.keys);
  scope.postMessage({
    type: "done",
    id: m.id,
    keys,
    events: takeEvents(),
    busyMs: performance.now() - t0,
  }, [keys.lengths.buffer]);
}

async function pairs(m: Extract<ToWorker, { type: "rsa_pairs" }>): Promise<void> {
  const t0 = performance.now();
  if (!hsm) throw new Error("rsa_pairs before init");
  const out = [];
  for (let i = 0; i < m.count; i++) {
    try {
      out.push(await hsm.generateRsaKeyPair({ bits: m.bits, template: m.template }));
    } catch (e) {
      refused(m.id, i, e, t0);
      return;
    }
  }
  scope.postMessage({
    type: "pairs",
    id: m.id,
    pairs: out,
    events: takeEvents(),
    busyMs: performance.now() - t0,
  });
}

async function close(): Promise<void> {
  await hsm?.destroy();
  hsm = undefined;
  scope.postMessage({ type: "closed" });
  scope.close();
}

scope.addEventListener("message", (e) => {
  const m = e.data;
  const run = m.type === "init"
    ? () => init(m)
    : m.type === "batch"
    ? () => batch(m)
    : m.type === "rsa_pairs"
    ? () => pairs(m)
    : m.type === "close"
    ? () => close()
    : undefined;
  // Anything else is a bug on the other side: fail loudly (the pool sees an error event).
  if (!run) throw new Error(`unknown message ${JSON.stringify((m as { type?: unknown }).type)}`);
  chain = chain.then(run);
});
