/**
 * Bulk key generation under KEKs in the software HSM (flow A S15, bulk TMK
 * issuance: CN103714639A): `generateKeyUnderKek` for each item of a batch,
 * in order, stopping at the first refusal, with a fast path on the wasm core.
 *
 * The fast path (`src/core/tmk_issuance.ts`, kernel `asm/issue.ts`) makes
 * one core call per terminal and is used only where it gives what the
 * general path gives: an AES LMK (TK blocks and TMK blocks version D), a
 * TR-31 export, a 16-byte TDES TMK, and TK blocks whose header text (the
 * characters before the encrypted payload, length field included) is that
 * of a block the general path has already accepted in this batch. Every
 * check of the general path is made: the state machine's (per item), the
 * header's against the TK's role and the mode (a pure function of the header
 * text, so the accepted block's verdict holds for the same text), the
 * template's (per batch), and in the kernel the block's MAC, its key length
 * and the TK hash. The B and D headers are those of the general path's own
 * result for the first item. Any item the fast path does not take, or the
 * kernel refuses, goes through the general path, which refuses (and audits)
 * it exactly as it always does.
 *
 * @module
 */
import { beginTmkIssuance, type TmkIssuanceBatch } from "../core/tmk_issuance.ts";
import { zeroize } from "../crypto/mod.ts";
import { parseHeader, type PreparedKbpk } from "../keyblock/mod.ts";
import { checkFormat, checkTdesTemplate } from "./_args.ts";
import { enter, type HsmContext } from "./_machine.ts";
import { generateKeyUnderKek } from "./_symmetric.ts";
import type { KekItem, KeyUnderKek, PoolBatchResult } from "./pool.ts";
import type { KeyTemplate } from "./policy.ts";
import type { WrapFormat } from "./types.ts";

/** Hex digits of a version D block's body around a 16-byte TDES key: 32-byte payload, 16-byte MAC. */
const D_BODY = 96;
/** The same for version B: 32-byte payload, 8-byte MAC. */
const B_BODY = 80;

interface Fast {
  kbpk: PreparedKbpk;
  batch: TmkIssuanceBatch;
  /** The accepted TK header text, and the length of the blocks that carry it. */
  tkHeader: string;
  tkLength: number;
  bHeader: string;
  dHeader: string;
}

/** CBC-MAC (zero IV) of an ASCII header of whole AES blocks under `kbak`. */
function headerState(ctx: HsmContext, kbak: Uint8Array, header: string): Uint8Array {
  const bytes = new Uint8Array(header.length);
  for (let i = 0; i < header.length; i++) bytes[i] = header.charCodeAt(i);
  const c = ctx.core.aesEncryptCbc(kbak, new Uint8Array(16), bytes);
  const state = c.slice(c.length - 16);
  zeroize(c);
  return state;
}

/**
 * The fast path for the rest of a batch, from the general path's result for
 * one item (its template and format have passed the general path's checks);
 * `undefined` where it does not apply.
 */
async function setUp(
  ctx: HsmContext,
  template: KeyTemplate,
  wrapFormat: WrapFormat | undefined,
  kekBlock: string,
  first: KeyUnderKek,
): Promise<Fast | undefined> {
  const t = checkTdesTemplate("template", template);
  const format = checkFormat(wrapFormat);
  const kbpk = ctx.lmkKbpk;
  if (
    ctx.core.name !== "wasm" || ctx.version !== "D" || kbpk === undefined || format !== "tr31" ||
    t.length !== 16 || first.exported[0] !== "B"
  ) return undefined;
  const tkLength = kekBlock.length;
  const tk = parseHeader(kekBlock, true);
  const d = parseHeader(first.keyBlock, true);
  if (
    tk.header.algorithm !== "T" || tk.headerLength !== tkLength - D_BODY ||
    tk.headerLength % 16 !== 0 || d.headerLength !== first.keyBlock.length - D_BODY ||
    d.headerLength % 16 !== 0 || first.exported.length - B_BODY > 64
  ) return undefined;
  const tkHeader = kekBlock.slice(0, tk.headerLength);
  const dHeader = first.keyBlock.slice(0, d.headerLength);
  const bHeader = first.exported.slice(0, first.exported.length - B_BODY);
  const keys = await kbpk._keys("D", ctx.core);
  if (keys.kbakSubkeys === undefined) return undefined;
  const tkHeaderState = headerState(ctx, keys.kbak, tkHeader);
  const dHeaderState = headerState(ctx, keys.kbak, dHeader);
  try {
    const batch = beginTmkIssuance({
      kbek: keys.kbek,
      kbak: keys.kbak,
      kbakK1: keys.kbakSubkeys[0],
      tkHeaderState,
      dHeaderState,
      bHeader,
    });
    return batch && { kbpk, batch, tkHeader, tkLength, bHeader, dHeader };
  } finally {
    zeroize(tkHeaderState, dHeaderState);
  }
}

/** One item on the fast path, or `undefined` for the general path. */
async function fastOne(ctx: HsmContext, f: Fast, it: KekItem): Promise<KeyUnderKek | undefined> {
  await enter(ctx, "generateKeyUnderKek");
  const block = it.kekBlock;
  const hash = it.expectedKekHash;
  if (
    ctx.lmkKbpk !== f.kbpk || typeof block !== "string" || block.length !== f.tkLength ||
    !block.startsWith(f.tkHeader) || (hash !== undefined && typeof hash !== "string")
  ) return undefined;
  const out = f.batch.issue(block.slice(f.tkHeader.length), hash);
  if (out === undefined) return undefined;
  return { keyBlock: f.dHeader + out.dBody, exported: f.bHeader + out.bBody, kcv: out.kcv };
}

/**
 * Generates a key per item under that item's KEK (`generateKeyUnderKek`),
 * in order, stopping at the first refusal.
 *
 * @param template the keys' template (TMK).
 * @param items the KEKs (TK blocks under the LMK) and their expected hashes.
 * @param format the export's format ("tr31" default).
 * @returns every key, or the first refusal's index and error (audited as by `generateKeyUnderKek`).
 */
export async function generateKeysUnderKek(
  ctx: HsmContext,
  template: KeyTemplate,
  items: readonly KekItem[],
  format: WrapFormat | undefined,
): Promise<PoolBatchResult> {
  const keys: KeyUnderKek[] = [];
  let fast: Fast | undefined;
  let tried = false;
  try {
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      let key: KeyUnderKek | undefined;
      let general = false;
      try {
        // The state machine's refusal (in either path) is this item's refusal, audited once.
        key = fast && await fastOne(ctx, fast, it);
        if (key === undefined) {
          general = true;
          key = await generateKeyUnderKek(ctx, template, it.kekBlock, {
            format,
            expectedKekHash: it.expectedKekHash,
          });
        }
      } catch (error) {
        return { ok: false, index: i, error: error as Error };
      }
      if (general && !tried) {
        tried = true;
        fast = await setUp(ctx, template, format, it.kekBlock, key).catch(() => undefined);
      }
      keys.push({ keyBlock: key.keyBlock, exported: key.exported, kcv: key.kcv });
    }
    return { ok: true, keys };
  } finally {
    fast?.batch.end();
  }
}
