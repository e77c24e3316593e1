/**
 * The messages of flow A (CN103714639A: operator authentication S1-S9,
 * factory TK collection S10-S14, TMK issuance and download S15-S17), as
 * schemas both sides validate with, and the canonical byte strings that
 * get signed or MACed.
 *
 * Wire conventions (docs/ARCHITECTURE.md, "Servers on the wire"): JSON, binary fields
 * as uppercase hex, certificates as PEM, key blocks as TR-31 strings.
 *
 * @module
 */
import { ValidationError } from "./errors.ts";
import {
  array,
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

/** Terminal serial number: 6 to 32 uppercase letters or digits. */
export const SERIAL_NUMBER = text(
  /^[A-Z0-9]{6,32}$/,
  "a serial number of 6-32 characters A-Z, 0-9",
);

/** Production order id: 3 to 32 characters A-Z, 0-9 and '-', starting with a letter or digit. */
export const ORDER_ID = text(
  /^[A-Z0-9][A-Z0-9-]{2,31}$/,
  "an order id of 3-32 characters A-Z, 0-9, '-' starting with A-Z or 0-9",
);

/** Most terminals in one production order (bigger runs are split into several orders). */
export const MAX_ORDER_TERMINALS = 10000;

/**
 * Most terminals in one streamed batch (`application/x-ndjson`, below): a
 * production order of the terminal maker goes up to a million.
 */
export const MAX_STREAM_ORDER_TERMINALS = 1_000_000;

/** Longest line of a streamed batch in bytes, without its `\n` (a TDES TK entry is about 200). */
export const MAX_STREAM_LINE = 2048;

/** Body cap of a streamed batch: header and MAC lines plus about 400 bytes per terminal. */
export const MAX_STREAM_BODY = 4096 + MAX_STREAM_ORDER_TERMINALS * 400;

/** The media type of a streamed batch. */
export const NDJSON = "application/x-ndjson";

/** Length of the operator-authentication random `Rnd` in bytes. */
export const RND_BYTES = 16;

/** KCV field: 3 bytes. */
export const KCV = hex(3, "key check value: first 3 bytes of TDES-ECB(key, 0^8)");

/** SHA-256 of a key: 32 bytes. */
export const KEY_HASH = hex(
  32,
  "SHA-256 of the clear key, checked at every store, transfer and use",
);

/** An RSA block (ciphertext or signature) for 2048- to 4096-bit keys. */
export const RSA_BLOCK = (description: string): Schema<string> =>
  hex({ min: 256, max: 512 }, description);

/**
 * A TR-31 / X9.143 key block: version letter, 4 decimal length digits, then
 * printable ASCII without spaces (header, optional blocks, hex of the
 * encrypted key and MAC). Its content is checked by `unwrapKeyBlock`.
 */
export const KEY_BLOCK = text(
  /^[ABCD][0-9]{4}[\x21-\x7e]{11,9995}$/,
  "a TR-31 key block (version A-D, 4-digit length, printable ASCII)",
);

/** A certificate (PEM). */
export const CERTIFICATE = pem("CERTIFICATE", "an X.509 certificate, PEM");

// ---- S1/S5: POS <-> operator terminal (device to device) ----

/** S1: the POS sends the PIN pad's random to the operator terminal. */
export const AuthChallenge = object({
  rnd: hex(RND_BYTES, "Rnd from the PIN pad's RNG"),
}, "operator authentication challenge (S1)");
export type AuthChallenge = Infer<typeof AuthChallenge>;

/** S5: the operator terminal answers with OpWCRT and C = RSA-private(type-1 pad(Rnd || TimeOne)). */
export const AuthResponse = object({
  certificate: CERTIFICATE,
  cryptogram: RSA_BLOCK("C_rnd_time: Rnd || TimeOne, PKCS#1 v1.5 type-1 padded, RSA private key"),
}, "operator authentication answer (S5)");
export type AuthResponse = Infer<typeof AuthResponse>;

// ---- MTMS ----

/**
 * A run of consecutive serial numbers: `prefix` followed by `first`,
 * `first + 1`, ... `first + count - 1`, each written in `digits` decimal
 * digits with leading zeros (e.g. prefix `PAX`, first 1, count 3, digits 7:
 * `PAX0000001`, `PAX0000002`, `PAX0000003`). A terminal maker numbers a
 * production run this way, so an order of a million terminals fits in a
 * few bytes. The serial numbers must be 6-32 characters ({@link SERIAL_NUMBER})
 * and the last must fit in `digits` digits ({@link serialsOfRange} checks both).
 */
export const SerialRange = object({
  prefix: text(/^[A-Z0-9]{0,31}$/, "a prefix of 0-31 characters A-Z, 0-9"),
  first: integer(0, 999_999_999_999, "the first number of the run"),
  count: integer(1, MAX_STREAM_ORDER_TERMINALS, "how many serial numbers"),
  digits: integer(1, 12, "decimal digits of the number, with leading zeros"),
}, "a run of consecutive serial numbers");
export type SerialRange = Infer<typeof SerialRange>;

/**
 * Checks a {@link SerialRange} and yields its serial numbers one by one
 * (never a list: an order of a million stays a few bytes in memory).
 *
 * @param r the range.
 * @param field where it is in the request, for errors (e.g. `body.serialRange`).
 * @returns the serial numbers, lazily.
 * @throws {ValidationError} `invalid_field` naming `field.digits` or `field.count`.
 */
export function serialsOfRange(r: SerialRange, field: string): Iterable<string> {
  const length = r.prefix.length + r.digits;
  if (length < 6 || length > 32) {
    throw new ValidationError(
      "invalid_field",
      `${field}.digits: the prefix (${r.prefix.length} characters) and ${r.digits} digits make ` +
        `serial numbers of ${length} characters; 6-32 are allowed`,
    );
  }
  const last = r.first + r.count - 1;
  if (last >= 10 ** r.digits) {
    throw new ValidationError(
      "invalid_field",
      `${field}.count: the last number ${last} does not fit in ${r.digits} digits`,
    );
  }
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < r.count; i++) {
        yield r.prefix + String(r.first + i).padStart(r.digits, "0");
      }
    },
  };
}

