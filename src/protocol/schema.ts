/**
 * A small schema language for the JSON messages both sides of each flow
 * exchange: one definition gives the strict validator (run before anything
 * else touches a request) and the JSON Schema that goes into `/openapi.json`.
 *
 * Binary fields are uppercase hex of an exact length (the payments
 * convention for keys, KCVs and MACs); certificates are PEM. Objects are
 * closed: an unknown field is an error, never ignored.
 *
 * A hex value is never echoed in an error message (a client that mistakenly
 * sends a clear key must not see it in a log or a response); the message
 * names the field, what was expected and the length or the offending
 * position instead.
 *
 * @module
 */
import { ValidationError } from "./errors.ts";

/** A JSON Schema fragment (the subset OpenAPI 3.1 uses). */
export type JsonSchema = Record<string, unknown>;

/** A validator for values of type `T`, with its JSON Schema. */
export interface Schema<T> {
  /**
   * Checks `value` and returns it typed.
   *
   * @param value the decoded JSON value.
   * @param path the field's name for error messages (`body.tks[3].sn`).
   * @returns the value, typed.
   * @throws {ValidationError} naming `path` and what was expected.
   */
  parse(value: unknown, path: string): T;
  /** The JSON Schema of this field. */
  readonly jsonSchema: JsonSchema;
}

/** The type a schema validates. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function shown(value: string, max = 40): string {
  return JSON.stringify(value.length > max ? value.slice(0, max) + "..." : value);
}

function expectString(value: unknown, path: string): string {
  if (typeof value !== "string") {
    throw new ValidationError("invalid_field", `${path} must be a string, got ${kind(value)}`);
  }
  return value;
}

/**
 * Uppercase hex of exactly `bytes` bytes (or between `min` and `max` bytes).
 *
 * @param bytes the exact length in bytes, or `{ min, max }`.
 * @param description what the field holds, for the OpenAPI document.
 * @returns a schema of the hex string.
 */
export function hex(
  bytes: number | { min: number; max: number },
  description: string,
): Schema<string> {
  const min = typeof bytes === "number" ? bytes : bytes.min;
  const max = typeof bytes === "number" ? bytes : bytes.max;
  const expected = min === max
    ? `${2 * min} hex characters (${min} bytes)`
    : `between ${2 * min} and ${2 * max} hex characters (${min}-${max} bytes), an even number`;
  return {
    parse(value, path) {
      const s = expectString(value, path);
      const bad = s.search(/[^0-9A-F]/);
      if (bad >= 0) {
        const c = s[bad];
        const what = /[a-f]/.test(c) ? "a lowercase hex digit" : "a non-hex character";
        throw new ValidationError(
          "invalid_field",
          `${path} must be uppercase hex, got ${what} at position ${bad}`,
        );
      }
      if (s.length < 2 * min || s.length > 2 * max || s.length % 2 !== 0) {
        throw new ValidationError(
          "invalid_field",
          `${path} must be ${expected}, got ${s.length} characters`,
        );
      }
      return s;
    },
    jsonSchema: {
      type: "string",
      pattern: min === max ? `^[0-9A-F]{${2 * min}}$` : `^([0-9A-F]{2}){${min},${max}}$`,
      description,
    },
  };
}

/**
 * A string matching `pattern` (anchored).
 *
 * @param pattern the format, e.g. `/^[A-Z0-9]{8,20}$/`.
 * @param description what the field holds and its format in words.
 * @returns a schema of the string.
 */
export function text(pattern: RegExp, description: string): Schema<string> {
  const src = pattern.source;
  if (!src.startsWith("^") || !src.endsWith("$")) {
    throw new RangeError(`pattern must be anchored with ^ and $, got /${src}/`);
  }
  return {
    parse(value, path) {
      const s = expectString(value, path);
      if (!pattern.test(s)) {
        throw new ValidationError(
          "invalid_field",
          `${path} must be ${description}, got ${shown(s)}`,
        );
      }
      return s;
    },
    jsonSchema: { type: "string", pattern: src, description },
  };
}

/** Largest PEM field accepted (a certificate chain of a few RSA-4096 certificates). */
export const MAX_PEM_CHARS = 16384;

/**
 * One or more PEM blocks with the given label (e.g. `CERTIFICATE`), each
 * with a base64 body. Only the armour is checked here; the content is parsed
 * by `src/pki` after validation.
 *
 * @param label the PEM label.
 * @param description what the field holds.
 * @param options `multiple`: allow a chain of several blocks.
 * @returns a schema of the PEM string.
 */
export function pem(
  label: string,
  description: string,
  options: { multiple?: boolean } = {},
): Schema<string> {
  const block =
    `-----BEGIN ${label}-----\\r?\\n(?:[A-Za-z0-9+/=]{1,76}\\r?\\n)+-----END ${label}-----`;
  const re = options.multiple
    ? new RegExp(`^(?:${block}\\r?\\n?)+$`)
    : new RegExp(`^${block}\\r?\\n?$`);
  return {
    parse(value, path) {
      const s = expectString(value, path);
      if (s.length > MAX_PEM_CHARS) {
        throw new ValidationError(
          "invalid_field",
          `${path} must be at most ${MAX_PEM_CHARS} characters of PEM, got ${s.length}`,
        );
      }
      if (!re.test(s)) {
        throw new ValidationError(
          "invalid_field",
          `${path} must be ${
            options.multiple ? "one or more PEM blocks" : "a PEM block"
          } labelled ${label} with a base64 body in lines of at most 76 characters`,
        );
      }
      return s;
    },
    jsonSchema: { type: "string", format: "pem", description },
  };
}

