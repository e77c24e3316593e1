/**
 * The versions of a key the MTMS and the KMS share (PK, MAK) as one server
 * holds them: version 1 formed from the key ceremony's components, each
 * later version made by the KMS's HSM under dual control and handed to the
 * MTMS under a key exchange key derived from the version before it
 * (`exportSuccessorKey` / `importSuccessorKey` of the HSM). Each version is
 * a key block under this server's LMK in its own store
 * (`server_key_versions`), with the KCV of the version before it: a chain
 * that starts at the components. A server starts from its components and
 * moves forward along that chain to the newest version; components that
 * match no stored version are refused.
 *
 * @module
 */
import { type Hsm, KEY_TEMPLATES, type KeyResult } from "../../src/hsm/mod.ts";
import { ConflictError, IntegrityError, ValidationError } from "../../src/protocol/errors.ts";
import {
  type AuditInput,
  type ServerKeyVersion,
  type Store,
  StoreError,
} from "../../src/store/mod.ts";
import type { ServerMetrics } from "./metrics.ts";

/** The keys with versions. */
export type SharedKeyName = "PK" | "MAK";

/** The names of the keys with versions, in the order they are shown. */
export const SHARED_KEY_NAMES: readonly SharedKeyName[] = ["PK", "MAK"];

/** One version as a server uses it: its block under this server's LMK and its KCV. */
export interface KeyVersion {
  readonly version: number;
  readonly kcv: string;
  readonly previousKcv: string | null;
  readonly keyBlock: string;
}

/** A successor in transit: a TR-31 block under the key exchange key derived from its predecessor. */
export interface KeyHandOver {
  readonly name: SharedKeyName;
  readonly version: number;
  readonly kcv: string;
  readonly previousKcv: string;
  /** The TR-31 block under the key exchange key (never the key in clear). */
  readonly keyBlock: string;
}

/**
 * The context that binds the key exchange key to one hand-over: `PK v2`.
 *
 * @param name the key.
 * @param version the successor's version.
 * @returns its ASCII bytes.
 */
export function handOverContext(name: SharedKeyName, version: number): Uint8Array {
  return new TextEncoder().encode(`${name} v${version}`);
}

function describeChain(stored: readonly ServerKeyVersion[]): string {
  return stored.map((v) => `v${v.version} KCV ${v.kcv}`).join(", ");
}

/** One shared key's versions at one server; the newest of its chain is {@link current}. */
export class ServerKeyRing {
  readonly name: SharedKeyName;
  readonly #hsm: Hsm;
  readonly #store: Store;
  /** The chain from the components' version to the newest, oldest first. */
  readonly #chain: KeyVersion[];

  private constructor(name: SharedKeyName, hsm: Hsm, store: Store, chain: KeyVersion[]) {
    this.name = name;
    this.#hsm = hsm;
    this.#store = store;
    this.#chain = chain;
  }

  /**
   * Opens a key's versions at start: the key formed from the components is
   * version 1 of an empty store (stored then); otherwise the stored version
   * with its KCV, then each stored version that follows it in the chain.
   *
   * @param o the key's name, the key formed from its components, the HSM and the store.
   * @returns the ring, at the newest version of the chain.
   * @throws {ValidationError} `key_version_unknown`: the components match no stored version.
   */
  static async open(
    o: { name: SharedKeyName; formed: KeyResult; hsm: Hsm; store: Store },
  ): Promise<ServerKeyRing> {
    let stored = await o.store.listServerKeyVersions(o.name);
    if (stored.length === 0) {
      stored = [
        await o.store.putServerKeyVersion({
          name: o.name,
          version: 1,
          keyBlock: o.formed.keyBlock,
          kcv: o.formed.kcv,
          previousKcv: null,
          createdAt: new Date(),
          createdBy: "ceremony",
        }),
      ];
    }
    const at = stored.findIndex((v) => v.kcv === o.formed.kcv);
    if (at < 0) {
      throw new ValidationError(
        "key_version_unknown",
        `${o.name} components (KCV ${o.formed.kcv}) match no ${o.name} version in the store ` +
          `(${describeChain(stored)}): enter the components of this database's key ceremony`,
      );
    }
    const first = stored[at];
    const ring = new ServerKeyRing(o.name, o.hsm, o.store, [{
      version: first.version,
      kcv: first.kcv,
      previousKcv: first.previousKcv,
      keyBlock: o.formed.keyBlock,
    }]);
    await ring.#follow(stored.slice(at + 1));
    return ring;
  }

  /** The version in use: the newest of the chain. */
  get current(): KeyVersion {
    return this.#chain[this.#chain.length - 1];
  }

  /**
   * A version of the chain.
   *
   * @param version its number.
   * @returns it, or undefined (older than the components' version, or not known yet).
   */
  version(version: number): KeyVersion | undefined {
    return this.#chain.find((v) => v.version === version);
  }

  /**
   * The version with a KCV.
   *
   * @param kcv the KCV (uppercase hex).
   * @returns it, or undefined.
   */
  byKcv(kcv: string): KeyVersion | undefined {
    return this.#chain.find((v) => v.kcv === kcv);
  }

