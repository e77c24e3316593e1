/**
 * Flow B of CN103714641A: remote TMK download with a split transport key
 * (TK = TEK, an RSA key pair, + AUK, a double-length TDES key) and mutual
 * authentication with AUK (claim 4). This module holds what both sides
 * share: the messages (schemas) and the byte strings that are hashed or used
 * as OAEP labels. The mutual authentication of S5, both ends, is in
 * `flow_b_auth.ts`.
 *
 * Steps (claim 1; docs/ARCHITECTURE.md "Flow B"):
 * Every device request is signed by the PIN pad's device key or MACed under
 * its session key (`flow_b_proof.ts`).
 *
 * - S1 `POST /v1/terminals/{sn}/hsm-key`: the KMS's HSM makes Pu_hsm/Pr_hsm
 *   for the terminal and returns Pu_hsm in a certificate of the KMS CA (our
 *   addition: the PIN pad checks it against the KMS root set at flashing).
 * - S2-S3 `PUT /v1/terminals/{sn}/transport-key`: the PIN pad makes TEK and
 *   AUK and sends AUK under Pu_hsm (RSA-OAEP-SHA256) with Pu_tek (SPKI
 *   PEM), AUK's KCV and the TK hash over {@link tkHashInput}. The hash binds
 *   Pu_tek to AUK: a man in the middle who swaps Pu_tek cannot recompute it
 *   without AUK.
 * - S4: the KMS's HSM recovers AUK under its LMK and checks KCV and hash.
 * - S5 (claim 4) `POST .../challenges` `{rnd1}` -> `{challengeId, crnd1,
 *   rnd2}`; `POST .../challenges/{id}/response` `{crnd2}`: Crnd1 =
 *   TDES-ECB(AUK, Rnd1), Crnd2 = TDES-ECB(AUK, Rnd2), one 8-byte block each.
 * - S6 `POST /v1/terminals/{sn}/sessions/{id}/tmk`: TMK under Pu_tek (RSA-OAEP-SHA256)
 *   with its KCV and a tag under AUK ({@link tmkMacInput}), only inside a
 *   session opened by a passed S5 that has not expired; a session allows one
 *   download.
 * - S7 `POST .../sessions/{id}/tmk/ack`: the PIN pad has decrypted TMK with Pr_tek,
 *   checked its KCV and stored it as a TR-31 block (claim 3).
 *
 * Beyond the patent: a TMK chosen by someone else. Pu_tek travels in clear,
 * so anybody can encrypt a TMK under it; the S6 answer carries a tag under
 * AUK that the PIN pad checks before it decrypts ({@link tmkMacInput}).
 *
 * @module
 */
import { ValidationError } from "./errors.ts";
import { CERTIFICATE, KCV, RSA_BLOCK, SERIAL_NUMBER } from "./flow_a.ts";
import {
  hex,
  type Infer,
  integer,
  object,
  oneOf,
  optional,
  pem,
  type Schema,
  text,
} from "./schema.ts";

/** Bytes of Rnd1 and Rnd2: one TDES block (see reflection in `flow_b_auth.ts`). */
export const FLOW_B_RND_BYTES = 8;

/** AUK: a double-length TDES key (16 bytes, odd parity). */
export const AUK_BYTES = 16;

/** Size of the key pairs made in flow B (TEK by the PIN pad, Pu_hsm/Pr_hsm by the HSM). */
export const FLOW_B_RSA_BITS = 2048;

/** Pu_tek sizes the KMS accepts. */
export const ALLOWED_TEK_BITS: readonly number[] = [2048, 3072, 4096];

/** Default lifetime of a challenge (S5): 30 seconds. */
export const DEFAULT_CHALLENGE_TTL_MS = 30_000;

/** Default lifetime of the download session a passed S5 opens: 60 seconds. */
export const DEFAULT_SESSION_TTL_MS = 60_000;

/** Default number of failed S5 answers that locks an SN. */
export const DEFAULT_MAX_AUTH_FAILURES = 3;

/** Bytes of each digest in {@link tkHashInput}. */
export const DIGEST_BYTES = 32;

/**
 * The bytes whose SHA-256 is the flow B "TK hash": the part of TK both
 * sides hold, AUK and Pu_tek (Pr_tek never leaves the PIN pad), each by its
 * SHA-256, so the KMS can form it from what its HSM reports (SHA-256 of a
 * key it holds, never the key) and Pu_tek. Whoever does not know AUK
 * cannot make the hash for another Pu_tek: the hash binds Pu_tek to AUK.
 *
 * @param aukDigest SHA-256 of the clear AUK, {@link DIGEST_BYTES} bytes.
 * @param puTekDigest SHA-256 of Pu_tek as DER SubjectPublicKeyInfo, {@link DIGEST_BYTES} bytes.
 * @returns `"TMKB-TK1" || aukDigest || puTekDigest` (72 bytes).
 * @throws {TypeError} for non-bytes; {@link RangeError} for a wrong length.
 */
