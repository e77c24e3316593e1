/**
 * The POS terminal: a serial number, a PIN pad, and a transport to the KMS.
 * It relays between the operator terminal and its PIN pad in the factory
 * (S1, S5-S11) and downloads its TMK from the KMS (S16-S17), holding no key
 * itself.
 *
 * @module
 */
import {
  type AuthChallenge,
  AuthResponse,
  type AuthSuccess,
  callJson,
  type CallOptions,
  SERIAL_NUMBER,
  TerminalStatus,
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
}

/** What the terminal saw when it fetched its TMK (S16-S17). */
export interface DownloadResult {
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

  /**
   * S16-S17: requests the TMK from KMS, has the PIN pad install it, and acknowledges its KCV.
   *
   * @returns both KCVs and the state KMS reports.
   * @throws {RemoteError} for a refusal by KMS; {@link IntegrityError} if the PIN pad refuses the TMK.
   */
  async downloadTmk(): Promise<DownloadResult> {
    const base = `${this.#kmsUrl}/v1/terminals/${this.sn}`;
    const opts = { observe: this.#observe };
    const { body } = await callJson(
      this.#transport,
      "POST",
      `${base}/tmk`,
      {},
      TmkDownloadResponse,
      opts,
    );
    const { tmkKcv } = await this.pinPad.installTmk(body);
    const ack = await callJson(
      this.#transport,
      "POST",
      `${base}/tmk/ack`,
      { tmkKcv },
      TerminalStatus,
      opts,
    );
    return { kmsKcv: body.tmkKcv, pinPadKcv: tmkKcv, state: ack.body.state };
  }
}
