/**
 * TEST ENTRY POINT of the key scan (`key_scan_test.ts`),
 * started as a child process by `key_scan_test.ts`; never part of the product.
 *
 * It runs the demo (`demo/main.ts`: flow A, flow B and TR-34 over real HTTP
 * sockets, the KMS and MTMS servers in this process, their logs in
 * `data/kms.log` and `data/mtms.log` as `deno task demo` writes them), with:
 *
 * - the servers' HSMs observed (`tests/hsm/observed_hsm.ts`, passed to them
 *   as their HSM factory), only when `TMK_TEST_KEY_OBSERVER` (`127.0.0.1:PORT`,
 *   the test's loopback listener) is set: each clear key the HSMs create or recover goes
 *   to the test as a line `origin<TAB>what<TAB>hex`, never to a file or to
 *   this process's output; the PIN pads' clear keys go the same way
 *   (origin `device`);
 * - every HTTP exchange (devices, operator, MTMS to KMS) recorded with its
 *   request and response headers and bodies in `http.jsonl`;
 * - while the servers still run: the error paths of both flows (bad MACs,
 *   wrong KCVs and hashes, tampered key blocks and RSA blocks, bad
 *   signatures, an expired operator card, failed mutual authentications up
 *   to the lock-out, wrong tokens, unknown terminals; TR-34's in
 *   `_key_scan_tr34.ts`), each printed on
 *   stdout as `error path <name>: <status> <code>: <message>`; then a copy of
 *   the database files with their `-wal` and `-shm` (`snapshot/`).
 *
 * With `--plant` (the control run) it also plants windows of observed keys
 * in every kind of artefact (see {@link plant}), so the test can show the
 * scan finds them.
 *
 * Flags: `--dir DIR` (required), `--terminals N`, `--flow-b-terminals N`, `--tr34-terminals N`,
 * `--kms-db URL --mtms-db URL` (PostgreSQL instead of SQLite files), `--plant`.
 * Exit status 0 if every terminal got its TMK and every error path was
 * refused as expected.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { loadCore } from "../../src/core/mod.ts";
import {
  generateRsaKeyPair,
  importPkcs8Der,
  pkcs1v15Sign,
  randomBytes,
  retailMac,
  toHex,
} from "../../src/crypto/mod.ts";
import {
  answerSigningInput,
  batchMacInput,
  challengeSigningInput,
  RemoteError,
  type TkBatchRequest,
  type Transport,
  transportKeySigningInput,
} from "../../src/protocol/mod.ts";
import { main } from "../../demo/main.ts";
import type { RunningDemo } from "../../demo/run.ts";
import { OperatorTerminal } from "../../devices/operator_terminal.ts";
import { PinPad, pinPadTestHarness } from "../../devices/pin_pad.ts";
import { PosTerminal } from "../../devices/pos_terminal.ts";
import { PinPadFlowB, pinPadFlowBTestHarness } from "../../devices/pin_pad_flow_b.ts";
import { FlowBTerminal } from "../../devices/pos_flow_b.ts";
import { makeBatch } from "../scale/_kms.ts";
import { operatorAuthorization } from "../_helpers.ts";
import { encode } from "./_key_scan.ts";
import { observedHsmFactory, type ObservedKey } from "../hsm/observed_hsm.ts";
import { type PinPadTr34, pinPadTr34TestHarness } from "../../devices/pin_pad_tr34.ts";
import { tr34Errors } from "./_key_scan_tr34.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dir: { type: "string" },
    terminals: { type: "string", default: "3" },
    "flow-b-terminals": { type: "string", default: "2" },
    "tr34-terminals": { type: "string", default: "2" },
    "kms-db": { type: "string" },
    "mtms-db": { type: "string" },
    plant: { type: "boolean", default: false },
  },
  strict: true,
});
if (!values.dir) throw new RangeError("--dir is required");
const dir = values.dir;
const dataDir = `${dir}/data`;
const core = await loadCore();

// ---- the observer: every clear key, to the test's loopback listener only ----
const observerAddress = Deno.env.get("TMK_TEST_KEY_OBSERVER");
if (!observerAddress || !/^127\.0\.0\.1:[0-9]+$/.test(observerAddress)) {
  throw new RangeError("TMK_TEST_KEY_OBSERVER must be 127.0.0.1:PORT (the key scan's listener)");
}
const observed: ObservedKey[] = [];
const hsmFactory = observedHsmFactory((k: ObservedKey) => observed.push(k));

// ---- temporary files the run removes: kept for the scan ----
// The run's TMPDIR is the test's directory; whatever the run deletes under it
// (the demo's custodian directory with the KMS CA key, see key_scan_test.ts)
// is copied to `removed/` first, so the scan sees every temporary
// file the run created, not only those left at the end.
const tmpDir = Deno.env.get("TMPDIR");
if (!tmpDir) throw new RangeError("TMPDIR must be the key scan's directory");
let removedCount = 0;
async function keepCopy(path: string | URL): Promise<void> {
  const p = typeof path === "string" ? path : path.pathname;
  if (!p.startsWith(`${tmpDir}/`)) return;
  const info = await Deno.lstat(p).catch(() => undefined);
  if (!info) return;
  const to = `${dir}/removed/${++removedCount}-${p.slice(p.lastIndexOf("/") + 1)}`;
  if (info.isFile) {
    await Deno.mkdir(`${dir}/removed`, { recursive: true });
    await Deno.copyFile(p, to);
  } else if (info.isDirectory) {
    for await (const e of Deno.readDir(p)) await keepCopy(`${p}/${e.name}`);
  }
}
const remove = Deno.remove;
Deno.remove = async (path, options) => {
  await keepCopy(path);
  return await remove(path, options);
};
const removeSync = Deno.removeSync;
Deno.removeSync = (path, options) => {
  const p = typeof path === "string" ? path : path.pathname;
  if (p.startsWith(`${tmpDir}/`)) {
    throw new Error(
      `the key scan keeps removed temporary files; Deno.removeSync(${p}) is not wrapped`,
    );
  }
  return removeSync(path, options);
};

// ---- every HTTP exchange with its headers ----
await Deno.mkdir(dataDir, { recursive: true });
const httpLog = await Deno.open(`${dir}/http.jsonl`, { create: true, append: true });
const enc = new TextEncoder();
const transport: Transport = async (request) => {
  const requestBody = request.body ? await request.clone().text() : "";
  const response = await fetch(request);
  const responseBody = await response.text();
  httpLog.writeSync(enc.encode(
    JSON.stringify({
      method: request.method,
      url: request.url,
      requestHeaders: [...request.headers],
      requestBody,
      status: response.status,
      responseHeaders: [...response.headers],
      responseBody,
    }) + "\n",
  ));
  return new Response(responseBody, { status: response.status, headers: response.headers });
};

// ---- error paths ----
let failures = 0;

/** Prints one refusal; counts it as a failure unless it is a 4xx with one of `codes`. */
function refused(name: string, status: number, code: string, message: string, codes: string[]) {
  const ok = status >= 400 && status < 500 && codes.includes(code);
  console.log(`error path ${name}: ${status} ${code}: ${message}${ok ? "" : "  <- UNEXPECTED"}`);
  if (!ok) failures++;
}

