/// <reference lib="dom" />
/**
 * The terminals, certificates, audit and key ceremony pages.
 *
 * A ceremony component is typed into a password field, sent once, and the
 * field is cleared at once: the page never shows it, keeps it in storage or
 * logs it, and the server never sends it back.
 *
 * @module
 */
import { get, post } from "./api.ts";
import { field, figures, h, section, table } from "./dom.ts";
import { messageOf, type PageContext } from "./page.ts";

type Row = Record<string, unknown>;

const text = (v: unknown) => v === null || v === undefined ? "-" : String(v);

function lookupForm(ctx: PageContext, value: string): HTMLElement {
  const sn = field("Serial number", { name: "sn", required: true, value });
  const form = h(
    "form",
    { "aria-label": "Look up a terminal" },
    sn.label,
    h("button", { type: "submit" }, "Look up"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.go(`terminals/${encodeURIComponent(sn.input.value.trim())}`);
  });
  return section("Terminal lookup", form);
}

async function lockoutSection(ctx: PageContext): Promise<HTMLElement> {
  const { locked, requests } = await get<{ locked: Row[]; requests: Row[] }>("/lockouts");
  const role = ctx.session.operator.role;
  const me = ctx.session.operator.id;
  const button = (label: string, path: string, done: string) => {
    const b = h("button", { type: "button" }, label);
    b.addEventListener("click", async () => {
      try {
        await post(path);
        ctx.say(done);
        ctx.go(location.hash.slice(1));
      } catch (e) {
        ctx.say(messageOf(e), true);
      }
    });
    return b;
  };
  const lockRows = locked.map((t) => {
    const sn = String(t.sn);
    const pending = requests.some((r) => r.sn === sn);
    return [
      h("a", { href: `#terminals/${encodeURIComponent(sn)}` }, sn),
      text(t.authFailures),
      text(t.lockedAt),
      ["operator", "supervisor"].includes(role) && !pending
        ? button(
          `Request unlock of ${sn}`,
          `/terminals/${encodeURIComponent(sn)}/unlock`,
          `unlock of ${sn} requested: a second operator must approve`,
        )
        : pending
        ? "waiting for approval"
        : "",
    ];
  });
  const reqRows = requests.map((r) => [
    text(r.sn),
    text(r.requestedBy),
    text(r.requestedAt),
    role === "supervisor" && r.requestedBy !== me
      ? button(
        `Approve unlock of ${r.sn}`,
        `/unlocks/${encodeURIComponent(String(r.id))}/approve`,
        `unlock of ${r.sn} approved`,
      )
      : "another operator approves",
  ]);
  return section(
    "Lock-outs",
    table("Locked terminals", ["SN", "Failures", "Locked at", "Action"], lockRows),
    h("h2", {}, "Unlocks waiting for a second operator"),
    table("Unlock requests", ["SN", "Requested by", "At", "Action"], reqRows),
  );
}

/** Terminal lookup, its timeline from the audit log, lock-outs and dual-control unlocks. */
export async function terminalsPage(ctx: PageContext): Promise<void> {
  const sn = ctx.args[0] ?? "";
  const parts: HTMLElement[] = [lookupForm(ctx, sn)];
  if (sn) {
    try {
      const { terminal: t, timeline } = await get<{ terminal: Row; timeline: Row[] }>(
        `/terminals/${encodeURIComponent(sn)}`,
      );
      parts.push(
        section(
          `Terminal ${sn}`,
          figures(
            [
              "orderId",
              "flow",
              "state",
              "tkKcv",
              "tmkKcv",
              "tmkIssuedAt",
              "tmkSentAt",
              "deliveredAt",
              "authFailures",
              "lockedAt",
            ]
              .map((k) => [`terminal-${k}`, k, text(t[k])]),
          ),
        ),
        section(
          "Timeline (audit log)",
          table(
            "Timeline",
            ["#", "At", "Who", "Event", "Outcome", "KCV", "Detail"],
            timeline.map((
              r,
            ) => [
              text(r.id),
              text(r.at),
              text(r.actor),
              text(r.event),
              text(r.outcome),
              text(r.kcv),
              text(r.detail),
            ]),
          ),
        ),
      );
    } catch (e) {
      parts.push(section(`Terminal ${sn}`, h("p", { class: "error" }, messageOf(e))));
    }
  }
  parts.push(await lockoutSection(ctx));
  ctx.main.replaceChildren(...parts);
}

/** Certificates held or issued, revoked ones, the CRLs in force. */
export async function certificatesPage(ctx: PageContext): Promise<void> {
  const v = await get<{ issued: Row[]; revoked: Row[]; crls: Row[] }>("/certificates");
  const cert = (
    c: Row,
  ) => [
    text(c.label),
    text(c.subject),
    text(c.issuer),
    text(c.serialNumber),
    text(c.notAfter),
    c.revoked ? "revoked" : "valid",
  ];
  const head = ["What", "Subject", "Issuer", "Serial", "Not after", "Status"];
  ctx.main.replaceChildren(
    section(
      "Certificates",
      h("p", {}, "Issued or held: ", h("span", { "data-figure": "certs-issued" }, v.issued.length)),
      table("Certificates", head, v.issued.map(cert)),
    ),
    section(
      "Revoked",
      h("p", {}, "Revoked: ", h("span", { "data-figure": "certs-revoked" }, v.revoked.length)),
      table("Revoked certificates", head, v.revoked.map(cert)),
    ),
    section(
      "Current CRLs",
      v.crls.length === 0
        ? h("p", { "data-figure": "crls" }, "no CRL is loaded on this server")
        : table(
          "CRLs",
          ["Issuer", "Number", "This update", "Next update", "Revoked"],
          v.crls.map((
            c,
          ) => [
            text(c.issuer),
            text(c.crlNumber),
            text(c.thisUpdate),
            text(c.nextUpdate),
            (c.revoked as string[]).join(", "),
          ]),
        ),
    ),
  );
}

