/**
 * The dual-control traffic of the hardening proofs (part of `_traffic.ts`
 * when asked for): at a flow A KMS, operators are enrolled (sam, supervisor;
 * cora and carl, custodians: each held and approved by sam), cora asks to
 * rotate PK and carl approves, carl asks to rotate MAK and cora approves; an
 * order collected meanwhile is transferred, so the MTMS fetches both new
 * versions over S14; cora asks to install a new KMS CA (`POST /v1/kms-ca`)
 * and carl approves. Every request goes through the real operator gate,
 * signed with each operator's Ed25519 key.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { generateRsaKeyPair, publicKeyOf } from "../../src/crypto/mod.ts";
import { KEY_TEMPLATES, SoftwareHsm } from "../../src/hsm/mod.ts";
import type { Transport } from "../../src/protocol/mod.ts";
import {
  generateOperatorKey,
  importOperatorKey,
  signOperatorRequestWithKey,
} from "../../src/protocol/operator_key.ts";
import { parseComponents } from "../../servers/_lib/hsm.ts";
import type { World } from "../flow_a/_fixture.ts";

/** The operators enrolled at the KMS: id, role, and who approves the enrolment. */
export const OPERATORS = [
  ["sam", "supervisor", null],
  ["cora", "custodian", "sam"],
  ["carl", "custodian", "sam"],
] as const;

/** Each enrolled operator's signing key, by operator id. */
export type OperatorKeys = Map<string, CryptoKey>;

const enc = new TextEncoder();

/**
 * Signs a request as an enrolled operator.
 *
 * @param keys the operators' keys.
 * @param who the operator id.
 * @returns the `Authorization` header.
 */
export async function signAs(
  keys: OperatorKeys,
  who: string,
  method: string,
  url: string,
  body: string | undefined,
): Promise<string> {
  const key = keys.get(who);
  if (!key) throw new Error(`no key for operator ${who}`);
  return await signOperatorRequestWithKey(key, who, {
    method,
    url,
    body: enc.encode(body ?? ""),
  });
}

/**
 * A new KMS CA for the world: an RSA-2048 key, its certificate under the
 * world's root, the key as a block under the KMS's LMK (as
 * `deno task kms --import-ca-key` writes it).
 *
 * @returns the body of `POST /v1/kms-ca`.
 */
export async function newKmsCa(
  core: CryptoCore,
  a: World,
): Promise<{ certificate: string; keyBlock: string }> {
  const key = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
  const certificate = await a.pki.issueKmsCa(publicKeyOf(key));
  const hsm = await SoftwareHsm.open({ mode: "test", core }, {
    components: parseComponents(a.components.kmsLmk, "LMK", { custodians: true }),
  });
  const keyBlock = (await hsm.importRsaPrivateKey(key, KEY_TEMPLATES.RSA_CA)).privateKeyBlock;
  return { certificate, keyBlock };
}

/**
 * Runs the dual-control traffic through `ta` (a recording transport).
 *
 * @param core the crypto core.
 * @param a the flow A world (its bootstrap administrator acts alone until sam is enrolled).
 * @param ta the transport to send through.
 * @param prefix SN prefix.
 * @param keys filled with each operator's key as it is enrolled.
 * @param collect collects a TK of a new terminal into an order (through `ta`).
 * @param adminCall a call signed by the bootstrap administrator.
 */
export async function recordOperations(
  core: CryptoCore,
  a: World,
  ta: Transport,
  prefix: string,
  keys: OperatorKeys,
  collect: (orderId: string, sn: string) => Promise<void>,
  adminCall: (
    method: string,
    url: string,
    body?: unknown,
  ) => Promise<{ status: number; body: Record<string, unknown> }>,
): Promise<void> {
  const as = async (who: string, method: string, path: string, body?: unknown) => {
    const url = `${a.kmsUrl}${path}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      authorization: await signAs(keys, who, method, url, text),
    };
    if (text !== undefined) headers["content-type"] = "application/json";
    const r = await ta(new Request(url, { method, headers, body: text }));
    return { status: r.status, body: await r.json() };
  };
  const expect = (what: string, r: { status: number; body: unknown }, status: number) => {
    if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  const dual = async (what: string, asker: string, approver: string, path: string, b?: unknown) => {
    const asked = await as(asker, "POST", path, b);
    expect(`${what} (asked)`, asked, 202);
    const done = await as(approver, "POST", `/v1/approvals/${asked.body.approvalId}/approve`);
    expect(`${what} (approved)`, done, what === "install KMS CA" ? 201 : 200);
    return done.body;
  };
  for (const [id, role, approver] of OPERATORS) {
    const k = await generateOperatorKey();
    keys.set(id, (await importOperatorKey(k.privateKeyPem)).privateKey);
    const body = { id, name: `Operator ${id}`, role, publicKey: k.publicKey };
    const asked = await adminCall("POST", `${a.kmsUrl}/v1/operators`, body);
    expect(`enrol ${id}`, asked, approver === null ? 201 : 202);
    if (approver === null) continue;
    const ok = await as(approver, "POST", `/v1/approvals/${asked.body.approvalId}/approve`);
    expect(`approve ${id}`, ok, 201);
  }
  const orderId = `PO-${prefix}-2`;
  const sn = `${prefix}R000000`;
  const o = await adminCall("POST", `${a.mtmsUrl}/v1/orders`, { orderId, serialNumbers: [sn] });
  expect("order", o, 201);
  await collect(orderId, sn);
  await dual("rotate PK", "cora", "carl", "/v1/server-keys/PK/rotate");
  await dual("rotate MAK", "carl", "cora", "/v1/server-keys/MAK/rotate");
  const t = await adminCall("POST", `${a.mtmsUrl}/v1/orders/${orderId}/transfer`);
  expect("transfer after rotation", t, 200);
  await dual("install KMS CA", "cora", "carl", "/v1/kms-ca", await newKmsCa(core, a));
}
