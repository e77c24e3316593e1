/**
 * NDJSON framing of a request body (one JSON value per line, RFC 8259 per
 * line): {@link readLines} reads the body a line at a time with bounded
 * memory (each line under a cap, the whole body under another);
 * {@link LineCursor} takes the lines one expected record at a time;
 * {@link parseLine} checks a line against a schema. Messages name the line,
 * never its content (a line may carry key material).
 *
 * @module
 */
import { PayloadTooLargeError, type Schema, ValidationError } from "../../src/protocol/mod.ts";

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

/**
 * Parses one line as JSON and checks it against a schema.
 *
 * @param schema the line's schema.
 * @param l the line.
 * @param path the path of the value in messages (`body`, `body.tks[3]`).
 * @returns the checked value.
 * @throws {ValidationError} `invalid_json`, or the schema's code, prefixed `line K: `.
 */
export function parseLine<T>(schema: Schema<T>, l: BodyLine, path: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(l.text);
  } catch {
    // The parser's message quotes the input: not echoed.
    throw new ValidationError("invalid_json", `line ${l.line}: not a JSON object`);
  }
  try {
    return schema.parse(raw, path);
  } catch (e) {
    if (e instanceof ValidationError) {
      throw new ValidationError(e.code, `line ${l.line}: ${e.message}`);
    }
    throw e;
  }
}

/**
 * Whether a line is a JSON object with `key` (to tell which record a line
 * is meant to be before it is checked as the expected one).
 *
 * @param text the line.
 * @param key the member name.
 * @returns true for an object that has `key`; false for anything else, bad JSON included.
 */
export function hasKey(text: string, key: string): boolean {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === "object" && Object.hasOwn(v, key);
  } catch {
    return false;
  }
}

/** The lines of a body taken one expected record at a time. */
export class LineCursor {
  readonly #it: AsyncIterator<BodyLine>;
  #last = 0;

  /** @param lines the body's lines ({@link readLines}). */
  constructor(lines: AsyncIterable<BodyLine>) {
    this.#it = lines[Symbol.asyncIterator]();
  }

  /**
   * The next line, which must be there and not empty.
   *
   * @param what the record expected, for messages (`the header {...}`).
   * @returns the line.
   * @throws {ValidationError} `truncated` if the body ended, `invalid_json` for an empty line.
   */
  async next(what: string): Promise<BodyLine> {
    const r = await this.#it.next();
    if (r.done) {
      throw new ValidationError(
        "truncated",
        `line ${this.#last + 1}: the body ended; expected ${what}`,
      );
    }
    this.#last = r.value.line;
    if (r.value.text === "") {
      throw new ValidationError("invalid_json", `line ${r.value.line}: empty; expected ${what}`);
    }
    return r.value;
  }

  /**
   * Checks that the body ends here.
   *
   * @param after the last record, for the message (`the MAC line`).
   * @throws {ValidationError} `trailing_data` naming the first line after it.
   */
  async end(after: string): Promise<void> {
    const extra = await this.#it.next();
    if (!extra.done) {
      throw new ValidationError(
        "trailing_data",
        `line ${extra.value.line}: nothing may follow ${after}`,
      );
    }
  }

  /** Stops reading: the rest of the body is not wanted. */
  async close(): Promise<void> {
    await this.#it.return?.();
  }
}
