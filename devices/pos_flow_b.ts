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
  ChallengeResponse,
  ChallengeResult,
  FlowBTerminalStatus,
  FlowBTmkResponse,
  HsmKeyResponse,
  TransportKeyResponse,
} from "../src/protocol/mod.ts";
import type { PinPadFlowB } from "./pin_pad_flow_b.ts";
import { KmsTerminal, type KmsTerminalOptions, short } from "./_terminal.ts";

/** Options of {@link FlowBTerminal}: serial number, flow B PIN pad, transport, KMS URL, observer. */
export type FlowBTerminalOptions = KmsTerminalOptions<PinPadFlowB>;

/** One line of the trace: the patent's step, who acted, what happened and what the check saw. */
export interface FlowBTraceLine {
  step: string;
  actor: string;
  text: string;
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
export class FlowBTerminal extends KmsTerminal<PinPadFlowB> {
  /**
   * S1: asks KMS for Pu_hsm; the PIN pad checks the certificate and stores it.
   *
   * @returns the trace lines.
   * @throws {RemoteError} for a KMS refusal; {@link AuthenticationError} `hsm_certificate_untrusted`.
   */
  async requestHsmKey(): Promise<{ lines: FlowBTraceLine[] }> {
    const req = await this.pinPad.hsmKeyRequest(this.sn);
    const { body } = await callJson(
      this.transport,
      "POST",
      `${this.base}/hsm-key`,
      req,
      HsmKeyResponse,
      { observe: this.observe },
    );
    const { subject } = await this.pinPad.installHsmKey(this.sn, body);
    return {
      lines: [
        {
          step: "S1",
          actor: "POS -> KMS",
          text: `POST /v1/terminals/${this.sn}/hsm-key, signed by the PIN pad's device key over ` +
            `SN, time and nonce: KMS checked the device certificate and signature; its HSM made ` +
            `Pu_hsm/Pr_hsm (RSA-2048, ` +
            `Pr_hsm under the LMK); Pu_hsm certified by the KMS CA` +
            (body.rotated === "yes" ? " (replaced an earlier pair)" : ""),
        },
        {
          step: "S1",
          actor: "PIN pad",
          text: `certificate "${subject}" chains through the KMS CA to the root set at ` +
            `flashing, issued by the KMS CA set at flashing, purpose terminal-hsm, serialNumber = ` +
            `SN: Pu_hsm stored`,
        },
      ],
    };
  }

  /**
   * S2-S4: the PIN pad makes TEK + AUK; AUK under Pu_hsm and Pu_tek go to
   * KMS, whose HSM recovers AUK and checks its KCV and the TK hash.
   *
   * @returns the trace lines and AUK's KCV as KMS stored it.
   * @throws {RemoteError} for a KMS refusal.
   */
  async sendTransportKey(): Promise<{ lines: FlowBTraceLine[]; aukKcv: string }> {
    const req = await this.pinPad.makeTransportKey();
    const { body } = await callJson(
      this.transport,
      "PUT",
      `${this.base}/transport-key`,
      req,
      TransportKeyResponse,
      { observe: this.observe },
    );
    return {
      aukKcv: body.aukKcv,
      lines: [
        {
          step: "S2",
          actor: "PIN pad",
          text: `TK = TEK (RSA-2048 key pair) + AUK (double-length TDES, odd parity, KCV ` +
            `${req.aukKcv}); Pr_tek and AUK stored as TR-31 blocks under the storage key; TK hash ` +
            `${short(req.tkHash)} re-checked after storing`,
        },
        {
          step: "S3",
          actor: "PIN pad -> KMS",
          text: `PUT /v1/terminals/${this.sn}/transport-key: AUK under Pu_hsm (RSA-OAEP-SHA256) ` +
            `${short(req.encryptedAuk)} with Pu_tek (SPKI PEM), AUK KCV and TK hash; signed by ` +
            `the PIN pad's device key (RSASSA-PKCS1-v1_5 SHA-256)`,
        },
        {
          step: "S4",
          actor: "KMS HSM",
          text: "device certificate chains to the root, serialNumber = SN, signature verified; " +
            `AUK recovered with Pr_hsm into a key block under the LMK; KCV ${body.aukKcv} == ` +
            `${req.aukKcv}; TK hash over AUK and Pu_tek (${body.tekBits} bits) matches`,
        },
      ],
    };
  }

