/**
 * The software HSM's known-answer self-tests, run before the LMK is loaded
 * (FIPS 140-3 pre-operational self-tests): a core that gives a wrong answer
 * does not start an HSM.
 *
 * @module
 */
import type { CryptoCore } from "../core/mod.ts";
import { fromHex, toHex } from "../crypto/mod.ts";
import { HsmError } from "./errors.ts";

/** A known answer: what a primitive of the core must give for a fixed input. */
export interface KnownAnswer {
  readonly name: string;
  readonly run: (core: CryptoCore) => Uint8Array;
  readonly expected: string;
}

const h = (x: string) => fromHex(x);

/**
 * The known answers: TDES (SP 800-67 appendix B example), SHA-1 and SHA-256
 * of "abc" (FIPS 180-4 examples), and the RSA modular exponentiation (the
 * textbook key n = 3233, e = 17, d = 2753).
 */
export const SELF_TESTS: readonly KnownAnswer[] = [
  {
    name: "TDES-ECB encrypt",
    run: (c) =>
      c.tdesEncryptEcb(
        h("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123"),
        h("5468652071756663"),
      ),
    expected: "A826FD8CE53B855F",
  },
  {
    name: "TDES-ECB decrypt",
    run: (c) =>
      c.tdesDecryptEcb(
        h("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123"),
        h("A826FD8CE53B855F"),
      ),
    expected: "5468652071756663",
  },
  {
    name: "SHA-1",
    run: (c) => c.sha1(new TextEncoder().encode("abc")),
    expected: "A9993E364706816ABA3E25717850C26C9CD0D89D",
  },
  {
    name: "SHA-256",
    run: (c) => c.sha256(new TextEncoder().encode("abc")),
    expected: "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
  },
  { name: "RSA public", run: (c) => c.modPow(h("0041"), h("11"), h("0CA1")), expected: "0AE6" },
  { name: "RSA private", run: (c) => c.modPow(h("0AE6"), h("0AC1"), h("0CA1")), expected: "0041" },
];

/**
 * Runs {@link SELF_TESTS} on a core.
 *
 * @param core the crypto core.
 * @throws {HsmError} `self_test` naming the first test that failed.
 */
export function runSelfTests(core: CryptoCore): void {
  for (const t of SELF_TESTS) {
    let got: string;
    try {
      got = toHex(t.run(core));
    } catch (e) {
      throw new HsmError(
        "self_test",
        `self-test ${t.name} threw on the ${core.name} core: ${(e as Error).message}`,
      );
    }
    if (got !== t.expected) {
      throw new HsmError(
        "self_test",
        `self-test ${t.name} failed on the ${core.name} core: the HSM does not start`,
      );
    }
  }
}
