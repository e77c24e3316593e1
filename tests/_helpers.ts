/**
 * Shared test helpers: the list of cores every table runs against, vector
 * loading and hex.
 *
 * @module
 */
import { type CoreName, loadCore } from "../src/core/mod.ts";
import type { CryptoCore } from "../src/core/types.ts";
import { signOperatorRequest } from "../src/protocol/operator_request.ts";

/** Every core the suite runs each table against. */
export const CORE_NAMES: CoreName[] = ["wasm", "js"];

/** Loads every core in {@link CORE_NAMES}. */
export async function allCores(): Promise<CryptoCore[]> {
  return await Promise.all(CORE_NAMES.map((n) => loadCore(n)));
}

/** Reads `tests/vectors/<name>` as JSON. */
export function loadVectors<T = unknown>(name: string): T {
  const url = new URL(`./vectors/${name}`, import.meta.url);
  return JSON.parse(Deno.readTextFileSync(url)) as T;
}

/** Hex (either case, even length) to bytes. */
export function hex(s: string): Uint8Array<ArrayBuffer> {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new Error(`bad hex in test data: ${s}`);
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes to uppercase hex. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s.toUpperCase();
}

/** Random bytes of any length (crypto.getRandomValues caps one call at 65536 bytes). */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/** Big-endian unsigned bytes to BigInt. */
export function toBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt("0x" + toHex(b));
}

/** BigInt to big-endian unsigned bytes of `length`. */
export function fromBigInt(x: bigint, length: number): Uint8Array {
  const h = x.toString(16).padStart(length * 2, "0");
  if (h.length > length * 2) throw new Error("fromBigInt: does not fit");
  return hex(h);
}

/**
 * The `Authorization` header of a signed operator request (the operator
 * API's single-use HMAC scheme), for tests that build raw requests.
 */
export function operatorAuthorization(
  token: string,
  method: string,
  url: string,
  body: string | undefined,
): Promise<string> {
  return signOperatorRequest(token, {
    method,
    url,
    body: new TextEncoder().encode(body ?? ""),
  });
}
