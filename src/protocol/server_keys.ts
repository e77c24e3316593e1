/**
 * The messages of the rotation of the keys the MTMS and the KMS share (PK,
 * MAK): the versions in use (`GET /v1/server-keys`, S14 channel), a
 * successor handed to the MTMS under a key exchange key derived from the
 * version before it (`GET /v1/server-keys/{name}/versions/{version}`), and
 * the operators' rotation (`POST /v1/server-keys/{name}/rotate`, dual
 * control). KCVs only; a key only as a TR-31 block.
 *
 * @module
 */
import { KCV, KEY_BLOCK, KEY_VERSION } from "./flow_a.ts";
import { OPERATOR_ID_FIELD } from "./operator_api.ts";
import { array, type Infer, object, oneOf } from "./schema.ts";

/** The name of a shared key with versions. */
export const SHARED_KEY_NAME = oneOf(["PK", "MAK"], "PK (protects TKs) or MAK (MACs batches)");

/** A shared key's version in use. */
export const ServerKeyState = object({
  name: SHARED_KEY_NAME,
  version: KEY_VERSION,
  kcv: KCV,
}, "a shared key's current version");
export type ServerKeyState = Infer<typeof ServerKeyState>;

/** Answer to `GET /v1/server-keys`: PK's and MAK's current versions. */
export const ServerKeysResponse = object({
  keys: array(ServerKeyState, 2, 2, "PK and MAK"),
}, "the shared keys' current versions");
export type ServerKeysResponse = Infer<typeof ServerKeysResponse>;

/** Answer to `GET /v1/server-keys/{name}/versions/{version}`: a successor in transit. */
export const ServerKeyHandOver = object(
  {
    name: SHARED_KEY_NAME,
    version: KEY_VERSION,
    kcv: KCV,
    previousKcv: KCV,
    keyBlock: KEY_BLOCK,
  },
  "a version of a shared key as a TR-31 block under the key exchange key derived from the version before it",
);
export type ServerKeyHandOver = Infer<typeof ServerKeyHandOver>;

/** Answer to an approved `POST /v1/server-keys/{name}/rotate`. */
export const RotateKeyResponse = object({
  name: SHARED_KEY_NAME,
  previousVersion: KEY_VERSION,
  previousKcv: KCV,
  version: KEY_VERSION,
  kcv: KCV,
  requestedBy: OPERATOR_ID_FIELD,
  approvedBy: OPERATOR_ID_FIELD,
}, "the rotated key: old and new version and KCV, and both operators");
export type RotateKeyResponse = Infer<typeof RotateKeyResponse>;
