/**
 * `modPowPublic` on every core: the same results as BigInt and as `modPow`
 * for random moduli of 64..4096 bits (kernel sizes and the generic loops),
 * edge bases and exponents, real RSA keys against node:crypto's raw public
 * operation, more moduli than the wasm core keeps (its least-recently-used
 * setup cache evicting and hitting in any order), moduli that differ only in
 * their last byte, and the same modulus written with a leading zero byte; its
 * argument checks are modPow's; and on the wasm core no base or result stays
 * in memory after a call, nor modPow's (possibly secret) modulus.
 */
import { assertEquals, assertThrows } from "@std/assert";
import nodeCrypto from "node:crypto";
import { coreExports } from "../../src/core/wasm/loader.js";
import { wasmCoreFor } from "../../src/core/wasm/mod.js";
import { fromBigInt, hex, randomBytes, toBigInt, toHex } from "../_helpers.ts";
import { coresUnderTest, label, wasmVariants } from "./_variants.ts";
import { bigModPow, randomOddModulus } from "./_bignum.ts";

const cores = await coresUnderTest();

function randomBelow(n: Uint8Array): Uint8Array {
  return fromBigInt(toBigInt(randomBytes(n.length + 8)) % toBigInt(n), n.length);
}

/** The expected `b^e mod n`, as many bytes as `n`. */
function want(b: Uint8Array, e: Uint8Array, n: Uint8Array): string {
  return toHex(fromBigInt(bigModPow(toBigInt(b), toBigInt(e), toBigInt(n)), n.length));
}

function b64url(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

const SIZES = [64, 65, 127, 256, 521, 1000, 1023, 1024, 1025, 1026, 1536, 2048, 2050, 3072, 4096];

for (const core of cores) {
  Deno.test(`[${label(core)}] modPowPublic random 64..4096 bits against BigInt and modPow`, () => {
    for (const bits of SIZES) {
      const all = fromBigInt((1n << BigInt(bits)) - 1n, Math.ceil(bits / 8));
      for (const n of [randomOddModulus(bits), all]) {
        const nb = toBigInt(n);
        const base = randomBelow(n);
        const cases: [Uint8Array, Uint8Array, string][] = [
          [base, hex("010001"), "exponent 65537"],
          [base, hex("03"), "exponent 3"],
          [base, randomBytes(4), "random 32-bit exponent"],
          [base, randomBytes(n.length), "random full exponent"],
          [base, all, "exponent all ones"],
          [base, new Uint8Array(0), "empty exponent"],
          [base, hex("0000"), "exponent 0"],
          [base, hex("0001"), "exponent 1"],
          [hex(""), hex("010001"), "base empty"],
          [hex("00"), hex("010001"), "base 0"],
          [hex("01"), hex("010001"), "base 1"],
          [hex("00"), hex("00"), "0^0"],
          [fromBigInt(nb - 1n, n.length), hex("010001"), "base n-1"],
          [fromBigInt(nb - 2n, n.length), hex("02"), "base n-2"],
        ];
        for (const [b, e, tag] of cases) {
          const expected = want(b, e, n);
          assertEquals(toHex(core.modPowPublic(b, e, n)), expected, `${bits} bits, ${tag}`);
          assertEquals(toHex(core.modPow(b, e, n)), expected, `${bits} bits, ${tag} (modPow)`);
        }
      }
    }
  });

  Deno.test(`[${label(core)}] modPowPublic on RSA keys against node:crypto's raw public operation`, () => {
    for (const bits of [1024, 2048, 3072, 4096]) {
      const { publicKey } = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: bits });
      const j = publicKey.export({ format: "jwk" }) as Record<string, string>;
      const n = b64url(j.n);
      const e = b64url(j.e);
      for (let i = 0; i < 3; i++) {
        const m = randomBelow(n);
        const c = nodeCrypto.publicEncrypt(
          { key: publicKey, padding: nodeCrypto.constants.RSA_NO_PADDING },
          m,
        );
        assertEquals(toHex(core.modPowPublic(m, e, n)), toHex(new Uint8Array(c)), `${bits}`);
      }
    }
  });

  Deno.test(`[${label(core)}] modPowPublic over more moduli than the cache holds, in any order`, () => {
    // 100 moduli of mixed sizes (the core keeps 64), then pairs that differ only in their last byte
    const moduli = Array.from(
      { length: 100 },
      (_, i) => randomOddModulus([512, 1024, 2048][i % 3]),
    );
    const twin = randomOddModulus(2048);
    const twin2 = Uint8Array.from(twin);
    twin2[twin2.length - 1] ^= 2;
    moduli.push(twin, twin2, Uint8Array.from([0, ...twin]), Uint8Array.from([0, 0, ...twin2]));
    const order: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < moduli.length; i++) order.push(i); // cycles: every use evicts
      for (let i = 0; i < 60; i++) order.push(i % 5, moduli.length - 1 - (i % 4)); // hits
      for (let i = 0; i < 60; i++) order.push(Math.floor(Math.random() * moduli.length));
    }
    for (const i of order) {
      const n = moduli[i];
      const b = randomBelow(n);
      const e = i % 2 === 0 ? hex("010001") : randomBytes(3);
      assertEquals(toHex(core.modPowPublic(b, e, n)), want(b, e, n), `modulus ${i}`);
    }
  });

  Deno.test(`[${label(core)}] modPowPublic checks its arguments as modPow does`, () => {
    const odd = hex("C5");
    const cases: [() => unknown, ErrorConstructor, string][] = [
      [() => core.modPowPublic(hex("02"), hex("03"), hex("C4")), RangeError, "modulus must be odd"],
      [
        () => core.modPowPublic(hex("00"), hex("03"), hex("0000")),
        RangeError,
        "modulus must not be zero",
      ],
      [
        () => core.modPowPublic(hex("00"), hex("03"), hex("01")),
        RangeError,
        "modulus must be greater than 1",
      ],
      [() => core.modPowPublic(odd, hex("03"), odd), RangeError, "base must be less than modulus"],
      [
        () => core.modPowPublic(hex("02"), hex("03"), new Uint8Array(513).fill(0xff)),
        RangeError,
        "modulus must be at most 4096 bits, got 4104",
      ],
      [
        () => core.modPowPublic(hex("02"), 3 as unknown as Uint8Array, odd),
        TypeError,
        "exponent must be a Uint8Array, got number",
      ],
    ];
    for (const [f, type, msg] of cases) assertThrows(f, type, msg);
  });
}

