#!/usr/bin/env bash
# Import throughput of RecordingSync vs plain `tar -xf` of the same archives, in one run, interleaved.
# Options pass through: --archives N (8), --mb MiB per archive (24), --rounds R (5). Loopback PostgreSQL only.
set -euo pipefail
cd "$(dirname "$0")"
dotnet build ImportBench.csproj -c Release -nologo -clp:ErrorsOnly >/dev/null
exec timeout 900 dotnet bin/Release/net10.0/ImportBench.dll "$@"
