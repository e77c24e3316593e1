/**
 * Starting a server's HSM: the LMK from two or more key components (each
 * `CUSTODIAN:KEY:KCV`, as custodians enter them), brought to the authorized
 * state step by step (each step audited), HSM security events into the
 * store's audit log, and HSM refusals mapped to protocol errors.
 *
 * @module
 */
import type { CryptoCore, RsaPublicKey } from "../../src/core/mod.ts";
import { exportSpkiDer, toHex } from "../../src/crypto/mod.ts";
import {
  type Hsm,
  HsmError,
  type HsmMode,
  KEY_TEMPLATES,
  type LmkComponent,
  SoftwareHsm,
} from "../../src/hsm/mod.ts";
import { IntegrityError, ValidationError } from "../../src/protocol/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { ServerKeyRing } from "./key_rotation.ts";

/**
 * Parses key components given as `CUSTODIAN:KEY:KCV` (KEY and KCV in hex;
 * the custodian as `CUSTODIAN_PATTERN` in the HSM says), or `KEY:KCV` where
 * `custodians` is not required (PK and MAK components).
 *
 * @param list the components.
 * @param name what they form, for messages (`LMK component`).
 * @param options `custodians`: each component must name its custodian (the LMK's).
 * @returns the components.
 * @throws {ValidationError} `invalid_component` naming the position, never the value.
 */
export function parseComponents(
  list: string[],
  name: string,
  options: { custodians?: boolean } = {},
): LmkComponent[] {
  if (list.length < 2) {
    throw new ValidationError(
      "invalid_component",
      `${name}: two or more components are needed (dual control), got ${list.length}`,
    );
  }
  return list.map((c, i) => {
    const m = /^(?:([A-Za-z0-9][A-Za-z0-9._@-]{0,63}):)?([0-9A-Fa-f]+):([0-9A-Fa-f]{6,32})$/.exec(
      c.trim(),
    );
    if (!m || (options.custodians && m[1] === undefined)) {
      throw new ValidationError(
        "invalid_component",
        `${name} ${i + 1}: expected ${
          options.custodians ? "CUSTODIAN:KEY:KCV" : "[CUSTODIAN:]KEY:KCV"
        } (custodian, then hex; ${c.length} characters given)`,
      );
    }
    return m[1] === undefined
      ? { key: m[2], kcv: m[3] }
      : { custodian: m[1], key: m[2], kcv: m[3] };
  });
}

/** What a server's HSM is opened with. */
export interface HsmStart {
  /** LMK components, `CUSTODIAN:KEY:KCV`, two or more from distinct custodians. */
  lmkComponents: string[];
  /** The LMK's KCV from the key ceremony record (required in production mode). */
  lmkKcv?: string;
  /** "production" (refuses test LMKs, test keys, unknown options) or "test". */
  mode: HsmMode;
  core: CryptoCore;
  store: Store;
  /** The server's name in the audit log (`kms`, `mtms`). */
  actor: string;
}

/**
 * Opens a server's HSM, authorized, its security events in the store's audit
 * log. The servers take one (default {@link openHsm}, the software HSM); a
 * driver of another HSM is another.
 */
export type HsmFactory = (start: HsmStart) => Promise<Hsm>;

/**
 * Opens the software HSM and brings it to the authorized state, each step
 * explicit and audited: created offline (self-tests), secure, LMK loaded
 * from the custodians' components, authorized. The default {@link HsmFactory}.
 *
 * @param o LMK components (`CUSTODIAN:KEY:KCV`), LMK KCV, mode, core, store, the actor name.
 * @returns the HSM, authorized.
 * @throws {ValidationError} for malformed components; {@link HsmError} for components that fail
 *   their checks (one `lmk_load_failed` audit record).
 */
