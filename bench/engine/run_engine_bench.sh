#!/usr/bin/env bash
# bench/engine/run_engine_bench.sh — the lifecycle engine benchmark of docs/performance.md ("Lifecycle engine").
#
# Builds engine_bench in build/release (scripts/setup.sh release engine_bench), then runs it BENCH_ROUNDS times
# with the same options and prints every RESULT line and the median of each figure. The phases (fold, rebuild,
# memory, engine, freshness) are described at the top of bench/engine/engine_bench.cpp. Everything runs in one
# process on the embedded backend, in a temporary folder under BENCH_DATA_DIR that is removed afterwards.
# Not part of ctest: figures are not pass/fail.
#
# Environment:
#   BENCH_ROUNDS      runs, default 3
#   BENCH_BASKETS     active baskets, default 1000000
#   BENCH_ARGS        further engine_bench options (e.g. "--engine-events 200000 --sync false")
#   BENCH_BUILD       1 (default): build first; 0: use what is built
#   BENCH_DATA_DIR    parent of the temporary data folder, default ${TMPDIR:-/tmp}
#   BENCH_RESULTS     results file, default bench/engine/results/<UTC time>.txt
#   BENCH_KAFKA       1: also start a dedicated Kafka (deploy/local/kafka.sh, KAFKA_PORT, data in a temporary
#                     folder, stopped on exit) and run the engine and freshness phases on it (engine_bench --kafka)
#   KAFKA_PORT        port of that broker, default 29692 (controller on KAFKA_PORT+1)
# Exit status: 0 all runs done; 1 a run or the build failed.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly BIN="${ROOT}/build/release/bench/engine/engine_bench"
readonly ROUNDS="${BENCH_ROUNDS:-3}"
readonly BASKETS="${BENCH_BASKETS:-1000000}"
readonly DATA_DIR="${BENCH_DATA_DIR:-${TMPDIR:-/tmp}}"
readonly RESULTS="${BENCH_RESULTS:-${ROOT}/bench/engine/results/$(date -u +%Y-%m-%dT%H%MZ).txt}"

if [[ "${BENCH_BUILD:-1}" == 1 ]]; then "${ROOT}/scripts/setup.sh" release engine_bench; fi
[[ -x "${BIN}" ]] || { echo "run_engine_bench.sh: ${BIN} is not built" >&2; exit 1; }
mkdir -p "$(dirname "${RESULTS}")"

KAFKA_ARGS=()
if [[ "${BENCH_KAFKA:-0}" == 1 ]]; then
  export KAFKA_PORT="${KAFKA_PORT:-29692}"
  WORK="$(mktemp -d "${DATA_DIR}/engine-bench-kafka.XXXXXX")"
  export KAFKA_DATA_DIR="${WORK}/kafka-data" KAFKA_RUN_DIR="${WORK}/kafka-run"
  cleanup() {
    "${ROOT}/deploy/local/kafka.sh" stop || echo "run_engine_bench.sh: could not stop Kafka (${KAFKA_RUN_DIR})" >&2
    rm -rf "${WORK}"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  "${ROOT}/deploy/local/kafka.sh" fetch
  "${ROOT}/deploy/local/kafka.sh" start
  KAFKA_ARGS=(--kafka "127.0.0.1:${KAFKA_PORT}")
fi
{
  echo "# engine_bench, $(date -u +%FT%TZ), commit $(git -C "${ROOT}" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r)"
  echo "# options: --baskets ${BASKETS} ${BENCH_ARGS:-} (BENCH_KAFKA=${BENCH_KAFKA:-0})"
} >"${RESULTS}"
for ((round = 1; round <= ROUNDS; round++)); do
  echo "# round ${round}, load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"${RESULTS}"
  # shellcheck disable=SC2086 # BENCH_ARGS is deliberately word-split.
  "${BIN}" --baskets "${BASKETS}" --data-dir "${DATA_DIR}" "${KAFKA_ARGS[@]}" ${BENCH_ARGS:-} | tee -a "${RESULTS}"
done
# The median of every numeric key=value over the rounds.
awk '/^RESULT/ {
       for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1], ++n[kv[1]]] = kv[2]; if (!(kv[1] in seen)) { seen[kv[1]] = 1; keys[++k] = kv[1] } }
     }
     END {
       printf "MEDIAN"
       for (j = 1; j <= k; j++) {
         key = keys[j]; m = n[key]
         if (v[key, m] !~ /^-?[0-9.]+$/) { printf " %s=%s", key, v[key, m]; continue }
         for (a = 1; a <= m; a++) s[a] = v[key, a] + 0
         for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (s[b] < s[a]) { t = s[a]; s[a] = s[b]; s[b] = t }
         printf " %s=%s", key, s[int((m + 1) / 2)]
       }
       printf "\n"
     }' "${RESULTS}" | tee -a "${RESULTS}"
echo "results: ${RESULTS}"
