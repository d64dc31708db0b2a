#!/usr/bin/env bash
# Poller benchmark: one poll cycle over 100 and 1000 simulated backends (5 % hung, 5 % slower than the timeout),
# against the bare getMeetings fan-out to the same backends measured in the same run, interleaved.
# Settings: SIZES (100,1000), ROUNDS (7), TIMEOUT (seconds, 2), SKIP_BUILD=1, OUT (bench/results/poller-UTC.json).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES=${SIZES:-100,1000}; ROUNDS=${ROUNDS:-7}; TIMEOUT=${TIMEOUT:-2}
mkdir -p bench/results
OUT=${OUT:-bench/results/poller-$(date -u +%Y%m%dT%H%M%SZ).json}
if [ -z "${SKIP_BUILD:-}" ]; then
  dotnet build Scalelite.BbbSimulator -c Release -nologo -clp:ErrorsOnly
  dotnet build bench/poller/PollerBench -c Release -nologo -clp:ErrorsOnly
fi
sim=$(ls Scalelite.BbbSimulator/bin/Release/net*/Scalelite.BbbSimulator.dll | head -1)
bench=$(ls bench/poller/PollerBench/bin/Release/net*/PollerBench.dll | head -1)
ulimit -n 65536 2>/dev/null || true
timeout 900 dotnet "$bench" "$sim" "$SIZES" "$ROUNDS" "$TIMEOUT" "$OUT"
python3 - "$OUT" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
print(f"{'backends':>8} {'cycle s (median)':>17} {'cycle s (max)':>14} {'fan-out s':>10} {'ratio':>6} {'cycle CPU ms/backend':>21} {'fan-out CPU ms/backend':>23} {'owner lookup p50/p99 ms, cycle':>31} {'fan-out':>12}")
for r in rows:
    print(f"{r['backends']:>8} {r['cycleSecondsMedian']:>17.3f} {r['cycleSecondsMax']:>14.3f} {r['baselineSecondsMedian']:>10.3f} {r['ratioOfMedians']:>6.3f} {r['cycleCpuMsPerBackend']:>21.3f} {r['baselineCpuMsPerBackend']:>23.3f} {r['ownerLookupMsP50Cycle']:>20.2f} / {r['ownerLookupMsP99Cycle']:<8.2f} {r['ownerLookupMsP50Baseline']:>5.2f} / {r['ownerLookupMsP99Baseline']:<5.2f}")
print("written to", sys.argv[1])
PY
