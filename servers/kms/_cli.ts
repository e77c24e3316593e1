/**
 * The KMS process's command line (`deno task kms`): its flags on the shared
 * front end `cli/flags.ts`, checked all at once before anything is loaded or
 * written, then either the custodian's `--import-ca-key` step or the server,
 * with `/metrics` on its own loopback port when `--metrics-port` asks.
 *
 * @module
 */
import type { CommandSpec, FlagValues } from "../../cli/flags.ts";
import { loadCore } from "../../src/core/mod.ts";
import { exportSpkiPem } from "../../src/crypto/mod.ts";
import { jsonLogger, stopOnSignals } from "../_lib/mod.ts";
import { ServerMetrics } from "../_lib/metrics.ts";
import { loadCrlFile, reloadOnSighup } from "../_lib/revocation.ts";
import * as cli from "../_lib/server_cli.ts";
import { consoleFromFile } from "../_lib/console_mount.ts";
import { isPostgresUrl, openStore } from "../_lib/store.ts";
import { clientCertificateCheck, serverSocket } from "../_lib/tls.ts";
import { MAX_HSM_WORKERS } from "./_keys.ts";
import { importKmsCaKey } from "./import_ca_key.ts";
import { loadKmsCa } from "./kms_ca.ts";
import { generateKdhKey, loadTr34Kdh, type Tr34Kdh } from "./tr34_kdh.ts";
import type { KmsOptions, KmsServer } from "./main.ts";

const FILES = [
  "ca-root",
  "crl-file",
  "kms-ca-cert",
  "kms-ca-key-block",
  "device-root",
  "device-crl-file",
  "tr34-kdh-cert",
  "tr34-kdh-key-block",
  "tr34-crl",
  "import-ca-key",
  "tls-cert-file",
  "tls-key-file",
];

function kmsProblems(v: FlagValues): string[] {
  const problems = cli.startProblems(v, "KMS", FILES);
  if (cli.str(v, "import-ca-key") !== undefined) {
    if (cli.str(v, "out") === undefined) {
      problems.push("--import-ca-key PEM needs --out FILE (where the key block is written)");
    }
    return problems;
  }
  if (cli.str(v, "generate-kdh-key") !== undefined) return problems;
  problems.push(...cli.servingProblems(v, "KMS"));
  if (
    (cli.str(v, "kms-ca-cert") === undefined) !== (cli.str(v, "kms-ca-key-block") === undefined)
  ) {
    problems.push("flow B needs both --kms-ca-cert and --kms-ca-key-block (or neither)");
  }
  if (cli.str(v, "crl-file") !== undefined && cli.str(v, "ca-root") === undefined) {
    problems.push("--crl-file needs --ca-root (the CRLs are of the client certificates' CA)");
  }
  const kdhCert = cli.str(v, "tr34-kdh-cert") !== undefined;
  if (kdhCert !== (cli.str(v, "tr34-kdh-key-block") !== undefined)) {
    problems.push("TR-34 needs both --tr34-kdh-cert and --tr34-kdh-key-block (or neither)");
  }
  if (kdhCert && cli.str(v, "device-root") === undefined) {
    problems.push("TR-34 needs --device-root (the PIN pads' KRD certificates chain to it)");
  }
  if (cli.str(v, "tr34-crl") !== undefined && !kdhCert) {
    problems.push("--tr34-crl goes with --tr34-kdh-cert (it is the KDH CA's CRL)");
  }
  if (cli.str(v, "device-crl-file") !== undefined && cli.str(v, "device-root") === undefined) {
    problems.push("--device-crl-file needs --device-root (the CRLs are of the PIN pads' CA)");
  }
  return problems;
}

