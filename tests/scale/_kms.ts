/**
 * Helpers for the scale-out tests: real KMS server processes (from
 * `demo/kms_process.ts`), the key components they share, and TK batches as the MTMS would send them
 * (TKs under PK as TR-31 blocks, retail MAC under MAK), made here from the
 * shared components, as the MTMS's HSM and the PIN pads would.
 *
 * @module
 */
import { loadCore } from "../../src/core/mod.ts";
import { createHash } from "node:crypto";
import { fromHex, kcv, randomBytes, retailMac, setOddParity, toHex } from "../../src/crypto/mod.ts";
import { KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { type KeyBlockHeader, unwrapKeyBlock, wrapKeyBlock } from "../../src/keyblock/mod.ts";
import {
  type BatchEntry,
  batchMacInput,
  batchMacLine,
  batchMacPrefix,
  type TkBatchRequest,
} from "../../src/protocol/mod.ts";
import { componentKey } from "../../demo/setup.ts";

import type { KmsKeys } from "../../demo/kms_process.ts";

export { type KmsKeys, KmsProcess, makeKeys } from "../../demo/kms_process.ts";

/** A TK batch for KMS and what the test keeps to check the result. */
export interface Batch {
  request: TkBatchRequest;
  /** TK KCV per SN (what KMS must store). */
  tkKcv: Map<string, string>;
  /** Each terminal's clear TK, as its PIN pad holds it: opens the TMK sent under TK. */
  tk: Map<string, Uint8Array>;
}

function xor(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts[0].length);
  for (const p of parts) for (let i = 0; i < out.length; i++) out[i] ^= p[i];
  return out;
}

/**
 * Makes an order's batch as the MTMS sends it (S13-S14): per terminal a
 * fresh TK (odd parity) wrapped under PK as a TR-31 version B block with the
 * TK template's attributes, its KCV and SHA-256, and the retail MAC under
 * MAK over the canonical bytes. PK and MAK are formed from the components.
 *
 * @param keys the shared components (PK, MAK).
 * @param orderId the order.
 * @param n terminals.
 * @returns the request and the expected values.
 */
export async function makeBatch(keys: KmsKeys, orderId: string, n: number): Promise<Batch> {
  const core = await loadCore("wasm");
  const pk = xor(keys.pk.map((c) => fromHex(componentKey(c))));
  const mak = xor(keys.mak.map((c) => fromHex(componentKey(c))));
  const t = KEY_TEMPLATES.TK;
  const tks: BatchEntry[] = [];
  const tkKcv = new Map<string, string>();
  const tkMap = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const sn = `${orderId.replace(/[^A-Z0-9]/g, "")}${String(i).padStart(6, "0")}`;
    const tk = setOddParity(randomBytes(16));
    const tkBlock = await wrapKeyBlock(
      pk,
      {
        version: "B",
        keyUsage: t.keyUsage,
        algorithm: t.algorithm,
        modeOfUse: t.modeOfUse,
        keyVersion: "00",
        exportability: t.exportability,
        keyContext: "2",
      } as KeyBlockHeader,
      tk,
      { core },
    );
    const k = toHex(await kcv(tk, { method: "legacy", length: 3, core })).toUpperCase();
    const hash = createHash("sha256").update(tk).digest("hex").toUpperCase();
    tks.push({ sn, tkBlock, tkKcv: k, tkHash: hash });
    tkKcv.set(sn, k);
    tkMap.set(sn, tk);
  }
  const mac = toHex(
    await retailMac(mak, batchMacInput({ orderId, tks }), { padding: 2, core }),
  ).toUpperCase();
  return { request: { orderId, tks, mac }, tkKcv, tk: tkMap };
}

/**
 * The MAC line of a streamed batch as the MTMS makes it: retail MAC under
 * MAK (formed from the components) over SHA-256 of the canonical bytes,
 * hashed here with node:crypto from the same fields.
 *
 * @param keys the shared components (MAK).
 * @param orderId the order.
 * @param tks the TKs in the order they are sent.
 * @returns the MAC, uppercase hex.
 */
export async function streamMac(
  keys: KmsKeys,
  orderId: string,
  tks: readonly BatchEntry[],
): Promise<string> {
  const core = await loadCore("wasm");
  const mak = xor(keys.mak.map((c) => fromHex(componentKey(c))));
  const h = createHash("sha256").update(batchMacPrefix(orderId));
  for (const t of tks) h.update(batchMacLine(t));
  return toHex(await retailMac(mak, new Uint8Array(h.digest()), { padding: 2, core }))
    .toUpperCase();
}

/**
 * A streamed batch's body (`application/x-ndjson`): header, a line per TK, MAC line.
 *
 * @param orderId the order.
 * @param tks the TKs.
 * @param mac the MAC line's value ({@link streamMac}).
 * @param count the header's count (default the number of TKs).
 * @returns the lines, each ended by `\n`.
 */
export function streamLines(
  orderId: string,
  tks: readonly BatchEntry[],
  mac: string,
  count = tks.length,
): string[] {
  return [
    `${JSON.stringify({ orderId, tks: count })}\n`,
    ...tks.map((t) => `${JSON.stringify(t)}\n`),
    `${JSON.stringify({ mac })}\n`,
  ];
}

/**
 * Opens a TMK sent under TK (S16-S17 on the PIN pad) and returns its KCV.
 *
 * @param tk the terminal's clear TK.
 * @param tmkBlock the TR-31 block KMS sent.
 * @returns the TMK's KCV (3 bytes, uppercase hex).
 */
export async function openTmk(tk: Uint8Array, tmkBlock: string): Promise<string> {
  const core = await loadCore("wasm");
  const { key } = await unwrapKeyBlock(tk, tmkBlock, { core });
  return toHex(await kcv(key, { method: "legacy", length: 3, core })).toUpperCase();
}

/** Waits until `cond()` holds, polling every 20 ms, up to `ms`. */
export async function waitFor(
  what: string,
  cond: () => Promise<boolean>,
  ms = 60_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
