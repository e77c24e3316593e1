/**
 * The third flow for the demo: TR-34 2-pass (ASC X9 TR 34-2019). A set of
 * POS terminals in the field, each with a PIN pad that has a `tr34-krd`
 * device certificate from manufacture and the CA root from flashing, gets
 * its TMK from a running KMS over HTTP: binding (CT_KRD, CT_KDH), key
 * transport (RT_KRD, KT_KDH) and the acknowledgement, in which the PIN pad
 * proves it holds the TMK (a MAC under a key derived from it over the
 * KMS's nonce and the KCV, checked in the KMS's HSM). The flow A demo
 * calls {@link kdhForKms} before it starts the KMS (the custodians make the
 * KDH key in an HSM on the KMS's LMK, the CA certifies it),
 * {@link runTr34Demo} while the KMS runs, and prints {@link formatTr34}'s
 * lines: one terminal's steps, a table with the KCVs on both sides, and one
 * summary line.
 *
 * @module
 */
import type { CryptoCore, RsaPublicKey } from "../src/core/mod.ts";
import { generateRsaKeyPair, randomBytes } from "../src/crypto/mod.ts";
import {
  callJson,
  type Exchange,
  fetchTransport,
  Tr34TerminalStatus,
  type Transport,
} from "../src/protocol/mod.ts";
import { parseCertificate } from "../src/pki/mod.ts";
import type { KeyUsePolicy } from "../src/tr34/mod.ts";
import { openStore } from "../servers/_lib/store.ts";
import { generateKdhKey, loadTr34Kdh, type Tr34Kdh } from "../servers/kms/tr34_kdh.ts";
import { PinPadTr34 } from "../devices/pin_pad_tr34.ts";
import { Tr34Terminal, type Tr34TraceLine } from "../devices/pos_tr34.ts";
import type { DemoPki } from "./setup.ts";

/** What of the demo's CA the TR-34 flow uses. */
export type Tr34Pki = Pick<DemoPki, "rootPem" | "issueKdh" | "issueKrd" | "issueCrl">;

/**
 * The custodians' and the CA's steps for a KMS: the KDH key pair made in an
 * HSM on the KMS's LMK (the key block written to `dataDir/tr34-kdh.keyblock`,
 * recorded in the KMS's audit log), its `tr34-kdh` certificate from the CA,
 * the CA's CRL; the KMS gets them as files.
 *
 * @param pki the CA.
 * @param lmkComponents the KMS's LMK components (`CUSTODIAN:KEY:KCV`).
 * @param dataDir where the files go.
 * @param core the crypto core.
 * @param db the KMS's database (for the audit record).
 * @param options `revokeKdh`: the CRL lists the KDH certificate (a test of the PIN pad's check).
 * @returns the KDH as the KMS loads it.
 */
export async function kdhForKms(
  pki: Tr34Pki,
  lmkComponents: string[],
  dataDir: string,
  core: CryptoCore,
  db: string,
  options: { revokeKdh?: boolean } = {},
): Promise<Tr34Kdh> {
  const paths = {
    certificatePath: `${dataDir}/tr34-kdh.pem`,
    keyBlockPath: `${dataDir}/tr34-kdh.keyblock`,
    krdRootPaths: [`${dataDir}/tr34-root.pem`],
    crlPath: `${dataDir}/tr34-root.crl`,
  };
  await Deno.remove(paths.keyBlockPath).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const store = await openStore(db);
  let publicKey: RsaPublicKey;
  try {
    ({ publicKey } = await generateKdhKey({
      outPath: paths.keyBlockPath,
      lmkComponents,
      hsmMode: "test",
      core,
      store,
    }));
  } finally {
    await store.close();
  }
  const certificate = await pki.issueKdh(publicKey);
  await Deno.writeTextFile(paths.certificatePath, certificate);
  await Deno.writeTextFile(paths.krdRootPaths[0], pki.rootPem);
  await Deno.writeTextFile(
    paths.crlPath,
    await pki.issueCrl(1n, options.revokeKdh ? [parseCertificate(certificate).serialNumber] : []),
  );
  return await loadTr34Kdh(paths);
}

/** One terminal's outcome. */
export interface Tr34Row {
  sn: string;
  ok: boolean;
  tmkKcvKms?: string;
  tmkKcvPad?: string;
  state?: string;
  error?: string;
}

/** Options of {@link runTr34Demo}. */
export interface Tr34DemoOptions {
  /** The running KMS (with a KDH). */
  kmsUrl: string;
  /** Its operator token (to read each terminal's state and KCV). */
  token: string;
  core: CryptoCore;
  pki: Pick<Tr34Pki, "rootPem" | "issueKrd">;
  terminals: number;
  /** Serial number prefix (default `TR`). */
  snPrefix?: string;
  observe?: (exchange: Exchange) => void;
  progress?: (phase: string, done: number, total: number) => void;
  /** How the terminals and the demo reach the KMS (default `fetch`). */
  transport?: Transport;
}

