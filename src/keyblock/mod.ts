/**
 * TR-31 / ANSI X9.143 key blocks: wrap a key with its attributes under a key
 * block protection key (KBPK), and unwrap it again after checking every field
 * and the MAC. Versions A and C (Key Variant Binding, TDES), B (TDES key
 * derivation), D (AES key derivation) of ANSI X9.143:2021 / ASC X9
 * TR-31:2018, and E of ISO 20038:2017.
 *
 * Unwrap runs its checks in the fixed order of {@link KEY_BLOCK_CHECKS}; the
 * first that fails throws a {@link KeyBlockError} with that check as `code`,
 * and no key is returned. The MAC is compared in constant time, and the
 * derived keys and clear payload are zeroed once used.
 *
 * @example
 * ```ts
 * import { loadCore } from "../core/mod.ts";
 * import { unwrapKeyBlock, wrapKeyBlock } from "./mod.ts";
 * const core = await loadCore("js");
 * const kbpk = crypto.getRandomValues(new Uint8Array(32));
 * const tmk = crypto.getRandomValues(new Uint8Array(16));
 * const block = await wrapKeyBlock(kbpk, "D0000K0TB00E0000", tmk, { core });
 * const { header, key } = await unwrapKeyBlock(kbpk, block, { core });
 * ```
 *
 * @module
 */
import { type CryptoCore, loadCore } from "../core/mod.ts";
import { describe, fromHex, isHex, randomBytes, toHex, zeroize } from "../crypto/mod.ts";
import { bind, unbind } from "./_binding.ts";
import { ciphersFor } from "./_ciphers.ts";
import { type DerivedKeys, deriveKeys, zeroizeDerived } from "./_derive.ts";
import { KEY_LENGTHS, type KeyBlockVersion, VERSION_PARAMS } from "./_tables.ts";
import { KeyBlockError } from "./errors.ts";
import { checkHeaderObject, formatHeader, type KeyBlockHeader, parseHeader } from "./header.ts";

export { KEY_BLOCK_CHECKS, KeyBlockError, type KeyBlockErrorCode } from "./errors.ts";
export { type DerivedKeys, deriveKeys, zeroizeDerived } from "./_derive.ts";
export {
  type KeyBlockHeader,
  type OptionalBlock,
  type ParsedHeader,
  parseHeader,
  readKeyBlockHeader,
} from "./header.ts";
export {
  ALGORITHMS,
  type Digit,
  EXPORTABILITY,
  type Exportability,
  KEY_CONTEXTS,
  KEY_LENGTHS,
  KEY_USAGES,
  type KeyAlgorithm,
  type KeyBlockVersion,
  type KeyContext,
  type KeyUsage,
  type ModeOfUse,
  MODES_OF_USE,
  OPTIONAL_BLOCK_IDS,
  VERSION_PARAMS,
  type VersionParams,
  VERSIONS,
} from "./_tables.ts";

/** Options of {@link wrapKeyBlock}. */
export interface WrapOptions {
  /** The crypto core; default `await loadCore()`. */
  core?: CryptoCore;
  /**
   * Key-length obfuscation (X9.143:2021 6.4): `true` (default) pads the key
   * field with random bytes up to the longest key of the header's algorithm
   * (TDES 24, AES 32, DES 8; no padding for RSA, EC, DSA, HMAC), so the block
   * does not reveal the key's length; `false` pads only to the cipher block;
   * a number pads to that many key bytes (at least the key's length).
   */
  maskKeyLength?: boolean | number;
}

/** Options of {@link unwrapKeyBlock}. */
export interface UnwrapOptions {
  /** The crypto core; default `await loadCore()`. */
  core?: CryptoCore;
}

/** The result of {@link unwrapKeyBlock}. */
export interface UnwrappedKey {
  /** The authenticated header, including every optional block as read. */
  header: Required<KeyBlockHeader>;
  /** The clear key; the caller owns it and should zero it after use. */
  key: Uint8Array;
}

/**
 * A KBPK prepared for many blocks: it holds its own copy of the KBPK and the
 * KBEK/KBAK derived from it (X9.143:2021 section 7), with the KBAK's CMAC
 * subkeys K1/K2 (SP 800-38B 6.1) for the CMAC versions, per key block version,
 * derived on first use and then reused, so a caller that wraps or unwraps
 * many blocks under one KBPK (the HSM under its LMK) runs the CMAC KDF once
 * instead of once per block. The keys live in this object only (never in a
 * module-level cache); {@link PreparedKbpk.destroy} zeroes the KBPK copy and
 * every derived key, after which the object refuses use. Create it with
 * {@link prepareKbpk}.
 */
