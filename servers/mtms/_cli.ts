/**
 * The MTMS process's command line (`deno task mtms`): its flags on the
 * shared front end `cli/flags.ts`, checked all at once before anything is
 * loaded or written, then either the custodian's `--generate-transport-key`
 * step or the server, with `/metrics` on its own loopback port when
 * `--metrics-port` asks.
 *
 * @module
 */
import type { CommandSpec, FlagValues } from "../../cli/flags.ts";
import { loadCore } from "../../src/core/mod.ts";
import type { Transport } from "../../src/protocol/mod.ts";
import { jsonLogger, stopOnSignals } from "../_lib/mod.ts";
import { ServerMetrics } from "../_lib/metrics.ts";
import { loadCrlFile, reloadOnSighup } from "../_lib/revocation.ts";
import * as cli from "../_lib/server_cli.ts";
import { consoleFromFile } from "../_lib/console_mount.ts";
import { openStore } from "../_lib/store.ts";
import { clientTransport, serverSocket, tlsClient } from "../_lib/tls.ts";
import type { generateTransportKeyFiles, MtmsOptions, MtmsServer } from "./main.ts";

const FILES = [
  "ca-root",
  "crl-file",
  "transport-key",
  "transport-cert",
  "kms-client-cert",
  "kms-client-key",
  "tls-cert-file",
  "tls-key-file",
];

function need(v: FlagValues, flag: string, env: string | undefined, what: string): string[] {
  return cli.str(v, flag) === undefined
    ? [`--${flag} is required${env ? ` (or ${env})` : ""}: ${what}`]
    : [];
}

function mtmsProblems(v: FlagValues): string[] {
  const problems = cli.startProblems(v, "MTMS", FILES);
  if (cli.str(v, "generate-transport-key") !== undefined) return problems;
  problems.push(...cli.servingProblems(v, "MTMS"));
  problems.push(...need(v, "ca-root", "MTMS_CA_ROOT", "the root operator cards chain to"));
  problems.push(...need(v, "transport-key", "MTMS_TRANSPORT_KEY", "the transport key block"));
  problems.push(...need(v, "transport-cert", "MTMS_TRANSPORT_CERT", "its certificate"));
  const kmsUrl = cli.str(v, "kms-url");
  problems.push(...need(v, "kms-url", "MTMS_KMS_URL", "the KMS's base URL"));
  if (kmsUrl?.startsWith("https:")) {
    problems.push(...need(v, "kms-client-cert", "MTMS_KMS_CLIENT_CERT", "mutual TLS to the KMS"));
    problems.push(...need(v, "kms-client-key", "MTMS_KMS_CLIENT_KEY", "its key"));
  } else if (kmsUrl !== undefined && v["insecure-http"] !== true) {
    problems.push(`--kms-url ${kmsUrl} is plain HTTP: use https, or --insecure-http`);
  }
  return problems;
}

/** `deno task mtms`: every flag, its environment variable and default. */
export const MTMS_COMMAND: CommandSpec = cli.serverCommand(
  "MTMS",
  {
    summary: "The MTMS server: production orders, TK collection from the factory line, and " +
      "their transfer to the KMS (flow A). Secrets (components, token) come from --*-file " +
      "flags or the environment.",
    peer: "KMS",
    defaultPort: 8442,
    check: mtmsProblems,
  },
  [
    {
      name: "kms-url",
      type: "string",
      env: "MTMS_KMS_URL",
      help: "the KMS's base URL (https: mutual TLS; http: needs --insecure-http)",
      metavar: "URL",
    },
    cli.fileFlag("ca-root", "MTMS_CA_ROOT", "the root CA (PEM) of operator cards and the KMS"),
    cli.fileFlag("crl-file", "MTMS_CRL_FILE", "CRLs (PEM) of that CA, reloaded on SIGHUP"),
    cli.fileFlag("transport-key", "MTMS_TRANSPORT_KEY", "the transport key block under this LMK"),
    cli.fileFlag("transport-cert", "MTMS_TRANSPORT_CERT", "its certificate from the CA (PEM)"),
    cli.fileFlag(
      "kms-client-cert",
      "MTMS_KMS_CLIENT_CERT",
      "the client certificate presented " +
        "to an https KMS (PEM, profile mtms-client)",
    ),
    cli.fileFlag("kms-client-key", "MTMS_KMS_CLIENT_KEY", "its private key (PEM)"),
    cli.fileFlag("console-users", "MTMS_CONSOLE_USERS", "operator console logins (JSON)"),
    {
      name: "generate-transport-key",
      type: "string",
      help: "custodian step: the HSM makes the transport key pair, writes PREFIX.tr31 and " +
        "PREFIX.pub.pem, then exits",
      metavar: "PREFIX",
    },
  ],
);

