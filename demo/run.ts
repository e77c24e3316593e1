/**
 * Flow A end to end (CN103714639A S1-S17) over HTTP: a CA, a KMS and an
 * MTMS on free loopback ports, an operator terminal with its card, and a
 * production order of POS terminals with PIN pads.
 *
 * {@link runDemo} returns everything a caller needs to print the trace and
 * the table, and, for the key-scan test only, the PIN pads (whose clear keys
 * the test harness can read) and the key components it generated.
 *
 * @module
 */
import type { CryptoCore } from "../src/core/mod.ts";
import {
  callJson,
  type Exchange,
  fetchTransport,
  IssueResponse,
  OrderStatus,
  type Schema,
  TerminalStatus,
  TransferResponse,
  type Transport,
} from "../src/protocol/mod.ts";
import type { HsmFactory } from "../servers/_lib/hsm.ts";
import { jsonLogger, type Logger } from "../servers/_lib/log.ts";
import { startKms } from "../servers/kms/main.ts";
import { type SocketTls, socketTls } from "./tls.ts";
import { startMtms } from "../servers/mtms/main.ts";
import type { ConsoleOptions } from "../servers/_lib/console.ts";
import { OperatorCard } from "../devices/operator_card.ts";
import { OperatorTerminal } from "../devices/operator_terminal.ts";
import { PinPad } from "../devices/pin_pad.ts";
import { PosTerminal } from "../devices/pos_terminal.ts";
import { type DemoPki, makeDemoPki, randomComponents } from "./setup.ts";
import { kdhForKms, runTr34Demo, type Tr34DemoResult } from "./tr34.ts";
import {
  type FlowBDemoResult,
  type FlowBPki,
  kmsCaForKms,
  makeFlowBPki,
  runFlowBDemo,
} from "./flow_b.ts";

/** One line of the step-by-step trace of a terminal. */
export interface TraceLine {
  /** Patent step, e.g. `S6`. */
  step: string;
  /** Who acted. */
  actor: string;
  /** What happened and what the check saw. */
  text: string;
}

/** One terminal's outcome. */
export interface TerminalRow {
  sn: string;
  ok: boolean;
  /** KCV of TK at the PIN pad and as KMS recorded it. */
  tkKcvPad?: string;
  tkKcvKms?: string;
  /** KCV of TMK at KMS (issued) and at the PIN pad (stored). */
  tmkKcvKms?: string;
  tmkKcvPad?: string;
  state?: string;
  error?: string;
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  terminals: number;
  core: CryptoCore;
  /** Directory for the two databases (created if missing). */
  dataDir: string;
  orderId?: string;
  /** Server logs go here (default: a JSON-lines logger to stderr). */
  kmsLog?: Logger;
  mtmsLog?: Logger;
  /** Every HTTP exchange made by a device, the MTMS or the demo. */
  observe?: (exchange: Exchange) => void;
  /**
   * Called after the run, while both servers still run (the key-scan tests
   * read their files and drive error paths here).
   */
  beforeShutdown?: (running: RunningDemo) => Promise<void>;
  /**
   * How devices and the demo reach the servers (default: over TLS, trusting
   * the demo's root only; with `insecureHttp`, `fetch`). Tests record it.
   */
  transport?: Transport;
  /**
   * Plain HTTP (`--insecure-http`), for a test that records what the wire
   * carries without TLS. Default: both servers serve HTTPS with certificates
   * from the demo's CA, and the MTMS sends S14 over mutual TLS.
   */
  insecureHttp?: boolean;
  /** The databases (default `dataDir/kms.db`, `dataDir/mtms.db`): SQLite files or `postgres://` URLs. */
  databases?: { kms: string; mtms: string };
  /** Opens the servers' HSMs (default: the software HSM). */
  hsmFactory?: HsmFactory;
  /** Progress: terminals done of total, per phase. */
  progress?: (phase: string, done: number, total: number) => void;
  /** Flow B (CN103714641A) on the same KMS for this many terminals of its own (default 0: none). */
  flowBTerminals?: number;
  /** TR-34 2-pass on the same KMS for this many terminals of its own (default 0: none). */
  tr34Terminals?: number;
  /** Both servers' operator consoles at `/console/` (none without). */
  console?: ConsoleOptions;
}

