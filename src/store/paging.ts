/**
 * Streaming over an order's terminals page by page (keyset paging by SN), so
 * bulk issuance of a million-terminal order holds one page in memory at a
 * time, whichever store implementation is behind the interface.
 *
 * @module
 */
import { checkInt } from "./_check.ts";
import type { KmsStore } from "./api.ts";
import type { Terminal, TerminalFilter } from "./types.ts";

/** Options of {@link terminalPages}. */
export interface TerminalPagesOptions {
  /** Terminals per page, 1 to 10000 (default 1000). */
  pageSize?: number;
  /** Which terminals (default "all"). */
  filter?: TerminalFilter;
}

/**
 * Yields the terminals of an order in SN order, one page at a time. Each
 * page is read after the previous one was consumed, starting after the last
 * SN seen: rows changed meanwhile (e.g. TMKs issued with filter
 * "without_tmk") neither repeat nor get skipped.
 *
 * @param store the store (only its `listTerminals` is called).
 * @param orderId the production order.
 * @param options page size and filter.
 * @returns an async iterator of non-empty pages.
 * @throws {RangeError} for a bad page size.
 * @example
 * ```ts
 * for await (const page of terminalPages(store, "ORDER-1", { filter: "without_tmk" })) {
 *   // issue a TMK for each terminal of the page, then store.issueTmks(...)
 * }
 * ```
 */
export async function* terminalPages(
  store: Pick<KmsStore, "listTerminals">,
  orderId: string,
  options: TerminalPagesOptions = {},
): AsyncGenerator<Terminal[]> {
  const limit = options.pageSize ?? 1000;
  checkInt("options.pageSize", limit, 1, 10000);
  let after: string | undefined;
  for (;;) {
    const page = await store.listTerminals(orderId, { after, limit, filter: options.filter });
    if (page.length === 0) return;
    yield page;
    if (page.length < limit) return;
    after = page[page.length - 1].sn;
  }
}