export function tkHashInput(
  aukDigest: Uint8Array,
  puTekDigest: Uint8Array,
): Uint8Array<ArrayBuffer> {
  for (const [name, v] of [["aukDigest", aukDigest], ["puTekDigest", puTekDigest]] as const) {
    if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
    if (v.length !== DIGEST_BYTES) {
      throw new RangeError(`${name} must be ${DIGEST_BYTES} bytes (SHA-256), got ${v.length}`);
    }
  }
  const tag = new TextEncoder().encode("TMKB-TK1");
  const out = new Uint8Array(tag.length + 2 * DIGEST_BYTES);
  out.set(tag, 0);
  out.set(aukDigest, tag.length);
  out.set(puTekDigest, tag.length + DIGEST_BYTES);
  return out;
}

// ---- messages ----

/** An RFC 3339 UTC time as the servers write it (`toISOString()`). */
export const TIMESTAMP = text(
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/,
  "an ISO 8601 UTC time, e.g. 2026-11-23T12:00:00.000Z",
);

/** An RSA public key as SubjectPublicKeyInfo, PEM. */
export const PUBLIC_KEY = pem("PUBLIC KEY", "an RSA public key, SubjectPublicKeyInfo PEM");

/** Flow B states of a terminal at KMS. */
export const FLOW_B_STATES = [
  "hsm_key_issued",
  "tk_received",
  "tmk_issued",
  "tmk_sent",
  "delivered",
] as const;

/** `POST /v1/terminals/{sn}/hsm-key` answer (S1): Pu_hsm in a KMS CA certificate. */
export const HsmKeyResponse = object({
  sn: SERIAL_NUMBER,
  certificate: CERTIFICATE,
  caCertificate: pem(
    "CERTIFICATE",
    "the KMS CA certificate the Pu_hsm certificate chains through to the root",
  ),
  rotated: oneOf(["yes", "no"], "yes if this call replaced an earlier Pu_hsm (before S3)"),
}, "Pu_hsm for the terminal (S1)");
export type HsmKeyResponse = Infer<typeof HsmKeyResponse>;

/** `PUT /v1/terminals/{sn}/transport-key` (S3). */
export const TransportKeyRequest = object({
  encryptedAuk: RSA_BLOCK("AUK under Pu_hsm, RSA-OAEP-SHA256, empty label"),
  aukKcv: KCV,
  puTek: PUBLIC_KEY,
  tkHash: hex(DIGEST_BYTES, "SHA-256 of tkHashInput(SHA-256(AUK), SHA-256(Pu_tek DER))"),
  deviceCertificate: pem(
    "CERTIFICATE",
    "the PIN pad's device certificate (pin-pad profile, serialNumber = SN), made at manufacture",
  ),
  signature: RSA_BLOCK(
    "RSASSA-PKCS1-v1_5 SHA-256 by the device key over transportKeySigningInput",
  ),
}, "the terminal's transport key: AUK under Pu_hsm and Pu_tek (S3), signed by the PIN pad");
export type TransportKeyRequest = Infer<typeof TransportKeyRequest>;

/**
 * The bytes the PIN pad's device key signs in S3: the KMS accepts a
 * transport key only from the PIN pad whose certificate names the SN, so a
 * man in the middle cannot register a transport key of its own.
 *
 * @param sn serial number.
 * @param r the request's fields.
 * @returns UTF-8 of `TMKB-S3-1|sn|encryptedAuk|aukKcv|tkHash|puTek`.
 */
export function transportKeySigningInput(
  sn: string,
  r: Pick<TransportKeyRequest, "encryptedAuk" | "aukKcv" | "tkHash" | "puTek">,
): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    ["TMKB-S3-1", sn, r.encryptedAuk, r.aukKcv, r.tkHash, r.puTek].join("|"),
  );
}

/** Answer to S3: what KMS stored (KCV and hash, never keys). */
export const TransportKeyResponse = object({
  sn: SERIAL_NUMBER,
  aukKcv: KCV,
  tekBits: integer(2048, 4096, "size of Pu_tek in bits"),
  duplicate: oneOf(["yes", "no"], "yes if this same transport key was already stored"),
}, "transport key stored under the LMK (S4)");
export type TransportKeyResponse = Infer<typeof TransportKeyResponse>;