/** The running demo, as {@link DemoOptions.beforeShutdown} sees it. */
export interface RunningDemo {
  kmsUrl: string;
  mtmsUrl: string;
  /** The operator token of both servers. */
  token: string;
  orderId: string;
  /** The CA (operator cards, device certificates). */
  pki: DemoPki;
  /** Flow B's KMS root (PEM), if flow B ran. */
  kmsRootPem?: string;
  /** Flow B's KMS CA certificate (PEM), if flow B ran: PIN pads take Pu_hsm only from it. */
  kmsCaPem?: string;
  components: Record<"kmsLmk" | "mtmsLmk" | "pk" | "mak", string[]>;
}

/** What {@link runDemo} returns. */
export interface DemoResult {
  orderId: string;
  trace: TraceLine[];
  rows: TerminalRow[];
  /** For the key-scan test: the PIN pads (see `pinPadTestHarness`) and the generated components. */
  pinPads: PinPad[];
  components: Record<"kmsLmk" | "mtmsLmk" | "pk" | "mak", string[]>;
  dbPaths: string[];
  /** Milliseconds per phase. */
  timings: Record<string, number>;
  /** Flow B's trace, rows and PIN pads, if it ran. */
  flowB?: FlowBDemoResult;
  /** TR-34's trace, rows and PIN pads, if it ran. */
  tr34?: Tr34DemoResult;
}
function short(hex: string, n = 16): string {
  return hex.length > n ? `${hex.slice(0, n)}...(${hex.length / 2} bytes)` : hex;
}

function errorText(e: unknown): string {
  return `${(e as Error).name}: ${(e as Error).message}`;
}

type Components = Record<"kmsLmk" | "mtmsLmk" | "pk" | "mak", string[]>;

/** What every step of one run shares: where the servers are and how to reach them. */
interface DemoContext {
  options: DemoOptions;
  transport: Transport;
  token: string;
  orderId: string;
  kmsUrl: string;
  mtmsUrl: string;
  trace: TraceLine[];
  rows: TerminalRow[];
}

/** A trace writer that records only for the first terminal. */
type Tracer = (step: string, actor: string, text: string) => void;

/** Two random components per key: the LMKs of both servers, the shared PK and MAK. */
async function makeComponents(core: CryptoCore): Promise<Components> {
  return {
    kmsLmk: await randomComponents(2, 32, core),
    mtmsLmk: await randomComponents(2, 32, core),
    pk: await randomComponents(2, 24, core),
    mak: await randomComponents(2, 16, core),
  };
}

/** Starts KMS (with flow B's CA when flow B runs) and the MTMS that sends to it. */
async function startServers(
  options: DemoOptions,
  token: string,
  pki: DemoPki,
  flowBPki: FlowBPki | undefined,
  components: Components,
  dbPaths: string[],
  tls: SocketTls | undefined,
) {
  const { core } = options;
  const kms = await startKms({
    port: 0,
    tls: tls?.kmsServer,
    db: dbPaths[0],
    lmkComponents: components.kmsLmk,
    hsmMode: "test",
    pkComponents: components.pk,
    makComponents: components.mak,
    token,
    log: options.kmsLog ?? jsonLogger(),
    core,
    kmsCa: flowBPki
      ? await kmsCaForKms(flowBPki, components.kmsLmk, options.dataDir, core, dbPaths[0])
      : undefined,
    deviceRoots: flowBPki ? [pki.rootPem] : undefined,
    tr34: options.tr34Terminals
      ? await kdhForKms(pki, components.kmsLmk, options.dataDir, core, dbPaths[0])
      : undefined,
    hsmFactory: options.hsmFactory,
    console: options.console,
  });
  const mtms = await startMtms({
    port: 0,
    tls: tls?.mtmsServer,
    db: dbPaths[1],
    lmkComponents: components.mtmsLmk,
    hsmMode: "test",
    pkComponents: components.pk,
    makComponents: components.mak,
    token,
    log: options.mtmsLog ?? jsonLogger(),
    core,
    kmsUrl: tls ? tls.url(kms) : kms.url,
    caRoot: pki.rootPem,
    issueTransportCertificate: (publicKey) => pki.issueServer("MTMS transport", publicKey),
    observe: options.observe,
    kmsTransport: tls ? tls.mtmsToKms.transport : options.transport ?? fetchTransport,
    hsmFactory: options.hsmFactory,
    console: options.console,
    kmsConsoleUrl: `${kms.url}/console/`,
  });
  return { kms, mtms };
}

