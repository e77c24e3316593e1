/**
 * Generates asm/mont_kernels.ts, the size-specialised Montgomery kernels of
 * the wasm core, as AssemblyScript source (build_wasm.ts serves it to asc in
 * memory; it is never written to the repository).
 *
 * One multiply and one square per digit count k in {@link KERNEL_DIGITS}
 * (27-bit digits), each fully unrolled: product scanning (Montgomery 1985; Koc, Acar and Kaliski 1996,
 * "FIPS" form) with every address and every loop bound a constant. A column's
 * digit products are summed four at a time in wasm SIMD (`i64x2.extmul` of
 * 32-bit lanes) with the remainder in scalar i64, and the quotient digits of
 * the last few columns are taken from locals rather than reloaded, so the
 * serial chain from one quotient digit to the next is a few scalar
 * instructions.
 *
 * The kernels skip Montgomery's final subtraction: for a modulus n with
 * 4n <= R = 2^(27k) and inputs below 2n, (a b + m n) / R < 2n, so every
 * intermediate of an exponentiation stays below 2n and fits k digits. The
 * caller (modexp.ts) uses them only when n has at most 27k - 2 bits and
 * reduces the final result once. The instruction sequence depends on k only:
 * no branch, no address and no loop bound depends on a digit's value.
 *
 * @module
 */

/**
 * Digit counts with a specialised kernel (27-bit digits): 38 digits hold a
 * 1024-bit modulus, the CRT half of RSA-2048. A kernel's size grows with k^2
 * (tens of KB of wasm at 38 digits), and a 76-digit (2048-bit) kernel
 * measured no faster than the generic loops, so other sizes use those.
 */
export const KERNEL_DIGITS = [38] as const;

/** Quotient digits this recent are read from locals, never from the stored copy. */
const RECENT = 4;

const MASK = "0x07ffffff";

/** One column's terms as index pairs (x index, y index into a reversed array). */
interface Column {
  /** Pairs summed by SIMD, as start indices of runs of four. */
  vec: Array<[number, number]>;
  /** Pairs summed one by one. */
  one: Array<[number, number]>;
}

/**
 * Splits the pairs (i, k - 1 - s + i), i in [lo, hi], of column s into runs
 * of four (SIMD) and the rest (scalar).
 */
function split(lo: number, hi: number, s: number, k: number): Column {
  const col: Column = { vec: [], one: [] };
  let i = lo;
  for (; i + 3 <= hi; i += 4) col.vec.push([i, k - 1 - s + i]);
  for (; i <= hi; i++) col.one.push([i, k - 1 - s + i]);
  return col;
}

/** Statements adding `col`'s SIMD runs of x (pointer expression) and y into vector `v`. */
function vecTerms(col: Column, x: string, y: string, v: string, out: string[]): void {
  for (const [i, j] of col.vec) {
    out.push(`  x = v128.load(${x}, ${4 * i}); y = v128.load(${y}, ${4 * j});`);
    out.push(`  ${v}0 = i64x2.add(${v}0, i64x2.extmul_low_i32x4_u(x, y));`);
    out.push(`  ${v}1 = i64x2.add(${v}1, i64x2.extmul_high_i32x4_u(x, y));`);
  }
}

/** Sum of lanes of `v`0 + `v`1, or null if no SIMD run used them. */
function lanes(col: Column, v: string, out: string[]): string | null {
  if (col.vec.length === 0) return null;
  out.push(`  ${v}0 = i64x2.add(${v}0, ${v}1);`);
  return `(i64x2.extract_lane(${v}0, 0) + i64x2.extract_lane(${v}0, 1))`;
}

/** Scalar product terms of x and y (pointer expressions). */
function oneTerms(col: Column, x: string, y: string): string[] {
  return col.one.map(([i, j]) => `<u64>load<u32>(${x}, ${4 * i}) * <u64>load<u32>(${y}, ${4 * j})`);
}

/**
 * The reduction half of column s: the m n terms (pairs (j, s - j), j in [lo,
 * hi]); quotient digits older than RECENT by SIMD from KQ, newer ones from
 * locals. Returns [terms off the chain, terms on it].
 */
