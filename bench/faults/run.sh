#!/usr/bin/env bash
# The fault suite: a steady mixed BBB API load against the whole topology (AppHost, 3 simulators) while Redis is
# frozen and restarted, PostgreSQL restarted (with a backend dying meanwhile), a backend hangs, errs and answers
# garbage, the published volume is full, and the Poller is killed. See bench/README.md ("faults") and faults.py.
#
# Settings: RATE=120 WORKERS=6 FAULT=15 RECOVER=10 POLL_INTERVAL=2 PHASES=baseline,redis-freeze,... DISK=1
#   SKIP_BUILD=1 KEEP_STATE=1 OUT=FILE
set -euo pipefail

NAME=faults
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$REPO/bench/results/faults-$STAMP.json}
POLL_INTERVAL=${POLL_INTERVAL:-2}
# shellcheck source=../lib/common.sh
source "$REPO/bench/lib/common.sh"

# Processes the suite started itself (a restarted Redis, PostgreSQL or Poller) are not the AppHost's: stop them too.
stop_restarted() {
  local pid
  [[ -f $WORK/extra.pids ]] || return 0
  while read -r pid; do stop_pid "$pid" 20; done <"$WORK/extra.pids"
  # A PostgreSQL started here is still the cluster the AppHost's clean-up looks for; make sure it is down.
  if [[ -f $STATE/postgres/data/postmaster.pid ]]; then
    pid=$(first_pid "$STATE/postgres/data/postmaster.pid")
    if alive "$pid"; then kill -INT "$pid" 2>/dev/null || true; wait_gone "$pid" 20 || true; fi
  fi
  # The full-disk phase mounts a tmpfs over published/: never leave it mounted.
  mountpoint -q "$STATE/recordings/published" 2>/dev/null && umount -l "$STATE/recordings/published" || true
}
trap 'rc=$?; stop_restarted; (exit $rc); cleanup' EXIT

command -v python3 >/dev/null || die "python3 is needed"
command -v redis-server >/dev/null || die "redis-server is needed (./test.sh or ./run.sh installs it)"
build_release
mkdir -p "$(dirname "$OUT")"
start_apphost 3 "POLL_INTERVAL=$POLL_INTERVAL"
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
POLL_INTERVAL=$POLL_INTERVAL python3 "$HERE/faults.py" "$STATE/endpoints.json" "$WORK" "$OUT"
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT"