/** One operator call (token-signed JSON) to either server. */
async function operatorCall<T>(
  ctx: DemoContext,
  method: string,
  url: string,
  schema: Schema<T>,
  body?: unknown,
): Promise<T> {
  const r = await callJson(ctx.transport, method, url, body, schema, {
    token: ctx.token,
    observe: ctx.options.observe,
  });
  return r.body;
}

/** S1-S9: the operator authenticates at the POS with the card; traced step by step. */
async function authenticateOperator(
  pos: PosTerminal,
  opTerminal: OperatorTerminal,
  tr: Tracer,
): Promise<void> {
  const challenge = pos.startOperatorAuth();
  tr(
    "S1",
    "POS/PIN pad",
    `Rnd = ${challenge.rnd} (16 bytes from the PIN pad's RNG), sent to the operator terminal`,
  );
  const answer = await opTerminal.answerChallenge(challenge);
  tr("S2", "operator terminal", "operator card detected in the reader");
  tr(
    "S3",
    "operator card",
    `OpWCRT read (${answer.certificate.length} characters of PEM), private key stays on the card`,
  );
  tr(
    "S4",
    "operator card",
    `TimeOne = ${
      new Date(answer.timeOneMs).toISOString()
    }; C = RSA-private(type-1 pad(Rnd || TimeOne)) = ${short(answer.cryptogram)}`,
  );
  tr("S5", "operator terminal", "OpWCRT and C sent to the POS");
  const ok = await pos.finishOperatorAuth({
    certificate: answer.certificate,
    cryptogram: answer.cryptogram,
  });
  tr(
    "S6",
    "PIN pad",
    `OpWCRT "${ok.operator}" (serial ${ok.certificateSerial}) is within its validity period and chains to OpRCRT`,
  );
  tr(
    "S7",
    "PIN pad",
    `C recovered with OpWCRT's public key (type-1 padding valid): Rnd' = ${ok.rnd}, TimeOne' = ${
      new Date(ok.timeOneMs).toISOString()
    }`,
  );
  tr(
    "S8",
    "PIN pad",
    `Rnd' == Rnd ${challenge.rnd} (constant-time compare); this Rnd is used up, a replay is refused`,
  );
  tr(
    "S9",
    "PIN pad",
    `TimeTwo - TimeOne' = ${ok.skewMs} ms, inside the window of +-${ok.windowMs} ms: operator authenticated`,
  );
}

/** S10-S13: the PIN pad makes TK and exports it; the operator terminal uploads it to MTMS. */
async function collectTk(
  ctx: DemoContext,
  pos: PosTerminal,
  opTerminal: OperatorTerminal,
  mtmsCert: string,
  row: TerminalRow,
  tr: Tracer,
): Promise<void> {
  const exp = await pos.generateAndExportTk(mtmsCert);
  row.tkKcvPad = exp.tkKcv;
  tr(
    "S10",
    "PIN pad",
    `TK generated (double-length TDES, odd parity), KCV ${exp.tkKcv}, stored as a TR-31 block under the PIN pad's storage key with SHA-256 ${
      short(exp.tkHash)
    }`,
  );
  tr(
    "S11",
    "PIN pad",
    `"${exp.mtmsSubject}" certificate chains to the CA root; TK hash re-checked; TK exported as RSA-OAEP-SHA256 ${
      short(exp.encryptedTk)
    }`,
  );
  const up = await opTerminal.uploadTk(ctx.orderId, row.sn, exp);
  tr(
    "S11",
    "operator terminal",
    `upload signed by the operator card, POST /v1/orders/${ctx.orderId}/tks: ${up.collected}/${up.terminals} collected`,
  );
  tr(
    "S12",
    "MTMS HSM",
    "operator certificate and signature verified; TK decrypted inside the HSM, KCV and SHA-256 match the PIN pad's",
  );
  tr(
    "S13",
    "MTMS HSM",
    "TK re-encrypted under PK as a TR-31 key block and stored by production order",
  );
}

