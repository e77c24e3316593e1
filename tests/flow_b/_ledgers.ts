/**
 * The challenge ledgers the S5 tests run against: every store
 * implementation (today the embedded SQLite store, in memory), each with
 * two flow B terminals registered.
 *
 * @module
 */
import type { ChallengeLedger } from "../../src/protocol/mod.ts";
import { openSqliteStore } from "../../src/store/mod.ts";

/** A ledger with two registered SNs. */
export interface LedgerFixture {
  ledger: ChallengeLedger;
  sn: string;
  other: string;
  close(): Promise<void>;
}

/**
 * Every ledger implementation.
 *
 * @returns name and factory of each.
 */
export function flowBLedgers(): { name: string; make(now: () => Date): Promise<LedgerFixture> }[] {
  return [{
    name: "sqlite",
    async make(now) {
      const store = await openSqliteStore(":memory:");
      await store.registerTerminal("FB000001", now());
      await store.registerTerminal("FB000002", now());
      return { ledger: store, sn: "FB000001", other: "FB000002", close: () => store.close() };
    },
  }];
}
