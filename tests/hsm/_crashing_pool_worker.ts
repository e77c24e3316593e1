/**
 * Fault injection for the HSM pool test: the real pool worker
 * (`src/hsm/_pool_worker.ts`), with one listener in front of it that throws
 * an uncaught error on a batch of exactly 7 keys (its items as they are, or
 * packed: two lengths per item), as a worker that crashes mid-batch would
 * (the real worker never sees that batch).
 *
 * @module
 */
const scope = globalThis as unknown as {
  addEventListener(
    type: "message",
    listener: (
      e: MessageEvent<{ type: string; items?: unknown[] | { lengths: Uint32Array } }>,
    ) => void,
  ): void;
};
scope.addEventListener("message", (e) => {
  const items = e.data.items;
  const n = Array.isArray(items) ? items.length : (items?.lengths.length ?? 0) / 2;
  if (e.data.type === "batch" && n === 7) {
    e.stopImmediatePropagation();
    throw new Error("injected crash");
  }
});
await import("../../src/hsm/_pool_worker.ts");
