/**
 * Key blocks in the software HSM: a block under the LMK or a KEK opened and
 * checked against its role's rule (`policy.ts`), keys wrapped under the LMK
 * and exported under a KEK (TR-31 / ANSI X9.143, or TDES-ECB for
 * exportability "S"), and the KCV and hash checks of imports. Clear keys
 * returned here belong to the caller, who zeroes them.
 *
 * @module
 */
import {
  fromHex,
  randomBytes,
  setOddParity,
  timingSafeEqual,
  toHex,
  zeroize,
} from "../crypto/mod.ts";
import {
  KeyBlockError,
  type KeyBlockHeader,
  type PreparedKbpk,
  unwrapKeyBlock,
  wrapKeyBlock,
} from "../keyblock/mod.ts";
import { attrs, checkBlockString, parseHexCheck } from "./_args.ts";
import { type HsmContext, refuseKey } from "./_machine.ts";
import { HsmError } from "./errors.ts";
import { checkNotDegenerate, keyCheckValue } from "./lmk.ts";
import { checkRule, type KeyTemplate, type RoleRule, RULES } from "./policy.ts";
import { TEST_KEY_BLOCK_ID } from "./state.ts";
import type { ImportChecks, WrapFormat } from "./types.ts";

/** A key block opened: its authenticated header and the clear key. */
export interface Opened {
  header: Required<KeyBlockHeader>;
  key: Uint8Array;
}

const TDES_KCV_BYTES = 3;
const AES_KCV_BYTES = 5;

/** Refuses a block whose header breaks the rule, or a test key in production; zeroes the key then. */
function checkOpened(ctx: HsmContext, op: string, rule: RoleRule, name: string, r: Opened): void {
  if (
    ctx.mode === "production" && r.header.optionalBlocks.some((b) => b.id === TEST_KEY_BLOCK_ID)
  ) {
    throw new HsmError(
      "test_key",
      `${op}: ${rule.role} (${name}) is a test key (optional block ${TEST_KEY_BLOCK_ID}): ` +
        "production mode refuses it",
    );
  }
  checkRule(op, rule, r.header);
  if (r.header.algorithm === "T" && r.key.length !== 16 && r.key.length !== 24) {
    throw new HsmError(
      "key_usage",
      `${op}: ${rule.role} is a ${r.key.length}-byte TDES key; 16 or 24 bytes required`,
    );
  }
}

/**
 * Unwraps a block under `kbpk` (the LMK by default) and checks it against
 * `rule`; each refusal is audited (`key_refused`).
 *
 * @param op the operation, for messages.
 * @param rule the key's role.
 * @param name the argument, for messages.
 * @param keyBlock the block.
 * @param kbpk the clear KEK it is under, or the LMK.
 * @param under what `kbpk` is, for messages.
 * @returns the header and the clear key (the caller zeroes it).
 */
export async function openBlock(
  ctx: HsmContext,
  op: string,
  rule: RoleRule,
  name: string,
  keyBlock: unknown,
  kbpk: Uint8Array | PreparedKbpk = ctx.lmkKbpk as PreparedKbpk,
  under = "the LMK",
): Promise<Opened> {
  checkBlockString(name, keyBlock);
  let r: Opened;
  try {
    r = await unwrapKeyBlock(kbpk, keyBlock, { core: ctx.core });
  } catch (e) {
    if (!(e instanceof KeyBlockError)) throw e;
    return await refuseKey(
      ctx,
      new HsmError(
        "key_block",
        `${op}: ${rule.role} (${name}) does not unwrap under ${under}: ${e.code}: ${e.message}`,
        { cause: e },
      ),
      rule.role,
    );
  }
  try {
    checkOpened(ctx, op, rule, name, r);
  } catch (e) {
    zeroize(r.key);
    if (e instanceof HsmError) return await refuseKey(ctx, e, `${rule.role} ${attrs(r.header)}`);
    throw e;
  }
  return r;
}

