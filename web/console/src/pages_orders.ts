/// <reference lib="dom" />
/**
 * The dashboard and the orders pages. On the MTMS: orders created by
 * serial range, TK collection followed live, and the transfer to the KMS.
 * On the KMS: TMKs issued, downloaded and acknowledged followed live, and
 * bulk issuance started from the page.
 *
 * @module
 */
import { follow, get, post } from "./api.ts";
import { field, figures, h, section, stage, table } from "./dom.ts";
import { messageOf, type PageContext } from "./page.ts";

interface Hsm {
  state: string;
  mode: string;
  lmkAlgorithm: string;
  lmkKcv: string;
  core: string;
  selfTest: { passed: boolean; tests: number; error?: string; at: string };
}

interface KmsOrder {
  orderId: string;
  terminals: number;
  issued: number;
  downloaded: number;
  acknowledged: number;
  job?: { state: string; error?: string } | null;
}

interface MtmsOrder {
  orderId: string;
  terminals: number;
  collected: number;
  state: string;
  transfer?: { state: string; error?: string } | null;
  kmsConsole?: string | null;
}

function hsmSection(hsm: Hsm): HTMLElement {
  const st = hsm.selfTest;
  return section(
    "HSM",
    figures([
      ["hsm-state", "State", hsm.state],
      ["hsm-mode", "Mode", hsm.mode],
      ["lmk-algorithm", "LMK", hsm.lmkAlgorithm],
      ["lmk-kcv", "LMK KCV", hsm.lmkKcv],
      ["core", "Crypto core", hsm.core],
      [
        "self-test",
        "Self-test",
        h(
          "span",
          { class: st.passed ? "ok" : "bad" },
          st.passed ? `passed (${st.tests} known answers)` : `FAILED: ${st.error}`,
        ),
      ],
    ]),
  );
}

function orderLink(id: string): HTMLAnchorElement {
  return h("a", { href: `#orders/${encodeURIComponent(id)}` }, id);
}

function kmsOrderRows(orders: KmsOrder[]) {
  return orders.map((o) => [
    orderLink(o.orderId),
    o.terminals,
    o.issued,
    o.downloaded,
    o.acknowledged,
  ]);
}

const KMS_HEAD = ["Order", "TKs imported", "TMKs issued", "Downloaded", "Acknowledged"];

/** The dashboard: HSM, self-test, terminals by state, live progress. */
export async function dashboardPage(ctx: PageContext): Promise<void> {
  const kms = ctx.session.server === "KMS";
  const draw = (d: Record<string, unknown>) => {
    const parts: HTMLElement[] = [hsmSection(d.hsm as Hsm)];
    if (kms) {
      const by = d.terminalsByState as Record<string, number>;
      parts.push(
        section(
          "Terminals by state",
          figures(Object.entries(by).map(([k, v]) => [`state-${k}`, k.replaceAll("_", " "), v])),
        ),
        section(
          "Issuance progress (live)",
          table("Orders at the KMS", KMS_HEAD, kmsOrderRows(d.orders as KmsOrder[])),
        ),
      );
    } else {
      const o = d.orders as Record<string, number>;
      const t = d.tks as Record<string, number>;
      parts.push(section(
        "Orders and TKs (live)",
        figures([
          ["orders-collecting", "Orders collecting", o.collecting],
          ["orders-transferred", "Orders transferred", o.transferred],
          ["tks-collected", "TKs collected", `${t.collected} / ${t.expected}`],
        ]),
      ));
    }
    ctx.main.replaceChildren(h("h2", { class: "sr" }, "Dashboard"), ...parts);
  };
  draw(await get("/dashboard"));
  ctx.onLeave(follow("/dashboard/events", draw));
}

