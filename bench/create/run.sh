#!/usr/bin/env bash
# Create benchmark: Scalelite's `create` (lock, placement, voice bridge, backend create, ownership record) against the
# same creates sent straight to one simulated BBB server, in interleaved rounds within one run. See bench/README.md.
#
# Targets (per round, order alternating; each pair adjacent):
#   direct      unique creates sent to a stand-alone simulator (outside the pool), signed with its secret
#   ours        unique creates through the Scalelite API, placed on one of the pool's simulators
#   direct-dup  repeats of DUP_MEETINGS creates the stand-alone simulator already holds (duplicateWarning)
#   ours-dup    repeats of DUP_MEETINGS creates made through the API just before (answered from the dedup window)
#
# Settings: ROUNDS=5 DURATION=5 WARMUP=3 THREADS=1 CONNECTIONS=16 SIMULATORS=3 DUP_MEETINGS=500
#   POLL_INTERVAL=5 (the Poller's interval during the run) URL_FACTOR=3 (unique URLs per slice = FACTOR x the warm-up
#   rate x DURATION) LOG_LEVEL=Warning SKIP_BUILD=1 KEEP_STATE=1 OUT=FILE
set -euo pipefail

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-16}
SIMULATORS=${SIMULATORS:-3}
DUP_MEETINGS=${DUP_MEETINGS:-500}
POLL_INTERVAL=${POLL_INTERVAL:-5}
URL_FACTOR=${URL_FACTOR:-3}
WARMUP_URLS=${WARMUP_URLS:-150000}

NAME=create
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$REPO/bench/results/create-$STAMP.json}
# shellcheck source=../lib/common.sh
source "$REPO/bench/lib/common.sh"
BBB="python3 $REPO/bench/lib/bbb.py"

ensure_tools
build_release
start_apphost "$SIMULATORS" "POLL_INTERVAL=$POLL_INTERVAL"

read -r API_URL API_SECRET _ < <($BBB endpoint "$STATE/endpoints.json" api)
read -r _ SIM_SECRET _ < <($BBB endpoint "$STATE/endpoints.json" sim:0)
read -r -a POOL_CONTROLS < <($BBB controls "$STATE/endpoints.json")
start_simulator baseline "$SIM_SECRET"
BASE_CONTROL="$BASE_SIM_URL/sim"
log "Scalelite API $API_URL (pool: $SIMULATORS simulators, pid $SIMS_PID); baseline simulator $BASE_SIM_URL (pid $BASE_SIM_PID)"

SLICES="$WORK/slices.jsonl"; : >"$SLICES"
declare -A SERVER_OF=([direct]=base [ours]=api [direct-dup]=base [ours-dup]=api)
PROCS="api=$API_PID,redis=$REDIS_PID,poller=$POLLER_PID,sims=$SIMS_PID,base=$BASE_SIM_PID"

url_of() { case $1 in ours*) echo "$API_URL" ;; *) echo "$BASE_SIM_URL" ;; esac; }
secret_of() { case $1 in ours*) echo "$API_SECRET" ;; *) echo "$SIM_SECRET" ;; esac; }
controls_of() { case $1 in ours*) echo "${POOL_CONTROLS[*]}" ;; *) echo "$BASE_CONTROL" ;; esac; }