/** Sends a JSON request through the recording transport; expects a refusal. */
async function expectRefused(
  name: string,
  method: string,
  url: string,
  body: unknown,
  codes: string[],
  token?: string,
): Promise<void> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const text = body === undefined ? undefined : JSON.stringify(body);
  if (token) headers.authorization = await operatorAuthorization(token, method, url, text);
  const r = await transport(
    new Request(url, { method, headers, body: text }),
  );
  const j = await r.json() as { error?: { code?: string; message?: string } };
  refused(name, r.status, j.error?.code ?? "-", j.error?.message ?? JSON.stringify(j), codes);
}

/** Runs a device call that must be refused by a server (RemoteError) or by the device itself. */
async function expectThrows(name: string, fn: () => Promise<unknown>, codes: string[]) {
  try {
    await fn();
  } catch (e) {
    if (e instanceof RemoteError) {
      const message = e.message.slice(`${e.status} ${e.code}: `.length);
      refused(name, e.status, e.code, message, codes);
    } else {
      const code = (e as { code?: string }).code ?? (e as Error).name;
      const ok = codes.includes(code);
      console.log(
        `error path ${name}: device ${(e as Error).name} ${code}: ${(e as Error).message}`,
      );
      if (!ok) failures++;
    }
    return;
  }
  console.log(`error path ${name}: accepted  <- UNEXPECTED`);
  failures++;
}

