/**
 * Readers of an S14 TK batch (CN103714639A S14, `POST /v1/tk-batches`):
 * a JSON body ({@link TkBatchRequest}) and an NDJSON stream (header line, a
 * line per TK, MAC line; `TkBatchStreamHeader` in `src/protocol/flow_a.ts`)
 * are both read into one shape, {@link TkBatchBody}: the header, the TKs as
 * an async iterable, and the trailer with the MAC and what it covers. The
 * KMS imports either through the same path.
 *
 * The readers check the framing (line order and counts here; JSON syntax
 * and each line's schema through `ndjson.ts`) and compute the batch's canonical bytes
 * (`batchMacInput`); key material is only passed on, never in a message.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { toHex } from "../../src/crypto/mod.ts";
import {
  BatchEntry,
  batchMacInput,
  batchMacLine,
  batchMacPrefix,
  type TkBatchRequest,
  TkBatchStreamHeader,
  TkBatchStreamTrailer,
  ValidationError,
} from "../../src/protocol/mod.ts";
import { type BodyLine, hasKey, LineCursor, parseLine } from "./ndjson.ts";

/** One TK of a batch and where it stands in the body. */
export interface TkBatchEntry {
  /** The TK entry, checked against {@link BatchEntry}. */
  tk: BatchEntry;
  /** Its place for messages: `body.tks[i]`, or `line K: body.tks[i]` in a stream. */
  where: string;
}

/** The end of a batch: its MAC and what the MAC covers. */
export interface TkBatchTrailer {
  /** ISO 9797-1 MAC algorithm 3 under MAK, hex. */
  mac: string;
  /** The bytes the MAC covers: the canonical bytes (JSON), or their SHA-256 (stream). */
  macInput: Uint8Array;
  /** SHA-256 of the canonical bytes, uppercase hex: the same batch has it in either format. */
  bodyHash: string;
  /** Prefix of messages about the MAC: `""`, or `line K: ` in a stream. */
  where: string;
  /** The version of MAK the MAC is under (1 when the batch names none). */
  makVersion: number;
}

/** A TK batch as read from a request body, in whichever format it came. */
export interface TkBatchBody {
  /** `"json"` or `"ndjson"` (streamed). */
  readonly format: "json" | "ndjson";
  /**
   * Whether {@link trailer} answers before the entries are read (the body is
   * whole in memory): the MAC can then be checked before any other work.
   */
  readonly trailerFirst: boolean;
  /**
   * The order and its count of TKs; read first.
   * @throws {ValidationError} for a missing or bad header.
   */
  header(): Promise<TkBatchStreamHeader>;
  /**
   * The TKs in order, after {@link header}.
   * @throws {ValidationError} `duplicate_sn` (JSON: before the first entry), `wrong_count`,
   *   `truncated`, `invalid_json` or a field's code, naming the line.
   */
  entries(): AsyncIterable<TkBatchEntry>;
  /**
   * The MAC; in a stream, once the entries are read to the end, and only if nothing follows it.
   * @throws {ValidationError} `wrong_count`, `truncated`, `trailing_data`, or a field's code.
   */
  trailer(): Promise<TkBatchTrailer>;
  /** Stops reading: the rest of the body is not wanted. */
  close(): Promise<void>;
}

/**
 * A JSON batch, already checked against {@link TkBatchRequest}, as a
 * {@link TkBatchBody}. Its entries first check that no serial number
 * appears twice.
 *
 * @param batch the validated request.
 * @returns the batch; its trailer is at hand before its entries.
 */
export function tkBatchFromJson(batch: TkBatchRequest): TkBatchBody {
  return {
    format: "json",
    trailerFirst: true,
    header: () => Promise.resolve({ orderId: batch.orderId, tks: batch.tks.length }),
    async *entries() {
      const seen = new Set<string>();
      for (const [i, t] of batch.tks.entries()) {
        if (seen.has(t.sn)) {
          throw new ValidationError(
            "duplicate_sn",
            `body.tks[${i}].sn ${t.sn} appears twice in the batch`,
          );
        }
        seen.add(t.sn);
      }
      for (const [i, tk] of batch.tks.entries()) yield { tk, where: `body.tks[${i}]` };
    },
    async trailer() {
      const macInput = batchMacInput(batch);
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", macInput));
      return {
        mac: batch.mac,
        macInput,
        bodyHash: toHex(digest),
        where: "",
        makVersion: batch.makVersion ?? 1,
      };
    },
    close: () => Promise.resolve(),
  };
}

/**
 * A streamed batch (`application/x-ndjson`) as a {@link TkBatchBody}, read
 * a line at a time: each line is checked as it arrives and hashed into
 * SHA-256 of the batch's canonical bytes, which the trailer's MAC covers.
 *
 * @param lines the body's lines (`readLines` of the request body).
 * @returns the batch; its trailer comes after its entries.
 */
export function tkBatchFromLines(lines: AsyncIterable<BodyLine>): TkBatchBody {
  const cursor = new LineCursor(lines);
  let n = 0;
  const hash = createHash("sha256");
  return {
    format: "ndjson",
    trailerFirst: false,
    async header() {
      const header = parseLine(
        TkBatchStreamHeader,
        await cursor.next(`the header {"orderId":...,"tks":N}`),
        "body",
      );
      n = header.tks;
      hash.update(batchMacPrefix(header.orderId));
      return header;
    },
    async *entries() {
      for (let i = 0; i < n; i++) {
        const l = await cursor.next(`TK line ${i + 1} of ${n}`);
        if (hasKey(l.text, "mac")) {
          throw new ValidationError(
            "wrong_count",
            `line ${l.line}: the MAC line after ${i} TKs; the header announced ${n}`,
          );
        }
        const tk = parseLine(BatchEntry, l, `body.tks[${i}]`);
        hash.update(batchMacLine(tk));
        yield { tk, where: `line ${l.line}: body.tks[${i}]` };
      }
    },
    async trailer() {
      const last = await cursor.next(`the MAC line {"mac":...} after ${n} TKs`);
      if (hasKey(last.text, "sn")) {
        throw new ValidationError(
          "wrong_count",
          `line ${last.line}: more TK lines than the ${n} the header announced`,
        );
      }
      const { mac, makVersion } = parseLine(TkBatchStreamTrailer, last, "body");
      await cursor.end("the MAC line");
      const digest = new Uint8Array(hash.digest());
      return {
        mac,
        macInput: digest,
        bodyHash: toHex(digest),
        where: `line ${last.line}: `,
        makVersion: makVersion ?? 1,
      };
    },
    close: () => cursor.close(),
  };
}
