/**
 * Fault injection for the key pool test: the real pool worker
 * (`src/hsm/_pool_worker.ts`), with one listener in front of it that throws
 * an uncaught error on a call (`sign`, `importKeyRsa`) while the process's
 * environment has `KMS_TEST_CRASH_CALLS=1`, as a worker that crashes in the
 * middle of a call would (the real worker never sees that call).
 *
 * @module
 */
const scope = globalThis as unknown as {
  addEventListener(type: "message", listener: (e: MessageEvent<{ type: string }>) => void): void;
};
scope.addEventListener("message", (e) => {
  if (e.data.type === "call" && Deno.env.get("KMS_TEST_CRASH_CALLS") === "1") {
    e.stopImmediatePropagation();
    throw new Error("injected crash in a call");
  }
});
await import("../../src/hsm/_pool_worker.ts");
