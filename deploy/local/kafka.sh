#!/usr/bin/env bash
# deploy/local/kafka.sh — a real single-node Apache Kafka 3.9.1 (KRaft, no ZooKeeper, no Docker) on loopback,
# for development and for the test suite (scripts/test.sh).
#
#   kafka.sh fetch            download the broker jars from Maven Central once (cached; no Maven call afterwards)
#   kafka.sh start            format storage and start broker+controller in the background, wait until it answers
#   kafka.sh stop             SIGTERM, bounded wait, then SIGKILL; idempotent
#   kafka.sh status           exit 0: runs and answers; 1: runs but does not answer; 3: not running
#   kafka.sh wait             wait (bounded) until the broker on KAFKA_PORT answers
#   kafka.sh topics ARGS...   org.apache.kafka.tools.TopicCommand against it (e.g. `topics --list`)
#   kafka.sh groups ARGS...   ConsumerGroupCommand against it (e.g. `groups --describe --all-groups`)
#
# Environment (every bound is configurable):
#   KAFKA_PORT            client port, default 9092; the controller listens on KAFKA_PORT+1
#   PASSERELLE_CACHE      cache root, default ${XDG_CACHE_HOME:-$HOME/.cache}/passerelle; jars in <root>/kafka-3.9.1
#   KAFKA_RUN_DIR         per-instance files (config, pid, logs), default <root>/kafka-3.9.1/run/<port>
#   KAFKA_DATA_DIR        log.dirs. Unset: <run dir>/data, wiped at every start (a fresh broker). Set: kept and
#                         reused across stop/start when already formatted (to test outages with data kept).
#   KAFKA_HEAP_OPTS       JVM heap, default "-Xms256m -Xmx768m"
#   KAFKA_START_TIMEOUT   seconds `start`/`wait` wait for the broker to answer, default 90
#   KAFKA_STOP_TIMEOUT    seconds `stop` waits after SIGTERM before SIGKILL, default 30
#
# Instances are keyed by port, so several can run side by side (one per developer or test run); `stop` only ever
# signals the pid recorded in its own run dir, after checking that this pid is still that broker.
set -euo pipefail

readonly KAFKA_VERSION=3.9.1
readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly POM="${SCRIPT_DIR}/kafka-pom.xml"

readonly CACHE_ROOT="${PASSERELLE_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/passerelle}"
readonly KAFKA_HOME_DIR="${CACHE_ROOT}/kafka-${KAFKA_VERSION}"
readonly LIBS_DIR="${KAFKA_HOME_DIR}/libs"
readonly FETCH_MARKER="${LIBS_DIR}/.complete"

readonly PORT="${KAFKA_PORT:-9092}"
readonly START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
readonly STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
readonly HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
readonly RUN_DIR="${KAFKA_RUN_DIR:-${KAFKA_HOME_DIR}/run/${PORT}}"
readonly PID_FILE="${RUN_DIR}/kafka.pid"
readonly LOG_DIR="${RUN_DIR}/logs"
readonly BROKER_LOG="${LOG_DIR}/server.log"
readonly STDOUT_LOG="${LOG_DIR}/stdout.log"
readonly SERVER_PROPS="${RUN_DIR}/server.properties"
readonly LOG4J_PROPS="${RUN_DIR}/log4j.properties"
readonly TOOLS_LOG4J_PROPS="${RUN_DIR}/tools-log4j.properties"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { printf 'kafka.sh: error: %s\n' "$*" >&2; exit 1; }

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

check_env() {
  is_uint "${PORT}" && ((PORT >= 1 && PORT <= 65534)) || die "KAFKA_PORT must be a port in 1..65534, got '${PORT}'"
  is_uint "${START_TIMEOUT}" && ((START_TIMEOUT > 0)) || die "KAFKA_START_TIMEOUT must be a positive integer, got '${START_TIMEOUT}'"
  is_uint "${STOP_TIMEOUT}" && ((STOP_TIMEOUT > 0)) || die "KAFKA_STOP_TIMEOUT must be a positive integer, got '${STOP_TIMEOUT}'"
}

