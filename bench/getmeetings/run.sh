#!/usr/bin/env bash
# getMeetings benchmark: Scalelite's getMeetings over a pool (parallel fan-out to every server, merge) against
#   direct  getMeetings sent to one stand-alone simulated BBB server holding the same total number of meetings
#   nginx   nginx serving a static file with the very bytes of our answer
# in interleaved rounds within one run. See bench/README.md.
#
# and, with MULTITENANCY=1 (the default),
#   tenant  getMeetings of one tenant out of TENANTS=10 on a second Api process with multitenancy on: the pool's
#           meetings are then created through it, spread over the tenants, so 'ours' (multitenancy off) lists all of
#           them and 'tenant' filters the same answers down to a tenth
#
# Settings: ROUNDS=5 DURATION=5 WARMUP=3 THREADS=1 CONNECTIONS=8 SIMULATORS=10 MEETINGS_PER_SIM=20 MULTITENANCY=1 TENANTS=10
#   POLL_INTERVAL (unset: the AppHost's 2 s) NGINX_WORKERS=1 LOG_LEVEL=Warning SKIP_BUILD=1 KEEP_STATE=1 OUT=FILE
set -euo pipefail

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-8}
SIMULATORS=${SIMULATORS:-10}
MEETINGS_PER_SIM=${MEETINGS_PER_SIM:-20}
TOTAL=$((SIMULATORS * MEETINGS_PER_SIM))
MULTITENANCY=${MULTITENANCY:-1}
TENANTS=${TENANTS:-10}

NAME=getmeetings
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$REPO/bench/results/getmeetings-$STAMP.json}
# shellcheck source=../lib/common.sh
source "$REPO/bench/lib/common.sh"
BBB="python3 $REPO/bench/lib/bbb.py"

ensure_tools
build_release
ENV_=(); [[ -n ${POLL_INTERVAL:-} ]] && ENV_=("POLL_INTERVAL=$POLL_INTERVAL")
# With MULTITENANCY=1 the poller must read the tenants' marks as the multitenant Api wrote them, so the AppHost's
# services run with multitenancy on; 'ours' is then a further Api process with it off (see below).
[[ $MULTITENANCY == 1 ]] && ENV_+=(MULTITENANCY_ENABLED=true URL_HOST=lb.localhost Tenancy__DefaultTenant=true)
start_apphost "$SIMULATORS" "${ENV_[@]}"

read -r API_URL API_SECRET _ < <($BBB endpoint "$STATE/endpoints.json" api)
read -r _ SIM_SECRET _ < <($BBB endpoint "$STATE/endpoints.json" sim:0)
read -r -a POOL_CONTROLS < <($BBB controls "$STATE/endpoints.json")
start_simulator baseline "$SIM_SECRET"

# The same TOTAL meetings (same create parameters) through the API into the pool, and straight into the baseline.
if [[ $MULTITENANCY == 1 ]]; then
  start_api multitenant MULTITENANCY_ENABLED=true URL_HOST=lb.localhost
  # 'ours': the single-tenant figure, an Api with multitenancy off, which lists every tenant's meetings.
  start_api single
  API_URL=$API_URL_single API_PID=$API_PID_single
  $BBB addtenants "$API_URL_multitenant" "$API_SECRET" "$TENANTS" || die "adding the tenants failed"
  $BBB creates "$WORK/pool-creates.txt" --secret "$API_SECRET" --prefix gm --count "$TOTAL" --tenants "$TENANTS"
  $BBB send "$API_URL_multitenant" "$WORK/pool-creates.txt" --hosts "$WORK/pool-creates.txt.hosts" --host-suffix lb.localhost \
    || die "creating the pool's meetings through the multitenant API failed"
else
  $BBB creates "$WORK/pool-creates.txt" --secret "$API_SECRET" --prefix gm --count "$TOTAL"
  $BBB send "$API_URL" "$WORK/pool-creates.txt" || die "creating the pool's meetings through the API failed"
fi
$BBB creates "$WORK/base-creates.txt" --secret "$SIM_SECRET" --prefix gm --count "$TOTAL"
$BBB send "$BASE_SIM_URL" "$WORK/base-creates.txt" || die "creating the baseline's meetings failed"
SPREAD=$(for c in "${POOL_CONTROLS[@]}"; do $BBB stats "$c" | cut -d' ' -f2; done | tr '\n' ' ')
log "meetings per pool simulator: $SPREAD(placed by the API); baseline simulator: $($BBB stats "$BASE_SIM_URL/sim" | cut -d' ' -f2)"

$BBB getmeetings "$WORK/ours.txt" --secret "$API_SECRET"
$BBB getmeetings "$WORK/direct.txt" --secret "$SIM_SECRET"
mkdir -p "$WORK/static"
curl -sf "$API_URL$(cat "$WORK/ours.txt")" -o "$WORK/static/getMeetings.xml" || die "getMeetings through the API failed"
curl -sf "$BASE_SIM_URL$(cat "$WORK/direct.txt")" -o "$WORK/direct-answer.xml" || die "getMeetings on the baseline failed"
python3 - "$WORK/static/getMeetings.xml" "$WORK/direct-answer.xml" "$TOTAL" <<'PY' || die "the answers do not list every meeting"
import sys, xml.etree.ElementTree as ET
for f in sys.argv[1:3]:
    root = ET.parse(f).getroot()
    n = len(root.findall("./meetings/meeting"))
    print(f"{f.rsplit('/', 1)[-1]}: {root.findtext('returncode')}, {n} meetings, {len(open(f, 'rb').read())} bytes", file=sys.stderr)
    if root.findtext("returncode") != "SUCCESS" or n != int(sys.argv[3]):
        sys.exit(1)
