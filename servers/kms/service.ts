/**
 * The KMS service of flow A (CN103714639A S14-S15): it accepts an order's
 * TKs from the MTMS (MAC under MAK checked, all or nothing, idempotent on
 * the order id), issues a TMK per terminal in bulk, and reports a
 * terminal's state. The download and acknowledgement (S16-S17) are
 * `FlowADelivery`'s (`flow_a_delivery.ts`).
 *
 * Every key operation is the HSM's ({@link KmsKeyOps}); the store holds key
 * blocks under the LMK only; every security event goes to its audit log.
 *
 * @module
 */
import type { HsmPoolStats } from "../../src/hsm/pool.ts";
import {
  type ImportedTk,
  type Store,
  StoreError,
  type Terminal,
  type TkBatch,
  type TkToIssue,
} from "../../src/store/mod.ts";
import {
  type BatchEntry,
  ConflictError,
  IntegrityError,
  type IssueResponse,
  NotFoundError,
  ProtocolError,
  TERMINAL_STATES,
  type TerminalStatus,
  type TkBatchRequest,
  type TkBatchResponse,
} from "../../src/protocol/mod.ts";
import { type TkBatchBody, tkBatchFromJson, type TkBatchTrailer } from "../_lib/mod.ts";
import { StagedUpload } from "./_upload.ts";

/** The HSM operations the KMS needs; clear keys never leave them. */
export interface KmsKeyOps {
  /**
   * Checks a retail MAC (ISO 9797-1 alg. 3) under MAK version `makVersion` (default 1).
   * @returns whether it matches (compared in constant time).
   * @throws {IntegrityError} `key_version_retired`, `key_version_unknown`.
   */
  verifyBatchMac(data: Uint8Array, mac: string, makVersion?: number): Promise<boolean>;
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

/**
 * Default idle time after which an upload's staged TKs are purged (at the
 * KMS's start and before each batch): its process was killed or its
 * connection dropped. A live upload stages a chunk every few seconds.
 */
export const STAGING_IDLE_MS = 10 * 60_000;

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

