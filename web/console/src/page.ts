/// <reference lib="dom" />
/**
 * What every page of the console gets: the session, the element to draw
 * in, the rest of the location's hash, a place to say what happened, and
 * a way to stop live updates when the operator leaves the page.
 *
 * @module
 */
import type { Session } from "./api.ts";

/** A page's context. */
export interface PageContext {
  session: Session;
  main: HTMLElement;
  /** The hash after the page's id, split on `/` (e.g. an order id). */
  args: string[];
  /** Runs `fn` when the operator leaves the page. */
  onLeave(fn: () => void): void;
  /** Shows a message in the status line. */
  say(message: string, error?: boolean): void;
  /** Goes to a hash route. */
  go(hash: string): void;
}

/** Draws a page. */
export type Page = (ctx: PageContext) => Promise<void>;

/** The message of a thrown value. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
