/**
 * RSA test keys from node:crypto (an implementation independent of both cores),
 * converted to the core's key form through JWK (src/crypto `importJwk`).
 *
 * @module
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { RsaPrivateKey, RsaPublicKey } from "../../src/core/mod.ts";
import { importJwk, type RsaJwk } from "../../src/crypto/mod.ts";

/** A key pair in both forms. */
export interface TestKey {
  privateKey: RsaPrivateKey;
  publicKey: RsaPublicKey;
  /** node:crypto's public key, for X509Certificate.verify. */
  nodePublic: KeyObject;
}

/** Generates an RSA key with node:crypto (e = 65537). */
export function nodeRsaKey(bits = 2048): TestKey {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  const k = importJwk(privateKey.export({ format: "jwk" }) as RsaJwk) as RsaPrivateKey;
  return { privateKey: k, publicKey: { n: k.n, e: k.e }, nodePublic: createPublicKey(privateKey) };
}
