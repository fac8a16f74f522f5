# shellcheck shell=bash
# The Analytics Service peer (scripts/analytics-peer): platform.analytics.v1's segments on a
# local port, for `npm start`, so that a campaign can target "analytics:spring-buyers" without
# the platform. The tests start their own, on ports of their own.

ANALYTICS_PEER_PID=$RUN_DIR/analytics-peer.pid
ANALYTICS_PEER_LOG=$LOG_DIR/analytics-peer.log
ANALYTICS_PEER_PORT=${ANALYTICS_PEER_PORT:-2600}

analytics_peer_install() {
  require_node analytics-peer
  apt_install curl
}

analytics_peer_start() {
  analytics_peer_stop
  ANALYTICS_PEER_PORT=$ANALYTICS_PEER_PORT launch analytics-peer "$ANALYTICS_PEER_PID" "$ANALYTICS_PEER_LOG" \
    "$NODE_BIN" "$ROOT/scripts/analytics-peer/serve.ts"
}

analytics_peer_stop() { stop_pidfile analytics-peer "$ANALYTICS_PEER_PID"; }

analytics_peer_alive() { pid_alive "$ANALYTICS_PEER_PID"; }

analytics_peer_ready() { curl -fsS --max-time 2 "http://127.0.0.1:$ANALYTICS_PEER_PORT/fault" >/dev/null; }

analytics_peer_url() {
  printf 'http://127.0.0.1:%s (segments spring-buyers, all-users; token dev)\n' "$ANALYTICS_PEER_PORT"
}

# Where the peer is; scripts/dev points ANALYTICS_URL at it. Not ANALYTICS_URL itself: the
# tests' service processes must read the segments each test says.
analytics_peer_env() { printf 'ANALYTICS_PEER_PORT=%s\n' "$ANALYTICS_PEER_PORT"; }
