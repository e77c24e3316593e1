/**
 * The memory ABI: every input and output crosses through fixed buffers in
 * linear memory, whose addresses JS reads once from the exported getters.
 * No AssemblyScript object or string ever crosses into JS.
 *
 * | buffer  | size     | use                                                   |
 * |---------|----------|-------------------------------------------------------|
 * | IO      | 64 KiB   | TDES and AES data (in place), SHA input               |
 * | KEY     | 24 bytes | TDES key (16-byte keys use the first 16)              |
 * | IV      | 8 bytes  | CBC IV in; the last chaining block out (for chunking) |
 * | DIGEST  | 32 bytes | SHA-1 / SHA-256 output                                |
 * | AES_KEY | 32 bytes | AES key (16- and 24-byte keys use the first bytes)    |
 * | AES_IV  | 16 bytes | AES CBC IV in; the last chaining block out            |
 * | BN[0-5] | 512 each | big-endian big-number inputs                          |
 * | BN_OUT  | 2 KiB    | big-endian big-number output                          |
 */

/** Size of the IO buffer; JS splits longer inputs into chunks of this size. */
export const IO_SIZE: i32 = 65536;
/** Size of each big-number input slot in bytes (4096 bits). */
export const BN_SLOT_SIZE: i32 = 512;

export const IO: usize = memory.data(IO_SIZE, 16);
export const KEY: usize = memory.data(24, 16);
export const IV: usize = memory.data(8, 16);
export const DIGEST: usize = memory.data(32, 16);
export const AES_KEY: usize = memory.data(32, 16);
export const AES_IV: usize = memory.data(16, 16);
export const BN: usize = memory.data(6 * BN_SLOT_SIZE, 16);
export const BN_OUT: usize = memory.data(4 * BN_SLOT_SIZE, 16);

/** Address of BN slot `i` (0..5). */
// @ts-ignore: decorator
@inline export function bnSlot(i: i32): usize {
  return BN + <usize>(i * BN_SLOT_SIZE);
}
