/**
 * Opening the servers' store: the embedded SQLite default (a file; the path
 * is a flag), or PostgreSQL when the location is a `postgres://` URL, for
 * several instances on one database. Both are the same checked `Store`
 * over their own backend and pass the same repository suite.
 *
 * @module
 */
import {
  isPostgresUrl,
  type NonceMemory,
  openPostgresStore,
  openSqliteStore,
  type Store,
} from "../../src/store/mod.ts";

import { OPERATOR_NONCE_SCOPE } from "./router.ts";

export { isPostgresUrl };

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** PostgreSQL: the schema holding the tables (default "public"). */
  schema?: string;
  /** PostgreSQL: pool size (default 10). */
  maxConnections?: number;
}

/**
 * Opens (and migrates) the store at `location`.
 *
 * @param location a SQLite database file, `:memory:`, or a
 *   `postgres://user:password@host:port/database` URL.
 * @param options PostgreSQL schema and pool size (ignored for SQLite).
 * @returns the store.
 * @throws {StoreError} `busy` if PostgreSQL cannot be reached, `schema` for a
 *   database newer than this code.
 */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(location)) {
    return await openPostgresStore(location, {
      schema: options.schema,
      maxConnections: options.maxConnections,
    });
  }
  return await openSqliteStore(location);
}

/** How often, at most, {@link operatorNonceMemory} forgets expired nonces. */
const PURGE_EVERY_MS = 60_000;

/**
 * The replay memory of a server's signed operator requests
 * (`HandlerOptions.rememberOperatorNonce`): each nonce stored in `store`
 * under {@link OPERATOR_NONCE_SCOPE} until it expires, and expired nonces
 * (of every scope) forgotten at most once a minute, before a new one is
 * stored.
 *
 * @param store the server's store (only its nonce memory is used).
 * @param now the clock.
 * @returns `(nonce, expiresAt) => fresh`.
 */
export function operatorNonceMemory(
  store: NonceMemory,
  now: () => Date = () => new Date(),
): (nonce: string, expiresAt: Date) => Promise<boolean> {
  let lastPurge = 0;
  return async (nonce, expiresAt) => {
    const t = now();
    if (t.getTime() - lastPurge >= PURGE_EVERY_MS) {
      lastPurge = t.getTime();
      await store.purgeNonces(t);
    }
    return await store.rememberNonce(OPERATOR_NONCE_SCOPE, nonce, expiresAt);
  };
}
