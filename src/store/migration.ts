/**
 * Schema migrations, as both implementations keep them: a versioned list
 * applied in order, each in its own transaction together with its row in
 * `schema_version`, so a crash leaves the database at the previous version.
 * Append a migration to change the schema; never edit one that has shipped.
 *
 * @module
 */

/** One schema step. */
export interface Migration {
  /** 1, 2, 3, ... in order. */
  readonly version: number;
  readonly description: string;
  /** SQL statements, run as one script. */
  readonly sql: string;
}
