#!/usr/bin/env bash
# Join benchmark: Scalelite's `join` (checksum, owner lookup, re-sign, 302) against nginx answering
# `return 302` for the same URLs, measured in interleaved rounds within one run. See bench/README.md.
#
# Settings (environment):
#   ROUNDS=5 DURATION=6 (seconds per slice) WARMUP=3 THREADS=1 CONNECTIONS=32
#   MEETINGS=100 URLS=2000 SIMULATORS=3 NGINX_WORKERS=1
#   API_REPLICAS=1      Api processes (--api-replicas): more than one puts the AppHost's nginx in front of them
#   LOG_LEVEL=Warning   services' log level during the run; LOG_LEVEL=default leaves the services' own settings
#   SERVICE_ENVIRONMENT=Production   the services' ASPNETCORE_ENVIRONMENT/DOTNET_ENVIRONMENT (the AppHost's own default is Development)
#   SKIP_BUILD=1        do not run `dotnet build Scalelite.sln -c Release` first
#   KEEP_STATE=1        keep the temporary state directory (logs) after the run
#   OUT=FILE            result file (default bench/results/join-<UTC date>.json)
#   SCRAPE=1            one more target in every round, "scraped": the same join slice while a scraper fetches every
#                       service's /metrics (endpoints.json) once a second, to measure what metrics cost the join path
#   MULTITENANCY=1      also measure, in the same rounds, two more Api processes started alike: 'single' (multitenancy
#                       off) and 'multitenant' (MULTITENANCY_ENABLED=true, TENANTS tenants, joins of one of them by host
#                       name: Host: tenant-0.lb.localhost); MULTITENANCY=0 measures nginx and the AppHost's Api only
#   TENANTS=10          tenants of the multitenant Api
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
MULTITENANCY=${MULTITENANCY:-1}
TENANTS=${TENANTS:-10}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RESULTS_DIR="$REPO/bench/results"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$RESULTS_DIR/join-$STAMP.json}

NAME=join
# shellcheck source=../lib/common.sh
source "$REPO/bench/lib/common.sh"   # log, die, ensure_tools, build_release, the EXIT clean-up, start_apphost, start_nginx, cpu_ticks
# shellcheck source=slice.sh
source "$HERE/slice.sh"               # join_slice: one measured slice

ensure_tools
build_release

# ---------------------------------------------------------------- the system under test
# With MULTITENANCY=1 the AppHost's services run with multitenancy on and the bare host as the default tenant: the
# poller must read the tenants' marks like the API that created the meetings, or it files them under the default
# tenant and the multitenant Api's joins find nothing. The 'scalelite' target (bare host) is then the default tenant.
TENANCY_ENV=(); [[ $MULTITENANCY == 1 ]] && TENANCY_ENV=(MULTITENANCY_ENABLED=true URL_HOST=lb.localhost Tenancy__DefaultTenant=true)
start_apphost "$SIMULATORS" "${TENANCY_ENV[@]}"

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

# Each measured target: its base URL, its join paths, the process whose CPU it costs, and a Host header (or none).
TARGETS=(nginx scalelite)
declare -A URL_OF=([scalelite]=$API_URL) URLS_OF=([nginx]=$WORK/urls.txt [scalelite]=$WORK/urls.txt) PID_OF=([scalelite]=$API_PID) HOST_OF=()
if [[ $MULTITENANCY == 1 ]]; then
  read -r API_SECRET < <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"]["secret"])' "$STATE/endpoints.json")
  start_api single
  start_api multitenant MULTITENANCY_ENABLED=true URL_HOST=lb.localhost
  python3 "$REPO/bench/lib/bbb.py" addtenants "$API_URL_multitenant" "$API_SECRET" "$TENANTS" || die "adding the tenants failed"
  python3 "$HERE/prepare.py" "$STATE/endpoints.json" "$WORK/urls-multitenant.txt" --meetings "$MEETINGS" --urls "$URLS" --check 20 \
    --api "$API_URL_multitenant" --secret tenant-0-secret --host tenant-0.lb.localhost --prefix tenant0 >&2 \
    || die "preparing the tenant's meetings or join URLs failed"
  URL_OF[single]=$API_URL_single; URLS_OF[single]=$WORK/urls.txt; PID_OF[single]=$API_PID_single
  URL_OF[multitenant]=$API_URL_multitenant; URLS_OF[multitenant]=$WORK/urls-multitenant.txt; PID_OF[multitenant]=$API_PID_multitenant
  HOST_OF[multitenant]=tenant-0.lb.localhost
  TARGETS+=(single multitenant)
fi
# SCRAPE=1: the AppHost's Api again, while every service's /metrics is scraped (see start_scraper).
[[ ${SCRAPE:-0} == 1 ]] && TARGETS+=(scraped)

