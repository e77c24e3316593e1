/**
 * The known-answer checks every runtime runs against the @tmk/wasm-core
 * package (src/core/wasm/): TDEA (NIST SP 800-67, CAVP TCBCMMT3), AES (FIPS
 * 197 C.1-C.3 ECB, SP 800-38A F.2.1 CBC, and against WebCrypto AES-CBC), SHA-1 and
 * SHA-256 (FIPS 180-4), raw RSA modexp and CRT (vectors derived from
 * Wycheproof), RSA CRT on random RSA-1024 to RSA-4096 keys from the
 * runtime's WebCrypto (checked with the public exponent), the argument
 * errors, and SHA against the runtime's own WebCrypto. Vectors come from tests/vectors/ (JSON modules, so the same file
 * loads in Deno, Node, Bun and a browser with no file API).
 *
 * Plain ES module with no runtime-specific API. Every check counts once; a
 * failure is recorded with its name and what differed, never swallowed.
 *
 * @module
 */
import tdesFile from "../vectors/tdes_kat.json" with { type: "json" };
import shaFile from "../vectors/sha.json" with { type: "json" };
import modexpFile from "../vectors/rsa_modexp_raw_2048.json" with { type: "json" };
import kcvFile from "../vectors/kcv.json" with { type: "json" };
import aesFile from "../vectors/aes.json" with { type: "json" };

