/**
 * Where a terminal's TMK is on its way to the PIN pad, read from the same
 * columns the store's conditional updates test (`tmk_block`, `tmk_sent_at`,
 * `delivered_at`): the one answer flow A and flow B both use.
 *
 * @module
 */
import type { Terminal } from "./types.ts";

/**
 * A terminal's TMK: `none` before issuance, `issued` (kept under the LMK),
 * `sent` (downloaded, S16 / S6), `delivered` (acknowledged with its KCV,
 * S17 / S7; final).
 */
export type TmkDelivery = "none" | "issued" | "sent" | "delivered";

/**
 * The delivery state of a terminal's TMK.
 *
 * @param t the terminal (only its TMK block and send / delivery times are read).
 * @returns `delivered` once acknowledged, else `sent` once downloaded, else
 *   `issued` once a TMK exists, else `none`.
 */
export function tmkDelivery(
  t: Pick<Terminal, "tmkBlock" | "tmkSentAt" | "deliveredAt">,
): TmkDelivery {
  if (t.deliveredAt !== null) return "delivered";
  if (t.tmkSentAt !== null) return "sent";
  return t.tmkBlock !== null ? "issued" : "none";
}
