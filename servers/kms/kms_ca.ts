/**
 * The KMS CA as the KMS holds it (CN103714641A S1: it certifies each
 * terminal's Pu_hsm): its certificate (PEM) and its private key only as a
 * TR-31 key block under the HSM's LMK (template `RSA_CA`, `S1/R/S/N`), never
 * in clear. Loaded from files at the start and checked on the HSM.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { pkcs1v15Verify } from "../../src/crypto/mod.ts";
import { type Hsm, HsmError } from "../../src/hsm/mod.ts";
import { parseCertificate } from "../../src/pki/mod.ts";
import { ValidationError } from "../../src/protocol/mod.ts";

/** The KMS CA: its key block under the LMK and its certificate. */
export interface KmsCa {
  /** The KMS CA's private key, a key block under the LMK (from `importKmsCaKey`). */
  privateKeyBlock: string;
  /** The KMS CA's certificate (PEM), issued by the root the PIN pads trust. */
  certificate: string;
}

/**
 * Reads the KMS CA from files (`--kms-ca-cert`, `--kms-ca-key-block`): the
 * certificate (PEM) and the key block written by `importKmsCaKey`.
 * {@link checkKmsCa} then checks the block against the certificate on the HSM.
 *
 * @param certificatePath the KMS CA certificate (PEM).
 * @param keyBlockPath its private key as a TR-31 key block under the KMS's LMK.
 * @returns the CA.
 * @throws {ValidationError} `invalid_kms_ca` if either file does not hold what it should.
 */
export async function loadKmsCa(certificatePath: string, keyBlockPath: string): Promise<KmsCa> {
  const certificate = await Deno.readTextFile(certificatePath);
  try {
    parseCertificate(certificate);
  } catch (e) {
    throw new ValidationError(
      "invalid_kms_ca",
      `${certificatePath} is not a PEM certificate (${(e as Error).name})`,
    );
  }
  const privateKeyBlock = (await Deno.readTextFile(keyBlockPath)).trim();
  if (!/^[\x21-\x7e]{16,}$/.test(privateKeyBlock) || privateKeyBlock.startsWith("-")) {
    throw new ValidationError(
      "invalid_kms_ca",
      `${keyBlockPath} is not a TR-31 key block (one line of printable ASCII expected)`,
    );
  }
  return { privateKeyBlock, certificate };
}

/**
 * Checks on the HSM that the CA key block is a signing key under its LMK and
 * is the private key of the CA certificate (a signature made by the HSM
 * verifies under the certificate's public key).
 *
 * @param hsm the KMS's HSM.
 * @param ca the KMS CA.
 * @param core the crypto core (for the verification).
 * @throws {ValidationError} `invalid_kms_ca` naming what is wrong.
 */
export async function checkKmsCa(hsm: Hsm, ca: KmsCa, core: CryptoCore): Promise<void> {
  const probe = new TextEncoder().encode("KMS CA key block check");
  let signature: Uint8Array;
  try {
    signature = await hsm.sign(ca.privateKeyBlock, probe);
  } catch (e) {
    if (e instanceof HsmError) {
      throw new ValidationError(
        "invalid_kms_ca",
        `the KMS CA key block is refused by the HSM (${e.code}): ` +
          "not a signing key block under this LMK",
      );
    }
    throw e;
  }
  const { publicKey } = parseCertificate(ca.certificate);
  if (!(await pkcs1v15Verify(publicKey, probe, signature, { core }))) {
    throw new ValidationError(
      "invalid_kms_ca",
      "the KMS CA key block does not hold the private key of the KMS CA certificate",
    );
  }
}
