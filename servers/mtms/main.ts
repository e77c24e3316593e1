/**
 * The MTMS server: `deno task mtms` (or `startMtms` in-process, as the demo
 * and the tests do).
 *
 * Every flag, its environment variable and its default: `deno task mtms
 * --help` (declared in `_cli.ts`). The store is `--db` (default
 * `data/mtms.db`); the LMK, PK and MAK components come from the key
 * ceremony's files (`--lmk-component-file`, `--pk-component-file`,
 * `--mak-component-file`) or the environment, with `--lmk-kcv` in
 * production mode; the operator secret from `--token-file` or `MTMS_TOKEN`;
 * `--kms-url`, `--ca-root FILE` (the CA root, PEM), `--transport-key FILE`
 * (the transport private key as a TR-31 block under this MTMS's LMK) and
 * `--transport-cert FILE` (its certificate from the CA). `/metrics` is
 * served on `--metrics-port` at 127.0.0.1 only.
 * `--generate-transport-key PREFIX` (with the LMK components) makes that key
 * block and the public key for the CA, then exits.
 * `--console-users FILE` (a JSON array of `{id, name, role, passwordHash}`,
 * from `deno task console:user`) serves the operator console at `/console/`
 * to the enrolled operators it names (their role and name are the operators
 * table's; the file gives each one's argon2id password hash).
 *
 * Sockets: `--tls-cert-file FILE --tls-key-file FILE` (PEM) serve HTTPS;
 * plain HTTP needs `--insecure-http` and logs a warning. An `https:`
 * `--kms-url` is reached over mutual TLS: the KMS's certificate is checked
 * against `--ca-root`, and the MTMS presents `--kms-client-cert FILE
 * --kms-client-key FILE` (profile `mtms-client`); a plain `http:` one needs
 * `--insecure-http`. `--crl-file FILE` (PEM CRLs, reloaded on SIGHUP):
 * operator cards they list are refused. SIGTERM and SIGINT stop the server
 * gracefully: in-flight requests finish, the store closes, `mtms.stopped` is
 * logged.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import type { CallOptions, Transport } from "../../src/protocol/mod.ts";
import { fetchTransport } from "../../src/protocol/mod.ts";
import { createHandler, type Logger, type Running, serveApp } from "../_lib/mod.ts";
import type { ServeLimits, ServerTls } from "../_lib/listener.ts";
import { revocationChecked } from "../_lib/revocation.ts";
import type { CrlSet } from "../../src/pki/mod.ts";
import type { ServerMetrics } from "../_lib/metrics.ts";
import { openServerBase, type ServerBaseOptions } from "../_lib/server_start.ts";
import { openOperatorLayer } from "../_lib/operator_layer.ts";
import { mtmsMain } from "./_cli.ts";
import { mtmsKeyOps, operatorSignatureCheck, type RsaPublicKeyBytes } from "./_keys.ts";
import { MtmsKeySync } from "./key_rotation.ts";
import { keyVersionGauge } from "../_lib/key_rotation.ts";
import { exportSpkiPem } from "../../src/crypto/mod.ts";
import { type HsmMode, KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { openHsm, publicKeyFingerprint } from "../_lib/hsm.ts";
import { mtmsRoutes } from "./routes.ts";
import { MtmsService } from "./service.ts";
import type { ConsoleOptions } from "../_lib/console.ts";
import { mountMtmsConsole } from "../_lib/console_mount.ts";

/** Options of {@link startMtms}. */
export interface MtmsOptions extends ServerBaseOptions {
  port: number;
  hostname?: string;
  token: string;
  log: Logger;
  /** KMS base URL. */
  kmsUrl: string;
  /** How to reach the KMS (default `fetch`). */
  kmsTransport?: Transport;
  /** The CA root (PEM) operator certificates must chain to. */
  caRoot: string;
  /**
   * The transport key: either an existing one (private key block under this
   * LMK and its certificate), or a callback that gets a certificate from the
   * CA for a key pair the HSM generates now.
   */
  transportKey?: { keyBlock: string; certificate: string };
  issueTransportCertificate?: (publicKey: RsaPublicKeyBytes) => Promise<string>;
  observe?: CallOptions["observe"];
  /** Orders of more TKs go to KMS streamed (default `STREAM_ABOVE` of `service.ts`). */
  streamAbove?: number;
  /** The CRLs in force: operator cards they list are refused. */
  crls?: () => CrlSet;
  /** Serve HTTPS; plain HTTP without. */
  tls?: ServerTls;
  /** Socket timeouts and connection caps (`servers/_lib/listener.ts`). */
  limits?: Partial<ServeLimits>;
  /** The operator console at `/console/` (`servers/_lib/console.ts`); none without. */
  console?: ConsoleOptions;
  /** The KMS's console, linked from an order's page. */
  kmsConsoleUrl?: string;
}

/** A MTMS without a socket: its handler (tests call it directly) and a close. */
export interface MtmsApp {
  handler: (request: Request) => Promise<Response>;
  /** Closes the store. */
  close(): Promise<void>;
  /** Its metrics (`/metrics`). */
  metrics: ServerMetrics;
}

/** A running MTMS. */
export interface MtmsServer extends Running {
  handler: (request: Request) => Promise<Response>;
}