/** Answer: Crnd1 proves KMS holds AUK; Rnd2 is the terminal's challenge. */
export const ChallengeResponse = object({
  challengeId: text(/^[0-9A-F]{32}$/, "a challenge id of 32 uppercase hex characters"),
  crnd1: hex(FLOW_B_RND_BYTES, "Crnd1 = TDES-ECB(AUK, Rnd1)"),
  rnd2: hex(FLOW_B_RND_BYTES, "Rnd2 from the KMS's HSM"),
  expiresAt: TIMESTAMP,
}, "mutual authentication: KMS's answer and challenge (S5)");
export type ChallengeResponse = Infer<typeof ChallengeResponse>;

/** Answer to a passed S5: a download session until `sessionExpiresAt`. */
export const ChallengeResult = object({
  sn: SERIAL_NUMBER,
  authenticated: oneOf(["yes"], "always yes: a failure is an error answer"),
  sessionId: text(/^[0-9A-F]{32}$/, "the session: the passed challenge's id"),
  sessionExpiresAt: TIMESTAMP,
}, "mutual authentication passed (S5)");
export type ChallengeResult = Infer<typeof ChallengeResult>;

/** `POST /v1/terminals/{sn}/tmk` in flow B (S6): TMK under Pu_tek. */
export const FlowBTmkResponse = object({
  sn: SERIAL_NUMBER,
  encryptedTmk: RSA_BLOCK("TMK under Pu_tek, RSA-OAEP-SHA256, empty label"),
  tmkKcv: KCV,
  tmkMac: hex(
    FLOW_B_RND_BYTES,
    "TDES-ECB decryption under AUK of the first 8 bytes of SHA-256(tmkMacInput): proves the " +
      "KMS holding AUK sent this ciphertext",
  ),
}, "TMK under Pu_tek (S6)");

/**
 * The bytes whose SHA-256 (first 8 bytes) the KMS authenticates the S6
 * answer with: Pu_tek is public, so without this anybody could send the
 * PIN pad a TMK of their choice under it. The tag is TDES *decryption*
 * under AUK because S5 makes the KMS an encryption oracle under AUK (it
 * encrypts any fresh Rnd1) and nothing ever outputs a decryption under AUK,
 * so S5 cannot be used to forge it.
 *
 * @param sn serial number.
 * @param encryptedTmk the ciphertext (hex, as sent).
 * @param tmkKcv the KCV (hex, as sent).
 * @returns UTF-8 of `TMKB-MAC1|sn|encryptedTmk|tmkKcv`.
 */
export function tmkMacInput(
  sn: string,
  encryptedTmk: string,
  tmkKcv: string,
): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(["TMKB-MAC1", sn, encryptedTmk, tmkKcv].join("|"));
}
export type FlowBTmkResponse = Infer<typeof FlowBTmkResponse>;

/** `GET /v1/terminals/{sn}` for a flow B terminal: state, KCVs and lock-out, never keys. */
export const FlowBTerminalStatus = object({
  sn: SERIAL_NUMBER,
  flow: oneOf(["B"], "remote download (CN103714641A)"),
  state: oneOf(FLOW_B_STATES, "where the terminal is in flow B"),
  aukKcv: optional(KCV),
  tmkKcv: optional(KCV),
  authFailures: integer(0, 1000, "failed S5 answers since the last success or unlock"),
  locked: oneOf(["yes", "no"], "whether the SN is locked out"),
  updatedAt: TIMESTAMP,
}, "flow B terminal state at KMS");
export type FlowBTerminalStatus = Infer<typeof FlowBTerminalStatus>;

/** `POST /v1/terminals/{sn}/unlock` answer (operator API). */
export const UnlockResponse = object({
  sn: SERIAL_NUMBER,
  unlocked: oneOf(["yes", "no"], "no if the SN was not locked"),
}, "lock-out lifted");
export type UnlockResponse = Infer<typeof UnlockResponse>;

/** `POST /v1/terminals/{sn}/release` answer (operator API). */
export const ReleaseResponse = object({
  sn: SERIAL_NUMBER,
  released: oneOf(["yes"], "always yes: nothing to release is a 404"),
}, "the flow B registration of the SN is dropped");
export type ReleaseResponse = Infer<typeof ReleaseResponse>;

/**
 * A schema accepting any of several object schemas (the first that parses),
 * documented as `oneOf` (used where flow A and flow B share a route).
 *
 * @param schemas the alternatives, tried in order.
 * @param description what the value is.
 * @returns a schema of the union.
 */
export function eitherOf<T extends unknown[]>(
  schemas: { [K in keyof T]: Schema<T[K]> },
  description: string,
): Schema<T[number]> {
  return {
    parse(value, path) {
      let first: unknown;
      for (const s of schemas) {
        try {
          return s.parse(value, path);
        } catch (e) {
          first ??= e;
        }
      }
      throw first instanceof ValidationError
        ? first
        : new ValidationError("invalid_field", `${path} matches none of the alternatives`);
    },
    jsonSchema: { oneOf: schemas.map((s) => s.jsonSchema), description },
  };
}
