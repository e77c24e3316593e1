/**
 * The POS terminal's side of flow B (CN103714641A): it relays between its
 * PIN pad and the KMS over an untrusted network and holds no key itself.
 * Each step can run alone (tests drive faults between them) or all in
 * order with {@link FlowBTerminal.run}, which reports what each check saw
 * to an optional trace (the demo prints it with the patent's step numbers).
 *
 * @module
 */
import {
  callJson,
  type CallOptions,
  ChallengeResponse,
  ChallengeResult,
  FlowBTerminalStatus,
  FlowBTmkResponse,
  HsmKeyResponse,
  SERIAL_NUMBER,
  type Transport,
  TransportKeyResponse,
} from "../src/protocol/mod.ts";
import type { PinPadFlowB } from "./pin_pad_flow_b.ts";

/** Options of {@link FlowBTerminal}. */
export interface FlowBTerminalOptions {
  /** Serial number. */
  sn: string;
  /** The PIN pad's flow B application. */
  pinPad: PinPadFlowB;
  /** Reaches the KMS. */
  transport: Transport;
  /** KMS base URL. */
  kmsUrl: string;
  /** Sees each HTTP exchange (traces, scans). */
  observe?: CallOptions["observe"];
}

/** One step of a run, for the trace: the patent's step, what happened, what each check saw. */
export interface FlowBStep {
  step: string;
  what: string;
  saw: string;
}

/** What a complete run saw. */
export interface FlowBResult {
  sn: string;
  /** KCV of AUK as the PIN pad and the KMS computed it. */
  aukKcv: string;
  /** KCV KMS announced with the TMK. */
  kmsKcv: string;
  /** KCV of the TMK the PIN pad stored. */
  pinPadKcv: string;
  /** State KMS reports after the acknowledgement. */
  state: string;
}

/** A POS terminal running flow B. */
export class FlowBTerminal {
  readonly sn: string;
  readonly pinPad: PinPadFlowB;
  readonly #transport: Transport;
  readonly #base: string;
  readonly #observe: CallOptions["observe"];

  /**
   * @param options serial number, PIN pad, transport, KMS URL.
   * @throws {ValidationError} for a badly formed serial number.
   */
  constructor(options: FlowBTerminalOptions) {
    this.sn = SERIAL_NUMBER.parse(options.sn, "sn");
    this.pinPad = options.pinPad;
    this.#transport = options.transport;
    this.#base = `${options.kmsUrl.replace(/\/$/, "")}/v1/terminals/${this.sn}`;
    this.#observe = options.observe;
  }

