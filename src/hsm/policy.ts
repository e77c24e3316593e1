/**
 * Key attributes and the HSM's allow-list. Every key the HSM holds outside
 * itself is a TR-31 / ANSI X9.143 key block whose header fixes the key's
 * usage (X9.143 table 2), algorithm (table 3), mode of use (table 4) and
 * exportability (table 6) at creation; every operation checks the header of
 * each key it is given against the rule for that key's role below, and
 * refuses anything not listed (PCI PIN: a key is used only for its purpose).
 *
 * @module
 */
import { HsmError } from "./errors.ts";

/** The attributes of a key the HSM makes: the TR-31 header fields that matter. */
export interface KeyTemplate {
  /** TR-31 key usage, e.g. "K0" (key encryption), "M3" (ISO 9797-1 MAC algorithm 3). */
  readonly keyUsage: string;
  /** "T" (TDES) or "R" (RSA): what this HSM generates. */
  readonly algorithm: "T" | "R";
  /** TR-31 mode of use, e.g. "B" (both), "E" (encrypt/wrap only), "C" (MAC generate and verify). */
  readonly modeOfUse: string;
  /** "E" exportable (X9.24 forms: key block, RSA-OAEP), "S" also in other forms (ECB), "N" never. */
  readonly exportability: "E" | "N" | "S";
  /** TDES key length: 16 (double length, default) or 24 (triple length). Ignored for RSA. */
  readonly length?: 16 | 24;
  /** TR-31 key version, 2 characters (default "00"). */
  readonly keyVersion?: string;
}

/**
 * The keys of the two flows and their fixed attributes.
 *
 * - `TMK`: terminal master key, a KEK for the terminal's working keys;
 *   exportable only in X9.24 forms (under TK as a TR-31 block, flow A; under
 *   Pu_tek with RSA-OAEP, flow B).
 * - `TK`: flow A transport key as KMS keeps it: wraps the TMK, nothing else,
 *   never exported again.
 * - `PK`: protect key between MTMS and KMS (24 bytes, docs/ARCHITECTURE.md), wraps TK
 *   at MTMS and unwraps it at KMS.
 * - `MAK`: MAC key between MTMS and KMS (ISO 9797-1 algorithm 3 takes two
 *   DES keys K, K': 16 bytes).
 * - `AUK`: flow B authentication key: TDES encryption of challenges only.
 * - `RSA_TRANSPORT`: an HSM RSA private key that unwraps keys sent under its
 *   public key (the MTMS transport key, flow B `Pr_hsm`).
 * - `RSA_CA`: a CA's RSA signing key (e.g. the KMS CA that certifies `Pu_hsm`).
 * - `RSA_KDH`: the TR-34 key distribution host's signing key (ASC X9 TR 34-2019):
 *   it signs the key tokens the KMS sends.
 * - `CHALLENGE`: the KMS's key for the tags of its flow A nonces (ISO 9797-1
 *   MAC algorithm 3), made once by the HSM and shared by every KMS instance
 *   on one database as a key block under the LMK.
 */
export const KEY_TEMPLATES = {
  TMK: { keyUsage: "K0", algorithm: "T", modeOfUse: "B", exportability: "E", length: 16 },
  TK: { keyUsage: "K0", algorithm: "T", modeOfUse: "E", exportability: "N", length: 16 },
  PK: { keyUsage: "K0", algorithm: "T", modeOfUse: "B", exportability: "N", length: 24 },
  MAK: { keyUsage: "M3", algorithm: "T", modeOfUse: "C", exportability: "N", length: 16 },
  AUK: { keyUsage: "D0", algorithm: "T", modeOfUse: "B", exportability: "N", length: 16 },
  RSA_TRANSPORT: { keyUsage: "K3", algorithm: "R", modeOfUse: "D", exportability: "N" },
  RSA_CA: { keyUsage: "S1", algorithm: "R", modeOfUse: "S", exportability: "N" },
  RSA_KDH: { keyUsage: "S0", algorithm: "R", modeOfUse: "S", exportability: "N" },
  CHALLENGE: { keyUsage: "M3", algorithm: "T", modeOfUse: "C", exportability: "N", length: 16 },
} as const satisfies Record<string, KeyTemplate>;