/**
 * Opens the store and loads the keys into the HSM: the MTMS as a handler.
 *
 * @param o options (`port`/`hostname` unused here).
 * @returns the handler and a close.
 */
export async function createMtms(o: Omit<MtmsOptions, "port" | "hostname">): Promise<MtmsApp> {
  const base = await openServerBase("mtms", o);
  const { metrics, store, hsmWatch } = base;
  try {
    const keys = await mtmsKeyOps({
      ...base.keys,
      transportKey: o.transportKey,
      issueTransportCertificate: o.issueTransportCertificate,
    });
    keyVersionGauge(metrics, keys.keys);
    const service = new MtmsService({
      hsm: keys.ops,
      store,
      signatures: o.crls
        ? revocationChecked(operatorSignatureCheck(o.caRoot, o.core), {
          roots: [o.caRoot],
          purpose: "operator-card",
          crls: o.crls,
        })
        : operatorSignatureCheck(o.caRoot, o.core),
      transportCertificate: keys.transportCertificate,
      kms: o.kmsTransport ?? fetchTransport,
      kmsUrl: o.kmsUrl,
      observe: o.observe,
      streamAbove: o.streamAbove,
      keySync: new MtmsKeySync({
        keys: keys.keys,
        store,
        kms: o.kmsTransport ?? fetchTransport,
        kmsUrl: o.kmsUrl,
        observe: o.observe,
      }),
    });
    const operators = openOperatorLayer({ ...o, store, hsm: keys.hsm, actor: "mtms" });
    const api = createHandler({
      title: "MTMS",
      version: "1.0.0",
      description:
        "Material tracking system: flow A of CN103714639A (production orders, TK collection, transfer to KMS)",
      routes: [...mtmsRoutes(service), ...operators.routes],
      operators: operators.gate,
      log: o.log,
      ready: base.ready,
      metrics,
    });
    const handler = mountMtmsConsole(api, {
      console: o.console,
      store,
      core: o.core,
      hsm: hsmWatch,
      log: o.log,
      service,
      crls: o.crls,
      kmsConsoleUrl: o.kmsConsoleUrl,
      operators,
    });
    return { handler, close: () => store.close(), metrics };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/**
 * {@link createMtms}, served on a socket.
 *
 * @param o options.
 * @returns the running server; `shutdown` stops it and closes the store.
 */
export async function startMtms(o: MtmsOptions): Promise<MtmsServer> {
  return serveApp("mtms", await createMtms(o), o);
}

/**
 * Key ceremony, step 1: the MTMS's HSM generates the transport key pair
 * (RSA-2048). Writes `<prefix>.tr31` (the private key as a TR-31 block under
 * this MTMS's LMK: never clear) and `<prefix>.pub.pem` (SubjectPublicKeyInfo,
 * for the CA to certify with the `mtms-transport` profile). The MTMS then
 * starts with `--transport-key <prefix>.tr31 --transport-cert <the CA's certificate>`.
 * The HSM's start (states, LMK load) and one `transport_key_generated`
 * record with the key's fingerprint (`publicKeyFingerprint`) go to the
 * MTMS's audit log in `store`.
 *
 * @param o LMK components (`CUSTODIAN:KEY:KCV`) and KCV, HSM mode, core, output prefix, store.
 * @returns the two paths written and the key's fingerprint.
 */
export async function generateTransportKeyFiles(o: {
  lmkComponents: string[];
  lmkKcv?: string;
  hsmMode: HsmMode;
  core: CryptoCore;
  prefix: string;
  store: Store;
}): Promise<{ keyBlockPath: string; publicKeyPath: string; fingerprint: string }> {
  const hsm = await openHsm({
    lmkComponents: o.lmkComponents,
    lmkKcv: o.lmkKcv,
    mode: o.hsmMode,
    core: o.core,
    store: o.store,
    actor: "mtms",
  });
  try {
    const pair = await hsm.generateRsaKeyPair({
      bits: 2048,
      template: KEY_TEMPLATES.RSA_TRANSPORT,
    });
    const fingerprint = publicKeyFingerprint(pair.publicKey, o.core);
    const keyBlockPath = `${o.prefix}.tr31`;
    const publicKeyPath = `${o.prefix}.pub.pem`;
    await Deno.writeTextFile(keyBlockPath, pair.privateKeyBlock + "\n");
    await Deno.writeTextFile(publicKeyPath, exportSpkiPem(pair.publicKey));
    await o.store.appendAudit({
      at: new Date(),
      actor: "mtms custodian",
      event: "transport_key_generated",
      keyId: "MTMS transport",
      kcv: fingerprint,
      outcome: "success",
      detail: `RSA-2048 key pair, private key under the LMK (KCV ${hsm.lmkKcv}) as ` +
        "RSA_TRANSPORT K3/R/D/N; KCV field = fingerprint (SHA-256 of the public key's " +
        "SubjectPublicKeyInfo, leftmost 8 bytes)",
    });
    return { keyBlockPath, publicKeyPath, fingerprint };
  } finally {
    await hsm.setState("offline", "mtms --generate-transport-key done");
  }
}

if (import.meta.main) {
  await mtmsMain(Deno.args, { start: startMtms, generate: generateTransportKeyFiles });
}
