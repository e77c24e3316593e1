/**
 * Flow B's Pu_tek check (CN103714641A S3): the terminal's transport public
 * key must be an RSA SubjectPublicKeyInfo (RFC 5280, RFC 8017) of 2048, 3072
 * or 4096 bits with e = 65537; anything else is `pu_tek_invalid`.
 *
 * @module
 */
import {
  checkRsaPublicKey,
  exportSpkiDer,
  exportSpkiPem,
  importPublicKeyPem,
  type RsaPublicKey,
} from "../../src/crypto/mod.ts";
import { ALLOWED_TEK_BITS, ValidationError } from "../../src/protocol/mod.ts";

function bitLength(n: Uint8Array): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]));
}

const E65537 = [0x01, 0x00, 0x01];

/**
 * Parses and checks Pu_tek.
 *
 * @param pem SubjectPublicKeyInfo PEM.
 * @returns the key, its DER, its size and its canonical PEM.
 * @throws {ValidationError} `pu_tek_invalid` naming what is wrong.
 */
export function parsePuTek(
  pem: string,
): { key: RsaPublicKey; der: Uint8Array; bits: number; pem: string } {
  let key: RsaPublicKey;
  try {
    key = checkRsaPublicKey(importPublicKeyPem(pem));
  } catch (e) {
    throw new ValidationError(
      "pu_tek_invalid",
      `body.puTek is not an RSA SubjectPublicKeyInfo (${(e as Error).message})`,
    );
  }
  const bits = bitLength(key.n);
  if (!ALLOWED_TEK_BITS.includes(bits)) {
    throw new ValidationError(
      "pu_tek_invalid",
      `body.puTek must be an RSA key of ${ALLOWED_TEK_BITS.join(", ")} bits, got ${bits} bits`,
    );
  }
  let i = 0;
  while (i < key.e.length && key.e[i] === 0) i++;
  const e = key.e.subarray(i);
  if (e.length !== 3 || e.some((b, j) => b !== E65537[j])) {
    throw new ValidationError("pu_tek_invalid", "body.puTek must have the public exponent 65537");
  }
  return { key, der: exportSpkiDer(key), bits, pem: exportSpkiPem(key) };
}