/** Key usages this HSM generates or imports, by algorithm. */
export const GENERATED_USAGES: Readonly<Record<"T" | "R", readonly string[]>> = {
  T: ["K0", "K1", "M3", "D0"],
  R: ["K3", "S0", "S1"],
};

/** What a key in one role of one operation must have; `null` means any. */
export interface RoleRule {
  /** Named in errors, e.g. "the KEK". */
  readonly role: string;
  readonly usages: readonly string[] | null;
  readonly algorithms: readonly string[];
  readonly modes: readonly string[] | null;
  readonly exportability: readonly string[] | null;
}

/**
 * A rule: the role's name, then the key usages, algorithms, modes of use and
 * exportability values it allows (`null`: any).
 */
function rule(
  role: string,
  usages: readonly string[] | null,
  algorithms: readonly string[],
  modes: readonly string[] | null,
  exportability: readonly string[] | null = null,
): RoleRule {
  return { role, usages, algorithms, modes, exportability };
}

/**
 * The allow-list: each role a key can play in an HSM operation, as
 * `rule(role, usages, algorithms, modes, exportability)`. Anything else is refused.
 */
export const RULES = {
  /** A KEK that wraps (exports) a key. */
  kekWrap: rule("the KEK", ["K0", "K1"], ["T", "A"], ["B", "E"]),
  /** A KEK that unwraps (imports) a key. */
  kekUnwrap: rule("the KEK", ["K0", "K1"], ["T", "A"], ["B", "D"]),
  /** A key exported in an X9.24 form: a TR-31 block under a KEK, or RSA-OAEP. */
  exportTrusted: rule("the exported key", null, ["T", "A"], null, ["E", "S"]),
  /** A key exported as plain TDES-ECB ciphertext (not an X9.24 form): sensitive keys only. */
  exportEcb: rule("the exported key", null, ["T"], null, ["S"]),
  macGenerate: rule("the MAC key", ["M3"], ["T"], ["C", "G"]),
  macVerify: rule("the MAC key", ["M3"], ["T"], ["C", "V"]),
  encrypt: rule("the data key", ["D0"], ["T"], ["B", "E"]),
  decrypt: rule("the data key", ["D0"], ["T"], ["B", "D"]),
  /** An RSA private key that decrypts a key sent under its public key. */
  rsaUnwrap: rule("the RSA private key", ["K3"], ["R"], ["B", "D"]),
  /** An RSA private key that signs (PKCS#1 v1.5 SHA-256). */
  sign: rule("the signing key", ["S0", "S1"], ["R"], ["S", "T"]),
  /**
   * A key from which the HSM derives a MAC key (SP 800-108 CMAC KDF) to
   * verify a device's proof of possession: the TDES KEKs of flow A (TK and
   * TMK, usage K0) and flow B's AUK (D0, not exportable), from which each
   * session's MAC key is derived. TR-31 derives its KBEK and KBAK from a KEK
   * the same way; no other usage (MAK, RSA keys) may serve as a base key.
   */
  deriveMacVerify: rule("the base key", ["K0", "D0"], ["T"], ["B", "E"]),
  /**
   * A key shared by two servers (PK, MAK: never exportable) whose successor
   * is handed from one to the other under a key exchange key derived from
   * it (`exportSuccessorKey`, `importSuccessorKey`).
   */
  successorBase: rule("the current key", ["K0", "M3"], ["T"], ["B", "C"], ["N"]),
  /** A symmetric key whose KCV or hash is asked for. */
  checkValue: rule("the key", null, ["T", "A"], null),
} as const satisfies Record<string, RoleRule>;

