/**
 * The KMS CA's operator routes: `POST /v1/kms-ca` installs (or replaces) the
 * KMS CA under dual control (a custodian asks, a second custodian or a
 * supervisor approves; `ca_install.ts` checks and stores it), and
 * `GET /v1/kms-ca` shows the CA in force. The body carries the private key
 * only as a TR-31 key block under the KMS's LMK (from `deno task kms
 * --import-ca-key`): a field that is not one is refused before anything is
 * stored or held for approval, and never echoed.
 *
 * @module
 */
import {
  CERTIFICATE,
  integer,
  NotFoundError,
  object,
  type Schema,
  text,
  ValidationError,
} from "../../src/protocol/mod.ts";
import { json, type Route, route } from "../_lib/mod.ts";
import { type InstalledKmsCa, kmsCaView } from "./ca_install.ts";

const TR31 = /^[ABCD][0-9]{4}[\x21-\x7e]{27,9995}$/;

/** The CA's private key as a TR-31 key block; anything else is refused without being shown. */
const CA_KEY_BLOCK: Schema<string> = {
  parse(value, path) {
    if (
      typeof value !== "string" || !TR31.test(value) || Number(value.slice(1, 5)) !== value.length
    ) {
      throw new ValidationError(
        "invalid_field",
        `${path} must be the KMS CA's private key as a TR-31 key block under the KMS's LMK ` +
          "(version A-D, its 4-digit length, printable ASCII), as deno task kms --import-ca-key " +
          "writes it; a private key is never sent in clear",
      );
    }
    return value;
  },
  jsonSchema: {
    type: "string",
    pattern: TR31.source,
    description: "the KMS CA's private key as a TR-31 key block under the KMS's LMK",
  },
};

/** `POST /v1/kms-ca`: a KMS CA to install. */
export const InstallKmsCaRequest = object({
  certificate: CERTIFICATE,
  keyBlock: CA_KEY_BLOCK,
}, "the KMS CA: its certificate and its private key as a key block under the LMK");

const TEXT = text(/^.{1,400}$/, "text");
const HEX = text(/^[0-9A-F]{1,128}$/, "uppercase hex");
const APPROVER: Schema<string | null> = {
  parse: (v, path) => (v === null ? null : TEXT.parse(v, path)),
  jsonSchema: { type: ["string", "null"], description: "the approving operator, or null" },
};

/** The KMS CA in force as the API shows it. */
export const KmsCaViewSchema = object({
  version: integer(1, Number.MAX_SAFE_INTEGER, "1 for the first CA, one more per replacement"),
  subject: TEXT,
  issuer: TEXT,
  serialNumber: HEX,
  keyFingerprint: HEX,
  certificateSha256: HEX,
  notBefore: TEXT,
  notAfter: TEXT,
  installedAt: TEXT,
  requestedBy: TEXT,
  approvedBy: APPROVER,
  certificate: CERTIFICATE,
}, "the KMS CA in force (approvedBy null for the bootstrap install)");

/**
 * The KMS CA routes.
 *
 * @param installed the KMS CA of the store.
 * @returns the route table.
 */
export function kmsCaRoutes(installed: InstalledKmsCa): Route[] {
  return [
    route({
      method: "POST",
      path: "/v1/kms-ca",
      operationId: "installKmsCa",
      summary: "Installs or replaces the KMS CA that certifies Pu_hsm keys (flow B S1), for " +
        "every KMS on this database (dual control: a custodian asks, a second custodian or a " +
        "supervisor approves); its key block is checked against its certificate on the HSM",
      access: "operator",
      roles: ["custodian"],
      dualControl: { approvers: ["custodian", "supervisor"] },
      body: InstallKmsCaRequest,
      maxBody: 32768,
      responses: { 201: { description: "installed", schema: KmsCaViewSchema } },
      handler: async (_req, { body, operator, approvedBy }) => {
        const r = await installed.install(
          { certificate: body.certificate, privateKeyBlock: body.keyBlock },
          { requestedBy: operator!.id, approvedBy: approvedBy ?? null },
        );
        return json(201, await kmsCaView(r));
      },
    }),
    route({
      method: "GET",
      path: "/v1/kms-ca",
      operationId: "getKmsCa",
      summary: "The KMS CA in force: subject, issuer, serial, key fingerprint, certificate " +
        "SHA-256, validity, who installed and approved it (never its key block)",
      access: "operator",
      roles: ["operator", "supervisor", "custodian", "auditor"],
      responses: { 200: { description: "the CA in force", schema: KmsCaViewSchema } },
      handler: async () => {
        const r = await installed.record();
        if (!r) throw new NotFoundError("kms_ca_not_installed", "no KMS CA is installed");
        return json(200, await kmsCaView(r));
      },
    }),
  ];
}
