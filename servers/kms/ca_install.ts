/**
 * The KMS CA in force (CN103714641A S1: it certifies each terminal's
 * Pu_hsm), kept in the store so that every KMS instance on one database
 * uses the same one, and replaced there without a restart.
 *
 * A CA is installed only after checks: its certificate is a CA certificate
 * (basicConstraints cA, keyCertSign) valid now, and its private key block is
 * a signing key under this KMS's LMK whose signature verifies under the
 * certificate's key ({@link checkKmsCa}). Installing it is the dual-control
 * route `POST /v1/kms-ca` (`ca_routes.ts`); the start flags `--kms-ca-cert`
 * and `--kms-ca-key-block` install it only while no operator is enrolled
 * (the operator gate's bootstrap rule), and otherwise must name the CA in
 * force ({@link InstalledKmsCa.adoptAtStart}).
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { timingSafeEqual, toHex } from "../../src/crypto/mod.ts";
import type { Hsm } from "../../src/hsm/mod.ts";
import { type CertificateInfo, parseCertificate } from "../../src/pki/mod.ts";
import { ConflictError, ValidationError } from "../../src/protocol/mod.ts";
import { type KmsCaRecord, type Store, StoreError } from "../../src/store/mod.ts";
import { publicKeyFingerprint } from "../_lib/hsm.ts";
import { checkKmsCa, type KmsCa } from "./kms_ca.ts";

/** The installed KMS CA as the API shows it (never its key block). */
export interface KmsCaView {
  version: number;
  subject: string;
  issuer: string;
  serialNumber: string;
  /** SHA-256 of the public key's SubjectPublicKeyInfo, leftmost 8 bytes. */
  keyFingerprint: string;
  /** SHA-256 of the certificate (DER). */
  certificateSha256: string;
  notBefore: string;
  notAfter: string;
  installedAt: string;
  requestedBy: string;
  approvedBy: string | null;
  certificate: string;
}

/** Who installs a CA: the operator who asked and the one who approved (null: bootstrap). */
export interface Installers {
  requestedBy: string;
  approvedBy: string | null;
}

/** The id the bootstrap install from the start flags is recorded under (the gate's `admin`). */
const BOOTSTRAP = "admin";

const sha256 = async (der: Uint8Array) =>
  toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", der as Uint8Array<ArrayBuffer>)));

/**
 * The view of a stored CA.
 *
 * @param r the stored CA.
 * @returns subject, issuer, serial, fingerprints, validity, installers and the certificate.
 */
export async function kmsCaView(r: KmsCaRecord): Promise<KmsCaView> {
  const c = parseCertificate(r.certificate);
  return {
    version: r.version,
    subject: c.subjectText,
    issuer: c.issuerText,
    serialNumber: c.serialNumber,
    keyFingerprint: r.keyFingerprint,
    certificateSha256: await sha256(c.der),
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    installedAt: r.installedAt,
    requestedBy: r.requestedBy,
    approvedBy: r.approvedBy,
    certificate: r.certificate,
  };
}

/** Options of {@link InstalledKmsCa}. */
export interface InstalledKmsCaOptions {
  store: Store;
  /** An HSM holding this KMS's LMK: it checks each CA's key block before use. */
  hsm: Hsm;
  core: CryptoCore;
  now?: () => Date;
}

/** The KMS CA of the store: installed under checks, read (and checked) before each use. */
export class InstalledKmsCa {
  readonly #o: InstalledKmsCaOptions;
  readonly #now: () => Date;
  /** The last version checked on this instance's HSM. */
  #checked: { version: number; ca: KmsCa } | null = null;