/** S1-S13 for every terminal of the order, in the factory; one row and PIN pad each. */
async function collectAll(
  ctx: DemoContext,
  sns: string[],
  root: string,
  opTerminal: OperatorTerminal,
  pinPads: PinPad[],
): Promise<PosTerminal[]> {
  const { core, observe, progress } = ctx.options;
  const mtmsCert = await opTerminal.mtmsCertificate();
  const terminals: PosTerminal[] = [];
  for (const [i, sn] of sns.entries()) {
    const row: TerminalRow = { sn, ok: false };
    ctx.rows.push(row);
    const pad = await PinPad.create({ root, core });
    pinPads.push(pad);
    const pos = new PosTerminal({
      sn,
      pinPad: pad,
      transport: ctx.transport,
      kmsUrl: ctx.kmsUrl,
      observe,
    });
    terminals.push(pos);
    const tr: Tracer = i === 0
      ? (step, actor, text) => ctx.trace.push({ step, actor, text })
      : () => {};
    try {
      await authenticateOperator(pos, opTerminal, tr);
      await collectTk(ctx, pos, opTerminal, mtmsCert, row, tr);
    } catch (e) {
      row.error = errorText(e);
    }
    progress?.("collect", i + 1, sns.length);
  }
  return terminals;
}

/** S14: MTMS sends the order's TKs to KMS. */
async function transferOrder(ctx: DemoContext): Promise<void> {
  const transfer = await operatorCall(
    ctx,
    "POST",
    `${ctx.mtmsUrl}/v1/orders/${ctx.orderId}/transfer`,
    TransferResponse,
  );
  ctx.trace.push({
    step: "S14",
    actor: "MTMS -> KMS",
    text:
      `batch of ${transfer.transferred} TKs under PK, retail MAC under MAK; KMS verified the MAC and its HSM moved each TK from PK to its LMK`,
  });
}

/** S15: KMS issues a TMK for every terminal of the order. */
async function issueOrder(ctx: DemoContext): Promise<void> {
  const issue = await operatorCall(
    ctx,
    "POST",
    `${ctx.kmsUrl}/v1/orders/${ctx.orderId}/tmks`,
    IssueResponse,
  );
  ctx.trace.push({
    step: "S15",
    actor: "KMS HSM",
    text:
      `bulk issuance: ${issue.issued} TMKs generated, each stored under the LMK and encrypted under its terminal's TK (TR-31)`,
  });
}

/** S16-S17: each terminal that got this far downloads its TMK. */
async function downloadAll(ctx: DemoContext, terminals: PosTerminal[]): Promise<void> {
  for (const [i, pos] of terminals.entries()) {
    const row = ctx.rows[i];
    if (row.error) continue;
    try {
      const d = await pos.downloadTmk();
      row.tmkKcvPad = d.pinPadKcv;
      if (i === 0) {
        ctx.trace.push({
          step: "S16",
          actor: "POS -> KMS",
          text: `POST /v1/terminals/${pos.sn}/tmk/challenge: a single-use nonce tagged by the ` +
            `KMS HSM; POST .../tmk with the PIN pad's MAC ${d.downloadMac} under ` +
            `KDF(TK, "TMK download", SN) over SN and nonce: proves TK (checked in the KMS HSM ` +
            `from the TK block); TMK under TK with KCV ${d.kmsKcv} and a nonce for the ack`,
        });
        ctx.trace.push({
          step: "S17",
          actor: "PIN pad",
          text:
            `TK hash checked, TMK key block verified and decrypted with TK, KCV ${d.pinPadKcv} == ${d.kmsKcv}; TMK stored under the storage key; ack with MAC ${d.ackMac} under KDF(TMK, "TMK ack", SN) over SN, nonce and KCV: proves TMK -> KMS state "${d.state}"`,
        });
      }
    } catch (e) {
      row.error = errorText(e);
    }
    ctx.options.progress?.("download", i + 1, terminals.length);
  }
}

/** Compares both sides' KCVs and KMS's state for every row. */
async function verifyRows(ctx: DemoContext): Promise<void> {
  for (const row of ctx.rows) {
    try {
      const s = await operatorCall(
        ctx,
        "GET",
        `${ctx.kmsUrl}/v1/terminals/${row.sn}`,
        TerminalStatus,
      );
      row.tkKcvKms = s.tkKcv;
      row.tmkKcvKms = s.tmkKcv;
      row.state = s.state;
    } catch (e) {
      row.error ??= errorText(e);
    }
    row.ok = !row.error && row.state === "delivered" && row.tmkKcvKms !== undefined &&
      row.tmkKcvKms === row.tmkKcvPad && row.tkKcvKms === row.tkKcvPad;
    if (!row.ok && !row.error) row.error = "KCVs differ or the terminal is not delivered";
  }
}

