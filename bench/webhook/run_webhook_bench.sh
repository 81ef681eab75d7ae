#!/usr/bin/env bash
# bench/webhook/run_webhook_bench.sh — the webhook ingest benchmark of docs/performance.md ("Webhook ingest").
#
# Builds what is needed (build/release via scripts/setup.sh release: passerelle, webhook_load,
# raw_librdkafka_bench; the peer via bench/webhook/build_peer.sh, cached in ~/.cache/passerelle/), starts its OWN
# Kafka (deploy/local/kafka.sh, KAFKA_PORT 29592, data in a temporary folder), then runs INTERLEAVED rounds (the
# order rotates every round) of:
#   passerelle  `passerelle serve` (kafka backend, shopify accounts) loaded by webhook_load
#   peer        Redpanda Connect / Benthos (http_server -> HMAC check -> dedupe -> kafka_franz, bench/webhook/
#               peer.yaml.in) loaded by the same webhook_load
#   raw         raw_librdkafka_bench: librdkafka alone writing records of the size Passerelle writes per request
#               (one per carts/update), window = the same concurrency: the ceiling
# and prints medians, the ratios passerelle/peer and passerelle/raw per round and their median, and the CPU per
# accepted request of the server and of the broker. Everything it starts is stopped on exit (also on failure or
# Ctrl-C). Not part of ctest: figures are not pass/fail.
#
# Environment (every bound configurable):
#   BENCH_ROUNDS         rounds, default 3
#   BENCH_VARIANTS       default "passerelle peer raw"
#   BENCH_CONNECTIONS    concurrent connections (and the raw window), default 32
#   BENCH_DURATION       measured seconds per HTTP run, default 20
#   BENCH_WARMUP         warm-up seconds per HTTP run (not counted), default 5
#   BENCH_RAW_COUNT      measured records per raw run, default 30000 (plus a tenth as warm-up)
#   BENCH_RECORD_SIZE    raw value size when it cannot be measured from Passerelle's records, default 1200
#   BENCH_PRIME          1 (default): one unrecorded run of each variant first (JIT/GC warm-up of the broker,
#                        and the measurement of Passerelle's record sizes for the raw variant)
#   BENCH_PARTITIONS     partitions of every topic, default 12 (Passerelle's default)
#   BENCH_LOADGEN_THREADS  webhook_load threads, default 1
#   BENCH_BUILD          1 (default): build first; 0: use what is built
#   BENCH_RESULTS        results file, default bench/webhook/results/<UTC time>.txt
#   BENCH_ENGINE         1: Passerelle also runs its lifecycle engine (folding every event, in Kafka transactions,
#                        on the same broker and CPUs); default 0: an ingest instance (lifecycle.engine: false), the
#                        same job as the peer's
#   BENCH_PERF           1: profile Passerelle (perf record) during its round-1 run, if perf is installed; the
#                        summary goes to <results>.perf.txt
#   KAFKA_PORT           default 29592 (controller on +1); PASSERELLE_PORT default 29610; PEER_PORT 29611
#                        (its admin/ready endpoint on PEER_PORT+1)
#   PEER_BIN             use this peer binary instead of building one
# Exit status: 0 all runs done; 1 a run or the set-up failed; 2 bad usage.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly HERE="${ROOT}/bench/webhook"
readonly BUILD_DIR="${ROOT}/build/release"
readonly PASSERELLE="${BUILD_DIR}/broker/app/passerelle"
readonly LOADGEN="${BUILD_DIR}/bench/webhook/webhook_load"
readonly RAW_BENCH="${BUILD_DIR}/bench/log/raw_librdkafka_bench"
readonly KAFKA_SH="${ROOT}/deploy/local/kafka.sh"