/** What `main.ts` hands the command line (passed in: `main.ts` runs this). */
export interface MtmsEntry {
  start: (o: MtmsOptions) => Promise<MtmsServer>;
  generate: typeof generateTransportKeyFiles;
}

async function generate(
  v: FlagValues,
  entry: MtmsEntry,
  onFailure: (u: () => Promise<void>) => void,
): Promise<void> {
  const flags = cli.toServerFlags(v);
  const db = await cli.prepareDb(flags.db);
  onFailure(db.undo);
  const store = await openStore(flags.db);
  try {
    const out = await entry.generate({
      lmkComponents: flags.lmkComponents,
      lmkKcv: flags.lmkKcv,
      hsmMode: flags.hsmMode,
      core: await loadCore(),
      prefix: cli.str(v, "generate-transport-key")!,
      store,
    });
    console.error(
      `transport key generated: ${out.keyBlockPath} (under this LMK), ${out.publicKeyPath} ` +
        `(for the CA); fingerprint ${out.fingerprint} recorded in the audit log`,
    );
  } finally {
    await store.close();
  }
}

async function serve(
  v: FlagValues,
  entry: MtmsEntry,
  onFailure: (u: () => Promise<void>) => void,
): Promise<void> {
  const flags = cli.toServerFlags(v);
  const log = jsonLogger(undefined, flags.logLevel);
  const caRoot = await cli.readFlagFile("ca-root", flags.caRoot!);
  const crlPath = cli.str(v, "crl-file");
  const crls = crlPath ? await loadCrlFile(crlPath) : undefined;
  const socket = await serverSocket("mtms", flags, log);
  const kmsUrl = cli.str(v, "kms-url")!;
  // MTMS -> KMS: mutual TLS, the KMS checked against the root.
  let kmsTransport: Transport | undefined;
  if (kmsUrl.startsWith("https:")) {
    kmsTransport = clientTransport(tlsClient({
      caCerts: [caRoot],
      cert: await cli.readFlagFile("kms-client-cert", cli.str(v, "kms-client-cert")!),
      key: await cli.readFlagFile("kms-client-key", cli.str(v, "kms-client-key")!),
    }));
  }
  const transportKey = {
    keyBlock: (await cli.readFlagFile("transport-key", cli.str(v, "transport-key")!)).trim(),
    certificate: await cli.readFlagFile("transport-cert", cli.str(v, "transport-cert")!),
  };
  const metrics = new ServerMetrics("mtms");
  const db = await cli.prepareDb(flags.db);
  onFailure(db.undo);
  const server = await entry.start({
    ...socket,
    crls: crls?.current,
    kmsTransport,
    ...await cli.commonOptions(v, log),
    kmsUrl,
    caRoot,
    transportKey,
    metrics,
    console: await consoleFromFile(cli.str(v, "console-users")),
    kmsConsoleUrl: `${kmsUrl.replace(/\/$/, "")}/console/`,
  });
  if (crls) reloadOnSighup(crls, log);
  const running = cli.withMetricsPort("mtms", server, metrics, flags.metricsPort, log);
  // Signals are handled before the line that tells a supervisor the server is up.
  stopOnSignals("mtms", running, log);
  console.error(`MTMS listening on ${server.url}`);
}

/**
 * Runs `deno task mtms`.
 *
 * @param args `Deno.args`.
 * @param entry `startMtms` and `generateTransportKeyFiles`.
 */
export async function mtmsMain(args: readonly string[], entry: MtmsEntry): Promise<void> {
  await cli.runServer(MTMS_COMMAND, args, async (v, onFailure) => {
    if (cli.str(v, "generate-transport-key") !== undefined) {
      await generate(v, entry, onFailure);
      Deno.exit(0);
    }
    await serve(v, entry, onFailure);
  });
}
