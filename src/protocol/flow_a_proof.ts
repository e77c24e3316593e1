/**
 * Flow A's proof of possession on the device routes (S16 download, S17
 * acknowledgement): the PIN pad shows it holds TK, then TMK, with a
 * CMAC-TDES (NIST SP 800-38B) under a key derived from that key (NIST
 * SP 800-108 counter mode with CMAC, the TR-31 / X9.143 encoding; key
 * separation by label, binding to the terminal by context = its serial
 * number), over the serial number and a fresh single-use KMS nonce:
 *
 * ```text
 * K_dl  = KDF(TK,  label "TMK download", context SN)
 * K_ack = KDF(TMK, label "TMK ack",      context SN)
 * download MAC = CMAC(K_dl,  "TMK download" || 0x00 || len(SN) || SN || nonce)
 * ack MAC      = CMAC(K_ack, "TMK ack"      || 0x00 || len(SN) || SN || nonce || KCV(TMK))
 * ```
 *
 * A party that saw every message holds neither key, and each nonce is
 * accepted once, for its own serial number, until it expires; so it can
 * neither take a download nor acknowledge one. The KMS checks each MAC in
 * its HSM from the key block under the LMK (`Hsm.verifyDerivedMac`): the
 * derived keys never leave it. The nonce is opaque to the device.
 *
 * @module
 */
import type { CryptoCore } from "../core/mod.ts";
import { cmac, fromHex, kdfCmacCounter, toHex, zeroize } from "../crypto/mod.ts";
import { KCV, SERIAL_NUMBER } from "./flow_a.ts";
import { hex, type Infer, object, text } from "./schema.ts";

/** Bytes of a flow A nonce: 16 random, 8 of time, 8 of the KMS's tag. */
export const FLOW_A_NONCE_BYTES = 32;

/** The KDF label of the key that proves TK at download. */
export const DOWNLOAD_LABEL = "TMK download";

/** The KDF label of the key that proves TMK at acknowledgement. */
export const ACK_LABEL = "TMK ack";

/** Bytes of a proof MAC: a whole CMAC-TDES block. */
export const PROOF_MAC_BYTES = 8;

/** The two steps a device proves a key at. */
export type ProofStep = "download" | "ack";

const LABELS: Record<ProofStep, string> = { download: DOWNLOAD_LABEL, ack: ACK_LABEL };

/** A nonce the KMS issued: opaque to the device, sent back once. */
export const FLOW_A_NONCE = hex(
  FLOW_A_NONCE_BYTES,
  "a single-use KMS nonce for one serial number (random, time, tag under the KMS challenge key)",
);

const ISO_TIME = text(
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/,
  "ISO 8601 UTC time with milliseconds",
);

const PROOF_MAC = (what: string) => hex(PROOF_MAC_BYTES, what);

/** Answer to `POST /v1/terminals/{sn}/tmk/challenge`: a fresh nonce for the download. */
export const TmkChallengeResponse = object({
  sn: SERIAL_NUMBER,
  nonce: FLOW_A_NONCE,
  expiresAt: ISO_TIME,
}, "a nonce for one download or acknowledgement of this terminal");
export type TmkChallengeResponse = Infer<typeof TmkChallengeResponse>;

/** `POST /v1/terminals/{sn}/tmk` in flow A (S16): the nonce and the proof of TK. */
export const TmkDownloadRequest = object({
  nonce: FLOW_A_NONCE,
  mac: PROOF_MAC(
    'CMAC-TDES under KDF(TK, "TMK download", SN) over "TMK download" || 0x00 || len(SN) || SN || nonce',
  ),
}, "TMK download with proof of TK (S16)");
export type TmkDownloadRequest = Infer<typeof TmkDownloadRequest>;

/** `POST /v1/terminals/{sn}/tmk/ack` in flow A (S17): the KCV, a nonce and the proof of TMK. */
export const TmkAckProofRequest = object({
  tmkKcv: KCV,
  nonce: FLOW_A_NONCE,
  mac: PROOF_MAC(
    'CMAC-TDES under KDF(TMK, "TMK ack", SN) over "TMK ack" || 0x00 || len(SN) || SN || nonce || KCV',
  ),
}, "TMK acknowledgement with proof of TMK (S17)");
export type TmkAckProofRequest = Infer<typeof TmkAckProofRequest>;

/**
 * The derivation of a step's key: its label, and the serial number as context.
 *
 * @param step "download" (base key TK) or "ack" (base key TMK).
 * @param sn the terminal's serial number.
 * @returns what `Hsm.verifyDerivedMac` takes.
 */
export function proofDerivation(
  step: ProofStep,
  sn: string,
): { label: string; context: Uint8Array } {
  return { label: LABELS[step], context: new TextEncoder().encode(sn) };
}

/**
 * The bytes a step's MAC covers: label, 0x00, the serial number with its
 * length, the nonce and, for the acknowledgement, the TMK's KCV.
 *
 * @param step "download" or "ack".
 * @param sn the serial number (checked).
 * @param nonce the KMS nonce, hex (checked).
 * @param tmkKcv the KCV, hex; the acknowledgement only (checked).
 * @returns the MAC input.
 * @throws {ValidationError} for a malformed serial number, nonce or KCV.
 */
export function proofMacInput(
  step: ProofStep,
  sn: string,
  nonce: string,
  tmkKcv?: string,
): Uint8Array {
  const te = new TextEncoder();
  const label = te.encode(LABELS[step]);
  const s = te.encode(SERIAL_NUMBER.parse(sn, "sn"));
  const n = fromHex(FLOW_A_NONCE.parse(nonce, "nonce"));
  const k = step === "ack" ? fromHex(KCV.parse(tmkKcv, "tmkKcv")) : new Uint8Array(0);
  const out = new Uint8Array(label.length + 2 + s.length + n.length + k.length);
  out.set(label);
  out[label.length + 1] = s.length;
  out.set(s, label.length + 2);
  out.set(n, label.length + 2 + s.length);
  out.set(k, label.length + 2 + s.length + n.length);
  return out;
}

/**
 * A step's proof MAC, computed with the clear key: what the PIN pad does
 * inside itself (and a test that holds the key).
 *
 * @param key TK for "download", TMK for "ack" (16 or 24 bytes); not kept.
 * @param step "download" or "ack".
 * @param sn the serial number.
 * @param nonce the KMS nonce (hex).
 * @param options the KCV for "ack", and the crypto core.
 * @returns the MAC, uppercase hex (8 bytes).
 * @throws {ValidationError} for a malformed field; {@link RangeError} for a wrong key length.
 */
export async function proofMac(
  key: Uint8Array,
  step: ProofStep,
  sn: string,
  nonce: string,
  options: { tmkKcv?: string; core?: CryptoCore } = {},
): Promise<string> {
  const data = proofMacInput(step, sn, nonce, options.tmkKcv);
  const d = proofDerivation(step, sn);
  const derived = await kdfCmacCounter(
    key,
    new TextEncoder().encode(d.label),
    d.context,
    key.length,
    {
      cipher: "tdes",
      core: options.core,
    },
  );
  try {
    return toHex(await cmac(derived, data, { cipher: "tdes", core: options.core }));
  } finally {
    zeroize(derived);
  }
}
