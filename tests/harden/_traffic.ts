/**
 * Real traffic for the hardening proofs: a flow A world (KMS and MTMS,
 * `tests/flow_a/_fixture.ts`) and a flow B world (`tests/flow_b/_world.ts`)
 * driven through their happy paths by the real devices, with every request
 * recorded (method, URL, headers, body) on the way. The fuzzers mutate these
 * valid messages; the replay proof sends them again.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import type { Transport } from "../../src/protocol/mod.ts";
import { OperatorTerminal } from "../../devices/operator_terminal.ts";
import { PinPad } from "../../devices/pin_pad.ts";
import { PosTerminal } from "../../devices/pos_terminal.ts";
import {
  makeWorld as makeFlowAWorld,
  type World as FlowAWorld,
  type WorldOptions as FlowAOptions,
} from "../flow_a/_fixture.ts";
import { makeWorld as makeFlowBWorld, type World as FlowBWorld } from "../flow_b/_world.ts";
import { operatorAuthorization } from "../_helpers.ts";
import { type OperatorKeys, recordOperations } from "./_traffic_ops.ts";

/** One recorded request. */
export interface Recorded {
  /** Which server: "kms" (flow A), "mtms", "kmsB" (flow B). */
  server: Server;
  method: string;
  url: string;
  headers: [string, string][];
  body: string | null;
  /** The status it got when it was recorded. */
  status: number;
}

/** The servers under test. */
export type Server = "kms" | "mtms" | "kmsB";

/** A transport that records every request and its status. */
export function recording(
  inner: Transport,
  serverOf: (url: URL) => Server,
  out: Recorded[],
): Transport {
  return async (req) => {
    const body = req.body ? await req.clone().text() : null;
    const res = await inner(req);
    out.push({
      server: serverOf(new URL(req.url)),
      method: req.method,
      url: req.url,
      headers: [...req.headers],
      body,
      status: res.status,
    });
    return res;
  };
}

/** Both worlds, their handlers and the requests of one full run of each flow. */
export interface Traffic {
  a: FlowAWorld;
  b: FlowBWorld;
  /** Handler of each server. */
  handlers: Record<Server, Transport>;
  /** Base URL of each server (what the recorded URLs start with). */
  urls: Record<Server, string>;
  recorded: Recorded[];
  /** With `dualControl`: the keys of the operators enrolled at the flow A KMS. */
  operators: OperatorKeys;
  close(): Promise<void>;
}

/**
 * Builds both worlds in process and records a full run: an order of
 * `terminals` SNs through S1-S17 (flow A), and `terminals` flow B terminals.
 *
 * @param core the crypto core.
 * @param terminals how many terminals per flow.
 * @param prefix SN prefix (distinct per call keeps SNs unique).
 * @param options `flowBDb`: a database file for the flow B world (default in memory);
 *   `flowA`, `flowB`: more options of each world (databases, instruments, handler wrappers);
 *   `operatorKeys`: after flow A, the dual-control traffic of `_traffic_ops.ts` (operators
 *   enrolled, PK and MAK rotated, a transfer under the new versions, a KMS CA installed), the
 *   map filled with the operators' keys as each is enrolled.
 * @returns the traffic.
 */
