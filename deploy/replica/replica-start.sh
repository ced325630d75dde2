#!/bin/sh
# The read replica of deploy/replica/docker-compose.yml. On its first start (an empty data
# directory) it copies the primary with pg_basebackup -R, which also writes standby.signal and
# the connection to stream from; then it runs as a hot standby, which answers read-only queries.
# Arguments are passed on to postgres.
set -eu
: "${PRIMARY_HOST:?the primary's host name}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -q -h "$PRIMARY_HOST" -p "${PRIMARY_PORT:-5432}"; do sleep 1; done
    pg_basebackup -h "$PRIMARY_HOST" -p "${PRIMARY_PORT:-5432}" -U "${REPLICATION_USER:-replicator}" \
        -D "$PGDATA" -R -X stream -c fast
    chmod 0700 "$PGDATA"
fi
# hot_standby_feedback: the primary keeps the rows a replica's running query still reads, so
# vacuum does not cancel dashboard queries (README: Scaling).
exec postgres -c hot_standby=on -c hot_standby_feedback=on "$@"