controller_port() { echo $((PORT + 1)); }

# --- fetch ---------------------------------------------------------------------------------------------------------

jars_present() { [[ -f "${FETCH_MARKER}" ]] && compgen -G "${LIBS_DIR}/kafka_2.13-${KAFKA_VERSION}.jar" >/dev/null; }

cmd_fetch() {
  if jars_present; then
    log "jars already in ${LIBS_DIR}"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (install maven, or run scripts/setup.sh)"
  command -v java >/dev/null || die "java not found (install default-jdk-headless, or run scripts/setup.sh)"
  [[ -f "${POM}" ]] || die "missing ${POM}"
  mkdir -p "${KAFKA_HOME_DIR}"
  # Two concurrent fetches (two developers' shells, parallel CI jobs) must not interleave their copies.
  exec 9>"${KAFKA_HOME_DIR}/.fetch.lock"
  flock -w 600 9 || die "another fetch holds ${KAFKA_HOME_DIR}/.fetch.lock for more than 600 s"
  if jars_present; then
    log "jars already in ${LIBS_DIR}"
    return 0
  fi
  local staging="${KAFKA_HOME_DIR}/libs.partial.$$"
  rm -rf "${staging}"
  log "downloading Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${LIBS_DIR}"
  # Copied into a staging folder then renamed, so an interrupted download never looks complete.
  if ! mvn -B -q -f "${POM}" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="${staging}" >"${KAFKA_HOME_DIR}/fetch.log" 2>&1; then
    tail -n 30 "${KAFKA_HOME_DIR}/fetch.log" >&2 || true
    rm -rf "${staging}"
    die "maven could not fetch the Kafka jars (full output: ${KAFKA_HOME_DIR}/fetch.log)"
  fi
  [[ -f "${staging}/kafka_2.13-${KAFKA_VERSION}.jar" ]] || die "maven finished but kafka_2.13-${KAFKA_VERSION}.jar is missing"
  touch "${staging}/.complete"
  rm -rf "${LIBS_DIR}"
  mv "${staging}" "${LIBS_DIR}"
  log "fetched $(find "${LIBS_DIR}" -name '*.jar' | wc -l) jars"
}

require_jars() {
  jars_present || die "Kafka jars not found in ${LIBS_DIR}: run '$0 fetch' first"
  command -v java >/dev/null || die "java not found (install default-jdk-headless, or run scripts/setup.sh)"
}

# Runs a Kafka command-line class quietly (its own log4j config: warnings to stderr only).
run_tool() {
  local class="$1"; shift
  java -Xmx256m -Dlog4j.configuration="file:${TOOLS_LOG4J_PROPS}" -cp "${LIBS_DIR}/*" "${class}" "$@"
}

