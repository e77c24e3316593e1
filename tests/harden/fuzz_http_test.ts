/**
 * Fuzzing the endpoints: every route of the KMS (flow A and flow B)
 * and the MTMS, as each server lists it in `/openapi.json`, gets N inputs:
 * half from fast-check (random path parameters, bodies of random JSON, text
 * and bytes, content types, tokens), half mutations of the valid requests a
 * real run of both flows sent (`_traffic.ts`: a field removed, retyped,
 * emptied, lengthened, one character changed, unknown fields, nesting, the
 * raw text cut or a byte flipped, path parameters bent). Each answer must be
 * below 500, JSON, and every 4xx an `{"error": {"code", "message"}}` whose
 * message names the bad field (for 400: the body field, path parameter,
 * body or content type).
 *
 * N = 2,000 per route in CI, 100,000 under `deno task fuzz` (HARDEN_LONG=1);
 * a tenth of N for routes with neither parameters nor a body (`/healthz`,
 * `/openapi.json`, the MTMS transport certificate).
 * Prints `figure fuzz-http[<server> <METHOD> <path>]` per route and a total.
 */
import fc from "fast-check";
import { assert } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { figure, size, Tally } from "./_figures.ts";
import { type Recorded, recordTraffic, type Server } from "./_traffic.ts";
import { operatorAuthorization } from "../_helpers.ts";

const N = size(2000, 100_000);

interface RouteDoc {
  server: Server;
  method: string;
  /** OpenAPI path, e.g. `/v1/terminals/{sn}/tmk`. */
  path: string;
  params: string[];
  hasBody: boolean;
  operator: boolean;
}

/** Does a recorded request belong to a route? Returns its path parameters. */
function matchRoute(r: RouteDoc, rec: Recorded): Record<string, string> | null {
  if (rec.server !== r.server || rec.method !== r.method) return null;
  const pattern = new URLPattern({ pathname: r.path.replace(/\{(\w+)\}/g, ":$1") });
  const m = pattern.exec({ pathname: new URL(rec.url).pathname });
  return m ? (m.pathname.groups as Record<string, string>) : null;
}

type Mutation = (body: unknown) => unknown;

/** Mutations of a parsed JSON body, chosen by fast-check. */
function bodyMutation(): fc.Arbitrary<{ name: string; apply: Mutation }> {
  const pickField = fc.nat();
  const replacement = fc.oneof(
    fc.constant(null),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(""),
    fc.string(),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.array(fc.jsonValue(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue(), { maxKeys: 3 }),
    fc.constant("A".repeat(70_000)),
    fc.constant("0".repeat(513)),
    fc.constant(-1),
    fc.constant(1e308),
    fc.constant(Number.MAX_SAFE_INTEGER + 2),
  );
  const fields = (b: unknown) =>
    b !== null && typeof b === "object" && !Array.isArray(b) ? Object.keys(b as object) : [];
  const edit = (b: unknown, f: (o: Record<string, unknown>, k: string) => void, i: number) => {
    const o = structuredClone(b) as Record<string, unknown>;
    const ks = fields(o);
    if (ks.length === 0) return [o];
    f(o, ks[i % ks.length]);
    return o;
  };
  return fc.oneof(
    pickField.map((i) => ({
      name: "field removed",
      apply: (b: unknown) => edit(b, (o, k) => delete o[k], i),
    })),
    fc.tuple(pickField, replacement).map(([i, v]) => ({
      name: "field replaced",
      apply: (b: unknown) => edit(b, (o, k) => (o[k] = v), i),
    })),
    fc.tuple(pickField, fc.nat(), fc.integer({ min: 0, max: 0xffff })).map(([i, at, c]) => ({
      name: "one character changed",
      apply: (b: unknown) =>
        edit(b, (o, k) => {
          const s = o[k];
          if (typeof s === "string" && s.length > 0) {
            const p = at % s.length;
            o[k] = s.slice(0, p) + String.fromCharCode(c) + s.slice(p + 1);
          }
        }, i),
    })),
    fc.tuple(pickField, fc.integer({ min: -3, max: 3 })).map(([i, d]) => ({
      name: "length changed",
      apply: (b: unknown) =>
        edit(b, (o, k) => {
          const s = o[k];
          if (typeof s === "string") o[k] = d >= 0 ? s + "0".repeat(d + 1) : s.slice(0, d);
        }, i),
    })),
    pickField.map((i) => ({
      name: "lowercase",
      apply: (b: unknown) =>
        edit(b, (o, k) => {
          if (typeof o[k] === "string") o[k] = (o[k] as string).toLowerCase();
        }, i),
    })),
    fc.tuple(fc.string({ maxLength: 8 }), fc.jsonValue()).map(([k, v]) => ({
      name: "unknown field",
      apply: (b: unknown) => {
        const o = structuredClone(b) as Record<string, unknown>;
        if (o && typeof o === "object") o[k === "" ? "x" : k] = v;
        return o;
      },
    })),
    fc.tuple(pickField, fc.integer({ min: 1, max: 5000 })).map(([i, depth]) => ({
      name: "deep nesting",
      apply: (b: unknown) =>
        edit(b, (o, k) => {
          let v: unknown = o[k];
          for (let d = 0; d < depth; d++) v = [v];
          o[k] = v;
        }, i),
    })),
    fc.constantFrom(
      { name: "body as array", apply: (b: unknown) => [b] },
      { name: "body null", apply: () => null },
      { name: "body number", apply: () => 42 },
      { name: "body empty object", apply: () => ({}) },
    ),
  );
}

/** Raw-text mutations of a body (after JSON.stringify). */
function rawMutation(): fc.Arbitrary<{ name: string; apply: (s: string) => string }> {
  return fc.oneof(
    fc.nat().map((at) => ({
      name: "text cut",
      apply: (s: string) => s.slice(0, at % (s.length + 1)),
    })),
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, c]) => ({
      name: "byte replaced",
      apply: (s: string) => {
        const p = at % Math.max(1, s.length);
        return s.slice(0, p) + String.fromCharCode(c) + s.slice(p + 1);
      },
    })),
    fc.string().map((t) => ({ name: "text appended", apply: (s: string) => s + t })),
  );
}

