/**
 * The KMS's console: the dashboard (HSM, self-tests, terminals by state),
 * orders as the KMS sees them (TKs imported, TMKs issued, downloaded,
 * acknowledged) with bulk issuance started from the page and followed over
 * server-sent events, terminals with their timeline from the audit log,
 * flow B lock-outs lifted under dual control (a second operator approves in
 * their own session), certificates, the audit log and the key ceremony.
 *
 * It reads the store and calls the KMS's services; no key, key block or
 * component is ever in an answer.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { APPROVAL_ID, ORDER_ID, SERIAL_NUMBER } from "../../src/protocol/mod.ts";
import { ConflictError, NotFoundError } from "../../src/protocol/errors.ts";
import type { Store, Terminal } from "../../src/store/mod.ts";
import {
  type ConsoleContext,
  consoleJson,
  type ConsolePage,
  type ConsoleRoute,
} from "./console.ts";
import {
  ALL_ROLES,
  auditConsole,
  auditRoutes,
  ceremonyRoutes,
  type ChainState,
  eventStream,
  hsmPanel,
  type HsmWatch,
  noFields,
  RUN_ROLES,
  VIEW_ROLES,
} from "./console_common.ts";
import { type CertificateSource, certificateView } from "./console_certs.ts";
import type { ConsoleApprovals } from "./console_operators.ts";

/** What the KMS console needs of the KMS. */
export interface KmsConsoleDeps {
  store: Store;
  core: CryptoCore;
  hsm: HsmWatch;
  /** Bulk issuance (S15) of an order. */
  issueOrder(
    orderId: string,
    options: { onProgress?: (done: number, total: number) => void },
  ): Promise<unknown>;
  /** Whether the KMS serves flow B (its lock-outs). */
  flowB: boolean;
  /** Dual control (the operator gate's approvals). */
  approvals: ConsoleApprovals;
  /** The certificates the KMS issued or holds. */
  certificates: CertificateSource;
  /** The audit chain's state. */
  chain: ChainState;
}

/** The KMS console's pages. */
export const KMS_PAGES: readonly ConsolePage[] = [
  { id: "dashboard", title: "Dashboard", roles: ALL_ROLES },
  { id: "orders", title: "Orders", roles: VIEW_ROLES },
  { id: "terminals", title: "Terminals", roles: VIEW_ROLES },
  { id: "certificates", title: "Certificates", roles: VIEW_ROLES },
  { id: "audit", title: "Audit", roles: ["supervisor", "auditor"] },
  { id: "ceremony", title: "Key ceremony", roles: ["custodian"] },
];

/** An order's figures at the KMS. */
export interface KmsOrderFigures {
  orderId: string;
  terminals: number;
  issued: number;
  downloaded: number;
  acknowledged: number;
}

/** Orders the KMS imported, newest last, from its audit log. */
async function orderIds(store: Store): Promise<string[]> {
  const ids = new Set<string>();
  let afterId = 0;
  while (true) {
    const page = await store.listAudit({ afterId, limit: 1000, event: "tk_batch_imported" });
    for (const r of page) if (r.outcome === "success" && r.subject) ids.add(r.subject);
    if (page.length < 1000) break;
    afterId = page[page.length - 1].id;
  }
  return [...ids];
}

/** The order's terminals in every state (paged through the store). */
export async function kmsOrderFigures(store: Store, orderId: string): Promise<KmsOrderFigures> {
  const c = await store.countTerminals(orderId);
  let downloaded = 0;
  let after: string | undefined;
  while (true) {
    const page = await store.listTerminals(orderId, { after, limit: 1000, filter: "with_tmk" });
    for (const t of page) if (t.tmkSentAt !== null || t.deliveredAt !== null) downloaded++;
    if (page.length < 1000) break;
    after = page[page.length - 1].sn;
  }
  return {
    orderId,
    terminals: c.terminals,
    issued: c.withTmk,
    downloaded,
    acknowledged: c.delivered,
  };
}

