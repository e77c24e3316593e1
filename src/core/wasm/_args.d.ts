/**
 * Types of _args.js: the argument checks of the package's CryptoCore API.
 *
 * @module
 */
import type { RsaPrivateKey } from "./mod.d.ts";

/** Largest modulus accepted, in bits. */
export const MAX_MODULUS_BITS: 4096;
/** Throws `TypeError` unless `value` is a `Uint8Array`. */
export function checkBytes(name: string, value: unknown): asserts value is Uint8Array;
/** Checks a TDES key: 16 or 24 bytes. */
export function checkTdesKey(key: unknown): asserts key is Uint8Array;
/** Checks data of whole 8-byte blocks (empty allowed). */
export function checkBlocks(name: string, data: unknown): asserts data is Uint8Array;
/** Checks an 8-byte IV. */
export function checkIv(iv: unknown): asserts iv is Uint8Array;
/** Checks an AES key: 16, 24 or 32 bytes. */
export function checkAesKey(key: unknown): asserts key is Uint8Array;
/** Checks `data` of whole 16-byte blocks (empty allowed). */
export function checkAesBlocks(data: unknown): asserts data is Uint8Array;
/** Checks a 16-byte AES IV. */
export function checkAesIv(iv: unknown): asserts iv is Uint8Array;
/** Strips leading zero bytes (a view, not a copy). */
export function stripLeadingZeros(x: Uint8Array): Uint8Array;
/** Compares two big-endian unsigned numbers: -1, 0 or 1. */
export function compareBig(a: Uint8Array, b: Uint8Array): number;
/** Checks a modulus: bytes, odd, greater than 1, at most {@link MAX_MODULUS_BITS}. */
export function checkModulus(name: string, m: unknown): asserts m is Uint8Array;
/** Checks the arguments of `modPow`. */
export function checkModPow(base: unknown, exponent: unknown, modulus: unknown): void;
/** Checks the arguments of `rsaPrivate`. */
export function checkRsaPrivate(key: unknown, input: unknown): asserts key is RsaPrivateKey;
/** Left-pads a big-endian number to `length` bytes (throws if it does not fit). */
export function padTo(x: Uint8Array, length: number): Uint8Array;
