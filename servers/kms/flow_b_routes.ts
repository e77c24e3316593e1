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
 * S6 and S7 of flow B run in the session a passed S5 opened:
 * `POST .../sessions/{sessionId}/tmk` and `.../sessions/{sessionId}/tmk/ack`,
 * each with a MAC under the session key. On the shared routes a flow B SN
 * is refused with 401 `session_route_required`.
 *
 * Repeated S1: rotate before S3, refuse after, for the device key's holder
 * only (see `flow_b_service.ts`).
 *
 * @module
 */
import {
  AuthenticationError,
  ChallengeAnswer,
  ChallengeRequest,
  ChallengeResponse,
  ChallengeResult,
  eitherOf,
  FlowBTerminalStatus,
  FlowBTmkAckRequest,
  FlowBTmkRequest,
  FlowBTmkResponse,
  HsmKeyRequest,
  HsmKeyResponse,
  NotFoundError,
  ReleaseResponse,
  type Schema,
  SERIAL_NUMBER,
  SESSION_ID,
  text,
  TmkAckRequest,
  TransportKeyRequest,
  TransportKeyResponse,
  UnlockResponse,
} from "../../src/protocol/mod.ts";
import { json, requestSource, type ResponseSpec, type Route, route } from "../_lib/mod.ts";
import type { FlowBService } from "./flow_b_service.ts";

const CHALLENGE_ID = text(/^[0-9A-F]{32}$/, "a challenge id of 32 uppercase hex characters");

/** The caller's address, for the rate limit of unauthenticated callers. */
const source = (req: Request) => requestSource(req) ?? "local";

/** The operator named in the audit record of an operator route (when the router names one). */
function operatorName(input: unknown): string {
  const op = (input as { operator?: { id?: string } }).operator;
  return op?.id ?? "operator";
}

/** A public `POST` a device calls: its JSON body (8 KiB at most), one success status. */
function deviceRoute<B>(o: {
  path: string;
  operationId: string;
  summary: string;
  params: Record<string, Schema<string>>;
  body: Schema<B>;
  status: number;
  response: ResponseSpec;
  run(params: Record<string, string>, body: B, source: string): Promise<unknown>;
}): Route {
  return route({
    method: "POST",
    path: o.path,
    operationId: o.operationId,
    summary: o.summary,
    access: "public",
    params: o.params,
    body: o.body,
    maxBody: 8192,
    responses: { [o.status]: o.response },
    handler: async (req, { params, body }) =>
      json(o.status, await o.run(params, body, source(req))),
  });
}

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
        "Flow B S1: a Pu_hsm/Pr_hsm pair for the terminal, Pu_hsm certified by the KMS CA, " +
        "signed by the PIN pad's device key over the SN, a time and a single-use nonce. " +
        "Repeated before S3: a new pair replaces the old one (rotated: yes). After S3: refused " +
        "with 409 transport_key_registered. For a flow A SN: 409 flow_a_terminal.",
      access: "public",
      params: { sn: SERIAL_NUMBER },
      body: HsmKeyRequest,
      maxBody: 8192,
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
      handler: async (req, { params, body }) => {
        const r = await service.issueHsmKey(params.sn, body, source(req));
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
      handler: async (req, { params, body }) => {
        const r = await service.registerTransportKey(params.sn, body, source(req));
        return json(r.duplicate === "yes" ? 200 : 201, r);
      },
    }),
    deviceRoute({
      path: "/v1/terminals/:sn/challenges",
      operationId: "openChallenge",
      summary: "Flow B S5 (claim 4): Rnd1 in, Crnd1 = TDES(AUK, Rnd1) and Rnd2 out; single-use, " +
        "short-lived; signed by the PIN pad's device key",
      params: { sn: SERIAL_NUMBER },
      body: ChallengeRequest,
      status: 201,
      response: { description: "challenge opened", schema: ChallengeResponse },
      run: (p, body, from) => service.openChallenge(p.sn, body, from),
    }),
    deviceRoute({
      path: "/v1/terminals/:sn/challenges/:challengeId/response",
      operationId: "answerChallenge",
      summary: "Flow B S5 (claim 4): Crnd2 = TDES(AUK, Rnd2), signed by the device key; a " +
        "pass opens a short download session bound to the challenge, a wrong Crnd2 counts " +
        "towards the lock-out",
      params: { sn: SERIAL_NUMBER, challengeId: CHALLENGE_ID },
      body: ChallengeAnswer,
      status: 200,
      response: { description: "mutual authentication passed", schema: ChallengeResult },
      run: (p, body, from) => service.answerChallenge(p.sn, p.challengeId, body, from),
    }),
    deviceRoute({
      path: "/v1/terminals/:sn/sessions/:sessionId/tmk",
      operationId: "downloadTmkInSession",
      summary: "Flow B S6: TMK under Pu_tek (RSA-OAEP-SHA256) with a tag under AUK, in the " +
        "session a passed S5 opened (one download per session); MACed under the session key",
      params: { sn: SERIAL_NUMBER, sessionId: SESSION_ID },
      body: FlowBTmkRequest,
      status: 200,
      response: { description: "TMK under Pu_tek", schema: FlowBTmkResponse },
      run: (p, body, from) => service.downloadTmk(p.sn, p.sessionId, body, from),
    }),
    deviceRoute({
      path: "/v1/terminals/:sn/sessions/:sessionId/tmk/ack",
      operationId: "acknowledgeTmkInSession",
      summary: "Flow B S7: the PIN pad confirms the KCV of the TMK it stored, MACed under the " +
        "key of the session that downloaded it",
      params: { sn: SERIAL_NUMBER, sessionId: SESSION_ID },
      body: FlowBTmkAckRequest,
      status: 200,
      response: { description: "delivered", schema: FlowBTerminalStatus },
      run: (p, body, from) => service.acknowledge(p.sn, p.sessionId, body, from),
    }),
    ...operatorRoutes(service),
  ];
}

