/**
 * Helpers for the scale-out tests: real KMS server processes (spawned with
 * `Deno.execPath()` on `servers/kms/main.ts`, killable with SIGKILL), the
 * key components they share, and TK batches as the MTMS would send them
 * (TKs under PK as TR-31 blocks, retail MAC under MAK), made here from the
 * shared components, as the MTMS's HSM and the PIN pads would.
 *
 * @module
 */
import { loadCore } from "../../src/core/mod.ts";
import { createHash } from "node:crypto";
import { fromHex, kcv, randomBytes, retailMac, setOddParity, toHex } from "../../src/crypto/mod.ts";
import { KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { type KeyBlockHeader, unwrapKeyBlock, wrapKeyBlock } from "../../src/keyblock/mod.ts";
import {
  type BatchEntry,
  batchMacInput,
  batchMacLine,
  batchMacPrefix,
  type TkBatchRequest,
} from "../../src/protocol/mod.ts";
import { componentKey, randomComponents } from "../../demo/_setup.ts";
import { operatorAuthorization } from "../_helpers.ts";

/** Key components and token shared by every KMS instance of a test. */
export interface KmsKeys {
  lmk: string[];
  pk: string[];
  mak: string[];
  token: string;
}

/** Fresh random components (two per key, with KCVs) and an operator token. */
export async function makeKeys(): Promise<KmsKeys> {
  const core = await loadCore("wasm");
  return {
    lmk: await randomComponents(2, 32, core),
    pk: await randomComponents(2, 24, core),
    mak: await randomComponents(2, 16, core),
    token: `token-${crypto.randomUUID()}`,
  };
}

const MAIN = new URL("../../servers/kms/main.ts", import.meta.url).pathname;

/** A KMS server running in its own process. */
export class KmsProcess {
  readonly url: string;
  readonly #child: Deno.ChildProcess;
  readonly #log: string[];

  private constructor(url: string, child: Deno.ChildProcess, log: string[]) {
    this.url = url;
    this.#child = child;
    this.#log = log;
  }

  /**
   * Starts `deno run servers/kms/main.ts --port 0 --db <db> --insecure-http` and waits until it listens.
   *
   * @param db SQLite file or postgres:// URL.
   * @param keys components and token (passed in the environment).
   * @param args more flags (flow B: `--kms-ca-cert`, `--kms-ca-key-block`).
   * @returns the running process.
   */
  static async start(db: string, keys: KmsKeys, args: string[] = []): Promise<KmsProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "--port", "0", "--db", db, "--insecure-http", ...args],
      env: {
        KMS_LMK_COMPONENTS: keys.lmk.join(","),
        KMS_HSM_MODE: "test",
        KMS_PK_COMPONENTS: keys.pk.join(","),
        KMS_MAK_COMPONENTS: keys.mak.join(","),
        KMS_TOKEN: keys.token,
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const log: string[] = [];
    const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let url: string | undefined;
    const deadline = Date.now() + 60_000;
    while (url === undefined) {
      const r = await Promise.race([
        lines.read(),
        new Promise<"timeout">((res) => setTimeout(() => res("timeout"), deadline - Date.now())),
      ]);
      if (r === "timeout" || r.done) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        await child.status;
        throw new Error(`KMS did not start: ${log.join("\n")}${buf}`);
      }
      buf += r.value;
      const m = /KMS listening on (\S+)/.exec(buf);
      if (m) url = m[1].replace(/\/$/, "");
    }
    log.push(buf);
    // Keep draining stderr so the server never blocks on a full pipe.
    (async () => {
      try {
        for (;;) {
          const r = await lines.read();
          if (r.done) return;
          log.push(r.value);
        }
      } catch { /* the process was killed: its pipe closed */ }
    })();
    return new KmsProcess(url, child, log);
  }

  /** The server's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** The server's resident set size in bytes, from /proc (Linux). */
  async rss(): Promise<number> {
    const status = await Deno.readTextFile(`/proc/${this.#child.pid}/status`);
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (!m) throw new Error(`no VmRSS in /proc/${this.#child.pid}/status`);
    return Number(m[1]) * 1024;
  }

  /** The server's stderr so far (JSON log lines). */
  get log(): string {
    return this.#log.join("");
  }

  /** kill -9: no shutdown, no flush, transactions in flight lost. */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already exited */ }
    await this.#child.status;
  }

  /** Graceful stop (SIGINT: the server shuts down and closes its store). */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGINT");
    } catch { /* already exited */ }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    await this.#child.status;
    clearTimeout(timer);
  }

  /**
   * One JSON call.
   *
   * @param method HTTP method.
   * @param path path under the server.
   * @param body JSON body, if any.
   * @param token the operator secret (the request is signed).
   * @returns status and parsed body.
   */
  async call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (token) {
      headers.authorization = await operatorAuthorization(
        token,
        method,
        `${this.url}${path}`,
        text,
      );
    }
    const r = await fetch(`${this.url}${path}`, { method, headers, body: text });
    return { status: r.status, body: await r.json() };
  }
}