/** Path parameter bends that keep it out of the valid formats only by chance. */
const paramValue = (recorded: string | undefined) =>
  fc.oneof(
    fc.string(),
    fc.string({ unit: "binary" }),
    fc.stringMatching(/^[A-Z0-9-]{0,40}$/),
    fc.constantFrom("%", "%FF", "%00", "..", "a/b", "\u0000", "A".repeat(5000)),
    ...(recorded === undefined ? [] : [
      fc.constant(recorded),
      fc.constant(recorded.toLowerCase()),
      fc.constant(recorded + "!"),
      fc.constant(recorded.slice(1)),
    ]),
  );

const core = await loadCore("wasm");

Deno.test(`fuzz every endpoint, ${N} inputs each: 0 5xx, every 4xx names what was wrong`, async () => {
  const t = await recordTraffic(core, 2, "FZ");
  try {
    // Every route each server publishes.
    const routes: RouteDoc[] = [];
    for (const server of ["kms", "mtms", "kmsB"] as Server[]) {
      const doc = await (await t.handlers[server](new Request(`${t.urls[server]}/openapi.json`)))
        .json();
      for (
        const [path, ops] of Object.entries(
          doc.paths as Record<
            string,
            Record<
              string,
              { parameters?: { name: string }[]; requestBody?: unknown; security?: unknown }
            >
          >,
        )
      ) {
        for (const [method, op] of Object.entries(ops)) {
          routes.push({
            server,
            method: method.toUpperCase(),
            path,
            params: (op.parameters ?? []).map((p: { name: string }) => p.name),
            hasBody: op.requestBody !== undefined,
            operator: op.security !== undefined,
          });
        }
      }
    }
    const total = new Tally();
    const perRoute: string[] = [];
    const tokens = { kms: t.a.token, mtms: t.a.token, kmsB: t.b.token };
    for (const r of routes) {
      // A route with no parameters and no body (healthz, openapi.json, the transport
      // certificate) has only headers and a stray body to fuzz: a tenth of N.
      const n = r.params.length === 0 && !r.hasBody ? Math.ceil(N / 10) : N;
      const samples = t.recorded.filter((rec) => matchRoute(r, rec) !== null);
      const statuses = new Tally();
      let sent = 0;
      const send = async (
        params: Record<string, string>,
        body: string | null,
        contentType: string | null,
        token: "valid" | "none" | "bad",
        origin: string,
      ) => {
        let path = r.path;
        for (const p of r.params) {
          path = path.replace(`{${p}}`, encodeURIComponent(params[p] ?? ""));
        }
        const headers: Record<string, string> = {};
        if (contentType !== null) headers["content-type"] = contentType;
        const url = `${t.urls[r.server]}${path}`;
        const payload = r.method === "GET" || body === null ? undefined : body;
        if (token !== "none") {
          headers["authorization"] = await operatorAuthorization(
            token === "valid" ? tokens[r.server] : "not-the-operator-token",
            r.method,
            url,
            payload,
          );
        }
        const res = await t.handlers[r.server](
          new Request(url, { method: r.method, headers, body: payload }),
        );
        sent++;
        const text = await res.text();
        statuses.add(String(res.status));
        const what = `${r.method} ${path} (${origin}) body ${
          JSON.stringify((body ?? "").slice(0, 200))
        }`;
        if (res.status >= 500) throw new Error(`${res.status} for ${what}: ${text}`);
        let json: { error?: { code?: unknown; message?: unknown } };
        try {
          json = JSON.parse(text);
        } catch {
          throw new Error(`not JSON (${res.status}) for ${what}: ${text.slice(0, 200)}`);
        }
        if (res.status >= 400) {
          const e = json.error;
          if (
            !e || typeof e.code !== "string" || e.code === "" || typeof e.message !== "string" ||
            e.message === ""
          ) {
            throw new Error(`4xx without code and message for ${what}: ${text}`);
          }
          if (res.status === 400) {
            const names = ["body", "content-type", ...r.params];
            if (!names.some((n) => (e.message as string).includes(n))) {
              throw new Error(`400 whose message names no field for ${what}: ${text}`);
            }
          }
        }
      };
      const recordedParams = samples.length > 0 ? matchRoute(r, samples[0])! : {};
      const paramsArb = fc.record(
        Object.fromEntries(r.params.map((p) => [p, paramValue(recordedParams[p])])) as Record<
          string,
          fc.Arbitrary<string>
        >,
      );
      const randomBody = fc.oneof(
        fc.constant(null),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.string(),
        fc.uint8Array({ maxLength: 64 }).map((b) => String.fromCharCode(...b)),
      );
      const random = fc.record({
        params: paramsArb,
        body: randomBody,
        contentType: fc.constantFrom(
          "application/json",
          "text/plain",
          null,
          "application/json; charset=utf-8",
        ),
        token: fc.constantFrom("valid" as const, "none" as const, "bad" as const),
      });
      await fc.assert(
        fc.asyncProperty(random, async (x) => {
          await send(x.params, x.body, x.contentType, r.operator ? x.token : "none", "random");
        }),
        { numRuns: samples.length > 0 ? Math.ceil(n / 2) : n },
      );
      if (samples.length > 0) {
        const mutated = fc.record({
          sample: fc.constantFrom(...samples),
          body: fc.option(bodyMutation(), { freq: 4 }),
          raw: fc.option(rawMutation(), { freq: 3 }),
          param: fc.option(
            fc.tuple(
              fc.constantFrom(...(r.params.length ? r.params : ["-"])),
              paramValue(undefined),
            ),
            {
              freq: 4,
            },
          ),
        });
        await fc.assert(
          fc.asyncProperty(mutated, async (m) => {
            const params = { ...matchRoute(r, m.sample)! };
            if (m.param && r.params.length) params[m.param[0]] = m.param[1];
            let body = m.sample.body;
            if (body !== null && m.body) body = JSON.stringify(m.body.apply(JSON.parse(body)));
            if (body !== null && m.raw) body = m.raw.apply(body);
            await send(
              params,
              body,
              body === null ? null : "application/json",
              "valid",
              "mutation",
            );
          }),
          { numRuns: n - Math.ceil(n / 2) },
        );
      }
      total.merge(statuses);
      perRoute.push(
        `${r.server} ${r.method} ${r.path}: ${sent} (${samples.length} recorded) ${statuses}`,
      );
      assert(sent === n, `${r.method} ${r.path}: ${sent} of ${n}`);
    }
    for (const line of perRoute) figure("fuzz-http", line);
    figure(
      "fuzz-http",
      `${routes.length} routes, ${N} inputs each (a tenth for the ${
        routes.filter((r) => r.params.length === 0 && !r.hasBody).length
      } without parameters or body) = ${total.total} requests, 0 5xx, 0 crashes, every 4xx with code and message, every 400 naming its field; statuses: ${total}`,
    );
  } finally {
    await t.close();
  }
});
