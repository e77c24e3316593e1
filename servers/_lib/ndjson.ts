/**
 * Reads a request body as lines (NDJSON) with bounded memory: one line at a
 * time, each under a cap, the whole body under another.
 *
 * @module
 */
import { PayloadTooLargeError, ValidationError } from "../../src/protocol/mod.ts";

/** A line of a body, counted from 1, without its `\n`. */
export interface BodyLine {
  line: number;
  text: string;
}

/** Caps of {@link readLines}. */
export interface LineCaps {
  /** Longest line in bytes, without its `\n`. */
  maxLine: number;
  /** Longest body in bytes. */
  maxBody: number;
}

/**
 * The lines of a body, in order, without their `\n`. The last line may end
 * without one; an empty body yields nothing. Bytes are counted as they
 * arrive (a lying Content-Length does not get past the caps).
 *
 * @param body the body stream (cancelled when the caller stops early or a cap is hit).
 * @param caps line and body caps.
 * @yields `{ line, text }`, `line` counting from 1.
 * @throws {PayloadTooLargeError} over the body cap; {@link ValidationError} `line_too_long`,
 *   `invalid_utf8` (naming the line).
 */
export async function* readLines(
  body: ReadableStream<Uint8Array>,
  caps: LineCaps,
): AsyncGenerator<BodyLine> {
  const reader = body.getReader();
  let parts: Uint8Array[] = [];
  let partLen = 0;
  let total = 0;
  let line = 1;
  const decode = (k: number): string => {
    const bytes = new Uint8Array(partLen);
    let off = 0;
    for (const p of parts) {
      bytes.set(p, off);
      off += p.length;
    }
    parts = [];
    partLen = 0;
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new ValidationError("invalid_utf8", `line ${k}: not valid UTF-8`);
    }
  };
  const add = (b: Uint8Array): void => {
    partLen += b.length;
    if (partLen > caps.maxLine) {
      throw new ValidationError(
        "line_too_long",
        `line ${line}: longer than ${caps.maxLine} bytes`,
      );
    }
    parts.push(b);
  };
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > caps.maxBody) {
        throw new PayloadTooLargeError(
          "body_too_large",
          `request body is over the limit of ${caps.maxBody} bytes (at line ${line})`,
        );
      }
      let start = 0;
      while (true) {
        const nl = value.indexOf(10, start);
        if (nl < 0) break;
        add(value.subarray(start, nl));
        yield { line, text: decode(line) };
        line++;
        start = nl + 1;
      }
      // Copied: the stream may reuse its buffer.
      if (start < value.length) add(value.slice(start));
    }
    if (partLen > 0) yield { line, text: decode(line) };
  } finally {
    // Stopped early (a refusal) or failed: the rest of the body is not wanted.
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