/** `deno task kms`: every flag, its environment variable and default. */
export const KMS_COMMAND: CommandSpec = cli.serverCommand(
  "KMS",
  {
    summary: "The KMS server: TK batches, bulk TMK issuance and download (flow A), and with a " +
      "KMS CA remote key download with mutual authentication (flow B). Secrets (components, " +
      "token) come from --*-file flags or the environment.",
    peer: "MTMS",
    defaultPort: 8441,
    check: kmsProblems,
  },
  [
    {
      name: "hsm-workers",
      type: "int",
      min: 1,
      max: MAX_HSM_WORKERS,
      env: "KMS_HSM_WORKERS",
      help: "HSM workers of bulk issuance (default: the number of CPUs; 1: none)",
    },
    {
      name: "staging-idle-s",
      type: "int",
      min: 0,
      default: 600,
      env: "KMS_STAGING_IDLE_S",
      help: "at the start, staged TKs of uploads idle this many seconds are deleted",
    },
    cli.fileFlag(
      "ca-root",
      "KMS_CA_ROOT",
      "the root CA (PEM) the MTMS's client certificate is " +
        "checked against",
    ),
    cli.fileFlag("crl-file", "KMS_CRL_FILE", "CRLs (PEM) of that CA, reloaded on SIGHUP"),
    cli.fileFlag(
      "kms-ca-cert",
      "KMS_CA_CERT",
      "flow B: the KMS CA's certificate (PEM); installs the CA in the database while no " +
        "operator is enrolled, and must be the CA in force once one is (deno task op kms-ca)",
    ),
    cli.fileFlag(
      "kms-ca-key-block",
      "KMS_CA_KEY_BLOCK",
      "flow B: the KMS CA's key block under the LMK",
    ),
    cli.fileFlag("device-root", "KMS_DEVICE_ROOT", "flow B: the PIN pads' device root (PEM)"),
    cli.fileFlag(
      "device-crl-file",
      "KMS_DEVICE_CRL_FILE",
      "flow B: CRLs (PEM) of the device root, reloaded on SIGHUP; a revoked PIN pad is refused",
    ),
    cli.fileFlag(
      "tr34-kdh-cert",
      "KMS_TR34_KDH_CERT",
      "TR-34: the KDH certificate (PEM, profile tr34-kdh, chaining to --device-root)",
    ),
    cli.fileFlag(
      "tr34-kdh-key-block",
      "KMS_TR34_KDH_KEY_BLOCK",
      "TR-34: the KDH private key, a key block under the LMK (--generate-kdh-key makes it)",
    ),
    cli.fileFlag(
      "tr34-crl",
      "KMS_TR34_CRL",
      "TR-34: the KDH CA's CRL (PEM or DER), carried to the PIN pads in the tokens",
    ),
    cli.fileFlag(
      "generate-kdh-key",
      undefined,
      "custodian step: the HSM makes the TR-34 KDH key pair, writes PREFIX.tr31 and " +
        "PREFIX.pub.pem (for the CA, profile tr34-kdh), then exits",
    ),
    cli.fileFlag(
      "import-ca-key",
      undefined,
      "custodian step: the KMS CA private key (PEM) to " +
        "write as a key block under the LMK to --out, then exit",
    ),
    cli.fileFlag("out", undefined, "with --import-ca-key: the key block file to write"),
    cli.fileFlag("console-users", "KMS_CONSOLE_USERS", "operator console logins (JSON)"),
  ],
);

/** The custodian's step: the KMS CA key as a key block under the LMK, audited in the store. */
async function importCaKey(v: FlagValues, onFailure: (u: () => Promise<void>) => void) {
  const flags = cli.toServerFlags(v);
  const db = await cli.prepareDb(flags.db);
  onFailure(db.undo);
  const store = await openStore(flags.db);
  try {
    const { fingerprint } = await importKmsCaKey({
      pemPath: cli.str(v, "import-ca-key")!,
      outPath: cli.str(v, "out")!,
      lmkComponents: flags.lmkComponents,
      lmkKcv: flags.lmkKcv,
      hsmMode: flags.hsmMode,
      core: await loadCore(),
      store,
    });
    console.error(
      `KMS CA key block under the LMK written to ${cli.str(v, "out")} ` +
        `(fingerprint ${fingerprint}, recorded in the audit log of ${
          isPostgresUrl(flags.db) ? "the database" : flags.db
        })`,
    );
  } finally {
    await store.close();
  }
}

