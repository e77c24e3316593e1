/**
 * The software HSM's RSA operations: key pairs generated or imported with the
 * private key under the LMK (PKCS#8 DER in a block with algorithm "R"),
 * RSASSA-PKCS1-v1_5 SHA-256 signatures, and keys sent or exported under RSA
 * public keys with RSA-OAEP (RFC 8017). Every decryption failure is one
 * `decrypt_failed` error with one message (no padding oracle).
 *
 * @module
 */
import type { RsaPrivateKey, RsaPublicKey } from "../core/mod.ts";
import {
  exportPkcs8Der,
  generateRsaKeyPair as generatePair,
  importPkcs8Der,
  oaepDecrypt,
  oaepEncrypt,
  pkcs1v15Sign,
  publicKeyOf,
  validateRsaPrivateKey,
  zeroize,
} from "../crypto/mod.ts";
import {
  attrs,
  checkBytes,
  checkImportOptions,
  checkOaepHash,
  checkObject,
  describe,
} from "./_args.ts";
import { checkImport, guard, kcvOf, openBlock, wrapLmk, wrapUnderKek } from "./_blocks.ts";
import { enter, type HsmContext, refuseKey } from "./_machine.ts";
import { HsmError } from "./errors.ts";
import { checkNotDegenerate } from "./lmk.ts";
import { checkTemplate, KEY_TEMPLATES, type KeyTemplate, type RoleRule, RULES } from "./policy.ts";
import type { ExportResult, ImportChecks, ImportResult, RsaKeyPairResult } from "./types.ts";

type OaepHash = "SHA-256" | "SHA-1";

/** Zeroes the private parts of an RSA key. */
function zeroizePrivate(k: RsaPrivateKey): void {
  zeroize(k.d, k.p, k.q, k.dp, k.dq, k.qi);
}

/** Checks an RSA template ("R"); `what` ends the message when it is not. */
function checkRsaTemplate(name: string, template: unknown, what: string): Required<KeyTemplate> {
  const t = checkTemplate(name, template);
  if (t.algorithm !== "R") throw new RangeError(`${name}.algorithm must be "R" for ${what}`);
  return t;
}

/** Wraps an RSA private key's PKCS#8 DER under the LMK; the DER is zeroed. */
async function wrapPrivateKey(
  ctx: HsmContext,
  t: Required<KeyTemplate>,
  privateKey: RsaPrivateKey,
): Promise<string> {
  const der = exportPkcs8Der(privateKey);
  try {
    return await wrapLmk(ctx, t, der);
  } finally {
    zeroize(der);
  }
}

/** Opens an RSA private key block under `rule` and runs `fn` on the key, zeroed afterwards. */
async function withPrivateKey<T>(
  ctx: HsmContext,
  op: string,
  rule: RoleRule,
  privateKeyBlock: string,
  fn: (privateKey: RsaPrivateKey) => Promise<T>,
): Promise<T> {
  const pk = await openBlock(ctx, op, rule, "privateKeyBlock", privateKeyBlock);
  let privateKey: RsaPrivateKey;
  try {
    privateKey = importPkcs8Der(pk.key);
  } finally {
    zeroize(pk.key);
  }
  try {
    return await fn(privateKey);
  } finally {
    zeroizePrivate(privateKey);
  }
}

export async function generateRsaKeyPair(
  ctx: HsmContext,
  options: { bits?: number; template?: KeyTemplate },
): Promise<RsaKeyPairResult> {
  await enter(ctx, "generateRsaKeyPair");
  checkObject("options", options);
  const t = checkRsaTemplate(
    "options.template",
    options.template ?? KEY_TEMPLATES.RSA_TRANSPORT,
    "an RSA key pair",
  );
  const { privateKey, publicKey } = await generatePair({
    bits: options.bits ?? 2048,
    core: ctx.core,
  });
  try {
    return { privateKeyBlock: await wrapPrivateKey(ctx, t, privateKey), publicKey };
  } finally {
    zeroizePrivate(privateKey);
  }
}

export async function importRsaPrivateKey(
  ctx: HsmContext,
  privateKey: RsaPrivateKey,
  template: KeyTemplate,
): Promise<RsaKeyPairResult> {
  await enter(ctx, "importRsaPrivateKey");
  const t = checkRsaTemplate("template", template, "an RSA private key");
  validateRsaPrivateKey(privateKey);
  return {
    privateKeyBlock: await wrapPrivateKey(ctx, t, privateKey),
    publicKey: publicKeyOf(privateKey),
  };
}

