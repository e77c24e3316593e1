#!/usr/bin/env bash
# The whole test suite, as `deno task test` runs it: the set-up outside Deno
# (scripts/test_setup.sh: chromium, openssl, PostgreSQL), then format, lint,
# every test file, and the wasm core in the other runtimes.
set -euo pipefail
cd "$(dirname "$0")/.."
deno=${DENO:-deno}
url=$(bash scripts/test_setup.sh)
if ! "$deno" run --allow-net --allow-read --allow-env scripts/db_ping.ts "$url"; then
  echo "the test database does not answer; run: bash scripts/test_setup.sh" >&2
  exit 2
fi
export KMS_TEST_DATABASE_URL=$url
"$deno" fmt --check
"$deno" lint
# Test files run two at a time: many wait on servers, subprocesses and the
# database, and each works in a schema, a directory and on ports of its own.
# Two whatever the machine, so that the load on the database's connections
# and on the clock-bound tests is the one CI sees; DENO_JOBS overrides it.
DENO_JOBS=${DENO_JOBS:-2} "$deno" test --allow-all --parallel tests/
"$deno" task test:runtimes
