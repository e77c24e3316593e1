/**
 * The KMS routes of flow B (CN103714641A; on the wire as in
 * docs/ARCHITECTURE.md, "Contracts other code relies on"): S1
 * `POST /v1/terminals/{sn}/hsm-key`, S3-S4 `PUT .../transport-key`, S5
 * `POST .../challenges` and `POST .../challenges/{id}/response`, the
 * operator's `POST .../unlock`, and {@link withFlowB}, which merges flow B
 * into the routes flow A and B share (`POST .../tmk`, `POST .../tmk/ack`,
 * `GET /v1/terminals/{sn}`): a terminal registered in the field (no
 * production order) is served by flow B, any other by flow A.
 *
 * Repeated S1: rotate before S3, refuse after (see `flow_b_service.ts`).
 *
 * @module
 */
import {
  ChallengeAnswer,
  ChallengeRequest,
  ChallengeResponse,
  ChallengeResult,
  eitherOf,
  FlowBTerminalStatus,
  FlowBTmkResponse,
  HsmKeyResponse,
  type Schema,
  SERIAL_NUMBER,
  text,
  TmkAckRequest,
  TransportKeyRequest,
  TransportKeyResponse,
  UnlockResponse,
} from "../../src/protocol/mod.ts";
import { json, type Route, route } from "../_lib/mod.ts";
import type { FlowBService } from "./flow_b_service.ts";

const CHALLENGE_ID = text(/^[0-9A-F]{32}$/, "a challenge id of 32 uppercase hex characters");

/**
 * The flow B routes of their own.
 *
 * @param service the flow B service.
 * @returns the route table.
 */
export function flowBRoutes(service: FlowBService): Route[] {
  return [
    route({
      method: "POST",
      path: "/v1/terminals/:sn/hsm-key",
      operationId: "issueHsmKey",
      summary:
        "Flow B S1: a Pu_hsm/Pr_hsm pair for the terminal, Pu_hsm certified by the KMS CA. " +
        "Repeated before S3: a new pair replaces the old one (rotated: yes). After S3: refused " +
        "with 409 transport_key_registered.",
      access: "public",
      params: { sn: SERIAL_NUMBER },
      responses: {
        201: {
          description: "the terminal is registered and has its Pu_hsm",
          schema: HsmKeyResponse,
        },
        200: {
          description: "a new Pu_hsm replaced the earlier one (before S3)",
          schema: HsmKeyResponse,
        },
      },
      handler: async (_req, { params }) => {
        const r = await service.issueHsmKey(params.sn);
        return json(r.created ? 201 : 200, r.body);
      },
    }),
    route({
      method: "PUT",
      path: "/v1/terminals/:sn/transport-key",
      operationId: "registerTransportKey",
      summary:
        "Flow B S3-S4: AUK under Pu_hsm (RSA-OAEP-SHA256) and Pu_tek; the HSM recovers AUK " +
        "under its LMK and checks KCV and TK hash. Once per terminal; the same request again is 200.",
      access: "public",
      params: { sn: SERIAL_NUMBER },
      body: TransportKeyRequest,
      maxBody: 8192,
      responses: {
        201: { description: "stored under the LMK", schema: TransportKeyResponse },
        200: {
          description: "the same transport key was already stored",
          schema: TransportKeyResponse,
        },
      },
      handler: async (_req, { params, body }) => {
        const r = await service.registerTransportKey(params.sn, body);
        return json(r.duplicate === "yes" ? 200 : 201, r);
      },
    }),
    route({
      method: "POST",
      path: "/v1/terminals/:sn/challenges",
      operationId: "openChallenge",
      summary: "Flow B S5 (claim 4): Rnd1 in, Crnd1 = TDES(AUK, Rnd1) and Rnd2 out; single-use, " +
        "short-lived",
      access: "public",
      params: { sn: SERIAL_NUMBER },
      body: ChallengeRequest,
      maxBody: 1024,
      responses: { 201: { description: "challenge opened", schema: ChallengeResponse } },
      handler: async (_req, { params, body }) =>
        json(201, await service.openChallenge(params.sn, body)),
    }),
    route({
      method: "POST",
      path: "/v1/terminals/:sn/challenges/:challengeId/response",
      operationId: "answerChallenge",
      summary: "Flow B S5 (claim 4): Crnd2 = TDES(AUK, Rnd2); a pass opens a short download " +
        "session, a failure counts towards the lock-out",
      access: "public",
      params: { sn: SERIAL_NUMBER, challengeId: CHALLENGE_ID },
      body: ChallengeAnswer,
      maxBody: 1024,
      responses: { 200: { description: "mutual authentication passed", schema: ChallengeResult } },
      handler: async (_req, { params, body }) =>
        json(200, await service.answerChallenge(params.sn, params.challengeId, body)),
    }),
    route({
      method: "POST",
      path: "/v1/terminals/:sn/unlock",
      operationId: "unlockTerminal",
      summary:
        "Flow B: lifts the lock-out of an SN after repeated failed authentications (audited; " +
        "dual control: held as a pending approval until a supervisor approves it)",
      access: "operator",
      roles: ["operator", "supervisor"],
      dualControl: { approvers: ["supervisor"] },
      params: { sn: SERIAL_NUMBER },
      responses: {
        200: { description: "lock-out lifted (or was not set)", schema: UnlockResponse },
      },
      handler: async (_req, { params, operator }) =>
        json(200, await service.unlock(params.sn, operator?.id)),
    }),
  ];
}

