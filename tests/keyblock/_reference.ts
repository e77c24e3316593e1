/**
 * Independent references for the key block tests, on node:crypto (OpenSSL):
 * the legacy TDES KCV (E_K(0^8)) and the AES-CMAC KCV (X9.24-1:2017,
 * CMAC(K, 0^16)), with SP 800-38B CMAC written here over node:crypto's
 * AES-ECB, so that no result is checked against the code under test.
 *
 * @module
 */
import { createCipheriv, createDecipheriv } from "node:crypto";

function ecb(name: string, key: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv(name, key, null);
  c.setAutoPadding(false);
  return new Uint8Array([...c.update(data), ...c.final()]);
}

/** TDES ECB encryption of one 8-byte block (2-key TDES expanded to K1K2K1), via CBC with a zero IV. */
export function tdesEncryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const k = key.length === 16 ? new Uint8Array([...key, ...key.subarray(0, 8)]) : key;
  const c = createCipheriv("des-ede3-cbc", k, new Uint8Array(8));
  c.setAutoPadding(false);
  return new Uint8Array([...c.update(block), ...c.final()]);
}

/** AES ECB encryption of one block (key 16, 24 or 32 bytes). */
export function aesEncryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  return ecb(`aes-${key.length * 8}-ecb`, key, block);
}

function shiftLeft(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) {
    out[i] = ((b[i] << 1) | (i + 1 < b.length ? b[i + 1] >> 7 : 0)) & 0xff;
  }
  return out;
}

/** CMAC (SP 800-38B) over any block cipher given as a one-block encryption. */
export function cmacWith(
  encrypt: (block: Uint8Array) => Uint8Array,
  blockSize: 8 | 16,
  data: Uint8Array,
): Uint8Array {
  const rb = blockSize === 16 ? 0x87 : 0x1b;
  const l = encrypt(new Uint8Array(blockSize));
  const k1 = shiftLeft(l);
  if (l[0] & 0x80) k1[blockSize - 1] ^= rb;
  const k2 = shiftLeft(k1);
  if (k1[0] & 0x80) k2[blockSize - 1] ^= rb;
  const n = Math.max(1, Math.ceil(data.length / blockSize));
  const complete = data.length > 0 && data.length % blockSize === 0;
  const last = new Uint8Array(blockSize);
  last.set(data.subarray((n - 1) * blockSize));
  if (!complete) last[data.length - (n - 1) * blockSize] = 0x80;
  const sub = complete ? k1 : k2;
  for (let i = 0; i < blockSize; i++) last[i] ^= sub[i];
  let x: Uint8Array = new Uint8Array(blockSize);
  for (let b = 0; b < n; b++) {
    const m = b === n - 1 ? last : data.subarray(b * blockSize, (b + 1) * blockSize);
    const y = new Uint8Array(blockSize);
    for (let i = 0; i < blockSize; i++) y[i] = x[i] ^ m[i];
    x = encrypt(y);
  }
  return x;
}

/** AES-CMAC (SP 800-38B), full 16-byte tag. */
export function aesCmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return cmacWith((b) => aesEncryptBlock(key, b), 16, data);
}

/** TDES-CMAC (SP 800-38B), full 8-byte tag. */
export function tdesCmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return cmacWith((b) => tdesEncryptBlock(key, b), 8, data);
}

/** Legacy KCV: first `n` bytes of TDES E_K(0^8). */
export function legacyKcv(key: Uint8Array, n = 3): Uint8Array {
  return tdesEncryptBlock(key, new Uint8Array(8)).slice(0, n);
}

/** AES-CMAC KCV: first `n` bytes of CMAC(K, 0^16). */
export function cmacKcv(key: Uint8Array, n = 3): Uint8Array {
  return aesCmac(key, new Uint8Array(16)).slice(0, n);
}

function tdesKey24(key: Uint8Array): Uint8Array {
  return key.length === 16 ? new Uint8Array([...key, ...key.subarray(0, 8)]) : key;
}

function tdesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const d = createDecipheriv("des-ede3-cbc", tdesKey24(key), iv);
  d.setAutoPadding(false);
  return new Uint8Array([...d.update(data), ...d.final()]);
}

function tdesCbcMacRef(key: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv("des-ede3-cbc", tdesKey24(key), new Uint8Array(8));
  c.setAutoPadding(false);
  const out = new Uint8Array([...c.update(data), ...c.final()]);
  return out.slice(out.length - 8);
}

/** AES-CBC decryption built on node:crypto's AES-ECB (which has every key size). */
function aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const d = createDecipheriv(`aes-${key.length * 8}-ecb`, key, null);
  d.setAutoPadding(false);
  const plain = new Uint8Array([...d.update(data), ...d.final()]);
  for (let i = 0; i < plain.length; i++) plain[i] ^= i < 16 ? iv[i] : data[i - 16];
  return plain;
}

function aesCtrRef(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv(`aes-${key.length * 8}-ctr`, key, iv);
  return new Uint8Array([...c.update(data), ...c.final()]);
}

