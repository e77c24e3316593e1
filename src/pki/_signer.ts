/**
 * TEMPORARY: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 section 8.2.1, EMSA-PKCS1-v1_5
 * section 9.2) on the crypto core, until `src/crypto` lands its `pkcs1v15` sign;
 * then this file is removed and `_build.ts` calls `src/crypto`.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey } from "../core/mod.ts";

/** DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1). */
const SHA256_DIGEST_INFO = new Uint8Array([
  0x30,
  0x31,
  0x30,
  0x0d,
  0x06,
  0x09,
  0x60,
  0x86,
  0x48,
  0x01,
  0x65,
  0x03,
  0x04,
  0x02,
  0x01,
  0x05,
  0x00,
  0x04,
  0x20,
]);

/** Signs `message` (SHA-256 computed on the core, private operation on the core). */
export function signSha256(core: CryptoCore, key: RsaPrivateKey, message: Uint8Array): Uint8Array {
  let i = 0;
  while (i < key.n.length && key.n[i] === 0) i++;
  const k = key.n.length - i;
  const t = new Uint8Array(SHA256_DIGEST_INFO.length + 32);
  t.set(SHA256_DIGEST_INFO);
  t.set(core.sha256(message), SHA256_DIGEST_INFO.length);
  if (k < t.length + 11) throw new RangeError("key.n is too short for a SHA-256 signature");
  const em = new Uint8Array(k);
  em[1] = 0x01;
  em.fill(0xff, 2, k - t.length - 1);
  em.set(t, k - t.length);
  const s = core.rsaPrivate(key, em);
  return s.subarray(s.length - k);
}
