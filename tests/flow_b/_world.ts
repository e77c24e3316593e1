/**
 * A flow B world for the tests: a CA root and KMS CA (src/pki), a software
 * HSM with an LMK from three components (src/hsm), the SQLite store in
 * memory, the flow B service behind the KMS handler, a clock the test
 * moves, and PIN pads flashed with the KMS root. Everything is the real
 * component; only the clock is the test's.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import {
  generateRsaKeyPair,
  kcv,
  pkcs1v15Sign,
  type RsaPrivateKey,
  toHex,
} from "../../src/crypto/mod.ts";
import { type Hsm, KEY_TEMPLATES, type LmkComponent, SoftwareHsm } from "../../src/hsm/mod.ts";
import { type CrlSet, issueCertificate } from "../../src/pki/mod.ts";
import type { FlowBPolicy, HsmKeyRequest, Transport } from "../../src/protocol/mod.ts";
import { openPostgresStore, openSqliteStore, type Store } from "../../src/store/mod.ts";
import {
  createHandler,
  memoryLogger,
  OPERATOR_NONCE_SCOPE,
  type Running,
} from "../../servers/_lib/mod.ts";
import { listen } from "../../servers/_lib/listener.ts";
import { tlsUnder } from "../../demo/tls.ts";
import { FlowBService } from "../../servers/kms/flow_b_service.ts";
import { withFlowB } from "../../servers/kms/flow_b_routes.ts";
import { kmsCaCertifier } from "../../servers/kms/ca_certifier.ts";
import { deviceVerifier } from "../../servers/kms/device_verifier.ts";
import { tlsClient } from "../../servers/_lib/tls.ts";
import { type GuardPolicy, RefusalGuard } from "../../servers/kms/flow_b_guard.ts";
import { hsmFlowBKeyOps } from "../../servers/kms/flow_b_keys.ts";
import type { KeyPairPool } from "../../servers/kms/key_pool.ts";
import { PinPadFlowB } from "../../devices/pin_pad_flow_b.ts";
import { FlowBTerminal } from "../../devices/pos_flow_b.ts";
import { operatorAuthorization, randomBytes } from "../_helpers.ts";

/** A CA: its key and certificate. */
export interface Ca {
  key: RsaPrivateKey;
  certificate: string;
}

/** A root and a KMS CA under it. */
export interface Pki {
  root: Ca;
  kmsCa: Ca;
}

/** Start of every test clock: 2026-11-23T12:00:00Z. */
export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

/**
 * Makes a root and a KMS CA (two RSA-2048 keys).
 *
 * @param core the crypto core.
 * @param name distinguishes a fake KMS's PKI from the real one.
 * @returns the two CAs.
 */
export async function makePki(core: CryptoCore, name = "TMK"): Promise<Pki> {
  const rootKey = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
  const caKey = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
  const notBefore = new Date(T0 - 365 * 86_400_000);
  const notAfter = new Date(T0 + 5 * 365 * 86_400_000);
  const root = await issueCertificate({
    profile: "root-ca",
    subject: { commonName: `${name} Root CA` },
    publicKey: rootKey,
    notBefore,
    notAfter,
    issuer: { privateKey: rootKey },
  }, { core });
  const ca = await issueCertificate({
    profile: "kms-ca",
    subject: { commonName: `${name} KMS CA` },
    publicKey: caKey,
    notBefore,
    notAfter,
    issuer: { privateKey: rootKey, certificate: root },
  }, { core });
  return { root: { key: rootKey, certificate: root }, kmsCa: { key: caKey, certificate: ca } };
}

/**
 * A PIN pad's device credential for `sn`: a new RSA-2048 key and its
 * `pin-pad` certificate from `issuer` (valid from a day before {@link T0}
 * for a year, or around `at`).
 *
 * @param core the crypto core.
 * @param issuer the CA that issues it (a device root).
 * @param sn the serial number it names.
 * @param at the time it must be valid at (default {@link T0}).
 * @returns the key and certificate.
 */
export async function deviceCredential(
  core: CryptoCore,
  issuer: Ca,
  sn: string,
  at = T0,
): Promise<{ privateKey: RsaPrivateKey; certificate: string }> {
  const key = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
  const certificate = await issueCertificate({
    profile: "pin-pad",
    subject: { commonName: `PIN pad ${sn}`, serialNumber: sn },
    publicKey: key,
    notBefore: new Date(Math.floor(at / 1000) * 1000 - 86_400_000),
    notAfter: new Date(Math.floor(at / 1000) * 1000 + 365 * 86_400_000),
    issuer: { privateKey: issuer.key, certificate: issuer.certificate },
  }, { core });
  return { privateKey: key, certificate };
}

/** A mutable clock shared by the KMS and the PIN pads. */
export interface Clock {
  ms(): number;
  date(): Date;
  advance(ms: number): void;
}

/**
 * A clock starting at {@link T0}.
 *
 * @returns the clock.
 */
export function testClock(): Clock {
  let t = T0;
  return { ms: () => t, date: () => new Date(t), advance: (d) => void (t += d) };
}

