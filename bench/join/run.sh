#!/usr/bin/env bash
# Join benchmark: Scalelite's `join` (checksum, Redis HGET, re-sign, 302) against nginx answering
# `return 302` for the same URLs, measured in interleaved rounds within one run. See bench/README.md.
#
# Settings (environment):
#   ROUNDS=5 DURATION=6 (seconds per slice) WARMUP=3 THREADS=1 CONNECTIONS=32
#   MEETINGS=100 URLS=2000 SIMULATORS=3 NGINX_WORKERS=1
#   LOG_LEVEL=Warning   services' log level during the run; LOG_LEVEL=default leaves the services' own settings
#   SKIP_BUILD=1        do not run `dotnet build Scalelite.sln -c Release` first
#   KEEP_STATE=1        keep the temporary state directory (logs) after the run
#   OUT=FILE            result file (default bench/results/join-<UTC date>.json)
set -euo pipefail

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-32}
MEETINGS=${MEETINGS:-100}
URLS=${URLS:-2000}
SIMULATORS=${SIMULATORS:-3}
NGINX_WORKERS=${NGINX_WORKERS:-1}
LOG_LEVEL=${LOG_LEVEL:-Warning}
START_TIMEOUT=${START_TIMEOUT:-180}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RESULTS_DIR="$REPO/bench/results"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$RESULTS_DIR/join-$STAMP.json}

