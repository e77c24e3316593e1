/**
 * The MTMS server: `deno task mtms` (or `startMtms` in-process, as the demo
 * and the tests do).
 *
 * Flags: `--port` (default 8442), `--hostname`, `--db` (default
 * `data/mtms.db`), `--lmk-component CUSTODIAN:KEY:KCV` (two or more, from distinct
 * custodians; or `MTMS_LMK_COMPONENTS`), `--lmk-kcv` (or `MTMS_LMK_KCV`; required in
 * production mode), `--hsm-mode production|test` (or `MTMS_HSM_MODE`; default
 * production), `--pk-component` / `--mak-component` (shared with
 * the KMS; or `MTMS_PK_COMPONENTS`, `MTMS_MAK_COMPONENTS`), `--token` (or
 * `MTMS_TOKEN`), `--kms-url`, `--ca-root FILE` (the CA root, PEM),
 * `--transport-key FILE` (the transport private key as a TR-31 block under
 * this MTMS's LMK) and `--transport-cert FILE` (its certificate from the CA).
 * `--generate-transport-key PREFIX` (with the LMK components) makes that key
 * block and the public key for the CA, then exits.
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
import { loadCore } from "../../src/core/mod.ts";
import type { CallOptions, Transport } from "../../src/protocol/mod.ts";
import { fetchTransport } from "../../src/protocol/mod.ts";
import {
  createHandler,
  jsonLogger,
  type Logger,
  parseServerFlags,
  type Running,
  serveApp,
  stopOnSignals,
} from "../_lib/mod.ts";
import type { ServeLimits, ServerTls } from "../_lib/listener.ts";
import { clientTransport, serverSocket, tlsClient } from "../_lib/tls.ts";
import { loadCrlFile, reloadOnSighup, revocationChecked } from "../_lib/revocation.ts";
import type { CrlSet } from "../../src/pki/mod.ts";
import { isPostgresUrl, openStore } from "../_lib/store.ts";
import { openOperatorLayer } from "../_lib/operator_layer.ts";
import { mtmsKeyOps, operatorSignatureCheck, type RsaPublicKeyBytes } from "./_keys.ts";
import { exportSpkiPem } from "../../src/crypto/mod.ts";
import { type HsmMode, KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { type HsmFactory, openHsm, publicKeyFingerprint } from "../_lib/hsm.ts";
import { mtmsRoutes } from "./routes.ts";
import { MtmsService } from "./service.ts";

/** Options of {@link startMtms}. */
export interface MtmsOptions {
  port: number;
  hostname?: string;
  db: string;
  /** LMK components, `CUSTODIAN:KEY:KCV`, two or more from distinct custodians. */
  lmkComponents: string[];
  /** The LMK's KCV from the key ceremony record (required in production mode). */
  lmkKcv?: string;
  /** The HSM's mode: "production" or "test" (the demo and the tests). */
  hsmMode: HsmMode;
  pkComponents: string[];
  makComponents: string[];
  token: string;
  log: Logger;
  core: CryptoCore;
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
  /** Opens the MTMS's HSM (default `openHsm`: the software HSM). */
  hsmFactory?: HsmFactory;
  /** Opens the MTMS's store from `db` (default `openStore`: a SQLite file or a `postgres://` URL). */
  storeFactory?: (db: string) => Promise<Store>;
  /** The CRLs in force: operator cards they list are refused. */
  crls?: () => CrlSet;
  /** Serve HTTPS; plain HTTP without. */
  tls?: ServerTls;
  /** Socket timeouts and connection caps (`servers/_lib/listener.ts`). */
  limits?: Partial<ServeLimits>;
}

