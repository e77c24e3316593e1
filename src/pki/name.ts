/**
 * Distinguished names as this CA writes them (RFC 5280 section 4.1.2.4 and
 * appendix A.1): countryName and serialNumber as PrintableString, the other
 * attributes as UTF8String, each 1 to 64 characters, in the order C, O, OU,
 * CN, serialNumber.
 *
 * @module
 */
import { describe } from "./_core.ts";

/** The attributes a subject may carry. */
export interface DistinguishedName {
  /** CN, required. */
  commonName: string;
  /** O. */
  organization?: string;
  /** OU. */
  organizationalUnit?: string;
  /** C: two upper-case letters (ISO 3166). */
  country?: string;
  /** serialNumber (2.5.4.5): the terminal SN in `terminal-hsm` certificates. */
  serialNumber?: string;
}

/** Attribute OIDs, in the order they are written. */
export const NAME_ATTRIBUTES = [
  { key: "country", oid: "2.5.4.6", short: "C", printable: true },
  { key: "organization", oid: "2.5.4.10", short: "O", printable: false },
  { key: "organizationalUnit", oid: "2.5.4.11", short: "OU", printable: false },
  { key: "commonName", oid: "2.5.4.3", short: "CN", printable: false },
  { key: "serialNumber", oid: "2.5.4.5", short: "serialNumber", printable: true },
] as const;

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]+$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * Checks a name before it is written into a certificate.
 *
 * @param name the argument's name, for messages.
 * @param dn the name.
 * @throws {TypeError} if `dn` is not an object or an attribute is not a string.
 * @throws {RangeError} for a missing commonName, an empty or over-long value (over 64
 *   characters), control characters, a value outside PrintableString where one is
 *   required, a country other than two upper-case letters, or an unknown attribute.
 */
export function checkName(name: string, dn: unknown): asserts dn is DistinguishedName {
  if (dn === null || typeof dn !== "object" || Array.isArray(dn)) {
    throw new TypeError(`${name} must be a DistinguishedName object, got ${describe(dn)}`);
  }
  const known = new Set<string>(NAME_ATTRIBUTES.map((a) => a.key));
  for (const k of Object.keys(dn)) {
    if (!known.has(k)) {
      throw new RangeError(
        `${name}.${k} is not a supported attribute (expected one of ${[...known].join(", ")})`,
      );
    }
  }
  const d = dn as Record<string, unknown>;
  if (d.commonName === undefined) throw new RangeError(`${name}.commonName is required`);
  for (const a of NAME_ATTRIBUTES) {
    const v = d[a.key];
    if (v === undefined) continue;
    if (typeof v !== "string") {
      throw new TypeError(`${name}.${a.key} must be a string, got ${describe(v)}`);
    }
    const chars = [...v].length;
    if (chars < 1 || chars > 64) {
      throw new RangeError(`${name}.${a.key} must be 1 to 64 characters, got ${chars}`);
    }
    if (CONTROL.test(v)) {
      throw new RangeError(`${name}.${a.key} must not contain control characters`);
    }
    if (a.printable && !PRINTABLE.test(v)) {
      throw new RangeError(
        `${name}.${a.key} must be a PrintableString (A-Z a-z 0-9 space '()+,-./:=?), got ${
          JSON.stringify(v)
        }`,
      );
    }
  }
  if (d.country !== undefined && !/^[A-Z]{2}$/.test(d.country as string)) {
    throw new RangeError(
      `${name}.country must be two upper-case letters (ISO 3166), got ${JSON.stringify(d.country)}`,
    );
  }
}

/**
 * A one-line form of a name for messages, e.g. `C=CN, O=Acme, CN=KMS CA`.
 *
 * @param dn the name.
 * @returns the text.
 */
export function formatName(dn: Partial<DistinguishedName>): string {
  const parts: string[] = [];
  for (const a of NAME_ATTRIBUTES) {
    const v = dn[a.key];
    if (v !== undefined) parts.push(`${a.short}=${v}`);
  }
  return parts.length ? parts.join(", ") : "(empty name)";
}
