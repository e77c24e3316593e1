/**
 * The listener tests' route: `POST /v1/echo` reads a JSON body
 * `{"note": "a-z..."}` the way the KMS and MTMS routes read theirs (schema,
 * size cap) and answers it back.
 *
 * @module
 */
import { json, route } from "../../servers/_lib/mod.ts";
import { object, text } from "../../src/protocol/schema.ts";

/**
 * The echo route.
 *
 * @param maxNote the longest note the schema takes.
 * @param maxBody the body's cap in bytes.
 * @returns the route, for `createHandler`'s `routes`.
 */
export function echoRoute(maxNote: number, maxBody: number) {
  return route({
    method: "POST",
    path: "/v1/echo",
    operationId: "echo",
    summary: "echo",
    access: "public",
    body: object({ note: text(new RegExp(`^[a-z]{0,${maxNote}}$`), "a-z") }, "b"),
    maxBody,
    responses: { 200: { description: "ok" } },
    handler: (_req, { body }) => Promise.resolve(json(200, body)),
  });
}