readonly ROUNDS="${BENCH_ROUNDS:-3}"
readonly VARIANTS="${BENCH_VARIANTS:-passerelle peer raw}"
readonly CONNECTIONS="${BENCH_CONNECTIONS:-32}"
readonly DURATION="${BENCH_DURATION:-20}"
readonly WARMUP="${BENCH_WARMUP:-5}"
readonly RAW_COUNT="${BENCH_RAW_COUNT:-30000}"
RECORD_SIZE="${BENCH_RECORD_SIZE:-1200}"
readonly PRIME="${BENCH_PRIME:-1}"
readonly PARTITIONS="${BENCH_PARTITIONS:-12}"
readonly LOADGEN_THREADS="${BENCH_LOADGEN_THREADS:-1}"
readonly DO_BUILD="${BENCH_BUILD:-1}"
readonly DO_PERF="${BENCH_PERF:-0}"
readonly ENGINE="${BENCH_ENGINE:-0}"
readonly SHOPS=8
export KAFKA_PORT="${KAFKA_PORT:-29592}"
readonly PASSERELLE_PORT="${PASSERELLE_PORT:-29610}"
readonly PEER_PORT="${PEER_PORT:-29611}"
readonly PEER_ADMIN_PORT=$((PEER_PORT + 1))
readonly BOOTSTRAP="127.0.0.1:${KAFKA_PORT}"

log() { printf 'run_webhook_bench: %s\n' "$*" >&2; }
die() { printf 'run_webhook_bench: error: %s\n' "$*" >&2; exit "${2:-1}"; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

for v in ROUNDS CONNECTIONS DURATION WARMUP RAW_COUNT RECORD_SIZE PARTITIONS LOADGEN_THREADS; do
  is_uint "${!v}" || die "BENCH_${v} must be a non-negative integer, got '${!v}'" 2
done
((ROUNDS >= 1 && CONNECTIONS >= 1 && DURATION >= 1 && RAW_COUNT >= 1)) ||
  die "BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_DURATION and BENCH_RAW_COUNT must be at least 1" 2
for b in DO_BUILD PRIME DO_PERF; do [[ "${!b}" == 0 || "${!b}" == 1 ]] || die "${b} must be 0 or 1" 2; done
for v in ${VARIANTS}; do
  case "${v}" in passerelle|peer|raw) ;; *) die "unknown variant '${v}' (passerelle, peer, raw)" 2 ;; esac
done

# --- build -------------------------------------------------------------------------------------------------------
if [[ "${DO_BUILD}" == 1 ]]; then
  "${ROOT}/scripts/setup.sh" release passerelle webhook_load raw_librdkafka_bench
fi
[[ -x "${PASSERELLE}" && -x "${LOADGEN}" && -x "${RAW_BENCH}" ]] ||
  die "not built in ${BUILD_DIR}: passerelle, webhook_load, raw_librdkafka_bench (run with BENCH_BUILD=1)"
PEER="${PEER_BIN:-}"
if [[ " ${VARIANTS} " == *" peer "* && -z "${PEER}" ]]; then
  PEER="$("${HERE}/build_peer.sh")" || die "could not build the peer (bench/webhook/build_peer.sh)"
fi

