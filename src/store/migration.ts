/**
 * Schema migrations, as both implementations keep them: a versioned list
 * applied in order, each in its own transaction together with its row in
 * `schema_version`, so a crash leaves the database at the previous version.
 * Append a migration to change the schema; never edit one that has shipped.
 *
 * @module
 */
import { StoreError } from "./errors.ts";

/** One schema step. */
export interface Migration {
  /** 1, 2, 3, ... in order. */
  readonly version: number;
  readonly description: string;
  /** SQL statements, run as one script. */
  readonly sql: string;
}

/**
 * Throws unless the migrations are numbered 1, 2, 3, ...
 *
 * @throws {StoreError} `schema`.
 */
export function checkMigrationOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError("schema", `migration ${i} must have version ${i + 1}, has ${m.version}`);
    }
  });
}

/** The error of a migration whose SQL failed (the transaction is rolled back). */
export function migrationFailed(m: Migration, e: unknown): StoreError {
  return new StoreError(
    "schema",
    `migration ${m.version} (${m.description}) failed: ${(e as Error).message}`,
  );
}

/**
 * Throws if the database is at a version this code does not know.
 *
 * @throws {StoreError} `schema`.
 */
export function checkNotNewer(version: number, migrations: readonly Migration[]): void {
  if (version > migrations.length) {
    throw new StoreError(
      "schema",
      `database schema version ${version} is newer than this code (knows ${migrations.length})`,
    );
  }
}