log() { printf '[join-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- tools
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
if ((${#need[@]})); then
  log "installing ${need[*]} with apt-get"
  SUDO=(); [[ $(id -u) -eq 0 ]] || SUDO=(sudo -n)
  "${SUDO[@]}" apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v python3 >/dev/null || die "python3 is needed to sign the URLs"

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building (Release)"
  (cd "$REPO" && dotnet build Scalelite.sln -c Release -v q -nologo >/dev/null) || die "build failed"
fi
APPHOST_DLL="$REPO/Scalelite.AppHost/bin/Release/net10.0/Scalelite.AppHost.dll"
[[ -f $APPHOST_DLL ]] || die "$APPHOST_DLL is missing: build with 'dotnet build Scalelite.sln -c Release'"

# ---------------------------------------------------------------- cleanup
# The state directory must be traversable by the postgres user (the AppHost runs PostgreSQL as postgres when root).
WORK=$(mktemp -d /tmp/scalelite-join-bench.XXXXXX)
chmod 755 "$WORK"
STATE="$WORK/state"
APPHOST_PID=""
NGINX_PID=""

first_pid() { [[ -f $1 ]] && head -1 "$1" | tr -dc '0-9' || true; }  # pid files: pid on the first line
alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }

wait_gone() { # pid seconds
  local pid=$1 deadline=$((SECONDS + $2))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  ! alive "$pid"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if alive "$NGINX_PID"; then
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait_gone "$NGINX_PID" 10 || kill -KILL "$NGINX_PID" 2>/dev/null || true
  fi
  if alive "$APPHOST_PID"; then
    log "stopping the AppHost (pid $APPHOST_PID)"
    kill -TERM "$APPHOST_PID" 2>/dev/null || true
    if ! wait_gone "$APPHOST_PID" 60; then
      log "the AppHost did not stop in 60 s: killing it and its children"
      kill -KILL "$APPHOST_PID" 2>/dev/null || true
    fi
  fi
  # Whatever the AppHost left (it should leave nothing): its children by their pid files, PostgreSQL by pg_ctl.
  local f pid leftovers=0
  for f in "$STATE"/pids/*.pid "$STATE"/redis/redis.pid; do
    [[ -f $f ]] || continue
    pid=$(first_pid "$f")
    if alive "$pid"; then
      leftovers=1
      log "left behind: $(basename "$f" .pid) (pid $pid), stopping it"
      kill -TERM "$pid" 2>/dev/null || true
      wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [[ -f $STATE/postgres/data/postmaster.pid ]]; then
    pid=$(head -1 "$STATE/postgres/data/postmaster.pid" | tr -dc '0-9')
    if alive "$pid"; then
      leftovers=1
      log "left behind: postgres (pid $pid), stopping it"
      kill -INT "$pid" 2>/dev/null || true
      wait_gone "$pid" 20 || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  ((leftovers)) && log "warning: processes had to be stopped by the script"
  if [[ ${KEEP_STATE:-0} == 1 || $rc -ne 0 ]]; then
    log "state and logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# ---------------------------------------------------------------- the system under test
APP_ENV=()
if [[ $LOG_LEVEL != default ]]; then
  APP_ENV=("Logging__LogLevel__Default=$LOG_LEVEL" "Logging__LogLevel__Microsoft.AspNetCore=$LOG_LEVEL")
fi
log "starting the AppHost (simulators: $SIMULATORS, service log level: $LOG_LEVEL, state: $STATE)"
# The built launcher is run directly (not through `dotnet run`) so that SIGTERM reaches it and it stops what it started.
(cd "$REPO" && exec env "${APP_ENV[@]}" dotnet "$APPHOST_DLL" --state-dir "$STATE" --simulators "$SIMULATORS") \
  >"$WORK/apphost.log" 2>&1 </dev/null &
APPHOST_PID=$!

deadline=$((SECONDS + START_TIMEOUT))
until grep -q '^.*Ready:' "$WORK/apphost.log" 2>/dev/null && [[ -f $STATE/endpoints.json ]]; do
  alive "$APPHOST_PID" || { tail -20 "$WORK/apphost.log" >&2; die "the AppHost exited during start"; }
  ((SECONDS < deadline)) || { tail -20 "$WORK/apphost.log" >&2; die "not ready after ${START_TIMEOUT}s"; }
  sleep 0.5
done
log "$(grep -m1 'Ready:' "$WORK/apphost.log" | sed 's/^[[:space:]]*//')"

read -r API_URL SIM_URL API_PORT < <(python3 - "$STATE/endpoints.json" <<'EOF'
import json, sys, urllib.parse
ep = json.load(open(sys.argv[1]))
api = urllib.parse.urlsplit(ep["api"]["url"])
sim = urllib.parse.urlsplit(ep["simulators"][0]["url"])
print(f"{api.scheme}://{api.netloc}", f"{sim.scheme}://{sim.netloc}", api.port)
EOF
)

python3 "$HERE/prepare.py" "$STATE/endpoints.json" "$WORK/urls.txt" --meetings "$MEETINGS" --urls "$URLS" --check 20 >&2 \
  || die "preparing meetings or join URLs failed"

API_PID=$(first_pid "$STATE/pids/api.pid")
REDIS_PID=$(first_pid "$STATE/redis/redis.pid")
[[ -n $API_PID && -n $REDIS_PID ]] || log "warning: no pid for the api ($API_PID) or redis ($REDIS_PID): their CPU will read 0"

# ---------------------------------------------------------------- the baseline: nginx `return 302`, same URLs
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /bigbluebutton/api/join { return 302 $SIM_URL/bigbluebutton/api/join?\$args; }
    location / { return 404; }
  }
}
EOF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/logs/stdout.log" 2>&1 </dev/null &
NGINX_PID=$!
deadline=$((SECONDS + 10))
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$NGINX_PORT),1)" 2>/dev/null; do
  alive "$NGINX_PID" || { cat "$WORK/nginx/logs/"*.log >&2; die "nginx did not start"; }
  ((SECONDS < deadline)) || die "nginx is not listening after 10 s"
  sleep 0.2
done
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
log "nginx baseline on $NGINX_URL (workers: $NGINX_WORKERS), Scalelite API on $API_URL"

# ---------------------------------------------------------------- measuring
cpu_ticks() { # total utime+stime (clock ticks) of the given processes, all their threads
  local total=0 pid f
  for pid in "$@"; do
    [[ -n $pid && -r /proc/$pid/stat ]] || continue
    read -r -a f < <(sed 's/^.*) //' "/proc/$pid/stat")
    total=$((total + f[11] + f[12]))  # fields 14 and 15 of stat: utime, stime
  done
  echo "$total"
}
NGINX_ALL_PIDS() { echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; }
TICKS=$(getconf CLK_TCK)
SLICES="$WORK/slices.jsonl"
: >"$SLICES"

