/**
 * TR-31 / ANSI X9.143 key block header: the typed header, and its parsing and
 * formatting (X9.143:2021 section 6.2 table 1 for the 16-character fixed
 * header; 6.3.6 for optional blocks, including the extended length form).
 *
 * Fixed header layout (characters):
 * ```
 * 0 version | 1-4 length (decimal) | 5-6 key usage | 7 algorithm | 8 mode of use
 * 9-10 key version | 11 exportability | 12-13 optional blocks (decimal)
 * 14 key context | 15 reserved "0"
 * ```
 * An optional block is `ID(2) LEN(2 hex) DATA`, LEN counting the whole block;
 * LEN "00" means the extended form `ID(2) "00" LL(2 hex) LEN(LL hex) DATA`.
 *
 * @module
 */
import { KeyBlockError } from "./errors.ts";
import {
  ALGORITHMS,
  EXPORTABILITY,
  type Exportability,
  KEY_CONTEXTS,
  KEY_USAGES,
  type KeyAlgorithm,
  type KeyBlockVersion,
  type KeyContext,
  type KeyUsage,
  type ModeOfUse,
  MODES_OF_USE,
  VERSION_PARAMS,
  VERSIONS,
} from "./_tables.ts";
import { isPrintableAscii } from "./_bytes.ts";

/** One optional block: a 2-character ID and its printable-ASCII data. */
export interface OptionalBlock {
  /** Two uppercase alphanumerics, e.g. "KS", "KC", "KP", "TS", "PB". */
  readonly id: string;
  /** The block's data (without ID and length fields). */
  readonly data: string;
}

/** A key block header, every field typed (the length field is computed, never stored). */
export interface KeyBlockHeader {
  /** Byte 0: the binding method. */
  readonly version: KeyBlockVersion;
  /** Bytes 5-6. */
  readonly keyUsage: KeyUsage;
  /** Byte 7: the algorithm of the wrapped key. */
  readonly algorithm: KeyAlgorithm;
  /** Byte 8. */
  readonly modeOfUse: ModeOfUse;
  /** Bytes 9-10: "00" when unused; "c" + digit for a key component. */
  readonly keyVersion: string;
  /** Byte 11. */
  readonly exportability: Exportability;
  /** Byte 14 (X9.143:2021; "0" in TR-31:2018 blocks). Defaults to "0" on wrap. */
  readonly keyContext?: KeyContext;
  /** The optional blocks in order (their count is bytes 12-13). Defaults to none. */
  readonly optionalBlocks?: readonly OptionalBlock[];
}

/** Length of the fixed header in characters. */
export const FIXED_HEADER_LENGTH = 16;

const has = (table: object, key: string): boolean => Object.hasOwn(table, key);

/** The result of {@link parseHeader}. */
export interface ParsedHeader {
  /** The header, with `keyContext` and `optionalBlocks` always present. */
  header: Required<KeyBlockHeader>;
  /** Characters of header plus optional blocks. */
  headerLength: number;
}

/**
 * Parses the header at the start of `text` in the fixed order of
 * {@link KEY_BLOCK_CHECKS}.
 *
 * @param text a whole key block (`whole = true`: the length field must equal
 *   `text.length`), or a header alone for wrap (`whole = false`: the length
 *   field is ignored and `text` must end after the last optional block).
 * @throws {KeyBlockError} naming the first check that failed.
 */
