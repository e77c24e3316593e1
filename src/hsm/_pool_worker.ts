/**
 * An HSM pool worker (see `pool.ts` for the design): one {@link SoftwareHsm}
 * opened from LMK components moved here by the pool, then batches of
 * `generateKeyUnderKek` calls (the HSM's `generateKeysUnderKek`) or of
 * `generateRsaKeyPair` calls, answered whole or with their first refusal,
 * and single calls (`sign`, `importKeyRsa`) answered one by one.
 *
 * Order. Batches and the close are handled one at a time, in order. A call
 * is handled as soon as it arrives, outside that order: a batch of key
 * pairs gives the event loop a turn between two pairs, so a call that
 * arrived meanwhile runs before the next pair. One HSM operation runs at a
 * time ({@link alone}): a call waits at most for the pair (or the batch of
 * keys under KEKs) under way, and the HSM's audit events during an
 * operation are that operation's, answered with it.
 *
 * @module
 */
import { loadCore } from "../core/mod.ts";
import { zeroize } from "../crypto/mod.ts";
import {
  type FromWorker,
  type HsmCall,
  type HsmCallResults,
  toWire,
  type ToWorker,
} from "./_pool_wire.ts";
import { packKeys, unpackItems } from "./_pool_pack.ts";
import { SoftwareHsm } from "./software_hsm.ts";
import type { HsmAuditEvent } from "./types.ts";

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (e: MessageEvent<ToWorker>) => void): void;
  close(): void;
}

/** What one job (a batch, a call) has cost so far: its HSM events and milliseconds. */
interface Spent {
  events: HsmAuditEvent[];
  busyMs: number;
}

const scope = globalThis as unknown as WorkerScope;
let hsm: SoftwareHsm | undefined;
/** The HSM's security events of the operation under way ({@link alone} hands them to its job). */
const events: HsmAuditEvent[] = [];
/** Batches and the close, in order. */
let chain: Promise<void> = Promise.resolve();
/** Settles when the HSM operation under way (and those before it) ends. */
let turn: Promise<void> = Promise.resolve();

/** The HSM, once started. */
function started(): SoftwareHsm {
  if (!hsm) throw new Error("the worker's HSM is not started");
  return hsm;
}

/**
 * Runs `fn` as the only HSM operation under way (after those that asked
 * before it); the HSM's events and the time it took go to `spent`.
 */
async function alone<T>(spent: Spent, fn: () => Promise<T>): Promise<T> {
  const before = turn;
  let release!: () => void;
  turn = new Promise((r) => release = r);
  await before;
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    spent.busyMs += performance.now() - t0;
    spent.events.push(...events.splice(0));
    release();
  }
}

/** A turn of the event loop: messages that arrived meanwhile (calls) are handled. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
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
    scope.postMessage({ type: "ready", events: events.splice(0) });
  } catch (e) {
    scope.postMessage({ type: "init_failed", error: toWire(e), events: events.splice(0) });
  } finally {
    // The received component bytes: the only copy of them in this isolate.
    zeroize(...m.components.map((c) => c.key));
  }
}

/** Answers a job refused at its item `index`, with its events and time so far. */
function refused(id: number, index: number, error: unknown, spent: Spent): void {
  scope.postMessage({ type: "refused", id, index, error: toWire(error), ...spent });
}

async function batch(m: Extract<ToWorker, { type: "batch" }>): Promise<void> {
  const spent: Spent = { events: [], busyMs: 0 };
  const items = "lengths" in m.items ? unpackItems(m.items) : m.items;
  const r = await alone(
    spent,
    () => started().generateKeysUnderKek(m.template, items, { format: m.format }),
  );
  if (!r.ok) {
    refused(m.id, r.index, r.error, spent);
    return;
  }
  const keys = packKeys(r.keys);
  scope.postMessage({ type: "done", id: m.id, keys, ...spent }, [keys.lengths.buffer]);
}

async function pairs(m: Extract<ToWorker, { type: "rsa_pairs" }>): Promise<void> {
  const spent: Spent = { events: [], busyMs: 0 };
  const out = [];
  for (let i = 0; i < m.count; i++) {
    // Calls that arrived during the last pair go before the next one.
    if (i > 0) await nextTask();
    try {
      out.push(
        await alone(
          spent,
          () => started().generateRsaKeyPair({ bits: m.bits, template: m.template }),
        ),
      );
    } catch (e) {
      refused(m.id, i, e, spent);
      return;
    }
  }
  scope.postMessage({ type: "pairs", id: m.id, pairs: out, ...spent });
}

function perform(c: HsmCall): Promise<HsmCallResults[HsmCall["op"]]> {
  const h = started();
  switch (c.op) {
    case "sign":
      return h.sign(c.privateKeyBlock, c.message);
    case "importKeyRsa":
      return h.importKeyRsa(c.privateKeyBlock, c.ciphertext, c.options);
    default:
      throw new Error(`unknown call ${JSON.stringify((c as { op?: unknown }).op)}`);
  }
}

async function call(m: Extract<ToWorker, { type: "call" }>): Promise<void> {
  const spent: Spent = { events: [], busyMs: 0 };
  let result: Extract<FromWorker, { type: "answer" }>["result"];
  try {
    result = { ok: true, value: await alone(spent, () => perform(m.call)) };
  } catch (e) {
    result = { ok: false, error: toWire(e) };
  }
  scope.postMessage({ type: "answer", id: m.id, result, ...spent });
}

async function close(): Promise<void> {
  // After the calls under way: the HSM is not zeroed under one of them.
  await alone({ events: [], busyMs: 0 }, async () => {
    await hsm?.destroy();
    hsm = undefined;
  });
  scope.postMessage({ type: "closed" });
  scope.close();
}

scope.addEventListener("message", (e) => {
  const m = e.data;
  if (m.type === "call") {
    void call(m);
    return;
  }
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
