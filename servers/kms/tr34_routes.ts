/**
 * The KMS routes of TR-34 2-pass (ASC X9 TR 34-2019; messages in
 * `src/protocol/tr34.ts`): the binding `POST /v1/terminals/{sn}/tr34/bind`,
 * the key token `POST /v1/terminals/{sn}/tr34/key-token`, the
 * acknowledgement with proof of the TMK `POST /v1/terminals/{sn}/tr34/ack`,
 * and {@link withTr34}, which merges them into a KMS route table: the shared
 * route `GET /v1/terminals/{sn}` serves a TR-34 terminal through the TR-34
 * service and any other through the handler already there; every other
 * route of a terminal refuses a TR-34 one with 409 `tr34_terminal`, so no
 * other flow can take it over.
 *
 * The acknowledgement has a route of its own, not flow A's `POST .../tmk/ack`:
 * its nonce comes from TR-34's key token answer, its body schema and OpenAPI
 * entry are TR-34's, and flow A's routes stay flow A's alone.
 *
 * @module
 */
import {
  ConflictError,
  eitherOf,
  SERIAL_NUMBER,
  Tr34AckRequest,
  Tr34BindRequest,
  Tr34BindResponse,
  Tr34KeyTokenRequest,
  Tr34KeyTokenResponse,
  Tr34TerminalStatus,
} from "../../src/protocol/mod.ts";
import { json, type Route, route, type RouteInput } from "../_lib/mod.ts";
import type { Tr34Service } from "./tr34_service.ts";

/**
 * The TR-34 routes of their own.
 *
 * @param service the TR-34 service.
 * @returns the route table.
 */
export function tr34Routes(service: Tr34Service): Route[] {
  return [
    route({
      method: "POST",
      path: "/v1/terminals/:sn/tr34/bind",
      operationId: "tr34Bind",
      summary: "TR-34 binding: the KRD's credential token (its tr34-krd certificate, " +
        "serialNumber = SN, chained to a device root) in; the KDH's credential token (KDH " +
        "certificate and CRL) out. Registers the terminal for TR-34; again: the same answer.",
      access: "public",
      params: { sn: SERIAL_NUMBER },
      body: Tr34BindRequest,
      maxBody: 20_000,
      responses: {
        201: { description: "bound", schema: Tr34BindResponse },
        200: { description: "already bound", schema: Tr34BindResponse },
      },
      handler: async (_req, { params, body }) => {
        const r = await service.bind(params.sn, body);
        return json(r.bound === "new" ? 201 : 200, r);
      },
    }),
    route({
      method: "POST",
      path: "/v1/terminals/:sn/tr34/key-token",
      operationId: "tr34KeyToken",
      summary: "TR-34 2-pass: the KRD's certificate and random number token in; the key token " +
        "out: the TMK enveloped to the KRD inside the HSM, signed by the KDH over the random " +
        "number. A random number is taken once (401 nonce_replayed).",
      access: "public",
      params: { sn: SERIAL_NUMBER },
      body: Tr34KeyTokenRequest,
      maxBody: 20_000,
      responses: { 200: { description: "the key token", schema: Tr34KeyTokenResponse } },
      handler: async (_req, { params, body }) => json(200, await service.keyToken(params.sn, body)),
    }),
    route({
      method: "POST",
      path: "/v1/terminals/:sn/tr34/ack",
      operationId: "tr34AcknowledgeTmk",
      summary: "TR-34 acknowledgement with proof of possession: the KCV, the nonce of the key " +
        'token\'s answer and a CMAC-TDES under KDF(TMK, "TMK ack", SN) over the SN, the nonce ' +
        "and the KCV, checked in the HSM; the nonce is taken once. Refusals before the proof " +
        "store nothing.",
      access: "public",
      params: { sn: SERIAL_NUMBER },
      body: Tr34AckRequest,
      responses: { 200: { description: "delivered", schema: Tr34TerminalStatus } },
      handler: async (_req, { params, body }) =>
        json(200, await service.acknowledge(params.sn, body)),
    }),
  ];
}

type Handler = (req: Request, input: RouteInput<unknown>) => Promise<Response>;

/**
 * Merges TR-34 into a KMS route table (see the module description).
 *
 * @param routes the table of the other flows (e.g. `withFlowB(kmsRoutes(a), b)`).
 * @param service the TR-34 service.
 * @returns the combined table.
 */
export function withTr34(routes: Route[], service: Tr34Service): Route[] {
  const mine: Record<string, Handler> = {
    "GET /v1/terminals/:sn": async (_req, { params }) => json(200, await service.status(params.sn)),
  };
  const out = routes.map((r): Route => {
    if (!r.path.startsWith("/v1/terminals/:sn")) return r;
    const tr34 = mine[`${r.method} ${r.path}`];
    const handler: Handler = async (req, input) => {
      if (!(await service.owns(input.params.sn))) return await r.handler(req, input);
      if (tr34) return await tr34(req, input);
      throw new ConflictError(
        "tr34_terminal",
        `${input.params.sn} gets its TMK by TR-34; ${r.method} ${r.path} does not apply`,
      );
    };
    const ok = r.responses[200];
    if (!tr34 || !ok?.schema) return { ...r, handler };
    const schema = eitherOf([ok.schema, Tr34TerminalStatus], "terminal status");
    return {
      ...r,
      summary: `${r.summary}; a TR-34 terminal: its TR-34 state`,
      responses: { ...r.responses, 200: { description: ok.description, schema } },
      handler,
    };
  });
  for (const key of Object.keys(mine)) {
    if (!routes.some((r) => `${r.method} ${r.path}` === key)) {
      throw new RangeError(`withTr34: the table has no ${key} to share`);
    }
  }
  return [...out, ...tr34Routes(service)];
}
