/**
 * A one-line progress bar on stderr for long CLI operations (bulk issuance,
 * batch import): redrawn in place on a terminal, a line per 10% otherwise,
 * at most every 100 ms. Its rate counts the items done since the bar was
 * made, not those done before (a resumed run).
 *
 * @module
 */

/** Options of {@link ProgressBar}. */
export interface ProgressOptions {
  /** Items already done when the bar is made: in the count, not in the rate. */
  base?: number;
  /** The clock in milliseconds (default `performance.now`). */
  now?: () => number;
  /** Writes a piece of the bar (default: stderr). */
  write?: (text: string) => void;
  /** Redraw in place (default: whether stderr is a terminal). */
  tty?: boolean;
}

/** A progress bar for `total` items. */
export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #base: number;
  readonly #tty: boolean;
  readonly #now: () => number;
  readonly #write: (text: string) => void;
  readonly #start: number;
  #last = 0;
  #lastTenth = -1;

  /**
   * @param label what is being done.
   * @param total how many items in all (at least 1).
   * @param options items done before, clock, output.
   */
  constructor(label: string, total: number, options: ProgressOptions = {}) {
    this.#label = label;
    this.#total = Math.max(1, total);
    this.#base = options.base ?? 0;
    this.#now = options.now ?? (() => performance.now());
    const enc = new TextEncoder();
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(enc.encode(text)));
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
    this.#start = this.#now();
  }

  /**
   * Shows `done` of the total.
   * @param done items done so far (those before the bar included).
   */
  update(done: number): void {
    const now = this.#now();
    const tenth = Math.floor((10 * done) / this.#total);
    if (this.#tty ? now - this.#last < 100 : tenth === this.#lastTenth) return;
    this.#last = now;
    this.#lastTenth = tenth;
    this.#draw(done, now);
  }

  /** Shows the final state and ends the line. */
  done(): void {
    this.#draw(this.#total, this.#now());
    if (this.#tty) this.#write("\n");
  }

  #draw(done: number, now: number): void {
    const f = Math.min(1, done / this.#total);
    const width = 30;
    const full = Math.round(f * width);
    const s = (now - this.#start) / 1000;
    const rate = s > 0 ? Math.round(Math.max(0, done - this.#base) / s) : 0;
    const line = `${this.#label} [${"#".repeat(full)}${".".repeat(width - full)}] ${
      (f * 100).toFixed(0).padStart(3)
    }% ${done}/${this.#total} ${rate}/s`;
    this.#write(this.#tty ? `\r${line}` : `${line}\n`);
  }
}
