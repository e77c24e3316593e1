/**
 * The local master key (LMK) from key components: dual control (PCI PIN
 * requirement 5: no one person knows the LMK) by XOR of two or more
 * components, each entered by its custodian with its key check value.
 *
 * LMK type: a 32-byte AES key protecting TR-31 version D key blocks (the
 * default, AES key derivation binding, ANSI X9.143:2021 section 7.2), or a
 * 24-byte TDES key protecting version B blocks (TDES key derivation binding)
 * for installations that keep a TDES LMK. KCVs (ANSI X9.24-1:2017 annex A):
 * AES components and LMK use the CMAC KCV, TDES ones the legacy KCV
 * (TDES-ECB of a zero block); the leftmost 3 to 16 bytes as given.
 *
 * @module
 */
import type { CryptoCore } from "../core/mod.ts";
import { fromHex, kcv, setOddParity, timingSafeEqual, toHex, zeroize } from "../crypto/mod.ts";
import { HsmError } from "./errors.ts";

/** An LMK algorithm. */
export type LmkAlgorithm = "aes" | "tdes";

/** Per LMK algorithm: component length, key block version, KCV method. */
export const LMK_TYPES = {
  aes: { length: 32, version: "D", kcvMethod: "cmac", kcvAlgorithm: "aes" },
  tdes: { length: 24, version: "B", kcvMethod: "legacy", kcvAlgorithm: "tdes" },
} as const;

/** One custodian's component. */
export interface LmkComponent {
  /**
   * Who entered it: the custodian's identity (1 to 64 characters: letters,
   * digits, `.`, `_`, `@`, `-`, starting with a letter or digit). Required for
   * the LMK ({@link combineComponents} with `requireCustodians`); compared
   * without regard to case, so one person cannot enter two components.
   */
  readonly custodian?: string;
  /** The component: hex (either case, as a custodian types it) or bytes. */
  readonly key: string | Uint8Array;
  /** Its KCV, hex, 3 to 16 bytes. */
  readonly kcv: string;
}

/** What a custodian identity must look like. */
export const CUSTODIAN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * Published keys that must never be a production LMK: anyone can read them.
 * Each is a key printed in a standard or a public test suite (the sources of
 * `tests/vectors/tr31_keyblocks.json` and the SP 800-67 example the
 * self-tests use), of an LMK length (AES-256: 32 bytes, TDES: 24 bytes). A
 * production HSM refuses an LMK equal to one of them (`test_lmk`); for TDES
 * the comparison ignores the parity bits (DES does).
 */
export const TEST_LMKS: readonly {
  readonly algorithm: LmkAlgorithm;
  readonly key: string;
  readonly source: string;
}[] = [
  {
    algorithm: "aes",
    key: "88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6",
    source: "ASC X9 TR-31:2018 annex A.7.4; ANSI X9.143:2021 sections 8.1 and 8.6 (version D KBPK)",
  },
  {
    algorithm: "aes",
    key: "4141414141414141414141414141414141414141414141414141414141414141",
    source: "Thales payShield 10K generated examples in openemv/tr31 test/tr31_decrypt_test.c",
  },
  {
    algorithm: "aes",
    key: "3235362D62697420414553207772617070696E67202849534F20323030333829",
    source: "ISO 20038:2017 annexes B.2 and B.3 (the KBPK is the ASCII text it prints)",
  },
  {
    algorithm: "aes",
    key: "AFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAFAF",
    source: "knovichikhin/psec issue 8 (maintainer's AES-256 KBPK example)",
  },
  {
    algorithm: "tdes",
    key: "0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123",
    source: "NIST SP 800-67 rev. 2 appendix B example key (also this HSM's TDES self-test key)",
  },
  {
    algorithm: "tdes",
    key: "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCC",
    source: "knovichikhin/psec tests/test_tr31.py test_kb_known_values (3rd-party known values)",
  },
];

/**
 * Whether `lmk` is one of {@link TEST_LMKS} (for TDES, ignoring parity bits).
 *
 * @param lmk the combined LMK (inside the HSM only).
 * @param algorithm its algorithm.
 * @returns the matching entry's source, or undefined.
 */
export function testLmkSource(lmk: Uint8Array, algorithm: LmkAlgorithm): string | undefined {
  const mask = algorithm === "tdes" ? 0xfe : 0xff;
  for (const t of TEST_LMKS) {
    if (t.algorithm !== algorithm) continue;
    const k = fromHex(t.key);
    const a = lmk.map((b) => b & mask), b = k.map((x) => x & mask);
    const same = a.length === b.length && timingSafeEqual(a, b);
    zeroize(a);
    if (same) return t.source;
  }
  return undefined;
}

