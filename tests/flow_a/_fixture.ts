/**
 * A flow A world for tests: CA, KMS and MTMS (in-process handlers, or on
 * real sockets), an operator terminal with its card, and POS terminals.
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import type { Exchange, Transport } from "../../src/protocol/mod.ts";
import { type SocketTls, socketTls } from "../../demo/tls.ts";
import { memoryLogger } from "../../servers/_lib/log.ts";
import { operatorAuthorization } from "../_helpers.ts";
import { createKms, type KmsApp, type KmsOptions, startKms } from "../../servers/kms/main.ts";
import { createMtms, type MtmsApp, startMtms } from "../../servers/mtms/main.ts";
import { OperatorCard } from "../../devices/operator_card.ts";
import { OperatorTerminal } from "../../devices/operator_terminal.ts";
import { PinPad } from "../../devices/pin_pad.ts";
import { PosTerminal } from "../../devices/pos_terminal.ts";
import type { RsaPublicKeyBytes } from "../../servers/mtms/_keys.ts";
import { type DemoPki, makeDemoPki, randomComponents } from "../../demo/setup.ts";
import type { Hsm } from "../../src/hsm/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { type HsmFactory, openHsm } from "../../servers/_lib/hsm.ts";
import { openStore } from "../../servers/_lib/store.ts";
import type { ServerMetrics } from "../../servers/_lib/metrics.ts";

/** Wrappers around a server's store and HSMs (fault injection). */
export interface Instrument {
  store?: (store: Store) => Store;
  hsm?: (hsm: Hsm) => Hsm;
}

/** A server's store and HSM factories that wrap what they open with `i`. */
function instrumented(i: Instrument | undefined) {
  const { hsm, store } = i ?? {};
  return {
    hsmFactory: hsm ? async (o: Parameters<typeof openHsm>[0]) => hsm(await openHsm(o)) : undefined,
    storeFactory: store ? async (db: string) => store(await openStore(db)) : undefined,
  };
}

/** How the parts talk: handlers called directly, or HTTP over loopback sockets. */
export type Mode = "in-process" | "socket";

/** Shared, slow-to-make PKI (RSA key generation), one per core. */
const pkis = new Map<string, Promise<DemoPki>>();
export function pkiFor(core: CryptoCore): Promise<DemoPki> {
  if (!pkis.has(core.name)) pkis.set(core.name, makeDemoPki(core));
  return pkis.get(core.name)!;
}

/** A decoded JSON body, loosely typed for assertions. */
// deno-lint-ignore no-explicit-any
export type Json = any;