/** TDES-ECB's zero block, the input of the legacy TDES KCV. */
const ZERO_BLOCK = new Uint8Array(8);

/**
 * A key's KCV: 5 bytes of AES-CMAC for AES, 3 bytes of the legacy TDES KCV
 * (TDES-ECB of a zero block, ANSI X9.24-1) otherwise, computed here on the
 * core for TDES: it is once per issued key.
 */
export async function kcvOf(ctx: HsmContext, key: Uint8Array, algorithm: string): Promise<string> {
  if (algorithm === "A") return await keyCheckValue(key, "aes", AES_KCV_BYTES, ctx.core);
  const e = ctx.core.tdesEncryptEcb(key, ZERO_BLOCK);
  const v = toHex(e.subarray(0, TDES_KCV_BYTES));
  e.fill(0);
  return v;
}

/** SHA-256 of a clear key, uppercase hex. */
export function hashOf(ctx: HsmContext, key: Uint8Array): string {
  return toHex(ctx.core.sha256(key));
}

/** Wraps a key with the template's attributes under the LMK (with the test marker in test mode). */
export async function wrapLmk(
  ctx: HsmContext,
  t: Required<KeyTemplate>,
  key: Uint8Array,
): Promise<string> {
  const header: KeyBlockHeader = {
    version: ctx.version,
    keyUsage: t.keyUsage as KeyBlockHeader["keyUsage"],
    algorithm: t.algorithm,
    modeOfUse: t.modeOfUse as KeyBlockHeader["modeOfUse"],
    keyVersion: t.keyVersion,
    exportability: t.exportability,
    keyContext: "1",
    optionalBlocks: ctx.marker ? [ctx.marker] : [],
  };
  return await wrapKeyBlock(ctx.lmkKbpk as PreparedKbpk, header, key, { core: ctx.core });
}

/** A random TDES key of `length` bytes with odd parity, not degenerate. */
export function newTdesKey(length: 16 | 24): Uint8Array {
  for (;;) {
    const raw = randomBytes(length);
    const key = setOddParity(raw);
    zeroize(raw);
    try {
      checkNotDegenerate("key", key, "tdes");
      return key;
    } catch {
      zeroize(key);
    }
  }
}

/**
 * The KCV and hash of an imported key, checked against those expected
 * (constant time).
 *
 * @throws {HsmError} `kcv_mismatch`, `hash_mismatch`.
 */
export async function checkImport(
  ctx: HsmContext,
  key: Uint8Array,
  algorithm: string,
  checks: ImportChecks,
): Promise<{ kcv: string; hash: string }> {
  const kcv = await kcvOf(ctx, key, algorithm);
  const hash = hashOf(ctx, key);
  if (checks.expectedKcv !== undefined) {
    const want = parseHexCheck("options.expectedKcv", checks.expectedKcv, 2, 16);
    const got = fromHex(
      await keyCheckValue(key, algorithm === "A" ? "aes" : "tdes", want.length, ctx.core),
    );
    if (!timingSafeEqual(got, want)) {
      throw new HsmError(
        "kcv_mismatch",
        `the imported key's KCV differs from the expected ${toHex(want)}`,
      );
    }
  }
  if (checks.expectedHash !== undefined) {
    const want = parseHexCheck("options.expectedHash", checks.expectedHash, 32, 32);
    if (!timingSafeEqual(fromHex(hash), want)) {
      throw new HsmError(
        "hash_mismatch",
        "the imported key's SHA-256 differs from the expected hash",
      );
    }
  }
  return { kcv, hash };
}

/** The TK hash check: the KEK's SHA-256 against the one expected (constant time). */
export function checkKekHash(ctx: HsmContext, kek: Uint8Array, expected: string | undefined): void {
  if (expected === undefined) return;
  const want = parseHexCheck("options.expectedKekHash", expected, 32, 32);
  if (!timingSafeEqual(ctx.core.sha256(kek), want)) {
    throw new HsmError(
      "hash_mismatch",
      "the KEK's SHA-256 differs from the expected hash (TK hash check)",
    );
  }
}