export function parseHeader(text: string, whole: boolean): ParsedHeader {
  const what = whole ? "key block" : "header";
  if (!isPrintableAscii(text)) {
    throw new KeyBlockError(
      "characters",
      `${what} must be printable ASCII (0x20..0x7E); found a character outside it`,
    );
  }
  if (text.length < FIXED_HEADER_LENGTH) {
    throw new KeyBlockError(
      "header_length",
      `${what} must be at least ${FIXED_HEADER_LENGTH} characters (the fixed header), got ${text.length}`,
    );
  }
  const version = text[0];
  if (!has(VERSIONS, version)) {
    throw new KeyBlockError(
      "version",
      `version ID must be one of ${Object.keys(VERSIONS).join(", ")}, got ${
        JSON.stringify(version)
      }`,
    );
  }
  const lengthField = text.slice(1, 5);
  if (whole) {
    if (!/^[0-9]{4}$/.test(lengthField)) {
      throw new KeyBlockError(
        "length_field",
        `length field must be 4 decimal digits, got ${JSON.stringify(lengthField)}`,
      );
    }
    if (Number(lengthField) !== text.length) {
      throw new KeyBlockError(
        "length_mismatch",
        `length field says ${Number(lengthField)} characters, the key block has ${text.length}`,
      );
    }
  }
  const keyUsage = text.slice(5, 7);
  checkKeyUsage(keyUsage);
  checkAlgorithm(text[7]);
  checkModeOfUse(text[8]);
  checkKeyVersion(text.slice(9, 11));
  checkExportability(text[11]);
  const countField = text.slice(12, 14);
  if (!/^[0-9]{2}$/.test(countField)) {
    throw new KeyBlockError(
      "optional_block_count",
      `number of optional blocks must be 2 decimal digits, got ${JSON.stringify(countField)}`,
    );
  }
  checkKeyContext(text[14]);
  if (text[15] !== "0") {
    throw new KeyBlockError(
      "reserved",
      `reserved byte 15 must be "0", got ${JSON.stringify(text[15])}`,
    );
  }
  const count = Number(countField);
  const blocks: OptionalBlock[] = [];
  let pos = FIXED_HEADER_LENGTH;
  for (let i = 0; i < count; i++) {
    const { block, end } = parseOptionalBlock(text, pos, i);
    blocks.push(block);
    pos = end;
  }
  checkOptionalBlocks(blocks);
  const v = version as KeyBlockVersion;
  if (whole && count > 0 && pos % VERSION_PARAMS[v].blockSize !== 0) {
    throw new KeyBlockError(
      "header_alignment",
      `header with optional blocks must be a multiple of ${
        VERSION_PARAMS[v].blockSize
      } characters for version ${v}, got ${pos} (add a PB padding block)`,
    );
  }
  if (!whole && pos !== text.length) {
    throw new KeyBlockError(
      "optional_block_count",
      `header declares ${count} optional blocks, which end at character ${pos}, but it has ${text.length} characters`,
    );
  }
  return {
    header: {
      version: v,
      keyUsage: keyUsage as KeyUsage,
      algorithm: text[7] as KeyAlgorithm,
      modeOfUse: text[8] as ModeOfUse,
      keyVersion: text.slice(9, 11),
      exportability: text[11] as Exportability,
      keyContext: text[14] as KeyContext,
      optionalBlocks: blocks,
    },
    headerLength: pos,
  };
}

function parseOptionalBlock(
  text: string,
  start: number,
  index: number,
): { block: OptionalBlock; end: number } {
  const where = `optional block ${index + 1}`;
  const id = text.slice(start, start + 2);
  if (!/^[0-9A-Z]{2}$/.test(id)) {
    throw new KeyBlockError(
      "optional_block_id",
      id.length < 2
        ? `${where} is cut short: the header ends at character ${text.length}`
        : `${where} ID must be 2 uppercase alphanumerics, got ${JSON.stringify(id)}`,
    );
  }
  const short = text.slice(start + 2, start + 4);
  if (!/^[0-9A-F]{2}$/.test(short)) {
    throw new KeyBlockError(
      "optional_block_length",
      `${where} (${id}) length must be 2 uppercase hex digits, got ${JSON.stringify(short)}`,
    );
  }
  let length = parseInt(short, 16);
  let fieldsLength = 4;
  if (length === 0) {
    // Extended length: "00", then the number of length digits, then the length.
    const ll = text.slice(start + 4, start + 6);
    if (!/^[0-9A-F]{2}$/.test(ll) || parseInt(ll, 16) === 0) {
      throw new KeyBlockError(
        "optional_block_length",
        `${where} (${id}) extended length-of-length must be 2 uppercase hex digits, not "00", got ${
          JSON.stringify(ll)
        }`,
      );
    }
    const n = parseInt(ll, 16);
    const ext = text.slice(start + 6, start + 6 + n);
    if (ext.length !== n || !/^[0-9A-F]+$/.test(ext) || n > 8) {
      throw new KeyBlockError(
        "optional_block_length",
        `${where} (${id}) extended length must be ${n} uppercase hex digits (at most 8), got ${
          JSON.stringify(ext)
        }`,
      );
    }
    length = parseInt(ext, 16);
    fieldsLength = 6 + n;
  }
  if (length < fieldsLength) {
    throw new KeyBlockError(
      "optional_block_length",
      `${where} (${id}) length ${length} is less than its own ID and length fields (${fieldsLength})`,
    );
  }
  if (start + length > text.length) {
    throw new KeyBlockError(
      "optional_block_length",
      `${where} (${id}) length ${length} runs past the end (${
        text.length - start
      } characters left)`,
    );
  }
  return {
    block: { id, data: text.slice(start + fieldsLength, start + length) },
    end: start + length,
  };
}

