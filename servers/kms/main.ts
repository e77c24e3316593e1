/**
 * The KMS server: `deno task kms` (or `startKms` in-process, as the demo and
 * the tests do).
 *
 * Every flag, its environment variable and its default: `deno task kms
 * --help` (declared in `_cli.ts`). The store is `--db` (SQLite file, default
 * `data/kms.db`, or a `postgres://` URL for several KMS instances on one
 * database). The LMK comes from two or more `--lmk-component-file` files of
 * the key ceremony (`CUSTODIAN:KEY:KCV`, distinct custodians) with
 * `--lmk-kcv` in production mode (`--hsm-mode`, production by default); PK
 * and MAK, the keys shared with the MTMS, likewise (`--pk-component-file`,
 * `--mak-component-file`); the operator API's secret from `--token-file`.
 * Each secret may come from the environment instead (`KMS_LMK_COMPONENTS`,
 * comma-separated, `KMS_TOKEN`, ...); on argv it draws a warning.
 * `/metrics` (Prometheus) is served on `--metrics-port` at 127.0.0.1 only.
 * `--hsm-workers N` (or `KMS_HSM_WORKERS`; default the number of CPUs, 1
 * for none): the HSM workers bulk issuance runs on (`servers/kms/_keys.ts`).
 * `--staging-idle-s S` (or `KMS_STAGING_IDLE_S`; default 600): at the start,
 * the staged TKs of streamed batches idle S seconds are deleted (0 for a KMS
 * alone on its database: every upload left by a killed process).
 * `--device-root FILE` (PEM) enables flow B (CN103714641A): the KMS CA
 * (certificate in PEM, private key as a TR-31 key block under the LMK)
 * certifies each terminal's Pu_hsm, signing in the HSM. The KMS CA is kept in
 * the database and installed or replaced under dual control (`POST
 * /v1/kms-ca`, `deno task op kms-ca install`); `--kms-ca-cert FILE
 * --kms-ca-key-block FILE` install it only while no operator is enrolled,
 * and once one is, must name the CA in force (`ca_install.ts`).
 *
 * Sockets: `--tls-cert-file FILE --tls-key-file FILE` (PEM) serve HTTPS;
 * plain HTTP needs `--insecure-http` and logs a warning. `--ca-root FILE`
 * asks TLS clients for a certificate and checks one sent (the MTMS's,
 * `mtms-client`) against that root and, with `--crl-file FILE` (PEM CRLs,
 * reloaded on SIGHUP), its CRL; over TLS, S14 (`POST /v1/tk-batches`) needs
 * that certificate besides the MAC under MAK. SIGTERM and SIGINT stop the server
 * gracefully: in-flight requests finish, the store closes, `kms.stopped` is
 * logged.
 *
 * `--console-users FILE` (a JSON array of `{id, name, role, passwordHash}`,
 * from `deno task console:user`) serves the operator console at `/console/`
 * to the enrolled operators it names (their role and name are the operators
 * table's; the file gives each one's argon2id password hash).
 *
 * `--import-ca-key PEM --out FILE` (with the LMK components and `--db`) is the
 * custodian's one-time step: it writes the KMS CA private key as a key block
 * under the LMK to FILE, records `kms_ca_key_imported` with the key's
 * fingerprint in the database's audit log, and exits; the KMS never reads the PEM.
 *
 * A KMS restarted on the same database (and the same LMK) carries on where
 * it stopped: every state lives in the store.
 *
 * @module
 */
import { createHandler, type Logger, type Route, type Running, serveApp } from "../_lib/mod.ts";
import type { ServeLimits, ServerTls } from "../_lib/listener.ts";
import type { ServerMetrics } from "../_lib/metrics.ts";
import { openServerBase, type ServerBaseOptions } from "../_lib/server_start.ts";
import { openOperatorLayer } from "../_lib/operator_layer.ts";
import { kmsMain } from "./_cli.ts";
import { mutualTlsOnly } from "../_lib/tls.ts";
import { kmsKeyOps } from "./_keys.ts";
import { KEY_DISTRIBUTION_ROUTES, keyRotationRoutes, KmsKeyRotation } from "./key_rotation.ts";
import { keyVersionGauge } from "../_lib/key_rotation.ts";
import { kmsRoutes } from "./routes.ts";
import { FlowADelivery } from "./flow_a_delivery.ts";
import type { FailureLimits } from "../_lib/rate_limit.ts";
import { KmsService } from "./service.ts";
import type { FlowBPolicy } from "../../src/protocol/mod.ts";
import type { CrlSet } from "../../src/pki/mod.ts";
import { createFlowBService } from "./flow_b_hsm.ts";
import type { KmsCa } from "./kms_ca.ts";
import { InstalledKmsCa } from "./ca_install.ts";
import { kmsCaRoutes } from "./ca_routes.ts";
import { withFlowB } from "./flow_b_routes.ts";
import type { Tr34Kdh } from "./tr34_kdh.ts";
import { withTr34Kdh } from "./tr34_kms.ts";
import type { ConsoleOptions } from "../_lib/console.ts";
import { mountKmsConsole } from "../_lib/console_mount.ts";

