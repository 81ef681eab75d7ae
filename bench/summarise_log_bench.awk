#!/usr/bin/awk -f
# bench/summarise_log_bench.awk — the comparison table of bench/run_log_bench.sh, from its RESULT lines.
#   bench/summarise_log_bench.awk build/release/log_bench-<time>.txt
# Per variant: median and [min..max] of events/s, p50 and p99 over the rounds; CPU per event of the client
# process and (Kafka variants) of the broker. Then each variant's throughput ratio to the raw librdkafka run of
# the SAME round (pairing cancels most of the slow drift of a shared machine), and the issue's aims.
# Plain POSIX awk (mawk has no asort): small sorts by insertion.

function sort_values(a, n,    i, j, t) {
  for (i = 2; i <= n; i++) {
    t = a[i]
    for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
    a[j + 1] = t
  }
}
# Median of the n values in a (sorted in place): the mean of the two middle ones for an even count.
function median(a, n) {
  if (n == 0) return 0
  sort_values(a, n)
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# "median [min..max]" of the field f of variant v, scaled by s.
function stat(v, f, s, fmt,    i, n, a) {
  n = runs[v]
  for (i = 1; i <= n; i++) a[i] = val[v, f, i] * s
  m = median(a, n)
  return sprintf(fmt " [" fmt ".." fmt "]", m, a[1], a[n])
}

/^RESULT / {
  delete f
  for (i = 2; i <= NF; i++) {
    eq = index($i, "=")
    if (eq > 0) f[substr($i, 1, eq - 1)] = substr($i, eq + 1)
  }
  # A variant at one window is its own row: "kafka@4096" (throughput pass), "kafka@64" (latency pass).
  v = f["variant"] "@" f["window"]
  base[v] = f["variant"]
  win[v] = f["window"]
  if (!(v in runs)) { runs[v] = 0; order[++nvariants] = v }
  n = ++runs[v]
  # "+ 0": fields cut out with substr() are strings, and awk would compare them as strings.
  val[v, "eps", n] = f["eps"] + 0
  val[v, "p50", n] = f["p50_us"] + 0
  val[v, "p99", n] = f["p99_us"] + 0
  val[v, "cpu", n] = f["cpu_us_per_event"] + 0
  val[v, "bcpu", n] = (f["records"] + f["warmup"]) > 0 ? f["broker_cpu_s"] * 1e6 / (f["records"] + f["warmup"]) : 0
  eps_of[v, f["round"]] = f["eps"] + 0
  rounds[f["round"]] = 1
}
/^FAILED / { failed++ }

END {
  if (nvariants == 0) { print "no RESULT lines"; exit 1 }
  printf "\n%-21s %4s  %-27s %-25s %-25s %-20s %s\n", "variant", "runs", "events/s median [min..max]",
         "p50 ms median [min..max]", "p99 ms median [min..max]", "client cpu us/event", "broker cpu us/event"
  for (k = 1; k <= nvariants; k++) {
    v = order[k]
    printf "%-21s %4d  %-27s %-25s %-25s %-20s %s\n", v, runs[v], stat(v, "eps", 1, "%.0f"),
           stat(v, "p50", 0.001, "%.1f"), stat(v, "p99", 0.001, "%.1f"), stat(v, "cpu", 1, "%.1f"),
           ((base[v] == "raw" || base[v] == "kafka") ? stat(v, "bcpu", 1, "%.1f") : "-")
  }
  printf "\nthroughput ratio to raw librdkafka at the same window, paired by round:\n"
  for (k = 1; k <= nvariants; k++) {
    v = order[k]
    rv = "raw@" win[v]
    if (base[v] == "raw" || !(rv in runs)) continue
    n = 0
    delete r
    for (rd in rounds) if (((v, rd) in eps_of) && ((rv, rd) in eps_of) && eps_of[rv, rd] > 0) r[++n] = eps_of[v, rd] / eps_of[rv, rd]
    if (n == 0) continue
    m = median(r, n)
    printf "  %-21s median %.2f [%.2f..%.2f] over %d rounds\n", v, m, r[1], r[n], n
    ratio[v] = m
  }
  printf "\naims (issue 2):\n"
  # The aims are about throughput: judged on the widest window run (the throughput pass).
  for (k = 1; k <= nvariants; k++) {
    v = order[k]
    if (!(base[v] in widest) || win[v] + 0 > win[widest[base[v]]] + 0) widest[base[v]] = v
  }
  if (("kafka" in widest) && (widest["kafka"] in ratio)) {
    v = widest["kafka"]
    printf "  kafka backend >= 90%% of the raw ceiling (%s): median %.0f%% -> %s\n", v, ratio[v] * 100,
           (ratio[v] >= 0.9) ? "met" : "MISSED"
  }
  if ("embedded" in widest) {
    v = widest["embedded"]
    n = runs[v]
    for (i = 1; i <= n; i++) a[i] = val[v, "eps", i]
    m = median(a, n)
    printf "  embedded >= 100000 durable events/s (%s): median %.0f -> %s\n", v, m, (m >= 100000) ? "met" : "MISSED"
  }
  if (failed > 0) printf "  %d run(s) FAILED (see the FAILED lines)\n", failed
}
