#!/bin/sh
# Run once by the postgres image when it creates the primary's database
# (deploy/replica/docker-compose.yml): the role the replica copies the primary with and streams
# from it, and the pg_hba.conf line that lets it connect for replication.
set -eu
psql -v ON_ERROR_STOP=1 -v password="$CM_REPLICATION_PASSWORD" \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
