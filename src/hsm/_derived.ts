/**
 * The software HSM's MACs under derived keys: a key derived inside the HSM
 * from a key block under the LMK (NIST SP 800-108 counter mode with CMAC,
 * as TR-31 derives its KBEK and KBAK: `kdfCmacCounter` of `src/crypto`)
 * verifies a CMAC (SP 800-38B) over the caller's data. The derived key never
 * leaves the HSM. Flow A's devices prove they hold TK and TMK this way
 * (docs/ARCHITECTURE.md, "Flow A").
 *
 * @module
 */
import { cmacVerify, kdfCmacCounter, zeroize } from "../crypto/mod.ts";
import { checkBytes, checkObject, describe } from "./_args.ts";
import { openBlock } from "./_blocks.ts";
import { enter, type HsmContext } from "./_machine.ts";
import { RULES } from "./policy.ts";
import type { Derivation } from "./types.ts";

/** Largest data one derived-key MAC covers, in bytes. */
const MAX_DATA = 4096;

/**
 * A derivation label: 4 to 64 printable ASCII characters. TR-31's own
 * derivations use 2-byte binary usage indicators (0x0000-0x0002), so no
 * label taken here can give a key block's KBEK or KBAK.
 */
const LABEL = /^[\x20-\x7e]{4,64}$/;

/**
 * Labels of the HSM's own derivations (the key exchange key of a server
 * key's successor, `_successor.ts`) start with this; a caller's label may
 * not, so no caller-chosen derivation gives one of those keys.
 */
export const INTERNAL_LABEL = "HSM ";

/** Checks a derivation and returns its label and context as bytes. */
function checkDerivation(d: unknown): { label: Uint8Array; context: Uint8Array } {
  checkObject("derivation", d, " { label, context }");
  const { label, context } = d as Derivation;
  if (typeof label !== "string" || !LABEL.test(label)) {
    throw new RangeError(
      `derivation.label must be 4-64 printable ASCII characters, got ${
        typeof label === "string" ? `${label.length} characters` : describe(label)
      }`,
    );
  }
  if (label.startsWith(INTERNAL_LABEL)) {
    throw new RangeError(
      `derivation.label may not start with ${JSON.stringify(INTERNAL_LABEL)} (the HSM's own)`,
    );
  }
  checkBytes("derivation.context", context);
  if (context.length > 64) {
    throw new RangeError(`derivation.context must be 0-64 bytes, got ${context.length}`);
  }
  return { label: new TextEncoder().encode(label), context };
}

/**
 * Verifies a CMAC-TDES over `data` under the key derived from a key block
 * (`verifyDerivedMac` of the `Hsm` interface).
 *
 * @param ctx the HSM.
 * @param keyBlock the base key under the LMK; its attributes must pass `RULES.deriveMacVerify`.
 * @param derivation the label and context of the derivation.
 * @param data the data the MAC covers (up to 4096 bytes).
 * @param mac the MAC, 4 to 8 bytes (a CMAC-TDES tag or its leftmost bytes).
 * @returns whether the MAC verifies (compared in constant time).
 * @throws {TypeError} / {RangeError} for bad arguments; {@link HsmError} `key_usage`, `key_block`, `wrong_state`.
 */
export async function verifyDerivedMac(
  ctx: HsmContext,
  keyBlock: string,
  derivation: Derivation,
  data: Uint8Array,
  mac: Uint8Array,
): Promise<boolean> {
  await enter(ctx, "verifyDerivedMac");
  const { label, context } = checkDerivation(derivation);
  checkBytes("data", data);
  if (data.length > MAX_DATA) {
    throw new RangeError(`data must be at most ${MAX_DATA} bytes, got ${data.length}`);
  }
  checkBytes("mac", mac);
  if (mac.length < 4 || mac.length > 8) {
    throw new RangeError(`mac must be 4 to 8 bytes, got ${mac.length}`);
  }
  const base = await openBlock(
    ctx,
    "verifyDerivedMac",
    RULES.deriveMacVerify,
    "keyBlock",
    keyBlock,
  );
  let derived: Uint8Array | undefined;
  try {
    derived = await kdfCmacCounter(base.key, label, context, base.key.length, {
      cipher: "tdes",
      core: ctx.core,
    });
    return await cmacVerify(derived, data, mac, { cipher: "tdes", core: ctx.core });
  } finally {
    zeroize(base.key, derived);
  }
}
