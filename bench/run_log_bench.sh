#!/usr/bin/env bash
# bench/run_log_bench.sh — the event-log benchmark of docs/performance.md, in one command.
#
# Builds build/release (scripts/setup.sh release), starts a dedicated Kafka (deploy/local/kafka.sh, port 29392,
# its own data folder), then runs the variants INTERLEAVED for several rounds (the order rotates every round, so
# drift and noise from other processes spread over all variants), stops Kafka (also on failure or Ctrl-C), and
# prints the median and spread of every figure and the ratios to the raw librdkafka ceiling.
#
# Variants:
#   raw              build/release/bench/log/raw_librdkafka_bench: librdkafka's own producer, the ceiling
#   kafka            build/release/bench/log/log_bench --backend kafka     (the Kafka backend, event_log interface)
#   embedded         build/release/bench/log/log_bench --backend embedded  (RocksDB, fsync per group commit)
#   embedded-nosync  the same without fsync: not durable against power loss, only to show what fsync costs
#
# Environment (every bound configurable):
#   BENCH_ROUNDS       rounds, default 5
#   BENCH_VARIANTS     default "raw kafka embedded"
#   BENCH_COUNT        measured records per run, default 200000
#   BENCH_WARMUP       warm-up records per run (not counted), default 20000
#   BENCH_WINDOW       closed-loop in-flight window of the throughput pass, default 4096
#   BENCH_LATENCY_WINDOW  window of the latency pass (light load: latency without queueing), default 64;
#                      0 skips that pass
#   BENCH_LATENCY_COUNT   measured records per latency-pass run, default 20000
#   BENCH_PRIME        1 (default): one unrecorded run of each Kafka variant first (JIT-warms the broker)
#   BENCH_PARTITIONS   partitions of each fresh topic, default 12 (Passerelle's default)
#   BENCH_RECORD_SIZE  value bytes, default 1024
#   BENCH_TIMEOUT      seconds one phase of one run may take before it is failed, default 300
#   BENCH_EXTRA_ARGS   extra arguments for every log_bench/raw_librdkafka_bench run (word-split)
#   BENCH_BUILD        1 (default): build first; 0: use the binaries already in build/release
#   BENCH_WORK_DIR     parent of the temporary folder (Kafka data, embedded stores), default ${TMPDIR:-/tmp}
#   BENCH_RESULTS      file the RESULT lines are appended to, default build/release/log_bench-<UTC time>.txt
#   KAFKA_PORT         port of the dedicated broker, default 29392 (controller on KAFKA_PORT+1)
#   PASSERELLE_CACHE   where deploy/local/kafka.sh caches the Kafka jars (see that script)
# Exit status: 0 every run acknowledged every record; 1 a run or the set-up failed; 2 bad usage.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly BUILD_DIR="${ROOT}/build/release"
readonly LOG_BENCH="${BUILD_DIR}/bench/log/log_bench"
readonly RAW_BENCH="${BUILD_DIR}/bench/log/raw_librdkafka_bench"
readonly KAFKA_SH="${ROOT}/deploy/local/kafka.sh"

readonly ROUNDS="${BENCH_ROUNDS:-5}"
readonly VARIANTS="${BENCH_VARIANTS:-raw kafka embedded}"
readonly COUNT="${BENCH_COUNT:-200000}"
readonly WARMUP="${BENCH_WARMUP:-20000}"
readonly WINDOW="${BENCH_WINDOW:-4096}"
readonly LATENCY_WINDOW="${BENCH_LATENCY_WINDOW:-64}"
readonly LATENCY_COUNT="${BENCH_LATENCY_COUNT:-20000}"
readonly PRIME="${BENCH_PRIME:-1}"
readonly PARTITIONS="${BENCH_PARTITIONS:-12}"
readonly RECORD_SIZE="${BENCH_RECORD_SIZE:-1024}"
readonly TIMEOUT="${BENCH_TIMEOUT:-300}"
readonly DO_BUILD="${BENCH_BUILD:-1}"
export KAFKA_PORT="${KAFKA_PORT:-29392}"

