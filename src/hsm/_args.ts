/**
 * Argument checks of the software HSM's operations: each refuses a wrong
 * type with a `TypeError` and a wrong value with a `RangeError`, naming the
 * argument and what it got (never key bytes).
 *
 * @module
 */
import { fromHex } from "../crypto/mod.ts";
import { checkTemplate, type KeyTemplate } from "./policy.ts";
import type { WrapFormat } from "./types.ts";

/** What a value is, for an error message: its type or class, never its content. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "an object";
  return typeof v;
}

/** Refuses anything but a string where a key block is expected. */
export function checkBlockString(name: string, v: unknown): asserts v is string {
  if (typeof v !== "string") {
    throw new TypeError(`${name} must be a key block string, got ${describe(v)}`);
  }
}

/** Refuses anything but a `Uint8Array`. */
export function checkBytes(name: string, v: unknown): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(v)}`);
  }
}

/** Refuses anything but an object (an options bag); `shape` says what it should hold. */
export function checkObject(name: string, v: unknown, shape = ""): asserts v is object {
  if (v === null || typeof v !== "object") {
    throw new TypeError(`${name} must be an object${shape}, got ${describe(v)}`);
  }
}

/**
 * Parses hex of `min` to `max` bytes (either case).
 *
 * @returns the bytes.
 * @throws {TypeError} for a non-string; {@link RangeError} for bad hex or a wrong length.
 */
export function parseHexCheck(name: string, v: unknown, min: number, max: number): Uint8Array {
  if (typeof v !== "string") {
    throw new TypeError(`${name} must be a hex string, got ${describe(v)}`);
  }
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(v) || v.length < 2 * min || v.length > 2 * max) {
    throw new RangeError(`${name} must be ${min === max ? min : `${min} to ${max}`} bytes of hex`);
  }
  return fromHex(v.toUpperCase());
}

/** The ISO 9797-1 padding method of a MAC call: 2 by default, or 1. */
export function checkPadding(options: unknown): 1 | 2 {
  if (options === undefined) return 2;
  checkObject("options", options);
  const p = (options as { padding?: unknown }).padding ?? 2;
  if (p !== 1 && p !== 2) {
    throw new RangeError(`options.padding must be 1 or 2, got ${JSON.stringify(p)}`);
  }
  return p;
}

/** The RSA-OAEP hash: SHA-256 by default, or SHA-1. */
export function checkOaepHash(v: unknown): "SHA-256" | "SHA-1" {
  const h = v ?? "SHA-256";
  if (h !== "SHA-256" && h !== "SHA-1") {
    throw new RangeError(`options.hash must be "SHA-256" or "SHA-1", got ${JSON.stringify(h)}`);
  }
  return h;
}

/** The wire form of a key under a KEK: "tr31" by default, or "ecb". */
export function checkFormat(v: unknown): WrapFormat {
  const f = v ?? "tr31";
  if (f !== "tr31" && f !== "ecb") {
    throw new RangeError(`options.format must be "tr31" or "ecb", got ${JSON.stringify(f)}`);
  }
  return f;
}

/**
 * The template of a TDES key the HSM makes or imports.
 *
 * @param name the argument, for messages (`template`, `options.template`).
 * @param template the template.
 * @param what the end of the message when the algorithm is not "T".
 * @returns the checked template with every field.
 */
export function checkTdesTemplate(
  name: string,
  template: unknown,
  what = "",
): Required<KeyTemplate> {
  const t = checkTemplate(name, template);
  if (t.algorithm !== "T") throw new RangeError(`${name}.algorithm must be "T"${what}`);
  return t;
}

/** The options of an import (`importKey`, `importKeyRsa`, `translateKeyFromRsa`): an object with a TDES template. */
export function checkImportOptions(options: unknown): Required<KeyTemplate> {
  checkObject("options", options, " with a template");
  return checkTdesTemplate("options.template", (options as { template?: unknown }).template);
}

/** A key's attributes as `usage/algorithm/mode`, for messages and audit records. */
export function attrs(h: { keyUsage: string; algorithm: string; modeOfUse: string }): string {
  return `${h.keyUsage}/${h.algorithm}/${h.modeOfUse}`;
}
