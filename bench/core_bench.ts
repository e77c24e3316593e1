/**
 * Crypto core benchmarks: the wasm core against the node-forge core and the
 * runtime's native crypto (node:crypto; WebCrypto for SHA), plus the wasm
 * SHA-256 peers @chainsafe/as-sha256 and hash-wasm, and a plain BigInt RSA.
 * RSA private runs on the build the runtime chooses (fma under Deno) and on
 * the SIMD build.
 *
 * Setup (keys, inputs, hashers) is outside the timed part; every
 * implementation's result is checked once against the others before timing.
 * Figures and ratios: bench/README.md.
 *
 * @module
 */
import nodeCrypto from "node:crypto";
import { digest as asDigest } from "@chainsafe/as-sha256";
import { createSHA256 } from "hash-wasm";
import { loadCore } from "../src/core/mod.ts";
import type { RsaPrivateKey } from "../src/core/types.ts";
import { coreVariant, wasmCoreFor } from "../src/core/wasm/mod.js";
import { bigKey, bigRsaPrivate, bigRsaPublic } from "./_bigint_rsa.ts";

const wasm = await loadCore("wasm");
const js = await loadCore("js");
/** The wasm build `wasm` runs on here ("fma" where relaxed_madd is fused), and the SIMD one. */
const build = coreVariant();
const simd = wasmCoreFor("simd");

function rand(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function same(label: string, ...values: Uint8Array[]): void {
  const h = values.map(hex);
  if (h.some((x) => x !== h[0])) throw new Error(`bench self-check failed: ${label}: ${h}`);
}

// ---- TDES: 2-key ECB, a fresh key on every call ------------------------------------------------

const KEYS = Array.from({ length: 256 }, () => rand(16));
let keyIndex = 0;
function nextKey(): Uint8Array {
  keyIndex = (keyIndex + 1) & 255;
  return KEYS[keyIndex];
}
const ZERO_IV = new Uint8Array(8);

function key24(k: Uint8Array): Uint8Array {
  const out = new Uint8Array(24);
  out.set(k);
  out.set(k.subarray(0, 8), 16);
  return out;
}

/** Native: Deno's node:crypto has only des-ede3-cbc; ECB is CBC with a zero IV per block. */
function nativeEcb(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = key24(key);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 8) {
    const c = nodeCrypto.createCipheriv("des-ede3-cbc", k, ZERO_IV);
    c.setAutoPadding(false);
    out.set(c.update(data.subarray(i, i + 8)), i);
  }
  return out;
}

/** Native bulk: one CBC pass (the same per-block work as ECB; Deno has no ECB). */
function nativeCbc(key: Uint8Array, data: Uint8Array): Uint8Array {
  const c = nodeCrypto.createCipheriv("des-ede3-cbc", key24(key), ZERO_IV);
  c.setAutoPadding(false);
  return c.update(data);
}

for (const size of [16, 65536]) {
  const data = rand(size);
  const k = KEYS[0];
  same(
    `tdes ${size}`,
    wasm.tdesEncryptEcb(k, data),
    js.tdesEncryptEcb(k, data),
    nativeEcb(k, data),
  );
  same(`tdes cbc ${size}`, wasm.tdesEncryptCbc(k, ZERO_IV, data), nativeCbc(k, data));
  const group = `3DES 2-key ECB ${size === 16 ? "16 B" : "64 KiB"}, fresh key`;
  Deno.bench(`wasm`, { group, baseline: true }, () => {
    wasm.tdesEncryptEcb(nextKey(), data);
  });
  Deno.bench(`node-forge`, { group }, () => {
    js.tdesEncryptEcb(nextKey(), data);
  });
  if (size === 16) {
    Deno.bench(`native node:crypto (CBC per block)`, { group }, () => {
      nativeEcb(nextKey(), data);
    });
  } else {
    Deno.bench(`native node:crypto (one CBC pass)`, { group }, () => {
      nativeCbc(nextKey(), data);
    });
  }
}

// ---- SHA-256 -----------------------------------------------------------------------------------

const hw = await createSHA256();
function hashWasm(d: Uint8Array): Uint8Array {
  hw.init();
  hw.update(d);
  return hw.digest("binary");
}

for (const [size, label] of [[32, "32 B"], [1024, "1 KiB"], [1 << 20, "1 MiB"]] as const) {
  const data = rand(size);
  const web = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  same(
    `sha256 ${size}`,
    wasm.sha256(data),
    js.sha256(data),
    asDigest(data),
    hashWasm(data),
    nodeCrypto.createHash("sha256").update(data).digest(),
    web,
  );
  const group = `SHA-256 ${label}`;
  Deno.bench("wasm", { group, baseline: true }, () => {
    wasm.sha256(data);
  });
  Deno.bench("@chainsafe/as-sha256 (wasm)", { group }, () => {
    asDigest(data);
  });
  Deno.bench("hash-wasm (wasm)", { group }, () => {
    hashWasm(data);
  });
  Deno.bench("node-forge", { group }, () => {
    js.sha256(data);
  });
  Deno.bench("native node:crypto", { group }, () => {
    nodeCrypto.createHash("sha256").update(data).digest();
  });
  Deno.bench("native WebCrypto (async)", { group }, async () => {
    await crypto.subtle.digest("SHA-256", data);
  });
}

