/**
 * What the POS terminals of flow B and TR-34 share: the terminal's serial
 * number and PIN pad, and the way to its routes on the KMS
 * (`/v1/terminals/{sn}`), through a transport an observer may watch.
 *
 * @module
 */
import { type CallOptions, SERIAL_NUMBER, type Transport } from "../src/protocol/mod.ts";

/** Options of a {@link KmsTerminal}: serial number, PIN pad, transport, KMS URL, observer. */
export interface KmsTerminalOptions<P> {
  /** Serial number. */
  sn: string;
  /** The PIN pad's application. */
  pinPad: P;
  /** Reaches the KMS. */
  transport: Transport;
  /** KMS base URL. */
  kmsUrl: string;
  /** Sees each HTTP exchange (traces, scans). */
  observe?: CallOptions["observe"];
}

/** A POS terminal relaying between its PIN pad `P` and the KMS. */
export class KmsTerminal<P> {
  readonly sn: string;
  readonly pinPad: P;
  protected readonly transport: Transport;
  /** This terminal's routes on the KMS: `{kmsUrl}/v1/terminals/{sn}`. */
  protected readonly base: string;
  protected readonly observe: CallOptions["observe"];

  /**
   * @param o serial number, PIN pad, transport, KMS URL, observer.
   * @throws {ValidationError} for a badly formed serial number.
   */
  constructor(o: KmsTerminalOptions<P>) {
    this.sn = SERIAL_NUMBER.parse(o.sn, "sn");
    this.pinPad = o.pinPad;
    this.transport = o.transport;
    this.base = `${o.kmsUrl.replace(/\/$/, "")}/v1/terminals/${this.sn}`;
    this.observe = o.observe;
  }
}

/**
 * A long hex value shortened for a trace line.
 *
 * @param hex the value.
 * @param n how many hex digits to keep.
 * @returns the first `n` digits and the length in bytes, or `hex` if no longer than `n`.
 */
export function short(hex: string, n = 16): string {
  return hex.length > n ? `${hex.slice(0, n)}...(${hex.length / 2} bytes)` : hex;
}