/** @param {string} s */
export function hex(s) {
  const h = s.length % 2 ? "0" + s : s;
  if (!/^[0-9a-fA-F]*$/.test(h)) throw new Error(`bad hex in vector data: ${s}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** @param {Uint8Array} b */
export function toHex(b) {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s.toUpperCase();
}

/** @param {Uint8Array} b big-endian bytes */
function big(b) {
  return b.length ? BigInt("0x" + toHex(b)) : 0n;
}

/** x as `len` big-endian bytes. */
function unbig(x, len) {
  return hex(x.toString(16).padStart(2 * len, "0"));
}

/** b^e mod n by square-and-multiply (the public exponent: not constant time, not secret). */
function powMod(b, e, n) {
  let r = 1n;
  for (b %= n; e > 0n; e >>= 1n, b = (b * b) % n) if (e & 1n) r = (r * b) % n;
  return r;
}

/** base64url to bytes. */
function b64url(s) {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

/** A fresh RSA private key of `bits` bits from WebCrypto, as the core takes it. */
async function randomRsaKey(bits) {
  const alg = {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: bits,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  };
  const pair = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const j = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const f = (name) => b64url(j[name]);
  return {
    n: f("n"),
    e: f("e"),
    d: f("d"),
    p: f("p"),
    q: f("q"),
    dp: f("dp"),
    dq: f("dq"),
    qi: f("qi"),
  };
}

/** Left-pads hex of a big-endian number to `len` bytes. */
function padHex(h, len) {
  return toHex(hex(h)).replace(/^(00)+/, "").padStart(len * 2, "0");
}

/** The bad-argument table: [name, call, error class name, exact message]. */
function badCases() {
  const k16 = new Uint8Array(16);
  const b8 = new Uint8Array(8);
  const oddMod = hex("C5");
  const bigPrime = hex("C5");
  return [
    [
      "AES key 20 bytes",
      (c) => c.aesEncryptEcb(new Uint8Array(20), new Uint8Array(16)),
      "RangeError",
      "key must be 16, 24 or 32 bytes (AES), got 20",
    ],
    [
      "AES partial block",
      (c) => c.aesDecryptCbc(k16, new Uint8Array(16), new Uint8Array(8)),
      "RangeError",
      "data must be a whole number of 16-byte blocks, got 8 bytes",
    ],
    [
      "AES iv 8 bytes",
      (c) => c.aesEncryptCbc(k16, b8, new Uint8Array(16)),
      "RangeError",
      "iv must be 16 bytes, got 8",
    ],
    [
      "key not bytes",
      (c) => c.tdesEncryptEcb("00", b8),
      "TypeError",
      "key must be a Uint8Array, got string",
    ],
    [
      "key 8 bytes",
      (c) => c.tdesEncryptEcb(new Uint8Array(8), b8),
      "RangeError",
      "key must be 16 or 24 bytes (TDES), got 8",
    ],
    [
      "key 32 bytes",
      (c) => c.tdesDecryptEcb(new Uint8Array(32), b8),
      "RangeError",
      "key must be 16 or 24 bytes (TDES), got 32",
    ],
    [
      "partial block",
      (c) => c.tdesEncryptEcb(k16, new Uint8Array(9)),
      "RangeError",
      "data must be a whole number of 8-byte blocks, got 9 bytes",
    ],
    [
      "partial block CBC",
      (c) => c.tdesDecryptCbc(k16, b8, new Uint8Array(7)),
      "RangeError",
      "data must be a whole number of 8-byte blocks, got 7 bytes",
    ],
    [
      "iv 16 bytes",
      (c) => c.tdesEncryptCbc(k16, new Uint8Array(16), b8),
      "RangeError",
      "iv must be 8 bytes, got 16",
    ],
    [
      "iv array",
      (c) => c.tdesEncryptCbc(k16, [0], b8),
      "TypeError",
      "iv must be a Uint8Array, got an array",
    ],
    ["sha256 data null", (c) => c.sha256(null), "TypeError", "data must be a Uint8Array, got null"],
    [
      "sha1 data string",
      (c) => c.sha1("abc"),
      "TypeError",
      "data must be a Uint8Array, got string",
    ],
    [
      "even modulus",
      (c) => c.modPow(hex("02"), hex("03"), hex("C4")),
      "RangeError",
      "modulus must be odd",
    ],
    [
      "zero modulus",
      (c) => c.modPow(hex("00"), hex("03"), hex("0000")),
      "RangeError",
      "modulus must not be zero",
    ],
    [
      "modulus 1",
      (c) => c.modPow(hex("00"), hex("03"), hex("01")),
      "RangeError",
      "modulus must be greater than 1",
    ],
    [
      "base = modulus",
      (c) => c.modPow(oddMod, hex("03"), oddMod),
      "RangeError",
      "base must be less than modulus",
    ],
    [
      "modulus too big",
      (c) => c.modPow(hex("02"), hex("03"), new Uint8Array(513).fill(0xff)),
      "RangeError",
      "modulus must be at most 4096 bits, got 4104",
    ],
    [
      "exponent not bytes",
      (c) => c.modPow(hex("02"), 3, oddMod),
      "TypeError",
      "exponent must be a Uint8Array, got number",
    ],
    [
      "rsa key null",
      (c) => c.rsaPrivate(null, b8),
      "TypeError",
      "key must be an RsaPrivateKey object, got null",
    ],
    [
      "rsa key missing qi",
      (c) =>
        c.rsaPrivate({
          n: oddMod,
          e: oddMod,
          d: oddMod,
          p: oddMod,
          q: oddMod,
          dp: oddMod,
          dq: oddMod,
        }, b8),
      "TypeError",
      "key.qi must be a Uint8Array, got undefined",
    ],
    [
      "rsa input = n",
      (c) =>
        c.rsaPrivate({
          n: oddMod,
          e: hex("03"),
          d: hex("03"),
          p: bigPrime,
          q: bigPrime,
          dp: hex("01"),
          dq: hex("01"),
          qi: hex("01"),
        }, oddMod),
      "RangeError",
      "input must be less than key.n",
    ],
  ];
}

/**
 * Runs every check on `core`.
 *
 * @param {import("../../src/core/wasm/mod.d.ts").CryptoCore} core the package's core
 * @returns {Promise<{ passed: number, failed: number, failures: string[] }>}
 */
export async function runChecks(core) {
  let passed = 0;
  const failures = [];
  const eq = (got, want, name) => {
    if (got === want) passed++;
    else failures.push(`${name}: got ${got}, want ${want}`);
  };
  const attempt = (name, fn) => {
    try {
      fn();
    } catch (e) {
      failures.push(`${name}: threw ${e && e.name}: ${e && e.message}`);
    }
  };

  // TDEA: every vector both ways (30 vectors).
  eq(tdesFile.vectors.length, 30, "tdes_kat.json vector count");
  for (const v of tdesFile.vectors) {
    attempt(v.id, () => {
      const key = hex(v.key);
      const pt = hex(v.plaintext);
      const ct = hex(v.ciphertext);
      if (v.mode === "ECB") {
        eq(toHex(core.tdesEncryptEcb(key, pt)), toHex(ct), `${v.id} ECB encrypt`);
        eq(toHex(core.tdesDecryptEcb(key, ct)), toHex(pt), `${v.id} ECB decrypt`);
      } else {
        const iv = hex(v.iv);
        eq(toHex(core.tdesEncryptCbc(key, iv, pt)), toHex(ct), `${v.id} CBC encrypt`);
        eq(toHex(core.tdesDecryptCbc(key, iv, ct)), toHex(pt), `${v.id} CBC decrypt`);
      }
    });
  }

  // AES: the ECB and CBC vectors both ways (4 vectors; the CTR one is not a core mode).
  const aesVectors = aesFile.vectors.filter((v) => v.mode !== "CTR");
  eq(aesVectors.length, 4, "aes.json ECB/CBC vector count");
  for (const v of aesVectors) {
    attempt(v.id, () => {
      const key = hex(v.key);
      const pt = hex(v.plaintext);
      const ct = hex(v.ciphertext);
      if (v.mode === "ECB") {
        eq(toHex(core.aesEncryptEcb(key, pt)), toHex(ct), `${v.id} AES-ECB encrypt`);
        eq(toHex(core.aesDecryptEcb(key, ct)), toHex(pt), `${v.id} AES-ECB decrypt`);
      } else {
        const iv = hex(v.iv);
        eq(toHex(core.aesEncryptCbc(key, iv, pt)), toHex(ct), `${v.id} AES-CBC encrypt`);
        eq(toHex(core.aesDecryptCbc(key, iv, ct)), toHex(pt), `${v.id} AES-CBC decrypt`);
      }
    });
  }
  // AES-CBC against the runtime's WebCrypto (unpadded output = WebCrypto's minus its PKCS#7 block).
  if (globalThis.crypto?.subtle !== undefined) {
    for (const keyLen of [16, 32]) {
      const key = crypto.getRandomValues(new Uint8Array(keyLen));
      const iv = crypto.getRandomValues(new Uint8Array(16));
      const data = crypto.getRandomValues(new Uint8Array(48));
      const k = await crypto.subtle.importKey("raw", key, "AES-CBC", false, ["encrypt"]);
      const web = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-CBC", iv }, k, data));
      attempt(`AES-CBC vs WebCrypto ${keyLen}`, () => {
        const want = toHex(web.slice(0, 48));
        eq(toHex(core.aesEncryptCbc(key, iv, data)), want, `AES-${keyLen * 8}-CBC vs WebCrypto`);
        eq(
          toHex(core.aesDecryptCbc(key, iv, web.slice(0, 48))),
          toHex(data),
          `AES-${keyLen * 8}-CBC decrypt`,
        );
      });
    }
  }

  // Legacy TDES KCVs (first bytes of TDES-ECB of a zero block).
  for (
    const v of kcvFile.vectors.filter((x) =>
      x.algorithm === "TDES" && x.method.startsWith("TDES-ECB")
    )
  ) {
    attempt(v.id, () => {
      const kcv = toHex(core.tdesEncryptEcb(hex(v.key), new Uint8Array(8)));
      eq(kcv.slice(0, v.kcv.length), v.kcv.toUpperCase(), `${v.id} KCV`);
    });
  }

  // SHA-1 / SHA-256 (10 vectors, one of them FIPS 180's million 'a').
  eq(shaFile.vectors.length, 10, "sha.json vector count");
  for (const v of shaFile.vectors) {
    attempt(v.id, () => {
      let m;
      if (v.message !== undefined) m = hex(v.message);
      else if (v.message_spec === "'a' repeated 1,000,000 times") {
        m = new Uint8Array(1_000_000).fill(0x61);
      } else throw new Error(`unknown message_spec ${v.message_spec}`);
      eq(toHex(core.sha1(m)), v.sha1.toUpperCase(), `${v.id} SHA-1`);
      eq(toHex(core.sha256(m)), v.sha256.toUpperCase(), `${v.id} SHA-256`);
    });
  }

  // SHA against the runtime's own WebCrypto, across the padding boundaries.
  if (globalThis.crypto?.subtle === undefined) {
    failures.push("WebCrypto: crypto.subtle is missing in this runtime");
  } else {
    const data = new Uint8Array(200);
    crypto.getRandomValues(data);
    for (const len of [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 200]) {
      const m = data.slice(0, len);
      const w1 = toHex(new Uint8Array(await crypto.subtle.digest("SHA-1", m)));
      const w256 = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", m)));
      attempt(`WebCrypto len ${len}`, () => {
        eq(toHex(core.sha1(m)), w1, `SHA-1 vs WebCrypto, ${len} bytes`);
        eq(toHex(core.sha256(m)), w256, `SHA-256 vs WebCrypto, ${len} bytes`);
      });
    }
  }

  // Raw RSA-2048: public modPow and modPowPublic, private modPow and CRT (16 vectors).
  const k = modexpFile.key;
  const key = {
    n: hex(k.n),
    e: hex(k.e),
    d: hex(k.d),
    p: hex(k.p),
    q: hex(k.q),
    dp: hex(k.dp),
    dq: hex(k.dq),
    qi: hex(k.qinv),
  };
  const nLen = key.n.length;
  eq(modexpFile.vectors.length, 16, "rsa_modexp_raw_2048.json vector count");
  for (const v of modexpFile.vectors) {
    attempt(v.id, () => {
      const input = hex(v.base);
      const want = padHex(v.expected, nLen);
      if (v.operation.startsWith("m^e")) {
        eq(toHex(core.modPow(input, key.e, key.n)), want, `${v.id} modPow(e)`);
        eq(toHex(core.modPowPublic(input, key.e, key.n)), want, `${v.id} modPowPublic(e)`);
      } else {
        eq(toHex(core.modPow(input, key.d, key.n)), want, `${v.id} modPow(d)`);
        eq(toHex(core.rsaPrivate(key, input)), want, `${v.id} rsaPrivate (CRT)`);
      }
    });
  }

  // RSA CRT on random keys of every size the paired f64 kernels take (RSA-1024 to RSA-4096),
  // from the runtime's own WebCrypto: each result s must satisfy s^e = c mod n (BigInt).
  for (const bits of [1024, 2048, 3072, 4096]) {
    let rk;
    try {
      rk = await randomRsaKey(bits);
    } catch (e) {
      failures.push(`RSA-${bits} WebCrypto key: threw ${e && e.name}: ${e && e.message}`);
      continue;
    }
    const n = big(rk.n);
    const inputs = [new Uint8Array([0]), new Uint8Array([1]), unbig(n - 1n, rk.n.length)];
    for (let i = 0; i < 3; i++) {
      const c = crypto.getRandomValues(new Uint8Array(rk.n.length));
      c[0] = 0;
      inputs.push(c);
    }
    inputs.forEach((c, i) => {
      attempt(`RSA-${bits} random key, input ${i}`, () => {
        const s = big(core.rsaPrivate(rk, c));
        eq(
          toHex(unbig(powMod(s, big(rk.e), n), rk.n.length)),
          toHex(unbig(big(c), rk.n.length)),
          `RSA-${bits} random key, input ${i}: rsaPrivate(c)^e = c`,
        );
      });
    });
  }

  // After the big-number operations (which use and wipe the largest buffers), TDES and SHA
  // still give the known answers: a wipe past its buffer would corrupt their tables.
  for (const v of [tdesFile.vectors[0], tdesFile.vectors[1]]) {
    attempt(`${v.id} after RSA`, () => {
      const ct = toHex(core.tdesEncryptEcb(hex(v.key), hex(v.plaintext)));
      eq(ct, toHex(hex(v.ciphertext)), `${v.id} ECB encrypt after RSA`);
    });
  }
  for (const v of shaFile.vectors.slice(0, 3)) {
    attempt(`${v.id} after RSA`, () => {
      eq(toHex(core.sha1(hex(v.message))), v.sha1.toUpperCase(), `${v.id} SHA-1 after RSA`);
      eq(toHex(core.sha256(hex(v.message))), v.sha256.toUpperCase(), `${v.id} SHA-256 after RSA`);
    });
  }

  // Argument errors: the exact class and message.
  for (const [name, fn, cls, message] of badCases()) {
    try {
      const r = fn(core);
      failures.push(`error "${name}": returned ${r} instead of throwing ${cls}`);
    } catch (e) {
      eq(`${e?.constructor?.name}: ${e?.message}`, `${cls}: ${message}`, `error "${name}"`);
    }
  }

  return { passed, failed: failures.length, failures };
}