# --- work folder, Kafka, cleanup ---------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/passerelle-webhook-bench.XXXXXX")"
export KAFKA_DATA_DIR="${WORK}/kafka-data"
export KAFKA_RUN_DIR="${WORK}/kafka-run"
kafka_started=0
server_pid=""
stop_server() {
  [[ -n "${server_pid}" ]] || return 0
  if kill -0 "${server_pid}" 2>/dev/null; then
    kill -TERM "${server_pid}" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "${server_pid}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${server_pid}" 2>/dev/null || true
  fi
  wait "${server_pid}" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  local rc=$?
  stop_server
  if ((kafka_started)); then "${KAFKA_SH}" stop || log "could not stop the benchmark's Kafka (${KAFKA_RUN_DIR})"; fi
  rm -rf "${WORK}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RESULTS="${BENCH_RESULTS:-${HERE}/results/$(date -u +%Y%m%dT%H%M%SZ).txt}"
mkdir -p "$(dirname "${RESULTS}")"

"${KAFKA_SH}" fetch
kafka_started=1
"${KAFKA_SH}" start
broker_pid="$(<"${KAFKA_RUN_DIR}/kafka.pid")"

readonly CLK_TCK="$(getconf CLK_TCK)"
cpu_of() {
  [[ -n "$1" && -r "/proc/$1/stat" ]] || { echo 0; return; }
  awk -v hz="${CLK_TCK}" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$1/stat"
}
loadavg() { cut -d' ' -f1 /proc/loadavg; }

peer_version="-"
[[ -n "${PEER}" ]] && peer_version="$(cat "$(dirname "$(dirname "${PEER}")")/VERSION-$(basename "${PEER}" | sed "s/.*-//")" 2>/dev/null || "${PEER}" --version 2>/dev/null | head -n1 || echo '?')"
{
  echo "# passerelle webhook ingest benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: nproc=$(nproc) mem=$(awk '/MemTotal/ { printf "%.1fGiB", $2 / 1048576 }' /proc/meminfo)" \
       "cpu=\"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)\" kernel=$(uname -r)" \
       "librdkafka=$(pkg-config --modversion rdkafka 2>/dev/null || echo ?) kafka=3.9.1 peer=\"${peer_version}\""
  echo "# settings: rounds=${ROUNDS} variants=\"${VARIANTS}\" connections=${CONNECTIONS} duration=${DURATION}" \
       "warmup=${WARMUP} raw_count=${RAW_COUNT} partitions=${PARTITIONS} loadgen_threads=${LOADGEN_THREADS}"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "${RESULTS}"

# --- servers -----------------------------------------------------------------------------------------------------
wait_http() {  # wait_http URL SECONDS: until GET URL answers 200
  local url="$1" deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${url}" || true)" == 200 ]] && return 0
    kill -0 "${server_pid}" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

start_passerelle() {  # start_passerelle TAG
  local tag="$1" conf="${WORK}/passerelle-$1.yaml" i
  {
    echo "http: { listen: \"127.0.0.1:${PASSERELLE_PORT}\" }"
    echo "backend: kafka"
    echo "data_dir: \"${WORK}/passerelle-data-${tag}\""
    echo "kafka: { bootstrap_servers: \"${BOOTSTRAP}\", topic_prefix: \"bench.${tag}.p.\", partitions: ${PARTITIONS} }"
    echo "plugins: { dir: \"\" }"
    echo "log: { level: warn }"
    # Like for like with the peer, which only ingests: no lifecycle engine in this instance unless BENCH_ENGINE=1.
    if [[ "${ENGINE}" == 1 ]]; then echo "lifecycle: { engine: true }"; else echo "lifecycle: { engine: false }"; fi
    echo "connectors:"
    echo "  shopify:"
    echo "    accounts:"
    for ((i = 0; i < SHOPS; i++)); do
      echo "      \"bench-shop-${i}.myshopify.com\": { secrets: [\"bench-secret-${i}\"] }"
    done
  } >"${conf}"
  "${PASSERELLE}" serve --config "${conf}" >"${WORK}/passerelle-${tag}.log" 2>&1 &
  server_pid=$!
  wait_http "http://127.0.0.1:${PASSERELLE_PORT}/readyz" 120 ||
    { sed 's/^/    /' "${WORK}/passerelle-${tag}.log" >&2; die "passerelle did not become ready"; }
}

start_peer() {  # start_peer TAG
  local tag="$1" conf="${WORK}/peer-$1.yaml" topic="bench.${tag}.peer.basket.events" secrets="" i
  "${KAFKA_SH}" topics --create --topic "${topic}" --partitions "${PARTITIONS}" --replication-factor 1 >/dev/null
  for ((i = 0; i < SHOPS; i++)); do
    secrets+="${secrets:+, }\"bench-shop-${i}_myshopify_com\": [\"bench-secret-${i}\"]"
  done
  sed -e "s|@PEER_PORT@|${PEER_PORT}|g" -e "s|@PEER_ADMIN_PORT@|${PEER_ADMIN_PORT}|g" \
      -e "s|@BOOTSTRAP@|${BOOTSTRAP}|g" -e "s|@TOPIC@|${topic}|g" -e "s|@MAX_IN_FLIGHT@|${CONNECTIONS}|g" \
      -e "s|@SECRETS@|{${secrets}}|g" "${HERE}/peer.yaml.in" >"${conf}"
  "${PEER}" -c "${conf}" >"${WORK}/peer-${tag}.log" 2>&1 &
  server_pid=$!
  wait_http "http://127.0.0.1:${PEER_ADMIN_PORT}/ready" 120 ||
    { sed 's/^/    /' "${WORK}/peer-${tag}.log" >&2; die "the peer did not become ready"; }
}

# The mean key and value sizes of the records Passerelle wrote under topic prefix bench.TAG.p. (Kafka's own
# DumpLogSegments over one partition), so that the raw variant writes records of the same size.
measure_passerelle_records() {
  local tag="$1" seg
  seg="$(ls -d "${KAFKA_DATA_DIR}"/bench.${tag}.p.basket.events-*/ 2>/dev/null | head -n1)"
  [[ -n "${seg}" ]] || return 1
  java -Xmx256m -cp "${PASSERELLE_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/passerelle}/kafka-3.9.1/libs/*" \
    kafka.tools.DumpLogSegments --deep-iteration --files "${seg}"00000000000000000000.log 2>/dev/null |
    awk '/valueSize:/ { for (i = 1; i <= NF; i++) { if ($i == "keySize:") k += $(i + 1); if ($i == "valueSize:") v += $(i + 1) } n++ }
         END { if (n) printf "%d %d %d\n", v / n, k / n, n }'
}

failures=0
run_variant() {  # run_variant VARIANT ROUND [record=1]
  local variant="$1" round="$2" record="${3:-1}" tag="r$2" out="${WORK}/run.out" rc=0 line
  local label="round=${round}"
  case "${variant}" in
    passerelle|peer)
      if [[ "${variant}" == passerelle ]]; then start_passerelle "${tag}"; else start_peer "${tag}"; fi
      local port="${PASSERELLE_PORT}"
      [[ "${variant}" == peer ]] && port="${PEER_PORT}"
      # Once per variant: a valid, a badly signed and a repeated delivery, to show both servers answer alike.
      if ((round == 1 && record)); then
        "${LOADGEN}" --port "${port}" --target "${variant}" --probe | tee -a "${RESULTS}" >&2 || true
      fi
      local perf_pid=""
      if [[ "${DO_PERF}" == 1 && "${variant}" == passerelle && "${round}" == 1 && "${record}" == 1 ]] &&
        command -v perf >/dev/null; then
        perf record -F 999 -p "${server_pid}" -o "${WORK}/passerelle.perf.data" -- sleep $((WARMUP + DURATION)) \
          >/dev/null 2>&1 &
        perf_pid=$!
      fi
      "${LOADGEN}" --port "${port}" --target "${variant}" --connections "${CONNECTIONS}" --warmup "${WARMUP}" \
        --duration "${DURATION}" --threads "${LOADGEN_THREADS}" --cpu-pid "server=${server_pid}" \
        --cpu-pid "broker=${broker_pid}" --label "${label}" >"${out}" 2>"${WORK}/run.err" || rc=$?
      if [[ -n "${perf_pid}" ]]; then
        wait "${perf_pid}" 2>/dev/null || true
        # The profile's summary (self time by library and symbol) is kept beside the results, not the raw data.
        perf report -i "${WORK}/passerelle.perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
          grep -v '^#' | grep '%' | sed -E 's/ {2,}/ /g' | cut -c1-200 | head -n 80 >"${RESULTS%.txt}.perf.txt" || true
        perf report -i "${WORK}/passerelle.perf.data" --no-children --sort dso --stdio 2>/dev/null |
          grep '%' >>"${RESULTS%.txt}.perf.txt" || true
      fi
      stop_server
      if [[ "${variant}" == passerelle && "${record}" == 0 ]]; then
        local sizes
        if sizes="$(measure_passerelle_records "${tag}")" && [[ -n "${sizes}" ]]; then
          RECORD_SIZE="${sizes%% *}"
          echo "# passerelle records (DumpLogSegments, one partition): value_bytes key_bytes records = ${sizes}" |
            tee -a "${RESULTS}" >&2
        else
          log "could not measure Passerelle's record size; raw uses BENCH_RECORD_SIZE=${RECORD_SIZE}"
        fi
      fi
      ;;
    raw)
      local b0 b1
      b0="$(cpu_of "${broker_pid}")"
      "${RAW_BENCH}" --bootstrap "${BOOTSTRAP}" --window "${CONNECTIONS}" --count "${RAW_COUNT}" \
        --warmup $((RAW_COUNT / 10)) --record-size "${RECORD_SIZE}" --partitions "${PARTITIONS}" \
        --label "${label}" >"${out}" 2>"${WORK}/run.err" || rc=$?
      b1="$(cpu_of "${broker_pid}")"
      # The broker's CPU over the whole raw run (topic creation, warm-up, measured phase) per record produced.
      sed -i "s/^RESULT .*/& broker_cpu_us_per_req=$(awk -v a="${b0}" -v b="${b1}" -v n=$((RAW_COUNT + RAW_COUNT / 10)) \
        'BEGIN { printf "%.1f", (b - a) * 1e6 / n }') loadavg=$(loadavg)/" "${out}"
      ;;
  esac
  line="$(grep '^RESULT ' "${out}" || true)"
  if ((rc != 0)) || [[ -z "${line}" ]]; then
    failures=$((failures + 1))
    log "round ${round} ${variant}: FAILED (exit ${rc}):"
    sed 's/^/    /' "${WORK}/run.err" >&2
    echo "FAILED variant=${variant} round=${round} rc=${rc}" >>"${RESULTS}"
    return 0
  fi
  sed 's/^/    /' "${WORK}/run.err" >&2
  if ((record == 0)); then log "priming run of ${variant} done (not recorded)"; return 0; fi
  echo "${line}" >>"${RESULTS}"
  awk -v v="${variant}" '{
      for (i = 2; i <= NF; i++) { eq = index($i, "="); f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
      rps = (v == "raw") ? f["eps"] : f["rps"]
      printf "  %-7s %-10s %9.0f req/s  p50 %7.1f ms  p99 %7.1f ms  load %s\n", f["round"], v, rps,
             f["p50_us"] / 1000, f["p99_us"] / 1000, f["loadavg"] }' <<<"${line}" >&2
}

read -r -a variant_list <<<"${VARIANTS}"
log "results go to ${RESULTS}"
if ((PRIME)); then
  # Passerelle first: its records' size sets the raw variant's.
  for v in passerelle peer raw; do
    [[ " ${VARIANTS} " == *" ${v} "* ]] && run_variant "${v}" 0 0
  done
fi
for ((round = 1; round <= ROUNDS; round++)); do
  n=${#variant_list[@]}
  for ((k = 0; k < n; k++)); do
    run_variant "${variant_list[$(((k + round - 1) % n))]}" "${round}"
  done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "${RESULTS}"
"${HERE}/summarise.awk" "${RESULTS}" | tee -a "${RESULTS}"
log "results kept in ${RESULTS}"
((failures == 0)) || die "${failures} run(s) failed (see above)"