function flip(hex: string, at = Math.floor(hex.length / 2)): string {
  const c = hex[at] === "0" ? "1" : "0";
  return hex.slice(0, at) + c + hex.slice(at + 1);
}

async function macOf(mak: string[], b: Pick<TkBatchRequest, "orderId" | "tks">) {
  const key = new Uint8Array(16);
  for (const c of mak) {
    // `[CUSTODIAN:]KEY:KCV`: the key is the second field from the end
    const hex = c.split(":").at(-2)!;
    const part = Uint8Array.from(hex.match(/../g)!.map((x) => parseInt(x, 16)));
    for (let i = 0; i < 16; i++) key[i] ^= part[i];
  }
  return toHex(await retailMac(key, batchMacInput(b), { padding: 2, core })).toUpperCase();
}

/** An operator secret that is not the servers' (the signature does not verify). */
const WRONG_SECRET = "not-the-operator-secret-0000";

/** Flow A: TK uploads to the MTMS and TK batches to the KMS that must be refused. */
async function flowAErrors(d: RunningDemo): Promise<void> {
  const order = "PO-KSERR-1";
  const sns = ["KE00000001", "KE00000002"];
  const orderBody = JSON.stringify({ orderId: order, serialNumbers: sns });
  const orderUrl = `${d.mtmsUrl}/v1/orders`;
  const r = await transport(
    new Request(orderUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: await operatorAuthorization(d.token, "POST", orderUrl, orderBody),
      },
      body: orderBody,
    }),
  );
  if (r.status !== 201) throw new Error(`error-path order: ${r.status} ${await r.text()}`);
  const op = new OperatorTerminal({ transport, mtmsUrl: d.mtmsUrl });
  op.insertCard((await d.pki.issueOperator("Operator 0042")).card);
  const mtmsCert = await op.mtmsCertificate();
  const pad = await PinPad.create({ root: d.pki.rootPem, core });
  const pos = new PosTerminal({ sn: sns[0], pinPad: pad, transport, kmsUrl: d.kmsUrl });
  const challenge = pos.startOperatorAuth();
  const answer = await op.answerChallenge(challenge);
  await expectThrows(
    "flow A S6-S9 operator cryptogram altered (PIN pad refuses)",
    () =>
      pos.finishOperatorAuth({
        certificate: answer.certificate,
        cryptogram: flip(answer.cryptogram),
      }),
    ["cryptogram_invalid"],
  );
  const c2 = pos.startOperatorAuth();
  const a2 = await op.answerChallenge(c2);
  await pos.finishOperatorAuth({ certificate: a2.certificate, cryptogram: a2.cryptogram });
  const exp = await pos.generateAndExportTk(mtmsCert);
  await expectThrows(
    "flow A S11 TK upload with a wrong TK KCV",
    () => op.uploadTk(order, sns[0], { ...exp, tkKcv: flip(exp.tkKcv, 0) }),
    ["kcv_mismatch"],
  );
  await expectThrows(
    "flow A S11 TK upload with a wrong TK hash",
    () => op.uploadTk(order, sns[0], { ...exp, tkHash: flip(exp.tkHash, 0) }),
    ["tk_hash_mismatch"],
  );
  await expectThrows(
    "flow A S11 TK upload with the RSA block altered",
    () => op.uploadTk(order, sns[0], { ...exp, encryptedTk: flip(exp.encryptedTk) }),
    ["decrypt_failed"],
  );
  const expired = new OperatorTerminal({ transport, mtmsUrl: d.mtmsUrl });
  expired.insertCard((await d.pki.issueOperator("Operator 0042", { expired: true })).card);
  await expectThrows(
    "flow A S11 TK upload signed by an expired operator card",
    () => expired.uploadTk(order, sns[0], exp),
    ["certificate_expired"],
  );
  const foreign = new OperatorTerminal({ transport, mtmsUrl: d.mtmsUrl });
  foreign.insertCard((await d.pki.foreignOperator()).card);
  await expectThrows(
    "flow A S11 TK upload signed by an operator card of another CA",
    () => foreign.uploadTk(order, sns[0], exp),
    ["certificate_untrusted"],
  );
  await op.uploadTk(order, sns[0], exp);
  await expectRefused(
    "flow A S14 transfer of an order still collecting",
    "POST",
    `${d.mtmsUrl}/v1/orders/${order}/transfer`,
    undefined,
    ["order_incomplete"],
    d.token,
  );

  // S14 at the KMS: batches made here under PK and MACed under MAK (from the components).
  const batch = async (orderId: string, pk = d.components.pk) =>
    (await makeBatch({ lmk: [], pk, mak: d.components.mak, token: "" }, orderId, 2)).request;
  const send = (name: string, b: TkBatchRequest, codes: string[]) =>
    expectRefused(name, "POST", `${d.kmsUrl}/v1/tk-batches`, b, codes);
  const b1 = await batch("PO-KSERR-2");
  await send("flow A S14 batch with a wrong MAC", { ...b1, mac: flip(b1.mac) }, ["mac_invalid"]);
  const remac = async (b: TkBatchRequest) => ({ ...b, mac: await macOf(d.components.mak, b) });
  const tks = (f: (t: TkBatchRequest["tks"][0]) => TkBatchRequest["tks"][0]) => [
    f(b1.tks[0]),
    ...b1.tks.slice(1),
  ];
  await send(
    "flow A S14 batch with a wrong TK KCV (MAC recomputed)",
    await remac({ ...b1, tks: tks((t) => ({ ...t, tkKcv: flip(t.tkKcv, 0) })) }),
    ["kcv_mismatch"],
  );
  await send(
    "flow A S14 batch with a wrong TK hash (MAC recomputed)",
    await remac({ ...b1, tks: tks((t) => ({ ...t, tkHash: flip(t.tkHash, 0) })) }),
    ["tk_hash_mismatch"],
  );
  await send(
    "flow A S14 batch with a TK block's MAC altered (MAC recomputed)",
    await remac({
      ...b1,
      tks: tks((t) => ({ ...t, tkBlock: flip(t.tkBlock, t.tkBlock.length - 1) })),
    }),
    ["decrypt_failed"],
  );
  await send(
    "flow A S14 batch with a TK block's key field altered (MAC recomputed)",
    await remac({ ...b1, tks: tks((t) => ({ ...t, tkBlock: flip(t.tkBlock, 40) })) }),
    ["decrypt_failed"],
  );
  const otherPk = [toHex(randomBytes(24)), toHex(randomBytes(24))].map((k) => `${k}:000000`);
  const b2 = await batch("PO-KSERR-3", otherPk);
  await send(
    "flow A S14 batch with TKs under another PK",
    await remac(b2),
    ["decrypt_failed"],
  );
  await expectRefused(
    "flow A S15 bulk issuance with a wrong operator secret",
    "POST",
    `${d.kmsUrl}/v1/orders/${d.orderId}/tmks`,
    undefined,
    ["unauthorized"],
    WRONG_SECRET,
  );
  const nonce = async (sn: string) => {
    const r = await transport(
      new Request(`${d.kmsUrl}/v1/terminals/${sn}/tmk/challenge`, { method: "POST" }),
    );
    return (await r.json() as { nonce: string }).nonce;
  };
  await expectRefused(
    "flow A S16 download for an unknown terminal",
    "POST",
    `${d.kmsUrl}/v1/terminals/KE99999999/tmk`,
    { nonce: await nonce("KE99999999"), mac: "00".repeat(8) },
    ["unknown_terminal"],
  );
  await expectRefused(
    "flow A S17 acknowledgement with a wrong TMK KCV, without the proof of TMK",
    "POST",
    `${d.kmsUrl}/v1/terminals/SN00000001/tmk/ack`,
    { tmkKcv: "000000", nonce: await nonce("SN00000001"), mac: "00".repeat(8) },
    ["proof_invalid"],
  );
}

