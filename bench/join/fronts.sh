#!/usr/bin/env bash
# The join through two Api replicas, by what spreads the requests over them: Aspire's own replicas (WithReplicas(2),
# DCP's proxy on the API's port) against nginx in front of the same two processes (the configuration the AppHost
# writes for --api-replicas), with nginx `return 302` for the same URLs as the baseline. One AppHost, one pair of
# replicas, three targets measured in interleaved rounds. See bench/README.md, "Aspire's replicas or nginx in front".
#
# Settings (environment): ROUNDS=6 DURATION=6 WARMUP=3 THREADS=1 CONNECTIONS=32 MEETINGS=100 URLS=2000 SIMULATORS=3
#   NGINX_WORKERS=1 LOG_LEVEL=Warning SKIP_BUILD=1 KEEP_STATE=1 OUT=FILE (default bench/results/join-fronts-<UTC date>.json)
set -euo pipefail

ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-32}
MEETINGS=${MEETINGS:-100}
URLS=${URLS:-2000}
SIMULATORS=${SIMULATORS:-3}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$REPO/bench/results/join-fronts-$STAMP.json}

NAME=join-fronts
# shellcheck source=../lib/common.sh
source "$REPO/bench/lib/common.sh"
# shellcheck source=slice.sh
source "$HERE/slice.sh"

ensure_tools
build_release

# ---------------------------------------------------------------- Aspire's replicas: DCP's proxy on the API's port
API_REPLICAS=2 APPHOST_ARGS="--api-replica-front aspire" start_apphost "$SIMULATORS"
read -r API_URL SIM_URL API_PORT < <(python3 - "$STATE/endpoints.json" <<'PY'
import json, sys, urllib.parse
ep = json.load(open(sys.argv[1]))
api = urllib.parse.urlsplit(ep["api"]["url"])
sim = urllib.parse.urlsplit(ep["simulators"][0]["url"])
print(f"{api.scheme}://{api.netloc}", f"{sim.scheme}://{sim.netloc}", api.port)
PY
)
PROXY_PID=$(listener_pid "$API_PORT")

# The replicas DCP started: the Api processes among the AppHost's, and the port each listens on.
REPLICA_PIDS=(); REPLICA_PORTS=()
for pid in $SYSTEM_PIDS; do
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'Scalelite\.Api' || continue
  port=$(ss -Hltnp 2>/dev/null | grep "pid=$pid," | awk '{print $4}' | grep -o '[0-9]*$' | head -1 || true)
  [[ -n $port ]] || continue
  REPLICA_PIDS+=("$pid"); REPLICA_PORTS+=("$port")
done
((${#REPLICA_PORTS[@]} == 2)) || die "expected 2 Api replicas behind DCP's proxy, found ${#REPLICA_PORTS[@]} (${REPLICA_PORTS[*]:-})"
log "Aspire's replicas: proxy pid $PROXY_PID on $API_URL, replicas on ports ${REPLICA_PORTS[*]} (pids ${REPLICA_PIDS[*]})"

python3 "$HERE/prepare.py" "$STATE/endpoints.json" "$WORK/urls.txt" --meetings "$MEETINGS" --urls "$URLS" --check 20 >&2 \
  || die "preparing meetings or join URLs failed"

# ---------------------------------------------------------------- nginx in front of the same two replicas
FRONT_PORT=$(free_port)
mkdir -p "$WORK/front/temp"
{
  echo "worker_processes 1; daemon off; pid $WORK/front/nginx.pid; error_log $WORK/front/error.log warn;"
  echo "events { worker_connections 4096; }"
  echo "http { access_log off; client_body_temp_path $WORK/front/temp;"
  echo "  upstream api {"
  for p in "${REPLICA_PORTS[@]}"; do echo "    server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"; done
  echo "    keepalive 64; }"
  echo "  server { listen 127.0.0.1:$FRONT_PORT; location / { proxy_pass http://api; proxy_http_version 1.1;"
  echo "    proxy_set_header Connection \"\"; proxy_set_header Host \$http_host; proxy_connect_timeout 2s; proxy_read_timeout 300s;"
  echo "    proxy_next_upstream error timeout; } } }"
} >"$WORK/front/nginx.conf"
nginx -p "$WORK/front" -c "$WORK/front/nginx.conf" >"$WORK/front/stdout.log" 2>&1 </dev/null &
FRONT_PID=$!
EXTRA_PIDS+=("$FRONT_PID")
wait_port "$FRONT_PORT" 10 "$FRONT_PID" || { cat "$WORK/front/"*.log >&2; die "the front nginx did not start"; }
FRONT_URL="http://127.0.0.1:$FRONT_PORT"

# ---------------------------------------------------------------- the baseline: nginx `return 302`, same URLs
start_nginx "location /bigbluebutton/api/join { return 302 $SIM_URL/bigbluebutton/api/join?\$args; }
    location / { return 404; }"
log "baseline $NGINX_URL, Aspire's replicas $API_URL, nginx in front $FRONT_URL"

SLICES="$WORK/slices.jsonl"
: >"$SLICES"
front_pids() { echo "$FRONT_PID $(pgrep -P "$FRONT_PID" | tr '\n' ' ')"; }

# run_slice TARGET ROUND SECONDS COUNT: the "api" CPU of a target is its front's and both replicas'.
run_slice() {
  case $1 in
    nginx) join_slice "$@" "$NGINX_URL" "$WORK/urls.txt" "" ;;
    aspire) join_slice "$@" "$API_URL" "$WORK/urls.txt" "$PROXY_PID ${REPLICA_PIDS[*]}" ;;
    nginxfront) join_slice "$@" "$FRONT_URL" "$WORK/urls.txt" "$(front_pids) ${REPLICA_PIDS[*]}" ;;
  esac
}

