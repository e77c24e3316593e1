#!/usr/bin/env bash
# The test suite's set-up, run by `deno task test` before anything else:
#
#   bash scripts/test_setup.sh
#
# Makes sure of what the suite needs outside Deno:
#
# - Debian's chromium at /usr/bin/chromium (the runtimes test drives it);
# - openssl on the PATH (the certificate tests run `openssl verify`);
# - a PostgreSQL database the tests may create schemas in: the one named by
#   KMS_TEST_DATABASE_URL if it is set; else, as root, PostgreSQL from
#   Debian's packages (installed if missing), its newest cluster created and
#   started, and the role and database kms_test; else, not root, the
#   database postgres://kms_test:kms_test@127.0.0.1:5432/kms_test if it answers.
#
# As root it installs what is missing with apt-get. Where it cannot, it stops
# with exit status 2 and one line naming the command that fixes it.
#
# It prints the database URL alone on stdout (its other lines go to stderr).
# scripts/test.sh, which `deno task test` runs, exports that URL as
# KMS_TEST_DATABASE_URL for the test run.
set -euo pipefail

DEFAULT_URL="postgres://kms_test:kms_test@127.0.0.1:5432/kms_test"

fail() {
  echo "test set-up: $*" >&2
  exit 2
}

is_root() { [ "$(id -u)" = 0 ]; }

apt_updated=""
# Installs Debian packages, as root with apt-get only; otherwise stops with
# the command to run.
apt_install() {
  local why=$1
  shift
  if ! is_root || ! command -v apt-get >/dev/null; then
    fail "$why; run: sudo apt-get install -y --no-install-recommends $*"
  fi
  echo "test set-up: installing $* from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then
    apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed; run: apt-get update"
    apt_updated=1
  fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
    fail "apt-get install $* failed; run: apt-get install -y --no-install-recommends $*"
}

[ -x /usr/bin/chromium ] || apt_install "/usr/bin/chromium is missing" chromium
command -v openssl >/dev/null || apt_install "openssl is not on the PATH" openssl

# As root: a local cluster with the role and database kms_test; prints the URL.
root_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install "PostgreSQL is not installed" postgresql
  fi
  command -v pg_lsclusters >/dev/null ||
    fail "pg_lsclusters is missing; run: apt-get install -y postgresql-common"
  local ver port psql
  ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" { f = 1 } END { exit !f }'; then
    pg_createcluster "$ver" main >&2
  fi
  port=$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" { print $3 }')
  if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" && $4 ~ /online/ { f = 1 } END { exit !f }'; then
    # pg_ctlcluster may print notes (a stale pid file removed) on stdout,
    # which is reserved for the URL.
    pg_ctlcluster "$ver" main start >&2 ||
      fail "PostgreSQL $ver does not start; run: pg_ctlcluster $ver main start"
  fi
  for _ in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.2
  done
  pg_isready -q -h 127.0.0.1 -p "$port" ||
    fail "PostgreSQL $ver does not answer on 127.0.0.1:$port; run: pg_ctlcluster $ver main restart"
  psql=(runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 -tA)
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'kms_test'")" != 1 ]; then
    "${psql[@]}" -c "CREATE ROLE kms_test LOGIN PASSWORD 'kms_test'" >/dev/null
  fi
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'kms_test'")" != 1 ]; then
    "${psql[@]}" -c "CREATE DATABASE kms_test OWNER kms_test" >/dev/null
  fi
  echo "test set-up: PostgreSQL $ver on 127.0.0.1:$port, database kms_test" >&2
  echo "postgres://kms_test:kms_test@127.0.0.1:$port/kms_test"
}

if [ -n "${KMS_TEST_DATABASE_URL:-}" ]; then
  url=$KMS_TEST_DATABASE_URL
elif is_root; then
  url=$(root_postgres)
elif command -v psql >/dev/null && psql "$DEFAULT_URL" -qtAc "SELECT 1" >/dev/null 2>&1; then
  url=$DEFAULT_URL
else
  fail "no PostgreSQL database for the tests; run as root: bash scripts/test_setup.sh" \
    "(or set KMS_TEST_DATABASE_URL to a database whose role may create schemas)"
fi
echo "$url"
