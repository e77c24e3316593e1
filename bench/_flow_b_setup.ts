/**
 * The untimed part of `bench/flow_b.ts`: the PKI (a device root that also
 * issues the KMS CA), the KMS CA key as a block under the KMS's LMK (the
 * custodian's `--import-ca-key` step), the PIN pads' device keys with a
 * certificate per serial number, and TEK key pairs made ahead; then the
 * KMS process with flow B on, and its pool's progress read from `/metrics`.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey, RsaPublicKey } from "../src/core/mod.ts";
import { exportPkcs8Pem, generateRsaKeyPair } from "../src/crypto/mod.ts";
import { issueCertificate } from "../src/pki/mod.ts";
import { openStore } from "../servers/_lib/store.ts";
import { importKmsCaKey } from "../servers/kms/import_ca_key.ts";
import { KmsProcess, makeKeys } from "../demo/kms_process.ts";

/** A CA: its key and certificate. */
export interface BenchCa {
  key: RsaPrivateKey;
  certificate: string;
}

/** An RSA key pair. */
export interface Pair {
  publicKey: RsaPublicKey;
  privateKey: RsaPrivateKey;
}

/** What the terminals of the benchmark need, made before the timed part. */
export interface FlowBFixture {
  root: BenchCa;
  kmsCa: BenchCa;
  /** Per serial number: its device key (shared round robin) and its `pin-pad` certificate. */
  devices: Map<string, { privateKey: RsaPrivateKey; certificate: string }>;
  /** TEK pairs; terminal i takes a copy of pair i mod their number. */
  teks: Pair[];
}

const YEAR = 365 * 86_400_000;

/**
 * Makes the PKI, `keys` device keys and TEK pairs, and a certificate per serial number.
 *
 * @param core the crypto core.
 * @param sns the serial numbers.
 * @param keys how many device keys and TEK pairs (each an RSA-2048 key generation).
 * @returns the fixture.
 */
export async function makeFixture(
  core: CryptoCore,
  sns: readonly string[],
  keys: number,
): Promise<FlowBFixture> {
  const gen = async () => await generateRsaKeyPair({ bits: 2048, core });
  const now = Math.floor(Date.now() / 1000) * 1000;
  const notBefore = new Date(now - 86_400_000);
  const notAfter = new Date(now + YEAR);
  const rootKey = (await gen()).privateKey;
  const caKey = (await gen()).privateKey;
  const root = await issueCertificate({
    profile: "root-ca",
    subject: { commonName: "Bench Root CA" },
    publicKey: rootKey,
    notBefore,
    notAfter,
    issuer: { privateKey: rootKey },
  }, { core });
  const kmsCa = await issueCertificate({
    profile: "kms-ca",
    subject: { commonName: "Bench KMS CA" },
    publicKey: caKey,
    notBefore,
    notAfter,
    issuer: { privateKey: rootKey, certificate: root },
  }, { core });
  const deviceKeys: RsaPrivateKey[] = [];
  const teks: Pair[] = [];
  for (let i = 0; i < keys; i++) {
    deviceKeys.push((await gen()).privateKey);
    teks.push(await gen());
  }
  const devices = new Map<string, { privateKey: RsaPrivateKey; certificate: string }>();
  for (const [i, sn] of sns.entries()) {
    const privateKey = deviceKeys[i % keys];
    const certificate = await issueCertificate({
      profile: "pin-pad",
      subject: { commonName: `PIN pad ${sn}`, serialNumber: sn },
      publicKey: privateKey,
      notBefore,
      notAfter,
      issuer: { privateKey: rootKey, certificate: root },
    }, { core });
    devices.set(sn, { privateKey, certificate });
  }
  return {
    root: { key: rootKey, certificate: root },
    kmsCa: { key: caKey, certificate: kmsCa },
    devices,
    teks,
  };
}

/** A copy of a pair (the PIN pad zeroes the private key it is given). */
export function copyPair(p: Pair): Pair {
  return structuredClone(p);
}