# slice TARGET ROUND SECONDS URLCOUNT COUNT: prepares the URLs, runs wrk, checks what the backends saw.
slice() {
  local target=$1 round=$2 secs=$3 n=$4 count=$5 file="$WORK/urls-$1-$2.txt" prefix="$1-r$2"
  if [[ $target == *-dup ]]; then
    $BBB creates "$file" --secret "$(secret_of "$target")" --prefix "$prefix" --count "$DUP_MEETINGS"
    $BBB send "$(url_of "$target")" "$file" 2>/dev/null || die "preparing the $target meetings failed"
    UNIQUE=0
  else
    $BBB creates "$file" --secret "$(secret_of "$target")" --prefix "$prefix" --count "$n"
    UNIQUE=1
  fi
  local c0 m0 c1 m1
  read -r c0 m0 _ < <($BBB stats $(controls_of "$target"))
  run_wrk "$target" "$round" "$secs" "$(url_of "$target")" "$file" "$count" "$PROCS"
  read -r c1 m1 _ < <($BBB stats $(controls_of "$target"))
  rm -f "$file"
  python3 - "$SLICES" "$target" "$((c1 - c0))" "$((m1 - m0))" "$((CONNECTIONS * THREADS))" <<'PY' || exit 1
import json, sys
path, target, creates, meetings, inflight = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lines = open(path).read().splitlines()
r = json.loads(lines[-1])
n = r["requests"]
other = {k: v for k, v in r["statuses"].items() if k != "200"}
problems = []
if r["wrapped"]:
    problems.append(f"ran out of unique URLs ({r['urls']}, {r['wrapped']} repeats): raise URL_FACTOR")
if sum(r["errors"].values()) or other:
    problems.append(f"errors {r['errors']} statuses {r['statuses']}")
if target.endswith("-dup"):
    if target == "ours-dup" and creates:
        problems.append(f"the backends got {creates} creates during a duplicate slice")
    if meetings:
        problems.append(f"{meetings} meetings appeared during a duplicate slice")
    if target == "direct-dup" and not (n <= creates <= n + inflight):
        problems.append(f"the simulator counted {creates} creates for {n} requests")
elif not (n <= meetings <= n + inflight) or not (n <= creates <= n + inflight):
    problems.append(f"{n} requests but {creates} creates and {meetings} new meetings on the backends (every create must succeed)")
r["backend_creates"], r["backend_new_meetings"] = creates, meetings
lines[-1] = json.dumps(r)
open(path, "w").write("\n".join(lines) + "\n")
if problems:
    sys.exit(f"{target}: " + "; ".join(problems))
PY
}

reset_all() { $BBB reset "${POOL_CONTROLS[@]}" "$BASE_CONTROL"; sleep $((POLL_INTERVAL + 1)); }

log "warm-up and check: ${WARMUP}s per target, every answer counted"
for t in direct ours direct-dup ours-dup; do slice "$t" 0 "$WARMUP" "$WARMUP_URLS" 1; done
RATE=$(python3 -c 'import json,sys; print(max(json.loads(l)["rps"] for l in open(sys.argv[1]) if json.loads(l)["target"] in ("direct","ours")))' "$SLICES")
PER_SLICE=$(python3 -c "print(int($RATE * $DURATION * $URL_FACTOR) + 5000)")
log "warm-up peak ${RATE} creates/s: $PER_SLICE unique URLs per create slice"

log "measuring: $ROUNDS rounds x ${DURATION}s per target, wrk -t$THREADS -c$CONNECTIONS"
for ((i = 1; i <= ROUNDS; i++)); do
  reset_all
  if ((i % 2)); then order=(direct ours ours-dup direct-dup); else order=(ours direct direct-dup ours-dup); fi
  for t in "${order[@]}"; do slice "$t" "$i" "$DURATION" "$PER_SLICE" 0; sleep 1; done
done

SETTINGS=$(printf '{"benchmark":"create","date_utc":"%s","rounds":%d,"duration_s":%d,"warmup_s":%d,"threads":%d,"connections":%d,"simulators":%d,"dup_meetings":%d,"poll_interval":%d,"urls_per_slice":%d,"log_level":"%s"}' \
  "$STAMP" "$ROUNDS" "$DURATION" "$WARMUP" "$THREADS" "$CONNECTIONS" "$SIMULATORS" "$DUP_MEETINGS" "$POLL_INTERVAL" "$PER_SLICE" "${LOG_LEVEL:-Warning}")
python3 "$REPO/bench/lib/report.py" summary "$SLICES" "$OUT" "$SETTINGS" "ours:direct,ours-dup:direct-dup"
