/**
 * The KMS service of flow A (CN103714639A S14-S17): it accepts an order's
 * TKs from the MTMS (MAC under MAK checked, all or nothing, idempotent on
 * the order id), issues a TMK per terminal in bulk, hands each terminal its
 * TMK under TK, and records the acknowledgement.
 *
 * Every key operation is the HSM's ({@link KmsKeyOps}); the store holds key
 * blocks under the LMK only; every security event goes to its audit log.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { HsmPoolStats } from "../../src/hsm/pool.ts";
import {
  type ImportedTk,
  type StagedTk,
  type Store,
  StoreError,
  type Terminal,
  type TkToIssue,
  tmkDelivery,
} from "../../src/store/mod.ts";
import {
  BatchEntry,
  batchMacInput,
  batchMacLine,
  batchMacPrefix,
  ConflictError,
  IntegrityError,
  type IssueResponse,
  NotFoundError,
  ProtocolError,
  TERMINAL_STATES,
  type TerminalStatus,
  type TkBatchRequest,
  type TkBatchResponse,
  TkBatchStreamHeader,
  TkBatchStreamTrailer,
  type TmkDownloadResponse,
  ValidationError,
} from "../../src/protocol/mod.ts";
import type { Schema } from "../../src/protocol/schema.ts";

/** The HSM operations the KMS needs; clear keys never leave them. */
export interface KmsKeyOps {
  /**
   * Checks a retail MAC (ISO 9797-1 alg. 3) under MAK.
   * @returns whether it matches (compared in constant time).
   */
  verifyBatchMac(data: Uint8Array, mac: string): Promise<boolean>;
  /**
   * S14: TK under PK (TR-31) to TK under the LMK; checks KCV and SHA-256 inside the HSM.
   * @throws {IntegrityError} `decrypt_failed`, `kcv_mismatch`, `tk_hash_mismatch`.
   */
  importTk(
    tkUnderPk: string,
    expected: { kcv: string; hash: string },
  ): Promise<{ tkBlock: string }>;
  /**
   * S15: generates a TMK, returns it under the LMK and under TK (TR-31 with TK
   * as the key block protection key), with its KCV. TK's hash is checked first.
   * @throws {IntegrityError} `tk_hash_mismatch`.
   */
  issueTmk(tkBlock: string, tkHash: string): Promise<IssuedTmk>;
  /**
   * S15 for a page of terminals: {@link issueTmk} for each, in order, on the
   * HSM's workers or in this thread. Answers the whole page, or the first
   * refusal with its index (the TMKs before it are not returned: nothing of
   * the page is to be stored).
   *
   * @param tks each terminal's TK block under the LMK and TK hash.
   * @param options `signal`: the page is no longer wanted (dropped if it has not started).
   * @returns every TMK in order, or `{ ok: false, index, error }` with the
   *   refusal as {@link issueTmk} throws it.
   * @throws anything else that stopped the page (an HSM worker failed): nothing of it is returned.
   */
  issueTmks(
    tks: readonly { tkBlock: string; tkHash: string }[],
    options?: { signal?: AbortSignal },
  ): Promise<TmkPageResult>;
  /** How many pages {@link KmsService.issueOrder} keeps in the HSM at once (1: one after the other). */
  readonly issueConcurrency: number;
  /** Per HSM worker: pages, TMKs and milliseconds of HSM work so far (none issued in-thread). */
  hsmStats?(): Promise<HsmPoolStats | undefined>;
  /** Stops the HSM workers, if any. */
  close(): Promise<void>;
}

/** A TMK the HSM issued: under the LMK, under TK, and its KCV. */
export interface IssuedTmk {
  tmkBlock: string;
  tmkUnderTk: string;
  tmkKcv: string;
}

/** A page's TMKs in order, or its first refusal. */
export type TmkPageResult =
  | { ok: true; tmks: IssuedTmk[] }
  | { ok: false; index: number; error: unknown };

function hexOf(b: ArrayBuffer): string {
  return [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/** TKs of a streamed batch staged per store call (and read back per page at the commit). */
export const STAGE_CHUNK = 500;

/**
 * Default idle time after which an upload's staged TKs are purged (at the
 * KMS's start and before each streamed batch): its process was killed or
 * its connection dropped. A live upload stages a chunk every few seconds.
 */
export const STAGING_IDLE_MS = 10 * 60_000;

/** A line of a streamed body, counted from 1. */
export interface BodyLine {
  line: number;
  text: string;
}

function parseLine<T>(schema: Schema<T>, l: BodyLine, path: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(l.text);
  } catch {
    // The parser's message quotes the input: not echoed.
    throw new ValidationError("invalid_json", `line ${l.line}: not a JSON object`);
  }
  try {
    return schema.parse(raw, path);
  } catch (e) {
    if (e instanceof ValidationError) {
      throw new ValidationError(e.code, `line ${l.line}: ${e.message}`);
    }
    throw e;
  }
}

function hasKey(text: string, key: string): boolean {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === "object" && Object.hasOwn(v, key);
  } catch {
    return false;
  }
}

