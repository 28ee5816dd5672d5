#!/usr/bin/env bash
# Install (if missing) and start what the tests need: PostgreSQL 15 + PostGIS on loopback,
# headless Chromium, GDAL's ogrinfo. Idempotent; needs root (or sudo) only when installing.
set -euo pipefail

PG_VERSION=15
need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
[ -d /usr/share/postgresql/$PG_VERSION/extension ] && ls /usr/share/postgresql/$PG_VERSION/extension/postgis.control >/dev/null 2>&1 || need+=(postgresql-$PG_VERSION-postgis-3)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)

SUDO=""
AS_PG="runuser -u postgres --"
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; AS_PG="sudo -u postgres"; fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# a cluster listening on loopback only
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$PG_VERSION main"; then
  $SUDO pg_createcluster $PG_VERSION main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^$PG_VERSION main .* online"; then
  $SUDO pg_ctlcluster $PG_VERSION main start -o "-c listen_addresses=127.0.0.1"
fi
$AS_PG psql -q -v ON_ERROR_STOP=1 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'strengthmap') THEN
    CREATE ROLE strengthmap LOGIN SUPERUSER PASSWORD 'strengthmap';
  END IF;
END $$;
SQL
$AS_PG psql -q -tc "SELECT 1 FROM pg_database WHERE datname = 'strengthmap_test'" | grep -q 1 \
  || $AS_PG createdb -O strengthmap strengthmap_test
$AS_PG psql -q -d strengthmap_test -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
echo "postgis ready: postgresql+psycopg://strengthmap:strengthmap@127.0.0.1:5432/strengthmap_test"