/** Checks the content rules of the optional blocks (data formats, PB last). */
function checkOptionalBlocks(blocks: readonly OptionalBlock[]): void {
  for (const [i, b] of blocks.entries()) {
    if (!/^[0-9A-Z]{2}$/.test(b.id)) {
      throw new KeyBlockError(
        "optional_block_id",
        `optional block ${i + 1} ID must be 2 uppercase alphanumerics, got ${JSON.stringify(b.id)}`,
      );
    }
    if (!isPrintableAscii(b.data)) {
      throw new KeyBlockError(
        "optional_block_data",
        `optional block ${i + 1} (${b.id}) data must be printable ASCII`,
      );
    }
    checkOptionalBlockData(b, i);
  }
  for (const [i, b] of blocks.entries()) {
    if (b.id === "PB" && i !== blocks.length - 1) {
      throw new KeyBlockError(
        "padding_block",
        `the padding block (PB) must be the last optional block; it is ${
          i + 1
        } of ${blocks.length}`,
      );
    }
  }
}

function checkOptionalBlockData(b: OptionalBlock, i: number): void {
  const bad = (expected: string) =>
    new KeyBlockError(
      "optional_block_data",
      `optional block ${i + 1} (${b.id}) data must be ${expected}, got ${JSON.stringify(b.data)}`,
    );
  switch (b.id) {
    case "KS": // X9.143:2021 6.3.6.8: key set identifier / initial KSN, hex
      if (b.data.length === 0 || !/^[0-9A-F]+$/.test(b.data)) throw bad("uppercase hex");
      break;
    case "KC": // 6.3.6.6 and 6.3.6.7: KCV algorithm "00" legacy / "01" CMAC, then hex KCV
    case "KP":
      if (!/^0[01]([0-9A-F]{2})+$/.test(b.data)) {
        throw bad('"00" or "01" (KCV algorithm) followed by a hex KCV');
      }
      break;
    case "TS": // 6.3.6.12: ISO 8601 UTC time
      if (!/^[0-9]{8}T?[0-9]{6}(\.[0-9]{1,6})?Z$/.test(b.data)) {
        throw bad("an ISO 8601 UTC time such as 20200818221218Z");
      }
      break;
  }
}

function checkKeyUsage(u: string): void {
  if (!has(KEY_USAGES, u) && !/^[0-9]{2}$/.test(u)) {
    throw new KeyBlockError(
      "key_usage",
      `key usage must be one of X9.143 table 2 (e.g. K0, P0, B0, D0, M3) or two digits, got ${
        JSON.stringify(u)
      }`,
    );
  }
}

function checkAlgorithm(a: string): void {
  if (!has(ALGORITHMS, a)) {
    throw new KeyBlockError(
      "algorithm",
      `algorithm must be one of ${Object.keys(ALGORITHMS).join(", ")}, got ${JSON.stringify(a)}`,
    );
  }
}

function checkModeOfUse(m: string): void {
  if (!has(MODES_OF_USE, m) && !/^[0-9]$/.test(m)) {
    throw new KeyBlockError(
      "mode_of_use",
      `mode of use must be one of ${Object.keys(MODES_OF_USE).join(", ")} or a digit, got ${
        JSON.stringify(m)
      }`,
    );
  }
}

function checkKeyVersion(v: string): void {
  if (!/^[0-9A-Za-z]{2}$/.test(v)) {
    throw new KeyBlockError(
      "key_version",
      `key version must be 2 alphanumeric characters ("00" when unused), got ${JSON.stringify(v)}`,
    );
  }
}

function checkExportability(e: string): void {
  if (!has(EXPORTABILITY, e)) {
    throw new KeyBlockError(
      "exportability",
      `exportability must be one of ${Object.keys(EXPORTABILITY).join(", ")}, got ${
        JSON.stringify(e)
      }`,
    );
  }
}

function checkKeyContext(c: string): void {
  if (!has(KEY_CONTEXTS, c)) {
    throw new KeyBlockError(
      "key_context",
      `key context (byte 14) must be one of ${Object.keys(KEY_CONTEXTS).join(", ")}, got ${
        JSON.stringify(c)
      }`,
    );
  }
}

function encodeOptionalBlock(b: OptionalBlock): string {
  const total = 4 + b.data.length;
  if (total <= 0xff) return b.id + total.toString(16).toUpperCase().padStart(2, "0") + b.data;
  const ext = 10 + b.data.length; // ID, "00", "04", 4 hex digits of length
  if (ext > 0xffff) {
    throw new KeyBlockError(
      "optional_block_length",
      `optional block ${b.id} is too long (${b.data.length} characters of data, at most ${
        0xffff - 10
      })`,
    );
  }
  return b.id + "0004" + ext.toString(16).toUpperCase().padStart(4, "0") + b.data;
}

/**
 * Checks a header object given to wrap, field by field in the order of
 * {@link KEY_BLOCK_CHECKS}, and returns it with defaults filled in and any
 * trailing PB block removed (wrap adds its own where alignment needs one).
 *
 * @throws {TypeError} if `header` is not an object with string fields.
 * @throws {KeyBlockError} for a field outside its table.
 */
