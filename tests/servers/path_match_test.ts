/**
 * The route path matcher against `URLPattern`: the servers' own paths and
 * generated ones, on pathnames as `URL` normalises them (the router's
 * input), including escapes, empty and dot segments, trailing slashes and
 * non-ASCII text. Both must give the same match and the same parameters.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { pathMatcher } from "../../servers/_lib/path_match.ts";

const SERVER_PATHS = [
  "/v1/terminals/:sn",
  "/v1/terminals/:sn/hsm-key",
  "/v1/terminals/:sn/transport-key",
  "/v1/terminals/:sn/challenges",
  "/v1/terminals/:sn/challenges/:challengeId/response",
  "/v1/terminals/:sn/sessions/:sessionId/tmk",
  "/v1/terminals/:sn/sessions/:sessionId/tmk/ack",
  "/v1/terminals/:sn/tmk/challenge",
  "/v1/server-keys/:name/versions/:version",
  "/v1/orders",
  "/console/api/orders/:orderId/events",
  "/",
];

/** What URLPattern gives for the same path and pathname. */
function reference(path: string, pathname: string): Record<string, string> | null {
  const m = new URLPattern({ pathname: path }).exec({ pathname });
  if (!m) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.pathname.groups)) out[k] = v ?? "";
  return out;
}

/** A pathname as the router sees it: what `URL` makes of the raw request target. */
function normalised(raw: string): string {
  return new URL(`http://127.0.0.1${raw}`).pathname;
}

const piece = fc.constantFrom(
  "v1",
  "terminals",
  "TERMINALS",
  "hsm-key",
  "tmk",
  "ack",
  "SN0001",
  "a.b",
  "~x_y-z",
  "%2F",
  "%2f",
  "%",
  "%zz",
  "%41",
  ".",
  "..",
  "",
  "é",
  "a b",
  "?",
  "#",
  ":sn",
  "*",
);

Deno.test("path matcher: the servers' paths match as URLPattern does", () => {
  const targets = [
    "/v1/terminals/SN1",
    "/v1/terminals/SN1/",
    "/v1/terminals//hsm-key",
    "/v1/terminals/SN1/hsm-key",
    "/v1/terminals/SN%2F1/hsm-key",
    "/v1/terminals/SN1/../SN2/hsm-key",
    "/v1/terminals/./SN1/hsm-key",
    "/V1/terminals/SN1/hsm-key",
    "/v1/terminals/SN1/hsm-key/",
    "/v1/terminals/SN1/hsm-key?x=1",
    "/v1/terminals/é/hsm-key",
    "/v1/terminals/SN1/challenges/C1/response",
    "/v1/terminals/SN1/sessions/S1/tmk/ack",
    "/v1/server-keys/PK/versions/2",
    "/v1/orders",
    "/v1/orders/",
    "/console/api/orders/O%201/events",
    "/",
    "//",
    "/v1//terminals",
  ];
  for (const path of SERVER_PATHS) {
    const m = pathMatcher(path);
    for (const t of targets) {
      const p = normalised(t);
      assertEquals(m.match(p), reference(path, p), `${path} on ${t} (${p})`);
    }
  }
});

Deno.test("path matcher: generated paths and pathnames match as URLPattern does", () => {
  const segment = fc.oneof(
    fc.constantFrom("v1", "terminals", "a.b", "x_y", "tmk"),
    fc.constantFrom(":sn", ":id", ":orderId").map((s) => s),
  );
  let matched = 0;
  fc.assert(
    fc.property(
      fc.array(segment, { minLength: 1, maxLength: 5 }),
      fc.array(piece, { minLength: 0, maxLength: 7 }),
      fc.boolean(),
      (segs, pieces, trailing) => {
        // A parameter name appears once per path.
        const seen = new Set<string>();
        const path = "/" + segs.map((s, i) => {
          if (!s.startsWith(":")) return s;
          if (seen.has(s)) return `${s}${i}`.replace(/[0-9]/g, (d) => "abcdefghij"[Number(d)]);
          seen.add(s);
          return s;
        }).join("/");
        const raw = "/" + pieces.join("/") + (trailing ? "/" : "");
        let p: string;
        try {
          p = normalised(raw);
        } catch {
          return; // not a URL the server could have received
        }
        assertEquals(pathMatcher(path).match(p), reference(path, p), `${path} on ${p}`);
        // The same target with the path's own literals filled in, which matches more often.
        const filled = normalised(
          path.replace(/:[A-Za-z]+/g, () => encodeURIComponent(pieces[0] ?? "x") || "x"),
        );
        const want = reference(path, filled);
        assertEquals(pathMatcher(path).match(filled), want, `${path} on ${filled}`);
        if (want !== null) matched++;
      },
    ),
    { numRuns: 3000 },
  );
  // The comparison covers matches, not only refusals.
  assert(matched > 1000, `only ${matched} of 3000 filled paths matched`);
});

Deno.test("path matcher: other URLPattern paths match as URLPattern does; bad ones throw", () => {
  const paths = ["/v1/opt{/:id}?", "/v1/files/*", "/v1/grp(a|b)x", "/v1/:sn(\\d+)", "v1/rel"];
  const targets = ["/v1/opt", "/v1/opt/k9", "/v1/files/a/b", "/v1/grpax", "/v1/12", "/v1/x"];
  for (const path of paths) {
    for (const t of targets) assertEquals(pathMatcher(path).match(t), reference(path, t), path);
  }
  assertThrows(() => pathMatcher("/v1/:a/:a"), TypeError);
  assertThrows(() => pathMatcher("/v1/(x"), TypeError);
});
