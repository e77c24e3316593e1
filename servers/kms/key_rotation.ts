/**
 * The KMS's rotation of the keys it shares with the MTMS (PK, MAK): the
 * operators' `POST /v1/server-keys/{name}/rotate` under dual control (a
 * custodian asks, a second custodian or a supervisor approves; the HSM then
 * generates the next version and the store keeps it), and, on the S14
 * channel (mutual TLS), the versions in use and each successor handed to the
 * MTMS under the key exchange key derived from the version before it.
 * Batches are taken under the current version and the one before it; an
 * older one is refused with `key_version_retired` naming the versions taken.
 *
 * @module
 */
import {
  IntegrityError,
  RotateKeyResponse,
  ServerKeyHandOver,
  ServerKeysResponse,
  SHARED_KEY_NAME,
  text,
  ValidationError,
} from "../../src/protocol/mod.ts";
import type { AuditInput, Store } from "../../src/store/mod.ts";
import {
  type KeyHandOver,
  type KeyVersion,
  type ServerKeyRing,
  SHARED_KEY_NAMES,
  type SharedKeyName,
} from "../_lib/key_rotation.ts";
import { json, type Route, route } from "../_lib/router.ts";

/** How many versions of a key the KMS takes batches under: the current one and the one before. */
export const TAKEN_VERSIONS = 2;

/** The operation ids of the S14 routes of key distribution (mutual TLS over TLS). */
export const KEY_DISTRIBUTION_ROUTES: readonly string[] = [
  "serverKeyVersions",
  "serverKeyHandOver",
];

/**
 * The version of a shared key a batch names (by number, or by KCV in a TK's
 * block KP), if the KMS takes batches under it: the current version or the
 * one before. A version it does not know yet sends it to the store first
 * (another instance on the database may have rotated the key).
 *
 * @param ring the key's versions.
 * @param pick the version's number or KCV.
 * @param where what named it, for messages (`the batch's MAC`).
 * @returns the version.
 * @throws {IntegrityError} `key_version_retired` (older than the one before the current),
 *   `key_version_unknown`; each message names the versions taken.
 */
export async function takenVersion(
  ring: ServerKeyRing,
  pick: { version: number } | { kcv: string },
  where: string,
): Promise<KeyVersion> {
  const find = () => "version" in pick ? ring.version(pick.version) : ring.byKcv(pick.kcv);
  let v = find();
  if (!v || v.version < ring.current.version) {
    await ring.refresh();
    v = find();
  }
  const cur = ring.current;
  const taken = `the KMS takes ${ring.name} version ${cur.version} (current, KCV ${cur.kcv})` +
    (cur.version > 1 ? ` and ${cur.version - 1}` : "");
  const named = "version" in pick ? `version ${pick.version}` : `the version with KCV ${pick.kcv}`;
  if (!v) {
    throw new IntegrityError(
      "key_version_unknown",
      `${where} is under ${ring.name} ${named}, which this KMS does not know; ${taken}`,
    );
  }
  if (v.version <= cur.version - TAKEN_VERSIONS) {
    throw new IntegrityError(
      "key_version_retired",
      `${where} is under ${ring.name} version ${v.version}, which is retired; ${taken}`,
    );
  }
  return v;
}

/** Options of {@link KmsKeyRotation}. */
export interface KmsKeyRotationOptions {
  /** PK's and MAK's versions at this KMS. */
  keys: Record<SharedKeyName, ServerKeyRing>;
  store: Store;
  now?: () => Date;
}

/** Rotation and hand-over of PK and MAK at the KMS, each step audited. */
export class KmsKeyRotation {
  readonly #o: KmsKeyRotationOptions;

  /** @param o the key rings and the store. */
  constructor(o: KmsKeyRotationOptions) {
    this.#o = o;
  }

  #record(event: string, subject: string, kcv: string, detail: string): AuditInput {
    return {
      at: (this.#o.now ?? (() => new Date()))(),
      actor: "kms",
      event,
      outcome: "success",
      subject,
      kcv,
      detail,
    };
  }