TARGETS=(nginx aspire nginxfront)
log "check and warm-up: ${WARMUP}s each"
for t in "${TARGETS[@]}"; do run_slice "$t" 0 "$WARMUP" 1; done
python3 - "$SLICES" <<'PY' || die "the check pass saw answers other than 302"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if {k for k in r["statuses"] if k != "302"} or not r["statuses"] or sum(r["errors"].values()):
        sys.exit(f"{r['target']}: statuses {r['statuses']} errors {r['errors']}")
PY

log "measuring: $ROUNDS rounds x ${DURATION}s per target, wrk -t$THREADS -c$CONNECTIONS, order rotating"
for ((i = 1; i <= ROUNDS; i++)); do
  k=$(( (i - 1) % 3 ))
  order=("${TARGETS[@]:k}" "${TARGETS[@]:0:k}")
  for t in "${order[@]}"; do
    run_slice "$t" "$i" "$DURATION" 0
    sleep 1
  done
done

python3 - "$SLICES" "$OUT" "$ROUNDS" "$DURATION" "$CONNECTIONS" <<'PY'
import json, os, statistics, sys
slices_file, out, rounds, duration, connections = sys.argv[1:]
slices = [json.loads(l) for l in open(slices_file)]
m = [s for s in slices if s["round"] > 0]
rs = sorted({s["round"] for s in m})
by = {r: {s["target"]: s for s in m if s["round"] == r} for r in rs}
def med(t, k): return statistics.median(s[k] for s in m if s["target"] == t)
summary = {t: {"rps_median": med(t, "rps"), "p50_ms": med(t, "p50_us") / 1000, "p99_ms": med(t, "p99_us") / 1000,
               "server_cpu_us_per_request_median": med(t, "server_cpu_us_per_request")} for t in ("nginx", "aspire", "nginxfront")}
ratio = {t: [by[r][t]["rps"] / by[r]["nginx"]["rps"] for r in rs] for t in ("aspire", "nginxfront")}
front_vs = [by[r]["aspire"]["rps"] / by[r]["nginxfront"]["rps"] for r in rs]
result = {"benchmark": "join-fronts", "settings": {"rounds": int(rounds), "duration_s": int(duration), "connections": int(connections), "replicas": 2},
          "machine": {"cores": os.cpu_count(), "loadavg_at_end": os.getloadavg()}, "summary": summary,
          "ratio_to_nginx_paired_median": {t: statistics.median(v) for t, v in ratio.items()},
          "rounds_ratio_to_nginx": {t: [round(x, 3) for x in v] for t, v in ratio.items()},
          "aspire_vs_nginxfront_paired_median": statistics.median(front_vs), "rounds_aspire_vs_nginxfront": [round(x, 3) for x in front_vs],
          "slices_with_errors": sum(1 for s in m if sum(s["errors"].values())), "slices": slices}
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
json.dump(result, open(out, "w"), indent=2)
print(f"\njoin through 2 Api replicas, {len(rs)} rounds x {duration} s, -c{connections}, {os.cpu_count()} cores, load at end {os.getloadavg()[0]:.1f}")
print(f"{'':<26}{'req/s (median)':>15}{'p50 ms':>9}{'p99 ms':>9}{'cpu us/req':>12}{'ratio to nginx':>16}")
for t, label in (("nginx", "nginx return 302"), ("aspire", "Aspire replicas (DCP)"), ("nginxfront", "nginx in front")):
    x = summary[t]; r = result["ratio_to_nginx_paired_median"].get(t, 1.0)
    print(f"{label:<26}{x['rps_median']:>15.0f}{x['p50_ms']:>9.2f}{x['p99_ms']:>9.2f}{x['server_cpu_us_per_request_median']:>12.1f}{r:>16.2f}")
for t in ("aspire", "nginxfront"):
    print(f"rounds {t}/nginx: {', '.join(f'{x:.2f}' for x in ratio[t])}")
print(f"Aspire/nginx-front per round: {', '.join(f'{x:.2f}' for x in front_vs)} (median {result['aspire_vs_nginxfront_paired_median']:.2f})")
print(f"result: {out}")
PY