  /** Audits a refused batch and throws the {@link ConflictError} that refuses it. */
  async #refuse(orderId: string, code: string, detail: string, message: string): Promise<never> {
    await this.#audit("tk_batch_imported", "failure", { subject: orderId, detail });
    throw new ConflictError(code, message);
  }

  /**
   * The answer to a batch for an order that already has `existing`: the same
   * body is a duplicate (audited), another body a `batch_conflict`.
   *
   * @throws {ConflictError} `batch_conflict`.
   */
  async #answerStored(
    orderId: string,
    bodyHash: string,
    existing: TkBatch,
  ): Promise<TkBatchResponse> {
    if (existing.bodyHash !== bodyHash) {
      return await this.#refuse(
        orderId,
        "batch_conflict",
        "batch_conflict",
        `order ${orderId} already has a different batch; a batch is accepted once`,
      );
    }
    await this.#audit("tk_batch_imported", "success", { subject: orderId, detail: "duplicate" });
    return { orderId, accepted: existing.tks, duplicate: "yes" };
  }

  /** {@link #answerStored} if the order has a batch by now, else undefined. */
  async #storedBatch(orderId: string, bodyHash: string): Promise<TkBatchResponse | undefined> {
    const existing = await this.#store.getTkBatch(orderId);
    return existing ? await this.#answerStored(orderId, bodyHash, existing) : undefined;
  }

  /**
   * Checks the batch's MAC under MAK in the HSM.
   *
   * @throws {IntegrityError} `mac_invalid` (audited).
   */
  async #authenticate(orderId: string, trailer: TkBatchTrailer): Promise<TkBatchTrailer> {
    let ok: boolean;
    try {
      ok = await this.#hsm.verifyBatchMac(trailer.macInput, trailer.mac, trailer.makVersion);
    } catch (e) {
      if (e instanceof ProtocolError) {
        await this.#audit("tk_batch_imported", "failure", { subject: orderId, detail: e.code });
        throw new IntegrityError(e.code, `${trailer.where}${e.message}; nothing stored`);
      }
      throw e;
    }
    if (!ok) {
      await this.#audit("tk_batch_imported", "failure", {
        subject: orderId,
        detail: "mac_invalid",
      });
      throw new IntegrityError(
        "mac_invalid",
        `${trailer.where}the MAC of the batch for order ${orderId} does not verify under MAK`,
      );
    }
    return trailer;
  }

  /**
   * One TK of a batch from PK to the LMK in the HSM (KCV and hash checked
   * there). A refusal is audited once and becomes an {@link IntegrityError}
   * naming `where` and the SN; nothing of the batch is stored.
   */
  async #importTk(orderId: string, t: BatchEntry, where: string): Promise<ImportedTk> {
    try {
      const { tkBlock } = await this.#hsm.importTk(t.tkBlock, { kcv: t.tkKcv, hash: t.tkHash });
      return { sn: t.sn, tkBlock, tkKcv: t.tkKcv, tkHash: t.tkHash };
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
   * Deletes the staged TKs of uploads idle for `idleMs` (left by a killed
   * process or a dropped connection); they never became terminals.
   *
   * @returns how many staged TKs were deleted.
   */
  purgeStaleUploads(idleMs: number = STAGING_IDLE_MS): Promise<number> {
    return this.#store.purgeStaged(new Date(this.#now().getTime() - idleMs));
  }

  /**
   * S14 for a JSON batch: {@link importBatch} of {@link tkBatchFromJson}.
   *
   * @param batch the validated request.
   * @returns counts; `duplicate: "yes"` for the same batch sent again.
   * @throws what {@link importBatch} throws.
   */
  acceptBatch(batch: TkBatchRequest): Promise<TkBatchResponse> {
    return this.importBatch(tkBatchFromJson(batch));
  }

  /**
   * S14: stores an order's TKs under the LMK, all or nothing, idempotent on
   * the order and the batch's SHA-256. The body is read as it arrives (a
   * JSON body or an NDJSON stream, the same {@link TkBatchBody}): each TK is
   * imported by the HSM and its LMK block staged ({@link StagedUpload}); a
   * MAC at hand before the TKs (JSON) is checked before any HSM work, a
   * streamed one at the end. Then one transaction moves the staged TKs into
   * terminals with the batch row, one `tk_imported` audit record per TK and
   * one `tk_batch_imported` record for the batch, and empties the staging.
   * Any refusal or failure drops the staged TKs: nothing is stored. An order
   * that already has a batch costs no HSM work: the body is only read to its
   * MAC, then answered as a duplicate or a `batch_conflict`.
   *
   * @param body the batch as read (`tkBatchFromJson` or `tkBatchFromLines`).
   * @returns counts; `duplicate: "yes"` for the same batch sent again (either format).
   * @throws {ValidationError} naming the place (`line K: body.tks[i].sn ...` in a stream),
   *   `truncated`, `wrong_count`, `duplicate_sn`; {@link IntegrityError} `mac_invalid` or a
   *   TK's import failure; {@link ConflictError} `batch_conflict`, `terminal_conflict`.
   */
  async importBatch(body: TkBatchBody): Promise<TkBatchResponse> {
    const upload = new StagedUpload(this.#store, this.#now);
    try {
      await this.purgeStaleUploads();
      const { orderId, tks: n } = await body.header();
      const early = body.trailerFirst
        ? await this.#authenticate(orderId, await body.trailer())
        : undefined;
      const prior = await this.#store.getTkBatch(orderId);
      if (prior && early) return await this.#answerStored(orderId, early.bodyHash, prior);
      for await (const { tk, where } of body.entries()) {
        if (prior) continue;
        await upload.add(await this.#importTk(orderId, tk, where), where);
      }
      await upload.flush();
      const { bodyHash } = early ?? await this.#authenticate(orderId, await body.trailer());
      const known = await this.#storedBatch(orderId, bodyHash);
      if (known) return known;
      if (prior) throw new Error(`order ${orderId}: its batch disappeared`);
      return await this.#commitBatch(orderId, bodyHash, n, upload, body.format);
    } finally {
      await upload.drop();
      // Stopped before the end of the body: the rest is not read.
      await body.close();
    }
  }

  /**
   * The commit of {@link importBatch}: the staged TKs, the batch row and the
   * audit records in one transaction, which also empties the staging.
   */
  async #commitBatch(
    orderId: string,
    bodyHash: string,
    n: number,
    upload: StagedUpload,
    format: TkBatchBody["format"],
  ): Promise<TkBatchResponse> {
    let r;
    try {
      r = await this.#store.transaction(async (tx) => {
        const stored = await tx.importTkBatch({
          orderId,
          bodyHash,
          receivedAt: this.#now(),
          tks: upload.read(tx),
          auditActor: "kms",
        });
        if (stored.tks !== n) {
          throw new Error(`upload ${upload.id}: ${stored.tks} staged TKs of ${n}; nothing stored`);
        }
        await tx.dropStaged(upload.id);
        const how = `${stored.duplicate ? " (duplicate)" : ""}${
          format === "ndjson" ? " (streamed)" : ""
        }`;
        await this.#audit("tk_batch_imported", "success", {
          subject: orderId,
          detail: `${stored.tks} TKs${how}`,
        }, tx);
        return stored;
      });
      upload.committed();
    } catch (e) {
      if (e instanceof StoreError && e.code === "tk_reused") {
        // A concurrent batch gave one of these TKs to another SN first: the unique index held.
        return await this.#refuse(
          orderId,
          "tk_reused",
          "tk_reused",
          `order ${orderId}: a TK of this batch is already held by another terminal; ` +
            "one TK per terminal, nothing stored",
        );
      }
      if (!(e instanceof StoreError && e.code === "conflict")) throw e;
      // A concurrent request stored another batch (or these SNs) first.
      const now = await this.#storedBatch(orderId, bodyHash);
      if (now) return now;
      const sn = /serial number (\S+) is already known/.exec(e.message)?.[1];
      return await this.#refuse(
        orderId,
        sn ? "terminal_conflict" : "batch_conflict",
        sn ? `terminal_conflict ${sn}` : "batch_conflict",
        `order ${orderId}: ${e.message}; nothing stored`,
      );
    }
    return { orderId, accepted: r.tks, duplicate: r.duplicate ? "yes" : "no" };
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