/** A MTMS without a socket: its handler (tests call it directly) and a close. */
export interface MtmsApp {
  handler: (request: Request) => Promise<Response>;
  /** Closes the store. */
  close(): Promise<void>;
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
  const store = await (o.storeFactory ?? openStore)(o.db);
  try {
    const keys = await mtmsKeyOps({
      lmkComponents: o.lmkComponents,
      lmkKcv: o.lmkKcv,
      hsmMode: o.hsmMode,
      pkComponents: o.pkComponents,
      makComponents: o.makComponents,
      core: o.core,
      store,
      transportKey: o.transportKey,
      issueTransportCertificate: o.issueTransportCertificate,
      hsmFactory: o.hsmFactory,
    });
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
    });
    const operators = openOperatorLayer({ ...o, store, hsm: keys.hsm, actor: "mtms" });
    const handler = createHandler({
      title: "MTMS",
      version: "1.0.0",
      description:
        "Material tracking system: flow A of CN103714639A (production orders, TK collection, transfer to KMS)",
      routes: [...mtmsRoutes(service), ...operators.routes],
      operators: operators.gate,
      log: o.log,
      ready: async () => {
        await store.schemaVersion();
      },
    });
    return { handler, close: () => store.close() };
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
  const flags = parseServerFlags(Deno.args, {
    envPrefix: "MTMS",
    defaultPort: 8442,
    defaultDb: "data/mtms.db",
    extra: [
      "pk-component",
      "mak-component",
      "kms-url",
      "transport-key",
      "transport-cert",
      "generate-transport-key",
      "crl-file",
      "kms-client-cert",
      "kms-client-key",
    ],
  });
  const prefix = flags.extra["generate-transport-key"];
  if (prefix) {
    if (!isPostgresUrl(flags.db)) {
      const dir = flags.db.includes("/") ? flags.db.slice(0, flags.db.lastIndexOf("/")) : ".";
      await Deno.mkdir(dir, { recursive: true });
    }
    const store = await openStore(flags.db);
    try {
      const out = await generateTransportKeyFiles({
        lmkComponents: flags.lmkComponents,
        lmkKcv: flags.lmkKcv,
        hsmMode: flags.hsmMode,
        core: await loadCore(),
        prefix,
        store,
      });
      console.error(
        `transport key generated: ${out.keyBlockPath} (under this LMK), ${out.publicKeyPath} ` +
          `(for the CA); fingerprint ${out.fingerprint} recorded in the audit log`,
      );
    } finally {
      await store.close();
    }
    Deno.exit(0);
  }
  const env = (n: string) => (Deno.env.get(n) ?? "").split(",").filter((s) => s !== "");
  const need = (name: string, v: string | undefined): string => {
    if (!v) {
      console.error(`--${name} is required`);
      Deno.exit(2);
    }
    return v;
  };
  const token = need("token (or MTMS_TOKEN)", flags.token);
  if (!isPostgresUrl(flags.db)) {
    const dir = flags.db.includes("/") ? flags.db.slice(0, flags.db.lastIndexOf("/")) : ".";
    await Deno.mkdir(dir, { recursive: true });
  }
  const log = jsonLogger();
  const caRoot = await Deno.readTextFile(need("ca-root", flags.caRoot));
  const crls = flags.extra["crl-file"] ? await loadCrlFile(flags.extra["crl-file"]) : undefined;
  if (crls) reloadOnSighup(crls, log);
  const kmsUrl = need("kms-url", flags.extra["kms-url"]);
  const socket = await serverSocket("mtms", flags, log).catch((e) => {
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(2);
  });
  // MTMS -> KMS: mutual TLS, the KMS checked against the root.
  let kmsTransport: Transport | undefined;
  if (kmsUrl.startsWith("https:")) {
    kmsTransport = clientTransport(tlsClient({
      caCerts: [caRoot],
      cert: await Deno.readTextFile(need("kms-client-cert", flags.extra["kms-client-cert"])),
      key: await Deno.readTextFile(need("kms-client-key", flags.extra["kms-client-key"])),
    }));
  } else if (!flags.insecureHttp) {
    console.error(`--kms-url ${kmsUrl} is plain HTTP: use https, or --insecure-http`);
    Deno.exit(2);
  }
  const server = await startMtms({
    ...socket,
    crls: crls?.current,
    kmsTransport,
    port: flags.port,
    hostname: flags.hostname,
    db: flags.db,
    lmkComponents: flags.lmkComponents,
    lmkKcv: flags.lmkKcv,
    hsmMode: flags.hsmMode,
    pkComponents: flags.extra["pk-component"]?.split(",") ?? env("MTMS_PK_COMPONENTS"),
    makComponents: flags.extra["mak-component"]?.split(",") ?? env("MTMS_MAK_COMPONENTS"),
    token,
    log,
    core: await loadCore(),
    kmsUrl,
    caRoot,
    transportKey: {
      keyBlock: (await Deno.readTextFile(need("transport-key", flags.extra["transport-key"])))
        .trim(),
      certificate: await Deno.readTextFile(need("transport-cert", flags.extra["transport-cert"])),
    },
  });
  console.error(`MTMS listening on ${server.url}`);
  stopOnSignals("mtms", server, log);
}
