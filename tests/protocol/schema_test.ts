/** The schema language: each bad value gets its exact error. */
import { assertEquals, assertThrows } from "@std/assert";
import {
  array,
  hex,
  integer,
  object,
  oneOf,
  optional,
  pem,
  text,
} from "../../src/protocol/schema.ts";
import { ValidationError } from "../../src/protocol/errors.ts";

const CERT = "-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n";
const s = object({
  id: text(/^[A-Z]{2}[0-9]{2}$/, "two letters and two digits"),
  mac: hex(8, "MAC"),
  blob: optional(hex({ min: 1, max: 4 }, "blob")),
  n: optional(integer(1, 10, "count")),
  kind: optional(oneOf(["a", "b"], "kind")),
  list: optional(array(hex(1, "byte"), 1, 2, "bytes")),
  cert: optional(pem("CERTIFICATE", "cert")),
  chain: optional(pem("CERTIFICATE", "chain", { multiple: true })),
}, "thing");
const ok = { id: "AB12", mac: "0011223344556677" };

Deno.test("schema: good values pass and come back typed", () => {
  const v = s.parse(
    { ...ok, blob: "AABB", n: 3, kind: "b", list: ["0F"], cert: CERT, chain: CERT + CERT },
    "body",
  );
  assertEquals(v.n, 3);
  assertEquals(v.list, ["0F"]);
});

const BAD: [string, unknown, string, string][] = [
  ["not object", "x", "invalid_field", "body must be an object, got a string"],
  ["missing", { id: "AB12" }, "missing_field", "body.mac is required"],
  [
    "unknown",
    { ...ok, tk: "00" },
    "unknown_field",
    'body has an unknown field "tk"; expected only id, mac, blob, n, kind, list, cert, chain',
  ],
  [
    "text",
    { ...ok, id: "ab12" },
    "invalid_field",
    'body.id must be two letters and two digits, got "ab12"',
  ],
  [
    "hex non-hex",
    { ...ok, mac: "00112233445566ZZ" },
    "invalid_field",
    "body.mac must be uppercase hex, got a non-hex character at position 14",
  ],
  [
    "hex odd range",
    { ...ok, blob: "AAB" },
    "invalid_field",
    "body.blob must be between 2 and 8 hex characters (1-4 bytes), an even number, got 3 characters",
  ],
  ["int type", { ...ok, n: "3" }, "invalid_field", "body.n must be an integer, got a string"],
  ["int frac", { ...ok, n: 1.5 }, "invalid_field", "body.n must be an integer, got 1.5"],
  ["int range", { ...ok, n: 11 }, "invalid_field", "body.n must be between 1 and 10, got 11"],
  ["enum", { ...ok, kind: "c" }, "invalid_field", 'body.kind must be one of "a", "b", got "c"'],
  [
    "array type",
    { ...ok, list: "0F" },
    "invalid_field",
    "body.list must be an array, got a string",
  ],
  [
    "array len",
    { ...ok, list: [] },
    "invalid_field",
    "body.list must have between 1 and 2 items, got 0",
  ],
  [
    "array item",
    { ...ok, list: ["0F", "0a"] },
    "invalid_field",
    "body.list[1] must be uppercase hex, got a lowercase hex digit at position 1",
  ],
  [
    "pem",
    { ...ok, cert: "MIIB" },
    "invalid_field",
    "body.cert must be a PEM block labelled CERTIFICATE with a base64 body in lines of at most 76 characters",
  ],
  [
    "pem two where one",
    { ...ok, cert: CERT + CERT },
    "invalid_field",
    "body.cert must be a PEM block labelled CERTIFICATE with a base64 body in lines of at most 76 characters",
  ],
  ["null", { ...ok, mac: null }, "invalid_field", "body.mac must be a string, got null"],
];

Deno.test("schema: each bad value gets its exact code and message", () => {
  for (const [name, value, code, message] of BAD) {
    const e = assertThrows(() => s.parse(value, "body"), ValidationError, message, name);
    assertEquals((e as ValidationError).code, code, name);
  }
});

Deno.test("schema: text() refuses an unanchored pattern", () => {
  assertThrows(
    () => text(/[A-Z]+/, "x"),
    RangeError,
    "pattern must be anchored with ^ and $, got /[A-Z]+/",
  );
});
