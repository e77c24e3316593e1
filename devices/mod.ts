/**
 * Simulated devices of both flows: operator card, operator terminal, POS
 * terminal and PIN pad. Each takes an injected transport (`(Request) =>
 * Promise<Response>`), so tests wire them to a server handler and the demo
 * over HTTP.
 *
 * @module
 */
export { OperatorCard } from "./operator_card.ts";
export { OperatorTerminal, type OperatorTerminalOptions } from "./operator_terminal.ts";
export { PinPad, type PinPadOptions, type PinPadState, type TkExport } from "./pin_pad.ts";
export { type DownloadResult, PosTerminal, type PosTerminalOptions } from "./pos_terminal.ts";