function find(routes: Route[], method: string, path: string): Route | undefined {
  return routes.find((r) => r.method === method && r.path === path);
}

/**
 * Merges flow B into a KMS route table: adds {@link flowBRoutes} and makes
 * the shared routes (`POST /v1/terminals/:sn/tmk`, `.../tmk/ack`, `GET
 * /v1/terminals/:sn`) serve flow B terminals through `service` and every
 * other terminal through the flow A handler already in the table. A shared
 * route missing from `routes` is added for flow B alone.
 *
 * @param routes the flow A table (e.g. `kmsRoutes(kmsService)`).
 * @param service the flow B service.
 * @returns the combined table.
 */
export function withFlowB(routes: Route[], service: FlowBService): Route[] {
  const out = routes.filter((r) =>
    !["/v1/terminals/:sn/tmk", "/v1/terminals/:sn/tmk/ack", "/v1/terminals/:sn"].includes(r.path)
  );
  const tmkA = find(routes, "POST", "/v1/terminals/:sn/tmk");
  const ackA = find(routes, "POST", "/v1/terminals/:sn/tmk/ack");
  const statusA = find(routes, "GET", "/v1/terminals/:sn");
  const dispatch = (
    a: Route | undefined,
    b: (
      req: Request,
      input: { params: Record<string, string>; body: unknown },
    ) => Promise<Response>,
  ) =>
  async (req: Request, input: { params: Record<string, string>; body: unknown }) =>
    (!a || (await service.owns(input.params.sn)))
      ? await b(req, input)
      : await a.handler(req, input);
  // The 200 answer of a shared route: flow A's or flow B's, or flow B's alone.
  const either = (a: Route | undefined, b: Schema<unknown>, description: string) => {
    const schemaA = a?.responses[200]?.schema;
    return schemaA ? eitherOf([schemaA, b], description) : b;
  };
  out.push(
    route({
      method: "POST",
      path: "/v1/terminals/:sn/tmk",
      operationId: tmkA?.operationId ?? "downloadTmk",
      summary: "Download of the terminal's TMK. Flow A: under TK (TR-31). Flow B (S6): under " +
        "Pu_tek with RSA-OAEP-SHA256, only inside the session a passed S5 opened (one download " +
        "per session)",
      access: "public",
      params: { sn: SERIAL_NUMBER },
      responses: {
        200: {
          description: "TMK under TK (flow A) or under Pu_tek (flow B)",
          schema: either(tmkA, FlowBTmkResponse, "TMK download"),
        },
      },
      handler: dispatch(
        tmkA,
        async (_req, { params }) => json(200, await service.downloadTmk(params.sn)),
      ),
    }),
    route({
      method: "POST",
      path: "/v1/terminals/:sn/tmk/ack",
      operationId: ackA?.operationId ?? "acknowledgeTmk",
      summary: "The PIN pad confirms the KCV of the TMK it stored (flow A S17, flow B S7)",
      access: "public",
      params: { sn: SERIAL_NUMBER },
      body: TmkAckRequest,
      responses: {
        200: {
          description: "delivered",
          schema: either(ackA, FlowBTerminalStatus, "terminal status"),
        },
      },
      handler: dispatch(
        ackA,
        async (_req, { params, body }) =>
          json(200, await service.acknowledge(params.sn, (body as TmkAckRequest).tmkKcv)),
      ),
    }),
    route({
      method: "GET",
      path: "/v1/terminals/:sn",
      operationId: statusA?.operationId ?? "terminalStatus",
      summary: "A terminal's state and KCVs, never keys (flow A or flow B)",
      access: "operator",
      roles: ["operator", "supervisor", "auditor"],
      params: { sn: SERIAL_NUMBER },
      responses: {
        200: {
          description: "status",
          schema: either(statusA, FlowBTerminalStatus, "terminal status"),
        },
      },
      handler: dispatch(
        statusA,
        async (_req, { params }) => json(200, await service.status(params.sn)),
      ),
    }),
  );
  return [...out, ...flowBRoutes(service)];
}