  /** Appends the stored versions that continue the chain, each checked in the HSM. */
  async #follow(stored: readonly ServerKeyVersion[]): Promise<void> {
    for (const v of stored) {
      const last = this.current;
      if (v.version <= last.version) continue;
      if (v.version !== last.version + 1 || v.previousKcv !== last.kcv) break;
      // The block must open under this LMK and be the key its row says.
      const kcv = await this.#hsm.keyCheckValue(v.keyBlock);
      if (kcv !== v.kcv) {
        throw new IntegrityError(
          "kcv_mismatch",
          `${this.name} version ${v.version}: the stored block has KCV ${kcv}, its row ${v.kcv}`,
        );
      }
      this.#chain.push({
        version: v.version,
        kcv: v.kcv,
        previousKcv: v.previousKcv,
        keyBlock: v.keyBlock,
      });
    }
  }

  /**
   * Moves to the newest stored version of the chain (another instance on the
   * same database may have rotated the key).
   *
   * @returns the current version.
   */
  async refresh(): Promise<KeyVersion> {
    const stored = await this.#store.listServerKeyVersions(this.name);
    if (stored.length > 0 && stored[stored.length - 1].version > this.current.version) {
      await this.#follow(stored);
    }
    return this.current;
  }

  /**
   * Stores a new version after the current one, with its audit record in the
   * same transaction; refuses it if another got there first.
   */
  async #append(
    next: KeyResult,
    createdBy: string,
    record?: VersionRecord,
  ): Promise<KeyVersion> {
    const last = this.current;
    const version = last.version + 1;
    const v = { version, kcv: next.kcv, previousKcv: last.kcv, keyBlock: next.keyBlock };
    let row: ServerKeyVersion;
    try {
      row = await this.#store.transaction(async (tx) => {
        const row = await tx.putServerKeyVersion({
          name: this.name,
          version,
          keyBlock: next.keyBlock,
          kcv: next.kcv,
          previousKcv: last.kcv,
          createdAt: new Date(),
          createdBy,
        });
        if (row.kcv === next.kcv && record) await tx.appendAudit(record(last, v));
        return row;
      });
    } catch (e) {
      if (e instanceof StoreError && e.code === "conflict") {
        throw new ConflictError("key_version_conflict", `${e.message}`);
      }
      throw e;
    }
    if (row.kcv !== next.kcv) {
      await this.refresh();
      throw new ConflictError(
        "key_version_conflict",
        `${this.name} version ${version} was stored meanwhile (KCV ${row.kcv}); nothing changed`,
      );
    }
    this.#chain.push(v);
    return v;
  }

  /**
   * The KMS's rotation: the HSM generates the next version (the key's
   * template) and the store keeps it after the newest one.
   *
   * @param createdBy who made it (the two operators).
   * @param record its audit record, written with it.
   * @returns the version before and the new one.
   * @throws {ConflictError} `key_version_conflict` if another rotation stored that version first.
   */
  async rotate(
    createdBy: string,
    record?: VersionRecord,
  ): Promise<{ previous: KeyVersion; current: KeyVersion }> {
    const previous = await this.refresh();
    const next = await this.#hsm.generateKey(KEY_TEMPLATES[this.name]);
    return { previous, current: await this.#append(next, createdBy, record) };
  }

  /**
   * The KMS's side of a hand-over: version `version` under the key exchange
   * key derived from version `version - 1`.
   *
   * @param version 2 or more, a version of the chain.
   * @returns the successor in transit.
   * @throws {ValidationError} `key_version_unknown` for a version this server cannot hand over.
   */
  async handOver(version: number): Promise<KeyHandOver> {
    await this.refresh();
    const next = this.version(version);
    const prev = this.version(version - 1);
    if (!next || !prev) {
      throw new ValidationError(
        "key_version_unknown",
        `${this.name} version ${version} cannot be handed over: this KMS has versions ` +
          `${this.#chain[0].version} to ${this.current.version}`,
      );
    }
    const r = await this.#hsm.exportSuccessorKey(
      next.keyBlock,
      prev.keyBlock,
      handOverContext(this.name, version),
    );
    return {
      name: this.name,
      version,
      kcv: next.kcv,
      previousKcv: prev.kcv,
      keyBlock: r.exported,
    };
  }

  /**
   * The MTMS's side of a hand-over: imports the successor of the current
   * version (KCV checked in the HSM) and stores it as the next version.
   *
   * @param h the successor in transit.
   * @param from who sent it, for the store (`kms`).
   * @param record its audit record, written with it.
   * @returns the new current version.
   * @throws {ValidationError} `key_version_unknown` for a successor of another version;
   *   `HsmError` `key_block` (a forged or garbled block), `kcv_mismatch`.
   */
  async adopt(h: KeyHandOver, from: string, record?: VersionRecord): Promise<KeyVersion> {
    const last = this.current;
    if (h.name !== this.name || h.version !== last.version + 1 || h.previousKcv !== last.kcv) {
      throw new ValidationError(
        "key_version_unknown",
        `${h.name} version ${h.version} (after KCV ${h.previousKcv}) does not follow ` +
          `${this.name} version ${last.version} (KCV ${last.kcv})`,
      );
    }
    const next = await this.#hsm.importSuccessorKey(h.keyBlock, last.keyBlock, {
      context: handOverContext(this.name, h.version),
      expectedKcv: h.kcv,
    });
    return await this.#append(next, from, record);
  }
}

/** The audit record of a new version (written in the transaction that stores it). */
export type VersionRecord = (previous: KeyVersion, current: KeyVersion) => AuditInput;

/**
 * Declares `tmk_server_key_version{key}`: the version of PK and MAK this
 * server uses (read from its store at scrape time: another instance on the
 * same database may have rotated a key).
 *
 * @param metrics the server's metrics.
 * @param keys PK's and MAK's versions.
 */
export function keyVersionGauge(
  metrics: ServerMetrics,
  keys: Record<SharedKeyName, ServerKeyRing>,
): void {
  metrics.gauge(
    "tmk_server_key_version",
    "Version of each key the MTMS and the KMS share in use (1: the key ceremony's)",
    ["key"],
    async () => {
      const samples = [];
      for (const key of SHARED_KEY_NAMES) {
        samples.push({ labels: { key }, value: (await keys[key].refresh()).version });
      }
      return samples;
    },
  );
}
