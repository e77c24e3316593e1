/**
 * Scans bytes (a file, a log, a database) for an RSA private key in clear:
 * every secret part (d, p, q, dp, dq, qi) as raw bytes, hex in either case
 * and base64 at each of its three alignments, also with whitespace removed
 * (a PEM body's line breaks).
 *
 * @module
 */
import type { RsaPrivateKey } from "../../src/core/mod.ts";
import { toHex } from "../../src/crypto/mod.ts";

/** A piece of a secret part in one encoding, and its name (`d hex`, `p base64/1`, ...). */
export interface Needle {
  name: string;
  bytes: Uint8Array;
}

/**
 * Every form the key's secret parts could take in a file: raw, hex, base64 (3 alignments).
 *
 * @param k the private key.
 * @returns the needles, named by part and encoding.
 */
export function secretNeedles(k: RsaPrivateKey): Needle[] {
  const enc = new TextEncoder();
  const out: Needle[] = [];
  const parts = { d: k.d, p: k.p, q: k.q, dp: k.dp, dq: k.dq, qi: k.qi };
  for (const [name, v] of Object.entries(parts)) {
    const x = v.subarray(v[0] === 0 ? 1 : 0);
    out.push({ name: `${name} raw`, bytes: x.slice(8, 40) });
    out.push({ name: `${name} hex`, bytes: enc.encode(toHex(x.slice(8, 40))) });
    out.push({ name: `${name} HEX`, bytes: enc.encode(toHex(x.slice(8, 40)).toUpperCase()) });
    for (let a = 0; a < 3; a++) {
      const b64 = btoa(String.fromCharCode(...x.subarray(a, a + 60)));
      out.push({ name: `${name} base64/${a}`, bytes: enc.encode(b64.slice(8, 48)) });
    }
  }
  return out;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * The needles of `key` found in `bytes` (the whitespace removed first as well).
 *
 * @param bytes what to scan.
 * @param key the private key, or its needles (to scan many files for one key).
 * @returns the names of the needles found; empty when the key is not there in clear.
 */
export function clearKeyIn(bytes: Uint8Array, key: RsaPrivateKey | Needle[]): string[] {
  const needles = Array.isArray(key) ? key : secretNeedles(key);
  const flat = new TextEncoder().encode(new TextDecoder().decode(bytes).replace(/\s/g, ""));
  return needles
    .filter((n) => indexOf(bytes, n.bytes) >= 0 || indexOf(flat, n.bytes) >= 0)
    .map((n) => n.name);
}
