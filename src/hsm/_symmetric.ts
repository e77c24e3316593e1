/**
 * The software HSM's symmetric operations: TDES keys generated, formed from
 * components, imported and exported under KEKs (TR-31 / ANSI X9.143 or
 * TDES-ECB), inspected (attributes, KCV, hash), the retail MAC (ISO 9797-1
 * MAC algorithm 3) and TDES-ECB data encryption. Every function first lets
 * the state machine refuse the call (`_machine.ts`).
 *
 * @module
 */
import { retailMac, retailMacVerify, zeroize } from "../crypto/mod.ts";
import {
  attrs,
  checkBytes,
  checkFormat,
  checkImportOptions,
  checkPadding,
  checkTdesTemplate,
  describe,
  parseHexCheck,
} from "./_args.ts";
import {
  checkImport,
  checkKekHash,
  guard,
  hashOf,
  kcvOf,
  newTdesKey,
  openBlock,
  type Opened,
  wrapLmk,
  wrapUnderKek,
} from "./_blocks.ts";
import { enter, type HsmContext } from "./_machine.ts";
import { HsmError } from "./errors.ts";
import { checkNotDegenerate, combineComponents, type LmkComponent } from "./lmk.ts";
import { type KeyTemplate, type RoleRule, RULES } from "./policy.ts";
import type {
  ExportOptions,
  ExportResult,
  ImportChecks,
  ImportResult,
  KeyInfo,
  KeyResult,
  WrapFormat,
} from "./types.ts";

/** Largest data of one `encryptData` / `decryptData` call, in bytes. */
const MAX_DATA = 4096;

/** Any key block under the LMK, for {@link keyInfo}. */
const ANY_KEY: RoleRule = {
  role: "the key",
  usages: null,
  algorithms: ["T", "A", "R"],
  modes: null,
  exportability: null,
};

export async function generateKey(ctx: HsmContext, template: KeyTemplate): Promise<KeyResult> {
  await enter(ctx, "generateKey");
  const t = checkTdesTemplate(
    "template",
    template,
    " for generateKey; use generateRsaKeyPair for RSA",
  );
  const key = newTdesKey(t.length);
  try {
    return { keyBlock: await wrapLmk(ctx, t, key), kcv: await kcvOf(ctx, key, "T") };
  } finally {
    zeroize(key);
  }
}

export async function importKeyFromComponents(
  ctx: HsmContext,
  components: readonly LmkComponent[],
  template: KeyTemplate,
): Promise<KeyResult> {
  await enter(ctx, "importKeyFromComponents");
  const t = checkTdesTemplate("template", template, " for key components");
  // The LMK's component rules apply: two or more, each checked against its KCV; in production
  // mode each names its custodian, all different (dual control, as for the LMK).
  const { key, kcv } = await guard(
    ctx,
    () =>
      combineComponents(components, "tdes", ctx.core, {
        length: t.length,
        what: "key",
        requireCustodians: ctx.mode === "production",
      }),
    `the key ${attrs(t)} from components`,
  );
  try {
    return { keyBlock: await wrapLmk(ctx, t, key), kcv };
  } finally {
    zeroize(key);
  }
}

export async function keyInfo(ctx: HsmContext, keyBlock: string): Promise<KeyInfo> {
  await enter(ctx, "keyInfo");
  const { header, key } = await openBlock(ctx, "keyInfo", ANY_KEY, "keyBlock", keyBlock);
  try {
    return {
      version: header.version,
      keyUsage: header.keyUsage,
      algorithm: header.algorithm,
      modeOfUse: header.modeOfUse,
      exportability: header.exportability,
      keyVersion: header.keyVersion,
      length: key.length,
      kcv: header.algorithm === "R" ? null : await kcvOf(ctx, key, header.algorithm),
    };
  } finally {
    zeroize(key);
  }
}

