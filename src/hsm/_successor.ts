/**
 * The software HSM's hand-over of a shared key's successor: a key two
 * servers share (PK, MAK; never exportable) is replaced by a new key of the
 * same attributes, which one server's HSM exports to the other's as a TR-31
 * / ANSI X9.143 key block under a key exchange key (KEK) that both derive
 * from the current key (NIST SP 800-108 counter mode with CMAC-TDES,
 * `kdfCmacCounter`, under a label of the HSM's own: {@link INTERNAL_LABEL}).
 * The current key is only a derivation base here, never a KBPK itself; the
 * successor never leaves either HSM in clear.
 *
 * @module
 */
import { kdfCmacCounter, zeroize } from "../crypto/mod.ts";
import { attrs, checkBytes, describe } from "./_args.ts";
import {
  checkImport,
  guard,
  kcvOf,
  openBlock,
  type Opened,
  wrapLmk,
  wrapUnderKek,
} from "./_blocks.ts";
import { INTERNAL_LABEL } from "./_derived.ts";
import { enter, type HsmContext } from "./_machine.ts";
import { HsmError } from "./errors.ts";
import { checkNotDegenerate } from "./lmk.ts";
import { type KeyTemplate, type RoleRule, RULES } from "./policy.ts";
import type { ExportResult, KeyResult } from "./types.ts";

/** The derivation label of the key exchange key (TDES, 24 bytes: TR-31 version B). */
const KEK_LABEL = new TextEncoder().encode(`${INTERNAL_LABEL}successor key exchange`);

/** Checks the context that binds the KEK to one hand-over (e.g. `PK v2`): 1 to 64 bytes. */
function checkContext(context: unknown): Uint8Array {
  checkBytes("context", context);
  if (context.length < 1 || context.length > 64) {
    throw new RangeError(`context must be 1 to 64 bytes, got ${context.length}`);
  }
  return context;
}

/** The rule of a successor: exactly the current key's attributes. */
function sameAs(current: Opened, role: string): RoleRule {
  const h = current.header;
  return {
    role,
    usages: [h.keyUsage],
    algorithms: [h.algorithm],
    modes: [h.modeOfUse],
    exportability: [h.exportability],
  };
}

/** Refuses a successor whose length is not the current key's. */
function checkLength(op: string, current: Opened, next: Uint8Array): void {
  if (next.length !== current.key.length) {
    throw new HsmError(
      "key_usage",
      `${op}: the successor is ${next.length} bytes, the current key ${current.key.length}`,
    );
  }
}

/** The KEK of one hand-over, derived from the current key (the caller zeroes it). */
function deriveKek(ctx: HsmContext, current: Opened, context: Uint8Array): Promise<Uint8Array> {
  return kdfCmacCounter(current.key, KEK_LABEL, context, 24, { cipher: "tdes", core: ctx.core });
}

/**
 * Exports `keyBlock`, the successor of `currentBlock` (same attributes and
 * length), under the KEK derived from `currentBlock` for `context`.
 *
 * @param ctx the HSM.
 * @param keyBlock the successor under the LMK.
 * @param currentBlock the current key under the LMK (policy `successorBase`).
 * @param context what binds the KEK to this hand-over, 1 to 64 bytes (e.g. `PK v2`).
 * @returns the TR-31 block under the KEK and the successor's KCV.
 * @throws {TypeError} / {RangeError} for bad arguments; {@link HsmError} `key_usage`, `key_block`.
 */
export async function exportSuccessorKey(
  ctx: HsmContext,
  keyBlock: string,
  currentBlock: string,
  context: Uint8Array,
): Promise<ExportResult> {
  const op = "exportSuccessorKey";
  await enter(ctx, op);
  const c = checkContext(context);
  const current = await openBlock(ctx, op, RULES.successorBase, "currentBlock", currentBlock);
  let next: Opened | undefined;
  let kek: Uint8Array | undefined;
  try {
    next = await openBlock(ctx, op, sameAs(current, "the successor"), "keyBlock", keyBlock);
    const n = next;
    return await guard(ctx, async () => {
      checkLength(op, current, n.key);
      kek = await deriveKek(ctx, current, c);
      const exported = await wrapUnderKek(
        ctx,
        op,
        n.key,
        n.header,
        { key: kek, algorithm: "T" },
        "tr31",
        false,
      );
      return { exported, kcv: await kcvOf(ctx, n.key, n.header.algorithm) };
    }, `the successor ${attrs(current.header)}`);
  } finally {
    zeroize(current.key, next?.key, kek);
  }
}

/**
 * Imports the successor of `currentBlock` sent by {@link exportSuccessorKey}
 * (same context) into a block under the LMK with the current key's
 * attributes, its KCV checked.
 *
 * @param ctx the HSM.
 * @param wrapped the TR-31 block under the derived KEK.
 * @param currentBlock the current key under the LMK (policy `successorBase`).
 * @param options `context` as the sender used it; `expectedKcv`, the successor's KCV.
 * @returns the successor under the LMK and its KCV.
 * @throws {TypeError} / {RangeError} for bad arguments; {@link HsmError} `key_block` (a block
 *   forged, garbled or under another KEK), `key_usage`, `kcv_mismatch`, `weak_key`.
 */
export async function importSuccessorKey(
  ctx: HsmContext,
  wrapped: string,
  currentBlock: string,
  options: { context: Uint8Array; expectedKcv: string },
): Promise<KeyResult> {
  const op = "importSuccessorKey";
  await enter(ctx, op);
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be { context, expectedKcv }, got ${describe(options)}`);
  }
  const c = checkContext(options.context);
  if (typeof options.expectedKcv !== "string") {
    throw new TypeError(
      `options.expectedKcv must be a hex string, got ${describe(options.expectedKcv)}`,
    );
  }
  const current = await openBlock(ctx, op, RULES.successorBase, "currentBlock", currentBlock);
  let kek: Uint8Array | undefined;
  let next: Opened | undefined;
  try {
    kek = await deriveKek(ctx, current, c);
    const rule = sameAs(current, "the successor");
    next = await openBlock(ctx, op, rule, "wrapped", wrapped, kek, "the key exchange key");
    const n = next;
    return await guard(ctx, async () => {
      checkLength(op, current, n.key);
      checkNotDegenerate("the successor", n.key, "tdes");
      const { kcv } = await checkImport(ctx, n.key, "T", { expectedKcv: options.expectedKcv });
      const h = current.header;
      const t: Required<KeyTemplate> = {
        keyUsage: h.keyUsage,
        algorithm: "T",
        modeOfUse: h.modeOfUse,
        exportability: h.exportability as KeyTemplate["exportability"],
        length: n.key.length as 16 | 24,
        keyVersion: "00",
      };
      return { keyBlock: await wrapLmk(ctx, t, n.key), kcv };
    }, `the successor ${attrs(current.header)}`);
  } finally {
    zeroize(current.key, kek, next?.key);
  }
}