export async function sign(
  ctx: HsmContext,
  privateKeyBlock: string,
  message: Uint8Array,
): Promise<Uint8Array> {
  await enter(ctx, "sign");
  checkBytes("message", message);
  return await withPrivateKey(
    ctx,
    "sign",
    RULES.sign,
    privateKeyBlock,
    (privateKey) => pkcs1v15Sign(privateKey, message, { core: ctx.core }),
  );
}

/** RSA-OAEP-decrypts a key with an HSM private key; the same `decrypt_failed` for every failure. */
async function rsaUnwrap(
  ctx: HsmContext,
  op: string,
  privateKeyBlock: string,
  ciphertext: Uint8Array,
  hash: OaepHash,
  length: number,
): Promise<Uint8Array> {
  checkBytes("ciphertext", ciphertext);
  const key = await withPrivateKey(ctx, op, RULES.rsaUnwrap, privateKeyBlock, async (pk) => {
    try {
      return await oaepDecrypt(pk, ciphertext, { hash, core: ctx.core });
    } catch {
      // Whatever failed (length, range, padding): one error, one message.
      return undefined;
    }
  });
  if (key === undefined || key.length !== length) {
    zeroize(key);
    return await refuseKey(
      ctx,
      new HsmError("decrypt_failed", `${op}: the RSA-encrypted key does not decrypt`),
      "the RSA private key",
    );
  }
  return key;
}

/** The checks and the KCV and hash of a key received under an RSA key. */
function checkReceived(
  ctx: HsmContext,
  key: Uint8Array,
  options: ImportChecks,
): Promise<{ kcv: string; hash: string }> {
  checkNotDegenerate("the imported key", key, "tdes");
  return checkImport(ctx, key, "T", options);
}

export async function importKeyRsa(
  ctx: HsmContext,
  privateKeyBlock: string,
  ciphertext: Uint8Array,
  options: ImportChecks & { template: KeyTemplate; hash?: OaepHash },
): Promise<ImportResult> {
  await enter(ctx, "importKeyRsa");
  const t = checkImportOptions(options);
  const hash = checkOaepHash(options.hash);
  const key = await rsaUnwrap(ctx, "importKeyRsa", privateKeyBlock, ciphertext, hash, t.length);
  try {
    return await guard(ctx, async () => {
      const c = await checkReceived(ctx, key, options);
      return { keyBlock: await wrapLmk(ctx, t, key), ...c };
    }, `the imported key ${attrs(t)}`);
  } finally {
    zeroize(key);
  }
}

export async function translateKeyFromRsa(
  ctx: HsmContext,
  privateKeyBlock: string,
  ciphertext: Uint8Array,
  kekBlock: string,
  options: ImportChecks & { template: KeyTemplate; hash?: OaepHash },
): Promise<ExportResult & { hash: string }> {
  const op = "translateKeyFromRsa";
  await enter(ctx, op);
  const t = checkImportOptions(options);
  const hash = checkOaepHash(options.hash);
  const kek = await openBlock(ctx, op, RULES.kekWrap, "kekBlock", kekBlock);
  let key: Uint8Array | undefined;
  try {
    key = await rsaUnwrap(ctx, op, privateKeyBlock, ciphertext, hash, t.length);
    const k = key;
    return await guard(ctx, async () => {
      const c = await checkReceived(ctx, k, options);
      // The key arrived under the HSM's public key to be re-encrypted, so
      // its exportability is that of its new home; it crosses as a TR-31 block
      // naming its KEK (KP), as the KEK (PK) has versions.
      const under = { key: kek.key, algorithm: kek.header.algorithm };
      const exported = await wrapUnderKek(ctx, op, k, t, under, "tr31", false, true);
      return { exported, ...c };
    }, `the translated key ${attrs(t)}`);
  } finally {
    zeroize(kek.key, key);
  }
}

export async function exportKeyRsa(
  ctx: HsmContext,
  keyBlock: string,
  publicKey: RsaPublicKey,
  options: { hash?: OaepHash },
): Promise<{ ciphertext: Uint8Array; kcv: string }> {
  await enter(ctx, "exportKeyRsa");
  checkObject("options", options);
  const hash = checkOaepHash(options.hash);
  if (publicKey === null || typeof publicKey !== "object") {
    throw new TypeError(
      `publicKey must be an RSA public key { n, e }, got ${describe(publicKey)}`,
    );
  }
  const k = await openBlock(ctx, "exportKeyRsa", RULES.exportTrusted, "keyBlock", keyBlock);
  try {
    const ciphertext = await oaepEncrypt(publicKey, k.key, { hash, core: ctx.core });
    return { ciphertext, kcv: await kcvOf(ctx, k.key, k.header.algorithm) };
  } finally {
    zeroize(k.key);
  }
}