/** Options of {@link startKms}. */
export interface KmsOptions extends ServerBaseOptions {
  port: number;
  hostname?: string;
  /** The operator API's secret (signs each operator request; at least 16 characters). */
  token: string;
  log: Logger;
  /** HSM workers of bulk issuance, 1 to 64 (default: the number of CPUs; 1: in this thread). */
  hsmWorkers?: number;
  /**
   * At the start, staged TKs of streamed uploads idle this long are deleted
   * (default `STAGING_IDLE_MS`; 0: every upload, for a KMS alone on its database).
   */
  stagingIdleMs?: number;
  /**
   * Flow B (CN103714641A): the KMS CA that certifies each terminal's Pu_hsm,
   * from the start flags. Its private key is a key block under this KMS's LMK
   * ({@link importKmsCaKey}). It is installed in the store while no operator
   * is enrolled; otherwise it must be the CA in force there (`ca_install.ts`).
   * Without it the KMS uses the CA of the store.
   */
  kmsCa?: KmsCa;
  /** Flow B: challenge and session lifetimes, lock-out threshold. */
  flowBPolicy?: Partial<FlowBPolicy>;
  /**
   * Flow B: device roots (PEM), required with `kmsCa`: S1, S3 and S5 are signed by device keys.
   * With them the flow B routes are served; S1 is refused until a KMS CA is installed.
   */
  deviceRoots?: string[];
  /** TR-34 2-pass (ASC X9 TR 34-2019): the KDH. Without it the TR-34 routes are not served. */
  tr34?: Tr34Kdh;
  /** The CRLs in force: device certificates (and the MTMS's) are checked against them. */
  crls?: () => CrlSet;
  /** Counts flow B's unauthenticated refusals (`ServerMetrics.count`). */
  count?: (event: string, n?: number) => void;
  /** Serve HTTPS (and check client certificates); plain HTTP without. */
  tls?: ServerTls;
  /** Socket timeouts and connection caps (`servers/_lib/listener.ts`). */
  limits?: Partial<ServeLimits>;
  /** The operator console at `/console/` (`servers/_lib/console.ts`); none without. */
  console?: ConsoleOptions;
  /** Flow A S16-S17: how long a nonce is accepted, in ms (default two minutes). */
  nonceTtlMs?: number;
  /** Flow A S16-S17: the hold-off of serial numbers and sources whose requests fail unproved. */
  deviceFailureLimits?: Partial<FailureLimits>;
}

/**
 * Over TLS, S14 (`acceptTkBatch`, and the key versions the MTMS fetches)
 * needs the MTMS's client certificate besides the MAC under MAK (the keys:
 * the key exchange key); an in-process KMS (no socket) has those alone.
 */
function mtmsOverTls(routes: Route[], o: { tls?: ServerTls }): Route[] {
  return o.tls ? mutualTlsOnly(routes, ["acceptTkBatch", ...KEY_DISTRIBUTION_ROUTES]) : routes;
}

/** A KMS without a socket: its handler (tests call it directly) and a close. */
export interface KmsApp {
  handler: (request: Request) => Promise<Response>;
  /** Its metrics (`/metrics`; refusals of device routes among them). */
  metrics: ServerMetrics;
  /** Stops the HSM workers and closes the store. */
  close(): Promise<void>;
}

/** A running KMS. */
export interface KmsServer extends Running {
  /** The request handler (for in-process calls). */
  handler: (request: Request) => Promise<Response>;
}

