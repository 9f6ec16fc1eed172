#!/bin/bash
# Separate databases: Airflow metadata and the credit warehouse, each with its own role.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username postgres <<SQL
create role airflow login password '${AIRFLOW_DB_PASSWORD}';
create database airflow owner airflow;
create role credit login password '${CP_PG_PASSWORD}';
create database credit_warehouse owner credit encoding 'UTF8';
create database credit_frontend owner credit encoding 'UTF8';
\\c credit_warehouse
-- the warehouse build reads its key indexes into shared_buffers after a full refresh (docs/warehouse.md)
create extension pg_prewarm;
SQL
# The warehouse's server settings (infra/postgres/warehouse.conf, the same file the local server uses): read at
# the restart that follows the init scripts, and at every start after.
echo "include '/etc/postgresql/warehouse.conf'" >> "$PGDATA/postgresql.conf"