function reductionTerms(s: number, k: number, out: string[]): [string[], string[]] {
  const lo = Math.max(0, s - k + 1);
  const hi = Math.min(s - 1, k - 1);
  const stored = Math.min(hi, Math.min(s, k) - 1 - RECENT);
  const col = split(lo, stored, s, k);
  vecTerms(col, "KQ", "nr", "w", out);
  const off: string[] = [];
  const l = lanes(col, "w", out);
  if (l) off.push(l);
  off.push(...oneTerms(col, "KQ", "nr"));
  const on: string[] = [];
  for (let j = Math.max(lo, stored + 1); j <= hi; j++) {
    on.push(`m${j} * <u64>load<u32>(n, ${4 * (s - j)})`);
  }
  return [off, on];
}

/** Closes column s: quotient digit (lower columns) or output digit (upper columns). */
function closeColumn(s: number, k: number, pre: string[], chain: string[], out: string[]): void {
  out.push(`  pre = ${pre.length ? pre.join(" + ") : "0"};`);
  out.push(`  acc = acc + pre${chain.map((t) => " + " + t).join("")};`);
  if (s < k) {
    out.push(`  m${s} = <u64>((<u32>acc * n0) & ${MASK});`);
    out.push(`  store<u32>(KQ, <u32>m${s}, ${4 * s});`);
    out.push(`  acc = (acc + m${s} * <u64>load<u32>(n)) >> 27;`);
  } else {
    out.push(`  store<u32>(r, <u32>acc & ${MASK}, ${4 * (s - k)});`);
    out.push(`  acc >>= 27;`);
  }
}

/** dst[t] = src[k - 1 - t], four digits at a time where they fit. */
function reverse(dst: string, src: string, k: number, out: string[]): void {
  let g = 0;
  for (; 4 * g + 3 <= k - 1; g++) {
    out.push(
      `  v128.store(${dst}, i8x16.shuffle(v128.load(${src}, ${16 * g}), x, ` +
        `12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3), ${4 * (k - 4 - 4 * g)});`,
    );
  }
  for (let i = 4 * g; i < k; i++) {
    out.push(`  store<u32>(${dst}, load<u32>(${src}, ${4 * i}), ${4 * (k - 1 - i)});`);
  }
}

function header(k: number, out: string[]): void {
  out.push(`  let acc: u64 = 0;`);
  out.push(`  let pre: u64 = 0;`);
  out.push(`  let x = i64x2.splat(0);`);
  out.push(`  let y = i64x2.splat(0);`);
  out.push(`  let u0 = i64x2.splat(0);`);
  out.push(`  let u1 = i64x2.splat(0);`);
  out.push(`  let w0 = i64x2.splat(0);`);
  out.push(`  let w1 = i64x2.splat(0);`);
  for (let j = 0; j < k; j++) out.push(`  let m${j}: u64 = 0;`);
}

function resetVectors(out: string[]): void {
  out.push(`  u0 = i64x2.splat(0); u1 = u0; w0 = u0; w1 = u0;`);
}

/** montMul{k}: r = a b R^-1 (mod n), a, b < 2n, result < 2n; r may alias a or b. */
function mulKernel(k: number): string {
  const out: string[] = [];
  out.push(`/** r = a b R^-1 mod n for k = ${k} digits, lazily reduced (below 2n). */`);
  out.push(
    `function montMul${k}(r: usize, a: usize, b: usize, n: usize, nr: usize, n0: u32): void {`,
  );
  header(k, out);
  reverse("KB", "b", k, out);
  for (let s = 0; s < 2 * k - 1; s++) {
    resetVectors(out);
    const lo = Math.max(0, s - k + 1);
    const hi = Math.min(s, k - 1);
    const prod = split(lo, hi, s, k);
    vecTerms(prod, "a", "KB", "u", out);
    const pre: string[] = [];
    const l = lanes(prod, "u", out);
    if (l) pre.push(l);
    pre.push(...oneTerms(prod, "a", "KB"));
    const [off, on] = reductionTerms(s, k, out);
    closeColumn(s, k, [...pre, ...off], on, out);
  }
  out.push(`  store<u32>(r, <u32>acc, ${4 * (k - 1)});`);
  out.push(`}`);
  return out.join("\n");
}

