/**
 * The OpenAPI 3.1 document of a server's route table: paths, parameters,
 * bodies and responses from the same schemas that check requests, and for
 * each operator route the roles it needs and whether it is under dual
 * control.
 *
 * @module
 */
import type { JsonSchema } from "../../src/protocol/schema.ts";
import type { HandlerOptions } from "./router.ts";

/**
 * Builds the OpenAPI 3.1 document of a route table.
 *
 * @param options title, version, routes, and whether operators sign with their own keys.
 * @returns the document.
 */
export function openApiDocument(
  options: Pick<HandlerOptions, "title" | "version" | "description" | "routes" | "operators">,
): Record<string, unknown> {
  const errorSchema: JsonSchema = {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        properties: { code: { type: "string" }, message: { type: "string" } },
      },
    },
  };
  const paths: Record<string, Record<string, unknown>> = {
    "/healthz": {
      get: {
        operationId: "health",
        summary: "Liveness and readiness",
        responses: { "200": { description: "ready" }, "503": { description: "not ready" } },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "openapi",
        summary: "This document",
        responses: { "200": { description: "the OpenAPI document" } },
      },
    },
  };
  for (const r of options.routes) {
    const p = r.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(r.responses)) {
      responses[status] = spec.schema
        ? {
          description: spec.description,
          content: { "application/json": { schema: spec.schema.jsonSchema } },
        }
        : { description: spec.description };
    }
    if (r.dualControl) {
      responses["202"] = {
        description:
          "held as a pending approval until a second operator approves it (dual control)",
      };
    }
    responses["default"] = {
      description: "error",
      content: { "application/json": { schema: errorSchema } },
    };
    const op: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      responses,
    };
    if (r.params) {
      op.parameters = Object.entries(r.params).map(([name, s]) => ({
        name,
        in: "path",
        required: true,
        schema: s.jsonSchema,
      }));
    }
    if (r.body) {
      op.requestBody = {
        required: !r.bodyOptional,
        content: { "application/json": { schema: r.body.jsonSchema } },
      };
      if (r.streamType) {
        (op.requestBody as { content: Record<string, unknown> }).content[r.streamType] = {
          schema: { type: "string", description: "one JSON object per line (see the summary)" },
        };
      }
    }
    if (r.access === "operator") {
      // OpenAPI 3.1: the roles a security requirement lists for a non-OAuth scheme.
      const roles = [...(r.roles ?? [])];
      op.security = options.operators
        ? [{ operatorKey: roles }, { operatorToken: roles }]
        : [{ operatorToken: roles }];
      if (r.dualControl) op["x-dual-control"] = { approvers: [...r.dualControl.approvers] };
    }
    (paths[p] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: options.title, version: options.version, description: options.description },
    paths,
    components: {
      securitySchemes: {
        operatorKey: {
          type: "apiKey",
          in: "header",
          name: "Authorization",
          description:
            "TMK-ED25519 key=<operator id>,ts=<unix seconds>,nonce=<32 hex>,sig=<Ed25519 hex>: see src/protocol/operator_key.ts",
        },
        operatorToken: {
          type: "apiKey",
          in: "header",
          name: "Authorization",
          description:
            "TMK-HMAC-SHA256 ts=<unix seconds>,nonce=<32 hex>,sig=<HMAC-SHA256 hex>: see src/protocol/operator_request.ts",
        },
      },
    },
  };
}