export async function keyCheckValue(ctx: HsmContext, keyBlock: string): Promise<string> {
  await enter(ctx, "keyCheckValue");
  const { header, key } = await openBlock(
    ctx,
    "keyCheckValue",
    RULES.checkValue,
    "keyBlock",
    keyBlock,
  );
  try {
    return await kcvOf(ctx, key, header.algorithm);
  } finally {
    zeroize(key);
  }
}

export async function keyHash(ctx: HsmContext, keyBlock: string): Promise<string> {
  await enter(ctx, "keyHash");
  const { key } = await openBlock(ctx, "keyHash", RULES.checkValue, "keyBlock", keyBlock);
  try {
    return hashOf(ctx, key);
  } finally {
    zeroize(key);
  }
}

export async function exportKey(
  ctx: HsmContext,
  keyBlock: string,
  kekBlock: string,
  options: ExportOptions,
): Promise<ExportResult> {
  await enter(ctx, "exportKey");
  const format = checkFormat(options?.format);
  const kek = await openBlock(ctx, "exportKey", RULES.kekWrap, "kekBlock", kekBlock);
  let k: Opened | undefined;
  try {
    return await guard(ctx, async () => {
      checkKekHash(ctx, kek.key, options.expectedKekHash);
      const rule = format === "ecb" ? RULES.exportEcb : RULES.exportTrusted;
      k = await openBlock(ctx, "exportKey", rule, "keyBlock", keyBlock);
      const exported = await wrapUnderKek(
        ctx,
        "exportKey",
        k.key,
        k.header,
        { key: kek.key, algorithm: kek.header.algorithm },
        format,
      );
      return { exported, kcv: await kcvOf(ctx, k.key, k.header.algorithm) };
    }, `the exported key under ${attrs(kek.header)}`);
  } finally {
    zeroize(kek.key, k?.key);
  }
}

/** The clear key of an import under a KEK: TDES-ECB ciphertext, or a TR-31 block under the KEK. */
async function unwrapImported(
  ctx: HsmContext,
  kek: Opened,
  wrapped: string,
  t: Required<KeyTemplate>,
  format: WrapFormat,
): Promise<Uint8Array> {
  if (format === "ecb") {
    const ct = parseHexCheck("wrapped", wrapped, t.length, t.length);
    if (kek.header.algorithm !== "T") {
      throw new HsmError(
        "key_usage",
        `importKey: ECB import needs a TDES KEK, got algorithm ${kek.header.algorithm}`,
      );
    }
    return ctx.core.tdesDecryptEcb(kek.key, ct);
  }
  const rule: RoleRule = {
    role: "the imported key",
    usages: [t.keyUsage],
    algorithms: [t.algorithm],
    modes: null,
    exportability: null,
  };
  const inner = await openBlock(ctx, "importKey", rule, "wrapped", wrapped, kek.key, "the KEK");
  if (inner.key.length !== t.length) {
    zeroize(inner.key);
    throw new HsmError(
      "key_usage",
      `importKey: the imported key is ${inner.key.length} bytes, the template says ${t.length}`,
    );
  }
  return inner.key;
}

export async function importKey(
  ctx: HsmContext,
  wrapped: string,
  kekBlock: string,
  options: ImportChecks & { template: KeyTemplate; format?: WrapFormat },
): Promise<ImportResult> {
  await enter(ctx, "importKey");
  const t = checkImportOptions(options);
  const format = checkFormat(options.format);
  if (typeof wrapped !== "string") {
    throw new TypeError(`wrapped must be a string, got ${describe(wrapped)}`);
  }
  const kek = await openBlock(ctx, "importKey", RULES.kekUnwrap, "kekBlock", kekBlock);
  let key: Uint8Array | undefined;
  try {
    key = await unwrapImported(ctx, kek, wrapped, t, format);
    const k = key;
    return await guard(ctx, async () => {
      checkNotDegenerate("the imported key", k, "tdes");
      const { kcv, hash } = await checkImport(ctx, k, "T", options);
      return { keyBlock: await wrapLmk(ctx, t, k), kcv, hash };
    }, `the imported key ${attrs(t)}`);
  } finally {
    zeroize(kek.key, key);
  }
}

