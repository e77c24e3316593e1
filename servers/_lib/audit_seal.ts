/**
 * The audit log's checkpoints: the HSM MACs the chain's hash (see
 * `src/store/audit_chain.ts`) under the audit key, a MAC key held as a key
 * block under the server's LMK in the store's `server_keys` (made by the
 * HSM for the first checkpoint on the database). A checkpoint is made
 * once {@link AuditSealerOptions.every} records have been appended since the
 * last one (checked after each operator request and on a timer), and on
 * demand. {@link AuditSealer.verify} walks the chain and checks every
 * checkpoint's MAC with the HSM.
 *
 * @module
 */
import { fromHex, toHex } from "../../src/crypto/mod.ts";
import type { Hsm, KeyTemplate } from "../../src/hsm/mod.ts";
import {
  type AuditCheckpoint,
  type AuditVerifyReport,
  checkpointMacInput,
  type Store,
  verifyAuditChain,
} from "../../src/store/mod.ts";

/** The name of the audit key in `server_keys`. */
export const AUDIT_KEY_NAME = "audit";

/** The audit key: an ISO 9797-1 algorithm 3 MAC key (TDES), never exported. */
export const AUDIT_KEY_TEMPLATE: KeyTemplate = {
  keyUsage: "M3",
  algorithm: "T",
  modeOfUse: "C",
  exportability: "N",
  length: 16,
};

/** Options of {@link AuditSealer.open}. */
export interface AuditSealerOptions {
  /** Records between automatic checkpoints (default 1000). */
  every?: number;
  /** The server's name in the audit log (`kms`, `mtms`). */
  actor: string;
  now?: () => Date;
}

/** Makes and checks the audit log's checkpoints with the HSM. */
export class AuditSealer {
  readonly #store: Store;
  readonly #hsm: Hsm;
  #key: { keyBlock: string; kcv: string } | null = null;
  readonly #every: number;
  readonly #actor: string;
  readonly #now: () => Date;
  #sealing: Promise<AuditCheckpoint | null> | null = null;

  /**
   * @param store the server's store.
   * @param hsm an authorized HSM holding the server's LMK.
   * @param o the actor, the checkpoint interval, the clock.
   * @throws {RangeError} for a bad interval.
   */
  constructor(store: Store, hsm: Hsm, o: AuditSealerOptions) {
    const every = o.every ?? 1000;
    if (!Number.isInteger(every) || every < 1 || every > 1_000_000) {
      throw new RangeError(`every must be an integer from 1 to 1000000, got ${every}`);
    }
    this.#store = store;
    this.#hsm = hsm;
    this.#every = every;
    this.#actor = o.actor;
    this.#now = o.now ?? (() => new Date());
  }

  /**
   * The audit key: from the store, or made by the HSM (audited) the first
   * time a checkpoint is made on this database; checked under the LMK.
   *
   * @throws {RangeError} for a stored key that is not a MAC key of its KCV; `HsmError` for a
   *   key block that is not under this LMK.
   */
  async #auditKey(): Promise<{ keyBlock: string; kcv: string }> {
    if (this.#key) return this.#key;
    let key = await this.#store.getServerKey(AUDIT_KEY_NAME);
    if (!key) {
      const made = await this.#hsm.generateKey(AUDIT_KEY_TEMPLATE);
      key = await this.#store.putServerKey({
        name: AUDIT_KEY_NAME,
        keyBlock: made.keyBlock,
        kcv: made.kcv,
        createdAt: this.#now(),
      });
      if (key.keyBlock === made.keyBlock) {
        await this.#store.appendAudit({
          at: new Date(key.createdAt),
          actor: `${this.#actor} hsm`,
          event: "audit_key_generated",
          keyId: AUDIT_KEY_NAME,
          kcv: key.kcv,
          outcome: "success",
        });
      }
    }
    const info = await this.#hsm.keyInfo(key.keyBlock);
    if (info.keyUsage !== "M3" || info.kcv !== key.kcv) {
      throw new RangeError(
        `the stored audit key is not a MAC key with KCV ${key.kcv} (usage ${info.keyUsage})`,
      );
    }
    this.#key = { keyBlock: key.keyBlock, kcv: key.kcv };
    return this.#key;
  }

  /**
   * Makes a checkpoint at the chain's head (none if the head is already
   * checkpointed or the log is empty). Concurrent calls share one.
   *
   * @returns the checkpoint at the head, or null for an empty log.
   */
  seal(): Promise<AuditCheckpoint | null> {
    this.#sealing ??= this.#seal().finally(() => this.#sealing = null);
    return this.#sealing;
  }

  async #seal(): Promise<AuditCheckpoint | null> {
    const key = await this.#auditKey();
    const head = await this.#store.auditHead();
    const last = await this.#store.lastAuditCheckpoint();
    if (head.seq === 0 || head.seq < head.chainedFrom) return last;
    if (last && last.seq >= head.seq) return last;
    const at = this.#now().toISOString();
    const mac = await this.#hsm.generateMac(
      key.keyBlock,
      checkpointMacInput({ seq: head.seq, hash: head.hash, at }),
    );
    const c: AuditCheckpoint = {
      seq: head.seq,
      hash: head.hash,
      at,
      keyKcv: key.kcv,
      mac: toHex(mac),
    };
    await this.#store.addAuditCheckpoint(c);
    return c;
  }

  /**
   * Makes a checkpoint if at least `every` records came since the last one.
   *
   * @returns the new checkpoint, or null if none was due.
   */
  async sealIfDue(): Promise<AuditCheckpoint | null> {
    const head = await this.#store.auditHead();
    const last = await this.#store.lastAuditCheckpoint();
    const since = head.seq - Math.max(last?.seq ?? 0, head.chainedFrom - 1);
    return since >= this.#every ? await this.seal() : null;
  }

  /**
   * Checks the whole audit log: the chain, the ids, the head, and every
   * checkpoint's MAC under the audit key.
   *
   * @returns the report.
   */
  verify(): Promise<AuditVerifyReport> {
    return verifyAuditChain(this.#store, async (c) => {
      const key = await this.#auditKey();
      if (c.keyKcv !== key.kcv || !/^([0-9A-F]{2}){4,32}$/.test(c.mac)) return false;
      return await this.#hsm.verifyMac(
        key.keyBlock,
        checkpointMacInput(c),
        fromHex(c.mac),
      );
    });
  }
}
