# PostgreSQL 15 from Debian's packages, one cluster under .local/postgres.
# The server refuses to run as root, so the cluster belongs to the `postgres`
# system user the package creates.

PG_BIN=/usr/lib/postgresql/15/bin
PG_HOME=$LOCAL_DIR/postgres
PG_DATA=$PG_HOME/data
PG_SOCKET_DIR=$PG_HOME/run
PG_USER=notification
PG_PASSWORD=notification
# The service's database and the test suite's, kept apart so tests never touch dev data.
PG_DATABASES=(notification notification_test)

as_postgres() { runuser -u postgres -- "$@"; }

postgres_install() {
  apt_install postgresql-15 postgresql-client-15
  # The postgres user must be able to reach .local/ through every parent folder.
  local dir=$PG_HOME
  mkdir -p "$PG_HOME"
  while [ "$dir" != / ]; do
    if ! as_postgres test -x "$dir" 2>/dev/null; then chmod o+x "$dir"; fi
    dir=$(dirname "$dir")
  done
  chown postgres:postgres "$PG_HOME"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    progress "postgres: creating the cluster in $PG_DATA"
    local pwfile; pwfile=$(mktemp); echo "$PG_PASSWORD" >"$pwfile"; chmod 644 "$pwfile"
    as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >>"$LOG_DIR/postgres.log" 2>&1 || { rm -f "$pwfile"; fail postgres "initdb failed"; }
    rm -f "$pwfile"
  fi
  install -d -o postgres -g postgres "$PG_SOCKET_DIR"
  touch "$LOG_DIR/postgres.log"; chown postgres "$LOG_DIR/postgres.log"
}

# The settings a write-heavy server is given, rather than initdb's defaults for a small box
# (measured on a campaign to 300,000 users, 5.6 KB of WAL per message): 128 MB of shared
# buffers made the backends write out a dirty page for every second they read, and 1 GB of
# WAL forced a checkpoint every 75,000 messages, each followed by a full image of every page
# touched again. Durability is unchanged: fsync and synchronous commit stay on. JIT is off:
# it compiles for the planner's cost guesses on batched statements that then run in
# milliseconds. Override with PG_SETTINGS (`-c name=value` options).
: "${PG_SETTINGS:=-c shared_buffers=2GB -c max_wal_size=8GB -c checkpoint_timeout=15min -c wal_compression=lz4 -c jit=off}"

postgres_start() {
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$LOG_DIR/postgres.log" -w -t 60 start \
    -o "-p $PG_PORT -k $PG_SOCKET_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 $PG_SETTINGS" >/dev/null \
    || fail postgres "pg_ctl start failed"
  postgres_create_databases
}

postgres_create_databases() {
  local psql=("$PG_BIN/psql" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres -qtA -v ON_ERROR_STOP=1)
  if [ "$(as_postgres "${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != 1 ]; then
    as_postgres "${psql[@]}" -c "CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >/dev/null \
      || fail postgres "could not create role $PG_USER"
  fi
  local db
  for db in "${PG_DATABASES[@]}"; do
    if [ "$(as_postgres "${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
      as_postgres "${psql[@]}" -c "CREATE DATABASE $db OWNER $PG_USER" >/dev/null \
        || fail postgres "could not create database $db"
    fi
  done
}

postgres_stop() {
  [ -f "$PG_DATA/postmaster.pid" ] || return 0
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

postgres_ready() {
  PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d notification_test \
    -qtA -c 'SELECT 1' 2>/dev/null | grep -qx 1
}

postgres_url() { printf 'postgres://%s@127.0.0.1:%s/notification\n' "$PG_USER" "$PG_PORT"; }

postgres_env() {
  printf 'DATABASE_URL=postgres://%s:%s@127.0.0.1:%s/notification\n' "$PG_USER" "$PG_PASSWORD" "$PG_PORT"
  printf 'TEST_DATABASE_URL=postgres://%s:%s@127.0.0.1:%s/notification_test\n' "$PG_USER" "$PG_PASSWORD" "$PG_PORT"
}
