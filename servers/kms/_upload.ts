/**
 * The staging of one S14 upload: TKs already imported under the LMK are
 * kept in the store's staging table, {@link STAGE_CHUNK} at a time, under a
 * random upload id, until the batch's MAC is checked and one transaction
 * moves them into terminals (or the upload is dropped). Staged TKs are no
 * terminals; memory stays bounded by a chunk for any batch size.
 *
 * One TK per terminal: a TK (by its hash) that a terminal already holds, or
 * that the upload already gave another SN, is noted as each chunk is
 * staged and refused when the staged TKs are read for the commit, that is
 * once the MAC is checked: nothing is stored, and an unauthenticated body
 * learns nothing of the TKs the KMS knows.
 *
 * @module
 */
import type { ImportedTk, StagedTk, Store } from "../../src/store/mod.ts";
import { ConflictError, ValidationError } from "../../src/protocol/mod.ts";

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
  /** The first TK of the upload known for another SN, refused at {@link read}. */
  #reused?: ConflictError;

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
    await this.#noteReusedTk();
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

  /** Notes the first TK of the pending chunk that another SN holds (or was given in this upload). */
  async #noteReusedTk(): Promise<void> {
    if (this.#reused) return;
    const first = new Map<string, number>();
    const reuse = (i: number, other: string) =>
      this.#reused ??= new ConflictError(
        "tk_reused",
        `${this.#where[i]} (SN ${this.#chunk[i].sn}): this TK is already known for ${other}; ` +
          "one TK per terminal, nothing stored",
      );
    for (const [i, t] of this.#chunk.entries()) {
      const j = first.get(t.tkHash);
      if (j === undefined) first.set(t.tkHash, i);
      else reuse(i, `SN ${this.#chunk[j].sn} at ${this.#where[j]}`);
    }
    const known = await this.#store.knownTkHashes(this.id, [...first.keys()]);
    for (const k of known) {
      const i = first.get(k.tkHash)!;
      if (k.sn === this.#chunk[i].sn) continue;
      reuse(i, k.staged ? `SN ${k.sn} earlier in this batch` : `terminal ${k.sn}`);
    }
  }

  /**
   * The staged TKs in order, a page at a time.
   *
   * @param store the store or the transaction to read through.
   * @yields each staged TK.
   * @throws {ConflictError} `tk_reused` if a TK of the upload is known for another SN
   *   (the commit that reads them then stores nothing).
   */
  async *read(store: Store): AsyncGenerator<StagedTk> {
    if (this.#reused) throw this.#reused;
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