log() { printf 'run_log_bench: %s\n' "$*" >&2; }
die() { printf 'run_log_bench: error: %s\n' "$*" >&2; exit "${2:-1}"; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

for v in ROUNDS COUNT WARMUP WINDOW LATENCY_WINDOW LATENCY_COUNT PARTITIONS RECORD_SIZE TIMEOUT; do
  is_uint "${!v}" || die "BENCH_${v} must be a non-negative integer, got '${!v}'" 2
done
((ROUNDS >= 1)) || die "BENCH_ROUNDS must be at least 1" 2
[[ "${DO_BUILD}" == 0 || "${DO_BUILD}" == 1 ]] || die "BENCH_BUILD must be 0 or 1, got '${DO_BUILD}'" 2
[[ "${PRIME}" == 0 || "${PRIME}" == 1 ]] || die "BENCH_PRIME must be 0 or 1, got '${PRIME}'" 2
((WINDOW >= 1 && COUNT >= 1)) || die "BENCH_WINDOW and BENCH_COUNT must be at least 1" 2
((LATENCY_WINDOW == 0 || LATENCY_COUNT >= 1)) || die "BENCH_LATENCY_COUNT must be at least 1" 2
needs_kafka=0
for v in ${VARIANTS}; do
  case "${v}" in
    raw|kafka) needs_kafka=1 ;;
    embedded|embedded-nosync) ;;
    *) die "unknown variant '${v}' in BENCH_VARIANTS (raw, kafka, embedded, embedded-nosync)" 2 ;;
  esac
done

# --- build -------------------------------------------------------------------------------------------------------
if [[ "${DO_BUILD}" == 1 ]]; then
  if [[ -x "${ROOT}/scripts/setup.sh" ]]; then
    "${ROOT}/scripts/setup.sh" release log_bench raw_librdkafka_bench
  else
    export CCACHE_BASEDIR="${ROOT}"
    cmake -S "${ROOT}" -B "${BUILD_DIR}" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPASSERELLE_SANITIZE=OFF \
      -DPASSERELLE_BUILD_TESTS=OFF
    cmake --build "${BUILD_DIR}" --target log_bench raw_librdkafka_bench -j "$(nproc)"
  fi
fi
[[ -x "${LOG_BENCH}" && -x "${RAW_BENCH}" ]] || die "benchmarks not built in ${BUILD_DIR} (run with BENCH_BUILD=1)"