export class PreparedKbpk {
  #kbpk: Uint8Array | null;
  #keys = new Map<KeyBlockVersion, Promise<DerivedKeys>>();
  #core: CryptoCore;

  /** Internal: use {@link prepareKbpk}. */
  constructor(kbpk: Uint8Array, core: CryptoCore) {
    this.#kbpk = kbpk.slice();
    this.#core = core;
  }

  /** The KBPK's length in bytes (0 once destroyed). */
  get length(): number {
    return this.#kbpk?.length ?? 0;
  }

  /** Whether {@link PreparedKbpk.destroy} has run. */
  get destroyed(): boolean {
    return this.#kbpk === null;
  }

  /** Internal: the KBPK bytes, for the length check. */
  _kbpk(): Uint8Array {
    if (this.#kbpk === null) throw new TypeError("kbpk is a destroyed PreparedKbpk");
    return this.#kbpk;
  }

  /** Internal: the derived keys of `version` (owned by this object: do not zero them). */
  _keys(version: KeyBlockVersion, core: CryptoCore): Promise<DerivedKeys> {
    const kbpk = this._kbpk();
    if (core !== this.#core) return deriveKeys(version, kbpk, core);
    let p = this.#keys.get(version);
    if (p === undefined) {
      p = deriveKeys(version, kbpk, core);
      this.#keys.set(version, p);
      p.catch(() => this.#keys.delete(version));
    }
    return p;
  }

  /** Zeroes the KBPK copy, every derived key and CMAC subkey; later use throws a TypeError. */
  async destroy(): Promise<void> {
    if (this.#kbpk === null) return;
    zeroize(this.#kbpk);
    this.#kbpk = null;
    const pending = [...this.#keys.values()];
    this.#keys.clear();
    for (const p of pending) {
      try {
        zeroizeDerived(await p);
      } catch {
        // a failed derivation left no key to zero
      }
    }
  }
}

/**
 * Prepares a KBPK for many {@link wrapKeyBlock} / {@link unwrapKeyBlock}
 * calls: the result is passed in place of the KBPK bytes, and the KBEK/KBAK
 * are derived once per key block version instead of once per block. The
 * object copies `kbpk` (the caller may zero its own copy); the caller calls
 * `destroy()` when done to zero the copy and the derived keys.
 *
 * @param kbpk the key block protection key (its length is checked against
 *   each block's version when used).
 * @param options `core`: the core the keys are derived on (default
 *   `await loadCore()`); calls on another core derive afresh each time.
 * @returns the prepared KBPK.
 * @throws {TypeError} if `kbpk` is not a Uint8Array.
 * @throws {RangeError} if `kbpk` is not 16, 24 or 32 bytes.
 */
export async function prepareKbpk(
  kbpk: Uint8Array,
  options: UnwrapOptions = {},
): Promise<PreparedKbpk> {
  checkBytes("kbpk", kbpk);
  if (kbpk.length !== 16 && kbpk.length !== 24 && kbpk.length !== 32) {
    throw new RangeError(`kbpk must be 16, 24 or 32 bytes, got ${kbpk.length}`);
  }
  return new PreparedKbpk(kbpk, await defaultCore(options.core));
}

/** The KBPK bytes and a getter of its derived keys, with whether the caller owns (zeroes) them. */
function kbpkSource(
  kbpk: Uint8Array | PreparedKbpk,
): { bytes: Uint8Array; prepared: PreparedKbpk | null } {
  if (kbpk instanceof PreparedKbpk) return { bytes: kbpk._kbpk(), prepared: kbpk };
  checkBytes("kbpk", kbpk);
  return { bytes: kbpk, prepared: null };
}

async function keysFor(
  version: KeyBlockVersion,
  src: { bytes: Uint8Array; prepared: PreparedKbpk | null },
  core: CryptoCore,
): Promise<{ keys: DerivedKeys; owned: boolean }> {
  if (src.prepared) return { keys: await src.prepared._keys(version, core), owned: false };
  return { keys: await deriveKeys(version, src.bytes, core), owned: true };
}

/** Longest key the 2-byte bit-length field can describe, in bytes. */
const MAX_KEY_BYTES = 8191;

function defaultCore(core: CryptoCore | undefined): Promise<CryptoCore> {
  return core ? Promise.resolve(core) : loadCore();
}

function checkBytes(name: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
  }
}

function checkKbpkLength(version: keyof typeof VERSION_PARAMS, kbpk: Uint8Array): void {
  const allowed = VERSION_PARAMS[version].kbpkLengths;
  if (!allowed.includes(kbpk.length)) {
    throw new KeyBlockError(
      "kbpk_length",
      `kbpk must be ${allowed.join(", ")} bytes (${
        VERSION_PARAMS[version].cipher.toUpperCase()
      }) for version ${version}, got ${kbpk.length}`,
    );
  }
}

/**
 * Wraps a key in a key block.
 *
 * @param kbpkIn the key block protection key: 16 or 24 bytes (TDES) for
 *   versions A, B, C; 16, 24 or 32 bytes (AES) for D and E; or a
 *   {@link PreparedKbpk} of one.
 * @param header the header: a {@link KeyBlockHeader}, or its text (the
 *   16-character fixed header plus optional blocks; the length field as
 *   written is ignored and recomputed, and the PB padding block is
 *   recomputed).
 * @param key the key to wrap: for algorithm T 8, 16 or 24 bytes, for A 16, 24
 *   or 32 bytes, for D 8 bytes; any length for R, E, S, H. A symmetric key
 *   may not be longer than a KBPK of the same cipher, and versions A, B and C
 *   cannot carry AES keys.
 * @param options `core`, and `maskKeyLength` (see {@link WrapOptions}).
 * @returns the key block, printable ASCII.
 * @throws {TypeError} for an argument of the wrong type.
 * @throws {RangeError} for a key length the header's algorithm and version do
 *   not allow, or a bad `maskKeyLength`.
 * @throws {KeyBlockError} for a header field outside its table, or a KBPK
 *   length the version does not allow (`kbpk_length`).
 */
export async function wrapKeyBlock(
  kbpkIn: Uint8Array | PreparedKbpk,
  header: KeyBlockHeader | string,
  key: Uint8Array,
  options: WrapOptions = {},
): Promise<string> {
  const src = kbpkSource(kbpkIn);
  const kbpk = src.bytes;
  checkBytes("key", key);
  const h = typeof header === "string"
    ? checkHeaderObject(parseHeader(header, false).header)
    : checkHeaderObject(header);
  const params = VERSION_PARAMS[h.version];
  checkKbpkLength(h.version, kbpk);

  const lengths = KEY_LENGTHS[h.algorithm];
  if (key.length === 0 || key.length > MAX_KEY_BYTES) {
    throw new RangeError(`key must be 1 to ${MAX_KEY_BYTES} bytes, got ${key.length}`);
  }
  if (lengths && !lengths.includes(key.length)) {
    throw new RangeError(
      `key must be ${lengths.join(", ")} bytes for algorithm ${h.algorithm}, got ${key.length}`,
    );
  }
  if (params.cipher === "tdes" && h.algorithm === "A") {
    throw new RangeError(
      `an AES key (algorithm A) cannot be wrapped under a TDES KBPK (version ${h.version}); use version D`,
    );
  }
  const sameCipher = (params.cipher === "tdes" && (h.algorithm === "T" || h.algorithm === "D")) ||
    (params.cipher === "aes" && h.algorithm === "A");
  if (sameCipher && key.length > kbpk.length) {
    throw new RangeError(
      `key (${key.length} bytes) must not be longer than the kbpk (${kbpk.length} bytes) of the same cipher`,
    );
  }

  const mask = options.maskKeyLength ?? true;
  let fieldLength: number;
  if (mask === true) fieldLength = lengths ? lengths[lengths.length - 1] : key.length;
  else if (mask === false) fieldLength = key.length;
  else if (typeof mask === "number" && Number.isInteger(mask)) {
    if (mask < key.length || mask > MAX_KEY_BYTES) {
      throw new RangeError(
        `maskKeyLength must be from the key length (${key.length}) to ${MAX_KEY_BYTES}, got ${mask}`,
      );
    }
    fieldLength = mask;
  } else {
    throw new TypeError(`maskKeyLength must be a boolean or an integer, got ${mask}`);
  }

  let payloadLength = 2 + fieldLength;
  if (params.blockAligned) {
    payloadLength = Math.ceil(payloadLength / params.blockSize) * params.blockSize;
  }
  const payload = randomBytes(payloadLength);
  payload[0] = (key.length * 8) >> 8;
  payload[1] = (key.length * 8) & 0xff;
  payload.set(key, 2);

  const headerText = formatHeader(h, () => 2 * payloadLength + 2 * params.macLength);
  const core = await defaultCore(options.core);
  const { keys, owned } = await keysFor(h.version, src, core);
  try {
    const { ciphertext, mac } = bind(ciphersFor(core), h.version, keys, headerText, payload);
    return headerText + toHex(ciphertext) + toHex(mac);
  } finally {
    zeroize(payload);
    if (owned) zeroizeDerived(keys);
  }
}

/**
 * Unwraps a key block: checks its header, its length, the KBPK length, the
 * MAC and the decrypted key length, in the order of {@link KEY_BLOCK_CHECKS}.
 *
 * @param kbpkIn the key block protection key, or a {@link PreparedKbpk} of one.
 * @param keyBlock the key block.
 * @param options `core`.
 * @returns the authenticated header and the clear key.
 * @throws {TypeError} if `kbpk` is not a Uint8Array or `keyBlock` not a string.
 * @throws {KeyBlockError} naming the first check that failed; no key is
 *   returned and nothing decrypted is kept.
 */
export async function unwrapKeyBlock(
  kbpkIn: Uint8Array | PreparedKbpk,
  keyBlock: string,
  options: UnwrapOptions = {},
): Promise<UnwrappedKey> {
  const src = kbpkSource(kbpkIn);
  const kbpk = src.bytes;
  if (typeof keyBlock !== "string") {
    throw new TypeError(`keyBlock must be a string, got ${typeof keyBlock}`);
  }
  const { header, headerLength } = parseHeader(keyBlock, true);
  const v = header.version;
  const params = VERSION_PARAMS[v];
  checkKbpkLength(v, kbpk);
  if (params.blockAligned && keyBlock.length % params.blockSize !== 0) {
    throw new KeyBlockError(
      "block_alignment",
      `key block length must be a multiple of ${params.blockSize} for version ${v}, got ${keyBlock.length}`,
    );
  }
  const body = keyBlock.slice(headerLength);
  if (!isHex(body)) {
    throw new KeyBlockError(
      "payload_hex",
      `payload and MAC (${body.length} characters after the header) must be uppercase hex of even length`,
    );
  }
  const cipherLength = body.length / 2 - params.macLength;
  const minimum = params.blockAligned ? params.blockSize : 3;
  if (
    cipherLength < minimum || (params.blockAligned && cipherLength % params.blockSize !== 0)
  ) {
    throw new KeyBlockError(
      "payload_length",
      `encrypted payload must be ${
        params.blockAligned ? `whole ${params.blockSize}-byte blocks` : "at least 3 bytes"
      } before the ${params.macLength}-byte MAC, got ${Math.max(cipherLength, 0)} bytes`,
    );
  }
  const ciphertext = fromHex(body.slice(0, 2 * cipherLength));
  const mac = fromHex(body.slice(2 * cipherLength));
  const headerText = keyBlock.slice(0, headerLength);

  const core = await defaultCore(options.core);
  const { keys, owned } = await keysFor(v, src, core);
  let payload: Uint8Array | null = null;
  try {
    payload = unbind(ciphersFor(core), v, keys, headerText, ciphertext, mac);
    if (payload === null) {
      throw new KeyBlockError(
        "mac",
        "key block MAC does not verify: wrong KBPK, or the block was altered",
      );
    }
    const bits = (payload[0] << 8) | payload[1];
    if (bits % 8 !== 0) {
      throw new KeyBlockError(
        "key_length_bits",
        `decrypted key length must be a whole number of bytes, got ${bits} bits`,
      );
    }
    if (bits === 0 || 2 + bits / 8 > payload.length) {
      throw new KeyBlockError(
        "key_length",
        `decrypted key length (${bits / 8} bytes) must be from 1 to the payload's ${
          payload.length - 2
        } bytes`,
      );
    }
    return { header, key: payload.slice(2, 2 + bits / 8) };
  } finally {
    zeroize(payload ?? undefined);
    if (owned) zeroizeDerived(keys);
  }
}
