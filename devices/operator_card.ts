/**
 * The operator card of CN103714639A (S2-S4): it holds the operator
 * certificate OpWCRT and its private key, signs only while inserted in an
 * operator terminal, and never hands out the private key.
 *
 * Two operations: S4's "private encrypt" with message recovery (PKCS#1
 * v1.5 block type 1 over `Rnd || TimeOne`), and an RSASSA-PKCS1-v1_5
 * SHA-256 signature for TK uploads to the MTMS.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey } from "../src/core/mod.ts";
import { AuthenticationError } from "../src/protocol/errors.ts";
import { cardPrivateEncrypt, cardSign } from "./_crypto.ts";

/** An operator card. */
export class OperatorCard {
  readonly #certificate: string;
  readonly #key: RsaPrivateKey;
  readonly #core: CryptoCore;
  #inserted = true;

  /**
   * @param certificate OpWCRT (PEM).
   * @param privateKey its private key (stays inside the card).
   * @param options `core`: the crypto core the card computes with.
   */
  constructor(certificate: string, privateKey: RsaPrivateKey, options: { core: CryptoCore }) {
    if (typeof certificate !== "string" || !certificate.includes("BEGIN CERTIFICATE")) {
      throw new TypeError("certificate must be a PEM certificate string");
    }
    this.#certificate = certificate;
    this.#key = privateKey;
    this.#core = options.core;
  }

  /** Whether the card is in the reader. */
  get inserted(): boolean {
    return this.#inserted;
  }

  /** Takes the card out: it refuses everything until inserted again. */
  remove(): void {
    this.#inserted = false;
  }

  /** Puts the card back. */
  insert(): void {
    this.#inserted = true;
  }

  #present(step: string): void {
    if (!this.#inserted) {
      throw new AuthenticationError("card_absent", `${step}: no operator card in the reader`);
    }
  }

  /**
   * S3: reads OpWCRT.
   *
   * @returns OpWCRT (PEM).
   * @throws {AuthenticationError} `card_absent`.
   */
  certificate(): string {
    this.#present("S3");
    return this.#certificate;
  }

  /**
   * S4: `C = RSA-private(type-1 pad(message))`, recoverable with OpWCRT's public key.
   *
   * @param message `Rnd || TimeOne`.
   * @returns C, the length of the modulus.
   * @throws {AuthenticationError} `card_absent`.
   */
  async privateEncrypt(message: Uint8Array): Promise<Uint8Array> {
    this.#present("S4");
    return await cardPrivateEncrypt(this.#key, message, this.#core);
  }

  /**
   * Signs data (RSASSA-PKCS1-v1_5, SHA-256), e.g. a TK upload.
   *
   * @param data the bytes to sign.
   * @returns the signature.
   * @throws {AuthenticationError} `card_absent`.
   */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    this.#present("S11");
    return await cardSign(this.#key, data, this.#core);
  }
}
