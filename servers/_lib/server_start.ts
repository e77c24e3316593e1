/**
 * The start-up the KMS and the MTMS share: their metrics, the store (metered),
 * the HSMs they open (tracked for the gauges, the first one watched for the
 * console), and the key ceremony's inputs to their key loading.
 *
 * @module
 */
import type { Store } from "../../src/store/mod.ts";
import { type HsmWatch, watchHsm } from "./console_common.ts";
import type { HsmFactory, ServerKeysStart } from "./hsm.ts";
import { meteredStore, serverGauges, ServerMetrics, trackedHsms } from "./metrics.ts";
import { openStore } from "./store.ts";

/** What {@link openServerBase} reads from a server's options (theirs extend it). */
export interface ServerBaseOptions extends Omit<ServerKeysStart, "store"> {
  /** The store: a SQLite file, or a `postgres://` URL. */
  db: string;
  /** Opens the store from `db` (default `openStore`: a SQLite file or a `postgres://` URL). */
  storeFactory?: (db: string) => Promise<Store>;
  /** Where requests, store calls and the scrape-time gauges go (default: the server's own). */
  metrics?: ServerMetrics;
}

/** A server's metrics, store and HSM factory, opened. */
export interface ServerBase {
  metrics: ServerMetrics;
  /** The store, its calls counted in `metrics`. */
  store: Store;
  /** The first HSM opened, for the console. */
  hsmWatch: HsmWatch;
  /** Opens each HSM the server uses (tracked and watched). */
  hsmFactory: HsmFactory;
  /** What the server's key loading (`kmsKeyOps`, `mtmsKeyOps`) starts from. */
  keys: ServerKeysStart & { hsmFactory: HsmFactory };
  /** The readiness check of `/healthz`: the store answers. */
  ready(): Promise<void>;
}

/**
 * Opens a server's metrics and store and wraps its HSM factory; the store's
 * counts and the HSMs' states become scrape-time gauges.
 *
 * @param name the server ("kms", "mtms"): its metrics' name.
 * @param o the server's options.
 * @returns the opened parts; the caller closes `store`.
 */
export async function openServerBase(name: string, o: ServerBaseOptions): Promise<ServerBase> {
  const metrics = o.metrics ?? new ServerMetrics(name);
  const store = meteredStore(await (o.storeFactory ?? openStore)(o.db), metrics);
  const hsms = trackedHsms(o.hsmFactory);
  const hsmWatch = watchHsm(hsms.factory);
  const hsmFactory = hsmWatch.factory;
  serverGauges(metrics, store, hsms.states);
  return {
    metrics,
    store,
    hsmWatch,
    hsmFactory,
    keys: {
      lmkComponents: o.lmkComponents,
      lmkKcv: o.lmkKcv,
      hsmMode: o.hsmMode,
      pkComponents: o.pkComponents,
      makComponents: o.makComponents,
      core: o.core,
      store,
      hsmFactory,
    },
    ready: async () => {
      await store.schemaVersion();
    },
  };
}
