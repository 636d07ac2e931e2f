#!/bin/sh
# Run once by the postgres image when it creates the primary's cluster (compose.yaml mounts it
# into /docker-entrypoint-initdb.d): lets the replica of the `replica` profile stream from it
# with the password (the image's own pg_hba.conf line, `host all all all`, does not cover
# replication connections).
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
