/**
 * `deno task line`: a simulated factory line and its POS terminals against
 * running servers, for trying a deployment without hardware. Each terminal
 * gets a simulated PIN pad flashed with the CA root; the operator's card
 * (a certificate and its private key in files) authenticates to every PIN
 * pad (flow A S1-S9); each PIN pad makes its TK and the operator terminal
 * uploads it to the MTMS (S10-S13). The line then waits, holding the PIN
 * pads, until the KMS has a TMK for each terminal (the operator transfers
 * the order and issues its TMKs meanwhile), and each POS downloads and
 * acknowledges its TMK (S16-S17).
 *
 * The devices live in this process only: nothing they hold is written.
 *
 * @module
 */
import { loadCore } from "../src/core/mod.ts";
import { importPrivateKeyPem } from "../src/crypto/mod.ts";
import { fetchTransport, RemoteError, type Transport } from "../src/protocol/mod.ts";
import { OperatorCard } from "../devices/operator_card.ts";
import { OperatorTerminal } from "../devices/operator_terminal.ts";
import { PinPad } from "../devices/pin_pad.ts";
import { PosTerminal } from "../devices/pos_terminal.ts";
import { type CommandSpec, type Invocation, runCommand, UsageError } from "./flags.ts";

const SPEC: CommandSpec = {
  name: "deno task line",
  summary: "Runs a simulated factory line for an order (TK collection at the MTMS), then waits " +
    "for the KMS to issue the TMKs and has each POS download and acknowledge its TMK.",
  flags: [
    {
      name: "mtms-url",
      type: "string",
      help: "the MTMS",
      env: "LINE_MTMS_URL",
      required: true,
      metavar: "URL",
    },
    {
      name: "kms-url",
      type: "string",
      help: "the KMS",
      env: "LINE_KMS_URL",
      required: true,
      metavar: "URL",
    },
    {
      name: "order",
      type: "string",
      help: "the production order's id",
      required: true,
      metavar: "ID",
    },
    {
      name: "first",
      type: "string",
      help: "the first serial number; the next ones count up in its digits",
      required: true,
      metavar: "SN",
    },
    { name: "count", type: "int", help: "how many terminals", default: 1, min: 1, max: 10_000 },
    {
      name: "root",
      type: "string",
      help: "the CA root flashed into every PIN pad (PEM)",
      required: true,
      metavar: "FILE",
    },
    {
      name: "card-cert",
      type: "string",
      help: "the operator card's certificate (PEM)",
      required: true,
      metavar: "FILE",
    },
    {
      name: "card-key",
      type: "string",
      help: "the operator card's private key (PKCS#8 PEM): the simulated card's chip",
      secret: true,
      multiline: true,
      env: "LINE_CARD_KEY",
      required: true,
    },
    {
      name: "tls-root",
      type: "string",
      help: "the root that the servers' TLS certificates chain to (default: --root)",
      metavar: "FILE",
    },
    {
      name: "wait-s",
      type: "int",
      help: "how long to wait for the TMKs, in seconds",
      default: 600,
      min: 0,
      max: 86_400,
    },
  ],
};

/** The serial numbers from `first` counting up in its trailing digits. */
export function serials(first: string, count: number): string[] {
  const m = /^(.*?)([0-9]+)$/.exec(first);
  if (m === null) {
    throw new UsageError([`--first must end in digits, got ${JSON.stringify(first)}`]);
  }
  const [, prefix, digits] = m;
  const start = BigInt(digits);
  const last = (start + BigInt(count - 1)).toString();
  if (last.length > digits.length) {
    throw new UsageError([
      `--first ${first} with --count ${count} runs past ${digits.length} digits`,
    ]);
  }
  return Array.from(
    { length: count },
    (_, i) => prefix + (start + BigInt(i)).toString().padStart(digits.length, "0"),
  );
}

async function readFileNamed(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError([`--${flag} ${path}: no such file`]);
    }
    throw e;
  }
}

/** A transport that trusts `root` for https URLs. */
function transportFor(root: string): Transport {
  const client = Deno.createHttpClient({ caCerts: [root] });
  return (request) =>
    request.url.startsWith("https:") ? fetch(request, { client }) : fetchTransport(request);
}

const RETRYABLE = new Set(["not_issued", "unknown_terminal"]);

/** Downloads one TMK, waiting while the KMS has not issued it yet. */
async function downloadWhenIssued(
  pos: PosTerminal,
  deadline: number,
): Promise<{ kcv: string; state: string }> {
  let delay = 500;
  for (;;) {
    try {
      const d = await pos.downloadTmk();
      if (d.kmsKcv !== d.pinPadKcv) {
        throw new Error(`${pos.sn}: KCVs differ (KMS ${d.kmsKcv}, PIN pad ${d.pinPadKcv})`);
      }
      return { kcv: d.pinPadKcv, state: d.state };
    } catch (e) {
      if (!(e instanceof RemoteError) || !RETRYABLE.has(e.code) || Date.now() + delay > deadline) {
        throw e;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

async function run({ values }: Invocation): Promise<void> {
  const sns = serials(values.first as string, values.count as number);
  const root = await readFileNamed("root", values.root as string);
  const tlsRoot = values["tls-root"] === undefined
    ? root
    : await readFileNamed("tls-root", values["tls-root"] as string);
  const cardCert = await readFileNamed("card-cert", values["card-cert"] as string);
  const core = await loadCore();
  let cardKey;
  try {
    cardKey = importPrivateKeyPem(values["card-key"] as string);
  } catch (e) {
    throw new UsageError([
      `--card-key: not an RSA private key in PKCS#8 PEM (${(e as Error).message})`,
    ]);
  }
  const transport = transportFor(tlsRoot);
  const kmsUrl = values["kms-url"] as string;
  const opTerminal = new OperatorTerminal({ transport, mtmsUrl: values["mtms-url"] as string });
  opTerminal.insertCard(new OperatorCard(cardCert, cardKey, { core }));
  const mtmsCert = await opTerminal.mtmsCertificate();
  const terminals: PosTerminal[] = [];
  for (const sn of sns) {
    const pos = new PosTerminal({
      sn,
      pinPad: await PinPad.create({ root, core }),
      transport,
      kmsUrl,
    });
    const challenge = pos.startOperatorAuth();
    const { certificate, cryptogram } = await opTerminal.answerChallenge(challenge);
    await pos.finishOperatorAuth({ certificate, cryptogram });
    const exp = await pos.generateAndExportTk(mtmsCert);
    const up = await opTerminal.uploadTk(values.order as string, sn, exp);
    console.log(
      `${sn}: operator authenticated, TK ${exp.tkKcv} collected (${up.collected}/${up.terminals})`,
    );
    terminals.push(pos);
  }
  console.log(
    `line: ${sns.length} TKs collected; waiting for the TMKs (transfer the order and issue them now)`,
  );
  const deadline = Date.now() + 1000 * (values["wait-s"] as number);
  let failed = 0;
  for (const pos of terminals) {
    try {
      const d = await downloadWhenIssued(pos, deadline);
      console.log(`${pos.sn}: TMK ${d.kcv} installed, KMS says ${d.state}`);
    } catch (e) {
      failed++;
      console.error(`${pos.sn}: ${(e as Error).message}`);
    }
  }
  console.log(
    `line: ${
      terminals.length - failed
    }/${terminals.length} terminals have their TMK, ${failed} failed`,
  );
  if (failed > 0) Deno.exit(1);
}

if (import.meta.main) {
  await runCommand(SPEC, Deno.args, run, [RemoteError]);
}
