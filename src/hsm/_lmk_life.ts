/**
 * The LMK's lifecycle in the software HSM: loaded once from two or more
 * custodians' components in the secure state (PCI PIN requirement 5: dual
 * control, each component checked against its KCV), held with its prepared
 * key block keys, and zeroed when the HSM ends.
 *
 * @module
 */
import { zeroize } from "../crypto/mod.ts";
import { prepareKbpk } from "../keyblock/mod.ts";
import { describe } from "./_args.ts";
import { enter, type HsmContext, refuse } from "./_machine.ts";
import { HsmError } from "./errors.ts";
import { combineComponents, type LmkComponent, testLmkSource } from "./lmk.ts";
import { TEST_KEY_BLOCK_ID, testMarker } from "./state.ts";

/** Combines and checks the components; throws the refusal (not yet audited). */
async function combine(
  ctx: HsmContext,
  components: readonly LmkComponent[],
  options: { lmkKcv?: string },
): Promise<{ key: Uint8Array; kcv: string }> {
  if (ctx.lmk !== undefined) {
    throw new HsmError(
      "lmk_present",
      `loadLmk: an LMK (KCV ${ctx.lmkKcv}) is already loaded; a new LMK needs a new HSM`,
    );
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be an object { lmkKcv? }, got ${describe(options)}`);
  }
  if (ctx.mode === "production" && options.lmkKcv === undefined) {
    throw new HsmError(
      "combined_kcv",
      "loadLmk: production mode needs the LMK's KCV from the key ceremony record (lmkKcv)",
    );
  }
  const combined = await combineComponents(components, ctx.lmkAlgorithm, ctx.core, {
    expectedKcv: options.lmkKcv,
    requireCustodians: true,
  });
  if (ctx.mode === "production") {
    const source = testLmkSource(combined.key, ctx.lmkAlgorithm);
    if (source !== undefined) {
      zeroize(combined.key);
      throw new HsmError(
        "test_lmk",
        `loadLmk: the combined LMK (KCV ${combined.kcv}) is a published test key (${source}); ` +
          "production mode refuses it",
      );
    }
  }
  return combined;
}

/**
 * Loads the LMK (secure state only). A refusal keeps nothing and writes one
 * audit record (`lmk_load_failed`, or `operation_refused` for the state); a
 * success one (`lmk_loaded`, with the KCV and the custodians).
 *
 * @throws {TypeError} for a wrong argument type; {@link RangeError} for hex that is not hex.
 * @throws {HsmError} `wrong_state`, `lmk_present`, `components`, `custodian`, `component_kcv`,
 *   `weak_key`, `combined_kcv`, `test_lmk`.
 */
export async function loadLmk(
  ctx: HsmContext,
  components: readonly LmkComponent[],
  options: { lmkKcv?: string },
): Promise<void> {
  await enter(ctx, "loadLmk");
  let combined: { key: Uint8Array; kcv: string };
  try {
    combined = await combine(ctx, components, options);
  } catch (e) {
    return await refuse(ctx.audit, "lmk_load_failed", "LMK", e);
  }
  ctx.lmkKbpk = await prepareKbpk(combined.key, { core: ctx.core });
  ctx.lmk = combined.key;
  ctx.lmkKcv = combined.kcv;
  if (ctx.mode === "test") {
    ctx.marker = { id: TEST_KEY_BLOCK_ID, data: testMarker(combined.kcv) };
  }
  const names = components.map((c) => c.custodian as string).join(", ");
  await ctx.audit?.({
    event: "lmk_loaded",
    outcome: "success",
    keyId: "LMK",
    kcv: combined.kcv,
    detail: `${
      ctx.lmkAlgorithm === "aes" ? "AES-256" : "TDES"
    } LMK from ${components.length} components (custodians ${
      names.length > 300 ? `${names.slice(0, 300)}...` : names
    }; ${ctx.mode} mode)`,
  });
}

/** Zeroes the LMK and its prepared key block keys; the HSM is offline with no LMK. */
export async function destroyLmk(ctx: HsmContext): Promise<void> {
  const lmk = ctx.lmk;
  const kbpk = ctx.lmkKbpk;
  ctx.lmk = undefined;
  ctx.lmkKbpk = undefined;
  ctx.lmkKcv = undefined;
  ctx.marker = undefined;
  ctx.state = "offline";
  zeroize(lmk);
  await kbpk?.destroy();
}