export async function generateKeyUnderKek(
  ctx: HsmContext,
  template: KeyTemplate,
  kekBlock: string,
  options: ExportOptions,
): Promise<KeyResult & { exported: string }> {
  await enter(ctx, "generateKeyUnderKek");
  const t = checkTdesTemplate("template", template);
  const format = checkFormat(options?.format);
  const kek = await openBlock(ctx, "generateKeyUnderKek", RULES.kekWrap, "kekBlock", kekBlock);
  const key = newTdesKey(t.length);
  try {
    return await guard(ctx, async () => {
      checkKekHash(ctx, kek.key, options.expectedKekHash);
      const exported = await wrapUnderKek(
        ctx,
        "generateKeyUnderKek",
        key,
        t,
        { key: kek.key, algorithm: kek.header.algorithm },
        format,
      );
      return { keyBlock: await wrapLmk(ctx, t, key), exported, kcv: await kcvOf(ctx, key, "T") };
    }, `the generated key ${attrs(t)}`);
  } finally {
    zeroize(kek.key, key);
  }
}

/** Opens a MAC key block: K || K' of ISO 9797-1 MAC algorithm 3 (16 bytes). */
async function openMak(
  ctx: HsmContext,
  op: "generateMac" | "verifyMac",
  makBlock: string,
): Promise<Uint8Array> {
  const rule = op === "generateMac" ? RULES.macGenerate : RULES.macVerify;
  const { key } = await openBlock(ctx, op, rule, "makBlock", makBlock);
  if (key.length !== 16) {
    zeroize(key);
    throw new HsmError(
      "key_usage",
      `${op}: the MAC key must be 16 bytes (K || K'), got ${key.length}`,
    );
  }
  return key;
}

export async function generateMac(
  ctx: HsmContext,
  makBlock: string,
  data: Uint8Array,
  options?: { padding?: 1 | 2 },
): Promise<Uint8Array> {
  await enter(ctx, "generateMac");
  const padding = checkPadding(options);
  checkBytes("data", data);
  const key = await openMak(ctx, "generateMac", makBlock);
  try {
    return await retailMac(key, data, { padding, core: ctx.core });
  } finally {
    zeroize(key);
  }
}

export async function verifyMac(
  ctx: HsmContext,
  makBlock: string,
  data: Uint8Array,
  mac: Uint8Array,
  options?: { padding?: 1 | 2 },
): Promise<boolean> {
  await enter(ctx, "verifyMac");
  const padding = checkPadding(options);
  checkBytes("data", data);
  checkBytes("mac", mac);
  if (mac.length < 4 || mac.length > 8) {
    throw new RangeError(`mac must be 4 to 8 bytes, got ${mac.length}`);
  }
  const key = await openMak(ctx, "verifyMac", makBlock);
  try {
    return await retailMacVerify(key, data, mac, { padding, core: ctx.core });
  } finally {
    zeroize(key);
  }
}

/** TDES-ECB of whole 8-byte blocks under a data key (`encryptData`, `decryptData`). */
export async function ecbData(
  ctx: HsmContext,
  op: "encryptData" | "decryptData",
  keyBlock: string,
  data: Uint8Array,
): Promise<Uint8Array> {
  await enter(ctx, op);
  checkBytes("data", data);
  if (data.length === 0 || data.length % 8 !== 0 || data.length > MAX_DATA) {
    throw new RangeError(
      `data must be whole 8-byte blocks, 8 to ${MAX_DATA} bytes, got ${data.length}`,
    );
  }
  const rule = op === "encryptData" ? RULES.encrypt : RULES.decrypt;
  const { key } = await openBlock(ctx, op, rule, "keyBlock", keyBlock);
  try {
    return op === "encryptData"
      ? ctx.core.tdesEncryptEcb(key, data)
      : ctx.core.tdesDecryptEcb(key, data);
  } finally {
    zeroize(key);
  }
}