/** A flow B SN on a shared route: refused (and counted) without a change; S6/S7 are per session. */
function sessionRoute(service: FlowBService, sn: string, req: Request): Promise<Response> {
  service.guard.admit(sn, source(req));
  const e = new AuthenticationError(
    "session_route_required",
    `${sn} is a flow B terminal: download and acknowledge in the session S5 opened ` +
      `(POST /v1/terminals/${sn}/sessions/{sessionId}/tmk and .../tmk/ack)`,
  );
  service.guard.refused(sn, source(req), e.code);
  return Promise.reject(e);
}

/** The operator's flow B routes: lift a lock-out, release a blocking registration. */
function operatorRoutes(service: FlowBService): Route[] {
  const operatorRoute = (
    name: string,
    operationId: string,
    summary: string,
    response: ResponseSpec,
    run: (sn: string, operator: string) => Promise<unknown>,
  ) =>
    route({
      method: "POST",
      path: `/v1/terminals/:sn/${name}`,
      operationId,
      summary,
      access: "operator",
      roles: ["operator", "supervisor"],
      dualControl: { approvers: ["supervisor"] },
      params: { sn: SERIAL_NUMBER },
      responses: { 200: response },
      handler: async (_req, input) => json(200, await run(input.params.sn, operatorName(input))),
    });
  return [
    operatorRoute(
      "unlock",
      "unlockTerminal",
      "Flow B: lifts the lock-out of an SN after repeated failed authentications (audited " +
        "with the operator who lifted it; dual control: held as a pending approval until a " +
        "supervisor approves it)",
      { description: "lock-out lifted (or was not set)", schema: UnlockResponse },
      (sn, op) => service.unlock(sn, op),
    ),
    operatorRoute(
      "release",
      "releaseTerminal",
      "Flow B: drops the flow B registration of an SN that has no delivered TMK (for " +
        "example one a production order's batch names), audited with the operator; dual " +
        "control: held as a pending approval until a supervisor approves it",
      { description: "the registration is dropped", schema: ReleaseResponse },
      (sn, op) => service.release(sn, op),
    ),
  ];
}

function find(routes: Route[], method: string, path: string): Route | undefined {
  return routes.find((r) => r.method === method && r.path === path);
}

/**
 * Merges flow B into a KMS route table: adds {@link flowBRoutes}; on the
 * shared routes `POST /v1/terminals/:sn/tmk` and `.../tmk/ack` refuses a
 * flow B SN (its S6 and S7 are per session) and keeps flow A's route as it
 * is for every other SN; `GET /v1/terminals/:sn` serves flow B terminals
 * through `service`. A shared route missing from `routes` is added for flow
 * B alone.
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
  // Flow B's S6 and S7 are per session: on the shared routes a flow B SN is refused, and every
  // other SN goes to flow A's route as it is (its body, caps and answers).
  const refuseFlowB = (a: Route | undefined, path: string, what: string): Route => {
    const refuse = (req: Request, sn: string) => sessionRoute(service, sn, req);
    if (a) {
      return {
        ...a,
        summary: `${a.summary}. Flow B: 401 session_route_required (${what})`,
        handler: dispatch(a, (req, { params }) => refuse(req, params.sn)),
      };
    }
    return route({
      method: "POST",
      path,
      operationId: path.endsWith("/ack") ? "acknowledgeTmk" : "downloadTmk",
      summary: `Flow B: 401 session_route_required (${what})`,
      access: "public",
      params: { sn: SERIAL_NUMBER },
      body: path.endsWith("/ack") ? TmkAckRequest : undefined,
      responses: { 401: { description: "flow B downloads and acknowledges in a session" } },
      handler: async (req, { params }) => {
        if (!(await service.owns(params.sn))) {
          throw new NotFoundError("unknown_terminal", `KMS knows no terminal ${params.sn}`);
        }
        return await refuse(req, params.sn);
      },
    });
  };
  out.push(
    refuseFlowB(tmkA, "/v1/terminals/:sn/tmk", "S6 is POST .../sessions/{sessionId}/tmk"),
    refuseFlowB(ackA, "/v1/terminals/:sn/tmk/ack", "S7 is POST .../sessions/{sessionId}/tmk/ack"),
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
