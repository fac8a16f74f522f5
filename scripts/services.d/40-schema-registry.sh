# Schema registry: AxonOps Schema Registry, a Go implementation of the Confluent
# Schema Registry REST API (Avro, Protobuf and JSON Schema, with compatibility
# checks), built from the Go module proxy at a pinned version. It keeps its
# schemas in the local PostgreSQL, database schema_registry, so they survive a
# restart; it starts the postgres component when that is not up yet.
# PG_BIN, PG_USER and PG_PASSWORD come from 10-postgres.sh.

SCHEMA_REGISTRY_MODULE=github.com/axonops/axonops-schema-registry
SCHEMA_REGISTRY_VERSION=v0.2.1
SCHEMA_REGISTRY_HOME=$LOCAL_DIR/schema-registry
# The version is in the name, so changing the pin builds the new one.
SCHEMA_REGISTRY_BIN=$SCHEMA_REGISTRY_HOME/bin/schema-registry-$SCHEMA_REGISTRY_VERSION
SCHEMA_REGISTRY_PID=$RUN_DIR/schema-registry.pid
SCHEMA_REGISTRY_LOG=$LOG_DIR/schema-registry.log
SCHEMA_REGISTRY_DB=schema_registry

schema_registry_install() {
  apt_install curl
  [ -x "$SCHEMA_REGISTRY_BIN" ] && return 0
  local go
  go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || fail schema-registry "Go is needed to build $SCHEMA_REGISTRY_MODULE $SCHEMA_REGISTRY_VERSION"
  progress "schema-registry: building $SCHEMA_REGISTRY_MODULE $SCHEMA_REGISTRY_VERSION (about a minute)"
  # Not `go install module@version`: it also asks the proxy for the module's
  # version list (to look for a deprecation notice), which the proxy refuses for
  # this module. Building inside the downloaded module uses its own go.sum.
  local dir
  dir=$("$go" mod download -json "$SCHEMA_REGISTRY_MODULE@$SCHEMA_REGISTRY_VERSION" 2>>"$SCHEMA_REGISTRY_LOG" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || fail schema-registry "could not download $SCHEMA_REGISTRY_MODULE@$SCHEMA_REGISTRY_VERSION"
  mkdir -p "$(dirname "$SCHEMA_REGISTRY_BIN")"
  (cd "$dir" && "$go" build -trimpath -ldflags "-s -w -X main.version=$SCHEMA_REGISTRY_VERSION" \
    -o "$SCHEMA_REGISTRY_BIN.tmp" ./cmd/schema-registry) >>"$SCHEMA_REGISTRY_LOG" 2>&1 \
    || fail schema-registry "go build failed"
  mv "$SCHEMA_REGISTRY_BIN.tmp" "$SCHEMA_REGISTRY_BIN"
}

schema_registry_psql() {
  PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qtA -v ON_ERROR_STOP=1 "$@"
}

schema_registry_start() {
  # One still running but not ready (its database went away) holds the port.
  schema_registry_stop
  if ! postgres_ready; then
    progress "schema-registry: starting postgres, where the schemas are kept"
    postgres_install
    postgres_start
    wait_until postgres "${SERVICES_READY_TIMEOUT:-120}" postgres_ready
  fi
  # The registry creates its tables in it on start.
  if [ "$(schema_registry_psql -c "SELECT 1 FROM pg_database WHERE datname = '$SCHEMA_REGISTRY_DB'")" != 1 ]; then
    schema_registry_psql -c "CREATE DATABASE $SCHEMA_REGISTRY_DB" >/dev/null \
      || fail schema-registry "could not create database $SCHEMA_REGISTRY_DB"
  fi
  # Every setting is given here so that SCHEMA_REGISTRY_* variables the caller
  # happens to have (the binary reads them) cannot change the setup; authentication
  # is off by default. setsid keeps it running after this script and a Ctrl-C.
  env SCHEMA_REGISTRY_HOST=127.0.0.1 SCHEMA_REGISTRY_PORT="$SCHEMA_REGISTRY_PORT" \
    SCHEMA_REGISTRY_STORAGE_TYPE=postgresql SCHEMA_REGISTRY_COMPATIBILITY_LEVEL=BACKWARD \
    SCHEMA_REGISTRY_PG_HOST=127.0.0.1 SCHEMA_REGISTRY_PG_PORT="$PG_PORT" \
    SCHEMA_REGISTRY_PG_DATABASE="$SCHEMA_REGISTRY_DB" SCHEMA_REGISTRY_PG_USER="$PG_USER" \
    SCHEMA_REGISTRY_PG_PASSWORD="$PG_PASSWORD" SCHEMA_REGISTRY_PG_SSLMODE=disable \
    GOMEMLIMIT=256MiB setsid "$SCHEMA_REGISTRY_BIN" >>"$SCHEMA_REGISTRY_LOG" 2>&1 </dev/null &
  echo $! >"$SCHEMA_REGISTRY_PID"
}

schema_registry_alive() { pid_alive "$SCHEMA_REGISTRY_PID" "$SCHEMA_REGISTRY_BIN"; }

schema_registry_stop() { stop_pidfile schema-registry "$SCHEMA_REGISTRY_PID" "$SCHEMA_REGISTRY_BIN"; }

schema_registry_ready() {
  local url config
  url=$(schema_registry_url)
  curl -fsS --max-time 2 "$url/subjects" >/dev/null || return 1
  config=$(curl -fsS --max-time 2 "$url/config") || return 1
  [[ $config == *'"compatibilityLevel"'* ]]
}

schema_registry_url() { printf 'http://127.0.0.1:%s\n' "$SCHEMA_REGISTRY_PORT"; }

schema_registry_env() { printf 'SCHEMA_REGISTRY_URL=%s\n' "$(schema_registry_url)"; }
