/**
 * The POS terminal's side of TR-34 2-pass (ASC X9 TR 34-2019): it relays
 * between its PIN pad (the KRD) and the KMS (the KDH) and holds no key. Each
 * step can run alone (tests drive faults between them) or all in order with
 * {@link Tr34Terminal.run}, which reports what each check saw to an optional
 * trace, named by the TR-34 token that moves.
 *
 * @module
 */
import {
  callJson,
  Tr34BindResponse,
  Tr34KeyTokenResponse,
  Tr34TerminalStatus,
} from "../src/protocol/mod.ts";
import type { PinPadTr34 } from "./pin_pad_tr34.ts";
import type { FlowBTraceLine } from "./pos_flow_b.ts";
import { KmsTerminal, type KmsTerminalOptions, short } from "./_terminal.ts";

/**
 * Options of {@link Tr34Terminal}, as flow B's terminal takes them (serial
 * number, transport, KMS URL, observer) with the PIN pad's TR-34 application.
 */
export type Tr34TerminalOptions = KmsTerminalOptions<PinPadTr34>;

/** One line of the trace, as flow B's: the token or step, who acted, what the check saw. */
export type Tr34TraceLine = FlowBTraceLine;

/** A POS terminal loading its TMK by TR-34 2-pass. */
export class Tr34Terminal extends KmsTerminal<PinPadTr34> {
  /**
   * Binding: CT_KRD to the KMS, CT_KDH back; the PIN pad binds to the KDH.
   *
   * @throws {RemoteError} for a KMS refusal; {@link Tr34Error} if the PIN pad refuses the KDH.
   */
  async bind(): Promise<{ lines: Tr34TraceLine[] }> {
    const credentialToken = await this.pinPad.credentialToken();
    const { body } = await callJson(
      this.transport,
      "POST",
      `${this.base}/tr34/bind`,
      { credentialToken },
      Tr34BindResponse,
      { observe: this.observe },
    );
    const { kdh } = await this.pinPad.acceptKdhCredential(body.kdhCredentialToken);
    return {
      lines: [
        {
          step: "CT_KRD",
          actor: "PIN pad -> KMS",
          text: `POST /v1/terminals/${this.sn}/tr34/bind: credential token ` +
            `${short(credentialToken)} with the tr34-krd device certificate`,
        },
        {
          step: "CT_KRD",
          actor: "KMS",
          text: "KRD certificate chains to the device root, purpose tr34-krd, serialNumber = " +
            `SN, keyEncipherment: terminal bound (${body.bound})`,
        },
        {
          step: "CT_KDH",
          actor: "PIN pad",
          text: `KDH certificate "${kdh}" issued by the root set at flashing, valid, ` +
            "digitalSignature, not on the CA's CRL: the PIN pad is bound to this KDH",
        },
      ],
    };
  }

  /**
   * 2-pass key transport and acknowledgement: RT_KRD to the KMS, KT_KDH
   * and a nonce back; the PIN pad opens the token, stores the TMK and proves
   * it with a MAC over the nonce and its KCV, which the terminal sends as the
   * acknowledgement.
   *
   * @throws {RemoteError} for a KMS refusal; {@link Tr34Error} if the PIN pad refuses the token.
   */
  async loadTmk(): Promise<
    { lines: Tr34TraceLine[]; kmsKcv: string; pinPadKcv: string; state: string }
  > {
    const opts = { observe: this.observe };
    const randomNumberToken = this.pinPad.randomNumberToken();
    const { body } = await callJson(
      this.transport,
      "POST",
      `${this.base}/tr34/key-token`,
      { credentialToken: await this.pinPad.credentialToken(), randomNumberToken },
      Tr34KeyTokenResponse,
      opts,
    );
    const got = await this.pinPad.installTmk(body.keyToken, body.tmkKcv);
    const proof = await this.pinPad.proveTmk(this.sn, body.ackNonce);
    const ack = await callJson(
      this.transport,
      "POST",
      `${this.base}/tr34/ack`,
      proof,
      Tr34TerminalStatus,
      opts,
    );
    return {
      kmsKcv: body.tmkKcv,
      pinPadKcv: got.tmkKcv,
      state: ack.body.state,
      lines: [
        {
          step: "RT_KRD",
          actor: "PIN pad -> KMS",
          text: `POST /v1/terminals/${this.sn}/tr34/key-token: random number token ` +
            `${randomNumberToken} (16-byte random number, single use)`,
        },
        {
          step: "KT_KDH",
          actor: "KMS HSM",
          text: `TMK made under the LMK; TR-34 key block (header ${got.header}) enveloped to ` +
            `the KRD inside the HSM (${got.cipher}-CBC, content key RSAES-OAEP-SHA256); signed ` +
            `with the KDH key block over the random number: key token ${short(body.keyToken)}, ` +
            `KCV ${body.tmkKcv}`,
        },
        {
          step: "KT_KDH",
          actor: "PIN pad",
          text: "signed by the bound KDH, random number its own and used up, enveloped to this " +
            `PIN pad, header allowed in the TMK slot; KCV ${got.tmkKcv} == ${body.tmkKcv}; TMK ` +
            "stored as a TR-31 block under the storage key",
        },
        {
          step: "ack",
          actor: "PIN pad -> KMS",
          text: `POST /v1/terminals/${this.sn}/tr34/ack: KCV ${proof.tmkKcv}, nonce ` +
            `${short(proof.nonce)}, MAC ${proof.mac} under KDF(TMK, "TMK ack", SN)`,
        },
        {
          step: "ack",
          actor: "KMS HSM",
          text: "nonce issued for this SN, fresh and unused; MAC verified under the key derived " +
            `from the TMK block: KMS state "${ack.body.state}"`,
        },
      ],
    };
  }

  /**
   * Binding, key transport and acknowledgement in order.
   *
   * @param trace receives each step's lines as it completes.
   * @returns the KCVs on each side and the final state.
   */
  async run(trace: (line: Tr34TraceLine) => void = () => {}): Promise<Tr34Result> {
    const b = await this.bind();
    b.lines.forEach(trace);
    const l = await this.loadTmk();
    l.lines.forEach(trace);
    return { sn: this.sn, kmsKcv: l.kmsKcv, pinPadKcv: l.pinPadKcv, state: l.state };
  }
}

/** What a complete run saw. */
export interface Tr34Result {
  sn: string;
  /** KCV the KMS announced with the key token. */
  kmsKcv: string;
  /** KCV of the TMK the PIN pad stored. */
  pinPadKcv: string;
  /** State the KMS reports after the acknowledgement. */
  state: string;
}