/** The KMS side of a world. */
export interface World {
  core: CryptoCore;
  pki: Pki;
  clock: Clock;
  store: Store;
  hsm: SoftwareHsm;
  service: FlowBService;
  handler: Transport;
  token: string;
  /** Every line the KMS logged. */
  logLines: string[];
  /** Clear LMK components (for the scans: they must appear nowhere). */
  lmkComponents: Uint8Array[];
  /** How `handler` reaches the KMS. */
  via: Via;
  /** A PIN pad flashed with this world's root and KMS CA (or others), with a device credential. */
  newPad(root?: string, kmsCa?: string): PinPadFlowB;
  /**
   * A PIN pad with a device credential for `sn` (a `pin-pad` certificate from
   * `issuer`, default this world's root; one device key per world, to save key generation).
   */
  devicePad(sn: string, issuer?: Ca): Promise<PinPadFlowB>;
  /** A fresh S1 request for `sn`, signed with this world's device key (certificate for `sn`). */
  s1(sn: string): Promise<HsmKeyRequest>;
  /** `{ deviceCertificate, signature }` over `input` by this world's device key for `sn`. */
  sign(sn: string, input: Uint8Array): Promise<{ deviceCertificate: string; signature: string }>;
  /** The refusal guard of the service (unauthenticated callers' backoff). */
  guard: RefusalGuard;
  /** A POS terminal with a PIN pad, over `transport` (default: the handler). */
  terminal(sn: string, options?: { pad?: PinPadFlowB; transport?: Transport }): FlowBTerminal;
  close(): Promise<void>;
}

/**
 * How the tests reach the KMS: its handler called with `new Request`, `fetch`
 * over a plain socket, or `fetch` over HTTPS (the KMS's listener with the TLS
 * fixture's `localhost` certificate, the client trusting only its root).
 */
export type Via = "handler" | "socket" | "tls";

/** Both ways, for tests that run every scenario twice. */
export const VIAS: readonly Via[] = ["handler", "socket"];

/** Base URL the in-process tests use (the handler ignores the host). */
export const KMS_URL = "http://kms.test";

/**
 * Builds a world.
 *
 * @param core the crypto core.
 * @param options the PKI to use (made if absent), the flow B policy, a database file, and
 *   whether `handler` calls the KMS in process or over a socket.
 * @returns the world.
 */
