/**
 * The checked front's KMS CA versions: the part of {@link ./checked.ts}
 * that installs a KMS CA (a compare-and-set on the version in force) and
 * reads the one in force. Each method checks its arguments, runs its
 * statements on the backend and maps the rows.
 *
 * @module
 */
import { AuditFront } from "./_audit_front.ts";
import {
  checkDate,
  checkHex,
  checkId,
  checkInt,
  checkKeyBlock,
  checkObject,
  checkText,
} from "./_check.ts";
import { iso, toKmsCa } from "./_rows.ts";
import type { KmsCaBook } from "./api.ts";
import { StoreError } from "./errors.ts";
import type { KmsCaInput, KmsCaRecord } from "./kms_ca_types.ts";

const CERTIFICATE =
  /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/;

/** A KMS CA to store. */
function checkKmsCaInput(c: KmsCaInput): void {
  checkObject("ca", c);
  checkText("ca.certificate", c.certificate, 16384);
  if (!CERTIFICATE.test(c.certificate)) {
    throw new RangeError("ca.certificate must be one PEM block labelled CERTIFICATE");
  }
  checkKeyBlock("ca.keyBlock", c.keyBlock);
  checkHex("ca.keyFingerprint", c.keyFingerprint, 16, 16);
  checkDate("ca.installedAt", c.installedAt);
  checkId("ca.requestedBy", c.requestedBy);
  if (c.approvedBy !== null) checkId("ca.approvedBy", c.approvedBy);
  if (c.approvedBy === c.requestedBy) {
    throw new RangeError("ca.approvedBy must be another operator than ca.requestedBy");
  }
  checkInt("ca.replaces", c.replaces, 0, Number.MAX_SAFE_INTEGER);
}

/** The store's KMS CA versions over a backend. */
export abstract class KmsCaFront extends AuditFront implements KmsCaBook {
  currentKmsCa(): Promise<KmsCaRecord | null> {
    return this.backend.one("kms ca", async (x) => {
      const r = await x.get("SELECT * FROM kms_ca ORDER BY version DESC LIMIT 1");
      return r ? toKmsCa(r) : null;
    });
  }

  installKmsCa(c: KmsCaInput): Promise<KmsCaRecord> {
    checkKmsCaInput(c);
    return this.backend.atomic("kms ca", async (x) => {
      // Two instances installing at once: the second waits, then sees the first's version.
      await this.backend.lockKey(x, "kms_ca");
      const head = await x.get("SELECT coalesce(max(version), 0) AS v FROM kms_ca");
      const current = Number(head!.v);
      if (current !== c.replaces) {
        throw new StoreError(
          "conflict",
          `the KMS CA in force is version ${current}, not ${c.replaces}: installed meanwhile`,
        );
      }
      const r = await x.get(
        `INSERT INTO kms_ca (version, certificate, key_block, key_fingerprint, installed_at,
           requested_by, approved_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        current + 1,
        c.certificate,
        c.keyBlock,
        c.keyFingerprint,
        iso(c.installedAt),
        c.requestedBy,
        c.approvedBy,
      );
      return toKmsCa(r!);
    });
  }
}