// ---- RSA-2048 ------------------------------------------------------------------------------------

function b64url(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}
const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = privateKey.export({ format: "jwk" }) as Record<string, string>;
const rsaKey: RsaPrivateKey = {
  n: b64url(jwk.n),
  e: b64url(jwk.e),
  d: b64url(jwk.d),
  p: b64url(jwk.p),
  q: b64url(jwk.q),
  dp: b64url(jwk.dp),
  dq: b64url(jwk.dq),
  qi: b64url(jwk.qi),
};
const bk = bigKey(rsaKey);
const msg = rand(256);
msg[0] = 0; // below n
const noPad = { padding: nodeCrypto.constants.RSA_NO_PADDING };
same(
  "rsa private",
  wasm.rsaPrivate(rsaKey, msg),
  simd.rsaPrivate(rsaKey, msg),
  js.rsaPrivate(rsaKey, msg),
  bigRsaPrivate(bk, msg),
  nodeCrypto.privateDecrypt({ key: privateKey, ...noPad }, msg),
);
same(
  "rsa public",
  wasm.modPowPublic(msg, rsaKey.e, rsaKey.n),
  wasm.modPow(msg, rsaKey.e, rsaKey.n),
  js.modPow(msg, rsaKey.e, rsaKey.n),
  bigRsaPublic(bk, msg),
  nodeCrypto.publicEncrypt({ key: publicKey, ...noPad }, msg),
);
{
  const group = "RSA-2048 private (CRT)";
  Deno.bench(`wasm (${build} build)`, { group, baseline: true }, () => {
    wasm.rsaPrivate(rsaKey, msg);
  });
  if (build !== "simd") {
    Deno.bench("wasm (simd build)", { group }, () => {
      simd.rsaPrivate(rsaKey, msg);
    });
  }
  Deno.bench("plain BigInt CRT", { group }, () => {
    bigRsaPrivate(bk, msg);
  });
  Deno.bench("node-forge", { group }, () => {
    js.rsaPrivate(rsaKey, msg);
  });
  Deno.bench("native node:crypto (privateDecrypt, no padding)", { group }, () => {
    nodeCrypto.privateDecrypt({ key: privateKey, ...noPad }, msg);
  });
}
{
  const group = "RSA-2048 public (e = 65537)";
  // modPowPublic is what the RSA layer's public operations call (verify, encrypt); the
  // generic modPow (constant time, its modulus set up on every call) is there for comparison.
  Deno.bench("wasm modPowPublic", { group, baseline: true }, () => {
    wasm.modPowPublic(msg, rsaKey.e, rsaKey.n);
  });
  Deno.bench("wasm modPow", { group }, () => {
    wasm.modPow(msg, rsaKey.e, rsaKey.n);
  });
  Deno.bench("plain BigInt", { group }, () => {
    bigRsaPublic(bk, msg);
  });
  Deno.bench("node-forge", { group }, () => {
    js.modPow(msg, rsaKey.e, rsaKey.n);
  });
  Deno.bench("native node:crypto (publicEncrypt, no padding)", { group }, () => {
    nodeCrypto.publicEncrypt({ key: publicKey, ...noPad }, msg);
  });
}

// ---- TMK issuance loop ----------------------------------------------------------------------------

const ZERO8 = new Uint8Array(8);
const BATCH = 100;

/** One terminal: fresh TK and TMK, TMK under TK (2-key ECB), KCV = E(TMK, 0^8)[0..3). */
function issue(encrypt: (key: Uint8Array, data: Uint8Array) => Uint8Array): number {
  const tk = crypto.getRandomValues(new Uint8Array(16));
  const tmk = crypto.getRandomValues(new Uint8Array(16));
  const wrapped = encrypt(tk, tmk);
  const kcv = encrypt(tmk, ZERO8).subarray(0, 3);
  return wrapped[0] ^ kcv[0];
}
{
  const tk = KEYS[1];
  const tmk = KEYS[2];
  same("issuance", wasm.tdesEncryptEcb(tk, tmk), js.tdesEncryptEcb(tk, tmk), nativeEcb(tk, tmk));
  const group = `TMK issuance, ${BATCH} terminals per iteration`;
  Deno.bench("wasm", { group, baseline: true }, () => {
    for (let i = 0; i < BATCH; i++) issue(wasm.tdesEncryptEcb);
  });
  Deno.bench("node-forge", { group }, () => {
    for (let i = 0; i < BATCH; i++) issue(js.tdesEncryptEcb);
  });
  Deno.bench("native node:crypto", { group }, () => {
    for (let i = 0; i < BATCH; i++) issue(nativeEcb);
  });
}
