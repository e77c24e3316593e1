/**
 * Flow B (CN103714641A) for the demo: a set of POS terminals in the field,
 * each with a PIN pad flashed with the KMS root, gets its TMK from a
 * running KMS over HTTP (S1-S7). The flow A demo calls
 * {@link makeFlowBPki} before it starts the KMS (the KMS needs the KMS CA),
 * {@link runFlowBDemo} while the KMS runs, and prints
 * {@link formatFlowB}'s lines: one terminal's steps, a table of every
 * terminal with the KCVs on both sides, and one summary line.
 *
 * Run alone (`deno run -A demo/flow_b.ts [--terminals N]`), it starts a KMS
 * of its own with flow B only, on a temporary database.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type CryptoCore,
  loadCore,
  type RsaPrivateKey,
  type RsaPublicKey,
} from "../src/core/mod.ts";
import { exportPkcs8Pem, generateRsaKeyPair, randomBytes, toHex } from "../src/crypto/mod.ts";
import { KEY_TEMPLATES, SoftwareHsm } from "../src/hsm/mod.ts";
import { issueCertificate } from "../src/pki/mod.ts";
import {
  callJson,
  type Exchange,
  fetchTransport,
  FlowBTerminalStatus,
  type Transport,
} from "../src/protocol/mod.ts";
import { openSqliteStore } from "../src/store/mod.ts";
import { createHandler, jsonLogger, type Logger, serveHandler } from "../servers/_lib/mod.ts";
import { operatorNonceMemory } from "../servers/_lib/store.ts";
import { createFlowBService } from "../servers/kms/flow_b_hsm.ts";
import { importKmsCaKey } from "../servers/kms/import_ca_key.ts";
import { type KmsCa, loadKmsCa } from "../servers/kms/kms_ca.ts";
import { withFlowB } from "../servers/kms/flow_b_routes.ts";
import { openStore } from "../servers/_lib/store.ts";
import { PinPadFlowB } from "../devices/pin_pad_flow_b.ts";
import { FlowBTerminal, type FlowBTraceLine } from "../devices/pos_flow_b.ts";
import { randomLmkComponents } from "./setup.ts";

/** The KMS side of flow B's PKI: the root written into PIN pads, and the KMS CA under it. */
export interface FlowBPki {
  /** The KMS root (PEM), written into every PIN pad at flashing. */
  kmsRootPem: string;
  /** Issues a PIN pad's device certificate under the root (when the root is this module's). */
  issueDevice?: (sn: string, publicKey: RsaPublicKey) => Promise<string>;
  /** The KMS CA that certifies each terminal's Pu_hsm (give it to the KMS). */
  kmsCa: { privateKey: RsaPrivateKey; certificate: string };
}

const DAY = 86_400_000;

function seconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/**
 * Makes the KMS CA and its root: under an existing root (the demo's CA
 * root, OpRCRT, one trust anchor per device) when `under` is given, else
 * under a new root of its own.
 *
 * @param core the crypto core.
 * @param under an existing root (PEM) and a way to have it issue the KMS CA.
 * @returns the PKI.
 */
export async function makeFlowBPki(
  core: CryptoCore,
  under?: { rootPem: string; issueKmsCa(publicKey: RsaPublicKey): Promise<string> },
): Promise<FlowBPki> {
  const ca = await generateRsaKeyPair({ bits: 2048, core });
  if (under) {
    return {
      kmsRootPem: under.rootPem,
      kmsCa: { privateKey: ca.privateKey, certificate: await under.issueKmsCa(ca.publicKey) },
    };
  }
  const root = await generateRsaKeyPair({ bits: 2048, core });
  const now = Date.now();
  const kmsRootPem = await issueCertificate({
    profile: "root-ca",
    subject: { commonName: "KMS Root CA", organization: "TMK Demo", country: "CN" },
    publicKey: root.publicKey,
    notBefore: seconds(now - 30 * DAY),
    notAfter: seconds(now + 3650 * DAY),
    issuer: { privateKey: root.privateKey },
  }, { core });
  const certificate = await issueCertificate({
    profile: "kms-ca",
    subject: { commonName: "KMS CA", organization: "TMK Demo", country: "CN" },
    publicKey: ca.publicKey,
    notBefore: seconds(now - 30 * DAY),
    notAfter: seconds(now + 1825 * DAY),
    issuer: { privateKey: root.privateKey, certificate: kmsRootPem },
  }, { core });
  const issueDevice = (sn: string, publicKey: RsaPublicKey) =>
    issueCertificate({
      profile: "pin-pad",
      subject: { commonName: `PIN pad ${sn}`, serialNumber: sn, organization: "TMK Demo" },
      publicKey,
      notBefore: seconds(now - DAY),
      notAfter: seconds(now + 1825 * DAY),
      issuer: { privateKey: root.privateKey, certificate: kmsRootPem },
    }, { core });
  return { kmsRootPem, kmsCa: { privateKey: ca.privateKey, certificate }, issueDevice };
}