  /**
   * S1: asks KMS for Pu_hsm; the PIN pad checks the certificate and stores it.
   *
   * @returns what KMS answered and the PIN pad saw.
   * @throws {RemoteError} for a KMS refusal; {@link AuthenticationError} `hsm_certificate_untrusted`.
   */
  async requestHsmKey(): Promise<FlowBStep> {
    const { body } = await callJson(
      this.#transport,
      "POST",
      `${this.#base}/hsm-key`,
      undefined,
      HsmKeyResponse,
      { observe: this.#observe },
    );
    const { subject } = await this.pinPad.installHsmKey(this.sn, body);
    return {
      step: "S1",
      what: "KMS's HSM made Pu_hsm/Pr_hsm; Pu_hsm certified by the KMS CA",
      saw: `certificate chains to the KMS root, purpose terminal-hsm, subject ${subject}` +
        (body.rotated === "yes" ? " (rotated)" : ""),
    };
  }

  /**
   * S2-S4: the PIN pad makes TEK + AUK; AUK under Pu_hsm and Pu_tek go to
   * KMS, whose HSM recovers AUK and checks its KCV and the TK hash.
   *
   * @returns what each side saw.
   * @throws {RemoteError} for a KMS refusal.
   */
  async sendTransportKey(): Promise<FlowBStep & { aukKcv: string }> {
    const req = await this.pinPad.makeTransportKey();
    const { body } = await callJson(
      this.#transport,
      "PUT",
      `${this.#base}/transport-key`,
      req,
      TransportKeyResponse,
      { observe: this.#observe },
    );
    return {
      step: "S2-S4",
      what: "PIN pad made TEK (RSA-2048) + AUK; AUK under Pu_hsm (OAEP-SHA256) with Pu_tek",
      saw: `KMS recovered AUK, KCV ${body.aukKcv} (PIN pad ${req.aukKcv}), TK hash ` +
        `${req.tkHash.slice(0, 8)}... matches, Pu_tek ${body.tekBits} bits`,
      aukKcv: body.aukKcv,
    };
  }

  /**
   * S5 (claim 4): Rnd1 -> Crnd1 + Rnd2 -> Crnd2; a pass opens a download session.
   *
   * @returns what each side saw.
   * @throws {RemoteError} for a KMS refusal; {@link AuthenticationError} if the KMS fails the PIN pad's check.
   */
  async authenticate(): Promise<FlowBStep> {
    const opts = { observe: this.#observe };
    const ch = await callJson(
      this.#transport,
      "POST",
      `${this.#base}/challenges`,
      this.pinPad.challenge(),
      ChallengeResponse,
      opts,
    );
    const answer = await this.pinPad.answer(ch.body);
    const r = await callJson(
      this.#transport,
      "POST",
      `${this.#base}/challenges/${ch.body.challengeId}/response`,
      answer,
      ChallengeResult,
      opts,
    );
    return {
      step: "S5",
      what: "mutual authentication with AUK",
      saw: `PIN pad: TDES^-1(AUK, Crnd1) = Rnd1; KMS: TDES^-1(AUK, Crnd2) = Rnd2; ` +
        `session until ${r.body.sessionExpiresAt}`,
    };
  }

  /**
   * S6-S7: downloads TMK under Pu_tek; the PIN pad decrypts with Pr_tek,
   * checks the KCV and stores it (TR-31); the terminal acknowledges.
   *
   * @returns both KCVs and the state KMS reports.
   * @throws {RemoteError} for a KMS refusal; {@link IntegrityError} if the PIN pad refuses the TMK.
   */
  async downloadTmk(): Promise<FlowBStep & { kmsKcv: string; pinPadKcv: string; state: string }> {
    const opts = { observe: this.#observe };
    const { body } = await callJson(
      this.#transport,
      "POST",
      `${this.#base}/tmk`,
      undefined,
      FlowBTmkResponse,
      opts,
    );
    const { tmkKcv } = await this.pinPad.installTmk(this.sn, body);
    const ack = await callJson(
      this.#transport,
      "POST",
      `${this.#base}/tmk/ack`,
      { tmkKcv },
      FlowBTerminalStatus,
      opts,
    );
    return {
      step: "S6-S7",
      what: "TMK under Pu_tek (OAEP-SHA256); PIN pad decrypted with Pr_tek, stored as TR-31",
      saw: `KMS KCV ${body.tmkKcv}, PIN pad KCV ${tmkKcv}; KMS state ${ack.body.state}`,
      kmsKcv: body.tmkKcv,
      pinPadKcv: tmkKcv,
      state: ack.body.state,
    };
  }

  /**
   * S1-S7 in order.
   *
   * @param trace receives each step as it completes.
   * @returns the KCVs on each side and the final state.
   * @throws the first step's error; the steps before it stay done.
   */
  async run(trace: (s: FlowBStep) => void = () => {}): Promise<FlowBResult> {
    // Each step runs whether or not anyone traces it (no `trace?.(await ...)`,
    // which would skip the step itself when there is no trace).
    const s1 = await this.requestHsmKey();
    trace(s1);
    const tk = await this.sendTransportKey();
    trace(tk);
    const s5 = await this.authenticate();
    trace(s5);
    const d = await this.downloadTmk();
    trace(d);
    return {
      sn: this.sn,
      aukKcv: tk.aukKcv,
      kmsKcv: d.kmsKcv,
      pinPadKcv: d.pinPadKcv,
      state: d.state,
    };
  }
}