/** A terminal as the console shows it: states, KCVs and times, never a key block. */
function terminalView(t: Terminal): Record<string, unknown> {
  return {
    sn: t.sn,
    orderId: t.orderId,
    flow: t.orderId === null ? "B" : "A",
    state: t.state,
    tkKcv: t.tkKcv,
    tmkKcv: t.tmkKcv,
    tmkIssuedAt: t.tmkIssuedAt,
    tmkSentAt: t.tmkSentAt,
    deliveredAt: t.deliveredAt,
    authFailures: t.authFailures,
    lockedAt: t.lockedAt,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

async function lockouts(store: Store): Promise<Record<string, unknown>[]> {
  const sns = new Set<string>();
  let afterId = 0;
  while (true) {
    const page = await store.listAudit({ afterId, limit: 1000, event: "lockout" });
    for (const r of page) if (r.subject) sns.add(r.subject);
    if (page.length < 1000) break;
    afterId = page[page.length - 1].id;
  }
  const out: Record<string, unknown>[] = [];
  for (const sn of sns) {
    const t = await store.getTerminal(sn);
    if (t?.lockedAt) out.push(terminalView(t));
  }
  return out;
}

/** The unlocks waiting for a second operator, with their SN. */
async function unlockRequests(d: KmsConsoleDeps) {
  return (await d.approvals.pending())
    .filter((a) => a.operation === UNLOCK.operationId)
    .map((a) => ({ ...a, sn: decodeURIComponent(a.path.split("/")[3] ?? "") }));
}

/** The API route an unlock runs as, and who may approve it. */
const UNLOCK = { operationId: "unlockTerminal", approvers: ["supervisor"] as const };

/** The dual-control routes of flow B unlocks: the gate's approvals, as on the API. */
function unlockRoutes(d: KmsConsoleDeps): ConsoleRoute[] {
  return [
    {
      method: "GET",
      path: "/lockouts",
      roles: VIEW_ROLES,
      handler: async ({ url }) =>
        consoleJson(
          200,
          { locked: await lockouts(d.store), requests: await unlockRequests(d) },
          url,
        ),
    },
    {
      method: "POST",
      path: "/terminals/:sn/unlock",
      roles: ["operator", "supervisor"],
      handler: async (ctx) => {
        const sn = SERIAL_NUMBER.parse(ctx.params.sn, "sn");
        noFields(ctx.body);
        if (!d.flowB) throw new NotFoundError("no_flow_b", "this KMS does not serve flow B");
        const t = await d.store.getTerminal(sn);
        if (!t?.lockedAt) throw new ConflictError("not_locked", `terminal ${sn} is not locked`);
        if ((await unlockRequests(d)).some((r) => r.sn === sn)) {
          throw new ConflictError(
            "unlock_pending",
            `an unlock of ${sn} already waits for approval`,
          );
        }
        const r = await d.approvals.request(
          ctx.session.operator,
          UNLOCK,
          "POST",
          `/v1/terminals/${encodeURIComponent(sn)}/unlock`,
        );
        return consoleJson(202, { request: r, requests: await unlockRequests(d) }, ctx.url);
      },
    },
    {
      method: "POST",
      path: "/unlocks/:id/approve",
      roles: ["supervisor"],
      handler: async (ctx) => {
        const id = APPROVAL_ID.parse(ctx.params.id, "id");
        noFields(ctx.body);
        const r = await d.approvals.approve(ctx.session.operator, id);
        return consoleJson(r.status, r.body, ctx.url);
      },
    },
  ];
}

/** Bulk issuance started from the page; its state while it runs and after. */
interface IssueJob {
  orderId: string;
  startedBy: string;
  state: "running" | "done" | "failed";
  error?: string;
}

async function dashboard(d: KmsConsoleDeps): Promise<Record<string, unknown>> {
  const orders: KmsOrderFigures[] = [];
  for (const id of await orderIds(d.store)) orders.push(await kmsOrderFigures(d.store, id));
  const sum = (k: keyof KmsOrderFigures) => orders.reduce((a, o) => a + (o[k] as number), 0);
  const terminals = sum("terminals");
  const issued = sum("issued");
  const downloaded = sum("downloaded");
  const acked = sum("acknowledged");
  return {
    hsm: hsmPanel(d.hsm.current(), d.core),
    terminalsByState: {
      tk_received: terminals - issued,
      tmk_issued: issued - downloaded,
      tmk_sent: downloaded - acked,
      delivered: acked,
      locked: (await lockouts(d.store)).length,
    },
    orders,
  };
}

/**
 * The KMS console's routes.
 *
 * @param d the store, core, HSM, services and certificates.
 */
export function kmsConsoleRoutes(d: KmsConsoleDeps): ConsoleRoute[] {
  const jobs = new Map<string, IssueJob>();
  const orderView = async (orderId: string) => ({
    ...(await kmsOrderFigures(d.store, orderId)),
    batch: await d.store.getTkBatch(orderId),
    job: jobs.get(orderId) ?? null,
  });
  const orderParam = (ctx: ConsoleContext) => ORDER_ID.parse(ctx.params.orderId, "orderId");
  /** `id`, if the KMS holds TKs of that order. */
  const knownOrder = async (id: string) => {
    if ((await d.store.countTerminals(id)).terminals === 0) {
      throw new NotFoundError("unknown_order", `the KMS has no TKs for order ${id}`);
    }
    return id;
  };
  return [
    {
      method: "GET",
      path: "/dashboard",
      roles: ALL_ROLES,
      handler: async ({ url }) => consoleJson(200, await dashboard(d), url),
    },
    {
      method: "GET",
      path: "/dashboard/events",
      roles: ALL_ROLES,
      handler: (ctx) => eventStream(ctx, () => dashboard(d), 500),
    },
    {
      method: "GET",
      path: "/orders",
      roles: VIEW_ROLES,
      handler: async ({ url }) => {
        const orders = [];
        for (const id of await orderIds(d.store)) orders.push(await kmsOrderFigures(d.store, id));
        return consoleJson(200, { orders }, url);
      },
    },
    {
      method: "GET",
      path: "/orders/:orderId",
      roles: VIEW_ROLES,
      handler: async (ctx) =>
        consoleJson(200, await orderView(await knownOrder(orderParam(ctx))), ctx.url),
    },
    {
      method: "GET",
      path: "/orders/:orderId/events",
      roles: VIEW_ROLES,
      handler: async (ctx) => {
        // Checked before the stream starts: a malformed id is a 400, an unknown one a 404.
        const id = await knownOrder(orderParam(ctx));
        return await eventStream(ctx, () => orderView(id));
      },
    },
    {
      method: "POST",
      path: "/orders/:orderId/issue",
      roles: RUN_ROLES,
      handler: async (ctx) => {
        const id = orderParam(ctx);
        noFields(ctx.body);
        if (jobs.get(id)?.state === "running") {
          throw new ConflictError("issuing", `issuance of ${id} is already running`);
        }
        await knownOrder(id);
        const job: IssueJob = { orderId: id, startedBy: ctx.session.operator.id, state: "running" };
        jobs.set(id, job);
        await auditConsole(d.store, ctx, "issuance_started", { subject: id });
        d.issueOrder(id, {}).then(
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
      path: "/terminals/:sn",
      roles: VIEW_ROLES,
      handler: async (ctx) => {
        const sn = SERIAL_NUMBER.parse(ctx.params.sn, "sn");
        const t = await d.store.getTerminal(sn);
        if (!t) throw new NotFoundError("unknown_terminal", `the KMS knows no terminal ${sn}`);
        const timeline = await d.store.listAudit({ subject: sn, limit: 500 });
        return consoleJson(200, { terminal: terminalView(t), timeline }, ctx.url);
      },
    },
    ...unlockRoutes(d),
    {
      method: "GET",
      path: "/certificates",
      roles: VIEW_ROLES,
      handler: async ({ url }) => consoleJson(200, await certificateView(d.certificates), url),
    },
    ...auditRoutes(d.store, d.chain),
    ...ceremonyRoutes(d.store, d.core),
  ];
}
