#!/usr/bin/env bash
# The one test command: installs what the tests need, builds once, runs every test,
# and ends with the line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"

# shellcheck source=eng/prerequisites.sh
source eng/prerequisites.sh
ensure_prerequisites || exit 1

results="TestResults"
rm -rf "$results"
dotnet build Scalelite.sln -c Release -nologo -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }
dotnet test Scalelite.Tests/Scalelite.Tests.csproj -c Release --no-build -nologo \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?
summary=$(dotnet run --project eng/TrxSummary -c Release -- "$results/tests.trx" 2>/dev/null)
if [ -z "$summary" ]; then
  # No result file: the run itself broke before a test could report.
  summary="0 passed, 1 failed"
  status=1
fi
echo "$summary"
exit $status