  /** @param o the store, the HSM, the core, the clock. */
  constructor(o: InstalledKmsCaOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => new Date());
  }

  /** The stored CA in force, or null. */
  record(): Promise<KmsCaRecord | null> {
    return this.#o.store.currentKmsCa();
  }

  /**
   * The CA in force, for certifying: read from the store each time (another
   * instance may have replaced it), its key block checked on this HSM once
   * per version.
   *
   * @throws {ConflictError} `kms_ca_not_installed`; {@link ValidationError} `invalid_kms_ca`
   *   if the stored block is not the CA's key under this LMK (another LMK's database).
   */
  async current(): Promise<KmsCa> {
    const r = await this.#o.store.currentKmsCa();
    if (!r) {
      throw new ConflictError(
        "kms_ca_not_installed",
        "no KMS CA is installed: a custodian installs one with deno task op kms-ca install, " +
          "approved by a second custodian or a supervisor",
      );
    }
    const held = this.#checked;
    if (held?.version === r.version) return held.ca;
    const ca = { certificate: r.certificate, privateKeyBlock: r.keyBlock };
    await checkKmsCa(this.#o.hsm, ca, this.#o.core);
    this.#checked = { version: r.version, ca };
    return ca;
  }

  /**
   * Checks a CA before it is stored: a CA certificate valid now, its key
   * block the certificate's key under this LMK.
   *
   * @returns the key's fingerprint.
   * @throws {ValidationError} `invalid_kms_ca` naming what is wrong.
   */
  async check(ca: KmsCa): Promise<string> {
    let c: CertificateInfo;
    try {
      c = parseCertificate(ca.certificate);
    } catch (e) {
      throw new ValidationError(
        "invalid_kms_ca",
        `the KMS CA certificate is not a parsable X.509 certificate (${(e as Error).message})`,
      );
    }
    const refuse = (why: string) => {
      throw new ValidationError("invalid_kms_ca", `the KMS CA certificate ${c.subjectText} ${why}`);
    };
    if (!c.ca) refuse("is not a CA certificate (basicConstraints cA is not set)");
    if (c.keyUsage && !c.keyUsage.includes("keyCertSign")) refuse("may not sign certificates");
    const now = this.#now();
    if (now < c.notBefore) refuse(`is not valid before ${c.notBefore.toISOString()}`);
    if (now > c.notAfter) refuse(`expired at ${c.notAfter.toISOString()}`);
    await checkKmsCa(this.#o.hsm, ca, this.#o.core);
    return publicKeyFingerprint(c.publicKey, this.#o.core);
  }

  /**
   * Installs a CA as the next version: checked, stored, audited
   * (`kms_ca_installed` with the key's fingerprint and both operators). A
   * refusal is audited too (`kms_ca_refused`) and stores nothing.
   *
   * @param ca the certificate and the key block under the LMK.
   * @param who the operator who asked and the one who approved.
   * @returns the stored CA.
   * @throws {ValidationError} `invalid_kms_ca`; {@link ConflictError} `kms_ca_installed_already`
   *   (that certificate is in force), `kms_ca_changed` (another install came first).
   */
  async install(ca: KmsCa, who: Installers): Promise<KmsCaRecord> {
    try {
      const fingerprint = await this.check(ca);
      const current = await this.#o.store.currentKmsCa();
      if (current && sameCertificate(current.certificate, ca.certificate)) {
        throw new ConflictError(
          "kms_ca_installed_already",
          `that certificate is the KMS CA in force (version ${current.version}, key ${current.keyFingerprint})`,
        );
      }
      // The CA and its record are written in one transaction.
      return await this.#o.store.transaction(async (tx) => {
        const r = await this.#store(tx, ca, fingerprint, who, current?.version ?? 0);
        const detail = await describe(r, current);
        await this.#audit("kms_ca_installed", "success", who, r.keyFingerprint, detail, tx);
        return r;
      });
    } catch (e) {
      if (e instanceof ValidationError || e instanceof ConflictError) {
        await this.#audit("kms_ca_refused", "failure", who, undefined, `${e.code}: ${e.message}`);
      }
      throw e;
    }
  }

  async #store(tx: Store, ca: KmsCa, fingerprint: string, who: Installers, replaces: number) {
    try {
      return await tx.installKmsCa({
        certificate: ca.certificate,
        keyBlock: ca.privateKeyBlock,
        keyFingerprint: fingerprint,
        installedAt: this.#now(),
        requestedBy: who.requestedBy,
        approvedBy: who.approvedBy,
        replaces,
      });
    } catch (e) {
      if (e instanceof StoreError && e.code === "conflict") {
        throw new ConflictError("kms_ca_changed", `${e.message}; look again and ask anew`);
      }
      throw e;
    }
  }

  /**
   * The start flags' CA (`--kms-ca-cert`, `--kms-ca-key-block`): checked on
   * the HSM, then
   * - the CA in force already: nothing to do;
   * - none in force and no operator enrolled: installed (version 1,
   *   requested by `admin`, no approver: the gate's bootstrap rule);
   * - none in force but operators enrolled: refused, it needs dual control;
   * - another CA in force: refused, naming both.
   *
   * @param ca the flags' CA.
   * @param operatorsEnrolled whether any operator is enrolled.
   * @throws {ValidationError} `invalid_kms_ca`, `kms_ca_needs_dual_control`, `kms_ca_differs`.
   */
  async adoptAtStart(ca: KmsCa, operatorsEnrolled: boolean): Promise<void> {
    const fingerprint = await this.check(ca);
    const subject = parseCertificate(ca.certificate).subjectText;
    for (let attempt = 0;; attempt++) {
      const current = await this.#o.store.currentKmsCa();
      if (current) {
        if (sameCertificate(current.certificate, ca.certificate)) return;
        const v = await kmsCaView(current);
        throw new ValidationError(
          "kms_ca_differs",
          `--kms-ca-cert is ${subject} (key ${fingerprint}), but the KMS CA in force in the ` +
            `database is version ${v.version}, ${v.subject} (key ${v.keyFingerprint}), installed ` +
            `${v.installedAt} by ${v.requestedBy}${v.approvedBy ? ` and ${v.approvedBy}` : ""}: ` +
            "start without --kms-ca-cert and --kms-ca-key-block to use it, or replace it with " +
            "deno task op kms-ca install (dual control)",
        );
      }
      if (operatorsEnrolled) {
        throw new ValidationError(
          "kms_ca_needs_dual_control",
          "operators are enrolled in this database, so a KMS CA is installed only under dual " +
            "control: start without --kms-ca-cert and --kms-ca-key-block, then deno task op " +
            "kms-ca install (a custodian) and deno task op approve (a second custodian or a " +
            "supervisor)",
        );
      }
      const who = { requestedBy: BOOTSTRAP, approvedBy: null };
      try {
        await this.#o.store.transaction(async (tx) => {
          const r = await this.#store(tx, ca, fingerprint, who, 0);
          await this.#audit(
            "kms_ca_installed",
            "success",
            who,
            fingerprint,
            `${await describe(r, null)}; from the start flags while no operator is enrolled ` +
              "(dual control waived)",
            tx,
          );
        });
        return;
      } catch (e) {
        // Another instance installed one meanwhile: look again (it may be this very CA).
        if (!(e instanceof ConflictError) || attempt > 0) throw e;
      }
    }
  }

  async #audit(
    event: string,
    outcome: "success" | "failure",
    who: Installers,
    kcv: string | undefined,
    detail: string,
    store: Store = this.#o.store,
  ): Promise<void> {
    await store.appendAudit({
      at: this.#now(),
      actor: "kms",
      event,
      keyId: "KMS CA",
      kcv,
      outcome,
      operator: who.requestedBy,
      detail: `${detail}; requested by ${who.requestedBy}, approved by ${
        who.approvedBy ?? "nobody (bootstrap)"
      }`.slice(0, 500),
    });
  }
}

/** Whether two PEM certificates are the same certificate (the same DER bytes). */
function sameCertificate(a: string, b: string): boolean {
  return timingSafeEqual(parseCertificate(a).der, parseCertificate(b).der);
}

async function describe(r: KmsCaRecord, replaced: KmsCaRecord | null): Promise<string> {
  const v = await kmsCaView(r);
  return `version ${v.version}: ${v.subject}, serial ${v.serialNumber}, certificate SHA-256 ` +
    `${v.certificateSha256}, valid ${v.notBefore} to ${v.notAfter}` +
    (replaced ? `; replaces version ${replaced.version} (key ${replaced.keyFingerprint})` : "");
}
