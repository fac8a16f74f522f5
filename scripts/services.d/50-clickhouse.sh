# shellcheck shell=bash
# ClickHouse: no server binary is reachable here, so the real engine comes from
# npm (chdb, a devDependency, ClickHouse 26.7 in-process) behind a small front
# that speaks ClickHouse's HTTP interface (scripts/clickhouse-http). The service
# talks to it with @clickhouse/client exactly as to a server. Data lives in
# .local/clickhouse/data.

CLICKHOUSE_HOME=$LOCAL_DIR/clickhouse
CLICKHOUSE_DATA=$CLICKHOUSE_HOME/data
CLICKHOUSE_PID=$RUN_DIR/clickhouse.pid
CLICKHOUSE_LOG=$LOG_DIR/clickhouse.log

clickhouse_install() {
  require_node clickhouse
  apt_install curl
  [ -f "$ROOT/node_modules/chdb/package.json" ] \
    || fail clickhouse "node_modules/chdb is missing: run \`npm ci\` (chdb, a devDependency, is the ClickHouse engine)"
  mkdir -p "$CLICKHOUSE_DATA"
}

clickhouse_start() {
  # One still running but not ready (hung, or its port taken) is replaced.
  clickhouse_stop
  mkdir -p "$CLICKHOUSE_DATA"
  launch clickhouse "$CLICKHOUSE_PID" "$CLICKHOUSE_LOG" \
    env CLICKHOUSE_DATA_DIR="$CLICKHOUSE_DATA" "$NODE_BIN" "$ROOT/scripts/clickhouse-http/server.ts"
  # Loading the engine takes about a second; an exit (port taken, data directory
  # locked) fails now rather than at the end of the readiness timeout.
  local deadline=$((SECONDS + 30))
  until clickhouse_ready >/dev/null 2>&1 || [ "$SECONDS" -ge "$deadline" ]; do
    if [ -f "$CLICKHOUSE_PID" ] && ! pid_alive "$CLICKHOUSE_PID"; then
      fail clickhouse "exited during startup"
    fi
    sleep 0.2
  done
}

clickhouse_stop() { stop_pidfile clickhouse "$CLICKHOUSE_PID"; }

# A real query, not /ping: proves the engine answers, not just the HTTP front.
clickhouse_ready() {
  local answer
  answer=$(curl -fsS --max-time 2 -u "${CLICKHOUSE_USER:-default}:${CLICKHOUSE_PASSWORD:-}" \
    --data-binary 'SELECT 1' "http://127.0.0.1:$CLICKHOUSE_PORT/") || return 1
  [ "$answer" = 1 ]
}

clickhouse_url() { printf 'http://127.0.0.1:%s\n' "$CLICKHOUSE_PORT"; }

clickhouse_env() { printf 'CLICKHOUSE_URL=http://127.0.0.1:%s\n' "$CLICKHOUSE_PORT"; }