function kdf(
  cmacFn: (k: Uint8Array, d: Uint8Array) => Uint8Array,
  kbpk: Uint8Array,
  usage: number,
  algorithm: number,
): Uint8Array {
  const out: number[] = [];
  for (let counter = 1; out.length < kbpk.length; counter++) {
    const bits = kbpk.length * 8;
    out.push(
      ...cmacFn(kbpk, new Uint8Array([counter, 0, usage, 0, 0, algorithm, bits >> 8, bits & 255])),
    );
  }
  return new Uint8Array(out.slice(0, kbpk.length));
}

/**
 * KBEK and KBAK of a version: the key variants of X9.143 7.1 for A and C, the
 * CMAC KDF of 7.2 (ISO 20038 for E) otherwise.
 */
function referenceKeys(v: string, kbpk: Uint8Array): { kbek: Uint8Array; kbak: Uint8Array } {
  if (v === "A" || v === "C") {
    return { kbek: kbpk.map((b) => b ^ 0x45), kbak: kbpk.map((b) => b ^ 0x4d) };
  }
  if (v === "B") {
    const alg = kbpk.length === 16 ? 0 : 1;
    return { kbek: kdf(tdesCmac, kbpk, 0, alg), kbak: kdf(tdesCmac, kbpk, 1, alg) };
  }
  const alg = { 16: 2, 24: 3, 32: 4 }[kbpk.length]!;
  return { kbek: kdf(aesCmac, kbpk, v === "E" ? 2 : 0, alg), kbak: kdf(aesCmac, kbpk, 1, alg) };
}

function tdesCbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv("des-ede3-cbc", tdesKey24(key), iv);
  c.setAutoPadding(false);
  return new Uint8Array([...c.update(data), ...c.final()]);
}

/** AES-CBC encryption built on node:crypto's AES-ECB, one block at a time. */
function aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let chain = iv;
  for (let i = 0; i < data.length; i += 16) {
    const block = data.slice(i, i + 16).map((b, j) => b ^ chain[j]);
    chain = aesEncryptBlock(key, block);
    out.set(chain, i);
  }
  return out;
}

/**
 * An independent TR-31 / X9.143 / ISO 20038 seal for the tests, on
 * node:crypto: binds a clear payload the test chooses (a wrong key length
 * field, say) under `header` with a valid MAC, for the checks after the MAC.
 * Returns the block in uppercase hex after the header.
 */
export function referenceSeal(kbpk: Uint8Array, header: string, payload: Uint8Array): string {
  const v = header[0];
  const h = new TextEncoder().encode(header);
  const { kbek, kbak } = referenceKeys(v, kbpk);
  let ciphertext: Uint8Array;
  let mac: Uint8Array;
  if (v === "A" || v === "C") {
    ciphertext = tdesCbcEncrypt(kbek, h.subarray(0, 8), payload);
    mac = tdesCbcMacRef(kbak, new Uint8Array([...h, ...ciphertext])).slice(0, 4);
  } else if (v === "B") {
    mac = tdesCmac(kbak, new Uint8Array([...h, ...payload]));
    ciphertext = tdesCbcEncrypt(kbek, mac, payload);
  } else {
    mac = aesCmac(kbak, new Uint8Array([...h, ...payload]));
    ciphertext = v === "E" ? aesCtrRef(kbek, mac, payload) : aesCbcEncrypt(kbek, mac, payload);
  }
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return header + (hex(ciphertext) + hex(mac)).toUpperCase();
}

/**
 * An independent TR-31 / X9.143 / ISO 20038 unwrap for the tests, on
 * node:crypto: no header validation, just enough to check that the module's
 * wrap output is what the standard says. Returns the key, or throws.
 */
export function referenceUnwrap(kbpk: Uint8Array, block: string): Uint8Array {
  const v = block[0];
  let pos = 16;
  for (let i = 0; i < Number(block.slice(12, 14)); i++) {
    let len = parseInt(block.slice(pos + 2, pos + 4), 16);
    if (len === 0) {
      const ll = parseInt(block.slice(pos + 4, pos + 6), 16);
      len = parseInt(block.slice(pos + 6, pos + 6 + ll), 16);
    }
    pos += len;
  }
  const header = new TextEncoder().encode(block.slice(0, pos));
  const body = block.slice(pos);
  const macLength = v === "A" || v === "C" ? 4 : v === "B" ? 8 : 16;
  const bytes = (h: string) => new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));
  const ct = bytes(body.slice(0, body.length - 2 * macLength));
  const mac = bytes(body.slice(body.length - 2 * macLength));
  const { kbek, kbak } = referenceKeys(v, kbpk);
  let payload: Uint8Array;
  let expected: Uint8Array;
  if (v === "A" || v === "C") {
    expected = tdesCbcMacRef(kbak, new Uint8Array([...header, ...ct])).slice(0, 4);
    payload = tdesCbcDecrypt(kbek, header.subarray(0, 8), ct);
  } else if (v === "B") {
    payload = tdesCbcDecrypt(kbek, mac, ct);
    expected = tdesCmac(kbak, new Uint8Array([...header, ...payload]));
  } else {
    payload = v === "E" ? aesCtrRef(kbek, mac, ct) : aesCbcDecrypt(kbek, mac, ct);
    expected = aesCmac(kbak, new Uint8Array([...header, ...payload]));
  }
  if (expected.some((b, i) => b !== mac[i])) throw new Error("reference unwrap: MAC mismatch");
  const bits = (payload[0] << 8) | payload[1];
  return payload.slice(2, 2 + bits / 8);
}
