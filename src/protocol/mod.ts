/**
 * Messages and state machines both sides of each flow share: the schemas
 * that validate every request and response, the domain errors, the
 * operator authentication of CN103714639A (S1-S9) and flow A's proof of
 * possession of TK and TMK (S16-S17).
 *
 * @module
 */
export * from "./errors.ts";
export * from "./schema.ts";
export * from "./flow_a.ts";
export * from "./flow_a_proof.ts";
export * from "./operator_auth.ts";
export * from "./operator_request.ts";
export * from "./operator_key.ts";
export * from "./operator_api.ts";
export * from "./flow_b.ts";
export * from "./flow_b_auth.ts";
export * from "./tr34.ts";
export * from "./flow_b_proof.ts";
export * from "./client.ts";
export * from "./certs.ts";
export * from "./server_keys.ts";
