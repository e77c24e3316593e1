/**
 * Types of loader.js: the exports of the wasm crypto core (asm/index.ts).
 * Pointers are byte offsets into `memory`; lengths are bytes.
 *
 * @module
 */

/** The wasm core's exports (the fixed-buffer ABI of asm/buffers.ts). */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  ioPtr(): number;
  ioSize(): number;
  keyPtr(): number;
  ivPtr(): number;
  digestPtr(): number;
  bnPtr(): number;
  bnSlotSize(): number;
  bnOutPtr(): number;
  tdesEcb(keyLen: number, len: number, decrypt: number): void;
  tdesCbc(keyLen: number, len: number, decrypt: number): void;
  aesKeyPtr(): number;
  aesIvPtr(): number;
  aesEcb(keyLen: number, len: number, decrypt: number): void;
  aesCbc(keyLen: number, len: number, decrypt: number): void;
  sha1(len: number): void;
  sha1Init(): void;
  sha1Update(len: number): void;
  sha1Final(): void;
  sha1Wipe(): void;
  sha256(len: number): void;
  sha256Init(): void;
  sha256Update(len: number): void;
  sha256Final(): void;
  sha256Wipe(): void;
  bnWipe(): void;
  modPow(baseLen: number, expLen: number, modLen: number): number;
  rsaPrivate(
    inLen: number,
    pLen: number,
    qLen: number,
    dpLen: number,
    dqLen: number,
    qiLen: number,
  ): number;
  issuePtr(): number;
  issueReservePtr(): number;
  issueReserveSlots(): number;
  issueBegin(): void;
  issueEnd(): void;
  issueTmk(bhLen: number, checkHash: number, slot: number): number;
  issueWipeOutputs(): void;
}

/** The compiled module (compiled once, on first use, synchronously). */
export function coreModule(): WebAssembly.Module;
/** Compiles asynchronously first (browsers' main thread); later calls are synchronous. */
export function compileCoreAsync(): Promise<WebAssembly.Module>;
/** The exports of the single cached instance. */
export function coreExports(): CoreExports;
