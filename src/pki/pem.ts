/**
 * PEM (RFC 7468 "textual encoding"): one base64 body between
 * `-----BEGIN <label>-----` and `-----END <label>-----`. Written in the strict
 * form (64-character lines); read with any line length and CRLF or LF, but with
 * nothing other than whitespace around the one block (no explanatory text).
 *
 * @example
 * ```ts
 * import { decodePem, encodePem } from "./pem.ts";
 * const pem = encodePem("CERTIFICATE", new Uint8Array([0x30, 0x00]));
 * decodePem(pem, "CERTIFICATE"); // Uint8Array [0x30, 0x00]
 * ```
 *
 * @module
 */
import { CertificateError } from "./errors.ts";
import { describe } from "./_core.ts";

const LABEL = /^[\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*$/;

/**
 * Encodes DER as a PEM block with 64-character lines (RFC 7468 section 2).
 *
 * @param label the label, e.g. `"CERTIFICATE"`.
 * @param der the bytes.
 * @returns the PEM text, ending with a newline.
 * @throws {TypeError} if `label` is not a string or `der` not a `Uint8Array`.
 * @throws {RangeError} if `label` is not a valid RFC 7468 label or `der` is empty.
 */
export function encodePem(label: string, der: Uint8Array): string {
  if (typeof label !== "string") throw new TypeError(`label must be a string, got ${typeof label}`);
  if (!LABEL.test(label)) {
    throw new RangeError(`label must be an RFC 7468 label, got ${JSON.stringify(label)}`);
  }
  if (!(der instanceof Uint8Array)) {
    throw new TypeError(`der must be a Uint8Array, got ${describe(der)}`);
  }
  if (der.length === 0) throw new RangeError("der must not be empty");
  let bin = "";
  for (let i = 0; i < der.length; i += 0x8000) {
    bin += String.fromCharCode(...der.subarray(i, i + 0x8000));
  }
  const b64 = btoa(bin);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

const BLOCK = /-----BEGIN ([^\r\n]*?)-----\r?\n([\s\S]*?)-----END ([^\r\n]*?)-----/g;

/**
 * Decodes the one PEM block in `text` (whitespace around it allowed).
 *
 * @param text the PEM text.
 * @param label the label the block must have, e.g. `"CERTIFICATE"`.
 * @returns the DER bytes.
 * @throws {TypeError} if `text` or `label` is not a string.
 * @throws {CertificateError} `not_pem` if there is no block, more than one, text outside it, or
 *   mismatched BEGIN/END lines; `pem_label` if the label is not `label`; `bad_base64` if
 *   the body is not base64 (RFC 4648 alphabet, padding only at the end) or is empty.
 */
export function decodePem(text: string, label: string): Uint8Array<ArrayBuffer> {
  if (typeof text !== "string") throw new TypeError(`text must be a string, got ${typeof text}`);
  if (typeof label !== "string") throw new TypeError(`label must be a string, got ${typeof label}`);
  const blocks = [...text.matchAll(BLOCK)];
  if (blocks.length === 0) {
    throw new CertificateError(
      "not_pem",
      `expected a PEM block "-----BEGIN ${label}-----", found none`,
    );
  }
  if (blocks.length > 1) {
    throw new CertificateError("not_pem", `expected one PEM block, found ${blocks.length}`);
  }
  const [whole, begin, body, end] = blocks[0];
  const outside = text.slice(0, blocks[0].index) + text.slice(blocks[0].index! + whole.length);
  if (outside.trim() !== "") {
    throw new CertificateError("not_pem", "text outside the PEM block");
  }
  if (begin !== end) {
    throw new CertificateError(
      "not_pem",
      `PEM BEGIN label ${JSON.stringify(begin)} and END label ${JSON.stringify(end)} differ`,
    );
  }
  if (begin !== label) {
    throw new CertificateError(
      "pem_label",
      `expected PEM label ${JSON.stringify(label)}, got ${JSON.stringify(begin)}`,
    );
  }
  const b64 = body.replace(/[ \t\r\n]/g, "");
  const bad = b64.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) {
    throw new CertificateError(
      "bad_base64",
      `PEM body has a character outside base64 at position ${bad}: ${JSON.stringify(b64[bad])}`,
    );
  }
  if (b64.length === 0) throw new CertificateError("bad_base64", "PEM body is empty");
  if (b64.length % 4 !== 0 || /=[^=]|={3,}/.test(b64)) {
    throw new CertificateError(
      "bad_base64",
      `PEM body is not base64: length ${b64.length} or padding is wrong`,
    );
  }
  let bin: string;
  try {
    bin = atob(b64);
  } catch (e) {
    throw new CertificateError("bad_base64", "PEM body is not base64", { cause: e });
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
