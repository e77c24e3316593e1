/**
 * The KMS route table (on the wire as in docs/ARCHITECTURE.md, "Contracts
 * other code relies on"): flow A's batch intake, bulk issuance, TMK
 * download and acknowledgement, terminal status. `/openapi.json` is
 * generated from this table.
 *
 * @module
 */
import {
  IssueResponse,
  MAX_BATCH_BODY,
  MAX_STREAM_BODY,
  MAX_STREAM_LINE,
  NDJSON,
  ORDER_ID,
  type Schema,
  SERIAL_NUMBER,
  TerminalStatus,
  TkBatchRequest,
  TkBatchResponse,
  TmkAckProofRequest,
  TmkChallengeResponse,
  TmkDownloadRequest,
  TmkDownloadResponse,
} from "../../src/protocol/mod.ts";
import {
  json,
  readLines,
  type Route,
  route,
  tkBatchFromJson,
  tkBatchFromLines,
} from "../_lib/mod.ts";
import { requestSource } from "../_lib/listener.ts";
import type { ResponseSpec } from "../_lib/router.ts";
import type { FlowADelivery } from "./flow_a_delivery.ts";
import type { KmsService } from "./service.ts";

/** The path parameter of the order routes. */
const BY_ORDER = { orderId: ORDER_ID };

/** The path parameter of the terminal routes. */
const BY_SN = { sn: SERIAL_NUMBER };

/**
 * A flow A device route (S16, S17): public, by serial number, its body a
 * proof of possession that `run` checks; answers 200 with what `run` returns.
 * The body is parsed again in the handler: a route flow B shares (`withFlowB`)
 * takes other bodies too.
 */
function provedDeviceRoute<B>(spec: {
  path: string;
  operationId: string;
  summary: string;
  body: Schema<B>;
  response: ResponseSpec;
  run: (sn: string, proof: B, source: string | undefined) => Promise<unknown>;
}): Route {
  return route({
    method: "POST",
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    access: "public",
    params: BY_SN,
    body: spec.body,
    responses: { 200: spec.response },
    handler: async (req, { params, body }) =>
      json(200, await spec.run(params.sn, spec.body.parse(body, "body"), requestSource(req))),
  });
}

/**
 * Builds the KMS routes over a service.
 *
 * @param service the KMS service.
 * @param delivery flow A's download and acknowledgement with proof of possession.
 * @returns the route table.
 */
export function kmsRoutes(service: KmsService, delivery: FlowADelivery): Route[] {
  return [
    route({
      method: "POST",
      path: "/v1/tk-batches",
      operationId: "acceptTkBatch",
      summary:
        "S14: an order's TKs under PK from the MTMS, MAC under MAK; all or nothing, idempotent. " +
        "JSON, or streamed as application/x-ndjson (header line, a line per TK, MAC line; " +
        "see src/protocol/flow_a.ts TkBatchStreamHeader) for orders up to 1,000,000 terminals",
      access: "public",
      body: TkBatchRequest,
      maxBody: MAX_BATCH_BODY,
      streamType: NDJSON,
      responses: {
        201: { description: "batch stored", schema: TkBatchResponse },
        200: { description: "the same batch was already stored", schema: TkBatchResponse },
      },
      handler: async (req, { body }) => {
        const batch = body === undefined
          ? tkBatchFromLines(
            readLines(req.body ?? new ReadableStream(), {
              maxLine: MAX_STREAM_LINE,
              maxBody: MAX_STREAM_BODY,
            }),
          )
          : tkBatchFromJson(body);
        const r = await service.importBatch(batch);
        return json(r.duplicate === "yes" ? 200 : 201, r);
      },
    }),
    route({
      method: "POST",
      path: "/v1/orders/:orderId/tmks",
      operationId: "issueTmks",
      summary: "S15: bulk TMK issuance for every terminal of an order (counts, never keys)",
      access: "operator",
      roles: ["operator"],
      params: BY_ORDER,
      responses: { 200: { description: "issued", schema: IssueResponse } },
      handler: async (_req, { params }) => json(200, await service.issueOrder(params.orderId)),
    }),
    route({
      method: "POST",
      path: "/v1/terminals/:sn/tmk/challenge",
      operationId: "tmkChallenge",
      summary: "S16, first half: a single-use nonce for this terminal's download or " +
        "acknowledgement (tagged by the KMS, nothing stored)",
      access: "public",
      params: BY_SN,
      responses: { 200: { description: "a fresh nonce", schema: TmkChallengeResponse } },
      handler: async (req, { params }) =>
        json(200, await delivery.challenge(params.sn, requestSource(req))),
    }),
    provedDeviceRoute({
      path: "/v1/terminals/:sn/tmk",
      operationId: "downloadTmk",
      summary: 'S16: the TMK under TK (TR-31) to the holder of TK: a CMAC under KDF(TK, "TMK ' +
        'download", SN) over the SN and a nonce; answers with a nonce for the acknowledgement',
      body: TmkDownloadRequest,
      response: { description: "TMK under TK", schema: TmkDownloadResponse },
      run: (sn, proof, source) => delivery.download(sn, proof, source),
    }),
    provedDeviceRoute({
      path: "/v1/terminals/:sn/tmk/ack",
      operationId: "acknowledgeTmk",
      summary: "S17: the PIN pad confirms the KCV of the TMK it stored, proving TMK: a CMAC " +
        'under KDF(TMK, "TMK ack", SN) over the SN, a nonce and the KCV',
      body: TmkAckProofRequest,
      response: { description: "delivered", schema: TerminalStatus },
      run: (sn, proof, source) => delivery.acknowledge(sn, proof, source),
    }),
    route({
      method: "GET",
      path: "/v1/terminals/:sn",
      operationId: "terminalStatus",
      summary: "A terminal's state and KCVs (never keys)",
      access: "operator",
      roles: ["operator", "supervisor", "auditor"],
      params: BY_SN,
      responses: { 200: { description: "status", schema: TerminalStatus } },
      handler: async (_req, { params }) => json(200, await service.status(params.sn)),
    }),
  ];
}
