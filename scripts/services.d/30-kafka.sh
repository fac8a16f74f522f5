# shellcheck shell=bash
# Kafka: one KRaft node (broker and controller in the same JVM) built from the
# Maven Central jars, so no tarball mirror or Docker image is needed. Jars, config
# and data live in .local/kafka; the version is pinned in scripts/kafka/pom.xml.

KAFKA_SRC=$ROOT/scripts/kafka
KAFKA_HOME=$LOCAL_DIR/kafka
KAFKA_LIBS=$KAFKA_HOME/libs
KAFKA_DATA=$KAFKA_HOME/data
KAFKA_CONFIG=$KAFKA_HOME/server.properties
KAFKA_PID=$RUN_DIR/kafka.pid
KAFKA_LOG=$LOG_DIR/kafka.log

kafka_version() {
  sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$KAFKA_SRC/pom.xml"
}

# Kafka 4 needs Java 17 or later; take 17 when it is there, so that every machine
# runs the broker on the same JDK whatever newer one `java` points to.
kafka_java() {
  local java
  for java in /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    if [ -x "$java" ]; then echo "$java"; return; fi
  done
  command -v java
}

# kafka_command MAIN ARGS...: the java command line (NUL-separated) that runs MAIN
# from the installed jars. JVM flags are Kafka's own defaults from kafka-run-class.sh,
# with a heap sized for a laptop or a two-core CI box; override with KAFKA_HEAP_OPTS.
#
# The JIT stops at C1 (KAFKA_JIT_OPTS; set it empty for the JVM's full tiered
# compilation): this broker lives for a test run, a bench or a working day on two
# cores, and C2 spends its first minutes compiling with a core of its own. Measured
# with `npm run bench:pipeline` at 100 sends/s: C2's compiler threads took 38% of a
# core and kept the worker off the CPU more than half the time (publish to sent event
# p50 144 ms, p99 442 ms); with C1 alone, p50 30 ms and p99 133 ms.
kafka_command() {
  local heap jit
  read -r -a heap <<<"${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
  read -r -a jit <<<"${KAFKA_JIT_OPTS--XX:TieredStopAtLevel=1}"
  printf '%s\0' "$(kafka_java)" "${heap[@]}" "${jit[@]}" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_SRC/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" "$@"
}

kafka_run() {
  local cmd
  mapfile -d '' cmd < <(kafka_command "$@")
  "${cmd[@]}"
}

kafka_install() {
  require_node kafka
  local version jar
  version=$(kafka_version)
  jar=$KAFKA_LIBS/kafka_2.13-$version.jar
  [ -f "$jar" ] && return 0
  apt_install openjdk-17-jre-headless maven
  progress "kafka: downloading Kafka $version jars with Maven"
  # Into a scratch directory, so neither a broken download nor the jars of a
  # previously pinned version ever end up on the classpath.
  rm -rf "$KAFKA_LIBS.tmp"
  mvn -q -B -f "$KAFKA_SRC/pom.xml" dependency:copy-dependencies \
    -Dkafka.libs="$KAFKA_LIBS.tmp" >>"$KAFKA_LOG" 2>&1 \
    || fail kafka "downloading the jars with Maven failed"
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  [ -f "$jar" ] || fail kafka "Maven did not fetch $(basename "$jar")"
}

# Written on every start so that changed ports apply without reformatting.
kafka_write_config() {
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@KAFKA_DATA_DIR@|$KAFKA_DATA|g" \
    "$KAFKA_SRC/server.properties" >"$KAFKA_CONFIG"
}

# KRaft refuses to start on an unformatted log directory; formatting again would
# fail (or, forced, lose the data), so it happens only once.
kafka_format() {
  [ -f "$KAFKA_DATA/meta.properties" ] && return 0
  progress "kafka: formatting storage in $KAFKA_DATA"
  local cluster_id
  cluster_id=$(kafka_run kafka.tools.StorageTool random-uuid 2>>"$KAFKA_LOG") \
    || fail kafka "could not generate a cluster id"
  kafka_run kafka.tools.StorageTool format --config "$KAFKA_CONFIG" --cluster-id "$cluster_id" \
    >>"$KAFKA_LOG" 2>&1 || fail kafka "formatting the storage failed"
}

kafka_start() {
  if kafka_alive; then
    progress "kafka: already running (pid $(cat "$KAFKA_PID"))"
    return 0
  fi
  mkdir -p "$KAFKA_DATA"
  kafka_write_config
  kafka_format
  progress "kafka: launching Kafka $(kafka_version) (KRaft, 127.0.0.1:$KAFKA_PORT)"
  local cmd
  mapfile -d '' cmd < <(kafka_command kafka.Kafka "$KAFKA_CONFIG")
  launch kafka "$KAFKA_PID" "$KAFKA_LOG" "${cmd[@]}"
}

kafka_alive() { pid_alive "$KAFKA_PID" kafka.Kafka; }

kafka_stop() { stop_pidfile kafka "$KAFKA_PID" kafka.Kafka; }

# kafkajs 2.2.4 passes a negative delay to setTimeout on every connection, which
# Node 24 reports as a TimeoutNegativeWarning (harmless; tulios/kafkajs#1751).
kafka_ready() {
  "$NODE_BIN" --disable-warning=TimeoutNegativeWarning "$KAFKA_SRC/ready.mjs" "127.0.0.1:$KAFKA_PORT"
}

kafka_url() { printf 'PLAINTEXT://127.0.0.1:%s\n' "$KAFKA_PORT"; }

kafka_env() { printf 'KAFKA_BROKERS=127.0.0.1:%s\n' "$KAFKA_PORT"; }
