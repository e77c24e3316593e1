/**
 * Opening the servers' store: the embedded SQLite default (a file; the path
 * is a flag), or PostgreSQL when the location is a `postgres://` URL, for
 * several instances on one database. Both implement the same `Store`
 * interface and pass the same repository suite.
 *
 * @module
 */
import {
  isPostgresUrl,
  openPostgresStore,
  openSqliteStore,
  type Store,
} from "../../src/store/mod.ts";

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
