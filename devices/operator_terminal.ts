/**
 * The operator terminal of CN103714639A: it answers a POS's challenge with
 * the operator card (S2-S5), relays the PIN pad's encrypted TK to the MTMS
 * with an upload signed by the card (S11), and holds no key of its own.
 *
 * @module
 */
import {
  type AuthChallenge,
  AuthChallenge as AuthChallengeSchema,
  AuthenticationError,
  type AuthResponse,
  callJson,
  type CallOptions,
  encodeRndTime,
  ORDER_ID,
  SERIAL_NUMBER,
  TkUploadResponse,
  tkUploadSigningInput,
  type Transport,
  TransportCertificateResponse,
} from "../src/protocol/mod.ts";
import { fromHex, toHex } from "../src/crypto/mod.ts";
import type { OperatorCard } from "./operator_card.ts";
import type { TkExport } from "./pin_pad.ts";

/** Options of {@link OperatorTerminal}. */
export interface OperatorTerminalOptions {
  /** Reaches the MTMS. */
  transport: Transport;
  /** MTMS base URL. */
  mtmsUrl: string;
  /** Clock for TimeOne (default `Date.now`). */
  now?: () => number;
  observe?: CallOptions["observe"];
}

/** An operator terminal with a card reader. */
export class OperatorTerminal {
  readonly #transport: Transport;
  readonly #mtmsUrl: string;
  readonly #now: () => number;
  readonly #observe: CallOptions["observe"];
  #card: OperatorCard | undefined;

  /** @param options transport, MTMS URL, clock. */
  constructor(options: OperatorTerminalOptions) {
    this.#transport = options.transport;
    this.#mtmsUrl = options.mtmsUrl.replace(/\/$/, "");
    this.#now = options.now ?? Date.now;
    this.#observe = options.observe;
  }

  /** @param card the operator card put into the reader. */
  insertCard(card: OperatorCard): void {
    card.insert();
    this.#card = card;
  }

  /** Takes the card out of the reader. */
  removeCard(): void {
    this.#card?.remove();
    this.#card = undefined;
  }

  #cardOrThrow(step: string): OperatorCard {
    if (!this.#card || !this.#card.inserted) {
      throw new AuthenticationError("card_absent", `${step}: no operator card detected`);
    }
    return this.#card;
  }

  /**
   * S2-S5: checks a card is present, reads OpWCRT, takes TimeOne, has the
   * card compute `C = RSA-private(type-1 pad(Rnd || TimeOne))`.
   *
   * @param challenge the POS's S1 message.
   * @returns OpWCRT and C, plus TimeOne for the trace.
   * @throws {AuthenticationError} `card_absent`; {@link ValidationError} for a malformed challenge.
   */
  async answerChallenge(challenge: AuthChallenge): Promise<AuthResponse & { timeOneMs: number }> {
    const { rnd } = AuthChallengeSchema.parse(challenge, "challenge");
    const card = this.#cardOrThrow("S2");
    const certificate = card.certificate(); // S3
    const timeOneMs = this.#now(); // S4
    const c = await card.privateEncrypt(encodeRndTime(fromHex(rnd), timeOneMs));
    return { certificate, cryptogram: toHex(c), timeOneMs }; // S5
  }

  /**
   * Fetches the MTMS transport certificate (the PIN pad checks its chain
   * before it encrypts TK under it).
   *
   * @returns the certificate (PEM).
   */
  async mtmsCertificate(): Promise<string> {
    const { body } = await callJson(
      this.#transport,
      "GET",
      `${this.#mtmsUrl}/v1/transport-certificate`,
      undefined,
      TransportCertificateResponse,
      { observe: this.#observe },
    );
    return body.certificate;
  }

  /**
   * S11: uploads one terminal's encrypted TK to the MTMS, signed by the operator card.
   *
   * @param orderId the production order.
   * @param sn the terminal's serial number.
   * @param tk the PIN pad's export.
   * @returns the MTMS answer.
   * @throws {AuthenticationError} `card_absent`; {@link RemoteError} for a refusal by the MTMS.
   */
  async uploadTk(orderId: string, sn: string, tk: TkExport): Promise<TkUploadResponse> {
    ORDER_ID.parse(orderId, "orderId");
    SERIAL_NUMBER.parse(sn, "sn");
    const card = this.#cardOrThrow("S11");
    const fields = {
      sn,
      encryptedTk: tk.encryptedTk,
      tkKcv: tk.tkKcv,
      tkHash: tk.tkHash,
      signedAt: new Date(this.#now()).toISOString(),
    };
    const signature = await card.sign(tkUploadSigningInput(orderId, fields));
    const { body } = await callJson(
      this.#transport,
      "POST",
      `${this.#mtmsUrl}/v1/orders/${orderId}/tks`,
      { ...fields, operatorCertificate: card.certificate(), signature: toHex(signature) },
      TkUploadResponse,
      { observe: this.#observe },
    );
    return body;
  }
}