/** A TK batch for KMS and what the test keeps to check the result. */
export interface Batch {
  request: TkBatchRequest;
  /** TK KCV per SN (what KMS must store). */
  tkKcv: Map<string, string>;
  /** Each terminal's clear TK, as its PIN pad holds it: opens the TMK sent under TK. */
  tk: Map<string, Uint8Array>;
}

function xor(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts[0].length);
  for (const p of parts) for (let i = 0; i < out.length; i++) out[i] ^= p[i];
  return out;
}

/**
 * Makes an order's batch as the MTMS sends it (S13-S14): per terminal a
 * fresh TK (odd parity) wrapped under PK as a TR-31 version B block with the
 * TK template's attributes, its KCV and SHA-256, and the retail MAC under
 * MAK over the canonical bytes. PK and MAK are formed from the components.
 *
 * @param keys the shared components (PK, MAK).
 * @param orderId the order.
 * @param n terminals.
 * @returns the request and the expected values.
 */
export async function makeBatch(keys: KmsKeys, orderId: string, n: number): Promise<Batch> {
  const core = await loadCore("wasm");
  const pk = xor(keys.pk.map((c) => fromHex(componentKey(c))));
  const mak = xor(keys.mak.map((c) => fromHex(componentKey(c))));
  const t = KEY_TEMPLATES.TK;
  const tks: BatchEntry[] = [];
  const tkKcv = new Map<string, string>();
  const tkMap = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const sn = `${orderId.replace(/[^A-Z0-9]/g, "")}${String(i).padStart(6, "0")}`;
    const tk = setOddParity(randomBytes(16));
    const tkBlock = await wrapKeyBlock(
      pk,
      {
        version: "B",
        keyUsage: t.keyUsage,
        algorithm: t.algorithm,
        modeOfUse: t.modeOfUse,
        keyVersion: "00",
        exportability: t.exportability,
        keyContext: "2",
      } as KeyBlockHeader,
      tk,
      { core },
    );
    const k = toHex(await kcv(tk, { method: "legacy", length: 3, core })).toUpperCase();
    const hash = createHash("sha256").update(tk).digest("hex").toUpperCase();
    tks.push({ sn, tkBlock, tkKcv: k, tkHash: hash });
    tkKcv.set(sn, k);
    tkMap.set(sn, tk);
  }
  const mac = toHex(
    await retailMac(mak, batchMacInput({ orderId, tks }), { padding: 2, core }),
  ).toUpperCase();
  return { request: { orderId, tks, mac }, tkKcv, tk: tkMap };
}

/**
 * The MAC line of a streamed batch as the MTMS makes it: retail MAC under
 * MAK (formed from the components) over SHA-256 of the canonical bytes,
 * hashed here with node:crypto from the same fields.
 *
 * @param keys the shared components (MAK).
 * @param orderId the order.
 * @param tks the TKs in the order they are sent.
 * @returns the MAC, uppercase hex.
 */
export async function streamMac(
  keys: KmsKeys,
  orderId: string,
  tks: readonly BatchEntry[],
): Promise<string> {
  const core = await loadCore("wasm");
  const mak = xor(keys.mak.map((c) => fromHex(componentKey(c))));
  const h = createHash("sha256").update(batchMacPrefix(orderId));
  for (const t of tks) h.update(batchMacLine(t));
  return toHex(await retailMac(mak, new Uint8Array(h.digest()), { padding: 2, core }))
    .toUpperCase();
}

/**
 * A streamed batch's body (`application/x-ndjson`): header, a line per TK, MAC line.
 *
 * @param orderId the order.
 * @param tks the TKs.
 * @param mac the MAC line's value ({@link streamMac}).
 * @param count the header's count (default the number of TKs).
 * @returns the lines, each ended by `\n`.
 */
export function streamLines(
  orderId: string,
  tks: readonly BatchEntry[],
  mac: string,
  count = tks.length,
): string[] {
  return [
    `${JSON.stringify({ orderId, tks: count })}\n`,
    ...tks.map((t) => `${JSON.stringify(t)}\n`),
    `${JSON.stringify({ mac })}\n`,
  ];
}

/**
 * Opens a TMK sent under TK (S16-S17 on the PIN pad) and returns its KCV.
 *
 * @param tk the terminal's clear TK.
 * @param tmkBlock the TR-31 block KMS sent.
 * @returns the TMK's KCV (3 bytes, uppercase hex).
 */
export async function openTmk(tk: Uint8Array, tmkBlock: string): Promise<string> {
  const core = await loadCore("wasm");
  const { key } = await unwrapKeyBlock(tk, tmkBlock, { core });
  return toHex(await kcv(key, { method: "legacy", length: 3, core })).toUpperCase();
}

/** Waits until `cond()` holds, polling every 20 ms, up to `ms`. */
export async function waitFor(
  what: string,
  cond: () => Promise<boolean>,
  ms = 60_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