/** Flow B: S3, S5 and S6 requests that must be refused, then the terminal completes. */
async function flowBErrors(d: RunningDemo): Promise<void> {
  if (!d.kmsRootPem) return;
  const sn = "KB00000001";
  const base = `${d.kmsUrl}/v1/terminals/${sn}`;
  const deviceKey = await generateRsaKeyPair({ bits: 2048, core });
  const device = {
    privateKey: deviceKey.privateKey,
    certificate: await d.pki.issueDevice(sn, deviceKey.publicKey),
  };
  const pad = new PinPadFlowB({
    kmsRoot: d.kmsRootPem,
    kmsCa: d.kmsCaPem!,
    core,
    storageKey: randomBytes(24),
    device,
  });
  padsB.push(pad);
  const pos = new FlowBTerminal({ sn, pinPad: pad, transport, kmsUrl: d.kmsUrl });
  const sign = async (input: Uint8Array) => ({
    deviceCertificate: device.certificate,
    signature: toHex(await pkcs1v15Sign(device.privateKey, input, { core })),
  });
  const early = {
    encryptedAuk: toHex(randomBytes(256)),
    aukKcv: "000000",
    puTek: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    tkHash: toHex(randomBytes(32)),
  };
  await expectRefused(
    "flow B S3 before S1 (no Pu_hsm for the terminal)",
    "PUT",
    `${base}/transport-key`,
    { ...early, ...(await sign(transportKeySigningInput(sn, early))) },
    ["unknown_terminal"],
  );
  const s1 = await pad.hsmKeyRequest(sn);
  await expectRefused(
    "flow B S1 with another nonce than the one signed",
    "POST",
    `${base}/hsm-key`,
    { ...s1, nonce: toHex(randomBytes(16)) },
    ["device_signature_invalid"],
  );
  await pos.requestHsmKey();
  const req = await pad.makeTransportKey();
  const signed = async (r: typeof req) => ({
    ...r,
    signature: toHex(
      await pkcs1v15Sign(device.privateKey, transportKeySigningInput(sn, r), {
        core,
      }),
    ),
  });
  await expectRefused(
    "flow B S3 with the AUK KCV changed, not re-signed",
    "PUT",
    `${base}/transport-key`,
    { ...req, aukKcv: flip(req.aukKcv, 0) },
    ["device_signature_invalid"],
  );
  await expectRefused(
    "flow B S3 with a wrong AUK KCV (re-signed by the device)",
    "PUT",
    `${base}/transport-key`,
    await signed({ ...req, aukKcv: flip(req.aukKcv, 0) }),
    ["kcv_mismatch"],
  );
  await expectRefused(
    "flow B S3 with a wrong TK hash (re-signed by the device)",
    "PUT",
    `${base}/transport-key`,
    await signed({ ...req, tkHash: flip(req.tkHash, 0) }),
    ["tk_hash_mismatch"],
  );
  await expectRefused(
    "flow B S3 with AUK under Pu_hsm altered (re-signed by the device)",
    "PUT",
    `${base}/transport-key`,
    await signed({ ...req, encryptedAuk: flip(req.encryptedAuk) }),
    ["auk_undecryptable"],
  );
  const ok = await transport(
    new Request(`${base}/transport-key`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(req),
    }),
  );
  if (ok.status !== 201) throw new Error(`flow B S3: ${ok.status} ${await ok.text()}`);
  await expectRefused(
    "flow B S6 without a session",
    "POST",
    `${base}/sessions/${"00".repeat(16)}/tmk`,
    { mac: "00".repeat(8) },
    ["session_required"],
  );
  // A body of flow A's shape: the shared route checks its body before it sees whose SN it is.
  await expectRefused(
    "flow B S6 on the shared route",
    "POST",
    `${base}/tmk`,
    { nonce: "00".repeat(32), mac: "00".repeat(8) },
    ["session_route_required"],
  );
  for (let i = 1; i <= 4; i++) {
    const rnd1 = toHex(randomBytes(8));
    const ch = await transport(
      new Request(`${base}/challenges`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ rnd1, ...(await sign(challengeSigningInput(sn, rnd1))) }),
      }),
    );
    const cj = await ch.json() as {
      challengeId?: string;
      error?: { code: string; message: string };
    };
    if (!cj.challengeId) {
      refused(
        `flow B S5 challenge ${i} after the lock-out`,
        ch.status,
        cj.error!.code,
        cj.error!.message,
        [
          "terminal_locked",
        ],
      );
      continue;
    }
    const crnd2 = toHex(randomBytes(8));
    await expectRefused(
      `flow B S5 wrong Crnd2 signed by the device (attempt ${i})`,
      "POST",
      `${base}/challenges/${cj.challengeId}/response`,
      { crnd2, ...(await sign(answerSigningInput(sn, cj.challengeId, crnd2))) },
      i <= 3 ? ["terminal_not_authenticated"] : ["terminal_locked"],
    );
  }
  await expectRefused(
    "flow B operator unlock signed with a wrong secret",
    "POST",
    `${base}/unlock`,
    undefined,
    ["unauthorized"],
    WRONG_SECRET,
  );
  const signedUnlock = await operatorAuthorization(d.token, "POST", `${base}/unlock`, undefined);
  const unlock = await transport(
    new Request(`${base}/unlock`, { method: "POST", headers: { authorization: signedUnlock } }),
  );
  if (unlock.status !== 200) throw new Error(`unlock: ${unlock.status} ${await unlock.text()}`);
  const again = await transport(
    new Request(`${base}/unlock`, { method: "POST", headers: { authorization: signedUnlock } }),
  );
  const aj = await again.json() as { error: { code: string; message: string } };
  refused("flow B operator unlock replayed", again.status, aj.error.code, aj.error.message, [
    "request_replayed",
  ]);
  await pos.authenticate();
  await pos.downloadTmk();
  // A PIN pad whose AUK differs from the KMS's refuses the KMS's Crnd1 (S5, PIN pad side).
  await pinPadFlowBTestHarness(pad).corruptAuk();
  altered.add(pad);
  await expectThrows(
    "flow B S5 PIN pad whose stored AUK was altered refuses to use it",
    () => pos.authenticate(),
    ["tk_hash_mismatch"],
  );
}

