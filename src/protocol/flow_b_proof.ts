/**
 * Flow B's proofs of who is asking (beyond CN103714641A): the byte strings
 * the PIN pad's device key signs (RSASSA-PKCS1-v1_5 SHA-256, RFC 8017) on
 * S1, S3 and both halves of S5, and the session MACs of S6 and S7: a
 * CMAC-TDES (SP 800-38B) under a key derived from AUK and the session's
 * randoms (NIST SP 800-108 counter mode with CMAC, the TR-31 encoding of
 * `kdfCmacCounter`). The KMS derives that key in its HSM from the AUK block
 * (`Hsm.verifyDerivedMac`); the PIN pad derives it where AUK lives.
 *
 * Why: the routes are public and serial numbers are guessable. Only the
 * holder of the device key can make or rotate a terminal's key pair or open
 * and answer its challenges, and only the party that passed S5 (it holds
 * AUK and both Rnds) can download in and acknowledge the session it opened.
 *
 * @module
 */
import { FLOW_B_RND_BYTES } from "./flow_b.ts";
import { CERTIFICATE, KCV, RSA_BLOCK, SERIAL_NUMBER } from "./flow_a.ts";
import { hex, type Infer, object, text } from "./schema.ts";
import { TIMESTAMP } from "./flow_b.ts";

/** How far an S1 time may be from the KMS clock, either way: 5 minutes. */
export const S1_TIME_WINDOW_MS = 300_000;

/** Bytes of the S1 nonce. */
export const S1_NONCE_BYTES = 16;

/** Bytes of a session MAC (a whole CMAC-TDES block). */
export const SESSION_MAC_BYTES = 8;

/** Label of the session key derivation (SP 800-108; printable, never a TR-31 usage). */
export const SESSION_KEY_LABEL = "TMKB flow B session";

/** A session id: the id of the challenge whose pass opened it. */
export const SESSION_ID = text(/^[0-9A-F]{32}$/, "a session id: the passed challenge's id");

const signature = (what: string) =>
  RSA_BLOCK(`RSASSA-PKCS1-v1_5 SHA-256 by the PIN pad's device key over ${what}`);

const deviceCertificate = CERTIFICATE;

/** `POST /v1/terminals/{sn}/hsm-key` (S1), signed by the PIN pad's device key. */
export const HsmKeyRequest = object({
  time: TIMESTAMP,
  nonce: hex(S1_NONCE_BYTES, "a fresh random, single-use per SN"),
  deviceCertificate,
  signature: signature("hsmKeySigningInput"),
}, "S1: the PIN pad asks for its Pu_hsm, signed by its device key");
export type HsmKeyRequest = Infer<typeof HsmKeyRequest>;

/** `POST /v1/terminals/{sn}/challenges` (S5, first half), signed by the device key. */
export const ChallengeRequest = object({
  rnd1: hex(FLOW_B_RND_BYTES, "Rnd1 from the PIN pad's RNG"),
  deviceCertificate,
  signature: signature("challengeSigningInput"),
}, "mutual authentication: the terminal's random (S5), signed by its device key");
export type ChallengeRequest = Infer<typeof ChallengeRequest>;

/** `POST /v1/terminals/{sn}/challenges/{id}/response` (S5, second half), signed. */
export const ChallengeAnswer = object({
  crnd2: hex(FLOW_B_RND_BYTES, "Crnd2 = TDES-ECB(AUK, Rnd2)"),
  deviceCertificate,
  signature: signature("answerSigningInput"),
}, "mutual authentication: the terminal's answer (S5), signed by its device key");
export type ChallengeAnswer = Infer<typeof ChallengeAnswer>;

/** `POST /v1/terminals/{sn}/sessions/{sessionId}/tmk` (S6): the session's MAC. */
export const FlowBTmkRequest = object({
  mac: hex(SESSION_MAC_BYTES, "CMAC-TDES under the session key over sessionMacInput S6"),
}, "TMK request inside a passed session (S6)");
export type FlowBTmkRequest = Infer<typeof FlowBTmkRequest>;

