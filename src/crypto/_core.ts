/**
 * The default-core rule of `src/crypto`: every function that needs a crypto
 * core takes `options.core`; without it, the default core from
 * {@link loadCore} (the wasm core) is used.
 *
 * Internal to `src/crypto`.
 *
 * @module
 */
import { type CryptoCore, loadCore } from "../core/mod.ts";
import { wasmCore } from "../core/wasm_core.ts";

/** Options every core-using function of `src/crypto` accepts. */
export interface CoreOptions {
  /** The crypto core to run on; default: `await loadCore()` (the wasm core). */
  core?: CryptoCore;
}

/**
 * Returns `options.core`, or the default core when none is given.
 *
 * @throws {TypeError} if `options` is not an object or `options.core` is not a core.
 */
export async function resolveCore(options: unknown): Promise<CryptoCore> {
  if (options === undefined) return await loadCore();
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const core = (options as { core?: unknown }).core;
  if (core === undefined) return await loadCore();
  checkCore(core);
  return core;
}

/**
 * Returns `options.core`, or the wasm core (the default of {@link loadCore},
 * which instantiates synchronously) for the synchronous functions (AES).
 *
 * @throws {TypeError} if `options` is not an object or `options.core` is not a core.
 */
export function resolveCoreSync(options: unknown): CryptoCore {
  if (options === undefined) return wasmCore;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const core = (options as { core?: unknown }).core;
  if (core === undefined) return wasmCore;
  checkCore(core);
  return core;
}

/** Throws `TypeError` unless `core` looks like a {@link CryptoCore}. */
export function checkCore(core: unknown): asserts core is CryptoCore {
  if (
    core === null || typeof core !== "object" ||
    typeof (core as CryptoCore).tdesEncryptEcb !== "function" ||
    typeof (core as CryptoCore).aesEncryptEcb !== "function" ||
    typeof (core as CryptoCore).modPow !== "function" ||
    typeof (core as CryptoCore).modPowPublic !== "function"
  ) {
    throw new TypeError(`options.core must be a CryptoCore, got ${describe(core)}`);
  }
}

/** A short description of a value's type for error messages (never its content). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object";
  return typeof value;
}

/** Throws `TypeError` unless `value` is a `Uint8Array`; the message names `name`. */
export function checkBytes(name: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
  }
}

/** Throws unless `value` is an integer in `[min, max]`. */
export function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Throws unless `value` is one of `allowed`. */
export function checkOneOf<T extends string | number>(
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    const list = allowed.map((a) => JSON.stringify(a)).join(", ");
    const got = typeof value === "string" || typeof value === "number"
      ? JSON.stringify(value)
      : describe(value);
    throw new RangeError(`${name} must be one of ${list}, got ${got}`);
  }
  return value as T;
}

/** Returns `options` as a record, or `{}` when undefined. */
export function optionsRecord(options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}