/** The header fields {@link checkRule} looks at. */
export interface KeyAttributes {
  readonly keyUsage: string;
  readonly algorithm: string;
  readonly modeOfUse: string;
  readonly exportability: string;
}

/**
 * Checks a key's attributes against a rule.
 *
 * @param operation the HSM operation, for the message.
 * @param rule the role's rule.
 * @param a the key's header.
 * @throws {HsmError} `key_usage` naming the operation, the role, the field, what was found and what is allowed.
 */
export function checkRule(operation: string, rule: RoleRule, a: KeyAttributes): void {
  const fail = (field: string, got: string, allowed: readonly string[]) => {
    throw new HsmError(
      "key_usage",
      `${operation}: ${rule.role} must have ${field} ${allowed.join(" or ")}, got ${got}`,
    );
  };
  if (rule.usages && !rule.usages.includes(a.keyUsage)) fail("key usage", a.keyUsage, rule.usages);
  if (!rule.algorithms.includes(a.algorithm)) fail("algorithm", a.algorithm, rule.algorithms);
  if (rule.modes && !rule.modes.includes(a.modeOfUse)) fail("mode of use", a.modeOfUse, rule.modes);
  if (rule.exportability && !rule.exportability.includes(a.exportability)) {
    fail("exportability", a.exportability, rule.exportability);
  }
}

const MODES = ["B", "C", "D", "E", "G", "N", "S", "T", "V", "X", "Y"];

/**
 * Checks a template for a key the HSM will create.
 *
 * @param name the argument's name, for messages.
 * @param t the template.
 * @returns the template with defaults filled in.
 * @throws {TypeError} for a non-object.
 * @throws {RangeError} naming the field that is not allowed.
 */
export function checkTemplate(name: string, t: unknown): Required<KeyTemplate> {
  if (t === null || typeof t !== "object") {
    throw new TypeError(
      `${name} must be a key template object, got ${t === null ? "null" : typeof t}`,
    );
  }
  const k = t as Record<string, unknown>;
  if (k.algorithm !== "T" && k.algorithm !== "R") {
    throw new RangeError(
      `${name}.algorithm must be "T" (TDES) or "R" (RSA), got ${JSON.stringify(k.algorithm)}`,
    );
  }
  const usages = GENERATED_USAGES[k.algorithm];
  if (typeof k.keyUsage !== "string" || !usages.includes(k.keyUsage)) {
    throw new RangeError(
      `${name}.keyUsage must be ${usages.join(", ")} for algorithm ${k.algorithm}, got ${
        JSON.stringify(k.keyUsage)
      }`,
    );
  }
  if (typeof k.modeOfUse !== "string" || !MODES.includes(k.modeOfUse)) {
    throw new RangeError(
      `${name}.modeOfUse must be one of ${MODES.join(", ")}, got ${JSON.stringify(k.modeOfUse)}`,
    );
  }
  if (k.exportability !== "E" && k.exportability !== "N" && k.exportability !== "S") {
    throw new RangeError(
      `${name}.exportability must be "E", "N" or "S", got ${JSON.stringify(k.exportability)}`,
    );
  }
  const length = k.length ?? 16;
  if (k.algorithm === "T" && length !== 16 && length !== 24) {
    throw new RangeError(`${name}.length must be 16 or 24 (TDES), got ${JSON.stringify(k.length)}`);
  }
  const keyVersion = k.keyVersion ?? "00";
  if (typeof keyVersion !== "string" || !/^[0-9A-Za-z]{2}$/.test(keyVersion)) {
    throw new RangeError(
      `${name}.keyVersion must be 2 alphanumeric characters, got ${JSON.stringify(keyVersion)}`,
    );
  }
  return {
    keyUsage: k.keyUsage,
    algorithm: k.algorithm,
    modeOfUse: k.modeOfUse,
    exportability: k.exportability,
    length: length as 16 | 24,
    keyVersion,
  };
}
