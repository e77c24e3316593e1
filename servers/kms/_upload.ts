/**
 * The staging of one S14 upload: TKs already imported under the LMK are
 * kept in the store's staging table, {@link STAGE_CHUNK} at a time, under a
 * random upload id, until the batch's MAC is checked and one transaction
 * moves them into terminals (or the upload is dropped). Staged TKs are no
 * terminals; memory stays bounded by a chunk for any batch size.
 *
 * @module
 */
import type { ImportedTk, StagedTk, Store } from "../../src/store/mod.ts";
import { ValidationError } from "../../src/protocol/mod.ts";

/** TKs staged per store call (and read back per page at the commit). */
export const STAGE_CHUNK = 500;

/** An upload's TKs on their way into the store. */
export class StagedUpload {
  /** The upload id (random; one request). */
  readonly id: string = crypto.randomUUID();
  readonly #store: Store;
  readonly #now: () => Date;
  #chunk: ImportedTk[] = [];
  #where: string[] = [];
  #seq = 0;
  #staged = false;

  /**
   * @param store the store holding the staging table.
   * @param now clock (the purge of idle uploads reads the staging time).
   */
  constructor(store: Store, now: () => Date) {
    this.#store = store;
    this.#now = now;
  }

  /**
   * Adds a TK; a full chunk is staged.
   *
   * @param tk the TK under the LMK.
   * @param where its place in the body, for messages.
   * @throws {ValidationError} `duplicate_sn` if its SN is already in the upload.
   */
  async add(tk: ImportedTk, where: string): Promise<void> {
    this.#chunk.push(tk);
    this.#where.push(where);
    if (this.#chunk.length === STAGE_CHUNK) await this.flush();
  }

  /**
   * Stages what is pending.
   *
   * @throws {ValidationError} `duplicate_sn` naming the place of the repeated SN.
   */
  async flush(): Promise<void> {
    if (this.#chunk.length === 0) return;
    this.#staged = true;
    const dup = await this.#store.stageTks(this.id, this.#seq, this.#chunk, this.#now());
    if (dup >= 0) {
      throw new ValidationError(
        "duplicate_sn",
        `${this.#where[dup]}.sn ${this.#chunk[dup].sn} appears twice in the batch`,
      );
    }
    this.#seq += this.#chunk.length;
    this.#chunk = [];
    this.#where = [];
  }

  /**
   * The staged TKs in order, a page at a time.
   *
   * @param store the store or the transaction to read through.
   * @yields each staged TK.
   */
  async *read(store: Store): AsyncGenerator<StagedTk> {
    let after = -1;
    while (true) {
      const page = await store.listStagedTks(this.id, { after, limit: STAGE_CHUNK });
      yield* page;
      if (page.length < STAGE_CHUNK) return;
      after = page[page.length - 1].seq;
    }
  }

  /** Records that a committed transaction emptied the staging of this upload. */
  committed(): void {
    this.#staged = false;
  }

  /** Drops what is staged (after a refusal or failure; if this fails too, the purge by age). */
  async drop(): Promise<void> {
    if (this.#staged) await this.#store.dropStaged(this.id).catch(() => 0);
  }
}