export interface World {
  mode: Mode;
  core: CryptoCore;
  pki: DemoPki;
  token: string;
  kmsUrl: string;
  mtmsUrl: string;
  /** Device transport (reaches both servers). */
  transport: Transport;
  operator: OperatorTerminal;
  card: OperatorCard;
  mtmsCertificate: string;
  components: Record<"kmsLmk" | "mtmsLmk" | "pk" | "mak", string[]>;
  dir: string;
  logs: { kms: string[]; mtms: string[] };
  /**
   * In-process only: while true (or true for a request), the MTMS's calls to
   * the KMS get a 503 (the KMS is "down").
   */
  kmsDown: boolean | ((r: Request) => boolean);
  /** Every call the MTMS made to the KMS (request and answer bodies). */
  mtmsToKms: Exchange[];
  /** A POS terminal with a fresh PIN pad. */
  pos(sn: string): Promise<PosTerminal>;
  /** S1-S13 for one POS: authenticate, generate and export TK, upload. */
  collect(pos: PosTerminal, orderId: string): Promise<void>;
  /** Raw JSON call with the operator token (or none); on sockets, S14 with the MTMS's certificate. */
  call(
    method: string,
    url: string,
    body?: unknown,
    token?: string | null,
  ): Promise<{ status: number; body: Json }>;
  /** Socket mode: the TLS of both servers, the MTMS's client certificate, the KMS's CRLs. */
  tls?: SocketTls;
  /** Restarts the KMS on the same database (same components). */
  restartKms(): Promise<void>;
  /** Restarts the MTMS on the same database (same components; a new transport key). */
  restartMtms(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link makeWorld} for the hardening proofs. */
export interface WorldOptions {
  /** Wrappers around each server's store and HSM (fault injection). */
  instrument?: { kms?: Instrument; mtms?: Instrument };
  /** In-process only: wraps each server's handler (what devices and the MTMS call). */
  around?: (server: "kms" | "mtms", handler: Transport) => Transport;
  /** Database locations (default: SQLite files in the world's directory). */
  db?: { kms: string; mtms: string };
  /** The operator secret (default "test-operator-token"). */
  token?: string;
  /** Orders of more TKs go from MTMS to KMS streamed (default the MTMS's). */
  streamAbove?: number;
  /**
   * The KMS's hold-off of SNs and sources whose device requests fail unproved
   * (default: 100 free failures, as the functional tests send many on purpose).
   */
  deviceFailureLimits?: KmsOptions["deviceFailureLimits"];
  /** The KMS's nonce lifetime (default its own). */
  nonceTtlMs?: number;
  /** Where the KMS counts events (default its own metrics). */
  kmsMetrics?: ServerMetrics;
  /** Opens both servers' HSMs (e.g. observed ones); default the software HSM. */
  hsmFactory?: HsmFactory;
}

export async function makeWorld(
  core: CryptoCore,
  mode: Mode,
  options: WorldOptions = {},
): Promise<World> {
  const pki = await pkiFor(core);
  const dir = await Deno.makeTempDir({ prefix: "flowa-test-" });
  const token = options.token ?? "test-operator-token";
  const components = {
    kmsLmk: await randomComponents(2, 32, core),
    mtmsLmk: await randomComponents(2, 32, core),
    pk: await randomComponents(2, 24, core),
    mak: await randomComponents(2, 16, core),
  };
  const kmsLog = memoryLogger();
  const mtmsLog = memoryLogger();
  const issueTransportCertificate = (publicKey: RsaPublicKeyBytes) =>
    pki.issueServer("MTMS transport", publicKey);
  const kmsOptions = {
    db: options.db?.kms ?? `${dir}/kms.db`,
    lmkComponents: components.kmsLmk,
    hsmMode: "test" as const,
    pkComponents: components.pk,
    makComponents: components.mak,
    token,
    log: kmsLog.logger,
    core,
    deviceFailureLimits: options.deviceFailureLimits ?? { freeFailures: 100 },
    nonceTtlMs: options.nonceTtlMs,
    metrics: options.kmsMetrics,
    ...instrumented(options.instrument?.kms),
    ...(options.hsmFactory ? { hsmFactory: options.hsmFactory } : {}),
  };
  let kmsApp: KmsApp | undefined;
  let kmsStop: () => Promise<void>;
  let kmsUrl: string;
  let mtmsApp: MtmsApp | undefined;
  let mtmsStop: () => Promise<void>;
  let mtmsUrl: string;
  let transport: Transport;
  let tls: SocketTls | undefined;
  let mtmsOptions: Parameters<typeof createMtms>[0] | undefined;
  // The KMS handler is looked up on each call, so a restart swaps it.
  const around = options.around ?? ((_: "kms" | "mtms", h: Transport) => h);
  const kmsHandler: Transport = around("kms", (r) => kmsApp!.handler(r));
  const mtmsHandler: Transport = around("mtms", (r) => mtmsApp!.handler(r));
  if (mode === "in-process") {
    kmsUrl = "http://kms.test";
    mtmsUrl = "http://mtms.test";
    kmsApp = await createKms(kmsOptions);
    kmsStop = () => kmsApp!.close();
    mtmsOptions = {
      ...kmsOptions,
      metrics: undefined,
      db: options.db?.mtms ?? `${dir}/mtms.db`,
      lmkComponents: components.mtmsLmk,
      log: mtmsLog.logger,
      ...instrumented(options.instrument?.mtms),
      ...(options.hsmFactory ? { hsmFactory: options.hsmFactory } : {}),
      kmsUrl,
      kmsTransport: (r) =>
        (typeof world.kmsDown === "function" ? world.kmsDown(r) : world.kmsDown)
          ? Promise.resolve(
            new Response(JSON.stringify({ error: { code: "unavailable", message: "KMS down" } }), {
              status: 503,
              headers: { "content-type": "application/json" },
            }),
          )
          : kmsHandler(r),
      observe: (x) => world.mtmsToKms.push(x),
      streamAbove: options.streamAbove,
      caRoot: pki.rootPem,
      issueTransportCertificate,
    };
    mtmsApp = await createMtms(mtmsOptions);
    mtmsStop = () => mtmsApp!.close();
    transport = (r) => new URL(r.url).host === "kms.test" ? kmsHandler(r) : mtmsHandler(r);
  } else {
    // Over TLS with certificates from the CA; S14 over mutual TLS with the MTMS's certificate.
    tls = await socketTls(pki, dir);
    const k = await startKms({ ...kmsOptions, port: 0, tls: tls.kmsServer });
    kmsUrl = tls.url(k);
    kmsStop = () => k.shutdown();
    const m = await startMtms({
      ...kmsOptions,
      metrics: undefined,
      port: 0,
      db: options.db?.mtms ?? `${dir}/mtms.db`,
      lmkComponents: components.mtmsLmk,
      log: mtmsLog.logger,
      kmsUrl,
      kmsTransport: tls.mtmsToKms.transport,
      observe: (x) => world.mtmsToKms.push(x),
      streamAbove: options.streamAbove,
      caRoot: pki.rootPem,
      issueTransportCertificate,
      tls: tls.mtmsServer,
    });
    mtmsUrl = tls.url(m);
    mtmsStop = () => m.shutdown();
    transport = tls.devices.transport;
  }
  const op = await pki.issueOperator("Operator 0042");
  const card = new OperatorCard(op.certificate, op.privateKey, { core });
  const operator = new OperatorTerminal({ transport, mtmsUrl });
  operator.insertCard(card);
  const mtmsCertificate = await operator.mtmsCertificate();
  const world: World = {
    mode,
    core,
    pki,
    token,
    kmsUrl,
    mtmsUrl,
    transport,
    operator,
    card,
    mtmsCertificate,
    components,
    dir,
    logs: { kms: kmsLog.lines, mtms: mtmsLog.lines },
    kmsDown: false,
    mtmsToKms: [],
    tls,
    async pos(sn) {
      const pinPad = await PinPad.create({ root: pki.rootPem, core });
      return new PosTerminal({ sn, pinPad, transport, kmsUrl });
    },
    async collect(pos, orderId) {
      const challenge = pos.startOperatorAuth();
      const answer = await operator.answerChallenge(challenge);
      await pos.finishOperatorAuth({
        certificate: answer.certificate,
        cryptogram: answer.cryptogram,
      });
      const exp = await pos.generateAndExportTk(mtmsCertificate);
      await operator.uploadTk(orderId, pos.sn, exp);
    },
    async call(method, url, body, tok = token) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers["content-type"] = "application/json";
      const text = body === undefined
        ? undefined
        : typeof body === "string"
        ? body
        : JSON.stringify(body);
      if (tok) headers["authorization"] = await operatorAuthorization(tok, method, url, text);
      // On sockets, S14 goes with the MTMS's client certificate, as the MTMS sends it.
      const via = tls && url.startsWith(`${kmsUrl}/v1/tk-batches`)
        ? tls.mtmsToKms.transport
        : transport;
      const res = await via(
        new Request(url, {
          method,
          headers,
          body: text,
        }),
      );
      return { status: res.status, body: await res.json() };
    },
    async restartKms() {
      if (mode !== "in-process") throw new Error("restartKms is for in-process worlds");
      await kmsApp!.close();
      kmsApp = await createKms(kmsOptions);
    },
    async restartMtms() {
      if (mode !== "in-process") throw new Error("restartMtms is for in-process worlds");
      await mtmsApp!.close();
      mtmsApp = await createMtms(mtmsOptions!);
    },
    async close() {
      await mtmsStop();
      await kmsStop();
      tls?.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
  return world;
}
