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
  modPowPublic(baseLen: number, expLen: number, modLen: number): number;
  /** 1 if this is the fma build and its multiply-add is fused here, else 0. */
  pairFused(): number;
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

/**
 * The two builds: "simd" (wasm SIMD) and "fma" (relaxed SIMD: the RSA CRT
 * private operation on paired f64 kernels with fused multiply-add).
 */
export type CoreVariant = "simd" | "fma";

/** True if this runtime validates relaxed SIMD and fuses `f64x2.relaxed_madd`. */
export function fusedMultiplyAdd(): boolean;
/** The build the core uses here: "fma" where the multiply-add is fused, else "simd" (decided once). */
export function coreVariant(): CoreVariant;
/** A build's compiled module (default: {@link coreVariant}; compiled once, on first use, synchronously). */
export function coreModule(variant?: CoreVariant): WebAssembly.Module;
/** Compiles a build asynchronously first (browsers' main thread); later calls are synchronous. */
export function compileCoreAsync(variant?: CoreVariant): Promise<WebAssembly.Module>;
/** The exports of a build's single cached instance (default: {@link coreVariant}). */
export function coreExports(variant?: CoreVariant): CoreExports;
