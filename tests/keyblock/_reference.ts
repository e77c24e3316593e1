/**
 * Independent references for the key block tests, on node:crypto (OpenSSL):
 * the legacy TDES KCV (E_K(0^8)) and the AES-CMAC KCV (X9.24-1:2017,
 * CMAC(K, 0^16)), with SP 800-38B CMAC written here over node:crypto's
 * AES-ECB, so that no result is checked against the code under test.
 *
 * @module
 */
import { createCipheriv } from "node:crypto";

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

/** AES-CMAC (SP 800-38B), full 16-byte tag. */
export function aesCmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  const l = aesEncryptBlock(key, new Uint8Array(16));
  const k1 = shiftLeft(l);
  if (l[0] & 0x80) k1[15] ^= 0x87;
  const k2 = shiftLeft(k1);
  if (k1[0] & 0x80) k2[15] ^= 0x87;
  const n = Math.max(1, Math.ceil(data.length / 16));
  const complete = data.length > 0 && data.length % 16 === 0;
  const last = new Uint8Array(16);
  last.set(data.subarray((n - 1) * 16));
  if (!complete) last[data.length - (n - 1) * 16] = 0x80;
  const sub = complete ? k1 : k2;
  for (let i = 0; i < 16; i++) last[i] ^= sub[i];
  let x: Uint8Array = new Uint8Array(16);
  for (let b = 0; b < n; b++) {
    const m = b === n - 1 ? last : data.subarray(b * 16, b * 16 + 16);
    const y = new Uint8Array(16);
    for (let i = 0; i < 16; i++) y[i] = x[i] ^ m[i];
    x = aesEncryptBlock(key, y);
  }
  return x;
}

/** Legacy KCV: first `n` bytes of TDES E_K(0^8). */
export function legacyKcv(key: Uint8Array, n = 3): Uint8Array {
  return tdesEncryptBlock(key, new Uint8Array(8)).slice(0, n);
}

/** AES-CMAC KCV: first `n` bytes of CMAC(K, 0^16). */
export function cmacKcv(key: Uint8Array, n = 3): Uint8Array {
  return aesCmac(key, new Uint8Array(16)).slice(0, n);
}
