/**
 * Starting a server's HSM: the LMK from two or more key components (each
 * `KEY:KCV` in hex, as custodians enter them), HSM security events into the
 * store's audit log, and HSM refusals mapped to protocol errors.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import {
  type Hsm,
  HsmError,
  type LmkComponent,
  SoftwareHsm,
  type TestKeyObserver,
} from "../../src/hsm/mod.ts";
import { IntegrityError, ValidationError } from "../../src/protocol/mod.ts";
import type { Store } from "../../src/store/mod.ts";

/**
 * Parses key components given as `KEY:KCV` (hex).
 *
 * @param list the components.
 * @param name what they form, for messages (`--lmk-component`).
 * @returns the components.
 * @throws {ValidationError} `invalid_component` naming the position, never the value.
 */
export function parseComponents(list: string[], name: string): LmkComponent[] {
  if (list.length < 2) {
    throw new ValidationError(
      "invalid_component",
      `${name}: two or more components are needed (dual control), got ${list.length}`,
    );
  }
  return list.map((c, i) => {
    const m = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{6,32})$/.exec(c.trim());
    if (!m) {
      throw new ValidationError(
        "invalid_component",
        `${name} ${i + 1}: expected KEY:KCV in hex (${c.length} characters given)`,
      );
    }
    return { key: m[1], kcv: m[2] };
  });
}

/**
 * Opens the software HSM with its LMK; its security events go to the audit log.
 *
 * @param o LMK components (`KEY:KCV`), core, store, the actor name for the audit log, and (tests
 *   only, see `SoftwareHsmOptions.testKeyObserver`) a key observer.
 * @returns the HSM.
 * @throws {ValidationError} for malformed components; {@link HsmError} for components that fail their KCVs.
 */
export async function openHsm(o: {
  lmkComponents: string[];
  core: CryptoCore;
  store: Store;
  actor: string;
  testKeyObserver?: TestKeyObserver;
}): Promise<Hsm> {
  const components = parseComponents(o.lmkComponents, "LMK component");
  return await SoftwareHsm.create({
    components,
    core: o.core,
    testKeyObserver: o.testKeyObserver,
    audit: async (e) => {
      await o.store.appendAudit({
        at: new Date(),
        actor: `${o.actor} hsm`,
        event: e.event,
        outcome: e.outcome,
        keyId: e.keyId,
        kcv: e.kcv,
        detail: e.detail,
      });
    },
  });
}

/**
 * Runs an HSM operation; its refusals become {@link IntegrityError}s with
 * the protocol's codes (`tk_hash_mismatch`, `kcv_mismatch`, `decrypt_failed`, `key_usage`).
 *
 * @param what the operation, for the message.
 * @param fn the operation.
 * @returns its result.
 */
export async function hsmCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof HsmError) {
      const code = e.code === "hash_mismatch"
        ? "tk_hash_mismatch"
        : e.code === "kcv_mismatch"
        ? "kcv_mismatch"
        : e.code === "key_block" || e.code === "decrypt_failed"
        ? "decrypt_failed"
        : e.code;
      throw new IntegrityError(code, `${what}: ${e.message}`);
    }
    throw e;
  }
}
