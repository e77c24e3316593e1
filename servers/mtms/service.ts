/**
 * The MTMS service of flow A (CN103714639A S11-S14): production orders,
 * TK uploads from operator terminals (operator card signature and
 * certificate chain checked, TK decrypted and re-encrypted under PK by the
 * HSM: S12-S13), and the transfer of an order's TKs to the KMS as one batch
 * MACed under MAK (S14): one JSON body, or streamed line by line for a large order.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { type Store, StoreError } from "../../src/store/mod.ts";
import {
  AuthenticationError,
  type BatchEntry,
  batchMacInput,
  batchMacLine,
  batchMacPrefix,
  callJson,
  type CallOptions,
  callStream,
  ConflictError,
  type CreateOrderRequest,
  NDJSON,
  NotFoundError,
  type OrderStatus,
  ProtocolError,
  RemoteError,
  serialsOfRange,
  type TkBatchRequest,
  TkBatchResponse,
  type TkUploadRequest,
  type TkUploadResponse,
  tkUploadSigningInput,
  type TransferResponse,
  type Transport,
  UpstreamError,
  ValidationError,
} from "../../src/protocol/mod.ts";

/** The HSM operations the MTMS needs; clear keys never leave them. */
export interface MtmsKeyOps {
  /**
   * S12-S13: decrypts TK (RSA-OAEP-SHA256 under the transport private key),
   * checks its KCV and SHA-256, and returns it under PK as a TR-31 block.
   * @throws {IntegrityError} `decrypt_failed` (same error whatever the cause), `kcv_mismatch`, `tk_hash_mismatch`.
   */
  importTk(
    encryptedTk: string,
    expected: { kcv: string; hash: string },
  ): Promise<{ tkBlock: string }>;
  /**
   * S14: retail MAC (ISO 9797-1 alg. 3, padding 2) under the current MAK,
   * uppercase hex, and that MAK's version.
   */
  macBatch(data: Uint8Array): Promise<{ mac: string; makVersion: number }>;
}

/** Brings the MTMS's PK and MAK to the KMS's versions (`key_rotation.ts`). */
export interface KeySync {
  /**
   * Fetches and adopts each version the KMS has and the MTMS has not.
   * @throws {UpstreamError} `key_versions_unavailable` (the KMS did not answer),
   *   `key_sync_failed` (a version refused).
   */
  sync(): Promise<void>;
}

/** Checks an operator certificate and a signature made with its key. */
export interface SignatureCheck {
  /**
   * Checks OpWCRT (validity at `at`, chain to the CA root) and the
   * RSASSA-PKCS1-v1_5 SHA-256 signature over `data`.
   * @returns the operator's subject.
   * @throws {AuthenticationError} `certificate_*`, `signature_invalid`.
   */
  verify(certificatePem: string, data: Uint8Array, signature: string, at: Date): Promise<string>;
}

/** Options of {@link MtmsService}. */
export interface MtmsServiceOptions {
  hsm: MtmsKeyOps;
  store: Store;
  signatures: SignatureCheck;
  /** The MTMS transport certificate (PEM) handed to operator terminals. */
  transportCertificate: string;
  /** Reaches the KMS. */
  kms: Transport;
  /** Brings PK and MAK to the KMS's versions before each transfer; none: no rotation. */
  keySync?: KeySync;
  kmsUrl: string;
  /**
   * Orders of more TKs than this go to KMS as a streamed batch (NDJSON, memory
   * flat in the order's size); smaller ones as one JSON body. Default {@link STREAM_ABOVE}.
   */
  streamAbove?: number;
  /** Allowed age of an upload's `signedAt`, ms (default 300 000). */
  uploadWindowMs?: number;
  now?: () => number;
  observe?: CallOptions["observe"];
}

/**
 * Default of {@link MtmsServiceOptions.streamAbove}: an order of up to 1,000
 * TKs (about 250 KB) still goes as one JSON body, which any KMS version takes
 * and a trace shows whole; above that the streamed batch keeps the MTMS's and
 * the KMS's memory flat whatever the order's size (and orders over 10,000
 * can only go streamed).
 */
