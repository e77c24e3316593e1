/**
 * Shared HTTP plumbing of the KMS and MTMS servers: routes, error mapping,
 * structured logs, socket and flags, and the readers of request bodies.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./log.ts";
export * from "./ndjson.ts";
export * from "./router.ts";
export * from "./serve.ts";
export * from "./tk_batch.ts";
