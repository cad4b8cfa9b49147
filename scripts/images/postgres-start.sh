#!/bin/sh
# The bundled database's entry point: initialise $PGDATA on first start (user and database "streamspace",
# password from $POSTGRES_PASSWORD, scram-sha-256 over TCP), then run PostgreSQL in the foreground as PID 1,
# which stops it cleanly on SIGTERM (a fast shutdown).
set -eu
: "${PGDATA:?PGDATA is not set}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set (the chart takes it from its Secret)}"
DB="${POSTGRES_DB:-streamspace}"
USER_NAME="${POSTGRES_USER:-streamspace}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "postgres-start: initialising $PGDATA"
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --pgdata="$PGDATA" --username="$USER_NAME" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "host all all ::/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=/tmp" start >/dev/null
  psql -h /tmp -U "$USER_NAME" -d postgres -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$DB\" OWNER \"$USER_NAME\""
  pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses="*" -c jit=off -c unix_socket_directories=/var/run/postgresql
