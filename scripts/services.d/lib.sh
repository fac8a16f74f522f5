# Shared by scripts/services and every component in scripts/services.d/.
# A component is a file NN-name.sh defining name_install, name_start, name_stop,
# name_ready (exit 0 when really ready), name_url (prints how to reach it) and
# name_env (prints the service's connection variables as KEY=value lines, the
# names server/config.ts reads); lib.sh gives them paths, ports and progress output.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LOCAL_DIR=${LOCAL_DIR:-$ROOT/.local}
LOG_DIR=$LOCAL_DIR/logs
RUN_DIR=$LOCAL_DIR/run
mkdir -p "$LOG_DIR" "$RUN_DIR"

# The project's pinned Node (see package.json); anything started outside npm uses it.
NODE_BIN=$ROOT/node_modules/.bin/node

# Every port is configurable; the defaults stay clear of the usual ones so a
# developer's own PostgreSQL or Redis is left alone.
: "${PG_PORT:=55432}"
: "${REDIS_PORT:=56379}"
: "${KAFKA_PORT:=59092}"
: "${KAFKA_CONTROLLER_PORT:=59093}"
: "${SCHEMA_REGISTRY_PORT:=58081}"
: "${SCHEMA_REGISTRY_MANAGEMENT_PORT:=58082}"
: "${CLICKHOUSE_PORT:=58123}"
export PG_PORT REDIS_PORT KAFKA_PORT KAFKA_CONTROLLER_PORT SCHEMA_REGISTRY_PORT \
  SCHEMA_REGISTRY_MANAGEMENT_PORT CLICKHOUSE_PORT

progress() { printf '[services] %s\n' "$*" >&2; }

# fail NAME MESSAGE: stop with the service's name and where its log is.
fail() {
  local name=$1; shift
  printf '[services] FAILED %s: %s\n[services] log: %s\n' "$name" "$*" "$LOG_DIR/$name.log" >&2
  if [ -f "$LOG_DIR/$name.log" ]; then
    printf '[services] last lines of %s:\n' "$LOG_DIR/$name.log" >&2
    tail -n 20 "$LOG_DIR/$name.log" >&2
  fi
  exit 1
}

# wait_until NAME SECONDS COMMAND...: poll COMMAND until it succeeds, printing
# progress every few seconds; fail NAME after SECONDS, or at once when the component
# defines NAME_alive and that says its process has died.
wait_until() {
  local name=$1 limit=$2; shift 2
  local start=$SECONDS next=$((SECONDS + 5)) alive="${name//-/_}_alive"
  until "$@" >/dev/null 2>&1; do
    if declare -F "$alive" >/dev/null && ! "$alive"; then
      fail "$name" "the process exited while starting"
    fi
    if [ $((SECONDS - start)) -ge "$limit" ]; then
      fail "$name" "not ready after ${limit}s"
    fi
    if [ "$SECONDS" -ge "$next" ]; then
      progress "$name: waiting for readiness ($((SECONDS - start))s)"
      next=$((SECONDS + 5))
    fi
    sleep 0.3
  done
}

# require_node NAME: the pinned Node is installed; a service that is started or checked
# with it would otherwise wait out its readiness timeout without saying why.
require_node() {
  [ -x "$NODE_BIN" ] || fail "$1" "$NODE_BIN is missing: run scripts/ensure-deps first"
}

# launch NAME PIDFILE LOG COMMAND...: runs COMMAND in a session of its own, so that a
# Ctrl-C or a closed terminal after `up` leaves it running, its output appended to LOG.
# The pid is written from inside because setsid forks when it has to; this waits for
# the file, since until it is there the service's NAME_alive would take it for dead.
launch() {
  local name=$1 pidfile=$2 log=$3; shift 3
  rm -f "$pidfile"
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$0" && exec "$@"' "$pidfile" "$@" </dev/null >>"$log" 2>&1 &
  for _ in $(seq 1 100); do
    [ -s "$pidfile" ] && return 0
    sleep 0.1
  done
  fail "$name" "no pid after 10s: the launch did not happen"
}

# pid_alive FILE [PATTERN]: the process recorded in FILE is running and, when
# PATTERN is given, its command line contains it (a pid file left by a reboot may
# name someone else's process).
pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null || return 1
  [ -z "${2:-}" ] && return 0
  local cmdline; cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
  [[ $cmdline == *"$2"* ]]
}

# stop_pidfile NAME FILE [PATTERN]: SIGTERM, wait up to 30 s, then SIGKILL.
stop_pidfile() {
  local name=$1 file=$2
  pid_alive "$file" "${3:-}" || { rm -f "$file"; return 0; }
  local pid; pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.3; done
  if kill -0 "$pid" 2>/dev/null; then
    progress "$name: did not stop in 30s, killing"
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$file"
}

# apt_install PKG...: install Debian packages that are missing (update once per run).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  progress "installing Debian packages: ${missing[*]}"
  if [ -z "${APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOG_DIR/apt.log" 2>&1 || fail apt "apt-get update failed"
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1 \
    || fail apt "apt-get install ${missing[*]} failed"
}
