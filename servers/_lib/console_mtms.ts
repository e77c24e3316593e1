/**
 * The MTMS's console: the dashboard (HSM, self-tests, orders and TKs by
 * state), orders created by serial range with their collection followed
 * live over server-sent events and their transfer to the KMS started from
 * the page, the transport certificate and the CRLs in force, the audit log
 * and the key ceremony.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { CreateOrderRequest, ORDER_ID, type OrderStatus } from "../../src/protocol/mod.ts";
import { NotFoundError, ValidationError } from "../../src/protocol/errors.ts";
import type { Store } from "../../src/store/mod.ts";
import {
  type ConsoleContext,
  consoleJson,
  type ConsolePage,
  type ConsoleRoute,
} from "./console.ts";
import * as common from "./console_common.ts";
import { type CertificateSource, certificateView } from "./console_certs.ts";

/** What the MTMS console needs of the MTMS. */
export interface MtmsConsoleDeps {
  store: Store;
  core: CryptoCore;
  hsm: common.HsmWatch;
  createOrder(req: CreateOrderRequest): Promise<OrderStatus>;
  orderStatus(orderId: string): Promise<OrderStatus>;
  /** S14: sends the order's TKs to the KMS. */
  transfer(orderId: string): Promise<unknown>;
  certificates: CertificateSource;
  chain: common.ChainState;
  /** The KMS console, linked from an order's page. */
  kmsConsoleUrl?: string;
}

/** The MTMS console's pages. */
export const MTMS_PAGES: readonly ConsolePage[] = [
  { id: "dashboard", title: "Dashboard", roles: common.ALL_ROLES },
  { id: "orders", title: "Orders", roles: common.VIEW_ROLES },
  { id: "certificates", title: "Certificates", roles: common.VIEW_ROLES },
  { id: "audit", title: "Audit", roles: ["supervisor", "auditor"] },
  { id: "ceremony", title: "Key ceremony", roles: ["custodian"] },
];

async function orderIds(store: Store): Promise<string[]> {
  const ids: string[] = [];
  let afterId = 0;
  while (true) {
    const page = await store.listAudit({ afterId, limit: 1000, event: "order_created" });
    for (const r of page) if (r.outcome === "success" && r.subject) ids.push(r.subject);
    if (page.length < 1000) break;
    afterId = page[page.length - 1].id;
  }
  return ids;
}

/** A transfer started from the page. */
interface TransferJob {
  state: "running" | "done" | "failed";
  startedBy: string;
  error?: string;
}

/**
 * The order form's body as the API's create-order request: `orderId`, and
 * the serial range's fields beside it. The API's schema checks it, so a
 * wrong type, a missing or an unknown field is refused as `POST /v1/orders`
 * refuses it, and its message names the field (`body.serialRange.first`).
 */
function orderRequest(body: unknown): CreateOrderRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return CreateOrderRequest.parse(body, "body");
  }
  const { orderId, ...serialRange } = body as Record<string, unknown>;
  return CreateOrderRequest.parse({ orderId, serialRange }, "body");
}

/** Creates an order by serial range (the MTMS's own checks and audit), recording who asked. */
function createOrderRoute(d: MtmsConsoleDeps): ConsoleRoute {
  return {
    method: "POST",
    path: "/orders",
    roles: common.RUN_ROLES,
    handler: async (ctx) => {
      const req = orderRequest(ctx.body);
      const status = await d.createOrder(req);
      await common.auditConsole(d.store, ctx, "order_create_requested", {
        subject: req.orderId,
        detail: `${req.serialRange!.prefix} from ${req.serialRange!.first}, ${
          req.serialRange!.count
        } terminals`,
      });
      return consoleJson(201, status, ctx.url);
    },
  };
}

/**
 * The MTMS console's routes.
 *
 * @param d the store, core, HSM, service and certificates.
 */
export function mtmsConsoleRoutes(d: MtmsConsoleDeps): ConsoleRoute[] {
  const jobs = new Map<string, TransferJob>();
  const orders = async () => {
    const out: OrderStatus[] = [];
    for (const id of await orderIds(d.store)) out.push(await d.orderStatus(id));
    return out;
  };
  const dashboard = async () => {
    const all = await orders();
    const count = (s: string) => all.filter((o) => o.state === s).length;
    return {
      hsm: common.hsmPanel(d.hsm.current(), d.core),
      orders: { collecting: count("collecting"), transferred: count("transferred") },
      tks: {
        expected: all.reduce((a, o) => a + o.terminals, 0),
        collected: all.reduce((a, o) => a + o.collected, 0),
      },
    };
  };
  const orderParam = (ctx: ConsoleContext) => ORDER_ID.parse(ctx.params.orderId, "orderId");
  const orderView = async (id: string) => ({
    ...(await d.orderStatus(id)),
    transfer: jobs.get(id) ?? null,
    kmsConsole: d.kmsConsoleUrl ? `${d.kmsConsoleUrl}#orders/${encodeURIComponent(id)}` : null,
  });
  return [
    {
      method: "GET",
      path: "/dashboard",
      roles: common.ALL_ROLES,
      handler: async ({ url }) => consoleJson(200, await dashboard(), url),
    },
    {
      method: "GET",
      path: "/dashboard/events",
      roles: common.ALL_ROLES,
      handler: (ctx) => common.eventStream(ctx, dashboard, 500),
    },
    {
      method: "GET",
      path: "/orders",
      roles: common.VIEW_ROLES,
      handler: async ({ url }) => consoleJson(200, { orders: await orders() }, url),
    },
    createOrderRoute(d),
    {
      method: "GET",
      path: "/orders/:orderId",
      roles: common.VIEW_ROLES,
      handler: async (ctx) => consoleJson(200, await orderView(orderParam(ctx)), ctx.url),
    },
    {
      method: "GET",
      path: "/orders/:orderId/events",
      roles: common.VIEW_ROLES,
      handler: async (ctx) => {
        // The first view is taken before the stream: a malformed id is a 400, an unknown one a 404.
        const id = orderParam(ctx);
        return await common.eventStream(ctx, () => orderView(id));
      },
    },
    {
      method: "POST",
      path: "/orders/:orderId/transfer",
      roles: common.RUN_ROLES,
      handler: async (ctx) => {
        const id = orderParam(ctx);
        common.noFields(ctx.body);
        const status = await d.orderStatus(id);
        if (jobs.get(id)?.state === "running") {
          throw new ValidationError("transferring", `the transfer of ${id} is already running`);
        }
        if (status.state !== "collecting") {
          throw new NotFoundError("not_collecting", `order ${id} is ${status.state}`);
        }
        const job: TransferJob = { state: "running", startedBy: ctx.session.operator.id };
        jobs.set(id, job);
        await common.auditConsole(d.store, ctx, "transfer_started", { subject: id });
        d.transfer(id).then(
          () => job.state = "done",
          (e) => {
            job.state = "failed";
            job.error = (e as Error).message;
          },
        );
        return consoleJson(202, await orderView(id), ctx.url);
      },
    },
    {
      method: "GET",
      path: "/certificates",
      roles: common.VIEW_ROLES,
      handler: async ({ url }) => consoleJson(200, await certificateView(d.certificates), url),
    },
    ...common.auditRoutes(d.store, d.chain),
    ...common.ceremonyRoutes(d.store, d.core),
  ];
}