export async function recordTraffic(
  core: CryptoCore,
  terminals = 2,
  prefix = "HD",
  options: {
    flowBDb?: string;
    operatorKeys?: OperatorKeys;
    flowA?: FlowAOptions;
    flowB?: Omit<NonNullable<Parameters<typeof makeFlowBWorld>[1]>, "dbPath">;
  } = {},
): Promise<Traffic> {
  const a = await makeFlowAWorld(core, "in-process", options.flowA);
  const b = await makeFlowBWorld(core, { ...options.flowB, dbPath: options.flowBDb });
  const recorded: Recorded[] = [];
  const urls: Record<Server, string> = { kms: a.kmsUrl, mtms: a.mtmsUrl, kmsB: "http://kms.test" };
  const serverOf = (u: URL): Server =>
    u.origin === new URL(a.kmsUrl).origin
      ? "kms"
      : u.origin === new URL(a.mtmsUrl).origin
      ? "mtms"
      : "kmsB";
  const ta = recording(a.transport, serverOf, recorded);
  const tb = recording(b.handler, () => "kmsB", recorded);
  const call = async (method: string, url: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (token) headers["authorization"] = await operatorAuthorization(token, method, url, text);
    const r = await ta(new Request(url, { method, headers, body: text }));
    return { status: r.status, body: await r.json() };
  };
  // Flow A: order, S1-S13 per terminal, transfer, issuance, S16-S17.
  const orderId = `PO-${prefix}-1`;
  const sns = Array.from(
    { length: terminals },
    (_, i) => `${prefix}A${String(i).padStart(6, "0")}`,
  );
  const o = sns.length === 0
    ? { status: 201, body: null }
    : await call("POST", `${a.mtmsUrl}/v1/orders`, { orderId, serialNumbers: sns }, a.token);
  if (o.status !== 201) throw new Error(`order: ${o.status} ${JSON.stringify(o.body)}`);
  const operator = new OperatorTerminal({ transport: ta, mtmsUrl: a.mtmsUrl });
  operator.insertCard(a.card);
  const mtmsCertificate = await operator.mtmsCertificate();
  const poss: PosTerminal[] = [];
  for (const sn of sns) {
    const pinPad = await PinPad.create({ root: a.pki.rootPem, core });
    const pos = new PosTerminal({ sn, pinPad, transport: ta, kmsUrl: a.kmsUrl });
    const challenge = pos.startOperatorAuth();
    const answer = await operator.answerChallenge(challenge);
    await pos.finishOperatorAuth({
      certificate: answer.certificate,
      cryptogram: answer.cryptogram,
    });
    const exp = await pos.generateAndExportTk(mtmsCertificate);
    await operator.uploadTk(orderId, sn, exp);
    poss.push(pos);
  }
  const steps = [
    [`${a.mtmsUrl}/v1/orders/${orderId}/transfer`, "transfer"],
    [`${a.kmsUrl}/v1/orders/${orderId}/tmks`, "issuance"],
  ];
  for (const [u, what] of sns.length === 0 ? [] : steps) {
    const r = await call("POST", u, undefined, a.token);
    if (r.status !== 200) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  for (const pos of poss) {
    const d = await pos.downloadTmk();
    if (d.state !== "delivered") throw new Error(`flow A download: ${JSON.stringify(d)}`);
    await call("GET", `${a.kmsUrl}/v1/terminals/${pos.sn}`, undefined, a.token);
  }
  if (sns.length > 0) await call("GET", `${a.mtmsUrl}/v1/orders/${orderId}`, undefined, a.token);
  const operators: OperatorKeys = options.operatorKeys ?? new Map();
  if (options.operatorKeys) {
    await recordOperations(core, a, ta, prefix, operators, async (order, sn) => {
      const pinPad = await PinPad.create({ root: a.pki.rootPem, core });
      const pos = new PosTerminal({ sn, pinPad, transport: ta, kmsUrl: a.kmsUrl });
      const answer = await operator.answerChallenge(pos.startOperatorAuth());
      await pos.finishOperatorAuth({
        certificate: answer.certificate,
        cryptogram: answer.cryptogram,
      });
      await operator.uploadTk(order, sn, await pos.generateAndExportTk(mtmsCertificate));
    }, (m, u, body) => call(m, u, body, a.token));
  }
  // Flow B: S1-S7 per terminal, then the operator's status and unlock.
  for (let i = 0; i < terminals; i++) {
    const sn = `${prefix}B${String(i).padStart(6, "0")}`;
    const r = await b.terminal(sn, { transport: tb }).run();
    if (r.state !== "delivered") throw new Error(`flow B: ${JSON.stringify(r)}`);
    for (const [m, p] of [["GET", `/v1/terminals/${sn}`], ["POST", `/v1/terminals/${sn}/unlock`]]) {
      const u = `${urls.kmsB}${p}`;
      await tb(
        new Request(u, {
          method: m,
          headers: { authorization: await operatorAuthorization(b.token, m, u, undefined) },
        }),
      );
    }
  }
  const handlers: Record<Server, Transport> = {
    kms: (r) => a.transport(r),
    mtms: (r) => a.transport(r),
    kmsB: b.handler,
  };
  return {
    a,
    b,
    handlers,
    urls,
    recorded,
    operators,
    close: async () => {
      await a.close();
      await b.close();
    },
  };
}
