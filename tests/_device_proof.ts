/**
 * Flow A's device side of S16-S17 for tests that hold the clear keys
 * (`src/protocol/flow_a_proof.ts`): a nonce from the KMS, the download body
 * proving TK, the TMK recovered from the download, and the acknowledgement
 * body proving TMK. Tests that drive a PIN pad use `PosTerminal.downloadTmk`.
 *
 * @module
 */
import type { CryptoCore } from "../src/core/mod.ts";
import { kcv, toHex } from "../src/crypto/mod.ts";
import { unwrapKeyBlock } from "../src/keyblock/mod.ts";
import { proofMac } from "../src/protocol/mod.ts";

/** A decoded JSON body, loosely typed for assertions. */
// deno-lint-ignore no-explicit-any
export type Body = any;

/** A JSON call to the KMS: method, path (or URL) and body; its status and decoded body. */
export type KmsCall = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: Body }>;

/**
 * A fresh nonce for `sn` from `POST .../tmk/challenge`.
 *
 * @param call reaches the KMS.
 * @param base the terminal's path, e.g. `/v1/terminals/SN00000001` (or a full URL).
 */
export async function kmsNonce(call: KmsCall, base: string): Promise<string> {
  const r = await call("POST", `${base}/tmk/challenge`);
  if (r.status !== 200) throw new Error(`challenge ${base}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.nonce;
}

/** The body of a download by the holder of `tk`, over `nonce`. */
export async function downloadBody(
  tk: Uint8Array,
  sn: string,
  nonce: string,
  core: CryptoCore,
): Promise<{ nonce: string; mac: string }> {
  return { nonce, mac: await proofMac(tk, "download", sn, nonce, { core }) };
}

/** The body of an acknowledgement by the holder of `tmk`, over `nonce` (KCV computed unless given). */
export async function ackBody(
  tmk: Uint8Array,
  sn: string,
  nonce: string,
  core: CryptoCore,
  tmkKcv?: string,
): Promise<{ tmkKcv: string; nonce: string; mac: string }> {
  const k = tmkKcv ?? toHex(await kcv(tmk, { core }));
  return { tmkKcv: k, nonce, mac: await proofMac(tmk, "ack", sn, nonce, { tmkKcv: k, core }) };
}

/** The TMK of a download answer, unwrapped with TK. */
export async function tmkOf(
  tk: Uint8Array,
  tmkBlock: string,
  core: CryptoCore,
): Promise<Uint8Array> {
  return (await unwrapKeyBlock(tk, tmkBlock, { core })).key;
}

/**
 * S16-S17 by the holder of `tk`: challenge, download, acknowledgement.
 *
 * @returns both answers.
 */
export async function deliverWithTk(
  call: KmsCall,
  base: string,
  sn: string,
  tk: Uint8Array,
  core: CryptoCore,
): Promise<{ download: { status: number; body: Body }; ack?: { status: number; body: Body } }> {
  const download = await call(
    "POST",
    `${base}/tmk`,
    await downloadBody(tk, sn, await kmsNonce(call, base), core),
  );
  if (download.status !== 200) return { download };
  const tmk = await tmkOf(tk, download.body.tmkBlock, core);
  const ack = await call(
    "POST",
    `${base}/tmk/ack`,
    await ackBody(tmk, sn, download.body.ackNonce, core),
  );
  tmk.fill(0);
  return { download, ack };
}
