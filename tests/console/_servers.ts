/**
 * A KMS and an MTMS on loopback with their consoles, as the console tests
 * use them: test-mode HSMs from random components, one operator login per
 * role (two operators, two custodians), and the simulated factory line and
 * POS terminals that move an order's keys while the console watches.
 *
 * @module
 */
import { loadCore } from "../../src/core/mod.ts";
import { fetchTransport } from "../../src/protocol/mod.ts";
import { jsonLogger, type Logger } from "../../servers/_lib/log.ts";
import { type KmsServer, startKms } from "../../servers/kms/main.ts";
import { type MtmsServer, startMtms } from "../../servers/mtms/main.ts";
import { hashPassword, staticDirectory } from "../../servers/_lib/console_auth.ts";
import type { SessionPolicy } from "../../servers/_lib/console_auth.ts";
import { makeDemoPki, randomComponents } from "../../demo/setup.ts";
import { enrollOperators } from "../../demo/console_logins.ts";
import { OperatorCard } from "../../devices/operator_card.ts";
import { OperatorTerminal } from "../../devices/operator_terminal.ts";
import { PinPad } from "../../devices/pin_pad.ts";
import { PosTerminal } from "../../devices/pos_terminal.ts";
import type { Store } from "../../src/store/mod.ts";
import { openStore } from "../../servers/_lib/store.ts";
import { kmsCaForKms, makeFlowBPki } from "../../demo/flow_b.ts";
import { PinPadFlowB } from "../../devices/pin_pad_flow_b.ts";
import { FlowBTerminal } from "../../devices/pos_flow_b.ts";
import { generateRsaKeyPair, pkcs1v15Sign, randomBytes, toHex } from "../../src/crypto/mod.ts";
import { answerSigningInput } from "../../src/protocol/mod.ts";

/** The console logins of the tests: id, role, password. */
export const LOGINS = [
  { id: "olga", name: "Olga Operator", role: "operator", password: "olga-pass-1234" },
  { id: "sam", name: "Sam Supervisor", role: "supervisor", password: "sam-pass-1234" },
  { id: "cora", name: "Cora Custodian", role: "custodian", password: "cora-pass-1234" },
  { id: "carl", name: "Carl Custodian", role: "custodian", password: "carl-pass-1234" },
  { id: "audrey", name: "Audrey Auditor", role: "auditor", password: "audrey-pass-1234" },
] as const;

/** The running pair. */
export interface ConsoleServers {
  kms: KmsServer;
  mtms: MtmsServer;
  /** Each server's store, opened a second time on its file (read-only use). */
  kmsStore: Store;
  mtmsStore: Store;
  /** Every log line of both servers. */
  logs: string[];
  pki: Awaited<ReturnType<typeof makeDemoPki>>;
  /** Flow B's PKI: the KMS root PIN pads trust, the KMS CA, device certificates. */
  flowB: Awaited<ReturnType<typeof makeFlowBPki>>;
  close(): Promise<void>;
}

/** Lines of JSON logs kept in memory. */
function memoryLogger(lines: string[], server: string): Logger {
  return jsonLogger((l) => lines.push(`${server} ${l}`));
}

/**
 * Starts both servers with their consoles.
 *
 * @param policy session policy (tests shorten the idle expiry).
 */
