#!/bin/bash
# Separate databases: Airflow metadata and the credit warehouse, each with its own role.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username postgres <<SQL
create role airflow login password '${AIRFLOW_DB_PASSWORD}';
create database airflow owner airflow;
create role credit login password '${CP_PG_PASSWORD}';
-- code point order by the builtin provider: libc's C.UTF-8 order, three times faster on the hash keys
-- (docs/warehouse.md, "Collation"); the same clause as plugins/credit_platform/dev/services.py
create database credit_warehouse owner credit template template0 encoding 'UTF8' locale_provider builtin builtin_locale 'C.UTF-8' locale 'C.UTF-8';
create database credit_frontend owner credit template template0 encoding 'UTF8' locale_provider builtin builtin_locale 'C.UTF-8' locale 'C.UTF-8';
SQL
# The warehouse's server settings (infra/postgres/warehouse.conf, the same file the local server uses): read at
# the restart that follows the init scripts, and at every start after.
echo "include '/etc/postgresql/warehouse.conf'" >> "$PGDATA/postgresql.conf"
