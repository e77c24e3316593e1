/**
 * Opening the servers' store: the embedded SQLite default (a file; the path
 * is a flag). A PostgreSQL store implements the same `Store` interface.
 *
 * @module
 */
import { openSqliteStore, type Store } from "../../src/store/mod.ts";

/**
 * Opens (and migrates) the store at `path`.
 *
 * @param path SQLite database file, or `:memory:`.
 * @returns the store.
 */
export async function openStore(path: string): Promise<Store> {
  return await openSqliteStore(path);
}
