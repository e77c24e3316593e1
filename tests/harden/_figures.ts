/**
 * Shared pieces of the hardening proofs: the run size (the fast
 * size in CI, the long one under `deno task fuzz`) and the one-line figure
 * each proof prints, counting what it tried.
 *
 * @module
 */

/** True under `deno task fuzz` (HARDEN_LONG=1): the long sizes. */
export const LONG = Deno.env.get("HARDEN_LONG") === "1";

/**
 * Picks the CI size or the long size.
 *
 * @param fast the size in CI.
 * @param long the size under `deno task fuzz`.
 * @returns one of them.
 */
export function size(fast: number, long: number): number {
  return LONG ? long : fast;
}

/**
 * Prints a proof's figure on one line: `figure <name>: <text>`.
 *
 * @param name the proof's name.
 * @param text the counts.
 */
export function figure(name: string, text: string): void {
  console.log(`figure ${name}: ${text}`);
}

/** Counts occurrences by key. */
export class Tally {
  readonly #m = new Map<string, number>();
  /** Adds one to `key`. */
  add(key: string): void {
    this.#m.set(key, (this.#m.get(key) ?? 0) + 1);
  }
  /** The count for `key`. */
  get(key: string): number {
    return this.#m.get(key) ?? 0;
  }
  /** Sum of every count. */
  get total(): number {
    let t = 0;
    for (const v of this.#m.values()) t += v;
    return t;
  }
  /** `[key, count]` pairs. */
  entries(): [string, number][] {
    return [...this.#m];
  }
  /** Adds every count of another tally. */
  merge(other: Tally): void {
    for (const [k, v] of other.entries()) this.#m.set(k, (this.#m.get(k) ?? 0) + v);
  }
  /** `key=count` pairs, largest first. */
  toString(): string {
    return [...this.#m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(" ");
  }
}

/**
 * The cores a heavy proof runs on: the wasm core (the default, what the
 * servers use) in CI, every core in the long run.
 *
 * @param cores every core.
 * @returns the cores for this run.
 */
export function proofCores<T extends { name: string }>(cores: T[]): T[] {
  return LONG ? cores : cores.filter((c) => c.name === "wasm");
}
