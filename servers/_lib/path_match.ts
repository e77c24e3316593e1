/**
 * Route paths matched against a request's pathname. A path of the servers'
 * form, `/v1/terminals/:sn/hsm-key` (literal segments and whole-segment
 * `:name` parameters), is matched segment by segment; any other path
 * (optional groups, wildcards, regular expressions) by `URLPattern`.
 *
 * The segment match gives what `URLPattern({ pathname })` gives for such a
 * path on a pathname that `URL` has already normalised: a literal segment matches the
 * same text exactly (case counts), a parameter matches one or more
 * characters other than `/` (percent-escapes left as they are, `%2F`
 * included), and the pathname has the pattern's number of segments (a
 * trailing `/` is a segment of its own). `tests/servers/path_match_test.ts`
 * holds the two to the same answers. A segment compare costs a fraction of
 * a `URLPattern.exec`, and the router tries every route on each request.
 *
 * @module
 */

/** A compiled route path. */
export interface PathMatcher {
  /** The path it was made from. */
  readonly path: string;
  /**
   * The parameters of a pathname this path matches, still percent-encoded.
   *
   * @param pathname a URL's pathname.
   * @returns the parameters by name, or null for no match.
   */
  match(pathname: string): Record<string, string> | null;
}

const PARAM = /^:([A-Za-z]+)$/;
const LITERAL = /^[A-Za-z0-9_.~-]+$/;

/**
 * Compiles a route path.
 *
 * @param path a `URLPattern` pathname; segment matching where it is `/`, then
 *   segments that are literals (letters, digits, `_ . ~ -`) or `:name`.
 * @returns the matcher.
 * @throws {TypeError} for a path `URLPattern` refuses.
 */
export function pathMatcher(path: string): PathMatcher {
  if (typeof path !== "string") {
    throw new TypeError(`route path must be a string, got ${typeof path}`);
  }
  const segments = path === "/" ? [""] : path.slice(1).split("/");
  // One entry per segment: a parameter's name, or null for a literal.
  const names = segments.map((s) => PARAM.exec(s)?.[1] ?? null);
  const params = names.filter((n) => n !== null);
  const simple = path.startsWith("/") && new Set(params).size === params.length &&
    segments.every((s, i) => names[i] !== null || LITERAL.test(s) || path === "/");
  return simple ? segmentMatcher(path, segments, names) : patternMatcher(path);
}

/** The `URLPattern` match of any other path. */
function patternMatcher(path: string): PathMatcher {
  const pattern = new URLPattern({ pathname: path });
  return {
    path,
    match(pathname) {
      const m = pattern.exec({ pathname });
      if (!m) return null;
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.pathname.groups)) params[k] = v ?? "";
      return params;
    },
  };
}

function segmentMatcher(
  path: string,
  segments: string[],
  names: (string | null)[],
): PathMatcher {
  const count = segments.length;
  return {
    path,
    match(pathname) {
      if (pathname.charCodeAt(0) !== 0x2f) return null;
      const params: Record<string, string> = {};
      let start = 1;
      for (let i = 0; i < count; i++) {
        // The segment ends at the next "/"; the last one at the end, with no "/" after it.
        const slash = pathname.indexOf("/", start);
        const last = i === count - 1;
        if (last ? slash >= 0 : slash < 0) return null;
        const end = last ? pathname.length : slash;
        const name = names[i];
        if (name === null) {
          const lit = segments[i];
          if (end - start !== lit.length || !pathname.startsWith(lit, start)) return null;
        } else {
          if (end === start) return null;
          params[name] = pathname.slice(start, end);
        }
        start = end + 1;
      }
      return params;
    },
  };
}