/** An upload's staged TKs in order, a page at a time, read through `store`. */
async function* stagedTks(store: Store, uploadId: string): AsyncGenerator<StagedTk> {
  let after = -1;
  while (true) {
    const page = await store.listStagedTks(uploadId, { after, limit: STAGE_CHUNK });
    yield* page;
    if (page.length < STAGE_CHUNK) return;
    after = page[page.length - 1].seq;
  }
}

/** Page size of bulk issuance: one transaction per page. */
export const ISSUE_PAGE = 500;

/** The KMS's flow A logic. */
export class KmsService {
  readonly #hsm: KmsKeyOps;
  readonly #store: Store;
  readonly #now: () => Date;

  /**
   * @param hsm key operations.
   * @param store persistence and audit log.
   * @param now clock (default: the system clock).
   */
  constructor(hsm: KmsKeyOps, store: Store, now: () => Date = () => new Date()) {
    this.#hsm = hsm;
    this.#store = store;
    this.#now = now;
  }

  /** Appends an audit record; `store` is the transaction of the change it records, if any. */
  async #audit(
    event: string,
    outcome: "success" | "failure",
    fields: { subject?: string; kcv?: string; detail?: string; keyId?: string },
    store: Store = this.#store,
  ): Promise<void> {
    await store.appendAudit({ at: this.#now(), actor: "kms", event, outcome, ...fields });
  }

  /**
   * The answer to a batch for an order that already has one: the same body is
   * a duplicate (audited), another body a `batch_conflict`.
   *
   * @returns the duplicate's response, or undefined if the order has no batch yet.
   * @throws {ConflictError} `batch_conflict`.
   */
  async #storedBatch(orderId: string, bodyHash: string): Promise<TkBatchResponse | undefined> {
    const existing = await this.#store.getTkBatch(orderId);
    if (!existing) return undefined;
    if (existing.bodyHash === bodyHash) {
      await this.#audit("tk_batch_imported", "success", {
        subject: orderId,
        detail: "duplicate",
      });
      return { orderId, accepted: existing.tks, duplicate: "yes" };
    }
    await this.#audit("tk_batch_imported", "failure", {
      subject: orderId,
      detail: "batch_conflict",
    });
    throw new ConflictError(
      "batch_conflict",
      `order ${orderId} already has a different batch; a batch is accepted once`,
    );
  }

  /**
   * One TK of a batch from PK to the LMK in the HSM (KCV and hash checked
   * there). A refusal is audited once and becomes an {@link IntegrityError}
   * naming `where` and the SN; nothing of the batch is stored.
   */
  async #importTk(
    orderId: string,
    t: { sn: string; tkBlock: string; tkKcv: string; tkHash: string },
    where: string,
  ): Promise<string> {
    try {
      return (await this.#hsm.importTk(t.tkBlock, { kcv: t.tkKcv, hash: t.tkHash })).tkBlock;
    } catch (e) {
      if (e instanceof ProtocolError) {
        await this.#audit("tk_batch_imported", "failure", {
          subject: orderId,
          detail: `${e.code} at ${t.sn}`,
        });
        throw new IntegrityError(e.code, `${where} (SN ${t.sn}): ${e.message}; nothing stored`);
      }
      throw e;
    }
  }

  /**
   * S14: stores an order's TKs under the LMK. The MAC is checked first;
   * then every TK is imported by the HSM; only if all succeed is anything
   * stored (one transaction, which also holds one `tk_imported` audit record
   * per TK with its KCV). The batch as a whole gets one `tk_batch_imported`
   * record: its refusal, or its count in the same transaction as the TKs.
   *
   * @param batch the validated request.
   * @returns counts; `duplicate: "yes"` for the same batch sent again.
   * @throws {IntegrityError} `mac_invalid` or a TK's import failure; {@link ConflictError} `batch_conflict` (another batch for this order), `terminal_conflict` (an SN known under another order); {@link ValidationError} `duplicate_sn`.
   */
  async acceptBatch(batch: TkBatchRequest): Promise<TkBatchResponse> {
    const { orderId } = batch;
    const input = batchMacInput(batch);
    if (!(await this.#hsm.verifyBatchMac(input, batch.mac))) {
      await this.#audit("tk_batch_imported", "failure", {
        subject: orderId,
        detail: "mac_invalid",
      });
      throw new IntegrityError(
        "mac_invalid",
        `the MAC of the batch for order ${orderId} does not verify under MAK`,
      );
    }
    const bodyHash = hexOf(await crypto.subtle.digest("SHA-256", input));
    const known = await this.#storedBatch(orderId, bodyHash);
    if (known) return known;
    const seen = new Set<string>();
    for (const [i, t] of batch.tks.entries()) {
      if (seen.has(t.sn)) {
        throw new ValidationError(
          "duplicate_sn",
          `body.tks[${i}].sn ${t.sn} appears twice in the batch`,
        );
      }
      seen.add(t.sn);
      if (await this.#store.getTerminal(t.sn)) {
        // The same batch, stored by another KMS instance since the check above: a duplicate.
        const now = await this.#storedBatch(orderId, bodyHash);
        if (now) return now;
        await this.#audit("tk_batch_imported", "failure", {
          subject: orderId,
          detail: `terminal_conflict ${t.sn}`,
        });
        throw new ConflictError(
          "terminal_conflict",
          `body.tks[${i}].sn ${t.sn} already has a TK at KMS; nothing stored`,
        );
      }
    }
    const imported: { sn: string; tkBlock: string; tkKcv: string; tkHash: string }[] = [];
    for (const [i, t] of batch.tks.entries()) {
      const tkBlock = await this.#importTk(orderId, t, `body.tks[${i}]`);
      imported.push({ sn: t.sn, tkBlock, tkKcv: t.tkKcv, tkHash: t.tkHash });
    }
    let r;
    try {
      // The batch and its audit record commit together: a failed request leaves neither.
      r = await this.#store.transaction(async (tx) => {
        const stored = await tx.importTkBatch({
          orderId,
          bodyHash,
          receivedAt: this.#now(),
          tks: imported,
          auditActor: "kms",
        });
        await this.#audit("tk_batch_imported", "success", {
          subject: orderId,
          detail: `${stored.tks} TKs${stored.duplicate ? " (duplicate)" : ""}`,
        }, tx);
        return stored;
      });
    } catch (e) {
      // A concurrent request stored another batch (or these SNs) first: the same refusal as above.
      if (e instanceof StoreError && e.code === "conflict") {
        const now = await this.#storedBatch(orderId, bodyHash);
        if (now) return now;
        await this.#audit("tk_batch_imported", "failure", {
          subject: orderId,
          detail: "batch_conflict",
        });
        throw new ConflictError("batch_conflict", `order ${orderId}: ${e.message}; nothing stored`);
      }
      throw e;
    }
    return { orderId, accepted: r.tks, duplicate: r.duplicate ? "yes" : "no" };
  }

  /**
   * Deletes the staged TKs of streamed uploads idle for `idleMs` (left by a
   * killed process or a dropped connection); they never became terminals.
   *
   * @returns how many staged TKs were deleted.
   */
  purgeStaleUploads(idleMs: number = STAGING_IDLE_MS): Promise<number> {
    return this.#store.purgeStaged(new Date(this.#now().getTime() - idleMs));
  }

  /**
   * S14, streamed (`application/x-ndjson`, see `TkBatchStreamHeader`): the
   * same guarantees as {@link acceptBatch} with memory bounded by a chunk.
   * Each line is validated as it arrives and hashed into SHA-256 of the
   * batch's canonical bytes; each TK is imported by the HSM and its LMK block
   * staged under a fresh upload id, {@link STAGE_CHUNK} at a time. At the MAC
   * line the MAC over that hash is checked; then one transaction moves the
   * staged TKs into terminals with the batch row and the per-TK audit
   * records, and deletes them from staging. Any refusal or failure (a bad
   * line, a wrong count, a bad MAC, an HSM refusal, a body that ends early)
   * deletes the upload's staged TKs: nothing is stored. An order that
   * already has a batch is only hashed (no HSM work), then answered as a
   * duplicate or a `batch_conflict`.
   *
   * @param lines the body's lines (e.g. `readLines` of the request body).
   * @returns counts; `duplicate: "yes"` for the same batch sent again (either format).
   * @throws {ValidationError} naming the line (`line K: body.tks[i].sn ...`), `truncated`,
   *   `wrong_count`, `duplicate_sn`; {@link IntegrityError} `mac_invalid` or a TK's import
   *   failure; {@link ConflictError} `batch_conflict`, `terminal_conflict`.
   */
  async acceptBatchStream(lines: AsyncIterable<BodyLine>): Promise<TkBatchResponse> {
    const it = lines[Symbol.asyncIterator]();
    let lastLine = 0;
    const next = async (what: string): Promise<BodyLine> => {
      const r = await it.next();
      if (r.done) {
        throw new ValidationError(
          "truncated",
          `line ${lastLine + 1}: the body ended; expected ${what}`,
        );
      }
      lastLine = r.value.line;
      if (r.value.text === "") {
        throw new ValidationError("invalid_json", `line ${r.value.line}: empty; expected ${what}`);
      }
      return r.value;
    };
    const uploadId = crypto.randomUUID();
    let staged = false;
    try {
      await this.purgeStaleUploads();
      const header = parseLine(
        TkBatchStreamHeader,
        await next(`the header {"orderId":...,"tks":N}`),
        "body",
      );
      const { orderId, tks: n } = header;
      const hash = createHash("sha256").update(batchMacPrefix(orderId));
      // An order that already has a batch: no HSM work, the body is only hashed.
      const prior = await this.#store.getTkBatch(orderId);
      let chunk: ImportedTk[] = [];
      let chunkLines: number[] = [];
      let seq = 0;
      const flush = async () => {
        if (chunk.length === 0) return;
        staged = true;
        const dup = await this.#store.stageTks(uploadId, seq, chunk, this.#now());
        if (dup >= 0) {
          throw new ValidationError(
            "duplicate_sn",
            `line ${chunkLines[dup]}: body.tks[${seq + dup}].sn ${
              chunk[dup].sn
            } appears twice in the batch`,
          );
        }
        seq += chunk.length;
        chunk = [];
        chunkLines = [];
      };
      for (let i = 0; i < n; i++) {
        const l = await next(`TK line ${i + 1} of ${n}`);
        if (hasKey(l.text, "mac")) {
          throw new ValidationError(
            "wrong_count",
            `line ${l.line}: the MAC line after ${i} TKs; the header announced ${n}`,
          );
        }
        const t = parseLine(BatchEntry, l, `body.tks[${i}]`);
        hash.update(batchMacLine(t));
        if (prior) continue;
        const tkBlock = await this.#importTk(orderId, t, `line ${l.line}: body.tks[${i}]`);
        chunk.push({ sn: t.sn, tkBlock, tkKcv: t.tkKcv, tkHash: t.tkHash });
        chunkLines.push(l.line);
        if (chunk.length === STAGE_CHUNK) await flush();
      }
      await flush();
      const last = await next(`the MAC line {"mac":...} after ${n} TKs`);
      if (hasKey(last.text, "sn")) {
        throw new ValidationError(
          "wrong_count",
          `line ${last.line}: more TK lines than the ${n} the header announced`,
        );
      }
      const { mac } = parseLine(TkBatchStreamTrailer, last, "body");
      const extra = await it.next();
      if (!extra.done) {
        throw new ValidationError(
          "trailing_data",
          `line ${extra.value.line}: nothing may follow the MAC line`,
        );
      }
      const digest = hash.digest();
      if (!(await this.#hsm.verifyBatchMac(digest, mac))) {
        await this.#audit("tk_batch_imported", "failure", {
          subject: orderId,
          detail: "mac_invalid",
        });
        throw new IntegrityError(
          "mac_invalid",
          `line ${last.line}: the MAC of the batch for order ${orderId} does not verify under MAK`,
        );
      }
      const bodyHash = digest.toString("hex").toUpperCase();
      const known = await this.#storedBatch(orderId, bodyHash);
      if (known) return known;
      if (prior) throw new Error(`order ${orderId}: its batch disappeared`);
      let r;
      try {
        // Staged TKs, batch row and audit records in one transaction; staging emptied in it.
        r = await this.#store.transaction(async (tx) => {
          const stored = await tx.importTkBatch({
            orderId,
            bodyHash,
            receivedAt: this.#now(),
            tks: stagedTks(tx, uploadId),
            auditActor: "kms",
          });
          if (stored.tks !== n) {
            throw new Error(`upload ${uploadId}: ${stored.tks} staged TKs of ${n}; nothing stored`);
          }
          await tx.dropStaged(uploadId);
          await this.#audit("tk_batch_imported", "success", {
            subject: orderId,
            detail: `${stored.tks} TKs (streamed)`,
          }, tx);
          return stored;
        });
        staged = false;
      } catch (e) {
        if (e instanceof StoreError && e.code === "conflict") {
          const now = await this.#storedBatch(orderId, bodyHash);
          if (now) return now;
          const sn = /serial number (\S+) is already known/.exec(e.message)?.[1];
          const code = sn ? "terminal_conflict" : "batch_conflict";
          await this.#audit("tk_batch_imported", "failure", {
            subject: orderId,
            detail: sn ? `terminal_conflict ${sn}` : "batch_conflict",
          });
          throw new ConflictError(code, `order ${orderId}: ${e.message}; nothing stored`);
        }
        throw e;
      }
      return { orderId, accepted: r.tks, duplicate: "no" };
    } finally {
      // A refusal or failure: the upload's staged TKs go (if this fails too, the purge by age).
      if (staged) await this.#store.dropStaged(uploadId).catch(() => 0);
      // Stopped before the end of the body: the rest is not read.
      await it.return?.();
    }
  }

  /**
   * S15, bulk issuance: a TMK for every terminal of the order that has none
   * yet, generated and encrypted under its TK by the HSM. Pages of
   * {@link ISSUE_PAGE} terminals, one transaction each, holding one
   * `tmk_issued` audit record per TMK (SN, KCV); a repeated call issues only
   * what is missing.
   *
   * Pipelined: while page k is committed here, the next pages (up to the key
   * operations' `issueConcurrency`) are read and issued by the HSM's workers.
   * Pages are committed in order, each whole or not at all; when a page is
   * refused, the pages before it are committed, it and the pages after it are
   * not (the TMKs already made for those are dropped), so the store ends as
   * with one page after the other.
   *
   * @param orderId the order.
   * @param options `onProgress(done, total)` after each page stored (a CLI's progress bar):
   *   terminals with a TMK so far, of the order's terminals.
   * @returns counts, never keys.
   * @throws {NotFoundError} `unknown_order`; {@link IntegrityError} if a TK fails its hash check (that page is not stored).
   */
  async issueOrder(
    orderId: string,
    options: { onProgress?: (done: number, total: number) => void } = {},
  ): Promise<IssueResponse> {
    const before = await this.#store.countTerminals(orderId);
    if (before.terminals === 0) {
      throw new NotFoundError("unknown_order", `KMS has no TKs for order ${orderId}`);
    }
    const depth = Math.max(1, this.#hsm.issueConcurrency);
    // Pages read and handed to the HSM, oldest first; their results never reject.
    const inFlight: { page: TkToIssue[]; result: Promise<TmkPageResult | { thrown: unknown }> }[] =
      [];
    const stop = new AbortController();
    let issued = 0;
    let after: string | undefined;
    let more = true;
    try {
      while (true) {
        while (more && inFlight.length < depth) {
          const page = await this.#store.listTksToIssue(orderId, { after, limit: ISSUE_PAGE });
          if (page.length < ISSUE_PAGE) more = false;
          if (page.length === 0) break;
          after = page[page.length - 1].sn;
          const result = this.#hsm.issueTmks(
            page.map((t) => ({ tkBlock: t.tkBlock!, tkHash: t.tkHash! })),
            { signal: stop.signal },
          ).catch((thrown: unknown) => ({ thrown }));
          inFlight.push({ page, result });
        }
        const head = inFlight.shift();
        if (!head) break;
        const r = await head.result;
        if ("thrown" in r) throw r.thrown;
        if (!r.ok) {
          const t = head.page[r.index];
          const e = r.error;
          if (e instanceof ProtocolError) {
            await this.#audit("tmk_issued", "failure", { subject: t.sn, detail: e.code });
            throw new IntegrityError(
              e.code,
              `SN ${t.sn}: ${e.message}; ${issued} TMKs stored before it`,
            );
          }
          throw e;
        }
        const at = this.#now();
        // One `tmk_issued` audit record per TMK, committed with it.
        issued += await this.#store.issueTmks(
          head.page.map((t, i) => ({ sn: t.sn, ...r.tmks[i], issuedAt: at })),
          { auditActor: "kms" },
        );
        options.onProgress?.(before.withTmk + issued, before.terminals);
      }
    } finally {
      // Pages still queued for the HSM are not wanted any more (after a refusal).
      stop.abort(new Error("issuance stopped"));
    }
    return {
      orderId,
      issued,
      alreadyIssued: before.withTmk,
      terminals: before.terminals,
    };
  }

  async #terminal(sn: string, store: Store = this.#store): Promise<Terminal> {
    const t = await store.getTerminal(sn);
    if (!t) throw new NotFoundError("unknown_terminal", `KMS knows no terminal ${sn}`);
    return t;
  }

  /**
   * S16: the TMK of a terminal under its TK.
   *
   * @param sn serial number.
   * @returns the TR-31 block under TK and the KCV.
   * @throws {NotFoundError} `unknown_terminal`; {@link ConflictError} `not_issued`, `already_delivered`.
   */
  async download(sn: string): Promise<TmkDownloadResponse> {
    const t = await this.#terminal(sn);
    if (tmkDelivery(t) === "delivered") {
      await this.#audit("tmk_sent", "failure", { subject: sn, detail: "already_delivered" });
      throw new ConflictError("already_delivered", `the TMK of ${sn} was already delivered`);
    }
    if (!t.tmkUnderTk || !t.tmkKcv) {
      await this.#audit("tmk_sent", "failure", { subject: sn, detail: "not_issued" });
      throw new ConflictError("not_issued", `no TMK has been issued for ${sn} yet`);
    }
    const tmkKcv = t.tmkKcv;
    const sent = await this.#store.transaction(async (tx) => {
      if (!(await tx.markTmkSent(sn, this.#now()))) return false;
      await this.#audit("tmk_sent", "success", { subject: sn, kcv: tmkKcv }, tx);
      return true;
    });
    if (!sent) {
      throw new ConflictError("already_delivered", `the TMK of ${sn} was already delivered`);
    }
    return { sn, tmkBlock: t.tmkUnderTk, tmkKcv: t.tmkKcv };
  }

  /**
   * S17 acknowledgement: the PIN pad's KCV must equal the issued TMK's.
   *
   * @param sn serial number.
   * @param tmkKcv the PIN pad's KCV.
   * @returns the terminal's status (`delivered`).
   * @throws {NotFoundError} `unknown_terminal`; {@link ConflictError} `not_sent`, `already_delivered`; {@link IntegrityError} `kcv_mismatch`.
   */
  async acknowledge(sn: string, tmkKcv: string): Promise<TerminalStatus> {
    const t = await this.#terminal(sn);
    const delivery = tmkDelivery(t);
    if (delivery === "delivered") {
      throw new ConflictError("already_delivered", `the TMK of ${sn} was already acknowledged`);
    }
    if (delivery !== "sent") {
      throw new ConflictError("not_sent", `no TMK has been sent to ${sn}; nothing to acknowledge`);
    }
    if (tmkKcv !== t.tmkKcv) {
      await this.#audit("tmk_delivered", "failure", {
        subject: sn,
        kcv: tmkKcv,
        detail: `kcv_mismatch: issued ${t.tmkKcv}`,
      });
      throw new IntegrityError(
        "kcv_mismatch",
        `the PIN pad's KCV ${tmkKcv} differs from the issued TMK's ${t.tmkKcv}`,
      );
    }
    // The delivery, its audit record and the status read for the answer in one transaction:
    // no failure after the commit can turn a done acknowledgement into an error.
    const status = await this.#store.transaction(async (tx) => {
      if (!(await tx.markDelivered(sn, tmkKcv, this.#now()))) return null;
      await this.#audit("tmk_delivered", "success", { subject: sn, kcv: tmkKcv }, tx);
      return await this.status(sn, tx);
    });
    if (!status) {
      throw new ConflictError("already_delivered", `the TMK of ${sn} was already acknowledged`);
    }
    return status;
  }

  /**
   * State and KCVs of a terminal (operator API).
   *
   * @param sn serial number.
   * @param store the store or a transaction of it to read from.
   * @returns the status, never keys.
   * @throws {NotFoundError} `unknown_terminal`.
   */
  async status(sn: string, store: Store = this.#store): Promise<TerminalStatus> {
    const t = await this.#terminal(sn, store);
    if (!t.orderId || !t.tkKcv || !(TERMINAL_STATES as readonly string[]).includes(t.state)) {
      throw new NotFoundError("unknown_terminal", `terminal ${sn} is not a flow A terminal`);
    }
    const s: TerminalStatus = {
      sn: t.sn,
      orderId: t.orderId,
      state: t.state as TerminalStatus["state"],
      tkKcv: t.tkKcv,
      updatedAt: t.updatedAt,
    };
    if (t.tmkKcv) s.tmkKcv = t.tmkKcv;
    return s;
  }
}