/**
 * `POST /v1/orders`: a production order and its serial numbers, either
 * listed (up to {@link MAX_ORDER_TERMINALS}) or as a run of consecutive ones
 * (up to {@link MAX_STREAM_ORDER_TERMINALS}); exactly one of the two.
 */
export const CreateOrderRequest = object({
  orderId: ORDER_ID,
  serialNumbers: optional(
    array(SERIAL_NUMBER, 1, MAX_ORDER_TERMINALS, "the terminals of the order"),
  ),
  serialRange: optional(SerialRange),
}, "a production order");
export type CreateOrderRequest = Infer<typeof CreateOrderRequest>;

/** Order progress as MTMS reports it. */
export const OrderStatus = object({
  orderId: ORDER_ID,
  terminals: integer(1, MAX_STREAM_ORDER_TERMINALS, "terminals in the order"),
  collected: integer(0, MAX_STREAM_ORDER_TERMINALS, "TKs collected"),
  state: oneOf(["collecting", "transferred"], "order state"),
}, "production order status");
export type OrderStatus = Infer<typeof OrderStatus>;

/**
 * `POST /v1/orders/{orderId}/tks` (S11): the operator terminal uploads one
 * terminal's TK, RSA-OAEP-SHA256-encrypted under the MTMS transport public
 * key, signed by the operator card (RSASSA-PKCS1-v1_5 SHA-256 over
 * {@link tkUploadSigningInput}).
 */
export const TkUploadRequest = object({
  sn: SERIAL_NUMBER,
  encryptedTk: RSA_BLOCK("TK under the MTMS transport key, RSA-OAEP-SHA256"),
  tkKcv: KCV,
  tkHash: KEY_HASH,
  signedAt: text(
    /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?Z$/,
    "an ISO 8601 UTC time, e.g. 2026-11-23T12:00:00.000Z",
  ),
  operatorCertificate: CERTIFICATE,
  signature: RSA_BLOCK("operator card signature, RSASSA-PKCS1-v1_5 SHA-256"),
}, "one TK upload (S11)");
export type TkUploadRequest = Infer<typeof TkUploadRequest>;

/** Answer to a TK upload. */
export const TkUploadResponse = object({
  orderId: ORDER_ID,
  sn: SERIAL_NUMBER,
  tkKcv: KCV,
  collected: integer(0, MAX_STREAM_ORDER_TERMINALS, "TKs collected for the order so far"),
  terminals: integer(1, MAX_STREAM_ORDER_TERMINALS, "terminals in the order"),
}, "TK stored under PK (S12-S13)");
export type TkUploadResponse = Infer<typeof TkUploadResponse>;

