/**
 * Load/store helpers shared by every primitive. All are `@inline`: they
 * compile to single wasm loads/stores (plus a byte swap for big-endian).
 */

/** Loads a big-endian 32-bit word. */
// @ts-ignore: decorator
@inline export function loadBe32(ptr: usize): u32 {
  return bswap<u32>(load<u32>(ptr));
}

/** Stores a big-endian 32-bit word. */
// @ts-ignore: decorator
@inline export function storeBe32(ptr: usize, v: u32): void {
  store<u32>(ptr, bswap<u32>(v));
}

/** Loads a big-endian 64-bit word. */
// @ts-ignore: decorator
@inline export function loadBe64(ptr: usize): u64 {
  return bswap<u64>(load<u64>(ptr));
}

/** Stores a big-endian 64-bit word. */
// @ts-ignore: decorator
@inline export function storeBe64(ptr: usize, v: u64): void {
  store<u64>(ptr, bswap<u64>(v));
}

/** Loads little-endian limb `i` (32 bits) of a limb array. */
// @ts-ignore: decorator
@inline export function limb(ptr: usize, i: i32): u32 {
  return load<u32>(ptr + (<usize>i << 2));
}

/** Stores little-endian limb `i` (32 bits) of a limb array. */
// @ts-ignore: decorator
@inline export function setLimb(ptr: usize, i: i32, v: u32): void {
  store<u32>(ptr + (<usize>i << 2), v);
}

/** All ones if `a == b`, else zero; no branch. */
// @ts-ignore: decorator
@inline export function ctEqMask(a: u32, b: u32): u32 {
  const x = a ^ b;
  return <u32>0 - ((~x & (x - 1)) >> 31);
}

/** Sets `len` bytes at `ptr` to zero. */
// @ts-ignore: decorator
@inline export function wipe(ptr: usize, len: usize): void {
  memory.fill(ptr, 0, len);
}