export async function makeWorld(
  core: CryptoCore,
  options: {
    pki?: Pki;
    policy?: Partial<FlowBPolicy>;
    dbPath?: string;
    via?: Via;
    /** Unused: every world checks device signatures (S1, S3, S5) against its root. */
    devices?: boolean;
    /**
     * The refusal guard's policy (default: 1000 free refusals, so that suites
     * sending many refusals from one source test the refusals, not the backoff).
     */
    guard?: Partial<GuardPolicy>;
    /** A `postgres://` URL (with `?schema=`) instead of SQLite. */
    dbUrl?: string;
    /** Wrappers around the store and the HSM the service uses (fault injection). */
    instrument?: { store?: (store: Store) => Store; hsm?: (hsm: Hsm) => Hsm };
    /** The CRLs in force for device certificates (default: none checked). */
    crls?: () => CrlSet;
    /** Wraps the handler (what terminals call). */
    around?: (handler: Transport) => Transport;
    /** The operator secret (default: random). */
    token?: string;
    /**
     * S1's key-pair pool, made on the world's HSM and LMK components (default:
     * none, inline); its workers also sign S1's certificates and recover S3's AUK.
     */
    keyPool?: (hsm: SoftwareHsm, components: LmkComponent[], store: Store) => KeyPairPool;
  } = {},
): Promise<World> {
  const pki = options.pki ?? await makePki(core);
  const clock = testClock();
  const lmkComponents = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const components = [];
  for (const c of lmkComponents) {
    components.push({
      custodian: `custodian-${components.length + 1}`,
      key: toHex(c),
      kcv: toHex(await kcv(c, { method: "cmac", algorithm: "aes", length: 5, core })),
    });
  }
  const store = options.dbUrl
    ? await openPostgresStore(options.dbUrl)
    : await openSqliteStore(options.dbPath ?? ":memory:");
  const hsm = await SoftwareHsm.open({
    mode: "test",
    lmkAlgorithm: "aes",
    core,
    audit: async (e) => {
      await store.appendAudit({ ...e, at: clock.date(), actor: "hsm" });
    },
  }, { components });
  const served = {
    hsm: options.instrument?.hsm ? options.instrument.hsm(hsm) : hsm,
    store: options.instrument?.store ? options.instrument.store(store) : store,
  };
  const keyPool = options.keyPool?.(hsm, components, store);
  const service = new FlowBService({
    keys: hsmFlowBKeyOps(served.hsm, core, keyPool),
    certifier: kmsCaCertifier({
      hsm: keyPool?.rsaOps(served.hsm) ?? served.hsm,
      privateKeyBlock: (await hsm.importRsaPrivateKey(pki.kmsCa.key, KEY_TEMPLATES.RSA_CA))
        .privateKeyBlock,
      certificate: pki.kmsCa.certificate,
      now: clock.date,
      core,
    }),
    devices: deviceVerifier([pki.root.certificate], core, clock.date, options.crls),
    store: served.store,
    policy: options.policy ?? { challengeTtlMs: 30_000, sessionTtlMs: 60_000, maxFailures: 3 },
    now: clock.date,
    guard: new RefusalGuard({
      policy: options.guard ?? { freeFailures: 1_000 },
      now: clock.ms,
    }),
  });
  const token = options.token ?? toHex(randomBytes(16));
  const { logger, lines } = memoryLogger();
  const direct = createHandler({
    title: "KMS (flow B test)",
    version: "test",
    routes: withFlowB([], service),
    operatorToken: token,
    rememberOperatorNonce: (nonce, expiresAt) =>
      served.store.rememberNonce(OPERATOR_NONCE_SCOPE, nonce, expiresAt),
    log: logger,
  });
  let server: Running | undefined;
  let client: Deno.HttpClient | undefined;
  let handler: Transport = options.around ? options.around(direct) : direct;
  let tls: Awaited<ReturnType<typeof tlsUnder>> | undefined;
  if (options.via === "tls") {
    const fx = await import("../servers/_tls_fixture.ts");
    const s = await listen(direct, {
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: fx.server.cert, key: fx.server.key },
    });
    server = s;
    const c = tlsClient({ caCerts: [fx.root] });
    client = c;
    handler = (req) => {
      const u = new URL(req.url);
      return fetch(new Request(`https://localhost:${s.port}${u.pathname}${u.search}`, req), {
        client: c,
      });
    };
  }
  if (options.via === "socket") {
    // Over TLS: a server certificate from the world's root, which the terminals trust alone.
    const t = tls = await tlsUnder(pki.root, core);
    const s = server = await listen(direct, { tls: t.server });
    handler = (req) => {
      const u = new URL(req.url);
      return t.transport(new Request(`https://localhost:${s.port}${u.pathname}${u.search}`, req));
    };
  }
  // One device key per world (to save key generation); each PIN pad gets its certificate for
  // its SN from the manufacturer at first use.
  const deviceKey = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
  const deviceCert = (sn: string, issuer: Ca) =>
    issueCertificate({
      profile: "pin-pad",
      subject: { commonName: `PIN pad ${sn}`, serialNumber: sn },
      publicKey: deviceKey,
      notBefore: new Date(T0 - 86_400_000),
      notAfter: new Date(T0 + 365 * 86_400_000),
      issuer: { privateKey: issuer.key, certificate: issuer.certificate },
    }, { core });
  const newPad = (root = pki.root.certificate, kmsCa = pki.kmsCa.certificate) =>
    new PinPadFlowB({
      kmsRoot: root,
      kmsCa,
      core,
      storageKey: randomBytes(24),
      now: clock.ms,
      device: async (sn) => ({
        privateKey: deviceKey,
        certificate: await deviceCert(sn, pki.root),
      }),
    });
  const devicePad = async (sn: string, issuer: Ca = pki.root) =>
    new PinPadFlowB({
      kmsRoot: pki.root.certificate,
      kmsCa: pki.kmsCa.certificate,
      core,
      storageKey: randomBytes(24),
      now: clock.ms,
      device: { privateKey: deviceKey, certificate: await deviceCert(sn, issuer) },
    });
  return {
    core,
    pki,
    clock,
    devicePad,
    store,
    hsm,
    service,
    handler,
    via: options.via ?? "handler",
    token,
    logLines: lines,
    lmkComponents,
    newPad,
    s1: (sn) => newPad().hsmKeyRequest(sn),
    sign: async (sn, input) => ({
      deviceCertificate: await deviceCert(sn, pki.root),
      signature: toHex(await pkcs1v15Sign(deviceKey, input, { core })),
    }),
    guard: service.guard,
    terminal: (sn, o = {}) =>
      new FlowBTerminal({
        sn,
        pinPad: o.pad ?? newPad(),
        transport: o.transport ?? handler,
        kmsUrl: KMS_URL,
      }),
    close: async () => {
      client?.close();
      await server?.shutdown();
      tls?.close();
      await store.close();
    },
  };
}

/**
 * Calls the handler with JSON and returns status and parsed body.
 *
 * @param handler the KMS handler.
 * @param method HTTP method.
 * @param path path under {@link KMS_URL}.
 * @param body JSON body or undefined.
 * @param token the operator secret (the request is signed).
 * @returns status and body.
 */
export async function call(
  handler: Transport,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<
  { status: number; body: Record<string, unknown> & { error?: { code: string; message: string } } }
> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  const text = body === undefined ? undefined : JSON.stringify(body);
  if (token) {
    headers["authorization"] = await operatorAuthorization(
      token,
      method,
      `${KMS_URL}${path}`,
      text,
    );
  }
  const r = await handler(new Request(`${KMS_URL}${path}`, { method, headers, body: text }));
  return { status: r.status, body: await r.json() };
}
