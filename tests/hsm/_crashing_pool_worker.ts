/**
 * Fault injection for the HSM pool test: the real pool worker
 * (`src/hsm/_pool_worker.ts`), with one listener in front of it that throws
 * an uncaught error on a batch of exactly 7 keys, as a worker that crashes
 * mid-batch would (the real worker never sees that batch).
 *
 * @module
 */
const scope = globalThis as unknown as {
  addEventListener(
    type: "message",
    listener: (e: MessageEvent<{ type: string; items?: unknown[] }>) => void,
  ): void;
};
scope.addEventListener("message", (e) => {
  if (e.data.type === "batch" && e.data.items?.length === 7) {
    e.stopImmediatePropagation();
    throw new Error("injected crash");
  }
});
await import("../../src/hsm/_pool_worker.ts");