/** The custodian's step: the TR-34 KDH key pair made in the HSM, the private key under the LMK. */
async function generateKdh(v: FlagValues, onFailure: (u: () => Promise<void>) => void) {
  const flags = cli.toServerFlags(v);
  const prefix = cli.str(v, "generate-kdh-key")!;
  const db = await cli.prepareDb(flags.db);
  onFailure(db.undo);
  const store = await openStore(flags.db);
  try {
    const { publicKey } = await generateKdhKey({
      outPath: `${prefix}.tr31`,
      lmkComponents: flags.lmkComponents,
      lmkKcv: flags.lmkKcv,
      hsmMode: flags.hsmMode,
      core: await loadCore(),
      store,
    });
    await Deno.writeTextFile(`${prefix}.pub.pem`, exportSpkiPem(publicKey), { createNew: true });
    console.error(
      `TR-34 KDH key block under the LMK written to ${prefix}.tr31, its public key to ` +
        `${prefix}.pub.pem (for deno task ca issue --profile tr34-kdh)`,
    );
  } finally {
    await store.close();
  }
}

/** Reads the TR-34 KDH's files when its flags are given. */
async function tr34Kdh(v: FlagValues): Promise<Tr34Kdh | undefined> {
  const certificatePath = cli.str(v, "tr34-kdh-cert");
  if (certificatePath === undefined) return undefined;
  return await loadTr34Kdh({
    certificatePath,
    keyBlockPath: cli.str(v, "tr34-kdh-key-block")!,
    krdRootPaths: [cli.str(v, "device-root")!],
    crlPath: cli.str(v, "tr34-crl"),
  });
}

/** Starts the server from checked flags; `/metrics` on its own port when asked. */
async function serve(
  v: FlagValues,
  start: (o: KmsOptions) => Promise<KmsServer>,
  onFailure: (u: () => Promise<void>) => void,
): Promise<void> {
  const flags = cli.toServerFlags(v);
  const log = jsonLogger(undefined, flags.logLevel);
  // Every file is read before the store is opened.
  const caRoot = flags.caRoot ? await cli.readFlagFile("ca-root", flags.caRoot) : undefined;
  const crlPath = cli.str(v, "crl-file");
  const crls = crlPath ? await loadCrlFile(crlPath) : undefined;
  const check = caRoot
    ? clientCertificateCheck({
      roots: [caRoot],
      purpose: "mtms-client",
      required: false,
      crls: crls?.current,
    })
    : undefined;
  const socket = await serverSocket("kms", flags, log, check);
  const caCert = cli.str(v, "kms-ca-cert");
  const kmsCa = caCert ? await loadKmsCa(caCert, cli.str(v, "kms-ca-key-block")!) : undefined;
  const deviceRoot = cli.str(v, "device-root");
  const deviceRoots = deviceRoot ? [await cli.readFlagFile("device-root", deviceRoot)] : undefined;
  const deviceCrlPath = cli.str(v, "device-crl-file");
  const deviceCrls = deviceCrlPath ? await loadCrlFile(deviceCrlPath) : undefined;
  const metrics = new ServerMetrics("kms");
  const db = await cli.prepareDb(flags.db);
  onFailure(db.undo);
  const server = await start({
    ...socket,
    ...await cli.commonOptions(v, log),
    hsmWorkers: v["hsm-workers"] as number | undefined,
    stagingIdleMs: (v["staging-idle-s"] as number) * 1000,
    kmsCa,
    deviceRoots,
    crls: deviceCrls?.current,
    tr34: await tr34Kdh(v),
    metrics,
    console: await consoleFromFile(cli.str(v, "console-users")),
  });
  if (crls) reloadOnSighup(crls, log);
  if (deviceCrls) reloadOnSighup(deviceCrls, log);
  const running = cli.withMetricsPort("kms", server, metrics, flags.metricsPort, log);
  // Signals are handled before the line that tells a supervisor the server is up.
  stopOnSignals("kms", running, log);
  console.error(`KMS listening on ${server.url}`);
}

/**
 * Runs `deno task kms`.
 *
 * @param args `Deno.args`.
 * @param start `startKms` (passed in: `main.ts` runs this).
 */
export async function kmsMain(
  args: readonly string[],
  start: (o: KmsOptions) => Promise<KmsServer>,
): Promise<void> {
  await cli.runServer(KMS_COMMAND, args, async (v, onFailure) => {
    if (cli.str(v, "import-ca-key") !== undefined) {
      await importCaKey(v, onFailure);
      Deno.exit(0);
    }
    if (cli.str(v, "generate-kdh-key") !== undefined) {
      await generateKdh(v, onFailure);
      Deno.exit(0);
    }
    await serve(v, start, onFailure);
  });
}
