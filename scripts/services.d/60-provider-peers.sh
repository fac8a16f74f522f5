# shellcheck shell=bash
# Provider peers: stand-ins for the vendors' servers that speak their protocols
# (scripts/provider-peers), for `npm start`, so that a newcomer sees every channel
# deliver without an account anywhere. The tests start their own, on ports of their own.

PROVIDER_PEERS_HOME=$LOCAL_DIR/provider-peers
PROVIDER_PEERS_PID=$RUN_DIR/provider-peers.pid
PROVIDER_PEERS_LOG=$LOG_DIR/provider-peers.log
SMTP_PEER_PORT=${SMTP_PEER_PORT:-2525}
SMTP_PEER_HTTP_PORT=${SMTP_PEER_HTTP_PORT:-8025}
SMTP_PEER_POP3_PORT=${SMTP_PEER_POP3_PORT:-2995}
SMTP_PEER_CA_FILE=$PROVIDER_PEERS_HOME/smtp-ca.pem
SMSRU_PEER_PORT=${SMSRU_PEER_PORT:-2580}
SMSC_PEER_PORT=${SMSC_PEER_PORT:-2581}
UNISENDER_GO_PEER_PORT=${UNISENDER_GO_PEER_PORT:-2570}
UNISENDER_GO_PEER_HTTP_PORT=${UNISENDER_GO_PEER_HTTP_PORT:-8570}
FCM_PEER_PORT=${FCM_PEER_PORT:-2590}
FCM_PEER_HTTP_PORT=${FCM_PEER_HTTP_PORT:-8590}
APNS_PEER_PORT=${APNS_PEER_PORT:-2591}
APNS_PEER_HTTP_PORT=${APNS_PEER_HTTP_PORT:-8591}
# The peers call back the service that `npm start` runs, as the vendors would.
PEERS_WEBHOOKS=http://127.0.0.1:${HTTP_PORT:-8080}/api/v1/notifications/webhooks

provider_peers_install() {
  require_node provider-peers
  apt_install curl
  [ -f "$ROOT/node_modules/smtp-server/package.json" ] \
    || fail provider-peers "node_modules/smtp-server is missing: run \`npm ci\`"
  mkdir -p "$PROVIDER_PEERS_HOME"
}

provider_peers_start() {
  provider_peers_stop
  mkdir -p "$PROVIDER_PEERS_HOME"
  SMTP_PEER_PORT=$SMTP_PEER_PORT SMTP_PEER_HTTP_PORT=$SMTP_PEER_HTTP_PORT SMTP_PEER_CA_FILE=$SMTP_PEER_CA_FILE \
    SMTP_PEER_POP3_PORT=$SMTP_PEER_POP3_PORT \
    SMSRU_PEER_PORT=$SMSRU_PEER_PORT SMSRU_PEER_CA_FILE=$PROVIDER_PEERS_HOME/smsru-ca.pem \
    SMSRU_PEER_CALLBACK_URL=$PEERS_WEBHOOKS/sms-primary \
    SMSC_PEER_PORT=$SMSC_PEER_PORT SMSC_PEER_CA_FILE=$PROVIDER_PEERS_HOME/smsc-ca.pem \
    UNISENDER_GO_PEER_PORT=$UNISENDER_GO_PEER_PORT UNISENDER_GO_PEER_HTTP_PORT=$UNISENDER_GO_PEER_HTTP_PORT \
    UNISENDER_GO_PEER_CA_FILE=$PROVIDER_PEERS_HOME/unisender-go-ca.pem \
    UNISENDER_GO_PEER_WEBHOOK_URL=$PEERS_WEBHOOKS/email-backup \
    FCM_PEER_PORT=$FCM_PEER_PORT FCM_PEER_HTTP_PORT=$FCM_PEER_HTTP_PORT \
    APNS_PEER_PORT=$APNS_PEER_PORT APNS_PEER_HTTP_PORT=$APNS_PEER_HTTP_PORT \
    launch provider-peers "$PROVIDER_PEERS_PID" "$PROVIDER_PEERS_LOG" \
    "$NODE_BIN" "$ROOT/scripts/provider-peers/serve.ts"
  local deadline=$((SECONDS + 30))
  until provider_peers_ready >/dev/null 2>&1 || [ "$SECONDS" -ge "$deadline" ]; do
    if ! pid_alive "$PROVIDER_PEERS_PID"; then
      fail provider-peers "exited during startup"
    fi
    sleep 0.2
  done
}

provider_peers_stop() { stop_pidfile provider-peers "$PROVIDER_PEERS_PID"; }

provider_peers_ready() {
  local ca
  for ca in smtp smsru smsc unisender-go fcm apns; do [ -s "$PROVIDER_PEERS_HOME/$ca-ca.pem" ] || return 1; done
  curl -fsS --max-time 2 "http://127.0.0.1:$SMTP_PEER_HTTP_PORT/messages" >/dev/null
}

provider_peers_url() {
  printf 'smtp %s (page :%s, bounces pop3s :%s), sms.ru :%s, smsc :%s, unisender go :%s (page :%s), fcm :%s (page :%s), apns :%s (page :%s)\n' \
    "$SMTP_PEER_PORT" "$SMTP_PEER_HTTP_PORT" "$SMTP_PEER_POP3_PORT" "$SMSRU_PEER_PORT" "$SMSC_PEER_PORT" "$UNISENDER_GO_PEER_PORT" \
    "$UNISENDER_GO_PEER_HTTP_PORT" "$FCM_PEER_PORT" "$FCM_PEER_HTTP_PORT" "$APNS_PEER_PORT" "$APNS_PEER_HTTP_PORT"
}

# Where the peers are; scripts/dev points the providers at them. Not the providers' own
# variables: the tests' service processes must keep sending where each test says.
provider_peers_env() {
  printf 'PEERS_DIR=%s\n' "$PROVIDER_PEERS_HOME"
  printf 'SMTP_PEER_PORT=%s\n' "$SMTP_PEER_PORT"
  printf 'SMTP_PEER_HTTP_PORT=%s\n' "$SMTP_PEER_HTTP_PORT"
  printf 'SMTP_PEER_POP3_PORT=%s\n' "$SMTP_PEER_POP3_PORT"
  printf 'SMTP_PEER_CA_FILE=%s\n' "$SMTP_PEER_CA_FILE"
  printf 'SMSRU_PEER_PORT=%s\n' "$SMSRU_PEER_PORT"
  printf 'SMSC_PEER_PORT=%s\n' "$SMSC_PEER_PORT"
  printf 'UNISENDER_GO_PEER_PORT=%s\n' "$UNISENDER_GO_PEER_PORT"
  printf 'UNISENDER_GO_PEER_HTTP_PORT=%s\n' "$UNISENDER_GO_PEER_HTTP_PORT"
  printf 'FCM_PEER_PORT=%s\n' "$FCM_PEER_PORT"
  printf 'FCM_PEER_HTTP_PORT=%s\n' "$FCM_PEER_HTTP_PORT"
  printf 'APNS_PEER_PORT=%s\n' "$APNS_PEER_PORT"
  printf 'APNS_PEER_HTTP_PORT=%s\n' "$APNS_PEER_HTTP_PORT"
}
