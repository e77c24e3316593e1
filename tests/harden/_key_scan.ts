/**
 * The key scanner behind SECURITY.md's key scan: searches byte
 * strings (files, logs, HTTP traffic, dumps) for every 8-byte window of a set
 * of secret keys, in every encoding a key could take on its way out:
 *
 * - raw bytes: the 8 bytes of each window;
 * - hex: the 16 hex digits of each window, in any case (upper, lower, mixed:
 *   the haystack's letters are folded to lowercase before the search);
 * - base64 (standard and URL alphabet): an 8-byte window encoded at any
 *   offset of a base64 stream contains two whole 3-byte groups, so its
 *   encoding contains the 8 characters of a 6-byte window of the key; the
 *   needles are the encodings of every 6-byte window (a stricter search).
 *   A needle with neither `+`, `/`, `-` nor `_` is the same in both alphabets
 *   and is reported as "base64".
 *
 * Hex and base64 are also searched in a copy of each haystack with line
 * breaks (CR, LF, and the JSON escapes `\n`, `\r`) removed, so a key wrapped
 * over lines (PEM, pretty-printed dumps) is still found.
 *
 * Each position of a haystack is tested against a 24-bit prefilter of the
 * needles' first 4 bytes, then against the exact needle set: one pass per
 * encoding, whatever the number of keys.
 *
 * @module
 */

/** A secret to search for. */
export interface Secret {
  /** What it is (for the report). */
  name: string;
  bytes: Uint8Array;
}

