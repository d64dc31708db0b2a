# Shared helpers of the benchmarks that start the AppHost (sourced, not run): join, create, getmeetings.
# The caller sets NAME (used in log lines and the temporary directory) and HERE/REPO before sourcing.
#
# Provides: log die alive wait_gone first_pid free_port cpu_ticks ensure_tools build_release
#           start_apphost (AppHost with the simulators, waits for Ready) system_pids (every process of the system)
#           start_simulator (a stand-alone one) start_api (one more Api process, e.g. with multitenancy on)
#           start_nginx CONF_BODY, the EXIT trap that stops everything started here.

log() { printf '[%s-bench %s] %s\n' "$NAME" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
first_pid() { [[ -f $1 ]] && head -1 "$1" | tr -dc '0-9' || true; }
# A zombie (exited, not yet reaped by its parent or by init) does not count as alive.
alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
wait_gone() { local pid=$1 deadline=$((SECONDS + $2)); while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done; ! alive "$pid"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { # port seconds pid
  local deadline=$((SECONDS + $2))
  until python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do
    alive "$3" || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

ensure_tools() {
  local need=()
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || need+=(nginx-light)
  if ((${#need[@]})); then
    log "installing ${need[*]} with apt-get"
    local SUDO=(); [[ $(id -u) -eq 0 ]] || SUDO=(sudo -n)
    "${SUDO[@]}" apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  command -v python3 >/dev/null || die "python3 is needed to sign the URLs"
}

build_release() {
  if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building (Release)"
    (cd "$REPO" && dotnet build Scalelite.sln -c Release -v q -nologo >/dev/null) || die "build failed"
  fi
  APPHOST_DLL="$REPO/Scalelite.AppHost/bin/Release/net10.0/Scalelite.AppHost.dll"
  SIMULATOR_DLL="$REPO/Scalelite.BbbSimulator/bin/Release/net10.0/Scalelite.BbbSimulator.dll"
  [[ -f $APPHOST_DLL && -f $SIMULATOR_DLL ]] || die "Release binaries missing: build with 'dotnet build Scalelite.sln -c Release'"
}

# The state directory must be traversable by the postgres user (the AppHost runs PostgreSQL as postgres when root).
WORK=$(mktemp -d "/tmp/scalelite-$NAME-bench.XXXXXX")
chmod 755 "$WORK"
STATE="$WORK/state"
APPHOST_PID=""
NGINX_PID=""
EXTRA_PIDS=()   # stand-alone simulators and the like: TERM, then KILL

stop_pid() { # pid seconds
  alive "$1" || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait_gone "$1" "$2" || kill -KILL "$1" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$NGINX_PID" 10
  local p
  for p in "${EXTRA_PIDS[@]}"; do stop_pid "$p" 10; done
  if alive "$APPHOST_PID"; then
    log "stopping the AppHost (pid $APPHOST_PID)"
    kill -TERM "$APPHOST_PID" 2>/dev/null || true
    if ! wait_gone "$APPHOST_PID" 60; then
      log "the AppHost did not stop in 60 s: killing it"
      kill -KILL "$APPHOST_PID" 2>/dev/null || true
    fi
  fi
  local pid leftovers=0
  for pid in ${SYSTEM_PIDS:-}; do
    if alive "$pid"; then leftovers=1; log "left behind: pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)), stopping it"; stop_pid "$pid" 10; fi
  done
  if [[ -f $STATE/postgres/data/postmaster.pid ]]; then
    pid=$(head -1 "$STATE/postgres/data/postmaster.pid" | tr -dc '0-9')
    if alive "$pid"; then
      leftovers=1; log "left behind: postgres (pid $pid), stopping it"
      kill -INT "$pid" 2>/dev/null || true
      wait_gone "$pid" 20 || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  ((leftovers)) && log "warning: processes had to be stopped by the script"
  if [[ ${KEEP_STATE:-0} == 1 || $rc -ne 0 ]]; then log "state and logs kept in $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# system_pids: the AppHost, DCP (which it starts detached, with --monitor APPHOST_PID) and every process below them.
system_pids() {
  python3 - "$APPHOST_PID" <<'EOF'
import os, sys
procs = {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        stat = open(f"/proc/{d}/stat").read()
        cmd = open(f"/proc/{d}/cmdline", "rb").read().split(b"\0")
    except OSError:
        continue
    procs[int(d)] = (int(stat[stat.rindex(")") + 2:].split()[1]), [c.decode(errors="replace") for c in cmd])
root = int(sys.argv[1])
found = {root} | {p for p, (_, cmd) in procs.items() if any(cmd[i] == "--monitor" and cmd[i + 1] == str(root) for i in range(len(cmd) - 1))}
grown = True
while grown:
    more = {p for p, (ppid, _) in procs.items() if ppid in found and p not in found}
    found |= more
    grown = bool(more)
print(" ".join(str(p) for p in sorted(found)))
EOF
}

# listener_pid PORT: the process listening on 127.0.0.1:PORT.
listener_pid() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }

# start_apphost SIMULATORS [VAR=VALUE ...]: AppHost in $STATE (without the dashboard, so the services export no
# telemetry, as operators run them unless they set an OTLP endpoint), waits for Ready and endpoints.json.
# Sets API_PID REDIS_PID POLLER_PID SIMS_PID (the process hosting all pool simulators), found by their ports, and
# SYSTEM_PIDS (everything the AppHost runs; the clean-up checks that none is left).
# API_REPLICAS=N (default 1) is passed as --api-replicas: N Api processes behind the AppHost's nginx on the API's port;
# API_PID then lists every replica and the balancer's processes, so the API's CPU counts all of them.
# APPHOST_ARGS: more AppHost options, split on blanks (e.g. "--api-replica-front aspire"; API_PID is then DCP's proxy only).
start_apphost() {
  local sims=$1; shift
  local env_=("$@")
  # The services run as operators run them: Production (no developer exception page, no DI scope validation).
  env_+=("ASPNETCORE_ENVIRONMENT=${SERVICE_ENVIRONMENT:-Production}" "DOTNET_ENVIRONMENT=${SERVICE_ENVIRONMENT:-Production}")
  if [[ ${LOG_LEVEL:-Warning} != default ]]; then
    env_+=("Logging__LogLevel__Default=${LOG_LEVEL:-Warning}" "Logging__LogLevel__Microsoft.AspNetCore=${LOG_LEVEL:-Warning}")
  fi
  log "starting the AppHost (simulators: $sims, env: ${env_[*]:-none}, state: $STATE)"
  # Run directly (not through `dotnet run`) so that SIGTERM reaches the AppHost and it stops what it started.
  (cd "$REPO" && exec env "${env_[@]}" dotnet "$APPHOST_DLL" --state-dir "$STATE" --simulators "$sims" --dashboard false --api-replicas "${API_REPLICAS:-1}" ${APPHOST_ARGS:-}) \
    >"$WORK/apphost.log" 2>&1 </dev/null &
  APPHOST_PID=$!
  local deadline=$((SECONDS + ${START_TIMEOUT:-180}))
  until grep -q 'Ready:' "$WORK/apphost.log" 2>/dev/null && [[ -f $STATE/endpoints.json ]]; do
    alive "$APPHOST_PID" || { tail -20 "$WORK/apphost.log" >&2; die "the AppHost exited during start"; }
    ((SECONDS < deadline)) || { tail -20 "$WORK/apphost.log" >&2; die "not ready after ${START_TIMEOUT:-180}s"; }
    sleep 0.5
  done
  log "$(grep -m1 'Ready:' "$WORK/apphost.log" | sed 's/^[[:space:]]*//')"
  local ports
  read -r -a ports < <(python3 -c 'import json, sys, urllib.parse as u
e = json.load(open(sys.argv[1]))
print(u.urlsplit(e["api"]["url"]).port, e["redis"].rsplit(":", 1)[1], u.urlsplit(e["poller"]["url"]).port,
      u.urlsplit(e["simulators"][0]["url"]).port if e["simulators"] else 0)' "$STATE/endpoints.json")
  API_PID=$(listener_pid "${ports[0]}")
  if ((${API_REPLICAS:-1} > 1)) && [[ -f $STATE/nginx/nginx.pid ]]; then
    local master replica
    master=$(first_pid "$STATE/nginx/nginx.pid")
    API_PID="$master $(pgrep -P "$master" | tr '\n' ' ')"
    for replica in $(python3 -c 'import json, sys, urllib.parse as u
print(" ".join(str(u.urlsplit(r).port) for r in json.load(open(sys.argv[1]))["api"]["replicas"]))' "$STATE/endpoints.json"); do
      API_PID+=" $(listener_pid "$replica")"
    done
  fi
  REDIS_PID=$(listener_pid "${ports[1]}")
  POLLER_PID=$(listener_pid "${ports[2]}")
  SIMS_PID=$(listener_pid "${ports[3]}")
  SYSTEM_PIDS=$(system_pids)
  [[ -n $API_PID && -n $REDIS_PID ]] || log "warning: no pid for the api ($API_PID) or redis ($REDIS_PID): their CPU will read 0"
}

# start_api NAME [VAR=VALUE ...]: one more Api process on the AppHost's PostgreSQL and Redis, started from the Release
# build directly (as every variant of a comparison should be, so that they differ only in the settings given), with the
# services' environment and log level. Sets API_URL_<NAME> (http://127.0.0.1:PORT) and API_PID_<NAME>.
start_api() {
  local name=$1; shift
  local port; port=$(free_port)
  local api_dll="$REPO/Scalelite.Api/bin/Release/net10.0/Scalelite.Api.dll"
  [[ -f $api_dll ]] || die "$api_dll missing: build with 'dotnet build Scalelite.sln -c Release'"
  local env_=()
  while IFS= read -r line; do env_+=("$line"); done < <(python3 - "$STATE/endpoints.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
print("ConnectionStrings__scalelite=" + e["postgres"])
print("ConnectionStrings__redis=" + e["redis"])
print("LOADBALANCER_SECRET=" + e["api"]["secret"])
PY
)
  env_+=("ASPNETCORE_URLS=http://127.0.0.1:$port" "ASPNETCORE_ENVIRONMENT=${SERVICE_ENVIRONMENT:-Production}" "DOTNET_ENVIRONMENT=${SERVICE_ENVIRONMENT:-Production}")
  if [[ ${LOG_LEVEL:-Warning} != default ]]; then
    env_+=("Logging__LogLevel__Default=${LOG_LEVEL:-Warning}" "Logging__LogLevel__Microsoft.AspNetCore=${LOG_LEVEL:-Warning}")
  fi
  log "starting Api '$name' on port $port ($*)"
  (cd "$REPO" && exec env -u OTEL_EXPORTER_OTLP_ENDPOINT "${env_[@]}" "$@" dotnet "$api_dll") >"$WORK/api-$name.log" 2>&1 </dev/null &
  local pid=$!
  EXTRA_PIDS+=("$pid")
  local deadline=$((SECONDS + 60))
  until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" 2>/dev/null) == 200 ]]; do
    alive "$pid" || { tail -20 "$WORK/api-$name.log" >&2; die "Api '$name' exited during start"; }
    ((SECONDS < deadline)) || { tail -20 "$WORK/api-$name.log" >&2; die "Api '$name' not healthy after 60 s"; }
    sleep 0.3
  done
  printf -v "API_URL_$name" '%s' "http://127.0.0.1:$port"
  printf -v "API_PID_$name" '%s' "$pid"
}

# start_simulator NAME SECRET: one stand-alone simulated server outside the pool (the baseline backend).
# Sets BASE_SIM_PID, BASE_SIM_URL (http://127.0.0.1:PORT).
start_simulator() {
  local name=$1 secret=$2 port
  port=$(free_port)
  dotnet "$SIMULATOR_DLL" --count 1 --secret "$secret" --ports "$port" --manifest "$WORK/$name.json" \
    >"$WORK/$name.log" 2>&1 </dev/null &
  BASE_SIM_PID=$!
  EXTRA_PIDS+=("$BASE_SIM_PID")
  local deadline=$((SECONDS + 30))
  until [[ -f $WORK/$name.json ]]; do
    alive "$BASE_SIM_PID" || { cat "$WORK/$name.log" >&2; die "simulator $name exited"; }
    ((SECONDS < deadline)) || die "simulator $name not up after 30 s"
    sleep 0.2
  done
  BASE_SIM_URL="http://127.0.0.1:$port"
}

# start_nginx SERVER_BLOCK_BODY: nginx (NGINX_WORKERS workers, no access log) on a free loopback port. Sets NGINX_URL.
start_nginx() {
  local port; port=$(free_port)
  mkdir -p "$WORK/nginx/logs"
  cat >"$WORK/nginx/nginx.conf" <<NGX
worker_processes ${NGINX_WORKERS:-1};
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $WORK/nginx/body;
  server {
    listen 127.0.0.1:$port;
    $1
  }
}
NGX
  nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/logs/stdout.log" 2>&1 </dev/null &
  NGINX_PID=$!
  wait_port "$port" 10 "$NGINX_PID" || { cat "$WORK/nginx/logs/"*.log >&2; die "nginx did not start"; }
  NGINX_URL="http://127.0.0.1:$port"
}
nginx_pids() { alive "$NGINX_PID" && echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; }

cpu_ticks() { # total utime+stime (clock ticks) of the given processes, all their threads
  local total=0 pid f
  for pid in "$@"; do
    [[ -n $pid && -r /proc/$pid/stat ]] || continue
    read -r -a f < <(sed 's/^.*) //' "/proc/$pid/stat")
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
TICKS=$(getconf CLK_TCK)

# run_wrk TARGET ROUND SECONDS BASE_URL URL_FILE COUNT PROCS_SPEC -> appends a slice line to $SLICES
#   WRK_HEADER="Name: value" sends one more header with every request (a tenant's Host).
#   PROCS_SPEC: "name=pid pid,name=pid" (CPU read before and after, in cores); the Lua is bench/lib/replay.lua.
run_wrk() {
  local target=$1 round=$2 secs=$3 url=$4 urls=$5 count=$6 spec=$7
  local -A before=() after=()
  local item name pids
  IFS=',' read -r -a items <<<"$spec"
  for item in "${items[@]}"; do name=${item%%=*}; pids=${item#*=}; before[$name]=$(cpu_ticks $pids); done
  local TIMEFORMAT='%U %S' wrk_cpu
  local header=(); [[ -n ${WRK_HEADER:-} ]] && header=(-H "$WRK_HEADER")
  { wrk_cpu=$( { time URLS="$urls" COUNT=$count UNIQUE=${UNIQUE:-0} WRK_THREADS=${THREADS:-1} wrk -t"${THREADS:-1}" -c"$CONNECTIONS" -d"${secs}s" --timeout 5s "${header[@]}" \
        -s "$REPO/bench/lib/replay.lua" "$url" >"$WORK/wrk.out" 2>&1; } 2>&1 ); } || die "wrk failed: $(cat "$WORK/wrk.out")"
  for item in "${items[@]}"; do name=${item%%=*}; pids=${item#*=}; after[$name]=$(cpu_ticks $pids); done
  local res cpu=""
  res=$(grep '^RESULT ' "$WORK/wrk.out" | sed 's/^RESULT //') || die "no RESULT line from wrk: $(cat "$WORK/wrk.out")"
  for item in "${items[@]}"; do name=${item%%=*}; cpu+="$name=$((after[$name] - before[$name])),"; done
  python3 "$REPO/bench/lib/report.py" slice "$target" "$round" "$res" "$wrk_cpu" "${cpu%,}" "$TICKS" "${SERVER_OF[$target]}" >>"$SLICES"
}
