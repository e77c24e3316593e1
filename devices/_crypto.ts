/**
 * The crypto the simulated devices use, in one place: key generation with
 * odd parity, KCV, SHA-256, TR-31 wrap/unwrap under the PIN pad's storage
 * key, RSA-OAEP-SHA256 for TK export, and the operator card's RSA
 * operations. All on the injected crypto core.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey, RsaPublicKey } from "../src/core/mod.ts";
import {
  kcv,
  oaepEncrypt as rsaOaepEncrypt,
  pkcs1v15Sign,
  privateEncrypt,
  randomBytes,
  setOddParity,
  toHex,
} from "../src/crypto/mod.ts";
import { unwrapKeyBlock, wrapKeyBlock } from "../src/keyblock/mod.ts";
import type { CrlSet } from "../src/pki/mod.ts";
import {
  authCrypto as protocolAuthCrypto,
  checkCertificate as protocolCheck,
} from "../src/protocol/certs.ts";
import type { AuthCrypto } from "../src/protocol/mod.ts";

/**
 * A fresh TDES key with odd parity.
 *
 * @param length 16 or 24 bytes.
 * @param _core unused (random bytes come from the platform RNG).
 * @returns the key.
 */
export function generateTdesKey(length: 16 | 24, _core: CryptoCore): Promise<Uint8Array> {
  const k = randomBytes(length);
  const out = setOddParity(k);
  k.fill(0);
  return Promise.resolve(out);
}

/** Legacy TDES KCV (3 bytes), uppercase hex. */
export async function keyKcv(key: Uint8Array, core: CryptoCore): Promise<string> {
  return toHex(await kcv(key, { method: "legacy", core }));
}

/** SHA-256 on the core. */
export function sha256(data: Uint8Array, core: CryptoCore): Promise<Uint8Array> {
  return Promise.resolve(core.sha256(data));
}

/** TR-31 wrap. */
export async function wrap(
  kbpk: Uint8Array,
  header: string,
  key: Uint8Array,
  core: CryptoCore,
): Promise<string> {
  return await wrapKeyBlock(kbpk, header, key, { core });
}

/** TR-31 unwrap. */
export async function unwrap(
  kbpk: Uint8Array,
  block: string,
  core: CryptoCore,
): Promise<{ key: Uint8Array }> {
  const { key } = await unwrapKeyBlock(kbpk, block, { core });
  return { key };
}

/** RSA-OAEP-SHA256 encryption. */
export async function oaepEncrypt(
  key: RsaPublicKey,
  data: Uint8Array,
  core: CryptoCore,
): Promise<Uint8Array> {
  return await rsaOaepEncrypt(key, data, { hash: "SHA-256", core });
}

/** The MTMS transport certificate check at the PIN pad (chain, validity, purpose, CRLs if held). */
export function checkCertificate(
  pem: string,
  root: string,
  at: Date,
  core: CryptoCore,
  crls?: CrlSet,
) {
  return protocolCheck(pem, root, at, "mtms-transport", core, crls);
}

/** S6/S7 for the PIN pad's authenticator. */
export function authCrypto(core: CryptoCore): AuthCrypto {
  return protocolAuthCrypto(core);
}

/** The operator card's S4 operation. */
export async function cardPrivateEncrypt(
  key: RsaPrivateKey,
  message: Uint8Array,
  core: CryptoCore,
): Promise<Uint8Array> {
  return await privateEncrypt(key, message, { core });
}

/** The operator card's upload signature (RSASSA-PKCS1-v1_5, SHA-256). */
export async function cardSign(
  key: RsaPrivateKey,
  data: Uint8Array,
  core: CryptoCore,
): Promise<Uint8Array> {
  return await pkcs1v15Sign(key, data, { core });
}