# --- work folder, dedicated Kafka, cleanup -----------------------------------------------------------------------
WORK="$(mktemp -d "${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}/passerelle-log-bench.XXXXXX")"
export KAFKA_DATA_DIR="${WORK}/kafka-data"
export KAFKA_RUN_DIR="${WORK}/kafka-run"
kafka_started=0
cleanup() {
  local rc=$?
  if ((kafka_started)); then
    "${KAFKA_SH}" stop || log "could not stop the benchmark's Kafka (run dir ${KAFKA_RUN_DIR})"
  fi
  rm -rf "${WORK}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RESULTS="${BENCH_RESULTS:-${BUILD_DIR}/log_bench-$(date -u +%Y%m%dT%H%M%SZ).txt}"
mkdir -p "$(dirname "${RESULTS}")"

broker_pid=""
if ((needs_kafka)); then
  "${KAFKA_SH}" fetch
  kafka_started=1
  "${KAFKA_SH}" start
  broker_pid="$(<"${KAFKA_RUN_DIR}/kafka.pid")"
fi
readonly BOOTSTRAP="127.0.0.1:${KAFKA_PORT}"

# CPU seconds (user+system) a process has used so far, from /proc (0 when it is gone).
readonly CLK_TCK="$(getconf CLK_TCK)"
cpu_of() {
  [[ -n "$1" && -r "/proc/$1/stat" ]] || { echo 0; return; }
  awk -v hz="${CLK_TCK}" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$1/stat"
}

{
  echo "# passerelle log benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: nproc=$(nproc) mem=$(awk '/MemTotal/ { printf "%.1fGiB", $2 / 1048576 }' /proc/meminfo)" \
       "cpu=\"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)\" kernel=$(uname -r)" \
       "librdkafka=$(pkg-config --modversion rdkafka 2>/dev/null || echo ?) kafka=3.9.1"
  echo "# settings: rounds=${ROUNDS} variants=\"${VARIANTS}\" count=${COUNT} warmup=${WARMUP} window=${WINDOW}" \
       "latency_window=${LATENCY_WINDOW} latency_count=${LATENCY_COUNT} partitions=${PARTITIONS}" \
       "record_size=${RECORD_SIZE} extra=\"${BENCH_EXTRA_ARGS:-}\""
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "${RESULTS}"

common=(--warmup "${WARMUP}" --partitions "${PARTITIONS}" --record-size "${RECORD_SIZE}" --timeout "${TIMEOUT}")
# shellcheck disable=SC2206 # deliberately word-split.
extra=(${BENCH_EXTRA_ARGS:-})
read -r -a variant_list <<<"${VARIANTS}"
failures=0

# run_variant VARIANT ROUND WINDOW COUNT [record=0]: one run; its RESULT line goes to the results file unless
# record=0 (priming).
run_variant() {
  local variant="$1" round="$2" window="$3" count="$4" record="${5:-1}"
  local cmd=()
  case "${variant}" in
    raw)             cmd=("${RAW_BENCH}" --bootstrap "${BOOTSTRAP}") ;;
    kafka)           cmd=("${LOG_BENCH}" --backend kafka --bootstrap "${BOOTSTRAP}") ;;
    embedded)        cmd=("${LOG_BENCH}" --backend embedded --data-dir "${WORK}/embedded") ;;
    embedded-nosync) cmd=("${LOG_BENCH}" --backend embedded --sync false --data-dir "${WORK}/embedded") ;;
  esac
  cmd+=(--window "${window}" --count "${count}" "${common[@]}" "${extra[@]}" --label "round=${round}")
  local out="${WORK}/run.out" broker_cpu0 broker_cpu1 rc=0
  broker_cpu0="$(cpu_of "${broker_pid}")"
  "${cmd[@]}" >"${out}" 2>"${WORK}/run.err" || rc=$?
  broker_cpu1="$(cpu_of "${broker_pid}")"
  local line
  line="$(grep '^RESULT ' "${out}" || true)"
  if ((rc != 0)) || [[ -z "${line}" ]]; then
    failures=$((failures + 1))
    log "round ${round} ${variant}: FAILED (exit ${rc}):"
    sed 's/^/    /' "${WORK}/run.err" >&2
    echo "FAILED variant=${variant} round=${round} window=${window} rc=${rc}" >>"${RESULTS}"
    return
  fi
  ((record)) || { log "priming run of ${variant} done (not recorded)"; return; }
  # The broker's CPU over the whole run (topic creation, warm-up and measured phase), per record produced.
  local broker_cpu
  broker_cpu="$(awk -v a="${broker_cpu0}" -v b="${broker_cpu1}" 'BEGIN { printf "%.3f", b - a }')"
  [[ "${variant}" == raw || "${variant}" == kafka ]] || broker_cpu=0
  echo "${line} broker_cpu_s=${broker_cpu} cmd=$(basename "${cmd[0]}")" >>"${RESULTS}"
  awk -v v="${variant}" -v r="${round}" -v bc="${broker_cpu}" '{
      for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      printf "  round %-2s %-16s window %-5s %9.0f events/s  p50 %8.1f ms  p99 %8.1f ms  client cpu %6.2f s  broker cpu %6.2f s\n",
             r, v, f["window"], f["eps"], f["p50_us"] / 1000, f["p99_us"] / 1000, f["cpu_s"], bc }' <<<"${line}"
}

log "results go to ${RESULTS}"
if ((PRIME)); then
  for v in "${variant_list[@]}"; do
    [[ "${v}" == raw || "${v}" == kafka ]] && run_variant "${v}" 0 "${WINDOW}" "${COUNT}" 0
  done
fi
for ((round = 1; round <= ROUNDS; round++)); do
  n=${#variant_list[@]}
  for ((k = 0; k < n; k++)); do
    run_variant "${variant_list[$(((k + round - 1) % n))]}" "${round}" "${WINDOW}" "${COUNT}"
  done
  if ((LATENCY_WINDOW > 0)); then
    for ((k = 0; k < n; k++)); do
      run_variant "${variant_list[$(((k + round - 1) % n))]}" "${round}" "${LATENCY_WINDOW}" "${LATENCY_COUNT}"
    done
  fi
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "${RESULTS}"

# --- comparison ---------------------------------------------------------------------------------------------------
"${ROOT}/bench/summarise_log_bench.awk" "${RESULTS}" | tee -a "${RESULTS}"
log "RESULT lines kept in ${RESULTS}"
((failures == 0)) || die "${failures} run(s) failed (see above)"