// ---- the control run's plants ----
const plantedLog: string[] = [];

/**
 * Plants windows of observed keys (a generated TDES key and, from an RSA
 * key, a window of its prime p) in each kind of artefact, each in its own
 * encoding: the database (raw bytes in SQLite, bytea in PostgreSQL, and in
 * PostgreSQL's server log uppercase hex in a statement it refuses), stdout
 * (uppercase hex), stderr (base64), an HTTP request header (base64url) and
 * body (lowercase hex), an error message (mixed-case hex), a temporary file
 * (raw bytes, and base64 of the RSA window in lines of six characters), and,
 * after the run, the KMS log file (base64url).
 */
async function plant(d: RunningDemo, dbs: string[]): Promise<void> {
  const tdes = observed.find((k) => k.origin === "generated" && k.what.startsWith("a 16-byte"))!;
  const p = observed.find((k) => k.origin === "rsa-private" && k.what.startsWith("p "))!;
  const t = tdes.bytes;
  for (const db of dbs) await plantInDatabase(db, t.slice(2, 14));
  console.log(`planted ${encode.hexUpper(t.subarray(3, 11))}`);
  console.error(`planted ${encode.base64(t)}`);
  await transport(
    new Request(`${d.kmsUrl}/healthz`, { headers: { "x-planted": encode.base64url(t) } }),
  );
  await transport(
    new Request(`${d.kmsUrl}/v1/terminals/SN00000001/tmk/ack`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tmkKcv: encode.hexLower(t.subarray(4, 12)) }),
    }),
  );
  // a window whose hex has two letters or more, so that it can be written in mixed case
  const at = [...Array(t.length - 7).keys()].find((i) =>
    (encode.hexLower(t.subarray(i, i + 8)).match(/[a-f]/g) ?? []).length >= 2
  )!;
  console.log(`error path planted: 400 planted: ${encode.hexMixed(t.subarray(at, at + 8))}`);
  const f = await Deno.makeTempFile({ prefix: "planted-" });
  await Deno.writeFile(f, t.slice(5, 13));
  const b64 = encode.base64(p.bytes.subarray(10, 40));
  // six characters a line: no 8-character needle survives on one line, only the unwrapped search finds it
  await Deno.writeTextFile(`${f}.pem`, b64.match(/.{1,6}/g)!.join("\n") + "\n");
  plantedLog.push(encode.base64url(t.subarray(0, 12)));
}

