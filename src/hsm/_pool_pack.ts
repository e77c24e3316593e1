/**
 * How a batch of the HSM pool (`pool.ts`) and its keys cross between the
 * caller's thread and a worker: the items' KEK blocks and hashes, and the
 * generated keys' blocks and KCVs, each as one text of all the strings
 * joined and their lengths, rather than an object per item with a string
 * per field. A structured clone copies one long text at once where it would
 * walk hundreds of objects and strings, on both sides; the receiving side
 * cuts the text back into the same strings.
 *
 * @module
 */
import type { KekItem, KeyUnderKek } from "./pool.ts";

/** Strings joined, with each one's length in order. */
export interface Packed {
  text: string;
  lengths: Uint32Array<ArrayBuffer>;
}

/** The length that stands for an item without an expected hash. */
const NO_HASH = 0xffffffff;

/**
 * A batch's items, packed (the fields the HSM reads: the KEK block and the
 * expected hash); `undefined` when one is not a KEK block string with a
 * string or absent hash (such a batch crosses as it is, for the worker's
 * HSM to refuse that item with its own error).
 *
 * @param items the KEK blocks and expected hashes.
 * @returns the items packed, or undefined.
 */
export function packItems(items: readonly KekItem[]): Packed | undefined {
  const parts: string[] = new Array(items.length * 2);
  const lengths = new Uint32Array(items.length * 2);
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const block = it?.kekBlock;
    const hash = it?.expectedKekHash;
    if (typeof block !== "string" || (hash !== undefined && typeof hash !== "string")) {
      return undefined;
    }
    parts[2 * i] = block;
    parts[2 * i + 1] = hash ?? "";
    lengths[2 * i] = block.length;
    lengths[2 * i + 1] = hash === undefined ? NO_HASH : hash.length;
  }
  return { text: parts.join(""), lengths };
}

/**
 * The items of {@link packItems}, as they were.
 *
 * @param p the packed items.
 * @returns each item's KEK block and, where it had one, its expected hash.
 */
export function unpackItems(p: Packed): KekItem[] {
  const out: KekItem[] = new Array(p.lengths.length / 2);
  let at = 0;
  for (let i = 0; i < out.length; i++) {
    const bl = p.lengths[2 * i];
    const hl = p.lengths[2 * i + 1];
    const kekBlock = p.text.slice(at, at + bl);
    at += bl;
    if (hl === NO_HASH) {
      out[i] = { kekBlock };
    } else {
      out[i] = { kekBlock, expectedKekHash: p.text.slice(at, at + hl) };
      at += hl;
    }
  }
  return out;
}

/**
 * Generated keys, packed.
 *
 * @param keys each key's block under the LMK, its export and its KCV.
 * @returns the keys packed.
 */
export function packKeys(keys: readonly KeyUnderKek[]): Packed {
  const parts: string[] = new Array(keys.length * 3);
  const lengths = new Uint32Array(keys.length * 3);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    parts[3 * i] = k.keyBlock;
    parts[3 * i + 1] = k.exported;
    parts[3 * i + 2] = k.kcv;
    lengths[3 * i] = k.keyBlock.length;
    lengths[3 * i + 1] = k.exported.length;
    lengths[3 * i + 2] = k.kcv.length;
  }
  return { text: parts.join(""), lengths };
}

/**
 * The keys of {@link packKeys}, as they were.
 *
 * @param p the packed keys.
 * @returns the keys in order.
 */
export function unpackKeys(p: Packed): KeyUnderKek[] {
  const out: KeyUnderKek[] = new Array(p.lengths.length / 3);
  const t = p.text;
  let at = 0;
  for (let i = 0; i < out.length; i++) {
    const start = at;
    const a = start + p.lengths[3 * i];
    const b = a + p.lengths[3 * i + 1];
    at = b + p.lengths[3 * i + 2];
    out[i] = { keyBlock: t.slice(start, a), exported: t.slice(a, b), kcv: t.slice(b, at) };
  }
  return out;
}
