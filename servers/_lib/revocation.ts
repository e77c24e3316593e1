/**
 * Revocation at the servers: the CRLs in force, read from a PEM file and
 * reloaded without a restart (RFC 5280 section 5), and an operator-card
 * signature check that also refuses a revoked or unknown-status card.
 *
 * @module
 */
import {
  CertificateError,
  type CertificatePurpose,
  CrlSet,
  verifyChain,
} from "../../src/pki/mod.ts";
import { AuthenticationError } from "../../src/protocol/errors.ts";
import type { Logger } from "./log.ts";

/** The current CRLs of a server, read from a PEM file and replaced on {@link CrlFile.reload}. */
export interface CrlFile {
  /** The CRLs in force (for `ClientCheckOptions.crls` and `verifyChain`'s `crls`). */
  current(): CrlSet;
  /**
   * Reads the file again and puts its CRLs in force. A file that does not
   * parse, or whose CRL of an issuer is older (lower cRLNumber) than the one
   * in force, leaves the CRLs in force unchanged and throws.
   */
  reload(): Promise<void>;
}

/** Splits a PEM file into its `X509 CRL` blocks. */
function crlBlocks(path: string, text: string): string[] {
  const blocks = text.match(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g) ?? [];
  if (blocks.length === 0) throw new TypeError(`${path} holds no PEM CRL (X509 CRL)`);
  return blocks;
}

/**
 * Loads the CRLs of a PEM file (one or more `X509 CRL` blocks, e.g. one per CA).
 *
 * @param path the file.
 * @returns the CRLs in force and their reload.
 * @throws {Deno.errors.NotFound} for a missing file; `TypeError` for a file
 *   without CRLs; `CertificateError` naming the CRL that does not parse.
 */
export async function loadCrlFile(path: string): Promise<CrlFile> {
  const read = async () => new CrlSet(crlBlocks(path, await Deno.readTextFile(path)));
  let set = await read();
  return {
    current: () => set,
    async reload() {
      const next = await read();
      for (const old of set.crls) {
        const same = next.crls.filter((c) => c.issuerText === old.issuerText);
        if (same.length > 0 && same.every((c) => c.crlNumber < old.crlNumber)) {
          throw new RangeError(
            `${path}: the CRL of "${old.issuerText}" is older (cRLNumber ${
              same.map((c) => c.crlNumber).join(", ")
            }) than the one in force (${old.crlNumber})`,
          );
        }
      }
      set = next;
    },
  };
}

/** A check of a signature by a certificate holder (the MTMS's operator-card check). */
export interface CertificateSignatureCheck {
  verify(certificatePem: string, data: Uint8Array, signature: string, at: Date): Promise<string>;
}

/**
 * Wraps a signature check so that, once it passes (chain, validity and
 * signature, with its own error codes), the certificate's chain is checked
 * against the CRLs in force: a revoked certificate, or one whose issuer's
 * CRL is missing or stale, is refused.
 *
 * @param check the signature check (chain, validity, signature).
 * @param o the roots, the certificate's purpose, the CRLs in force.
 * @returns the wrapped check; it throws `AuthenticationError`
 *   `certificate_revoked` (listed) or `certificate_status_unknown` (no
 *   usable CRL), or what `check` throws.
 */
export function revocationChecked(
  check: CertificateSignatureCheck,
  o: { roots: string[]; purpose: CertificatePurpose; crls: () => CrlSet },
): CertificateSignatureCheck {
  return {
    async verify(certificatePem, data, signature, at) {
      const subject = await check.verify(certificatePem, data, signature, at);
      try {
        await verifyChain(certificatePem, {
          roots: o.roots,
          purpose: o.purpose,
          at,
          crls: o.crls(),
        });
      } catch (e) {
        if (!(e instanceof CertificateError)) throw e;
        throw new AuthenticationError(
          e.code === "revoked" ? "certificate_revoked" : "certificate_status_unknown",
          e.message,
        );
      }
      return subject;
    },
  };
}

/**
 * Reloads a CRL file on SIGHUP (`kill -HUP <pid>` after the CA publishes a
 * new CRL), logging `crl.reloaded` or `crl.reload_failed` (the CRLs in force
 * stay in force).
 *
 * @param crls the CRL file.
 * @param log where the outcome goes.
 */
export function reloadOnSighup(crls: CrlFile, log: Logger): void {
  Deno.addSignalListener("SIGHUP", () => {
    crls.reload().then(
      () =>
        log.log("info", "crl.reloaded", {
          crls: crls.current().crls.map((c) => `${c.issuerText} #${c.crlNumber}`).join("; "),
        }),
      (e) =>
        log.log("warn", "crl.reload_failed", {
          error: e instanceof Error ? e.message : String(e),
        }),
    );
  });
}