/**
 * Writes the KMS's flow B files, imports the KMS CA key under a fresh LMK
 * and starts the KMS process with flow B and `args` (the pool's flags).
 *
 * @param core the crypto core.
 * @param f the fixture.
 * @param args more KMS flags (`--key-pool-high`, `--metrics-port`, ...).
 * @param runFlags `deno run` flags before the script (`--cpu-prof`).
 * @returns the process and its directory (the caller removes it after `stop`).
 */
export async function startFlowBKms(
  core: CryptoCore,
  f: FlowBFixture,
  args: string[],
  runFlags: string[] = [],
): Promise<{ kms: KmsProcess; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "bench-flow-b-" });
  const keys = await makeKeys();
  await Deno.writeTextFile(`${dir}/ca.pem`, f.kmsCa.certificate);
  await Deno.writeTextFile(`${dir}/ca.key.pem`, exportPkcs8Pem(f.kmsCa.key));
  await Deno.writeTextFile(`${dir}/device-root.pem`, f.root.certificate);
  const store = await openStore(`${dir}/kms.db`);
  try {
    await importKmsCaKey({
      pemPath: `${dir}/ca.key.pem`,
      outPath: `${dir}/ca.keyblock`,
      lmkComponents: keys.lmk,
      hsmMode: "test",
      core,
      store,
    });
  } finally {
    await store.close();
  }
  // The custodian's PEM is not left beside the KMS.
  await Deno.remove(`${dir}/ca.key.pem`);
  const kms = await KmsProcess.start(`${dir}/kms.db`, keys, [
    "--kms-ca-cert",
    `${dir}/ca.pem`,
    "--kms-ca-key-block",
    `${dir}/ca.keyblock`,
    "--device-root",
    `${dir}/device-root.pem`,
    ...args,
  ], runFlags);
  return { kms, dir };
}

/** The KMS's `/metrics` URL, from its log line `kms.metrics`. */
export async function metricsUrl(kms: KmsProcess): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const m = /"kms\.metrics".*?"url":"([^"]+)"/.exec(kms.log);
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the KMS logged no metrics URL:\n${kms.log}`);
}

/** One sample of `/metrics`: pairs ready, and the pool's events so far. */
export async function poolSample(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(url)).text();
  const out: Record<string, number> = {};
  const ready = /^tmk_key_pool_pairs\{kind="ready"[^}]*\} (\d+)$/m.exec(text);
  out.ready = ready ? Number(ready[1]) : NaN;
  for (const m of text.matchAll(/^tmk_events_total\{event="(key_pool_\w+)"[^}]*\} (\d+)$/gm)) {
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** CPU seconds (user + system) in a `stat` file of /proc (a process's or a thread's). */
function statCpu(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime: fields 14 and 15 of stat(5), in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
export async function cpuSeconds(pid: number): Promise<number> {
  return statCpu(await Deno.readTextFile(`/proc/${pid}/stat`));
}

/** A process's CPU seconds by thread kind. */
export interface ThreadCpu {
  /** The main thread (the event loop: requests, store, everything but the workers). */
  main: number;
  /** Web Worker threads (`worker-N`: the HSM workers). */
  workers: number;
  /** The rest: V8's platform threads (GC, compiler), the runtime's I/O threads. */
  other: number;
}

/**
 * CPU seconds a process's threads have used, by kind, from /proc (Linux).
 * Threads that ended are not counted (the KMS's threads live as long as it).
 */
export async function threadCpu(pid: number): Promise<ThreadCpu> {
  const out: ThreadCpu = { main: 0, workers: 0, other: 0 };
  for await (const e of Deno.readDir(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = await Deno.readTextFile(`/proc/${pid}/task/${e.name}/stat`);
    } catch {
      continue; // the thread ended meanwhile
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const kind = e.name === String(pid) ? "main" : comm.startsWith("worker-") ? "workers" : "other";
    out[kind] += statCpu(stat);
  }
  return out;
}