/** Raw bytes in a table of its own: a SQLite BLOB, or a PostgreSQL bytea in the run's schema. */
async function plantInDatabase(db: string, bytes: Uint8Array): Promise<void> {
  if (db.startsWith("postgres")) {
    const url = new URL(db);
    const schema = url.searchParams.get("schema")!;
    url.search = "";
    const sql = postgres(url.href, { max: 1, onnotice: () => {} });
    await sql.unsafe(`CREATE TABLE ${schema}.planted (v bytea)`);
    await sql.unsafe(`INSERT INTO ${schema}.planted VALUES ($1)`, [bytes]);
    // A statement PostgreSQL refuses, so that its server log records it with the planted hex.
    const refusedStatement = `SELECT 'planted ${encode.hexUpper(bytes.subarray(0, 8))}'::int`;
    const failed = await sql.unsafe(refusedStatement).then(() => false, () => true);
    await sql.end();
    if (!failed) throw new Error(`PostgreSQL accepted ${refusedStatement}`);
  } else {
    const sqlite = new DatabaseSync(db);
    sqlite.exec("CREATE TABLE planted (v BLOB)");
    sqlite.prepare("INSERT INTO planted VALUES (?)").run(bytes);
    sqlite.close();
  }
}

// ---- the run ----
const padsA: PinPad[] = [];
const padsB: PinPadFlowB[] = [];
const padsT: PinPadTr34[] = [];
/** PIN pads whose AUK the error paths replaced (a key no HSM ever saw). */
const altered = new Set<PinPadFlowB>();
const databases = values["kms-db"] && values["mtms-db"]
  ? { kms: values["kms-db"], mtms: values["mtms-db"] }
  : undefined;