/**
 * The bytes the operator card signs for a TK upload.
 *
 * @param orderId the production order.
 * @param u the upload's fields.
 * @returns UTF-8 of `TKUPLOAD1|orderId|sn|encryptedTk|tkKcv|tkHash|signedAt`.
 */
export function tkUploadSigningInput(
  orderId: string,
  u: Pick<TkUploadRequest, "sn" | "encryptedTk" | "tkKcv" | "tkHash" | "signedAt">,
): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    ["TKUPLOAD1", orderId, u.sn, u.encryptedTk, u.tkKcv, u.tkHash, u.signedAt].join("|"),
  );
}

/** `GET /v1/transport-certificate`: the MTMS certificate whose key TKs are encrypted under. */
export const TransportCertificateResponse = object({
  certificate: CERTIFICATE,
}, "the MTMS transport certificate, chained to the CA root");
export type TransportCertificateResponse = Infer<typeof TransportCertificateResponse>;

/** Answer to `POST /v1/orders/{orderId}/transfer` (S14 from the MTMS side). */
export const TransferResponse = object({
  orderId: ORDER_ID,
  transferred: integer(0, MAX_STREAM_ORDER_TERMINALS, "TKs in the batch"),
  duplicate: oneOf(["yes", "no"], "whether KMS already had this exact batch"),
}, "order transferred to KMS");
export type TransferResponse = Infer<typeof TransferResponse>;

// ---- KMS ----

/** One TK of a batch: under PK as a TR-31 key block, with its KCV and hash. */
export const BatchEntry = object({
  sn: SERIAL_NUMBER,
  tkBlock: KEY_BLOCK,
  tkKcv: KCV,
  tkHash: KEY_HASH,
}, "one TK under PK");
export type BatchEntry = Infer<typeof BatchEntry>;

/**
 * The version of MAK a batch's MAC is under (1: the key ceremony's; absent
 * means 1). Each TK names the PK it is under in its key block (optional
 * block KP, the KCV of PK).
 */
export const KEY_VERSION = integer(1, 999_999, "version of a key the MTMS and the KMS share");

/** `POST /v1/tk-batches` (S14): an order's TKs, MACed under MAK over {@link batchMacInput}. */
export const TkBatchRequest = object({
  orderId: ORDER_ID,
  tks: array(BatchEntry, 1, MAX_ORDER_TERMINALS, "the order's TKs"),
  mac: hex(8, "ISO 9797-1 MAC algorithm 3 (retail MAC), padding method 2, under MAK"),
  makVersion: optional(KEY_VERSION),
}, "a production order's TKs for KMS (S14)");
export type TkBatchRequest = Infer<typeof TkBatchRequest>;

/** Body cap of a batch: about 250 bytes per terminal. */
export const MAX_BATCH_BODY = 256 + MAX_ORDER_TERMINALS * 256;

/**
 * The canonical bytes of a batch that the MAC covers: independent of JSON
 * whitespace and key order, so both sides compute it from the parsed fields.
 *
 * @param b the batch without its MAC.
 * @returns UTF-8 of `TKBATCH1\n<orderId>\n` then `sn|tkBlock|tkKcv|tkHash\n` per TK, in order.
 */
export function batchMacInput(b: Pick<TkBatchRequest, "orderId" | "tks">): Uint8Array<ArrayBuffer> {
  let s = batchMacPrefix(b.orderId);
  for (const t of b.tks) s += batchMacLine(t);
  return new TextEncoder().encode(s);
}

/**
 * First line of a streamed batch: the order and how many TK lines follow.
 *
 * Streamed batch, `POST /v1/tk-batches` with `Content-Type: application/x-ndjson`
 * (the JSON body of {@link TkBatchRequest} stays for small batches): UTF-8
 * lines ended by `\n`, each one JSON object of at most {@link MAX_STREAM_LINE}
 * bytes, the whole body at most {@link MAX_STREAM_BODY} bytes:
 *
 * ```text
 * {"orderId":"PO-1","tks":3}                                  line 1: this header
 * {"sn":"...","tkBlock":"B0096...","tkKcv":"...","tkHash":"..."}  lines 2..N+1: a BatchEntry each
 * ...
 * {"mac":"0123456789ABCDEF"}                                  line N+2: the trailer
 * ```
 *
 * The MAC is the retail MAC (ISO 9797-1 alg. 3, padding method 2) under MAK
 * over the 32 bytes SHA-256({@link batchMacInput}) of the same order and TKs
 * in the same order (hash, then MAC: neither side holds the batch; the HSM
 * MACs 32 bytes). The stored body hash is that SHA-256, as for a JSON batch,
 * so the same order sent either way is the same batch (idempotent). Nothing
 * may follow the trailer but one final `\n`. The KMS answers as for a JSON
 * batch; a refusal's message starts with `line K:`.
 */
