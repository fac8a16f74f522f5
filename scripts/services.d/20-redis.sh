# Redis 7 from Debian's packages. Append-only file on, fsync every second, as the
# specification asks for counters and short-lived state.

REDIS_HOME=$LOCAL_DIR/redis
REDIS_PID=$RUN_DIR/redis.pid

redis_install() {
  apt_install redis-server redis-tools
  mkdir -p "$REDIS_HOME"
}

redis_start() {
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_HOME" \
    --daemonize yes --pidfile "$REDIS_PID" --logfile "$LOG_DIR/redis.log" \
    --appendonly yes --appendfsync everysec --save '' --protected-mode yes \
    || fail redis "redis-server did not start"
}

redis_alive() { pid_alive "$REDIS_PID" redis-server; }

redis_stop() { stop_pidfile redis "$REDIS_PID" redis-server; }

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_url() { printf 'redis://127.0.0.1:%s\n' "$REDIS_PORT"; }

redis_env() { printf 'REDIS_URL=redis://127.0.0.1:%s\n' "$REDIS_PORT"; }