/** The audit log with filters, the chain's state, and the NDJSON export. */
export async function auditPage(ctx: PageContext): Promise<void> {
  const params = new URLSearchParams(ctx.args[0] ?? "");
  const inputs = (["actor", "subject", "event", "from", "to"] as const).map((k) =>
    field(
      {
        actor: "Operator",
        subject: "Subject",
        event: "Event",
        from: "From (ISO time)",
        to: "To (ISO time)",
      }[k],
      { name: k, value: params.get(k) ?? "" },
    )
  );
  const form = h(
    "form",
    { "aria-label": "Filter the audit log" },
    ...inputs.map((i) => i.label),
    h("button", { type: "submit" }, "Filter"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const i of inputs) if (i.input.value.trim()) q.set(i.input.name, i.input.value.trim());
    ctx.go(`audit/${q.toString()}`);
  });
  const q = params.toString();
  const { records, chain } = await get<{ records: Row[]; chain: Row }>(`/audit${q ? `?${q}` : ""}`);
  ctx.main.replaceChildren(
    section("Filters", form),
    section(
      "Hash chain",
      figures([
        ["chain-state", "State", text(chain.state)],
        ["chain-records", "Records", text(chain.records)],
        ["chain-detail", "Detail", text(chain.detail)],
      ]),
    ),
    section(
      "Records",
      h(
        "p",
        {},
        h("span", { "data-figure": "audit-shown" }, records.length),
        " records shown. ",
        h(
          "a",
          { href: `/console/api/audit/export${q ? `?${q}` : ""}`, download: "audit.ndjson" },
          "Export as NDJSON",
        ),
      ),
      table(
        "Audit records",
        ["#", "At", "Operator", "Actor", "Event", "Subject", "Outcome", "KCV", "Detail"],
        records.map((
          r,
        ) => [
          text(r.id),
          text(r.at),
          text(r.operator),
          text(r.actor),
          text(r.event),
          text(r.subject),
          text(r.outcome),
          text(r.kcv),
          text(r.detail),
        ]),
      ),
    ),
  );
}

interface Ceremony {
  key: string;
  algorithm: string;
  componentBytes: number;
  entered: { custodian: string; kcv: string }[];
  records: {
    at: string;
    custodians: { custodian: string; componentKcv: string }[];
    combinedKcv: string;
    expectedKcv: string | null;
    matches: boolean | null;
  }[];
}

/** The key ceremony: this custodian's component and KCV, the combined KCV, the records. */
export async function ceremonyPage(ctx: PageContext): Promise<void> {
  const draw = (c: Ceremony) => {
    const comp = field(`Your component (${c.componentBytes * 2} hex digits, not shown)`, {
      name: "component",
      type: "password",
      autocomplete: "off",
      required: true,
      spellcheck: false,
    });
    const kcv = field("Its KCV", { name: "kcv", required: true, autocomplete: "off" });
    const enter = h(
      "form",
      { "aria-label": "Enter your component" },
      comp.label,
      kcv.label,
      h("button", { type: "submit" }, "Enter component"),
    );
    enter.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { component: comp.input.value, kcv: kcv.input.value };
      comp.input.value = "";
      try {
        draw(await post<Ceremony>("/ceremony/components", body));
        ctx.say("component entered: its KCV matches");
      } catch (err) {
        ctx.say(messageOf(err), true);
      }
    });
    const expected = field("Expected combined KCV (optional)", {
      name: "expectedKcv",
      autocomplete: "off",
    });
    const combine = h(
      "form",
      { "aria-label": "Combine the components" },
      expected.label,
      h("button", { type: "submit" }, "Combine"),
    );
    combine.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        draw(await post<Ceremony>("/ceremony/combine", { expectedKcv: expected.input.value }));
        ctx.say("components combined");
      } catch (err) {
        ctx.say(messageOf(err), true);
      }
    });
    ctx.main.replaceChildren(
      section(`${c.key} ceremony (${c.algorithm})`, enter),
      section(
        "Components entered",
        table(
          "Components entered",
          ["Custodian", "KCV"],
          c.entered.map((x) => [x.custodian, x.kcv]),
        ),
        combine,
      ),
      section(
        "Ceremony record",
        table(
          "Ceremony records",
          ["At", "Custodians (component KCV)", "Combined KCV", "Expected", "Matches"],
          c.records.map((
            r,
          ) => [
            r.at,
            r.custodians.map((x) => `${x.custodian} (${x.componentKcv})`).join(", "),
            h("span", { "data-figure": "combined-kcv" }, r.combinedKcv),
            text(r.expectedKcv),
            text(r.matches),
          ]),
        ),
      ),
    );
  };
  draw(await get<Ceremony>("/ceremony"));
}
