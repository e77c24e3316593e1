/**
 * `Content-Type` as RFC 9110 (8.3.1) defines it: `type/subtype` (both
 * case-insensitive tokens) and `; name=value` parameters, a value a token or
 * a quoted-string. The router takes a body only of a media type parsed
 * whole, never one matched by prefix (`application/json-evil` is not JSON).
 *
 * @module
 */

/** RFC 9110 `token`: the characters of a type, subtype and parameter name. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(String.raw`^(${TOKEN})/(${TOKEN})[ \t]*`);
/** RFC 9110 `quoted-string`: qdtext and quoted-pairs between double quotes. */
const QUOTED = String.raw`"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"`;
/** `; name=value`, the value a token or a quoted-string, or an empty `;`. */
const PARAMETER = new RegExp(String.raw`^;[ \t]*(?:(${TOKEN})=(${TOKEN}|${QUOTED}))?[ \t]*`);

/** A `Content-Type` taken apart (RFC 9110 8.3.1): type/subtype lowercased, parameters. */
export interface MediaType {
  /** `type/subtype`, lowercased (both are case-insensitive). */
  essence: string;
  /** Parameters by lowercased name; values unquoted, case kept. */
  params: Map<string, string>;
}

/**
 * Parses a `Content-Type` header value.
 *
 * @param value the header value.
 * @returns the media type, or null if the value is not one.
 */
export function parseMediaType(value: string): MediaType | null {
  let rest = value.trim();
  const m = MEDIA_TYPE.exec(rest);
  if (!m) return null;
  const params = new Map<string, string>();
  rest = rest.slice(m[0].length);
  while (rest !== "") {
    const p = PARAMETER.exec(rest);
    if (!p) return null;
    if (p[1] !== undefined) {
      const v = p[2].startsWith('"') ? p[2].slice(1, -1).replace(/\\(.)/g, "$1") : p[2];
      params.set(p[1].toLowerCase(), v);
    }
    rest = rest.slice(p[0].length);
  }
  return { essence: `${m[1]}/${m[2]}`.toLowerCase(), params };
}

/**
 * Whether a `Content-Type` is `essence` with no parameter but `charset=utf-8`
 * (the bodies here are read as UTF-8; another charset would be misread).
 *
 * @param value the header value.
 * @param essence the `type/subtype` wanted, lowercase.
 */
export function isMediaType(value: string, essence: string): boolean {
  const t = parseMediaType(value);
  if (!t || t.essence !== essence) return false;
  for (const [name, v] of t.params) {
    if (name !== "charset" || v.toLowerCase() !== "utf-8") return false;
  }
  return true;
}