/** Whether `needle` (at least 8 bytes) occurs anywhere in `hay`. */
function occurs(hay: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0];
  for (
    let i = hay.indexOf(first);
    i >= 0 && i <= hay.length - needle.length;
    i = hay.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return true;
  }
  return false;
}

for (const variant of wasmVariants()) {
  Deno.test(`[wasm ${variant}] modPowPublic leaves no base or result, modPow no modulus, in the core's memory`, () => {
    const wasm = wasmCoreFor(variant);
    const mem = () => new Uint8Array(coreExports(variant).memory.buffer);
    for (const bits of [1024, 2048]) {
      const n = randomOddModulus(bits);
      const base = randomBelow(n);
      const out = wasm.modPowPublic(base, hex("010001"), n);
      assertEquals(occurs(mem(), base.subarray(0, 32)), false, `${bits}: base`);
      assertEquals(occurs(mem(), out.subarray(0, 32)), false, `${bits}: result`);
      // the modulus is public and stays: the cache matches a modulus by its bytes
      assertEquals(occurs(mem(), n.subarray(0, 32)), true, `${bits}: modulus kept`);
    }
    // modPow's modulus may be secret (a prime under test in key generation): it does not stay
    const prime = nodeCrypto.generatePrimeSync(512, { bigint: true });
    const p = fromBigInt(prime, 64);
    assertEquals(
      toHex(wasm.modPow(hex("02"), p.subarray(0, 63), p)),
      want(hex("02"), p.subarray(0, 63), p),
    );
    assertEquals(occurs(mem(), p.subarray(0, 32)), false, "modPow's secret modulus");
  });
}
