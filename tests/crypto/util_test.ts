/**
 * src/crypto helpers: hex, parity, constant-time compare, zeroize, random.
 */
import { assert, assertEquals, assertFalse, assertNotEquals, assertThrows } from "@std/assert";
import {
  concatBytes,
  fromHex,
  hasOddParity,
  isHex,
  randomBytes,
  setOddParity,
  timingSafeEqual,
  toHex,
  xorBytes,
  zeroize,
} from "../../src/crypto/mod.ts";
import { hex } from "../_helpers.ts";

function popcount(b: number): number {
  let n = 0;
  for (let i = 0; i < 8; i++) n += (b >> i) & 1;
  return n;
}

Deno.test("hex: round trip of every byte value, uppercase out, either case in with case: any", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const h = toHex(all);
  assertEquals(h, h.toUpperCase());
  assertEquals(h.length, 512);
  assertEquals(fromHex(h), all);
  assertEquals(fromHex(h.toLowerCase(), { case: "any" }), all);
  assertEquals(fromHex(""), new Uint8Array(0));
  assertEquals(fromHex("0A1b", { case: "any", length: 2 }), new Uint8Array([10, 27]));
  assertEquals(fromHex("0A1B", { length: [1, 2] }), new Uint8Array([10, 27]));
});

Deno.test("hex: bad input gives exact errors that never echo the value", () => {
  const table: [unknown, Parameters<typeof fromHex>[1], ErrorConstructor, string][] = [
    [12, undefined, TypeError, "hex must be a hex string, got number"],
    [null, { name: "kcv" }, TypeError, "kcv must be a hex string, got null"],
    ["ABC", { name: "kcv" }, RangeError, "kcv must have an even number of hex digits, got 3"],
    [
      "0a",
      { name: "mac" },
      RangeError,
      "mac must be uppercase hex (0-9, A-F): lowercase digit at position 1",
    ],
    ["0G", { name: "mac" }, RangeError, 'mac must be uppercase hex (0-9, A-F): "G" at position 1'],
    [
      "0 ",
      { name: "mac", case: "any" },
      RangeError,
      "mac must be hex (0-9, A-F, a-f): U+0020 at position 1",
    ],
    ["00é0", {}, RangeError, "hex must be uppercase hex (0-9, A-F): U+00E9 at position 2"],
    [
      "0011",
      { name: "kcv", length: 3 },
      RangeError,
      "kcv must be 3 bytes (6 hex digits), got 4 hex digits",
    ],
    [
      "00",
      { name: "key", length: [16, 24] },
      RangeError,
      "key must be 16 or 24 bytes (32 or 48 hex digits), got 2 hex digits",
    ],
    [
      "00",
      { case: "lower" as never },
      RangeError,
      'options.case must be "upper" or "any", got "lower"',
    ],
    ["00", { name: 3 as never }, TypeError, "options.name must be a string, got number"],
    [
      "00",
      { length: -1 },
      TypeError,
      "options.length must be a non-negative integer or a list of them",
    ],
    ["00", null as never, TypeError, "options must be an object, got null"],
  ];
  for (const [text, o, cls, msg] of table) {
    const e = assertThrows(() => fromHex(text as string, o), cls, msg);
    assertEquals(e.message, msg);
  }
  // A key with one bad character: the message names the position only.
  const secret = "0123456789ABCDEF0123456789ABCDEz";
  const e = assertThrows(() => fromHex(secret, { name: "key" }), RangeError);
  assertFalse(e.message.includes("0123456789"));
});

Deno.test("isHex", () => {
  assert(isHex("00FF"));
  assertFalse(isHex("00ff"));
  assert(isHex("00ff", { case: "any" }));
  assertFalse(isHex("0"));
  assertFalse(isHex(5));
  assertFalse(isHex("00", { length: 2 }));
});

Deno.test("parity: set and check against a popcount for every byte value", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const odd = setOddParity(all);
  for (let i = 0; i < 256; i++) {
    assertEquals(popcount(odd[i]) % 2, 1, `byte ${i}`);
    assertEquals(odd[i] & 0xfe, i & 0xfe, `byte ${i}`);
    assertEquals(hasOddParity(new Uint8Array([i])), popcount(i) % 2 === 1, `byte ${i}`);
  }
  assert(hasOddParity(odd));
  assertFalse(hasOddParity(all));
  assertEquals(toHex(setOddParity(hex("0023456789ABCDEF"))), "0123456789ABCDEF");
  assertThrows(
    () => setOddParity("00" as never),
    TypeError,
    "key must be a Uint8Array, got string",
  );
  assertThrows(
    () => hasOddParity(undefined as never),
    TypeError,
    "key must be a Uint8Array, got undefined",
  );
});

Deno.test("timingSafeEqual", () => {
  const a = hex("00112233");
  assert(timingSafeEqual(a, hex("00112233")));
  assert(timingSafeEqual(new Uint8Array(0), new Uint8Array(0)));
  for (let i = 0; i < 32; i++) {
    const b = a.slice();
    b[i >> 3] ^= 1 << (i & 7);
    assertFalse(timingSafeEqual(a, b), `bit ${i}`);
  }
  assertFalse(timingSafeEqual(a, hex("0011223300")));
  assertFalse(timingSafeEqual(hex("001122"), a));
  assertFalse(timingSafeEqual(new Uint8Array(0), hex("00")));
  assertThrows(
    () => timingSafeEqual(a, [0] as never),
    TypeError,
    "b must be a Uint8Array, got an array",
  );
});

Deno.test("zeroize, concatBytes, xorBytes", () => {
  const a = hex("0102");
  const b = hex("0304");
  zeroize(a, undefined, b);
  assertEquals(a, new Uint8Array(2));
  assertEquals(b, new Uint8Array(2));
  assertThrows(
    () => zeroize(a, "x" as never),
    TypeError,
    "arrays[1] must be a Uint8Array, got string",
  );
  assertEquals(concatBytes(hex("01"), hex(""), hex("0203")), hex("010203"));
  assertEquals(xorBytes(hex("0FF0"), hex("FFFF")), hex("F00F"));
  assertThrows(
    () => xorBytes(hex("00"), hex("0000")),
    RangeError,
    "a and b must have the same length, got 1 and 2",
  );
});

Deno.test("randomBytes: lengths, chunks past 65536, not constant", () => {
  assertEquals(randomBytes(0).length, 0);
  const big = randomBytes(65536 * 2 + 5);
  assertEquals(big.length, 65536 * 2 + 5);
  // The last chunk is filled too (all-zero 64 bytes has probability 2^-512).
  assertNotEquals(big.subarray(big.length - 64), new Uint8Array(64));
  assertNotEquals(randomBytes(16), randomBytes(16));
  const table: [unknown, ErrorConstructor, string][] = [
    [-1, RangeError, "length must be an integer from 0 to 2147483647, got -1"],
    [1.5, RangeError, "length must be an integer from 0 to 2147483647, got 1.5"],
    ["8", TypeError, "length must be a number, got string"],
  ];
  for (const [n, cls, msg] of table) assertThrows(() => randomBytes(n as number), cls, msg);
});
