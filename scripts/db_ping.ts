/**
 * Connects to the PostgreSQL database named by its one argument and runs
 * `SELECT 1`: exit status 0 when it answers, 1 with the driver's reason when
 * it does not. The test task runs it after its set-up, so that a database
 * that is not there stops the run with one line, before any test.
 *
 *   deno run -A scripts/db_ping.ts postgres://user:pass@host:port/db
 */
import postgres from "postgres";

const url = Deno.args[0] ?? "";
if (!url.startsWith("postgres://") || /\s/.test(url)) {
  console.error("db_ping: expected one postgres:// URL as the argument");
  Deno.exit(1);
}
const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
try {
  await sql`SELECT 1`;
} catch (e) {
  const where = new URL(url);
  console.error(
    `db_ping: ${where.hostname}:${where.port || 5432}${where.pathname}: ${
      e instanceof Error ? e.message : String(e)
    }`,
  );
  Deno.exitCode = 1;
} finally {
  await sql.end({ timeout: 1 });
}
