/**
 * The MTMS's side of the rotation of PK and MAK: before each transfer it
 * asks the KMS for the versions in use (`GET /v1/server-keys`, S14 over
 * mutual TLS) and fetches each version it does not have, one after the
 * other; each arrives as a TR-31 block under the key exchange key derived
 * from the version before it, is imported by the MTMS's HSM (KCV checked),
 * stored under the MTMS's LMK in its own store, and used from then on.
 *
 * @module
 */
import {
  callJson,
  type CallOptions,
  ProtocolError,
  RemoteError,
  type Schema,
  ServerKeyHandOver,
  ServerKeysResponse,
  type Transport,
  UpstreamError,
} from "../../src/protocol/mod.ts";
import type { AuditInput, Store } from "../../src/store/mod.ts";
import { hsmCall } from "../_lib/hsm.ts";
import type { ServerKeyRing, SharedKeyName } from "../_lib/key_rotation.ts";
import type { KeySync } from "./service.ts";

/**
 * The code of a sync with a KMS that has no key versions to give (it answers
 * 404: it does not rotate): the MTMS then sends under the versions it has.
 */
export const KEYS_UNAVAILABLE = "key_versions_unavailable";

/** Options of {@link MtmsKeySync}. */
export interface MtmsKeySyncOptions {
  /** PK's and MAK's versions at the MTMS. */
  keys: Record<SharedKeyName, ServerKeyRing>;
  store: Store;
  /** Reaches the KMS. */
  kms: Transport;
  kmsUrl: string;
  observe?: CallOptions["observe"];
  now?: () => Date;
}

/** Brings the MTMS's PK and MAK to the KMS's versions; each adopted version audited. */
export class MtmsKeySync implements KeySync {
  readonly #o: MtmsKeySyncOptions;
  readonly #base: string;
  /** One sync at a time: two transfers at once fetch a version once. */
  #running: Promise<void> = Promise.resolve();

  /** @param o the key rings, the store and the KMS. */
  constructor(o: MtmsKeySyncOptions) {
    this.#o = o;
    this.#base = o.kmsUrl.replace(/\/$/, "");
  }

  /**
   * Fetches and adopts each version the KMS has and the MTMS has not.
   *
   * @throws {UpstreamError} {@link KEYS_UNAVAILABLE} (the KMS has no such route);
   *   `kms_unreachable` (no answer, or another refusal: the transfer stops, nothing changes);
   *   `key_sync_failed` naming the version and why the MTMS's HSM refused it
   *   (`decrypt_failed`, `kcv_mismatch`).
   */
  sync(): Promise<void> {
    const run = this.#running.then(() => this.#sync());
    this.#running = run.catch(() => {});
    return run;
  }

  async #sync(): Promise<void> {
    const { body } = await this.#get("/v1/server-keys", ServerKeysResponse, "the key versions");
    for (const k of body.keys) {
      const ring = this.#o.keys[k.name];
      while (ring.current.version < k.version) await this.#adopt(ring, ring.current.version + 1);
    }
  }

  async #get<T>(path: string, schema: Schema<T>, what: string): Promise<{ body: T }> {
    try {
      return await callJson(this.#o.kms, "GET", `${this.#base}${path}`, undefined, schema, {
        observe: this.#o.observe,
      });
    } catch (e) {
      throw new UpstreamError(
        e instanceof RemoteError && e.status === 404 ? KEYS_UNAVAILABLE : "kms_unreachable",
        `${what} from the KMS: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  async #adopt(ring: ServerKeyRing, version: number): Promise<void> {
    const what = `${ring.name} version ${version}`;
    const { body: h } = await this.#get(
      `/v1/server-keys/${ring.name}/versions/${version}`,
      ServerKeyHandOver,
      what,
    );
    const before = ring.current;
    try {
      await hsmCall(
        `${what} from the KMS`,
        () =>
          ring.adopt(h, "kms", (_, v) =>
            this.#record(
              "success",
              what,
              v.kcv,
              `${ring.name} version ${before.version} KCV ` +
                `${before.kcv} -> version ${v.version} KCV ${v.kcv}, from the KMS`,
            )),
      );
    } catch (e) {
      // No record here: the transfer that asked for the versions records its failure, naming this.
      const code = e instanceof ProtocolError ? e.code : "error";
      throw new UpstreamError(
        "key_sync_failed",
        `${what} from the KMS refused (${code}): ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  #record(
    outcome: "success" | "failure",
    subject: string,
    kcv: string | undefined,
    detail: string,
  ): AuditInput {
    return {
      at: (this.#o.now ?? (() => new Date()))(),
      actor: "mtms",
      event: "server_key_received",
      outcome,
      subject,
      kcv,
      detail,
    };
  }
}
