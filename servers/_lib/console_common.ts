/**
 * The console routes both servers share: the HSM panel of the dashboard
 * (state, mode, LMK KCV, the known-answer self-tests), the audit log with
 * its filters and NDJSON export, server-sent events of figures that change,
 * and the key ceremony, where custodians enter components in their own
 * sessions and the server forms the key in memory only to report its KCV.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { fromHex, zeroize } from "../../src/crypto/mod.ts";
import {
  combineComponents,
  type Hsm,
  keyCheckValue,
  LMK_TYPES,
  type LmkAlgorithm,
  runSelfTests,
  SELF_TESTS,
} from "../../src/hsm/mod.ts";
import type { ChainedAuditRecord, Store } from "../../src/store/mod.ts";
import { ValidationError } from "../../src/protocol/errors.ts";
import { object, optional, text } from "../../src/protocol/schema.ts";
import type { HsmFactory } from "./hsm.ts";
import { openHsm } from "./hsm.ts";
import { type ConsoleContext, consoleJson, type ConsoleRoute } from "./console.ts";
import type { ConsoleRole } from "./console_auth.ts";

/** Every role. */
export const ALL_ROLES: readonly ConsoleRole[] = ["operator", "supervisor", "custodian", "auditor"];
/** Roles that run orders (as the API's order routes). */
export const RUN_ROLES: readonly ConsoleRole[] = ["operator"];
/** Roles that see orders, terminals and certificates. */
export const VIEW_ROLES: readonly ConsoleRole[] = ["operator", "supervisor", "auditor"];
/** Roles that read the audit log. */
export const AUDIT_ROLES: readonly ConsoleRole[] = ["supervisor", "auditor"];

/** The HSM a server opened, seen by the console (state, mode, LMK KCV). */
export interface HsmWatch {
  /** Opens HSMs as `factory` does and keeps the first one. */
  factory: HsmFactory;
  current(): Hsm | undefined;
}

/**
 * Wraps an HSM factory so that the console can show the HSM it opened.
 *
 * @param factory the server's factory (default the software HSM).
 */
export function watchHsm(factory: HsmFactory = openHsm): HsmWatch {
  let first: Hsm | undefined;
  return {
    factory: async (start) => {
      const hsm = await factory(start);
      first ??= hsm;
      return hsm;
    },
    current: () => first,
  };
}

/** The HSM's panel: state, mode, LMK algorithm and KCV, and the self-tests run now. */
export function hsmPanel(hsm: Hsm | undefined, core: CryptoCore): Record<string, unknown> {
  let selfTest: { passed: boolean; tests: number; error?: string };
  try {
    runSelfTests(core);
    selfTest = { passed: true, tests: SELF_TESTS.length };
  } catch (e) {
    selfTest = { passed: false, tests: SELF_TESTS.length, error: (e as Error).message };
  }
  return {
    state: hsm?.state ?? "unknown",
    mode: hsm?.mode ?? "unknown",
    lmkAlgorithm: hsm?.lmkAlgorithm ?? "unknown",
    lmkKcv: hsm?.lmkKcv ?? "unknown",
    core: core.name,
    selfTest: { ...selfTest, at: new Date().toISOString() },
  };
}

/** Appends the console's own record of what an operator did. */
export async function auditConsole(
  store: Store,
  ctx: ConsoleContext,
  event: string,
  fields: { subject?: string; detail?: string; kcv?: string; outcome?: "success" | "failure" },
): Promise<void> {
  await store.appendAudit({
    at: new Date(),
    actor: ctx.session.operator.id,
    event,
    outcome: fields.outcome ?? "success",
    subject: fields.subject,
    kcv: fields.kcv,
    detail: fields.detail,
  });
}

/** The filters of the audit page. */
interface AuditFilter {
  actor?: string;
  subject?: string;
  event?: string;
  from?: string;
  to?: string;
}

function auditFilter(url: URL): AuditFilter {
  const f: AuditFilter = {};
  for (const k of ["actor", "subject", "event", "from", "to"] as const) {
    const v = url.searchParams.get(k)?.trim();
    if (!v) continue;
    if (v.length > 64) throw new ValidationError("invalid_field", `${k} is over 64 characters`);
    if ((k === "from" || k === "to") && Number.isNaN(Date.parse(v))) {
      throw new ValidationError("invalid_field", `${k} must be a date and time, got ${v}`);
    }
    f[k] = v;
  }
  return f;
}

/**
 * The audit records that pass a filter, in id order, with their operator
 * and chain link, from the store's pages (the operator filter matches the
 * record's operator or its actor).
 *
 * @param store the store.
 * @param f the filter.
 * @param max at most this many.
 */