/** One occurrence of a secret's window in a haystack. */
export interface Hit {
  /** The artefact it was found in. */
  artefact: string;
  /** The secret's name. */
  secret: string;
  /** "raw", "hex upper", "hex lower", "hex mixed", "base64", "base64url". */
  encoding: string;
  /** Byte offset in the artefact (in its copy without line breaks, if found there). */
  offset: number;
  /** Whether it was found only after line breaks were removed. */
  unwrapped: boolean;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Base64 of a multiple of 3 bytes (no padding), in `alphabet`. */
function base64(bytes: Uint8Array, alphabet: string): string {
  let s = "";
  for (let i = 0; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
  }
  return s;
}

function hexLower(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** A set of fixed-length needles (8 bytes or more) with a 24-bit prefilter on their first 8 bytes. */
class NeedleSet {
  readonly length: number;
  /** needle (latin1) -> names of the secrets it comes from. */
  readonly needles = new Map<string, Set<string>>();
  readonly #filter = new Uint8Array(1 << 21); // 2^24 bits

  constructor(length: number) {
    this.length = length;
  }

  static #slot(b: Uint8Array, i: number): number {
    const x = (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
    const y = (b[i + 4] << 24) | (b[i + 5] << 16) | (b[i + 6] << 8) | b[i + 7];
    return Math.imul(x ^ Math.imul(y, 0x85ebca6b), 0x9e3779b1) >>> 8;
  }

  add(needle: Uint8Array, secret: string): void {
    const key = latin1(needle);
    let names = this.needles.get(key);
    if (!names) {
      names = new Set();
      this.needles.set(key, names);
      const s = NeedleSet.#slot(needle, 0);
      this.#filter[s >> 3] |= 1 << (s & 7);
    }
    names.add(secret);
  }

  /** Every (offset, names) where a needle occurs in `hay`. */
  *find(hay: Uint8Array): Generator<[number, Set<string>]> {
    const L = this.length;
    const f = this.#filter;
    for (let i = 0; i + L <= hay.length; i++) {
      const s = NeedleSet.#slot(hay, i);
      if ((f[s >> 3] & (1 << (s & 7))) === 0) continue;
      const names = this.needles.get(latin1(hay.subarray(i, i + L)));
      if (names) yield [i, names];
    }
  }
}

/** Lowercases ASCII A-F (so one lowercase needle finds every case of hex). */
function foldHex(hay: Uint8Array): Uint8Array {
  const out = hay.slice();
  for (let i = 0; i < out.length; i++) {
    const c = out[i];
    if (c >= 0x41 && c <= 0x46) out[i] = c + 0x20;
  }
  return out;
}

/** The haystack without CR, LF and the two-character escapes `\n` and `\r`. */
function withoutBreaks(hay: Uint8Array): Uint8Array {
  const out = new Uint8Array(hay.length);
  let n = 0;
  for (let i = 0; i < hay.length; i++) {
    const c = hay[i];
    if (c === 0x0a || c === 0x0d) continue;
    if (c === 0x5c && (hay[i + 1] === 0x6e || hay[i + 1] === 0x72)) {
      i++;
      continue;
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}

function hexCase(text: Uint8Array): string {
  let upper = false, lower = false;
  for (const c of text) {
    if (c >= 0x41 && c <= 0x46) upper = true;
    if (c >= 0x61 && c <= 0x66) lower = true;
  }
  return upper && lower ? "hex mixed" : lower ? "hex lower" : "hex upper";
}

/** What a scanner searched: counts for the figures. */
export interface ScanTotals {
  /** Haystacks scanned. */
  artefacts: number;
  /** Bytes of all haystacks. */
  bytes: number;
  /** Haystack positions tested against each needle set (every encoding, with the unwrapped copies). */
  positions: number;
}

/** Searches haystacks for every window of a set of secrets. */
export class KeyScanner {
  /** Bytes per window. */
  static readonly WINDOW = 8;
  readonly #raw = new NeedleSet(8);
  readonly #hex = new NeedleSet(16);
  readonly #b64 = new NeedleSet(8);
  readonly #b64url = new NeedleSet(8);
  /** Distinct 8-byte windows of the secrets. */
  readonly windows: number;
  readonly totals: ScanTotals = { artefacts: 0, bytes: 0, positions: 0 };

  /**
   * @param secrets the keys to search for (each at least 8 bytes).
   * @throws {RangeError} for a secret shorter than a window.
   */
  constructor(secrets: Secret[]) {
    const enc = new TextEncoder();
    for (const { name, bytes } of secrets) {
      if (bytes.length < KeyScanner.WINDOW) {
        throw new RangeError(`secret ${name} is ${bytes.length} bytes, shorter than a window`);
      }
      for (let i = 0; i + 8 <= bytes.length; i++) {
        const w = bytes.subarray(i, i + 8);
        this.#raw.add(w, name);
        this.#hex.add(enc.encode(hexLower(w)), name);
      }
      for (let i = 0; i + 6 <= bytes.length; i++) {
        const w = bytes.subarray(i, i + 6);
        this.#b64.add(enc.encode(base64(w, B64)), name);
        // The URL alphabet differs only in 62 and 63: the other needles are the same.
        const url = base64(w, B64URL);
        if (/[-_]/.test(url)) this.#b64url.add(enc.encode(url), name);
      }
    }
    this.windows = this.#raw.needles.size;
  }

  /** Needles per encoding (distinct). */
  get needles(): Record<string, number> {
    return {
      raw: this.#raw.needles.size,
      hex: this.#hex.needles.size,
      base64: this.#b64.needles.size,
      base64url: this.#b64url.needles.size,
    };
  }

  /**
   * Searches one haystack.
   *
   * @param artefact its name, for the hits.
   * @param hay its bytes.
   * @returns every hit (one per position and encoding).
   */
  scan(artefact: string, hay: Uint8Array): Hit[] {
    const hits: Hit[] = [];
    this.totals.artefacts++;
    this.totals.bytes += hay.length;
    const add = (
      set: NeedleSet,
      text: Uint8Array,
      original: Uint8Array,
      encoding: string | null,
      unwrapped: boolean,
    ) => {
      this.totals.positions += Math.max(0, text.length - set.length + 1);
      for (const [offset, names] of set.find(text)) {
        const how = encoding ?? hexCase(original.subarray(offset, offset + 16));
        for (const secret of names) {
          if (unwrapped && hits.some((h) => h.secret === secret && h.encoding === how)) continue;
          hits.push({ artefact, secret, encoding: how, offset, unwrapped });
        }
      }
    };
    add(this.#raw, hay, hay, "raw", false);
    for (const [text, unwrapped] of [[hay, false], [withoutBreaks(hay), true]] as const) {
      if (unwrapped && text.length === hay.length) continue;
      add(this.#hex, foldHex(text), text, null, unwrapped);
      add(this.#b64, text, text, "base64", unwrapped);
      add(this.#b64url, text, text, "base64url", unwrapped);
    }
    return hits;
  }
}

/** The test's encodings of a window, for planting in a control run. */
export const encode = {
  hexUpper: (b: Uint8Array) => hexLower(b).toUpperCase(),
  hexLower,
  /** Letters in alternating case ("a3B0c..."): mixed when the hex has two letters or more. */
  hexMixed: (b: Uint8Array) => {
    let letters = 0;
    return [...hexLower(b)].map((c) => (/[a-f]/.test(c) && letters++ % 2 ? c.toUpperCase() : c))
      .join("");
  },
  base64: (b: Uint8Array) => btoa(latin1(b)),
  base64url: (b: Uint8Array) =>
    btoa(latin1(b)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, ""),
};