/**
 * Opens the store and loads the keys into the HSM: the KMS as a handler.
 *
 * @param o options (`port`/`hostname` unused here).
 * @returns the handler and a close.
 * @throws {ValidationError} `invalid_component` for a malformed component, `invalid_kms_ca`
 *   for a KMS CA key block that is not the CA's key under the LMK; `HsmError` if the HSM
 *   refuses the components; store errors for a bad database.
 */
export async function createKms(o: Omit<KmsOptions, "port" | "hostname">): Promise<KmsApp> {
  const base = await openServerBase("kms", o);
  const { metrics, store, hsmWatch, hsmFactory } = base;
  try {
    const hsm = await kmsKeyOps({ ...base.keys, hsmWorkers: o.hsmWorkers });
    const service = new KmsService(hsm, store);
    keyVersionGauge(metrics, hsm.keys);
    // Flow A S16-S17: nonces and proofs of possession.
    const delivery = new FlowADelivery({
      store,
      proofs: hsm.proofs,
      status: (sn, tx) => service.status(sn, tx),
      nonceTtlMs: o.nonceTtlMs,
      limits: o.deviceFailureLimits,
      metrics,
      log: o.log,
    });
    // Streamed uploads left by a killed process: their staged TKs never become terminals.
    await service.purgeStaleUploads(o.stagingIdleMs);
    // The KMS CA of the store; the start flags' CA is installed only while nobody can approve.
    const kmsCa = new InstalledKmsCa({ store, hsm: hsm.hsm, core: o.core });
    if (o.kmsCa && !o.deviceRoots) {
      throw new RangeError("flow B (a KMS CA) needs device roots (--device-root)");
    }
    if (o.kmsCa) await kmsCa.adoptAtStart(o.kmsCa, (await store.countOperators()) > 0);
    // Flow B, on its own handle of the same HSM (same LMK) and the same store.
    const flowBHsm = o.deviceRoots
      ? await hsmFactory({
        lmkComponents: o.lmkComponents,
        lmkKcv: o.lmkKcv,
        mode: o.hsmMode,
        core: o.core,
        store,
        actor: "kms",
      })
      : undefined;
    const flowB = flowBHsm && o.deviceRoots
      ? createFlowBService({
        hsm: flowBHsm,
        store,
        core: o.core,
        kmsCa: { source: () => kmsCa.current() },
        policy: o.flowBPolicy,
        deviceRoots: o.deviceRoots,
        crls: o.crls,
        sinks: {
          count: o.count ?? ((event, n) => metrics.count(event, n)),
          log: (level, event, fields) => o.log?.log(level, event, fields),
        },
      })
      : undefined;
    const operators = openOperatorLayer({ ...o, store, hsm: hsm.hsm, actor: "kms" });
    const api = createHandler({
      title: "KMS",
      version: "1.0.0",
      description:
        "Key management system: flow A of CN103714639A (TK batches, bulk TMK issuance, download)" +
        " and, with a KMS CA, flow B of CN103714641A (remote download with mutual authentication)",
      routes: mtmsOverTls(
        [
          ...await withTr34Kdh(
            flowB ? withFlowB(kmsRoutes(service, delivery), flowB) : kmsRoutes(service, delivery),
            { ...o, store, hsmFactory, metrics },
          ),
          ...keyRotationRoutes(new KmsKeyRotation({ keys: hsm.keys, store })),
          ...operators.routes,
          ...kmsCaRoutes(kmsCa),
        ],
        o,
      ),
      operators: operators.gate,
      log: o.log,
      ready: base.ready,
      metrics,
    });
    const handler = mountKmsConsole(api, {
      console: o.console,
      store,
      core: o.core,
      hsm: hsmWatch,
      log: o.log,
      service,
      flowB: flowB !== undefined,
      kmsCaCertificate: o.kmsCa?.certificate,
      crls: o.crls,
      operators,
    });
    return {
      handler,
      metrics,
      close: async () => {
        try {
          await hsm.close();
        } finally {
          await store.close();
        }
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/**
 * {@link createKms}, served on a socket.
 *
 * @param o options.
 * @returns the running server; `shutdown` stops it and closes the store.
 */
export async function startKms(o: KmsOptions): Promise<KmsServer> {
  return serveApp("kms", await createKms(o), o);
}

if (import.meta.main) await kmsMain(Deno.args, startKms);