/** Times the phases of one run. */
function stopwatch(timings: Record<string, number>): (name: string) => void {
  let t0 = performance.now();
  return (name) => {
    const t = performance.now();
    timings[name] = Math.round(t - t0);
    t0 = t;
  };
}

/**
 * Runs flow A for a production order of `terminals` POS terminals.
 *
 * @param options size, core, data directory, logs, observers.
 * @returns trace, table rows, timings (and, for tests, devices and components).
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { core } = options;
  const orderId = options.orderId ??
    `PO-${new Date().toISOString().slice(0, 10).replaceAll("-", "")}-0001`;
  const timings: Record<string, number> = {};
  const lap = stopwatch(timings);
  const token = crypto.randomUUID();

  await Deno.mkdir(options.dataDir, { recursive: true });
  const pki = await makeDemoPki(core);
  const tls = options.insecureHttp ? undefined : await socketTls(pki, options.dataDir);
  const transport = options.transport ?? tls?.devices.transport ?? fetchTransport;
  const flowBPki = options.flowBTerminals ? await makeFlowBPki(core, pki) : undefined;
  const components = await makeComponents(core);
  const dbPaths = options.databases
    ? [options.databases.kms, options.databases.mtms]
    : [`${options.dataDir}/kms.db`, `${options.dataDir}/mtms.db`];
  const servers = await startServers(options, token, pki, flowBPki, components, dbPaths, tls);
  // Over TLS, the servers by the name their certificates hold.
  const kms = { ...servers.kms, url: tls ? tls.url(servers.kms) : servers.kms.url };
  const mtms = { ...servers.mtms, url: tls ? tls.url(servers.mtms) : servers.mtms.url };
  const ctx: DemoContext = {
    options,
    transport,
    token,
    orderId,
    kmsUrl: kms.url,
    mtmsUrl: mtms.url,
    trace: [],
    rows: [],
  };
  const pinPads: PinPad[] = [];
  let flowB: FlowBDemoResult | undefined;
  let tr34: Tr34DemoResult | undefined;
  try {
    const operator = await pki.issueOperator("Operator 0042");
    const card = new OperatorCard(operator.certificate, operator.privateKey, { core });
    const opTerminal = new OperatorTerminal({
      transport,
      mtmsUrl: mtms.url,
      observe: options.observe,
    });
    opTerminal.insertCard(card);
    lap("setup");

    const sns = Array.from(
      { length: options.terminals },
      (_, i) => `SN${String(i + 1).padStart(8, "0")}`,
    );
    await operatorCall(ctx, "POST", `${mtms.url}/v1/orders`, OrderStatus, {
      orderId,
      serialNumbers: sns,
    });
    const terminals = await collectAll(ctx, sns, pki.rootPem, opTerminal, pinPads);
    lap("collect S1-S13");
    await transferOrder(ctx);
    lap("transfer S14");
    await issueOrder(ctx);
    lap("issue S15");
    await downloadAll(ctx, terminals);
    lap("download S16-S17");
    await verifyRows(ctx);
    lap("verify");
    if (flowBPki) {
      flowB = await runFlowBDemo({
        kmsUrl: kms.url,
        token,
        core,
        kmsRootPem: flowBPki.kmsRootPem,
        kmsCaPem: flowBPki.kmsCa.certificate,
        issueDevice: pki.issueDevice,
        terminals: options.flowBTerminals!,
        observe: options.observe,
        progress: options.progress,
        transport,
      });
      lap("flow B S1-S7");
    }
    if (options.tr34Terminals) {
      tr34 = await runTr34Demo({
        kmsUrl: kms.url,
        token,
        core,
        pki,
        terminals: options.tr34Terminals,
        observe: options.observe,
        progress: options.progress,
        transport,
      });
      lap("TR-34 2-pass");
    }
    await options.beforeShutdown?.({
      kmsUrl: kms.url,
      mtmsUrl: mtms.url,
      token,
      orderId,
      pki,
      kmsRootPem: flowBPki?.kmsRootPem,
      kmsCaPem: flowBPki?.kmsCa.certificate,
      components,
    });
  } finally {
    await mtms.shutdown();
    await kms.shutdown();
    tls?.close();
  }
  const { trace, rows } = ctx;
  return { orderId, trace, rows, pinPads, components, dbPaths, timings, flowB, tr34 };
}
