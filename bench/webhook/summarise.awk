#!/usr/bin/awk -f
# bench/webhook/summarise.awk RESULTS_FILE — the comparison table of bench/webhook/run_webhook_bench.sh, from the
# RESULT lines it keeps (webhook_load lines: target=passerelle|peer; raw_librdkafka_bench lines: variant=raw).
# Per variant: median [min..max] over rounds of accepted requests/s, p50/p99/p99.9 latency, server CPU and broker
# CPU per accepted request; then the ratios passerelle/peer and passerelle/raw, per round (same round) and median.

function median(arr, n,    i, j, t, tmp) {
  if (n == 0) return -1
  for (i = 1; i <= n; i++) tmp[i] = arr[i]
  for (i = 2; i <= n; i++) { t = tmp[i]; for (j = i - 1; j >= 1 && tmp[j] > t; j--) tmp[j + 1] = tmp[j]; tmp[j + 1] = t }
  return (n % 2) ? tmp[(n + 1) / 2] : (tmp[n / 2] + tmp[n / 2 + 1]) / 2
}
function minof(arr, n,    i, m) { m = arr[1]; for (i = 2; i <= n; i++) if (arr[i] < m) m = arr[i]; return m }
function maxof(arr, n,    i, m) { m = arr[1]; for (i = 2; i <= n; i++) if (arr[i] > m) m = arr[i]; return m }
function add(v, key, val) { n[v, key]++; vals[v, key, n[v, key]] = val }
function col(v, key, fmt,    a, i, k) {
  k = n[v, key]
  if (k == 0) return "-"
  for (i = 1; i <= k; i++) a[i] = vals[v, key, i]
  return sprintf(fmt " [" fmt ".." fmt "]", median(a, k), minof(a, k), maxof(a, k))
}

/^RESULT / {
  delete f
  for (i = 2; i <= NF; i++) { eq = index($i, "="); if (eq) f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
  if (f["variant"] == "raw") {
    v = "raw"; rps = f["eps"]; p50 = f["p50_us"]; p99 = f["p99_us"]; p999 = f["p999_us"] == "" ? -1 : f["p999_us"]
    srv = f["cpu_us_per_event"]; brk = f["broker_cpu_us_per_req"]
  } else {
    v = f["target"]; rps = f["rps"]; p50 = f["p50_us"]; p99 = f["p99_us"]; p999 = f["p999_us"]
    srv = f["cpu_server_us_per_req"]; brk = f["cpu_broker_us_per_req"]
    nonok[v] += f["non200"] + f["io_errors"]
  }
  r = f["round"]
  seen[v] = 1
  rate[v, r] = rps; rounds[r] = 1
  add(v, "rps", rps); add(v, "p50", p50 / 1000); add(v, "p99", p99 / 1000)
  if (p999 >= 0) add(v, "p999", p999 / 1000)
  add(v, "srv", srv); add(v, "brk", brk)
  if (f["loadavg"] != "") load[r] = load[r] " " v ":" f["loadavg"]
}

END {
  printf "\n## Webhook ingest: medians over rounds [min..max]\n"
  printf "| variant | accepted req/s | p50 ms | p99 ms | p99.9 ms | server CPU us/req | broker CPU us/req | non-200+io errors |\n"
  printf "|---|---|---|---|---|---|---|---|\n"
  split("passerelle peer raw", order, " ")
  for (o = 1; o <= 3; o++) {
    v = order[o]
    if (!(v in seen)) continue
    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", v, col(v, "rps", "%.0f"), col(v, "p50", "%.1f"),
           col(v, "p99", "%.1f"), col(v, "p999", "%.1f"), col(v, "srv", "%.0f"), col(v, "brk", "%.0f"),
           (v == "raw" ? "-" : nonok[v] + 0)
  }
  printf "\n| round | passerelle/peer | passerelle/raw | load average at each run |\n|---|---|---|---|\n"
  np = 0; nr = 0
  for (r = 1; r <= 1000; r++) {
    if (!(r in rounds)) continue
    a = ((("passerelle", r) in rate) && (("peer", r) in rate) && rate["peer", r] > 0) ? rate["passerelle", r] / rate["peer", r] : -1
    b = ((("passerelle", r) in rate) && (("raw", r) in rate) && rate["raw", r] > 0) ? rate["passerelle", r] / rate["raw", r] : -1
    if (a >= 0) rp[++np] = a
    if (b >= 0) rr[++nr] = b
    printf "| %d | %s | %s |%s |\n", r, (a >= 0 ? sprintf("%.2f", a) : "-"), (b >= 0 ? sprintf("%.2f", b) : "-"), load[r]
  }
  printf "| median | %s | %s | |\n", (np ? sprintf("%.2f", median(rp, np)) : "-"), (nr ? sprintf("%.2f", median(rr, nr)) : "-")
}