/** montSqr{k}: r = a^2 R^-1 (mod n), a < 2n, result < 2n; r may alias a. */
function sqrKernel(k: number): string {
  const out: string[] = [];
  out.push(`/** r = a^2 R^-1 mod n for k = ${k} digits, lazily reduced (below 2n). */`);
  out.push(`function montSqr${k}(r: usize, a: usize, n: usize, nr: usize, n0: u32): void {`);
  header(k, out);
  reverse("KB", "a", k, out);
  for (let s = 0; s < 2 * k - 1; s++) {
    resetVectors(out);
    const lo = Math.max(0, s - k + 1);
    const hi = ((s + 1) >> 1) - 1; // cross products i < s - i
    const cross = split(lo, hi, s, k);
    vecTerms(cross, "a", "KB", "u", out);
    const terms: string[] = [];
    const l = lanes(cross, "u", out);
    if (l) terms.push(l);
    terms.push(...oneTerms(cross, "a", "KB"));
    const pre: string[] = [];
    if (terms.length) pre.push(`((${terms.join(" + ")}) << 1)`);
    if ((s & 1) === 0) {
      pre.push(`<u64>load<u32>(a, ${2 * s}) * <u64>load<u32>(a, ${2 * s})`);
    }
    const [off, on] = reductionTerms(s, k, out);
    closeColumn(s, k, [...pre, ...off], on, out);
  }
  out.push(`  store<u32>(r, <u32>acc, ${4 * (k - 1)});`);
  out.push(`}`);
  return out.join("\n");
}

/** The AssemblyScript source of asm/mont_kernels.ts. */
export function montKernelsSource(): string {
  const maxK = Math.max(...KERNEL_DIGITS);
  const ids = KERNEL_DIGITS.map((k, i) => ({ k, id: i + 1 }));
  const parts: string[] = [
    "// Generated by scripts/_mont_kernels.ts at build time. Do not edit.",
    "// Size-specialised, fully unrolled Montgomery multiply and square (27-bit digits,",
    "// product scanning, no final subtraction: results stay below 2n when 4n <= R).",
    "",
    `const KB: usize = memory.data(${4 * (maxK + 4)}, 16); // an operand, digits reversed`,
    `const KQ: usize = memory.data(${4 * (maxK + 4)}, 16); // Montgomery quotient digits`,
    "",
    "/** Zeroes the kernels' scratch (an operand and the quotient digits). */",
    "export function kernelWipe(): void {",
    `  memory.fill(KB, 0, ${4 * (maxK + 4)});`,
    `  memory.fill(KQ, 0, ${4 * (maxK + 4)});`,
    "}",
    "",
    "/** Kernel id for k digits (0: none; the generic code applies). */",
    "export function kernelFor(k: i32): i32 {",
    ...ids.map(({ k, id }) => `  if (k == ${k}) return ${id};`),
    "  return 0;",
    "}",
    "",
    "/** r = a b R^-1 mod n with kernel `id`; nr is n with its digits reversed. */",
    "export function kernelMul(id: i32, r: usize, a: usize, b: usize, n: usize, nr: usize, " +
    "n0: u32): void {",
    ...ids.map(({ k, id }) => `  if (id == ${id}) montMul${k}(r, a, b, n, nr, n0);`),
    "}",
    "",
    "/** r = a^2 R^-1 mod n with kernel `id`; nr is n with its digits reversed. */",
    "export function kernelSqr(id: i32, r: usize, a: usize, n: usize, nr: usize, n0: u32): void {",
    ...ids.map(({ k, id }) => `  if (id == ${id}) montSqr${k}(r, a, n, nr, n0);`),
    "}",
    "",
  ];
  for (const k of KERNEL_DIGITS) parts.push(mulKernel(k), "", sqrKernel(k), "");
  return parts.join("\n");
}