# ---------------------------------------------------------------- the baseline: nginx `return 302`, same URLs
start_nginx "location /bigbluebutton/api/join { return 302 $SIM_URL/bigbluebutton/api/join?\$args; }
    location / { return 404; }"
log "nginx baseline on $NGINX_URL (workers: $NGINX_WORKERS), Scalelite API on $API_URL"

# ---------------------------------------------------------------- measuring
SLICES="$WORK/slices.jsonl"
: >"$SLICES"

# The scraper of SCRAPE=1: every service's /metrics once a second with the operator token, as Prometheus would;
# each answer's status goes to $WORK/scrapes.txt, so that a refused or failing scrape is seen, not silently cheap.
SCRAPER_PID=
start_scraper() {
  local urls secret
  read -r secret urls < <(python3 -c 'import json, sys
e = json.load(open(sys.argv[1]))
m = e.get("metrics") or sys.exit("endpoints.json lists no metrics URLs")
print(e["api"]["secret"], m["api"], m["poller"], m["recordingsync"])' "$STATE/endpoints.json") || die "no metrics URLs in endpoints.json"
  (
    while :; do
      for u in $urls; do
        curl -s -o /dev/null -m 5 -w '%{http_code}\n' -H "Authorization: Bearer $secret" "$u" >>"$WORK/scrapes.txt" || echo 000 >>"$WORK/scrapes.txt"
      done
      sleep 1
    done
  ) </dev/null &
  SCRAPER_PID=$!
  EXTRA_PIDS+=("$SCRAPER_PID")
}
stop_scraper() { stop_pid "$SCRAPER_PID" 5; SCRAPER_PID=; }

# run_slice TARGET ROUND SECONDS COUNT [URL_FILE]: profile slices (alive, index, badchecksum) run on the AppHost's Api.
run_slice() {
  local target=$1 url
  [[ $target == nginx ]] && url=$NGINX_URL || url=${URL_OF[$target]:-$API_URL}
  [[ $target == scraped ]] && start_scraper
  join_slice "$target" "$2" "$3" "$4" "$url" "${5:-${URLS_OF[$target]:-$WORK/urls.txt}}" "${PID_OF[$target]:-$API_PID}" "${HOST_OF[$target]:-}"
  [[ $target == scraped ]] && stop_scraper
  return 0
}

log "check and warm-up: ${WARMUP}s each with status counting (${TARGETS[*]})"
for t in "${TARGETS[@]}"; do run_slice "$t" 0 "$WARMUP" 1; done
if [[ ${SCRAPE:-0} == 1 ]]; then
  grep -qv '^200$' "$WORK/scrapes.txt" && die "a /metrics scrape did not answer 200: $(sort "$WORK/scrapes.txt" | uniq -c | tr '\n' ' ')"
fi
python3 - "$SLICES" <<'EOF' || die "the check pass saw answers other than 302"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    other = {k: v for k, v in r["statuses"].items() if k != "302"}
    if other or not r["statuses"] or sum(r["errors"].values()):
        sys.exit(f"{r['target']}: statuses {r['statuses']} errors {r['errors']}")
EOF

log "measuring: $ROUNDS rounds x ${DURATION}s per target, wrk -t$THREADS -c$CONNECTIONS, order alternating"
REVERSED=(); for ((k = ${#TARGETS[@]} - 1; k >= 0; k--)); do REVERSED+=("${TARGETS[k]}"); done
for ((i = 1; i <= ROUNDS; i++)); do
  if ((i % 2)); then order=("${TARGETS[@]}"); else order=("${REVERSED[@]}"); fi
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
SCRAPES=0
[[ -f $WORK/scrapes.txt ]] && SCRAPES=$(wc -l <"$WORK/scrapes.txt")
[[ -f $WORK/scrapes.txt ]] && grep -qv '^200$' "$WORK/scrapes.txt" && log "warning: scrapes not answered 200: $(grep -v '^200$' "$WORK/scrapes.txt" | sort | uniq -c | tr '\n' ' ')"
SETTINGS=$(printf '{"date_utc":"%s","rounds":%d,"duration_s":%d,"warmup_s":%d,"threads":%d,"connections":%d,"meetings":%d,"urls":%d,"simulators":%d,"nginx_workers":%d,"log_level":"%s","api_replicas":%d,"multitenancy":%d,"tenants":%d,"scrape":%s,"scrapes":%d}' \
  "$STAMP" "$ROUNDS" "$DURATION" "$WARMUP" "$THREADS" "$CONNECTIONS" "$MEETINGS" "$URLS" "$SIMULATORS" "$NGINX_WORKERS" "$LOG_LEVEL" "${API_REPLICAS:-1}" "$MULTITENANCY" "$TENANTS" \
  "$([[ ${SCRAPE:-0} == 1 ]] && echo true || echo false)" "$SCRAPES")
python3 "$HERE/report.py" summary "$SLICES" "$OUT" "$SETTINGS"