export const TkBatchStreamHeader = object({
  orderId: ORDER_ID,
  tks: integer(1, MAX_STREAM_ORDER_TERMINALS, "how many TK lines follow"),
}, "first line of a streamed batch");
export type TkBatchStreamHeader = Infer<typeof TkBatchStreamHeader>;

/** Last line of a streamed batch: the MAC over SHA-256 of {@link batchMacInput}. */
export const TkBatchStreamTrailer = object({
  mac: hex(8, "ISO 9797-1 MAC algorithm 3 (retail MAC), padding method 2, under MAK"),
  makVersion: optional(KEY_VERSION),
}, "last line of a streamed batch");
export type TkBatchStreamTrailer = Infer<typeof TkBatchStreamTrailer>;

/** The first bytes of {@link batchMacInput}, for hashing a batch as it streams. */
export function batchMacPrefix(orderId: string): string {
  return `TKBATCH1\n${orderId}\n`;
}

/** One TK's part of {@link batchMacInput}: `sn|tkBlock|tkKcv|tkHash\n`. */
export function batchMacLine(t: BatchEntry): string {
  return `${t.sn}|${t.tkBlock}|${t.tkKcv}|${t.tkHash}\n`;
}

/** Answer to a batch. */
export const TkBatchResponse = object({
  orderId: ORDER_ID,
  accepted: integer(0, MAX_STREAM_ORDER_TERMINALS, "TKs stored under the KMS LMK"),
  duplicate: oneOf(["yes", "no"], "yes if this exact batch was already stored (idempotent)"),
}, "batch stored");
export type TkBatchResponse = Infer<typeof TkBatchResponse>;

/** Answer to `POST /v1/orders/{orderId}/tmks` (S15, bulk issuance): counts, never keys. */
export const IssueResponse = object({
  orderId: ORDER_ID,
  issued: integer(0, MAX_STREAM_ORDER_TERMINALS, "TMKs generated by this call"),
  alreadyIssued: integer(0, MAX_STREAM_ORDER_TERMINALS, "terminals that already had a TMK"),
  terminals: integer(0, MAX_STREAM_ORDER_TERMINALS, "terminals of the order known to KMS"),
}, "bulk TMK issuance result");
export type IssueResponse = Infer<typeof IssueResponse>;

/**
 * Answer to `POST /v1/terminals/{sn}/tmk` in flow A (S16): TMK under TK as a
 * TR-31 block, and a fresh nonce for the acknowledgement
 * (`src/protocol/flow_a_proof.ts`).
 */
export const TmkDownloadResponse = object({
  sn: SERIAL_NUMBER,
  tmkBlock: KEY_BLOCK,
  tmkKcv: KCV,
  ackNonce: hex(32, "a single-use KMS nonce for the acknowledgement (S17)"),
}, "TMK under TK (S16)");
export type TmkDownloadResponse = Infer<typeof TmkDownloadResponse>;

/**
 * The KCV of a stored TMK, as flow B's acknowledgement (S7) carries it;
 * flow A's (S17) adds a nonce and a proof of TMK (`TmkAckProofRequest`).
 */
export const TmkAckRequest = object({
  tmkKcv: KCV,
}, "TMK acknowledgement");
export type TmkAckRequest = Infer<typeof TmkAckRequest>;

/** States of a terminal at KMS. */
export const TERMINAL_STATES = ["tk_received", "tmk_issued", "tmk_sent", "delivered"] as const;
export type TerminalState = typeof TERMINAL_STATES[number];

/** `GET /v1/terminals/{sn}` and the ack's answer: state and KCVs, never keys. */
export const TerminalStatus = object({
  sn: SERIAL_NUMBER,
  orderId: ORDER_ID,
  state: oneOf(TERMINAL_STATES, "where the terminal is in flow A"),
  tkKcv: KCV,
  tmkKcv: optional(KCV),
  updatedAt: text(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,12}Z$/, "ISO 8601 UTC time"),
}, "terminal state at KMS");
export type TerminalStatus = Infer<typeof TerminalStatus>;
