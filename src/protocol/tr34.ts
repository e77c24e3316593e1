/**
 * The third KMS flow: a TMK loaded by TR-34 2-pass (ASC X9 TR 34-2019
 * sections 5.4 and 5.5). The KMS is the key distribution host (KDH), the
 * PIN pad the key receiving device (KRD). This module holds the messages
 * both sides share; the tokens themselves are DER, carried as uppercase hex.
 *
 * Steps:
 * - Binding `POST /v1/terminals/{sn}/tr34/bind` `{credentialToken}`: the
 *   KRD's credential token CT_KRD (B.7, its certificate of the `tr34-krd`
 *   profile, serialNumber = SN) in; the KDH's credential token CT_KDH (B.6,
 *   the KDH certificate and its CA's CRL) out. The PIN pad checks the KDH
 *   certificate against the root set at flashing and binds itself to it.
 * - Key transport `POST /v1/terminals/{sn}/tr34/key-token`
 *   `{credentialToken, randomNumberToken}`: the KRD's random number token
 *   RT_KRD (B.12) in; the 2-pass key token KT_KDH (B.9) out, signed by the
 *   KDH with the random number as a signed attribute, the TMK enveloped to
 *   the KRD's key inside the KMS's HSM; with it a fresh single-use KMS
 *   nonce for the acknowledgement (flow A's format, `flow_a_proof.ts`).
 * - Acknowledgement `POST /v1/terminals/{sn}/tr34/ack` `{tmkKcv, nonce, mac}`:
 *   the PIN pad proves it holds the TMK, as flow A's S17 does, with a
 *   CMAC-TDES under `KDF(TMK, "TMK ack", SN)` over the SN, that nonce and the
 *   KCV. A KCV alone proves nothing: the key token's answer carries it in clear.
 *
 * @module
 */
import { KCV, SERIAL_NUMBER } from "./flow_a.ts";
import { FLOW_A_NONCE, PROOF_MAC_BYTES } from "./flow_a_proof.ts";
import { TIMESTAMP } from "./flow_b.ts";
import { hex, type Infer, object, oneOf, optional } from "./schema.ts";

/** The random numbers the KMS takes from a KRD, in bytes. */
export const TR34_NONCE_BYTES = { min: 16, max: 64 } as const;

/** A KRD credential token (DER, hex): one certificate in a SignedData without signers. */
export const CREDENTIAL_TOKEN = hex(
  { min: 64, max: 8192 },
  "the KRD credential token CT_KRD (TR 34-2019 B.7), DER: a SignedData with no signer " +
    "holding the KRD certificate",
);

/** `POST /v1/terminals/{sn}/tr34/bind`. */
export const Tr34BindRequest = object({
  credentialToken: CREDENTIAL_TOKEN,
}, "the KRD's credential token (TR-34 binding)");
export type Tr34BindRequest = Infer<typeof Tr34BindRequest>;

/** Answer to the binding: the KDH's credential token. */
export const Tr34BindResponse = object({
  sn: SERIAL_NUMBER,
  kdhCredentialToken: hex(
    { min: 64, max: 16384 },
    "the KDH credential token CT_KDH (TR 34-2019 B.6), DER: the KDH certificate and its " +
      "CA's CRL",
  ),
  bound: oneOf(["new", "again"], "again if this SN was already bound (the same answer)"),
}, "the KDH's credential token (TR-34 binding)");
export type Tr34BindResponse = Infer<typeof Tr34BindResponse>;

/** `POST /v1/terminals/{sn}/tr34/key-token`. */
export const Tr34KeyTokenRequest = object({
  credentialToken: CREDENTIAL_TOKEN,
  randomNumberToken: hex(
    { min: 16, max: 128 },
    "the KRD random number token RT_KRD (TR 34-2019 B.12), DER: an Attribute holding a " +
      `random number of ${TR34_NONCE_BYTES.min} to ${TR34_NONCE_BYTES.max} bytes, used once`,
  ),
}, "the KRD's certificate and a fresh random number (TR-34 2-pass)");
export type Tr34KeyTokenRequest = Infer<typeof Tr34KeyTokenRequest>;

/** Answer to the key token request. */
export const Tr34KeyTokenResponse = object({
  sn: SERIAL_NUMBER,
  keyToken: hex(
    { min: 256, max: 16384 },
    "the 2-pass key token KT_KDH (TR 34-2019 B.9), DER: the TMK in a TR-34 key block " +
      "enveloped to the KRD, signed by the KDH over the KRD's random number",
  ),
  tmkKcv: KCV,
  ackNonce: FLOW_A_NONCE,
}, "the TMK in a TR-34 key token, and the nonce of its acknowledgement");
export type Tr34KeyTokenResponse = Infer<typeof Tr34KeyTokenResponse>;

/** `POST /v1/terminals/{sn}/tr34/ack`: the KCV, the key token's nonce and the proof of TMK. */
export const Tr34AckRequest = object({
  tmkKcv: KCV,
  nonce: FLOW_A_NONCE,
  mac: hex(
    PROOF_MAC_BYTES,
    'CMAC-TDES under KDF(TMK, "TMK ack", SN) over "TMK ack" || 0x00 || len(SN) || SN || ' +
      "nonce || KCV, the nonce the key token's answer carried",
  ),
}, "TR-34 TMK acknowledgement with proof of TMK");
export type Tr34AckRequest = Infer<typeof Tr34AckRequest>;

/** TR-34 states of a terminal at KMS. */
export const TR34_STATES = ["registered", "tmk_issued", "tmk_sent", "delivered"] as const;

/** `GET /v1/terminals/{sn}` for a TR-34 terminal: state and KCV, never keys. */
export const Tr34TerminalStatus = object({
  sn: SERIAL_NUMBER,
  flow: oneOf(["TR-34"], "TR-34 2-pass remote key loading (ASC X9 TR 34-2019)"),
  state: oneOf(TR34_STATES, "where the terminal is in the TR-34 flow"),
  tmkKcv: optional(KCV),
  updatedAt: TIMESTAMP,
}, "TR-34 terminal state at KMS");
export type Tr34TerminalStatus = Infer<typeof Tr34TerminalStatus>;
