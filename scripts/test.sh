#!/usr/bin/env bash
# scripts/test.sh — command 2: build with sanitizers, start a real Kafka, run every test, always stop Kafka.
#
#   scripts/test.sh [ctest arguments...]      e.g. scripts/test.sh -L kafka     or     scripts/test.sh -R murmur2
#
# Steps: scripts/setup.sh asan (Debug + ASan/UBSan into build/asan, keep-going so one broken module does not hide
# the others' results); deploy/local/kafka.sh fetch; a fresh single-node Kafka on 127.0.0.1:$KAFKA_PORT; then
# ctest with PASSERELLE_KAFKA_BOOTSTRAP pointing at it. If Kafka cannot start the script fails: tests that need
# Kafka must fail, never skip. Kafka is stopped on every exit path (trap EXIT), including Ctrl-C.
#
# Environment:
#   KAFKA_PORT               Kafka client port for this run, default 19092 (controller: KAFKA_PORT+1)
#   PASSERELLE_TEST_JOBS     ctest parallelism, default 2
#   PASSERELLE_TEST_TIMEOUT  per-test timeout in seconds, default 600
#   ASAN_OPTIONS / UBSAN_OPTIONS   sanitizer options; defaults below when unset
# Exit status: ctest's; non-zero as well when the build failed.
set -uo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly KAFKA_SH="${ROOT}/deploy/local/kafka.sh"
readonly BUILD_DIR="${ROOT}/build/asan"

export KAFKA_PORT="${KAFKA_PORT:-19092}"
# A run dir of its own inside the build tree: fresh data each run, logs kept afterwards for inspection/CI artifacts.
export KAFKA_RUN_DIR="${BUILD_DIR}/kafka-${KAFKA_PORT}"
unset KAFKA_DATA_DIR
readonly TEST_JOBS="${PASSERELLE_TEST_JOBS:-2}"
readonly TEST_TIMEOUT="${PASSERELLE_TEST_TIMEOUT:-600}"

log() { printf 'test.sh: %s\n' "$*" >&2; }
summary() { printf '\n==== test.sh: %s ====\n' "$*" >&2; }

[[ "${TEST_JOBS}" =~ ^[1-9][0-9]*$ ]] || { log "PASSERELLE_TEST_JOBS must be a positive integer"; exit 2; }
[[ "${TEST_TIMEOUT}" =~ ^[1-9][0-9]*$ ]] || { log "PASSERELLE_TEST_TIMEOUT must be a positive integer"; exit 2; }

# 1. Build. Keep going past failures so every test that can be built still runs; remember the failure.
build_status=0
PASSERELLE_KEEP_GOING=1 "${ROOT}/scripts/setup.sh" asan || build_status=$?
if [[ ! -f "${BUILD_DIR}/CTestTestfile.cmake" ]]; then
  summary "FAILED: build/asan was not configured (setup.sh exit ${build_status})"
  exit 1
fi

# 2. Kafka.
"${KAFKA_SH}" fetch || { summary "FAILED: could not fetch the Kafka jars"; exit 1; }

# Another run (or a developer) may own this port's run dir right now: never wipe or stop a live broker of theirs.
if [[ -f "${KAFKA_RUN_DIR}/kafka.pid" ]] && kill -0 "$(<"${KAFKA_RUN_DIR}/kafka.pid")" 2>/dev/null; then
  summary "FAILED: a Kafka from another run is alive in ${KAFKA_RUN_DIR} (pid $(<"${KAFKA_RUN_DIR}/kafka.pid")); stop it (KAFKA_PORT=${KAFKA_PORT} KAFKA_RUN_DIR=${KAFKA_RUN_DIR} ${KAFKA_SH} stop) or choose another KAFKA_PORT"
  exit 1
fi

stop_kafka() {
  "${KAFKA_SH}" stop || log "warning: stopping Kafka failed; run: KAFKA_PORT=${KAFKA_PORT} KAFKA_RUN_DIR=${KAFKA_RUN_DIR} ${KAFKA_SH} stop"
}
# Registered before the start, so an interrupted start is cleaned up too (stop is idempotent).
trap stop_kafka EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "${KAFKA_RUN_DIR}"
if ! "${KAFKA_SH}" start; then
  summary "FAILED: Kafka did not start on 127.0.0.1:${KAFKA_PORT} (logs in ${KAFKA_RUN_DIR}/logs); no test was run"
  exit 1
fi
export PASSERELLE_KAFKA_BOOTSTRAP="127.0.0.1:${KAFKA_PORT}"

# 3. Tests.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest_log="${BUILD_DIR}/ctest.log"
log "running ctest (jobs ${TEST_JOBS}, timeout ${TEST_TIMEOUT} s per test, Kafka ${PASSERELLE_KAFKA_BOOTSTRAP})"
ctest --test-dir "${BUILD_DIR}" --output-on-failure --no-tests=error -j "${TEST_JOBS}" --timeout "${TEST_TIMEOUT}" \
  "$@" 2>&1 | tee "${ctest_log}"
ctest_status=${PIPESTATUS[0]}

ctest_line="$(grep -E '[0-9]+% tests passed' "${ctest_log}" | tail -n1)"
[[ -n "${ctest_line}" ]] || ctest_line="ctest exit ${ctest_status}, no result line (see ${ctest_log})"
build_word="ok"
((build_status == 0)) || build_word="FAILED (exit ${build_status}; see the errors above)"
if ((ctest_status == 0 && build_status == 0)); then
  summary "PASSED: ${ctest_line}; build ${build_word}"
  exit 0
fi
summary "FAILED: ${ctest_line}; build ${build_word}"
((ctest_status != 0)) && exit "${ctest_status}"
exit 1