export async function startConsoleServers(
  policy: Partial<SessionPolicy> = {},
): Promise<ConsoleServers> {
  const core = await loadCore();
  const dir = await Deno.makeTempDir({ prefix: "tmk-console-test-" });
  const records = [];
  for (const l of LOGINS) {
    records.push({
      id: l.id,
      name: l.name,
      role: l.role,
      passwordHash: await hashPassword(l.password),
    });
  }
  const consoleOptions = { directory: staticDirectory(records), policy };
  // The people are the operators enrolled in each store; the users file gives their passwords.
  // The KMS's first start installs its CA from the start flags, before anyone is enrolled there.
  const people = LOGINS.map((l) => [l.id, l.name, l.role] as const);
  await enrollOperators([`${dir}/mtms.db`], people);
  const pki = await makeDemoPki(core);
  const pk = await randomComponents(2, 24, core);
  const mak = await randomComponents(2, 16, core);
  const logs: string[] = [];
  const token = crypto.randomUUID();
  const kmsLmk = await randomComponents(2, 32, core);
  const flowB = await makeFlowBPki(core);
  const kms = await startKms({
    port: 0,
    db: `${dir}/kms.db`,
    lmkComponents: kmsLmk,
    kmsCa: await kmsCaForKms(flowB, kmsLmk, dir, core, `${dir}/kms.db`),
    deviceRoots: [flowB.kmsRootPem],
    hsmMode: "test",
    pkComponents: pk,
    makComponents: mak,
    token,
    log: memoryLogger(logs, "kms"),
    core,
    hsmWorkers: 1,
    console: consoleOptions,
  });
  await enrollOperators([`${dir}/kms.db`], people);
  const mtms = await startMtms({
    port: 0,
    db: `${dir}/mtms.db`,
    lmkComponents: await randomComponents(2, 32, core),
    hsmMode: "test",
    pkComponents: pk,
    makComponents: mak,
    token,
    log: memoryLogger(logs, "mtms"),
    core,
    kmsUrl: kms.url,
    caRoot: pki.rootPem,
    issueTransportCertificate: (publicKey) => pki.issueServer("MTMS transport", publicKey),
    console: consoleOptions,
    kmsConsoleUrl: `${kms.url}/console/`,
  });
  const kmsStore = await openStore(`${dir}/kms.db`);
  const mtmsStore = await openStore(`${dir}/mtms.db`);
  return {
    kms,
    mtms,
    kmsStore,
    mtmsStore,
    logs,
    pki,
    flowB,
    close: async () => {
      await kmsStore.close();
      await mtmsStore.close();
      await mtms.shutdown();
      await kms.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * The factory line (flow A S1-S13): an operator card authenticates at each
 * POS and its PIN pad's TK goes to the MTMS.
 *
 * @returns the POS terminals, for their downloads later.
 */
export async function collectOnLine(
  s: ConsoleServers,
  orderId: string,
  sns: string[],
): Promise<PosTerminal[]> {
  const core = await loadCore();
  const operator = await s.pki.issueOperator("Operator 0042");
  const op = new OperatorTerminal({ transport: fetchTransport, mtmsUrl: s.mtms.url });
  op.insertCard(new OperatorCard(operator.certificate, operator.privateKey, { core }));
  const cert = await op.mtmsCertificate();
  const out: PosTerminal[] = [];
  for (const sn of sns) {
    const pos = new PosTerminal({
      sn,
      pinPad: await PinPad.create({ root: s.pki.rootPem, core }),
      transport: fetchTransport,
      kmsUrl: s.kms.url,
    });
    const challenge = pos.startOperatorAuth();
    const answer = await op.answerChallenge(challenge);
    await pos.finishOperatorAuth({
      certificate: answer.certificate,
      cryptogram: answer.cryptogram,
    });
    await op.uploadTk(orderId, sn, await pos.generateAndExportTk(cert));
    out.push(pos);
  }
  return out;
}

/**
 * A flow B terminal (S1-S4 done) that then answers S5 wrongly until the
 * KMS locks it out.
 *
 * @returns the number of wrong answers it took.
 */
export async function lockOutTerminal(s: ConsoleServers, sn: string): Promise<number> {
  const core = await loadCore();
  const k = await generateRsaKeyPair({ bits: 2048, core });
  const device = {
    privateKey: k.privateKey,
    certificate: await s.flowB.issueDevice!(sn, k.publicKey),
  };
  const pinPad = new PinPadFlowB({
    kmsRoot: s.flowB.kmsRootPem,
    kmsCa: s.flowB.kmsCa.certificate,
    core,
    storageKey: randomBytes(24),
    device,
  });
  const pos = new FlowBTerminal({ sn, pinPad, transport: fetchTransport, kmsUrl: s.kms.url });
  await pos.requestHsmKey();
  await pos.sendTransportKey();
  const post = (path: string, body: unknown) =>
    fetch(`${s.kms.url}/v1/terminals/${sn}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.json());
  for (let n = 1; n <= 10; n++) {
    const ch = await post("/challenges", await pinPad.challenge(sn));
    if (ch.error) throw new Error(`S5 refused: ${ch.error.code}`);
    // A wrong answer, signed by the device key: it counts toward the lock-out.
    const crnd2 = "00".repeat(8);
    const signature = toHex(
      await pkcs1v15Sign(k.privateKey, answerSigningInput(sn, ch.challengeId, crnd2), { core }),
    );
    await post(`/challenges/${ch.challengeId}/response`, {
      crnd2,
      deviceCertificate: device.certificate,
      signature,
    });
    if ((await s.kmsStore.getTerminal(sn))?.lockedAt) return n;
  }
  throw new Error(`${sn} was not locked after 10 wrong answers`);
}
