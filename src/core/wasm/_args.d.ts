/**
 * Types of _args.js (internal argument checks).
 *
 * @module
 */
export const MAX_MODULUS_BITS: number;
export function checkBytes(name: string, value: unknown): asserts value is Uint8Array;
export function checkTdesKey(key: unknown): asserts key is Uint8Array;
export function checkBlocks(name: string, data: unknown): asserts data is Uint8Array;
export function checkIv(iv: unknown): asserts iv is Uint8Array;
export function stripLeadingZeros(x: Uint8Array): Uint8Array;
export function compareBig(a: Uint8Array, b: Uint8Array): number;
export function checkModulus(name: string, m: unknown): asserts m is Uint8Array;
export function checkModPow(base: unknown, exponent: unknown, modulus: unknown): void;
export function checkRsaPrivate(key: unknown, input: unknown): void;
export function padTo(x: Uint8Array, length: number): Uint8Array;