  #audit(event: string, subject: string, kcv: string, detail: string): Promise<number> {
    return this.#o.store.appendAudit(this.#record(event, subject, kcv, detail));
  }

  /**
   * The current versions (read from the store: the newest stored by any instance).
   *
   * @returns PK's and MAK's version and KCV.
   */
  async versions(): Promise<ServerKeysResponse> {
    const keys = [];
    for (const name of SHARED_KEY_NAMES) {
      const v = await this.#o.keys[name].refresh();
      keys.push({ name, version: v.version, kcv: v.kcv });
    }
    return { keys };
  }

  /**
   * A version 2 or later, under the key exchange key derived from the one before it.
   *
   * @param name PK or MAK.
   * @param version the version.
   * @returns the successor in transit (audited: `server_key_sent`).
   * @throws {ValidationError} `key_version_unknown`.
   */
  async handOver(name: SharedKeyName, version: number): Promise<KeyHandOver> {
    const h = await this.#o.keys[name].handOver(version);
    await this.#audit(
      "server_key_sent",
      `${name} v${version}`,
      h.kcv,
      `${name} version ${version} (KCV ${h.kcv}) under the key exchange key of version ` +
        `${version - 1} (KCV ${h.previousKcv})`,
    );
    return h;
  }

  /**
   * Rotates a key: the HSM generates the next version, the store keeps it
   * (audited: `server_key_rotated`, old KCV and new KCV, both operators).
   *
   * @param name PK or MAK.
   * @param requestedBy the operator who asked.
   * @param approvedBy the operator who approved.
   * @returns old and new version and KCV, and both operators.
   * @throws {ConflictError} `key_version_conflict` if another rotation stored that version first.
   */
  async rotate(
    name: SharedKeyName,
    requestedBy: string,
    approvedBy: string,
  ): Promise<RotateKeyResponse> {
    const who = `requested by ${requestedBy}, approved by ${approvedBy}`;
    const { previous, current } = await this.#o.keys[name].rotate(
      `${requestedBy}+${approvedBy}`,
      (previous, current) =>
        this.#record(
          "server_key_rotated",
          `${name} v${current.version}`,
          current.kcv,
          `${name} version ${previous.version} KCV ${previous.kcv} -> version ` +
            `${current.version} KCV ${current.kcv}; ${who}`,
        ),
    );
    return {
      name,
      previousVersion: previous.version,
      previousKcv: previous.kcv,
      version: current.version,
      kcv: current.kcv,
      requestedBy,
      approvedBy,
    };
  }
}

const BY_NAME = { name: SHARED_KEY_NAME };

/** A version number in a path. */
const VERSION_PARAM = text(/^[1-9][0-9]{0,5}$/, "a key version: 1 to 999999");

/**
 * The routes of key rotation: the operators' rotation (dual control) and
 * the S14 routes of distribution ({@link KEY_DISTRIBUTION_ROUTES}).
 *
 * @param rotation the KMS's rotation.
 * @returns the routes.
 */
export function keyRotationRoutes(rotation: KmsKeyRotation): Route[] {
  return [
    route({
      method: "POST",
      path: "/v1/server-keys/:name/rotate",
      operationId: "rotateServerKey",
      summary: "Rotates PK or MAK (dual control: a custodian asks, another custodian or a " +
        "supervisor approves): the HSM generates the next version; the MTMS fetches it over S14",
      access: "operator",
      roles: ["custodian"],
      dualControl: { approvers: ["custodian", "supervisor"] },
      params: BY_NAME,
      responses: { 200: { description: "rotated", schema: RotateKeyResponse } },
      handler: async (_req, { params, operator, approvedBy }) => {
        if (!approvedBy) {
          throw new ValidationError(
            "approval_required",
            "a rotation runs only once a second operator approves it",
          );
        }
        const name = params.name as SharedKeyName;
        return json(200, await rotation.rotate(name, operator!.id, approvedBy));
      },
    }),
    route({
      method: "GET",
      path: "/v1/server-keys",
      operationId: KEY_DISTRIBUTION_ROUTES[0],
      summary: "S14: the versions of PK and MAK in use (version and KCV; never keys)",
      access: "public",
      responses: { 200: { description: "the versions", schema: ServerKeysResponse } },
      handler: async () => json(200, await rotation.versions()),
    }),
    route({
      method: "GET",
      path: "/v1/server-keys/:name/versions/:version",
      operationId: KEY_DISTRIBUTION_ROUTES[1],
      summary: "S14: a version of PK or MAK as a TR-31 block under the key exchange key the " +
        "MTMS and the KMS derive from the version before it",
      access: "public",
      params: { ...BY_NAME, version: VERSION_PARAM },
      responses: { 200: { description: "the version in transit", schema: ServerKeyHandOver } },
      handler: async (_req, { params }) =>
        json(
          200,
          await rotation.handOver(params.name as SharedKeyName, Number(params.version)),
        ),
    }),
  ];
}