/**
 * An integer in `[min, max]`.
 *
 * @param min smallest accepted value.
 * @param max largest accepted value.
 * @param description what the field holds.
 * @returns a schema of the number.
 */
export function integer(min: number, max: number, description: string): Schema<number> {
  return {
    parse(value, path) {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw new ValidationError(
          "invalid_field",
          `${path} must be an integer, got ${
            typeof value === "number" ? String(value) : kind(value)
          }`,
        );
      }
      if (value < min || value > max) {
        throw new ValidationError(
          "invalid_field",
          `${path} must be between ${min} and ${max}, got ${value}`,
        );
      }
      return value;
    },
    jsonSchema: { type: "integer", minimum: min, maximum: max, description },
  };
}

/**
 * One of a fixed set of strings.
 *
 * @param values the accepted values.
 * @param description what the field holds.
 * @returns a schema of the string.
 */
export function oneOf<const V extends string>(
  values: readonly V[],
  description: string,
): Schema<V> {
  return {
    parse(value, path) {
      const s = expectString(value, path);
      if (!(values as readonly string[]).includes(s)) {
        throw new ValidationError(
          "invalid_field",
          `${path} must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}, got ${
            shown(s)
          }`,
        );
      }
      return s as V;
    },
    jsonSchema: { type: "string", enum: [...values], description },
  };
}

/**
 * An array of `min` to `max` items.
 *
 * @param item the schema of each item.
 * @param min fewest items.
 * @param max most items.
 * @param description what the array holds.
 * @returns a schema of the array.
 */
export function array<T>(item: Schema<T>, min: number, max: number, description: string): Schema<
  T[]
> {
  return {
    parse(value, path) {
      if (!Array.isArray(value)) {
        throw new ValidationError("invalid_field", `${path} must be an array, got ${kind(value)}`);
      }
      if (value.length < min || value.length > max) {
        throw new ValidationError(
          "invalid_field",
          `${path} must have between ${min} and ${max} items, got ${value.length}`,
        );
      }
      return value.map((v, i) => item.parse(v, `${path}[${i}]`));
    },
    jsonSchema: {
      type: "array",
      items: item.jsonSchema,
      minItems: min,
      maxItems: max,
      description,
    },
  };
}

/** Marks a field of {@link object} optional. */
export interface Optional<T> extends Schema<T> {
  readonly optional: true;
}

/**
 * Makes a field optional in an {@link object}.
 *
 * @param schema the field's schema when present.
 * @returns the same schema marked optional.
 */
export function optional<T>(schema: Schema<T>): Optional<T> {
  return { ...schema, optional: true };
}

type Fields = Record<string, Schema<unknown>>;
type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends Optional<unknown> ? K : never;
}[keyof F];
type RequiredKeys<F extends Fields> = Exclude<keyof F, OptionalKeys<F>>;

/** The type an {@link object} schema of `F` validates. */
export type ObjectOf<F extends Fields> =
  & { [K in RequiredKeys<F>]: Infer<F[K]> }
  & { [K in OptionalKeys<F>]?: Infer<F[K]> };

/**
 * A closed JSON object: every required field present, no unknown field.
 * Fields are checked in the order they are declared, so the first error is
 * always the same for the same input.
 *
 * @param fields the schema of each field.
 * @param description what the object is.
 * @returns a schema of the object.
 */
export function object<F extends Fields>(fields: F, description: string): Schema<ObjectOf<F>> {
  const names = Object.keys(fields);
  const required = names.filter((n) => !("optional" in fields[n]));
  return {
    parse(value, path) {
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new ValidationError("invalid_field", `${path} must be an object, got ${kind(value)}`);
      }
      const rec = value as Record<string, unknown>;
      for (const k of Object.keys(rec)) {
        if (!Object.hasOwn(fields, k)) {
          throw new ValidationError(
            "unknown_field",
            `${path} has an unknown field ${shown(k)}; ${
              names.length > 0 ? `expected only ${names.join(", ")}` : "it takes no fields"
            }`,
          );
        }
      }
      const out: Record<string, unknown> = {};
      for (const n of names) {
        if (!Object.hasOwn(rec, n) || rec[n] === undefined) {
          if (required.includes(n)) {
            throw new ValidationError("missing_field", `${path}.${n} is required`);
          }
          continue;
        }
        out[n] = fields[n].parse(rec[n], `${path}.${n}`);
      }
      return out as ObjectOf<F>;
    },
    jsonSchema: {
      type: "object",
      description,
      properties: Object.fromEntries(names.map((n) => [n, fields[n].jsonSchema])),
      required,
      additionalProperties: false,
    },
  };
}