export function checkHeaderObject(header: KeyBlockHeader): Required<KeyBlockHeader> {
  if (header === null || typeof header !== "object") {
    throw new TypeError(`header must be a KeyBlockHeader object or a string, got ${header}`);
  }
  for (
    const f of ["version", "keyUsage", "algorithm", "modeOfUse", "keyVersion", "exportability"]
  ) {
    const v = (header as unknown as Record<string, unknown>)[f];
    if (typeof v !== "string") {
      throw new TypeError(`header.${f} must be a string, got ${typeof v}`);
    }
  }
  const blocks = header.optionalBlocks ?? [];
  if (!Array.isArray(blocks)) {
    throw new TypeError("header.optionalBlocks must be an array of { id, data }");
  }
  for (const [i, b] of blocks.entries()) {
    if (
      b === null || typeof b !== "object" || typeof b.id !== "string" || typeof b.data !== "string"
    ) {
      throw new TypeError(`header.optionalBlocks[${i}] must be { id: string, data: string }`);
    }
  }
  if (!has(VERSIONS, header.version)) {
    throw new KeyBlockError(
      "version",
      `version ID must be one of ${Object.keys(VERSIONS).join(", ")}, got ${
        JSON.stringify(header.version)
      }`,
    );
  }
  checkKeyUsage(header.keyUsage);
  checkAlgorithm(header.algorithm);
  checkModeOfUse(header.modeOfUse);
  checkKeyVersion(header.keyVersion);
  checkExportability(header.exportability);
  const keyContext = header.keyContext ?? "0";
  checkKeyContext(keyContext);
  checkOptionalBlocks(blocks);
  const kept = blocks.length > 0 && blocks[blocks.length - 1].id === "PB"
    ? blocks.slice(0, -1)
    : blocks.slice();
  if (kept.length > 98) {
    throw new KeyBlockError(
      "optional_block_count",
      `at most 99 optional blocks (98 plus a padding block), got ${kept.length}`,
    );
  }
  return {
    version: header.version,
    keyUsage: header.keyUsage,
    algorithm: header.algorithm,
    modeOfUse: header.modeOfUse,
    keyVersion: header.keyVersion,
    exportability: header.exportability,
    keyContext,
    optionalBlocks: kept.map((b) => ({ id: b.id, data: b.data })),
  };
}

/**
 * Formats a checked header (from {@link checkHeaderObject}) with its
 * optional blocks, adding a PB block when the optional blocks leave the
 * header off the cipher block size.
 *
 * @param header the header (no trailing PB).
 * @param bodyLength characters after the header (payload hex plus MAC hex),
 *   so the length field can be computed.
 * @returns the header text, whose length field is the final block length.
 */
export function formatHeader(
  header: Required<KeyBlockHeader>,
  bodyLength: (headerLength: number) => number,
): string {
  const blockSize = VERSION_PARAMS[header.version].blockSize;
  const blocks = header.optionalBlocks.slice();
  let opt = blocks.map(encodeOptionalBlock).join("");
  if (blocks.length > 0) {
    let pad = (blockSize - ((FIXED_HEADER_LENGTH + opt.length) % blockSize)) % blockSize;
    if (pad > 0) {
      if (pad < 4) pad += blockSize;
      const pb = { id: "PB", data: "0".repeat(pad - 4) };
      blocks.push(pb);
      opt += encodeOptionalBlock(pb);
    }
  }
  const headerLength = FIXED_HEADER_LENGTH + opt.length;
  const total = headerLength + bodyLength(headerLength);
  if (total > 9999) {
    throw new KeyBlockError(
      "length_field",
      `key block would be ${total} characters; the length field holds at most 9999`,
    );
  }
  return header.version + String(total).padStart(4, "0") + header.keyUsage + header.algorithm +
    header.modeOfUse + header.keyVersion + header.exportability +
    String(blocks.length).padStart(2, "0") + header.keyContext + "0" + opt;
}

/**
 * Reads the header of a key block without authenticating it: for choosing the
 * KBPK or routing. Nothing read here may be trusted until
 * {@link unwrapKeyBlock} has verified the MAC.
 *
 * @param keyBlock the key block.
 * @returns the header fields and optional blocks.
 * @throws {TypeError} if `keyBlock` is not a string.
 * @throws {KeyBlockError} for the first header check that fails.
 */
export function readKeyBlockHeader(keyBlock: string): Required<KeyBlockHeader> {
  if (typeof keyBlock !== "string") {
    throw new TypeError(`keyBlock must be a string, got ${typeof keyBlock}`);
  }
  return parseHeader(keyBlock, true).header;
}
