/**
 * RSA functions: tables of bad arguments and malformed keys, each with the
 * exact error class and message.
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import nodeCrypto from "node:crypto";
import {
  checkRsaPublicKey,
  exportPkcs8Der,
  exportSpkiPem,
  generateRsaKeyPair,
  importJwk,
  importPkcs8Der,
  importPrivateKeyPem,
  importPublicKeyPem,
  importSpkiDer,
  oaepDecrypt,
  oaepEncrypt,
  pkcs1v15Encrypt,
  pkcs1v15Sign,
  pkcs1v15Verify,
  privateEncrypt,
  publicDecrypt,
  type RsaJwk,
  RsaKeyError,
  validateRsaPrivateKey,
} from "../../src/crypto/mod.ts";
import { allCores, fromBigInt, hex, loadVectors, toBigInt } from "../_helpers.ts";
import { wycheproofKey, type WycheproofPrivateKey } from "./_rsa_helpers.ts";

const [core] = await allCores();
const key = wycheproofKey(
  loadVectors<{ privateKey: WycheproofPrivateKey }>("rsa_pkcs1v15_2048_decrypt.json").privateKey,
);
const pub = { n: key.n, e: key.e };
const pkcs8 = exportPkcs8Der(key);

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;
type Row = [string, () => unknown, ErrorClass, string];

Deno.test("rsa: bad arguments give exact errors", async () => {
  const rows: Row[] = [
    [
      "oaep message too long SHA-256",
      () => oaepEncrypt(pub, new Uint8Array(191), { core }),
      RangeError,
      "message must be at most 190 bytes for this key and SHA-256, got 191",
    ],
    [
      "oaep message too long SHA-1",
      () => oaepEncrypt(pub, new Uint8Array(215), { hash: "SHA-1", core }),
      RangeError,
      "message must be at most 214 bytes for this key and SHA-1, got 215",
    ],
    [
      "oaep bad hash",
      () => oaepEncrypt(pub, new Uint8Array(1), { hash: "SHA-512" as never, core }),
      RangeError,
      'options.hash must be one of "SHA-1", "SHA-256", got "SHA-512"',
    ],
    [
      "oaep label type",
      () => oaepEncrypt(pub, new Uint8Array(1), { label: "x" as never, core }),
      TypeError,
      "options.label must be a Uint8Array, got string",
    ],
    [
      "oaep message type",
      () => oaepEncrypt(pub, "hi" as never, { core }),
      TypeError,
      "message must be a Uint8Array, got string",
    ],
    [
      "oaep ciphertext type",
      () => oaepDecrypt(key, null as never, { core }),
      TypeError,
      "ciphertext must be a Uint8Array, got null",
    ],
    [
      "oaep key missing",
      () => oaepEncrypt(undefined as never, new Uint8Array(1), { core }),
      TypeError,
      "key must be an RsaPublicKey object, got undefined",
    ],
    [
      "oaep key.n type",
      () => oaepEncrypt({ n: [1], e: key.e } as never, new Uint8Array(1), { core }),
      TypeError,
      "key.n must be a Uint8Array, got an array",
    ],
    [
      "oaep private key.qi missing",
      () => oaepDecrypt({ ...key, qi: undefined } as never, new Uint8Array(256), { core }),
      TypeError,
      "key.qi must be a Uint8Array, got undefined",
    ],
    [
      "small modulus",
      () => oaepEncrypt({ n: hex("00C5"), e: hex("03") }, new Uint8Array(1), { core }),
      RsaKeyError,
      "key.n must be 1024 to 4096 bits, got 8",
    ],
    [
      "even modulus",
      () =>
        oaepEncrypt({ n: new Uint8Array(128).fill(0xfe), e: key.e }, new Uint8Array(1), { core }),
      RsaKeyError,
      "key.n must be odd",
    ],
    [
      "even e",
      () =>
        pkcs1v15Verify({ n: key.n, e: hex("010000") }, new Uint8Array(1), new Uint8Array(256), {
          core,
        }),
      RsaKeyError,
      "key.e must be odd and at least 3",
    ],
    [
      "e = 1",
      () =>
        pkcs1v15Verify({ n: key.n, e: hex("01") }, new Uint8Array(1), new Uint8Array(256), {
          core,
        }),
      RsaKeyError,
      "key.e must be odd and at least 3",
    ],
    [
      "pkcs1 enc too long",
      () => pkcs1v15Encrypt(pub, new Uint8Array(246), { core }),
      RangeError,
      "message must be at most 245 bytes for this key, got 246",
    ],
    [
      "type-1 too long",
      () => privateEncrypt(key, new Uint8Array(246), { core }),
      RangeError,
      "message must be at most 245 bytes for this key, got 246",
    ],
    [
      "type-1 signature type",
      () => publicDecrypt(pub, "AA" as never, { core }),
      TypeError,
      "signature must be a Uint8Array, got string",
    ],
    [
      "sign message type",
      () => pkcs1v15Sign(key, 5 as never, { core }),
      TypeError,
      "message must be a Uint8Array, got number",
    ],
    [
      "options not object",
      () => pkcs1v15Sign(key, new Uint8Array(1), 5 as never),
      TypeError,
      "options must be an object, got number",
    ],
    [
      "bad core",
      () => pkcs1v15Sign(key, new Uint8Array(1), { core: { name: "js" } as never }),
      TypeError,
      "options.core must be a CryptoCore, got Object",
    ],
    [
      "keygen bits 1000",
      () => generateRsaKeyPair({ bits: 1000, core }),
      RangeError,
      "options.bits must be an integer from 1024 to 4096, got 1000",
    ],
    [
      "keygen bits 1100",
      () => generateRsaKeyPair({ bits: 1100, core }),
      RangeError,
      "options.bits must be a multiple of 256 from 1024 to 4096, got 1100",
    ],
    [
      "keygen bits 8192",
      () => generateRsaKeyPair({ bits: 8192, core }),
      RangeError,
      "options.bits must be an integer from 1024 to 4096, got 8192",
    ],
    [
      "keygen bits string",
      () => generateRsaKeyPair({ bits: "2048" as never, core }),
      TypeError,
      "options.bits must be a number, got string",
    ],
  ];
  for (const [name, fn, cls, msg] of rows) {
    const e = await assertRejects(async () => await fn(), cls, msg, name);
    assertEquals(e.message, msg, name);
  }
});

Deno.test("rsa keys: malformed and inconsistent keys give exact errors", () => {
  const bump = (b: Uint8Array) => {
    const x = b.slice();
    x[x.length - 1] ^= 2;
    return x;
  };
  const swapped = new Uint8Array(pkcs8);
  // The rsaEncryption OID 1.2.840.113549.1.1.1: make its last arc 5 (sha1WithRSAEncryption).
  const oidAt = swapped.indexOf(0xf7) + 4;
  swapped[oidAt] = 0x05;
  const pubPem = exportSpkiPem(pub);
  const rows: Row[] = [
    [
      "n != pq",
      () => validateRsaPrivateKey({ ...key, n: bump(key.n) }),
      RsaKeyError,
      "key.n must equal key.p * key.q",
    ],
    [
      "p == q",
      () => validateRsaPrivateKey({ ...key, q: key.p }),
      RsaKeyError,
      "key.p and key.q must differ",
    ],
    [
      "bad d",
      () => validateRsaPrivateKey({ ...key, d: bump(key.d) }),
      RsaKeyError,
      "key.d must be an inverse of key.e modulo lcm(p-1, q-1)",
    ],
    [
      "d an inverse of e modulo p-1 only",
      () => {
        // d' = d + k(p-1) with e*d' = 1 mod (p-1) but not mod (q-1): e*k(p-1) != 0 mod (q-1).
        const [d, p] = [toBigInt(key.d), toBigInt(key.p)];
        return validateRsaPrivateKey({ ...key, d: fromBigInt(d + (p - 1n), key.d.length + 1) });
      },
      RsaKeyError,
      "key.d must be an inverse of key.e modulo lcm(p-1, q-1)",
    ],
    [
      "p = 1, q = n",
      () => validateRsaPrivateKey({ ...key, p: new Uint8Array([1]), q: key.n }),
      RsaKeyError,
      "key.p and key.q must be greater than 1",
    ],
    [
      "bad dp",
      () => validateRsaPrivateKey({ ...key, dp: bump(key.dp) }),
      RsaKeyError,
      "key.dp must equal key.d mod (key.p - 1)",
    ],
    [
      "bad dq",
      () => validateRsaPrivateKey({ ...key, dq: bump(key.dq) }),
      RsaKeyError,
      "key.dq must equal key.d mod (key.q - 1)",
    ],
    [
      "bad qi",
      () => validateRsaPrivateKey({ ...key, qi: bump(key.qi) }),
      RsaKeyError,
      "key.qi must equal key.q^-1 mod key.p",
    ],
    [
      "qi not reduced modulo p",
      () => {
        const [qi, p] = [toBigInt(key.qi), toBigInt(key.p)];
        return validateRsaPrivateKey({ ...key, qi: fromBigInt(qi + p, key.p.length + 1) });
      },
      RsaKeyError,
      "key.qi must equal key.q^-1 mod key.p",
    ],
    [
      "zero dp",
      () => validateRsaPrivateKey({ ...key, dp: new Uint8Array(1) }),
      RsaKeyError,
      "key.dp must not be zero",
    ],
    [
      "pkcs8 truncated",
      () => importPkcs8Der(pkcs8.subarray(0, 100)),
      RsaKeyError,
      "PKCS#8: truncated DER",
    ],
    [
      "pkcs8 trailing byte",
      () => importPkcs8Der(new Uint8Array([...pkcs8, 0])),
      RsaKeyError,
      "PKCS#8: trailing bytes after DER value",
    ],
    [
      "pkcs8 wrong algorithm",
      () => importPkcs8Der(swapped),
      RsaKeyError,
      "PKCS#8: algorithm must be rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters",
    ],
    [
      "pkcs8 type",
      () => importPkcs8Der("der" as never),
      TypeError,
      "der must be a Uint8Array, got string",
    ],
    [
      "spki given pkcs8",
      () => importSpkiDer(pkcs8),
      RsaKeyError,
      "SPKI: SubjectPublicKeyInfo must have 2 fields",
    ],
    [
      "pkcs8 given spki bytes",
      () => importPkcs8Der(new Uint8Array([0x04, 0x00])),
      RsaKeyError,
      "PKCS#8: expected DER tag 0x30, got 0x4",
    ],
    [
      "indefinite length",
      () => importPkcs8Der(new Uint8Array([0x30, 0x80, 0, 0])),
      RsaKeyError,
      "PKCS#8: indefinite length is not DER",
    ],
    [
      "non-minimal length",
      () => importPkcs8Der(new Uint8Array([0x30, 0x81, 0x01, 0x00])),
      RsaKeyError,
      "PKCS#8: non-minimal DER length",
    ],
    [
      "pem label",
      () => importPrivateKeyPem(pubPem),
      RsaKeyError,
      'PEM: expected PRIVATE KEY or RSA PRIVATE KEY, got "PUBLIC KEY"',
    ],
    [
      "pem mismatched labels",
      () => importPublicKeyPem(pubPem.replace("END PUBLIC", "END PRIVATE")),
      RsaKeyError,
      'PEM: BEGIN label "PUBLIC KEY" does not match END label "PRIVATE KEY"',
    ],
    [
      "pem bad base64",
      () => importPublicKeyPem(pubPem.replace(/\n(.)/, "\n*")),
      RsaKeyError,
      "PEM PUBLIC KEY: invalid base64",
    ],
    [
      "not pem",
      () => importPublicKeyPem("hello"),
      RsaKeyError,
      "PEM: expected one -----BEGIN ...----- / -----END ...----- block",
    ],
    [
      "pem type",
      () => importPublicKeyPem(7 as never),
      TypeError,
      "pem must be a string, got number",
    ],
    [
      "jwk kty",
      () => importJwk({ kty: "EC" } as never),
      RsaKeyError,
      'JWK: kty must be "RSA", got "EC"',
    ],
    [
      "jwk n missing",
      () => importJwk({ kty: "RSA", e: "AQAB" } as never),
      RsaKeyError,
      'JWK: member "n" must be a string',
    ],
    [
      "jwk padded",
      () => importJwk({ kty: "RSA", n: "AQAB=", e: "AQAB" } as RsaJwk),
      RsaKeyError,
      'JWK: member "n" must be base64url without padding',
    ],
    [
      "jwk private missing p",
      () => importJwk({ kty: "RSA", n: "AQAB", e: "AQAB", d: "AQAB" } as RsaJwk),
      RsaKeyError,
      'JWK: private key member "p" is missing',
    ],
    [
      "jwk not object",
      () => importJwk([] as never),
      TypeError,
      "jwk must be an object, got an array",
    ],
  ];
  for (const [name, fn, cls, msg] of rows) {
    const e = assertThrows(fn, cls, msg, name);
    assertEquals(e.message, msg, name);
    // No key material in any message.
    for (const f of [key.d, key.p, key.q]) {
      const h = Array.from(f.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
      assertEquals(e.message.toLowerCase().includes(h), false, name);
    }
  }
  // The node:crypto view of the same malformed DER agrees that it is not a key.
  assertThrows(() =>
    nodeCrypto.createPrivateKey({ key: pkcs8.subarray(0, 100), format: "der", type: "pkcs8" })
  );
});

Deno.test("rsa keys: the public-key check agrees with its rule on BigInts, at the edges", () => {
  const rule = (n: bigint, e: bigint): string => {
    const bits = n === 0n ? 0 : n.toString(2).length;
    if (bits < 1024 || bits > 4096) return `key.n must be 1024 to 4096 bits, got ${bits}`;
    if ((n & 1n) === 0n) return "key.n must be odd";
    if (e < 3n || (e & 1n) === 0n) return "key.e must be odd and at least 3";
    if (e >= n) return "key.e must be less than key.n";
    return "accepted";
  };
  const random = (k: number) => crypto.getRandomValues(new Uint8Array(k));
  const seen = new Set<string>();
  for (let t = 0; t < 4000; t++) {
    const nLength = [0, 1, 127, 128, 129, 256, 512, 513][t % 8];
    const n = random(nLength);
    if (nLength > 0 && t % 3 === 0) n[0] = 0; // leading zero byte
    if (nLength > 0 && t % 5 === 0) n[nLength - 1] |= 1;
    let e = random([0, 1, 3, 128, 256, 257][(t >> 3) % 6]);
    if (e.length === 1 && t % 2 === 1) e[0] = t % 4;
    if (t % 7 === 0) e = n.slice(); // e = n
    if (t % 11 === 0 && nLength > 2) {
      e = n.slice();
      e[e.length - 1] = (e[e.length - 1] - 2) & 0xff; // e just below or above n
    }
    const want = rule(toBigInt(n), toBigInt(e));
    let got = "accepted";
    try {
      checkRsaPublicKey({ n, e });
    } catch (x) {
      if (!(x instanceof RsaKeyError)) throw x;
      got = x.message;
    }
    assertEquals(got, want, `n of ${nLength} bytes, e of ${e.length}`);
    seen.add(want.replace(/got \d+/, "got"));
  }
  assertEquals(seen.size, 5); // every outcome was reached
});
