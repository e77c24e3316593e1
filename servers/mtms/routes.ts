/**
 * The MTMS route table (on the wire as in docs/ARCHITECTURE.md, "Contracts
 * other code relies on"): production orders, TK uploads from operator
 * terminals, the transfer of an order to the KMS, and the transport
 * certificate operator terminals encrypt for.
 *
 * @module
 */
import {
  CreateOrderRequest,
  MAX_ORDER_TERMINALS,
  ORDER_ID,
  OrderStatus,
  TkUploadRequest,
  TkUploadResponse,
  TransferResponse,
  TransportCertificateResponse,
} from "../../src/protocol/mod.ts";
import { json, type Route, route } from "../_lib/mod.ts";
import type { MtmsService } from "./service.ts";

/**
 * Builds the MTMS routes over a service.
 *
 * @param service the MTMS service.
 * @returns the route table.
 */
export function mtmsRoutes(service: MtmsService): Route[] {
  return [
    route({
      method: "GET",
      path: "/v1/transport-certificate",
      operationId: "transportCertificate",
      summary: "The MTMS transport certificate (chains to the CA root) that TKs are encrypted for",
      access: "public",
      responses: { 200: { description: "certificate", schema: TransportCertificateResponse } },
      handler: () => Promise.resolve(json(200, { certificate: service.transportCertificate })),
    }),
    route({
      method: "POST",
      path: "/v1/orders",
      operationId: "createOrder",
      summary: "Creates a production order with its serial numbers",
      access: "operator",
      roles: ["operator"],
      body: CreateOrderRequest,
      maxBody: 1024 + MAX_ORDER_TERMINALS * 40,
      responses: { 201: { description: "created", schema: OrderStatus } },
      handler: async (_req, { body }) => json(201, await service.createOrder(body)),
    }),
    route({
      method: "GET",
      path: "/v1/orders/:orderId",
      operationId: "orderStatus",
      summary: "A production order's progress",
      access: "operator",
      roles: ["operator", "supervisor", "auditor"],
      params: { orderId: ORDER_ID },
      responses: { 200: { description: "status", schema: OrderStatus } },
      handler: async (_req, { params }) => json(200, await service.orderStatus(params.orderId)),
    }),
    route({
      method: "POST",
      path: "/v1/orders/:orderId/tks",
      operationId: "uploadTk",
      summary:
        "S11-S13: one terminal's TK under the transport key, signed by the operator card; stored under PK",
      access: "public",
      params: { orderId: ORDER_ID },
      body: TkUploadRequest,
      maxBody: 32 * 1024,
      responses: {
        201: { description: "stored", schema: TkUploadResponse },
        200: { description: "the same upload was already stored", schema: TkUploadResponse },
      },
      handler: async (_req, { params, body }) => {
        const r = await service.uploadTk(params.orderId, body);
        return json(r.created ? 201 : 200, r.body);
      },
    }),
    route({
      method: "POST",
      path: "/v1/orders/:orderId/transfer",
      operationId: "transferOrder",
      summary: "S14: sends the order's TKs to KMS as one batch MACed under MAK",
      access: "operator",
      roles: ["operator"],
      params: { orderId: ORDER_ID },
      responses: { 200: { description: "KMS accepted the batch", schema: TransferResponse } },
      handler: async (_req, { params }) => json(200, await service.transfer(params.orderId)),
    }),
  ];
}