write_tools_log4j() {
  mkdir -p "${RUN_DIR}"
  cat >"${TOOLS_LOG4J_PROPS}" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

# --- process bookkeeping -------------------------------------------------------------------------------------------

# Prints the recorded pid when that process is alive and is still the broker started from this run dir
# (guards against a recycled pid after a reboot or a crash).
live_pid() {
  [[ -f "${PID_FILE}" ]] || return 1
  local pid
  pid="$(<"${PID_FILE}")"
  is_uint "${pid}" || return 1
  [[ -r "/proc/${pid}/cmdline" ]] || return 1
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null || true)"
  [[ "${cmdline}" == *kafka.Kafka*"${SERVER_PROPS}"* ]] || return 1
  echo "${pid}"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A real Kafka request (metadata through the admin client), not just an open socket: a KRaft broker accepts
# requests only once it is registered and unfenced, so this answering means producers and admin calls will work.
broker_answers() {
  timeout 30 java -Xmx128m -Dlog4j.configuration="file:${TOOLS_LOG4J_PROPS}" -cp "${LIBS_DIR}/*" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:${PORT}" --list >/dev/null 2>&1
}

# Waits until the broker answers, up to START_TIMEOUT seconds. With a pid, fails at once when that process dies.
wait_until_answers() {
  local pid="${1:-}"
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if [[ -n "${pid}" ]] && ! kill -0 "${pid}" 2>/dev/null; then
      return 2
    fi
    # The open-port check is cheap and gates the JVM-based real check, which costs a second or two.
    if port_open "${PORT}" && broker_answers; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

show_log_tail() {
  local f
  for f in "${STDOUT_LOG}" "${BROKER_LOG}"; do
    if [[ -s "${f}" ]]; then
      printf -- '----- last lines of %s -----\n' "${f}" >&2
      tail -n 40 "${f}" >&2
    fi
  done
}

# --- start ---------------------------------------------------------------------------------------------------------

write_configs() {
  local data_dir="$1"
  local cport
  cport="$(controller_port)"
  cat >"${SERVER_PROPS}" <<EOF
# Generated by deploy/local/kafka.sh: single-node KRaft (combined broker + controller) on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${cport}
listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${cport}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${data_dir}
# Passerelle creates its own topics; an auto-created topic would hide a wrong name or partition count.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
# One node: internal topics must not ask for more replicas, or consumer groups and transactions never start.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
min.insync.replicas=1
# Tests join consumer groups constantly; the default 3 s delay would only slow them down.
group.initial.rebalance.delay.ms=0
EOF
  cat >"${LOG4J_PROPS}" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${BROKER_LOG}
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
EOF
}

cmd_start() {
  require_jars
  mkdir -p "${RUN_DIR}" "${LOG_DIR}"
  write_tools_log4j
  local pid
  if pid="$(live_pid)"; then
    log "already running on 127.0.0.1:${PORT} (pid ${pid}); waiting until it answers"
    cmd_wait
    return
  fi
  local cport
  cport="$(controller_port)"
  port_open "${PORT}" && die "port ${PORT} is already in use by another process (choose another KAFKA_PORT)"
  port_open "${cport}" && die "controller port ${cport} (KAFKA_PORT+1) is already in use by another process"

  local data_dir keep_data=0
  if [[ -n "${KAFKA_DATA_DIR:-}" ]]; then
    data_dir="${KAFKA_DATA_DIR}"
    keep_data=1
  else
    data_dir="${RUN_DIR}/data"
    rm -rf "${data_dir}"
  fi
  mkdir -p "${data_dir}"
  data_dir="$(cd "${data_dir}" && pwd)"
  write_configs "${data_dir}"

  if ((keep_data)) && [[ -f "${data_dir}/meta.properties" ]]; then
    log "reusing formatted data dir ${data_dir}"
  else
    local cluster_id
    cluster_id="$(run_tool kafka.tools.StorageTool random-uuid)" || die "StorageTool random-uuid failed"
    run_tool kafka.tools.StorageTool format -t "${cluster_id}" -c "${SERVER_PROPS}" >"${LOG_DIR}/format.log" 2>&1 ||
      { cat "${LOG_DIR}/format.log" >&2; die "could not format ${data_dir}"; }
  fi

  # Keep the previous run's logs aside so a start-up failure shows this run's lines only.
  local f
  for f in "${STDOUT_LOG}" "${BROKER_LOG}"; do
    if [[ -f "${f}" ]]; then mv -f "${f}" "${f}.previous"; fi
  done
  rm -f "${BROKER_LOG}".[0-9]*
  # setsid: the broker outlives the shell that started it (developers start it once); `stop` ends it by pid.
  # shellcheck disable=SC2086 # HEAP_OPTS is a list of JVM flags.
  setsid java ${HEAP_OPTS} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:${LOG4J_PROPS}" -Dkafka.logs.dir="${LOG_DIR}" \
    -cp "${LIBS_DIR}/*" kafka.Kafka "${SERVER_PROPS}" </dev/null >>"${STDOUT_LOG}" 2>&1 &
  pid=$!
  echo "${pid}" >"${PID_FILE}"
  log "started pid ${pid} on 127.0.0.1:${PORT} (controller ${cport}), data ${data_dir}, log ${BROKER_LOG}"

  local rc=0
  wait_until_answers "${pid}" || rc=$?
  case "${rc}" in
    0) log "ready: bootstrap 127.0.0.1:${PORT}" ;;
    2) show_log_tail; rm -f "${PID_FILE}"; die "the broker exited during start-up (see above)" ;;
    *) show_log_tail; stop_pid "${pid}"
       die "the broker did not answer on 127.0.0.1:${PORT} within ${START_TIMEOUT} s (KAFKA_START_TIMEOUT); stopped it" ;;
  esac
}

# --- stop / status / wait ------------------------------------------------------------------------------------------

stop_pid() {
  local pid="$1"
  kill -TERM "${pid}" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "${pid}" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "${pid}" 2>/dev/null; then
    log "pid ${pid} still alive after ${STOP_TIMEOUT} s (KAFKA_STOP_TIMEOUT): SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while kill -0 "${pid}" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -0 "${pid}" 2>/dev/null && die "pid ${pid} survived SIGKILL"
  fi
  rm -f "${PID_FILE}"
}

cmd_stop() {
  local pid
  if ! pid="$(live_pid)"; then
    rm -f "${PID_FILE}"
    log "not running on port ${PORT} (run dir ${RUN_DIR})"
    return 0
  fi
  log "stopping pid ${pid} (port ${PORT})"
  stop_pid "${pid}"
  log "stopped"
}

cmd_status() {
  require_jars
  write_tools_log4j
  local pid
  if ! pid="$(live_pid)"; then
    echo "kafka on 127.0.0.1:${PORT}: not running (run dir ${RUN_DIR})"
    return 3
  fi
  if broker_answers; then
    echo "kafka on 127.0.0.1:${PORT}: running, answering (pid ${pid}, log ${BROKER_LOG})"
    return 0
  fi
  echo "kafka on 127.0.0.1:${PORT}: running, NOT answering (pid ${pid}, log ${BROKER_LOG})"
  return 1
}

# Waits for any broker on KAFKA_PORT, including one this script did not start.
cmd_wait() {
  require_jars
  write_tools_log4j
  local pid="" rc=0
  pid="$(live_pid)" || pid=""
  wait_until_answers "${pid}" || rc=$?
  case "${rc}" in
    0) log "ready: bootstrap 127.0.0.1:${PORT}" ;;
    2) show_log_tail; die "the broker (pid ${pid}) exited" ;;
    *) [[ -n "${pid}" ]] && show_log_tail
       die "no broker answered on 127.0.0.1:${PORT} within ${START_TIMEOUT} s (KAFKA_START_TIMEOUT)" ;;
  esac
}

cmd_topics() {
  require_jars
  write_tools_log4j
  run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:${PORT}" "$@"
}

cmd_groups() {
  require_jars
  write_tools_log4j
  run_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "127.0.0.1:${PORT}" "$@"
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

main() {
  [[ $# -ge 1 ]] || usage
  local cmd="$1"; shift
  check_env
  case "${cmd}" in
    fetch)  [[ $# -eq 0 ]] || usage; cmd_fetch ;;
    start)  [[ $# -eq 0 ]] || usage; cmd_start ;;
    stop)   [[ $# -eq 0 ]] || usage; cmd_stop ;;
    status) [[ $# -eq 0 ]] || usage; cmd_status ;;
    wait)   [[ $# -eq 0 ]] || usage; cmd_wait ;;
    topics) cmd_topics "$@" ;;
    groups) cmd_groups "$@" ;;
    -h|--help|help) usage ;;
    *) log "unknown command '${cmd}'"; usage ;;
  esac
}

main "$@"