/** What {@link runTr34Demo} returns. */
export interface Tr34DemoResult {
  trace: Tr34TraceLine[];
  rows: Tr34Row[];
  /** For the key-scan tests: the PIN pads (see `pinPadTr34TestHarness`). */
  pinPads: PinPadTr34[];
  /** Milliseconds for the whole run. */
  ms: number;
}

/**
 * A PIN pad as the factory makes it: a device key pair and its `tr34-krd`
 * certificate, the root, a storage key; `policy` is its TMK slot's (default `TMK_POLICY`).
 */
export async function makeTr34PinPad(
  sn: string,
  pki: Pick<Tr34Pki, "rootPem" | "issueKrd">,
  core: CryptoCore,
  policy?: KeyUsePolicy,
): Promise<PinPadTr34> {
  const k = await generateRsaKeyPair({ bits: 2048, core });
  return await PinPadTr34.create({
    root: pki.rootPem,
    core,
    storageKey: randomBytes(16),
    device: { privateKey: k.privateKey, certificate: await pki.issueKrd(sn, k.publicKey) },
    policy,
  });
}

/**
 * Binding, 2-pass key transport and acknowledgement for `terminals` new
 * terminals against a running KMS.
 *
 * @returns the trace of the first terminal, one row per terminal, PIN pads, time.
 */
export async function runTr34Demo(o: Tr34DemoOptions): Promise<Tr34DemoResult> {
  const started = performance.now();
  const transport = o.transport ?? fetchTransport;
  const rows: Tr34Row[] = [];
  const trace: Tr34TraceLine[] = [];
  const pinPads: PinPadTr34[] = [];
  for (let i = 0; i < o.terminals; i++) {
    const sn = `${o.snPrefix ?? "TR"}${String(i + 1).padStart(8, "0")}`;
    const row: Tr34Row = { sn, ok: false };
    rows.push(row);
    try {
      const pad = await makeTr34PinPad(sn, o.pki, o.core);
      pinPads.push(pad);
      const pos = new Tr34Terminal({
        sn,
        pinPad: pad,
        transport,
        kmsUrl: o.kmsUrl,
        observe: o.observe,
      });
      row.tmkKcvPad = (await pos.run(i === 0 ? (l) => trace.push(l) : undefined)).pinPadKcv;
      const s = await callJson(
        transport,
        "GET",
        `${o.kmsUrl.replace(/\/$/, "")}/v1/terminals/${sn}`,
        undefined,
        Tr34TerminalStatus,
        { token: o.token, observe: o.observe },
      );
      row.tmkKcvKms = s.body.tmkKcv;
      row.state = s.body.state;
    } catch (e) {
      row.error = `${(e as Error).name}: ${(e as Error).message}`;
    }
    row.ok = !row.error && row.state === "delivered" && row.tmkKcvKms !== undefined &&
      row.tmkKcvKms === row.tmkKcvPad;
    if (!row.ok && !row.error) row.error = "KCVs differ or the terminal is not delivered";
    o.progress?.("TR-34", i + 1, o.terminals);
  }
  return { trace, rows, pinPads, ms: Math.round(performance.now() - started) };
}

/**
 * The printed TR-34 section: one terminal's steps, the table, the summary line.
 *
 * @returns the lines to print; the last is the summary line.
 */
export function formatTr34(r: Tr34DemoResult, coreName: string): string[] {
  const out: string[] = [];
  out.push(`TR-34 2-pass (ASC X9 TR 34-2019), ${r.rows.length} terminals, core ${coreName}`);
  out.push("");
  out.push(`Terminal ${r.rows[0]?.sn ?? "-"}, step by step:`);
  for (const t of r.trace) out.push(`  ${t.step.padEnd(6)} ${t.actor.padEnd(15)} ${t.text}`);
  out.push("");
  const w = [12, 12, 12, 10, 6];
  const line = (cells: string[]) => "  " + cells.map((c, i) => c.padEnd(w[i])).join(" ");
  out.push(line(["SN", "TMK KCV KMS", "TMK KCV pad", "state", "result"]));
  for (const row of r.rows) {
    out.push(line([
      row.sn,
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
    `TR-34: ${ok}/${r.rows.length} terminals got their TMK (2-pass key token over HTTP, ` +
      `KDH signature and random number checked by the PIN pad, TMK proved by MAC at the ` +
      `acknowledgement, KCVs match on both sides), ` +
      `${r.rows.length - ok} failed, ${(r.ms / 1000).toFixed(1)} s, core ${coreName}`,
  );
  return out;
}