export async function openHsm(o: HsmStart): Promise<SoftwareHsm> {
  const components = parseComponents(o.lmkComponents, "LMK component", { custodians: true });
  const hsm = await SoftwareHsm.create({
    mode: o.mode,
    core: o.core,
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
  const by = `${o.actor} start (custodians ${components.map((c) => c.custodian).join(", ")})`;
  await hsm.setState("secure", by);
  await hsm.loadLmk(components, { lmkKcv: o.lmkKcv });
  await hsm.setState("authorized", by);
  return hsm;
}

/** What the MTMS and the KMS open their HSM and their shared keys with. */
export interface ServerKeysStart {
  /** LMK components, `CUSTODIAN:KEY:KCV`. */
  lmkComponents: string[];
  /** The LMK's KCV from the key ceremony record (required in production mode). */
  lmkKcv?: string;
  hsmMode: HsmMode;
  /** PK components (`[CUSTODIAN:]KEY:KCV`): the protect key between MTMS and KMS. */
  pkComponents: string[];
  /** MAK components (`[CUSTODIAN:]KEY:KCV`): the batch MAC key between MTMS and KMS. */
  makComponents: string[];
  core: CryptoCore;
  store: Store;
  /** Opens the HSM; default {@link openHsm}, the software HSM. */
  hsmFactory?: HsmFactory;
}

/**
 * Opens a server's HSM (authorized) and forms in it the keys the MTMS and
 * the KMS share: PK and MAK, each from its components, then moved forward
 * to the newest version stored after them (`key_rotation.ts`).
 *
 * @param o the components, mode, core, store and HSM factory.
 * @param actor the server's name in the audit log (`kms`, `mtms`).
 * @returns the HSM and the versions of PK and MAK under its LMK.
 * @throws {ValidationError} for malformed components, `key_version_unknown` for components
 *   that match no stored version; as the factory.
 */
export async function openServerKeys(
  o: ServerKeysStart,
  actor: string,
): Promise<{ hsm: Hsm; pk: ServerKeyRing; mak: ServerKeyRing }> {
  const hsm = await (o.hsmFactory ?? openHsm)({
    lmkComponents: o.lmkComponents,
    lmkKcv: o.lmkKcv,
    mode: o.hsmMode,
    core: o.core,
    store: o.store,
    actor,
  });
  const pk = await hsm.importKeyFromComponents(
    parseComponents(o.pkComponents, "PK component"),
    KEY_TEMPLATES.PK,
  );
  const mak = await hsm.importKeyFromComponents(
    parseComponents(o.makComponents, "MAK component"),
    KEY_TEMPLATES.MAK,
  );
  return {
    hsm,
    pk: await ServerKeyRing.open({ name: "PK", formed: pk, hsm, store: o.store }),
    mak: await ServerKeyRing.open({ name: "MAK", formed: mak, hsm, store: o.store }),
  };
}

/**
 * The KCV-equivalent of an RSA key for the audit log: SHA-256 of its public
 * key's SubjectPublicKeyInfo DER, the leftmost 8 bytes in uppercase hex
 * (public data: it names the key, reveals nothing of the private key).
 *
 * @param publicKey the key's public half.
 * @param core the crypto core.
 * @returns 16 uppercase hex digits.
 */
export function publicKeyFingerprint(publicKey: RsaPublicKey, core: CryptoCore): string {
  return toHex(core.sha256(exportSpkiDer(publicKey)).subarray(0, 8));
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
    throw hsmRefusal(what, e);
  }
}

/**
 * HSM error codes that describe the HSM itself (its state, its LMK, its
 * self-tests, its mode), not the request: the server answers them as 503
 * `hsm_unavailable` (servers/_lib/errors.ts), never as the client's fault.
 */
export const HSM_CONDITIONS: ReadonlySet<string> = new Set([
  "wrong_state",
  "no_lmk",
  "lmk_present",
  "self_test",
  "test_only",
]);

/**
 * An HSM refusal as {@link hsmCall} maps it (an {@link IntegrityError} with the
 * protocol's code); an error of {@link HSM_CONDITIONS} and any other error unchanged.
 *
 * @param what the operation, for the message.
 * @param e the error.
 * @returns the error to throw.
 */
export function hsmRefusal(what: string, e: unknown): unknown {
  if (e instanceof HsmError && !HSM_CONDITIONS.has(e.code)) {
    const code = e.code === "hash_mismatch"
      ? "tk_hash_mismatch"
      : e.code === "kcv_mismatch"
      ? "kcv_mismatch"
      : e.code === "key_block" || e.code === "decrypt_failed"
      ? "decrypt_failed"
      : e.code;
    return new IntegrityError(code, `${what}: ${e.message}`);
  }
  return e;
}