/** The attributes of a key being exported. */
export interface ExportedAttributes {
  keyUsage: string;
  algorithm: string;
  modeOfUse: string;
  exportability: string;
  keyVersion: string;
}

/**
 * Wraps `key` (attributes `h`) under the clear KEK `kek` in `format`: a
 * TR-31 block (version B under a TDES KEK, D under AES) or TDES-ECB hex.
 *
 * @param checkExportable whether `h` must allow the export (false for a key in transit).
 * @param namesKek whether the block names its KEK in optional block KP (X9.143 6.3.6.7: "00",
 *   then the KEK's legacy KCV), so that a receiver holding several versions of the KEK
 *   knows which one it is under before it unwraps.
 * @throws {HsmError} `key_usage` for a key its attributes or the KEK do not allow to export.
 */
export async function wrapUnderKek(
  ctx: HsmContext,
  op: string,
  key: Uint8Array,
  h: ExportedAttributes,
  kek: { key: Uint8Array; algorithm: string },
  format: WrapFormat,
  checkExportable = true,
  namesKek = false,
): Promise<string> {
  if (checkExportable) checkRule(op, format === "ecb" ? RULES.exportEcb : RULES.exportTrusted, h);
  if (format === "ecb") {
    if (kek.algorithm !== "T") {
      throw new HsmError(
        "key_usage",
        `${op}: ECB export needs a TDES KEK, got algorithm ${kek.algorithm}`,
      );
    }
    if (key.length > kek.key.length) {
      throw new HsmError(
        "key_usage",
        `${op}: a ${key.length}-byte key cannot be exported under a weaker ${kek.key.length}-byte KEK`,
      );
    }
    return toHex(ctx.core.tdesEncryptEcb(kek.key, key));
  }
  const header: KeyBlockHeader = {
    version: kek.algorithm === "A" ? "D" : "B",
    keyUsage: h.keyUsage as KeyBlockHeader["keyUsage"],
    algorithm: h.algorithm as KeyBlockHeader["algorithm"],
    modeOfUse: h.modeOfUse as KeyBlockHeader["modeOfUse"],
    keyVersion: h.keyVersion,
    exportability: h.exportability as KeyBlockHeader["exportability"],
    keyContext: "2",
    // A test HSM's keys stay recognisable where they go: the marker travels too.
    optionalBlocks: [
      ...(namesKek ? [{ id: "KP", data: await kbpkCheck(ctx, kek) }] : []),
      ...(ctx.marker ? [ctx.marker] : []),
    ],
  };
  try {
    return await wrapKeyBlock(kek.key, header, key, { core: ctx.core });
  } catch (e) {
    if (e instanceof RangeError) {
      throw new HsmError("key_usage", `${op}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** The refusals of a key's own checks, audited as `key_refused` by {@link guard}. */
const KEY_REFUSALS = new Set([
  "key_usage",
  "kcv_mismatch",
  "hash_mismatch",
  "decrypt_failed",
  "weak_key",
]);

/** Runs `fn`; a refusal of the key (usage, KCV, hash, decryption, weak key) is audited for `keyId`. */
export async function guard<T>(ctx: HsmContext, fn: () => Promise<T>, keyId: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof HsmError && KEY_REFUSALS.has(e.code)) return await refuseKey(ctx, e, keyId);
    throw e;
  }
}

/** The data of optional block KP (X9.143 6.3.6.7): the KCV algorithm ("00" legacy, "01" CMAC), then the KEK's KCV. */
async function kbpkCheck(
  ctx: HsmContext,
  kek: { key: Uint8Array; algorithm: string },
): Promise<string> {
  return `${kek.algorithm === "A" ? "01" : "00"}${await kcvOf(ctx, kek.key, kek.algorithm)}`;
}