/**
 * KCV of a key as this HSM reports it: legacy (TDES) or CMAC (AES), `bytes` long, uppercase hex.
 *
 * @param key the clear key (inside the HSM only).
 * @param algorithm "tdes" or "aes".
 * @param bytes KCV length.
 * @param core the crypto core.
 * @returns the KCV in uppercase hex.
 */
export async function keyCheckValue(
  key: Uint8Array,
  algorithm: LmkAlgorithm,
  bytes: number,
  core: CryptoCore,
): Promise<string> {
  const t = LMK_TYPES[algorithm];
  return toHex(
    await kcv(key, { method: t.kcvMethod, algorithm: t.kcvAlgorithm, length: bytes, core }),
  );
}

function parseKcv(name: string, v: unknown, max: number): string {
  if (typeof v !== "string") throw new TypeError(`${name} must be a hex string, got ${typeof v}`);
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(v) || v.length < 6 || v.length > 2 * max) {
    throw new RangeError(`${name} must be 3 to ${max} bytes of hex, got ${JSON.stringify(v)}`);
  }
  return v.toUpperCase();
}

function parseComponent(name: string, v: unknown, length: number): Uint8Array {
  let bytes: Uint8Array;
  if (typeof v === "string") {
    if (!/^(?:[0-9A-Fa-f]{2})*$/.test(v)) {
      throw new RangeError(`${name} must be hex (the component is not shown)`);
    }
    bytes = fromHex(v.toUpperCase());
  } else if (v instanceof Uint8Array) {
    bytes = v.slice();
  } else {
    throw new TypeError(
      `${name} must be a hex string or a Uint8Array, got ${v === null ? "null" : typeof v}`,
    );
  }
  if (bytes.length !== length) {
    zeroize(bytes);
    throw new HsmError("components", `${name} must be ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** Options of {@link combineComponents}. */
export interface CombineOptions {
  /** The combined key's KCV, if the custodians have it. */
  expectedKcv?: string;
  /** Key length in bytes (default: the LMK length of the algorithm: AES 32, TDES 24). */
  length?: number;
  /** What is being formed, for messages (default "LMK"). */
  what?: string;
  /**
   * Each component must name its custodian, all different (dual control: the
   * LMK's components). Without it a custodian, if given, is still checked and
   * must not repeat.
   */
  requireCustodians?: boolean;
}

function parseCustodian(
  name: string,
  v: unknown,
  required: boolean,
  seen: Map<string, number>,
  index: number,
): string | undefined {
  if (v === undefined && !required) return undefined;
  if (v === undefined || v === null || v === "") {
    throw new HsmError(
      "custodian",
      `${name} has no custodian: each component names who entered it`,
    );
  }
  if (typeof v !== "string" || !CUSTODIAN_PATTERN.test(v)) {
    throw new HsmError(
      "custodian",
      `${name}: the custodian must be 1 to 64 letters, digits, ".", "_", "@" or "-", got ${
        typeof v === "string" ? JSON.stringify(v.slice(0, 70)) : typeof v
      }`,
    );
  }
  const id = v.toLowerCase();
  const first = seen.get(id);
  if (first !== undefined) {
    throw new HsmError(
      "custodian",
      `${name}: custodian ${JSON.stringify(v)} already entered component ${first + 1}: ` +
        "each component needs its own custodian (dual control)",
    );
  }
  seen.set(id, index);
  return v;
}

/**
 * Combines key components (the LMK's, or a PK's or MAK's): checks each against its KCV, XORs them, sets
 * odd parity for TDES, checks the result is not degenerate and, if given,
 * matches `expectedKcv`.
 *
 * @param components two or more components with their KCVs.
 * @param algorithm the LMK type.
 * @param core the crypto core.
 * @param options expected KCV, key length, name for messages.
 * @returns the key (the caller owns and zeroizes it) and its KCV (as long as `expectedKcv`, else 3 bytes for TDES, 5 for AES).
 * @throws {TypeError} for a wrong argument type.
 * @throws {RangeError} for a KCV or component that is not hex.
 * @throws {HsmError} `components` (count, length), `custodian` (missing, malformed or repeated),
 *   `component_kcv` (missing or wrong, naming the component), `weak_key`, `combined_kcv`; nothing is kept.
 */
export async function combineComponents(
  components: readonly LmkComponent[],
  algorithm: LmkAlgorithm,
  core: CryptoCore,
  options: CombineOptions = {},
): Promise<{ key: Uint8Array; kcv: string }> {
  const what = options.what ?? "LMK";
  const expectedKcv = options.expectedKcv;
  if (!Array.isArray(components)) {
    throw new TypeError(`components must be an array of { key, kcv }, got ${typeof components}`);
  }
  if (components.length < 2) {
    throw new HsmError(
      "components",
      `the ${what} needs two or more components (dual control), got ${components.length}`,
    );
  }
  const t = LMK_TYPES[algorithm];
  const length = options.length ?? t.length;
  const maxKcv = algorithm === "aes" ? 16 : 8;
  const expected = expectedKcv === undefined
    ? undefined
    : parseKcv("expected KCV", expectedKcv, maxKcv);
  const parts: Uint8Array[] = [];
  const custodians = new Map<string, number>();
  const lmk = new Uint8Array(length);
  try {
    for (let i = 0; i < components.length; i++) {
      const c = components[i] as unknown;
      const name = `${what} component ${i + 1} of ${components.length}`;
      if (c === null || typeof c !== "object") {
        throw new TypeError(
          `${name} must be an object { key, kcv }, got ${c === null ? "null" : typeof c}`,
        );
      }
      parseCustodian(
        name,
        (c as LmkComponent).custodian,
        options.requireCustodians === true,
        custodians,
        i,
      );
      const rawKcv = (c as LmkComponent).kcv;
      if (rawKcv === undefined || rawKcv === null || rawKcv === "") {
        throw new HsmError(
          "component_kcv",
          `${name} has no KCV: each component comes with its KCV`,
        );
      }
      const given = parseKcv(`${name}: kcv`, rawKcv, maxKcv);
      const bytes = parseComponent(`${name}: key`, (c as LmkComponent).key, length);
      parts.push(bytes);
      if (bytes.every((b) => b === 0)) {
        throw new HsmError("weak_key", `${name} is all zeros`);
      }
      const computed = await keyCheckValue(bytes, algorithm, given.length / 2, core);
      if (!timingSafeEqual(fromHex(computed), fromHex(given))) {
        throw new HsmError(
          "component_kcv",
          `${name} does not match its KCV ${given}: re-enter that component`,
        );
      }
      for (let j = 0; j < i; j++) {
        if (timingSafeEqual(parts[j], bytes)) {
          throw new HsmError(
            "weak_key",
            `components ${j + 1} and ${i + 1} are identical: each custodian needs their own`,
          );
        }
      }
      for (let k = 0; k < lmk.length; k++) lmk[k] ^= bytes[k];
    }
    if (algorithm === "tdes") lmk.set(setOddParity(lmk));
    checkNotDegenerate(`the combined ${what}`, lmk, algorithm);
    const kcvLength = expected ? expected.length / 2 : algorithm === "aes" ? 5 : 3;
    const lmkKcv = await keyCheckValue(lmk, algorithm, kcvLength, core);
    if (expected && !timingSafeEqual(fromHex(lmkKcv), fromHex(expected))) {
      throw new HsmError(
        "combined_kcv",
        `the combined ${what} does not match the expected KCV ${expected}: a component is wrong`,
      );
    }
    return { key: lmk, kcv: lmkKcv };
  } catch (e) {
    zeroize(lmk);
    throw e;
  } finally {
    zeroize(...parts);
  }
}

/**
 * Refuses an all-zero key, and a TDES key whose 8-byte parts repeat (it
 * would be single DES).
 *
 * @throws {HsmError} `weak_key`.
 */
export function checkNotDegenerate(name: string, key: Uint8Array, algorithm: LmkAlgorithm): void {
  // Whole-key loops with no early exit and no copies of the key's bytes.
  let any = 0;
  for (let i = 0; i < key.length; i++) any |= key[i];
  if (any === 0) throw new HsmError("weak_key", `${name} is all zeros`);
  if (algorithm === "tdes") {
    // Parts compared without their parity bits.
    let d12 = 0, d23 = 0;
    for (let i = 0; i < 8; i++) d12 |= (key[i] ^ key[8 + i]) & 0xfe;
    if (key.length === 24) { for (let i = 0; i < 8; i++) d23 |= (key[8 + i] ^ key[16 + i]) & 0xfe; }
    if (d12 === 0 || (key.length === 24 && d23 === 0)) {
      throw new HsmError("weak_key", `${name} has equal DES halves (it would be single DES)`);
    }
  }
}