export const STREAM_ABOVE = 1000;

/** TKs read from the store per page while a batch streams. */
const TRANSFER_PAGE = 1000;

/** The MTMS's flow A logic. */
export class MtmsService {
  readonly #o: MtmsServiceOptions;
  readonly #store: Store;
  readonly #window: number;
  readonly #now: () => number;

  /** @param options HSM, store, signature check, certificate, KMS. */
  constructor(options: MtmsServiceOptions) {
    this.#o = options;
    this.#store = options.store;
    this.#window = options.uploadWindowMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  /** The transport certificate (PEM). */
  get transportCertificate(): string {
    return this.#o.transportCertificate;
  }

  /** Appends an audit record; `store` is the transaction of the change it records, if any. */
  async #audit(
    event: string,
    outcome: "success" | "failure",
    fields: { subject?: string; kcv?: string; detail?: string; actor?: string },
    store: Store = this.#store,
  ): Promise<void> {
    await store.appendAudit({
      at: new Date(this.#now()),
      actor: fields.actor ?? "mtms",
      event,
      outcome,
      subject: fields.subject,
      kcv: fields.kcv,
      detail: fields.detail,
    });
  }

  /**
   * The order's status.
   *
   * @param orderId the order.
   * @returns counts and state.
   * @throws {NotFoundError} `unknown_order`.
   */
  async orderStatus(orderId: string): Promise<OrderStatus> {
    const o = await this.#store.getOrder(orderId);
    if (!o || o.state === "imported") {
      throw new NotFoundError("unknown_order", `the MTMS has no order ${orderId}`);
    }
    const c = await this.#store.countCollected(orderId);
    return { orderId, terminals: c.terminals, collected: c.collected, state: o.state };
  }

  /**
   * Creates a production order with its serial numbers.
   *
   * @param req order id and serial numbers.
   * @returns the order's status.
   * @throws {ConflictError} `order_exists`, `terminal_conflict`; {@link ValidationError} `duplicate_sn`.
   */
  async createOrder(req: CreateOrderRequest): Promise<OrderStatus> {
    if ((req.serialNumbers === undefined) === (req.serialRange === undefined)) {
      throw new ValidationError(
        "invalid_field",
        "body must have exactly one of serialNumbers (a list) and serialRange (a run), " +
          `got ${req.serialNumbers === undefined ? "neither" : "both"}`,
      );
    }
    let serialNumbers: Iterable<string>;
    let terminals: number;
    if (req.serialRange !== undefined) {
      // A run is distinct by construction; a number another order holds is found by the store.
      serialNumbers = serialsOfRange(req.serialRange, "body.serialRange");
      terminals = req.serialRange.count;
    } else {
      const list = req.serialNumbers!;
      const seen = new Set<string>();
      for (const [i, sn] of list.entries()) {
        if (seen.has(sn)) {
          throw new ValidationError("duplicate_sn", `body.serialNumbers[${i}] ${sn} appears twice`);
        }
        seen.add(sn);
      }
      serialNumbers = list;
      terminals = seen.size;
    }
    if (await this.#store.getOrder(req.orderId)) {
      throw new ConflictError("order_exists", `order ${req.orderId} already exists`);
    }
    for (const [i, sn] of (req.serialNumbers ?? []).entries()) {
      const slot = await this.#store.getCollectedTk(sn);
      if (slot) {
        throw new ConflictError(
          "terminal_conflict",
          `body.serialNumbers[${i}] ${sn} belongs to order ${slot.orderId}`,
        );
      }
    }
    // The order and its audit record commit together: a failed request leaves neither.
    try {
      await this.#store.transaction(async (tx) => {
        await tx.createOrder({
          orderId: req.orderId,
          state: "collecting",
          createdAt: new Date(this.#now()),
          serialNumbers,
        });
        await this.#audit("order_created", "success", {
          subject: req.orderId,
          detail: `${terminals} terminals`,
        }, tx);
      });
    } catch (e) {
      // A serial number of the run (or, in a race, of the list) that another order holds.
      if (e instanceof StoreError && e.code === "duplicate" && /^serial number /.test(e.message)) {
        throw new ConflictError(
          "terminal_conflict",
          `${
            req.serialRange ? "body.serialRange" : "body.serialNumbers"
          }: ${e.message}; nothing stored`,
        );
      }
      if (e instanceof StoreError && e.code === "duplicate") {
        throw new ConflictError("order_exists", `order ${req.orderId} already exists`);
      }
      throw e;
    }
    // Answered from what was stored, with no read after the commit that could fail.
    return { orderId: req.orderId, terminals, collected: 0, state: "collecting" };
  }

  /**
   * S11-S13: checks the upload (order, SN, operator certificate and
   * signature, time), has the HSM move TK from the transport key to PK
   * (checking its KCV and hash), and stores it once. The same TK uploaded
   * again is accepted without change.
   *
   * @param orderId the order.
   * @param up the validated upload.
   * @returns the order's progress and whether the TK is new.
   * @throws {NotFoundError} `unknown_order`, `unknown_terminal`; {@link ConflictError} `order_transferred`, `tk_exists`, `tk_reused` (the TK is another SN's); {@link AuthenticationError} for the certificate, signature or time; {@link IntegrityError} from the HSM.
   */
  async uploadTk(
    orderId: string,
    up: TkUploadRequest,
  ): Promise<{ created: boolean; body: TkUploadResponse }> {
    const order = await this.orderStatus(orderId);
    const slot = await this.#store.getCollectedTk(up.sn);
    if (!slot || slot.orderId !== orderId) {
      throw new NotFoundError("unknown_terminal", `terminal ${up.sn} is not in order ${orderId}`);
    }
    const now = this.#now();
    let operator: string;
    try {
      operator = await this.#o.signatures.verify(
        up.operatorCertificate,
        tkUploadSigningInput(orderId, up),
        up.signature,
        new Date(now),
      );
      const signedAt = Date.parse(up.signedAt);
      if (Number.isNaN(signedAt) || Math.abs(now - signedAt) > this.#window) {
        throw new AuthenticationError(
          "time_outside_window",
          `signedAt is ${
            Math.round((now - signedAt) / 1000)
          } s from the MTMS clock; the window is ${this.#window / 1000} s`,
        );
      }
    } catch (e) {
      if (e instanceof ProtocolError) {
        await this.#audit("auth_failed", "failure", {
          subject: up.sn,
          detail: `TK upload: ${e.code}`,
        });
      }
      throw e;
    }
    if (slot.tkHash !== null && slot.tkHash !== up.tkHash) {
      await this.#audit("tk_collected", "failure", {
        subject: up.sn,
        detail: "tk_exists",
        actor: operator,
      });
      throw new ConflictError(
        "tk_exists",
        `terminal ${up.sn} already has another TK in order ${orderId}`,
      );
    }
    if (slot.tkHash === null && order.state !== "collecting") {
      throw new ConflictError("order_transferred", `order ${orderId} was already sent to KMS`);
    }
    let tkBlock: string;
    try {
      ({ tkBlock } = await this.#o.hsm.importTk(up.encryptedTk, {
        kcv: up.tkKcv,
        hash: up.tkHash,
      }));
    } catch (e) {
      if (e instanceof ProtocolError) {
        await this.#audit("tk_collected", "failure", {
          subject: up.sn,
          detail: e.code,
          actor: operator,
        });
      }
      throw e;
    }
    let r: { stored: "stored" | "same"; counts: { terminals: number; collected: number } };
    try {
      // The TK and its audit record commit together.
      r = await this.#store.transaction(async (tx) => {
        await this.#oneTkPerTerminal(tx, orderId, up);
        const stored = await tx.putCollectedTk({
          orderId,
          sn: up.sn,
          tkBlock,
          tkKcv: up.tkKcv,
          tkHash: up.tkHash,
          uploadedAt: new Date(now),
        });
        if (stored === "stored") {
          await this.#audit("tk_collected", "success", {
            subject: up.sn,
            kcv: up.tkKcv,
            actor: operator,
          }, tx);
        }
        // The counts of the answer are read in the same transaction (no read after the commit).
        return { stored, counts: await tx.countCollected(orderId) };
      });
    } catch (thrown) {
      // A concurrent upload that gave this TK to another SN first meets the unique index.
      const e = thrown instanceof StoreError && thrown.code === "tk_reused"
        ? new ConflictError(
          "tk_reused",
          `terminal ${up.sn} of order ${orderId}: this TK is already collected for another ` +
            "terminal; one TK per terminal, nothing stored",
        )
        : thrown;
      if (e instanceof ConflictError && e.code === "tk_reused") {
        await this.#audit("tk_collected", "failure", {
          subject: up.sn,
          detail: "tk_reused",
          actor: operator,
        });
      }
      // A concurrent upload stored another TK for this SN first.
      if (e instanceof StoreError && e.code === "conflict") {
        throw new ConflictError(
          "tk_exists",
          `terminal ${up.sn} already has another TK in order ${orderId}`,
        );
      }
      throw e;
    }
    const c = r.counts;
    return {
      created: r.stored === "stored",
      body: { orderId, sn: up.sn, tkKcv: up.tkKcv, collected: c.collected, terminals: c.terminals },
    };
  }

  /**
   * One TK per terminal: refuses a TK (by its hash) that is already
   * collected for another SN, in this order or any other.
   *
   * @throws {ConflictError} `tk_reused` naming the SN that holds it.
   */
  async #oneTkPerTerminal(tx: Store, orderId: string, up: TkUploadRequest): Promise<void> {
    const holders = (await tx.collectedTkHolders(up.tkHash)).filter((sn) => sn !== up.sn);
    if (holders.length > 0) {
      throw new ConflictError(
        "tk_reused",
        `terminal ${up.sn} of order ${orderId}: this TK is already collected for terminal ` +
          `${holders[0]}; one TK per terminal, nothing stored`,
      );
    }
  }

  /**
   * S14: sends all of an order's TKs (under PK) to the KMS as one batch with
   * a retail MAC under MAK: one JSON body, or for more than `streamAbove` TKs
   * a streamed batch (read from the store a page at a time, MAC over its
   * SHA-256). Sending again resends the same batch (the KMS answers
   * `duplicate: "yes"`).
   *
   * @param orderId the order.
   * @returns how many TKs went and whether KMS already had them.
   * @throws {NotFoundError} `unknown_order`; {@link ConflictError} `order_incomplete`; {@link UpstreamError} `kms_refused`.
   */
  async transfer(orderId: string): Promise<TransferResponse> {
    const order = await this.orderStatus(orderId);
    if (order.collected < order.terminals) {
      throw new ConflictError(
        "order_incomplete",
        `order ${orderId} has ${order.collected} of ${order.terminals} TKs; an order goes to KMS whole`,
      );
    }
    let answer: TkBatchResponse;
    try {
      // The KMS's key versions first (a KMS without them: the batch goes under the versions
      // the MTMS has); a batch refused for a key's version once more after.
      await this.#o.keySync?.sync().catch((e) => {
        if (!(e instanceof UpstreamError && e.code === "key_versions_unavailable")) throw e;
      });
      try {
        answer = await this.#send(orderId, order.collected);
      } catch (e) {
        if (!(this.#o.keySync && e instanceof RemoteError && /^key_version_/.test(e.code))) {
          throw e;
        }
        await this.#o.keySync.sync();
        answer = await this.#send(orderId, order.collected);
      }
    } catch (e) {
      const code = e instanceof ProtocolError ? e.code : "kms_unreachable";
      // A refused key version is named (version and why); other failures by their code.
      const detail = code === "key_sync_failed" ? (e as Error).message.slice(0, 300) : code;
      await this.#audit("order_transferred", "failure", { subject: orderId, detail });
      throw new UpstreamError(
        "kms_refused",
        `KMS did not accept order ${orderId}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    await this.#store.transaction(async (tx) => {
      await tx.setOrderState(orderId, "collecting", "transferred");
      await this.#audit("order_transferred", "success", {
        subject: orderId,
        detail: `${answer.accepted} TKs, duplicate ${answer.duplicate}`,
      }, tx);
    });
    return { orderId, transferred: answer.accepted, duplicate: answer.duplicate };
  }

  /** Sends the order's batch: one JSON body, or streamed above `streamAbove` TKs. */
  async #send(orderId: string, n: number): Promise<TkBatchResponse> {
    if (n > (this.#o.streamAbove ?? STREAM_ABOVE)) return await this.#sendStreamed(orderId, n);
    // A JSON batch is read and MACed before it is sent; a streamed one as it is sent.
    const batch = await this.#jsonBatch(orderId);
    return (await callJson(
      this.#o.kms,
      "POST",
      `${this.#o.kmsUrl.replace(/\/$/, "")}/v1/tk-batches`,
      batch,
      TkBatchResponse,
      { observe: this.#o.observe },
    )).body;
  }

  /** The order as one JSON batch, MAC over its canonical bytes. */
  async #jsonBatch(orderId: string): Promise<TkBatchRequest> {
    const entries: BatchEntry[] = [];
    let after: string | undefined;
    while (true) {
      const page = await this.#store.listCollectedTks(orderId, { after, limit: TRANSFER_PAGE });
      for (const t of page) {
        if (t.tkBlock && t.tkKcv && t.tkHash) {
          entries.push({ sn: t.sn, tkBlock: t.tkBlock, tkKcv: t.tkKcv, tkHash: t.tkHash });
        }
      }
      if (page.length < TRANSFER_PAGE) break;
      after = page[page.length - 1].sn;
    }
    entries.sort((a, b) => (a.sn < b.sn ? -1 : a.sn > b.sn ? 1 : 0));
    const { mac, makVersion } = await this.#o.hsm.macBatch(
      batchMacInput({ orderId, tks: entries }),
    );
    return { orderId, tks: entries, mac, makVersion };
  }

  /**
   * The order as a streamed batch (`TkBatchStreamHeader`): read from the
   * store a page at a time in SN order (the order the JSON batch sorts to, so
   * both have the same body hash), each line hashed as it goes out, then the
   * MAC line: the HSM MACs the 32-byte hash.
   */
  async #sendStreamed(orderId: string, n: number): Promise<TkBatchResponse> {
    const store = this.#store;
    const hsm = this.#o.hsm;
    const enc = new TextEncoder();
    const hash = createHash("sha256").update(batchMacPrefix(orderId));
    let after: string | undefined;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode(`${JSON.stringify({ orderId, tks: n })}\n`));
      },
      async pull(c) {
        const page = await store.listCollectedTks(orderId, { after, limit: TRANSFER_PAGE });
        let text = "";
        for (const t of page) {
          if (!(t.tkBlock && t.tkKcv && t.tkHash)) continue;
          const e = { sn: t.sn, tkBlock: t.tkBlock, tkKcv: t.tkKcv, tkHash: t.tkHash };
          hash.update(batchMacLine(e));
          text += `${JSON.stringify(e)}\n`;
          sent++;
        }
        if (text !== "") c.enqueue(enc.encode(text));
        if (page.length === TRANSFER_PAGE) {
          after = page[page.length - 1].sn;
          return;
        }
        if (sent !== n) {
          // The header announced n: KMS refuses the batch (wrong count) and stores nothing.
          c.error(new Error(`order ${orderId}: ${sent} TKs read, ${n} announced`));
          return;
        }
        const { mac, makVersion } = await hsm.macBatch(new Uint8Array(hash.digest()));
        c.enqueue(enc.encode(`${JSON.stringify({ mac, makVersion })}\n`));
        c.close();
      },
    });
    const { body: answer } = await callStream(
      this.#o.kms,
      `${this.#o.kmsUrl.replace(/\/$/, "")}/v1/tk-batches`,
      NDJSON,
      body,
      `(${NDJSON}: header, ${n} TK lines, MAC line)`,
      TkBatchResponse,
      { observe: this.#o.observe },
    );
    return answer;
  }
}