export async function* auditRecords(
  store: Store,
  f: AuditFilter,
  max: number,
): AsyncGenerator<ChainedAuditRecord> {
  const from = f.from ? Date.parse(f.from) : -Infinity;
  const to = f.to ? Date.parse(f.to) : Infinity;
  let afterId = 0;
  let n = 0;
  while (n < max) {
    const page = await store.listAuditChain({ afterId, limit: 1000 });
    for (const r of page) {
      const at = Date.parse(r.at);
      if (f.actor && r.operator !== f.actor && r.actor !== f.actor) continue;
      if ((f.subject && r.subject !== f.subject) || (f.event && r.event !== f.event)) continue;
      if (at < from || at > to) continue;
      yield r;
      if (++n >= max) return;
    }
    if (page.length < 1000) return;
    afterId = page[page.length - 1].id;
  }
}

/** The chain state the audit page shows: what the store offers to check the log's links. */
export type ChainState = () => Promise<{ state: string; records: number; detail: string }>;

/** The audit page's routes: filtered records with the chain's state, and the NDJSON export. */
export function auditRoutes(store: Store, chain: ChainState): ConsoleRoute[] {
  return [
    {
      method: "GET",
      path: "/audit",
      roles: AUDIT_ROLES,
      handler: async ({ url }) => {
        const records: ChainedAuditRecord[] = [];
        for await (const r of auditRecords(store, auditFilter(url), 500)) records.push(r);
        return consoleJson(200, { records, chain: await chain() }, url);
      },
    },
    {
      method: "GET",
      path: "/audit/export",
      roles: AUDIT_ROLES,
      handler: async (ctx) => {
        const f = auditFilter(ctx.url);
        await auditConsole(store, ctx, "audit_exported", { detail: JSON.stringify(f) });
        const enc = new TextEncoder();
        const it = auditRecords(store, f, 1_000_000);
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            const n = await it.next();
            if (n.done) c.close();
            else c.enqueue(enc.encode(JSON.stringify(n.value) + "\n"));
          },
        });
        const res = consoleJson(200, null, ctx.url);
        const headers = new Headers(res.headers);
        headers.set("content-type", "application/x-ndjson");
        headers.set("content-disposition", 'attachment; filename="audit.ndjson"');
        return new Response(body, { headers });
      },
    },
  ];
}

/**
 * Server-sent events: `snapshot()` every `everyMs`, sent as an event when it changed,
 * until the browser goes away or the session ends (idle, logged out, operator disabled):
 * then an `ended` event, and the stream closes.
 *
 * The first snapshot is taken before the stream starts, so a request that
 * cannot be answered (a malformed or unknown id) gets its JSON error and
 * status instead of a stream.
 */
export async function eventStream(
  ctx: ConsoleContext,
  snapshot: () => Promise<unknown>,
  everyMs = 300,
): Promise<Response> {
  const enc = new TextEncoder();
  let last = JSON.stringify(await snapshot());
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Set when the browser went away: a tick still in flight then sends nothing.
  let gone = false;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      const send = (event: string, data: string) => {
        if (!gone) c.enqueue(enc.encode(`event: ${event}\ndata: ${data}\n\n`));
      };
      const end = (event: string, data: string) => {
        send(event, data);
        if (!gone) c.close();
        gone = true;
      };
      const tick = async () => {
        try {
          if (!(await ctx.alive())) return end("ended", "{}");
          const text = JSON.stringify(await snapshot());
          if (text !== last) {
            last = text;
            send("figures", text);
          }
          if (!gone) timer = setTimeout(tick, everyMs);
        } catch (e) {
          end("failed", JSON.stringify((e as Error).message));
        }
      };
      send("figures", last);
      timer = setTimeout(tick, everyMs);
    },
    cancel() {
      gone = true;
      clearTimeout(timer);
    },
  });
  const headers = new Headers(consoleJson(200, null, ctx.url).headers);
  headers.set("content-type", "text/event-stream");
  return new Response(body, { headers });
}

/** The body of an action that takes no fields (the page sends `{}`): its subject is in its path. */
const NO_FIELDS = object({}, "no fields: the action's subject is in its path");

/**
 * Checks the body of an action that takes no fields: anything but `{}` is refused, not ignored.
 *
 * @param body the request's JSON body.
 * @throws {ValidationError} `invalid_field` if it is not an object, `unknown_field` naming a field.
 */
export function noFields(body: unknown): void {
  NO_FIELDS.parse(body, "body");
}

/** A finished ceremony: who took part, every KCV, never a key. */
export interface CeremonyRecord {
  key: string;
  algorithm: LmkAlgorithm;
  at: string;
  custodians: { custodian: string; componentKcv: string }[];
  combinedKcv: string;
  expectedKcv: string | null;
  matches: boolean | null;
}

/**
 * A string field of a ceremony form, of any content: its format is checked
 * after, by the route, whose message never shows a component.
 */