/** `POST /v1/terminals/{sn}/sessions/{sessionId}/tmk/ack` (S7): the KCV under the session's MAC. */
export const FlowBTmkAckRequest = object({
  tmkKcv: KCV,
  mac: hex(SESSION_MAC_BYTES, "CMAC-TDES under the session key over sessionMacInput S7"),
}, "TMK acknowledgement inside the session that downloaded it (S7)");
export type FlowBTmkAckRequest = Infer<typeof FlowBTmkAckRequest>;

const utf8 = (parts: string[]) => new TextEncoder().encode(parts.join("|"));

/**
 * What the device key signs on S1: the SN, the time and a single-use nonce,
 * so a recorded S1 cannot be sent again.
 *
 * @param sn serial number.
 * @param r time and nonce as sent.
 * @returns UTF-8 of `TMKB-S1-1|sn|time|nonce`.
 */
export function hsmKeySigningInput(
  sn: string,
  r: Pick<HsmKeyRequest, "time" | "nonce">,
): Uint8Array<ArrayBuffer> {
  return utf8(["TMKB-S1-1", SERIAL_NUMBER.parse(sn, "sn"), r.time, r.nonce]);
}

/**
 * What the device key signs when it opens a challenge: Rnd1 is single-use
 * per SN, so the signature cannot be used twice.
 *
 * @param sn serial number.
 * @param rnd1 Rnd1 (hex, as sent).
 * @returns UTF-8 of `TMKB-S5-1|sn|rnd1`.
 */
export function challengeSigningInput(sn: string, rnd1: string): Uint8Array<ArrayBuffer> {
  return utf8(["TMKB-S5-1", SERIAL_NUMBER.parse(sn, "sn"), rnd1]);
}

/**
 * What the device key signs on its answer: the challenge is single-use.
 *
 * @param sn serial number.
 * @param challengeId the challenge.
 * @param crnd2 Crnd2 (hex, as sent).
 * @returns UTF-8 of `TMKB-S5-2|sn|challengeId|crnd2`.
 */
export function answerSigningInput(
  sn: string,
  challengeId: string,
  crnd2: string,
): Uint8Array<ArrayBuffer> {
  return utf8(["TMKB-S5-2", SERIAL_NUMBER.parse(sn, "sn"), challengeId, crnd2]);
}

/**
 * The context of the session key: challenge id || Rnd1 || Rnd2 (32 bytes).
 * The key is KDF(AUK, {@link SESSION_KEY_LABEL}, context), 16 bytes.
 *
 * @param sessionId the passed challenge's id (32 hex).
 * @param rnd1 the PIN pad's Rnd1 (16 hex).
 * @param rnd2 the KMS's Rnd2 (16 hex).
 * @returns the bytes.
 * @throws {RangeError} for a wrong length.
 */
export function sessionContext(
  sessionId: string,
  rnd1: string,
  rnd2: string,
): Uint8Array<ArrayBuffer> {
  const hexText = `${sessionId}${rnd1}${rnd2}`;
  if (!/^[0-9A-Fa-f]{64}$/.test(hexText)) {
    throw new RangeError(
      "sessionContext takes a 16-byte session id and two 8-byte randoms, in hex",
    );
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hexText.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * What the session MAC covers: the step, the SN, the session and the
 * request's content (S7: the KCV).
 *
 * @param step `"S6"` (download) or `"S7"` (acknowledgement).
 * @param sn serial number.
 * @param sessionId the session.
 * @param tmkKcv S7 only: the KCV acknowledged.
 * @returns UTF-8 of `TMKB-S6-1|sn|sessionId` or `TMKB-S7-1|sn|sessionId|tmkKcv`.
 */
export function sessionMacInput(
  step: "S6" | "S7",
  sn: string,
  sessionId: string,
  tmkKcv?: string,
): Uint8Array<ArrayBuffer> {
  SERIAL_NUMBER.parse(sn, "sn");
  if (step === "S7" && tmkKcv === undefined) throw new TypeError("S7 needs the tmkKcv");
  return step === "S6"
    ? utf8(["TMKB-S6-1", sn, sessionId])
    : utf8(["TMKB-S7-1", sn, sessionId, tmkKcv!]);
}
