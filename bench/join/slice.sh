# shellcheck shell=bash
# One measured slice of the join benchmarks (run.sh, fronts.sh), sourced after bench/lib/common.sh.
#
# join_slice TARGET ROUND SECONDS COUNT URL URL_FILE "SERVER PIDS" [HOST]: wrk replays URL_FILE against URL for
# SECONDS (COUNT=1 counts the status codes: the check pass), and one line goes to $SLICES with the rate, latency,
# wrk's CPU and the CPU of the target's server processes, Redis, nginx and the whole system over the slice.
join_slice() {
  local target=$1 round=$2 secs=$3 count=$4 url=$5 urls=$6 pids=$7 host=${8:-} header=() out wrk_cpu
  [[ -n $host ]] && header=(-H "Host: $host")
  local a0 r0 n0 t0 a1 r1 n1 t1 TIMEFORMAT='%U %S'
  # shellcheck disable=SC2086
  a0=$(cpu_ticks $pids); r0=$(cpu_ticks "$REDIS_PID"); n0=$(cpu_ticks $(nginx_pids)); t0=$(cpu_ticks $SYSTEM_PIDS)
  { wrk_cpu=$( { time URLS="$urls" COUNT=$count wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --timeout 5s "${header[@]}" \
        -s "$REPO/bench/lib/replay.lua" "$url" >"$WORK/wrk.out" 2>&1; } 2>&1 ); } || die "wrk failed: $(cat "$WORK/wrk.out")"
  # shellcheck disable=SC2086
  a1=$(cpu_ticks $pids); r1=$(cpu_ticks "$REDIS_PID"); n1=$(cpu_ticks $(nginx_pids)); t1=$(cpu_ticks $SYSTEM_PIDS)
  out=$(grep '^RESULT ' "$WORK/wrk.out" | sed 's/^RESULT //') || die "no RESULT line from wrk: $(cat "$WORK/wrk.out")"
  python3 "$REPO/bench/join/report.py" slice "$target" "$round" "$out" "$wrk_cpu" "$((a1 - a0))" "$((r1 - r0))" "$((n1 - n0))" "$((t1 - t0))" "$TICKS" >>"$SLICES"
}