const FORM_TEXT = text(/^[\s\S]*$/, "a string");

/** A custodian's component and its KCV, as the page sends them. */
const ComponentForm = object(
  { component: FORM_TEXT, kcv: FORM_TEXT },
  "a key component (hex) and its KCV",
);

/** The combination's expected KCV, if the custodians have one. */
const CombineForm = object({ expectedKcv: optional(FORM_TEXT) }, "the expected combined KCV");

/** A KCV as a custodian types it (any case, spaces around): 3 to 16 bytes of hex, uppercased. */
function kcvOf(typed: string, field: string): string {
  const kcv = typed.trim().toUpperCase();
  if (!/^[0-9A-F]{6,32}$/.test(kcv) || kcv.length % 2 !== 0) {
    throw new ValidationError("invalid_kcv", `${field} is 3 to 16 bytes of hex`);
  }
  return kcv;
}

/**
 * The key ceremony: components wait in server memory (never answered,
 * logged or stored) until a custodian combines them; the key is formed, its
 * KCV taken and zeroized, and the record goes to the audit log.
 */
export function ceremonyRoutes(store: Store, core: CryptoCore): ConsoleRoute[] {
  const pending = new Map<string, { custodian: string; key: Uint8Array; kcv: string }>();
  const records: CeremonyRecord[] = [];
  const algorithm: LmkAlgorithm = "aes";
  const t = LMK_TYPES[algorithm];
  const view = () => ({
    key: "LMK",
    algorithm,
    componentBytes: t.length,
    entered: [...pending.values()].map((c) => ({ custodian: c.custodian, kcv: c.kcv })),
    records,
  });
  const clear = () => {
    for (const c of pending.values()) zeroize(c.key);
    pending.clear();
  };
  return [
    {
      method: "GET",
      path: "/ceremony",
      roles: ["custodian"],
      handler: (ctx) => Promise.resolve(consoleJson(200, view(), ctx.url)),
    },
    {
      method: "POST",
      path: "/ceremony/components",
      roles: ["custodian"],
      handler: async (ctx) => {
        const b = ComponentForm.parse(ctx.body, "body");
        const hex = b.component.replace(/\s+/g, "");
        if (!new RegExp(`^[0-9A-Fa-f]{${2 * t.length}}$`).test(hex)) {
          throw new ValidationError(
            "invalid_component",
            `a component is ${t.length} bytes: ${2 * t.length} hex digits`,
          );
        }
        const kcvIn = kcvOf(b.kcv, "the KCV");
        const key = fromHex(hex);
        const kcv = await keyCheckValue(key, algorithm, kcvIn.length / 2, core);
        const custodian = ctx.session.operator.id;
        if (kcv !== kcvIn) {
          zeroize(key);
          await auditConsole(store, ctx, "ceremony_component", {
            outcome: "failure",
            kcv: kcvIn,
            detail: "kcv_mismatch",
          });
          return consoleJson(422, {
            error: {
              code: "kcv_mismatch",
              message: `the component's KCV is not ${kcvIn}: nothing kept`,
            },
          }, ctx.url);
        }
        const old = pending.get(custodian);
        if (old) zeroize(old.key);
        pending.set(custodian, { custodian, key, kcv });
        await auditConsole(store, ctx, "ceremony_component", { kcv, detail: "KCV checked" });
        return consoleJson(200, view(), ctx.url);
      },
    },
    {
      method: "POST",
      path: "/ceremony/combine",
      roles: ["custodian"],
      handler: async (ctx) => {
        const typed = CombineForm.parse(ctx.body, "body").expectedKcv?.trim() ?? "";
        const expected = typed === "" ? null : kcvOf(typed, "the expected KCV");
        const parts = [...pending.values()];
        try {
          const { key, kcv } = await combineComponents(
            parts.map((p) => ({ custodian: p.custodian, key: p.key, kcv: p.kcv })),
            algorithm,
            core,
            { what: "LMK", requireCustodians: true },
          );
          zeroize(key);
          const record: CeremonyRecord = {
            key: "LMK",
            algorithm,
            at: new Date().toISOString(),
            custodians: parts.map((p) => ({ custodian: p.custodian, componentKcv: p.kcv })),
            combinedKcv: kcv,
            expectedKcv: expected,
            matches: expected === null ? null : expected === kcv,
          };
          records.push(record);
          await auditConsole(store, ctx, "ceremony_combined", {
            kcv,
            outcome: record.matches === false ? "failure" : "success",
            detail: `custodians ${
              record.custodians.map((c) => `${c.custodian}/${c.componentKcv}`).join(", ")
            }`,
          });
        } finally {
          clear();
        }
        return consoleJson(200, view(), ctx.url);
      },
    },
  ];
}
