/**
 * The least time of `n` calls of `f`, in ms: the quick probes' figure, the
 * run least disturbed by the other processes of a shared machine.
 *
 * @param f the call.
 * @param n how many times.
 * @returns the fastest call's time (ms).
 */
export function minTime(f: () => void, n: number): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}