  /**
   * S5 (claim 4): Rnd1 -> Crnd1 + Rnd2 -> Crnd2; a pass opens a download session.
   *
   * @returns the trace lines.
   * @throws {RemoteError} for a KMS refusal; {@link AuthenticationError} if the KMS fails the PIN pad's check.
   */
  async authenticate(): Promise<{ lines: FlowBTraceLine[] }> {
    const opts = { observe: this.observe };
    const request = await this.pinPad.challenge(this.sn);
    const ch = await callJson(
      this.transport,
      "POST",
      `${this.base}/challenges`,
      request,
      ChallengeResponse,
      opts,
    );
    const answer = await this.pinPad.answer(this.sn, ch.body);
    const r = await callJson(
      this.transport,
      "POST",
      `${this.base}/challenges/${ch.body.challengeId}/response`,
      answer,
      ChallengeResult,
      opts,
    );
    return {
      lines: [
        {
          step: "S5",
          actor: "PIN pad -> KMS",
          text:
            `Rnd1 = ${request.rnd1}, signed by the device key (only its holder opens challenges)`,
        },
        {
          step: "S5",
          actor: "KMS HSM",
          text: `Crnd1 = TDES(AUK, Rnd1) = ${ch.body.crnd1}, Rnd2 = ${ch.body.rnd2} ` +
            `(challenge single-use, expires ${ch.body.expiresAt})`,
        },
        {
          step: "S5",
          actor: "PIN pad",
          text: `TDES^-1(AUK, Crnd1) == Rnd1: the KMS holds AUK; Crnd2 = TDES(AUK, Rnd2) = ` +
            `${answer.crnd2}, signed by the device key`,
        },
        {
          step: "S5",
          actor: "KMS HSM",
          text: `TDES^-1(AUK, Crnd2) == Rnd2: the terminal holds AUK; mutual authentication ` +
            `passed, session ${r.body.sessionId} until ${r.body.sessionExpiresAt}; its key = ` +
            `KDF(AUK, session id || Rnd1 || Rnd2), derived inside the HSM`,
        },
      ],
    };
  }

  /**
   * S6-S7: downloads TMK under Pu_tek; the PIN pad checks the tag under
   * AUK, decrypts with Pr_tek, checks the KCV and stores it (TR-31); the
   * terminal acknowledges.
   *
   * @returns the trace lines, both KCVs and the state KMS reports.
   * @throws {RemoteError} for a KMS refusal; {@link IntegrityError} if the PIN pad refuses the TMK.
   */
  async downloadTmk(): Promise<
    { lines: FlowBTraceLine[]; kmsKcv: string; pinPadKcv: string; state: string }
  > {
    const opts = { observe: this.observe };
    const s6 = await this.pinPad.sessionMac("S6", this.sn);
    const session = `${this.base}/sessions/${s6.sessionId}`;
    const { body } = await callJson(
      this.transport,
      "POST",
      `${session}/tmk`,
      { mac: s6.mac },
      FlowBTmkResponse,
      opts,
    );
    const { tmkKcv } = await this.pinPad.installTmk(this.sn, body);
    const s7 = await this.pinPad.sessionMac("S7", this.sn, tmkKcv);
    const ack = await callJson(
      this.transport,
      "POST",
      `${session}/tmk/ack`,
      { tmkKcv, mac: s7.mac },
      FlowBTerminalStatus,
      opts,
    );
    return {
      kmsKcv: body.tmkKcv,
      pinPadKcv: tmkKcv,
      state: ack.body.state,
      lines: [
        {
          step: "S6",
          actor: "KMS HSM",
          text: `request MAC ${s6.mac} under the session key verified in the HSM; ` +
            `TMK generated under the LMK, sent under Pu_tek (RSA-OAEP-SHA256) ` +
            `${
              short(body.encryptedTmk)
            } with KCV ${body.tmkKcv} and tag ${body.tmkMac} under AUK; ` +
            `session used up`,
        },
        {
          step: "S7",
          actor: "PIN pad",
          text: `TK hash checked; tag verified under AUK; TMK decrypted with Pr_tek, KCV ` +
            `${tmkKcv} == ${body.tmkKcv}; TMK stored as a TR-31 block under the storage key ` +
            `(claim 3); ack MACed under the session key -> KMS state "${ack.body.state}"`,
        },
      ],
    };
  }

  /**
   * S1-S7 in order.
   *
   * @param trace receives the trace lines of each step as it completes.
   * @returns the KCVs on each side and the final state.
   * @throws the first step's error; the steps before it stay done.
   */
  async run(trace: (line: FlowBTraceLine) => void = () => {}): Promise<FlowBResult> {
    const s1 = await this.requestHsmKey();
    s1.lines.forEach(trace);
    const tk = await this.sendTransportKey();
    tk.lines.forEach(trace);
    const s5 = await this.authenticate();
    s5.lines.forEach(trace);
    const d = await this.downloadTmk();
    d.lines.forEach(trace);
    return {
      sn: this.sn,
      aukKcv: tk.aukKcv,
      kmsKcv: d.kmsKcv,
      pinPadKcv: d.pinPadKcv,
      state: d.state,
    };
  }
}