# run_slice TARGET ROUND SECONDS COUNT
run_slice() {
  local target=$1 round=$2 secs=$3 count=$4 urls=${5:-$WORK/urls.txt} url out
  [[ $target == nginx ]] && url=$NGINX_URL || url=$API_URL
  local a0 r0 n0 t0 a1 r1 n1 t1
  a0=$(cpu_ticks "$API_PID"); r0=$(cpu_ticks "$REDIS_PID"); n0=$(cpu_ticks $(NGINX_ALL_PIDS)); t0=$(cpu_ticks $(pgrep -P "$APPHOST_PID" | tr '\n' ' ') "$APPHOST_PID")
  local TIMEFORMAT='%U %S'
  local wrk_cpu
  { wrk_cpu=$( { time URLS="$urls" COUNT=$count wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --timeout 5s \
        -s "$HERE/../lib/replay.lua" "$url" >"$WORK/wrk.out" 2>&1; } 2>&1 ); } || die "wrk failed: $(cat "$WORK/wrk.out")"
  a1=$(cpu_ticks "$API_PID"); r1=$(cpu_ticks "$REDIS_PID"); n1=$(cpu_ticks $(NGINX_ALL_PIDS)); t1=$(cpu_ticks $(pgrep -P "$APPHOST_PID" | tr '\n' ' ') "$APPHOST_PID")
  out=$(grep '^RESULT ' "$WORK/wrk.out" | sed 's/^RESULT //') || die "no RESULT line from wrk: $(cat "$WORK/wrk.out")"
  python3 "$HERE/report.py" slice "$target" "$round" "$out" "$wrk_cpu" "$((a1 - a0))" "$((r1 - r0))" "$((n1 - n0))" "$((t1 - t0))" "$TICKS" >>"$SLICES"
}

log "check and warm-up: ${WARMUP}s each with status counting"
run_slice nginx 0 "$WARMUP" 1
run_slice scalelite 0 "$WARMUP" 1
python3 - "$SLICES" <<'EOF' || die "the check pass saw answers other than 302"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    other = {k: v for k, v in r["statuses"].items() if k != "302"}
    if other or not r["statuses"] or sum(r["errors"].values()):
        sys.exit(f"{r['target']}: statuses {r['statuses']} errors {r['errors']}")
EOF

log "measuring: $ROUNDS rounds x ${DURATION}s per target, wrk -t$THREADS -c$CONNECTIONS, order alternating"
for ((i = 1; i <= ROUNDS; i++)); do
  if ((i % 2)); then order=(nginx scalelite); else order=(scalelite nginx); fi
  for t in "${order[@]}"; do
    run_slice "$t" "$i" "$DURATION" 0
    sleep 1
  done
done

# ---------------------------------------------------------------- optional cost breakdown
# PROFILE=1: one slice each on cheaper paths of the same Api process, to split the join's CPU per request:
#   alive (framework + health check), index (routing + XML answer, no Redis),
#   badchecksum (join URLs with a wrong checksum: parsing + SHA-256 + XML error, no Redis).
if [[ ${PROFILE:-0} == 1 ]]; then
  log "profile slices: ${DURATION}s each"
  echo /alive >"$WORK/alive.txt"
  echo "$(python3 -c 'import json,sys,urllib.parse; print(urllib.parse.urlsplit(json.load(open(sys.argv[1]))["api"]["url"]).path)' "$STATE/endpoints.json")" >"$WORK/index.txt"
  sed -E 's/checksum=[0-9a-f]+$/checksum=0000000000000000000000000000000000000000000000000000000000000000/' "$WORK/urls.txt" >"$WORK/badchecksum.txt"
  for t in alive index badchecksum; do
    run_slice "$t" -1 "$DURATION" 0 "$WORK/$t.txt"
    sleep 1
  done
  run_slice scalelite -1 "$DURATION" 0
fi

# ---------------------------------------------------------------- summary
SETTINGS=$(printf '{"date_utc":"%s","rounds":%d,"duration_s":%d,"warmup_s":%d,"threads":%d,"connections":%d,"meetings":%d,"urls":%d,"simulators":%d,"nginx_workers":%d,"log_level":"%s"}' \
  "$STAMP" "$ROUNDS" "$DURATION" "$WARMUP" "$THREADS" "$CONNECTIONS" "$MEETINGS" "$URLS" "$SIMULATORS" "$NGINX_WORKERS" "$LOG_LEVEL")
python3 "$HERE/report.py" summary "$SLICES" "$OUT" "$SETTINGS"