function createOrderForm(ctx: PageContext): HTMLElement {
  const id = field("Order id", { name: "orderId", required: true, value: "PO-0001" });
  const prefix = field("SN prefix", { name: "prefix", required: true, value: "SN" });
  const first = field("First number", { name: "first", type: "number", min: 0, value: 1 });
  const count = field("Terminals", { name: "count", type: "number", min: 1, value: 10 });
  const digits = field("Digits", { name: "digits", type: "number", min: 1, max: 30, value: 8 });
  const form = h(
    "form",
    { "aria-label": "Create an order" },
    id.label,
    prefix.label,
    first.label,
    count.label,
    digits.label,
    h("button", { type: "submit" }, "Create order"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await post("/orders", {
        orderId: id.input.value.trim(),
        prefix: prefix.input.value.trim(),
        first: Number(first.input.value),
        count: Number(count.input.value),
        digits: Number(digits.input.value),
      });
      ctx.say(`order ${id.input.value} created`);
      ctx.go(`orders/${encodeURIComponent(id.input.value.trim())}`);
    } catch (err) {
      ctx.say(messageOf(err), true);
    }
  });
  return section("New order by serial range", form);
}

/** The orders list (and, on the MTMS for operators, the form to create one). */
export async function ordersPage(ctx: PageContext): Promise<void> {
  if (ctx.args[0]) return await orderPage(ctx, ctx.args[0]);
  const { orders } = await get<{ orders: (KmsOrder | MtmsOrder)[] }>("/orders");
  const runs = ctx.session.operator.role === "operator";
  if (ctx.session.server === "KMS") {
    ctx.main.replaceChildren(
      section("Orders", table("Orders at the KMS", KMS_HEAD, kmsOrderRows(orders as KmsOrder[]))),
    );
    return;
  }
  const rows = (orders as MtmsOrder[]).map((o) => [
    orderLink(o.orderId),
    o.state,
    o.terminals,
    o.collected,
  ]);
  ctx.main.replaceChildren(
    ...(runs ? [createOrderForm(ctx)] : []),
    section("Orders", table("Orders", ["Order", "State", "Terminals", "TKs collected"], rows)),
  );
}

function actionButton(label: string, run: () => Promise<void>, ctx: PageContext) {
  const b = h("button", { type: "button" }, label);
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await run();
    } catch (e) {
      ctx.say(messageOf(e), true);
      b.disabled = false;
    }
  });
  return b;
}

async function orderPage(ctx: PageContext, orderId: string): Promise<void> {
  const base = `/orders/${encodeURIComponent(orderId)}`;
  const runs = ctx.session.operator.role === "operator";
  const kms = ctx.session.server === "KMS";
  const stages = h("div", { "aria-live": "polite" });
  const actions = h("p", { class: "actions" });
  const draw = (o: KmsOrder & MtmsOrder) => {
    if (kms) {
      stages.replaceChildren(
        stage("imported", "TKs transferred (imported)", o.terminals, o.terminals),
        stage("issued", "TMKs issued", o.issued, o.terminals),
        stage("downloaded", "Downloaded", o.downloaded, o.terminals),
        stage("acknowledged", "Acknowledged", o.acknowledged, o.terminals),
        o.job
          ? h("p", { "data-figure": "job" }, `issuance: ${o.job.state} ${o.job.error ?? ""}`)
          : "",
      );
      actions.replaceChildren(
        runs && o.issued < o.terminals && o.job?.state !== "running"
          ? actionButton("Start issuance", async () => {
            await post(`${base}/issue`);
            ctx.say(`issuance of ${orderId} started`);
          }, ctx)
          : "",
      );
    } else {
      stages.replaceChildren(
        stage("collected", "TKs collected", o.collected, o.terminals),
        stage(
          "transferred",
          "Transferred",
          o.state === "transferred" ? o.terminals : 0,
          o.terminals,
        ),
        h("p", {}, "State: ", h("span", { "data-figure": "state" }, o.state)),
        o.transfer
          ? h(
            "p",
            { "data-figure": "transfer" },
            `transfer: ${o.transfer.state} ${o.transfer.error ?? ""}`,
          )
          : "",
      );
      actions.replaceChildren(
        runs && o.state === "collecting" && o.collected === o.terminals &&
          o.transfer?.state !== "running"
          ? actionButton("Start transfer", async () => {
            await post(`${base}/transfer`);
            ctx.say(`transfer of ${orderId} started`);
          }, ctx)
          : "",
        o.kmsConsole ? h("a", { href: o.kmsConsole }, "This order on the KMS console") : "",
      );
    }
  };
  ctx.main.replaceChildren(section(`Order ${orderId}`, stages, actions));
  draw(await get(base));
  ctx.onLeave(follow(`${base}/events`, draw));
}
