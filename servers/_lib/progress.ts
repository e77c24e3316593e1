/**
 * A one-line progress bar on stderr for long CLI operations (bulk issuance,
 * batch import): redrawn in place on a terminal, a line per 10% otherwise,
 * at most every 100 ms.
 *
 * @module
 */

/** A progress bar for `total` items. */
export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #tty: boolean;
  readonly #start = performance.now();
  #last = 0;
  #lastTenth = -1;
  readonly #enc = new TextEncoder();

  /**
   * @param label what is being done.
   * @param total how many items in all (at least 1).
   */
  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = Math.max(1, total);
    this.#tty = Deno.stderr.isTerminal();
  }

  /**
   * Shows `done` of the total.
   * @param done items done so far.
   */
  update(done: number): void {
    const now = performance.now();
    const tenth = Math.floor((10 * done) / this.#total);
    if (this.#tty ? now - this.#last < 100 : tenth === this.#lastTenth) return;
    this.#last = now;
    this.#lastTenth = tenth;
    this.#draw(done, now);
  }

  /** Shows the final state and ends the line. */
  done(): void {
    this.#draw(this.#total, performance.now());
    if (this.#tty) Deno.stderr.writeSync(this.#enc.encode("\n"));
  }

  #draw(done: number, now: number): void {
    const f = Math.min(1, done / this.#total);
    const width = 30;
    const full = Math.round(f * width);
    const s = (now - this.#start) / 1000;
    const rate = s > 0 ? Math.round(done / s) : 0;
    const line = `${this.#label} [${"#".repeat(full)}${".".repeat(width - full)}] ${
      (f * 100).toFixed(0).padStart(3)
    }% ${done}/${this.#total} ${rate}/s`;
    Deno.stderr.writeSync(this.#enc.encode(this.#tty ? `\r${line}` : `${line}\n`));
  }
}
