/**
 * The POS terminal: a serial number, a PIN pad, and a transport to the KMS.
 * It relays between the operator terminal and its PIN pad in the factory
 * (S1, S5-S11) and downloads its TMK from the KMS (S16-S17), holding no key
 * itself: it asks the KMS for a nonce, has the PIN pad prove TK over it to
 * download, and prove TMK over the nonce that comes with the TMK to
 * acknowledge (`src/protocol/flow_a_proof.ts`).
 *
 * @module
 */
import {
  type AuthChallenge,
  AuthResponse,
  type AuthSuccess,
  callJson,
  type CallOptions,
  RemoteError,
  SERIAL_NUMBER,
  TerminalStatus,
  type TmkAckProofRequest,
  TmkChallengeResponse,
  type TmkDownloadRequest,
  TmkDownloadResponse,
  type Transport,
} from "../src/protocol/mod.ts";
import type { PinPad, TkExport } from "./pin_pad.ts";

/** Options of {@link PosTerminal}. */
export interface PosTerminalOptions {
  /** Serial number. */
  sn: string;
  pinPad: PinPad;
  /** Reaches the KMS. */
  transport: Transport;
  /** KMS base URL, e.g. `http://127.0.0.1:8443`. */
  kmsUrl: string;
  /** Sees each HTTP exchange (traces, scans). */
  observe?: CallOptions["observe"];
  /**
   * How long in all the terminal waits on `429 rate_limited` answers (the
   * KMS's backoff after failures by others for its SN or address) before
   * it gives up; default 30 s.
   */
  maxRetryWaitMs?: number;
}

/** What the terminal saw when it fetched its TMK (S16-S17). */
export interface DownloadResult {
  /** The download's MAC: proof of TK (under KDF(TK, "TMK download", SN)). */
  downloadMac: string;
  /** The acknowledgement's MAC: proof of TMK (under KDF(TMK, "TMK ack", SN)). */
  ackMac: string;
  /** KCV KMS announced with the TMK. */
  kmsKcv: string;
  /** KCV of the TMK the PIN pad stored. */
  pinPadKcv: string;
  /** State KMS reports after the acknowledgement. */
  state: string;
}

/** A POS terminal. */
export class PosTerminal {
  readonly sn: string;
  readonly pinPad: PinPad;
  readonly #transport: Transport;
  readonly #kmsUrl: string;
  readonly #observe: CallOptions["observe"];
  readonly #maxRetryWaitMs: number;

  /**
   * @param options serial number, PIN pad, transport, KMS URL.
   * @throws {ValidationError} for a badly formed serial number.
   */
  constructor(options: PosTerminalOptions) {
    this.sn = SERIAL_NUMBER.parse(options.sn, "sn");
    this.pinPad = options.pinPad;
    this.#transport = options.transport;
    this.#kmsUrl = options.kmsUrl.replace(/\/$/, "");
    this.#observe = options.observe;
    this.#maxRetryWaitMs = options.maxRetryWaitMs ?? 30_000;
  }

  /**
   * S1: asks the PIN pad for `Rnd`, to send to the operator terminal.
   *
   * @returns the challenge.
   */
  startOperatorAuth(): AuthChallenge {
    return this.pinPad.operatorChallenge();
  }

  /**
   * S6-S9: hands the operator terminal's answer to the PIN pad.
   *
   * @param answer the S5 message (checked against its schema first).
   * @returns what the checks saw.
   * @throws {AuthenticationError} with the failed check's code.
   */
  async finishOperatorAuth(answer: unknown): Promise<AuthSuccess> {
    return await this.pinPad.verifyOperator(AuthResponse.parse(answer, "answer"));
  }

  /**
   * S10-S11 (terminal side): the PIN pad generates TK and exports it under
   * the MTMS transport certificate.
   *
   * @param mtmsCertificate the MTMS transport certificate (PEM).
   * @returns the export for the operator terminal to upload.
   */
  async generateAndExportTk(mtmsCertificate: string): Promise<TkExport> {
    await this.pinPad.generateTk();
    return await this.pinPad.exportTk(mtmsCertificate);
  }

  /** A POST to the KMS, waiting out `429` answers up to the retry budget left in `budget`. */
  async #post<T>(
    path: string,
    body: unknown,
    schema: Parameters<typeof callJson<T>>[4],
    budget: { ms: number },
  ): Promise<T> {
    const url = `${this.#kmsUrl}/v1/terminals/${this.sn}${path}`;
    for (;;) {
      try {
        return (await callJson(this.#transport, "POST", url, body, schema, {
          observe: this.#observe,
        })).body;
      } catch (e) {
        const wait = e instanceof RemoteError && e.status === 429 ? e.retryAfterMs ?? 1000 : -1;
        if (wait < 0 || wait > budget.ms) throw e;
        budget.ms -= wait;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * S16-S17: asks the KMS for a nonce, downloads the TMK with the PIN pad's
   * proof of TK, has the PIN pad install it, and acknowledges its KCV with
   * the PIN pad's proof of TMK over the nonce that came with it.
   *
   * @returns both KCVs, both proofs and the state KMS reports.
   * @throws {RemoteError} for a refusal by KMS; {@link IntegrityError} if the PIN pad refuses the TMK.
   */
  async downloadTmk(): Promise<DownloadResult> {
    const budget = { ms: this.#maxRetryWaitMs };
    const challenge = await this.#post("/tmk/challenge", undefined, TmkChallengeResponse, budget);
    const download: TmkDownloadRequest = {
      nonce: challenge.nonce,
      mac: await this.pinPad.proveTk(this.sn, challenge.nonce),
    };
    const tmk = await this.#post("/tmk", download, TmkDownloadResponse, budget);
    const { tmkKcv } = await this.pinPad.installTmk(tmk);
    const proof = await this.pinPad.proveTmk(this.sn, tmk.ackNonce);
    const ack: TmkAckProofRequest = { tmkKcv, nonce: tmk.ackNonce, mac: proof.mac };
    const status = await this.#post("/tmk/ack", ack, TerminalStatus, budget);
    return {
      downloadMac: download.mac,
      ackMac: ack.mac,
      kmsKcv: tmk.tmkKcv,
      pinPadKcv: tmkKcv,
      state: status.state,
    };
  }
}
