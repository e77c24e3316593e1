/**
 * RSA test keys from node:crypto (an implementation independent of both cores),
 * converted to the core's key form through JWK.
 *
 * @module
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { RsaPrivateKey, RsaPublicKey } from "../../src/core/mod.ts";

/** A key pair in both forms. */
export interface TestKey {
  privateKey: RsaPrivateKey;
  publicKey: RsaPublicKey;
  /** node:crypto's public key, for X509Certificate.verify. */
  nodePublic: KeyObject;
}

function b64url(s: string | undefined): Uint8Array {
  if (s === undefined) throw new Error("JWK field missing");
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - s.length % 4) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/** Generates an RSA key with node:crypto (e = 65537). */
export function nodeRsaKey(bits = 2048): TestKey {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  const j = privateKey.export({ format: "jwk" });
  const k: RsaPrivateKey = {
    n: b64url(j.n),
    e: b64url(j.e),
    d: b64url(j.d),
    p: b64url(j.p),
    q: b64url(j.q),
    dp: b64url(j.dp),
    dq: b64url(j.dq),
    qi: b64url(j.qi),
  };
  return { privateKey: k, publicKey: { n: k.n, e: k.e }, nodePublic: createPublicKey(privateKey) };
}