PY
cp "$WORK/ours.txt" "$WORK/nginx.txt"
TARGETS=(nginx direct ours)
declare -A SERVER_OF=([nginx]=nginx [direct]=base [ours]=api)
declare -A URL_OF=([nginx]="" [direct]=$BASE_SIM_URL [ours]=$API_URL)
declare -A HOST_OF=()
if [[ $MULTITENANCY == 1 ]]; then
  $BBB getmeetings "$WORK/tenant.txt" --tenant 0
  curl -sf -H "Host: tenant-0.lb.localhost" "$API_URL_multitenant$(cat "$WORK/tenant.txt")" -o "$WORK/tenant-answer.xml" || die "getMeetings of a tenant failed"
  python3 - "$WORK/tenant-answer.xml" "$((TOTAL / TENANTS))" <<'PY' || die "the tenant's answer does not list exactly its meetings"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
meetings = root.findall("./meetings/meeting")
tenants = {m.findtext("./metadata/tenant-name") for m in meetings}
print(f"tenant-answer.xml: {root.findtext('returncode')}, {len(meetings)} meetings of {tenants}", file=sys.stderr)
if root.findtext("returncode") != "SUCCESS" or len(meetings) < int(sys.argv[2]) or tenants != {"tenant-0"}:
    sys.exit(1)
PY
  TARGETS+=(tenant)
  SERVER_OF[tenant]=multitenant
  URL_OF[tenant]=$API_URL_multitenant
  HOST_OF[tenant]=tenant-0.lb.localhost
fi
start_nginx "location /bigbluebutton/api/getMeetings { root $WORK/static; default_type text/xml; try_files /getMeetings.xml =404; }
    location / { return 404; }"
URL_OF[nginx]=$NGINX_URL
log "Scalelite API $API_URL (pool of $SIMULATORS, pid $SIMS_PID); baseline simulator $BASE_SIM_URL; nginx $NGINX_URL"

SLICES="$WORK/slices.jsonl"; : >"$SLICES"
slice() { # target round seconds count
  UNIQUE=0
  WRK_HEADER=${HOST_OF[$1]:+Host: ${HOST_OF[$1]}} run_wrk "$1" "$2" "$3" "${URL_OF[$1]}" "$WORK/$1.txt" "$4" \
    "api=$API_PID,redis=$REDIS_PID,poller=$POLLER_PID,sims=$SIMS_PID,base=$BASE_SIM_PID,nginx=$(nginx_pids)${API_PID_multitenant:+,multitenant=$API_PID_multitenant}"
}

log "warm-up and check: ${WARMUP}s per target, every answer counted"
for t in "${TARGETS[@]}"; do slice "$t" 0 "$WARMUP" 1; done
python3 - "$SLICES" <<'PY' || die "the check pass saw answers other than 200 or short answers"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in rows:
    if set(r["statuses"]) != {"200"} or sum(r["errors"].values()):
        sys.exit(f"{r['target']}: statuses {r['statuses']} errors {r['errors']}")
print("answer bytes per request (with headers): " + ", ".join(f"{r['target']} {r['bytes_per_request']}" for r in rows), file=sys.stderr)
PY

log "measuring: $ROUNDS rounds x ${DURATION}s per target, wrk -t$THREADS -c$CONNECTIONS, order alternating"
REVERSED=(); for ((k = ${#TARGETS[@]} - 1; k >= 0; k--)); do REVERSED+=("${TARGETS[k]}"); done
for ((i = 1; i <= ROUNDS; i++)); do
  if ((i % 2)); then order=("${TARGETS[@]}"); else order=("${REVERSED[@]}"); fi
  for t in "${order[@]}"; do slice "$t" "$i" "$DURATION" 0; sleep 1; done
done

SETTINGS=$(printf '{"benchmark":"getmeetings","date_utc":"%s","rounds":%d,"duration_s":%d,"warmup_s":%d,"threads":%d,"connections":%d,"simulators":%d,"meetings":%d,"pool_spread":"%s","answer_bytes":%d,"log_level":"%s","multitenancy":%d,"tenants":%d}' \
  "$STAMP" "$ROUNDS" "$DURATION" "$WARMUP" "$THREADS" "$CONNECTIONS" "$SIMULATORS" "$TOTAL" "$SPREAD" "$(stat -c %s "$WORK/static/getMeetings.xml")" "${LOG_LEVEL:-Warning}" "$MULTITENANCY" "$TENANTS")
PAIRS="ours:direct,ours:nginx"; [[ $MULTITENANCY == 1 ]] && PAIRS+=",tenant:ours"
python3 "$REPO/bench/lib/report.py" summary "$SLICES" "$OUT" "$SETTINGS" "$PAIRS"