/**
 * The custodian's step for a KMS process: the KMS CA private key goes from a
 * PEM file (on the custodian's media, here a temporary directory removed
 * afterwards) under the KMS's LMK (`importKmsCaKey`, as `deno task kms
 * --import-ca-key`); the KMS gets the certificate and the key block files
 * (`dataDir/kms-ca.pem`, `dataDir/kms-ca.keyblock`), as with `--kms-ca-cert`
 * and `--kms-ca-key-block`.
 *
 * @param pki the flow B PKI (its KMS CA key in clear, from the ceremony).
 * @param lmkComponents the KMS's LMK components (`CUSTODIAN:KEY:KCV`).
 * @param dataDir the KMS's data directory.
 * @param core the crypto core.
 * @param db the KMS's database (the import is recorded in its audit log).
 * @returns the KMS CA as the KMS loads it.
 */
export async function kmsCaForKms(
  pki: FlowBPki,
  lmkComponents: string[],
  dataDir: string,
  core: CryptoCore,
  db: string,
): Promise<KmsCa> {
  const certPath = `${dataDir}/kms-ca.pem`;
  const blockPath = `${dataDir}/kms-ca.keyblock`;
  await Deno.writeTextFile(certPath, pki.kmsCa.certificate);
  await Deno.remove(blockPath).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const custodian = await Deno.makeTempDir({ prefix: "kms-ca-custodian-" });
  try {
    await Deno.writeTextFile(`${custodian}/kms-ca.key`, exportPkcs8Pem(pki.kmsCa.privateKey), {
      mode: 0o600,
    });
    const store = await openStore(db);
    try {
      await importKmsCaKey({
        pemPath: `${custodian}/kms-ca.key`,
        outPath: blockPath,
        lmkComponents,
        hsmMode: "test",
        core,
        store,
      });
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(custodian, { recursive: true });
  }
  return await loadKmsCa(certPath, blockPath);
}

/** One terminal's outcome. */
export interface FlowBRow {
  sn: string;
  ok: boolean;
  aukKcvPad?: string;
  aukKcvKms?: string;
  tmkKcvKms?: string;
  tmkKcvPad?: string;
  state?: string;
  error?: string;
}

/** Options of {@link runFlowBDemo}. */
export interface FlowBDemoOptions {
  /** The running KMS (with flow B enabled). */
  kmsUrl: string;
  /** Its operator token (to read each terminal's state and KCVs). */
  token: string;
  core: CryptoCore;
  /** The KMS root the PIN pads are flashed with. */
  kmsRootPem: string;
  /** Issues each PIN pad's device certificate at manufacture (then S3 is signed). */
  issueDevice?: (sn: string, publicKey: RsaPublicKey) => Promise<string>;
  terminals: number;
  /** Serial number prefix (default `FB`): flow B's terminals are not flow A's. */
  snPrefix?: string;
  observe?: (exchange: Exchange) => void;
  progress?: (phase: string, done: number, total: number) => void;
  /** How the terminals and the demo reach the KMS (default `fetch`). */
  transport?: Transport;
}

/** What {@link runFlowBDemo} returns. */
export interface FlowBDemoResult {
  trace: FlowBTraceLine[];
  rows: FlowBRow[];
  /** For the key-scan tests: the PIN pads (see `pinPadFlowBTestHarness`). */
  pinPads: PinPadFlowB[];
  /** Milliseconds for the whole run. */
  ms: number;
}

/**
 * Runs S1-S7 for `terminals` new terminals against a running KMS.
 *
 * @param o KMS URL and token, core, KMS root, count, observers.
 * @returns trace of the first terminal, one row per terminal, PIN pads, time.
 */
export async function runFlowBDemo(o: FlowBDemoOptions): Promise<FlowBDemoResult> {
  const started = performance.now();
  const prefix = o.snPrefix ?? "FB";
  const rows: FlowBRow[] = [];
  const trace: FlowBTraceLine[] = [];
  const pinPads: PinPadFlowB[] = [];
  for (let i = 0; i < o.terminals; i++) {
    const sn = `${prefix}${String(i + 1).padStart(8, "0")}`;
    const row: FlowBRow = { sn, ok: false };
    rows.push(row);
    let device: { privateKey: RsaPrivateKey; certificate: string } | undefined;
    if (o.issueDevice) {
      const k = await generateRsaKeyPair({ bits: 2048, core: o.core });
      device = { privateKey: k.privateKey, certificate: await o.issueDevice(sn, k.publicKey) };
    }
    const pad = new PinPadFlowB({
      kmsRoot: o.kmsRootPem,
      core: o.core,
      storageKey: randomBytes(24),
      device,
    });
    pinPads.push(pad);
    const pos = new FlowBTerminal({
      sn,
      pinPad: pad,
      transport: o.transport ?? fetchTransport,
      kmsUrl: o.kmsUrl,
      observe: o.observe,
    });
    try {
      const r = await pos.run(i === 0 ? (l) => trace.push(l) : undefined);
      row.aukKcvPad = pad.state().aukKcv;
      row.tmkKcvPad = r.pinPadKcv;
    } catch (e) {
      row.error = `${(e as Error).name}: ${(e as Error).message}`;
    }
    try {
      const s = await callJson(
        o.transport ?? fetchTransport,
        "GET",
        `${o.kmsUrl.replace(/\/$/, "")}/v1/terminals/${sn}`,
        undefined,
        FlowBTerminalStatus,
        { token: o.token, observe: o.observe },
      );
      row.aukKcvKms = s.body.aukKcv;
      row.tmkKcvKms = s.body.tmkKcv;
      row.state = s.body.state;
    } catch (e) {
      row.error ??= `${(e as Error).name}: ${(e as Error).message}`;
    }
    row.ok = !row.error && row.state === "delivered" && row.tmkKcvKms !== undefined &&
      row.tmkKcvKms === row.tmkKcvPad && row.aukKcvKms === row.aukKcvPad;
    if (!row.ok && !row.error) row.error = "KCVs differ or the terminal is not delivered";
    o.progress?.("flow B", i + 1, o.terminals);
  }
  return { trace, rows, pinPads, ms: Math.round(performance.now() - started) };
}

/**
 * The printed flow B section: one terminal's steps, the table, the summary line.
 *
 * @param r the run's result.
 * @param coreName the core's name, for the summary.
 * @returns the lines to print; the last is the summary line.
 */
export function formatFlowB(r: FlowBDemoResult, coreName: string): string[] {
  const out: string[] = [];
  out.push(`Flow B (CN103714641A), remote download, ${r.rows.length} terminals, core ${coreName}`);
  out.push("");
  out.push(`Terminal ${r.rows[0]?.sn ?? "-"}, step by step:`);
  for (const t of r.trace) out.push(`  ${t.step.padEnd(4)} ${t.actor.padEnd(15)} ${t.text}`);
  out.push("");
  const head = [
    "SN",
    "AUK KCV pad",
    "AUK KCV KMS",
    "TMK KCV KMS",
    "TMK KCV pad",
    "state",
    "result",
  ];
  const w = [12, 12, 12, 12, 12, 10, 6];
  const line = (cells: string[]) => "  " + cells.map((c, i) => c.padEnd(w[i])).join(" ");
  out.push(line(head));
  for (const row of r.rows) {
    out.push(line([
      row.sn,
      row.aukKcvPad ?? "-",
      row.aukKcvKms ?? "-",
      row.tmkKcvKms ?? "-",
      row.tmkKcvPad ?? "-",
      row.state ?? "-",
      row.ok ? "ok" : "FAILED",
    ]));
    if (row.error) out.push(`    ${row.error}`);
  }
  out.push("");
  const ok = r.rows.filter((x) => x.ok).length;
  out.push(
    `flow B: ${ok}/${r.rows.length} terminals got their TMK (S1-S7 over HTTP, mutual ` +
      `authentication passed, KCVs match on both sides), ${r.rows.length - ok} failed, ` +
      `${(r.ms / 1000).toFixed(1)} s, core ${coreName}`,
  );
  return out;
}

/**
 * Flow B alone: a KMS with flow B only (software HSM, SQLite store in
 * `dataDir`, KMS CA) on a free loopback port, then {@link runFlowBDemo}.
 *
 * @param o count, core, data directory, KMS log.
 * @returns the result (the KMS is stopped).
 */
export async function runFlowBStandalone(o: {
  terminals: number;
  core: CryptoCore;
  dataDir: string;
  log?: Logger;
  observe?: (exchange: Exchange) => void;
  progress?: (phase: string, done: number, total: number) => void;
}): Promise<FlowBDemoResult & { dbPath: string; lmkComponents: string[] }> {
  const pki = await makeFlowBPki(o.core);
  const components = await randomLmkComponents(2, o.core);
  const lmkComponents = components.map((c) => c.key);
  const dbPath = `${o.dataDir}/kms-flow-b.db`;
  const store = await openSqliteStore(dbPath);
  const hsm = await SoftwareHsm.open({
    mode: "test",
    core: o.core,
    audit: async (e) => {
      await store.appendAudit({ ...e, at: new Date(), actor: "kms hsm" });
    },
  }, { components, by: "demo custodians" });
  const token = toHex(randomBytes(16));
  const service = createFlowBService({
    hsm,
    store,
    core: o.core,
    kmsCa: {
      privateKeyBlock: (await hsm.importRsaPrivateKey(pki.kmsCa.privateKey, KEY_TEMPLATES.RSA_CA))
        .privateKeyBlock,
      certificate: pki.kmsCa.certificate,
    },
    deviceRoots: [pki.kmsRootPem],
  });
  const handler = createHandler({
    title: "KMS (flow B)",
    version: "1.0.0",
    routes: withFlowB([], service),
    operatorToken: token,
    rememberOperatorNonce: operatorNonceMemory(store),
    log: o.log ?? jsonLogger(),
  });
  const server = serveHandler(handler, { port: 0 });
  try {
    const r = await runFlowBDemo({
      kmsUrl: server.url,
      token,
      core: o.core,
      kmsRootPem: pki.kmsRootPem,
      issueDevice: pki.issueDevice,
      terminals: o.terminals,
      observe: o.observe,
      progress: o.progress,
    });
    return { ...r, dbPath, lmkComponents };
  } finally {
    await server.shutdown();
    await store.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { terminals: { type: "string", default: "5" }, core: { type: "string" } },
  });
  const n = Number(values.terminals);
  if (!/^[0-9]+$/.test(values.terminals!) || n < 1 || n > 10000) {
    console.error(`--terminals must be an integer from 1 to 10000, got ${values.terminals}`);
    Deno.exit(2);
  }
  if (values.core !== undefined && values.core !== "wasm" && values.core !== "js") {
    console.error(`--core must be wasm or js, got ${values.core}`);
    Deno.exit(2);
  }
  const core = await loadCore(values.core as "wasm" | "js" | undefined);
  const dataDir = await Deno.makeTempDir({ prefix: "tmk-demo-b-" });
  const enc = new TextEncoder();
  const logFile = await Deno.open(`${dataDir}/kms.log`, { create: true, append: true });
  const r = await runFlowBStandalone({
    terminals: n,
    core,
    dataDir,
    log: jsonLogger((l) => logFile.writeSync(enc.encode(l + "\n"))),
  });
  logFile.close();
  console.log(`Data and logs: ${dataDir}`);
  for (const l of formatFlowB(r, core.name)) console.log(l);
  Deno.exit(r.rows.every((x) => x.ok) ? 0 : 1);
}