let status = 1;
try {
  status = await main(
    [
      "--terminals",
      values.terminals,
      "--flow-b-terminals",
      values["flow-b-terminals"],
      "--tr34-terminals",
      values["tr34-terminals"],
      "--data-dir",
      dataDir,
      // Plain HTTP: the scan reads what the wire carries without TLS's protection.
      "--insecure-http",
    ],
    {
      hsmFactory,
      transport,
      databases,
      result: (r) => {
        padsA.push(...r.pinPads);
        padsB.push(...(r.flowB?.pinPads ?? []));
        padsT.push(...(r.tr34?.pinPads ?? []));
      },
      beforeShutdown: async (d) => {
        await flowAErrors(d);
        await flowBErrors(d);
        padsT.push(
          ...await tr34Errors(d, transport, core, {
            refused: (name, method, url, body, codes) =>
              expectRefused(name, method, url, body, codes),
            throws: expectThrows,
          }),
        );
        if (values.plant) {
          await plant(d, [
            databases?.kms ?? `${dataDir}/kms.db`,
            databases?.mtms ?? `${dataDir}/mtms.db`,
          ]);
        }
        await Deno.mkdir(`${dir}/snapshot`, { recursive: true });
        for await (const e of Deno.readDir(dataDir)) {
          if (e.isFile && /\.db(-wal|-shm)?$/.test(e.name)) {
            await Deno.copyFile(`${dataDir}/${e.name}`, `${dir}/snapshot/${e.name}`);
          }
        }
      },
    },
  );
  if (values.plant) {
    await Deno.writeTextFile(
      `${dataDir}/kms.log`,
      JSON.stringify({ level: "info", event: "planted", v: plantedLog[0] }) + "\n",
      { append: true },
    );
  }
} finally {
  httpLog.close();
  // The PIN pads' clear keys (device keys), then every key the HSMs saw: to the test only.
  const lines: string[] = [];
  for (const pad of padsA) {
    const k = await pinPadTestHarness(pad).clearKeys();
    if (k.tk) lines.push(`device\tTK of a flow A PIN pad\t${toHex(k.tk)}`);
    if (k.tmk) lines.push(`device\tTMK of a flow A PIN pad\t${toHex(k.tmk)}`);
    lines.push(`device-only\tstorage key of a flow A PIN pad\t${toHex(k.storageKey)}`);
  }
  for (const pad of padsB) {
    const k = await pinPadFlowBTestHarness(pad).clearKeys();
    if (k.auk) {
      const origin = altered.has(pad) ? "device-only" : "device";
      lines.push(`${origin}\tAUK of a flow B PIN pad\t${toHex(k.auk)}`);
    }
    if (k.tmk) lines.push(`device\tTMK of a flow B PIN pad\t${toHex(k.tmk)}`);
    if (k.prTekPkcs8) {
      const tek = importPkcs8Der(k.prTekPkcs8);
      for (const part of ["d", "p", "q", "dp", "dq", "qi"] as const) {
        lines.push(`device-only\t${part} of a flow B PIN pad's Pr_tek\t${toHex(tek[part])}`);
      }
    }
  }
  for (const pad of padsT) {
    const k = await pinPadTr34TestHarness(pad).clearKeys();
    if (k.tmk) lines.push(`device\tTMK of a TR-34 PIN pad\t${toHex(k.tmk)}`);
    const krd = importPkcs8Der(k.krdPkcs8);
    for (const part of ["d", "p", "q", "dp", "dq", "qi"] as const) {
      lines.push(`device-only\t${part} of a TR-34 PIN pad's KRD key\t${toHex(krd[part])}`);
    }
  }
  for (const k of observed) lines.push(`${k.origin}\t${k.what}\t${toHex(k.bytes)}`);
  const [hostname, port] = observerAddress.split(":");
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const out = enc.encode(lines.join("\n") + "\n");
  for (let off = 0; off < out.length;) off += await conn.write(out.subarray(off));
  conn.close();
}
if (failures > 0) console.log(`error paths: ${failures} not refused as expected`);
Deno.exit(status === 0 && failures === 0 ? 0 : 1);
