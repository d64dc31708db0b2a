#!/usr/bin/env bash
# getRecordings on 100k recordings (6 metadata entries each), in the database and end to end.
#
# 1. A throwaway PostgreSQL, a Redis and Scalelite.Api (which applies the migrations), all on loopback.
# 2. COPY-loads N recordings, each with 6 metadata entries and a presentation format with 2 thumbnails.
# 3. EXPLAIN (ANALYZE) of the SQL RecordingQuery generates for each filter, RUNS times; medians, and the index used.
# 4. HTTP: getRecordings (100 recordings of one meeting) through the API against nginx serving the same bytes as a
#    static file, both with wrk, in interleaved rounds; medians and the ratio.
# 5. One unfiltered getRecordings of all N recordings, streamed: time, bytes, and the API's peak RSS.
#
# Usage: bench/recordings/run.sh    (env: N=100000 RUNS=9 ROUNDS=5 DURATION=5 CONNECTIONS=8 SKIP_BUILD=1)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-100000}; RUNS=${RUNS:-9}; ROUNDS=${ROUNDS:-5}; DURATION=${DURATION:-5}; CONNECTIONS=${CONNECTIONS:-8}
SECRET=bench-secret-0123456789

command -v wrk >/dev/null && command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk nginx-light >/dev/null; }
command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
[ -n "${SKIP_BUILD:-}" ] || dotnet build Scalelite.Api -c Release -nologo -clp:ErrorsOnly >/dev/null

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
WORK=$(mktemp -d /tmp/bench-recordings-XXXXXX); chmod 755 "$WORK"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port); REDISPORT=$(free_port); APIPORT=$(free_port); NGINXPORT=$(free_port)
API_PID=

cleanup() {
  [ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  redis-cli -p "$REDISPORT" shutdown nosave >/dev/null 2>&1 || true
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/pg" && chown postgres "$WORK/pg" 2>/dev/null || true
as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --no-locale --no-sync >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/log" -w -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB" start >/dev/null
PSQL=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
"${PSQL[@]}" -c "CREATE DATABASE scalelite" postgres
redis-server --port "$REDISPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir "$WORK" --pidfile "$WORK/redis.pid" >/dev/null

ConnectionStrings__scalelite="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=scalelite" \
ConnectionStrings__redis="127.0.0.1:$REDISPORT" Scalelite__Secrets=$SECRET Logging__LogLevel__Default=Warning \
ASPNETCORE_URLS="http://127.0.0.1:$APIPORT" dotnet Scalelite.Api/bin/Release/net10.0/Scalelite.Api.dll >"$WORK/api.log" 2>&1 &
API_PID=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$APIPORT/health" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$APIPORT/health" >/dev/null || { echo "API did not become healthy"; cat "$WORK/api.log"; exit 1; }

echo "Loading $N recordings with COPY ..."
load_start=$(date +%s.%N)
# 1000 meetings; recordings a minute apart; metadata: origin (2 values), version, course (1000 values, 100 recordings
# each), context, recording name, gl-listed.
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) { t = 1600000000 + i * 60; h = sprintf("%08x", (i * 2654435761) % 4294967296)
  printf "%d\trec-%s-%d\tmeeting-%04d\trec-%s-%d\t\tLecture %d\tf\tt\tpublished\t%d\t%d\t%d\t%d\tf\t%d\t%d\n", i, h, t, i % 1000, h, t, i, t, t + 3600, i % 40, i * 1000, t, t } }' \
  > "$WORK/recordings.tsv"
"${PSQL[@]}" scalelite >/dev/null <<SQL
CREATE TEMP TABLE r_in (id bigint, record_id text, meeting_id text, internal_meeting_id text, tenant_id text, name text, is_breakout bool,
  published bool, state text, start_s bigint, end_s bigint, participants int, raw_size bigint, protected bool, created_s bigint, updated_s bigint);
\copy r_in FROM '$WORK/recordings.tsv'
INSERT INTO recordings (id, record_id, meeting_id, internal_meeting_id, tenant_id, name, is_breakout, published, state, start_time, end_time,
  participants, raw_size, protected, created_at, updated_at)
SELECT id, record_id, meeting_id, internal_meeting_id, coalesce(tenant_id, ''), name, is_breakout, published, state, to_timestamp(start_s), to_timestamp(end_s),
  participants, raw_size, protected, to_timestamp(created_s), to_timestamp(updated_s) FROM r_in;
SELECT setval(pg_get_serial_sequence('recordings', 'id'), $N);
SQL
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) {
  printf "%d\tbbb-origin\t%s\n", i, (i % 2 ? "Moodle" : "Greenlight")
  printf "%d\tbbb-origin-version\t4.%d\n", i, i % 7
  printf "%d\tcourse\tcourse-%04d\n", i, i % 1000
  printf "%d\tbbb-context\tProgramme %d\n", i, i % 50
  printf "%d\tbbb-recording-name\tLecture %d\n", i, i
  printf "%d\tgl-listed\t%s\n", i, (i % 3 ? "false" : "true") } }' > "$WORK/metadata.tsv"
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
  printf "%d\t%d\tpresentation\thttps://bbb%d.example.org/playback/presentation/2.3/rec-%d\t%d\t%d\t%d\n", i, i, i % 5, i, 2000 + i % 900, 3000000 + i, 150000 + i }' > "$WORK/formats.tsv"
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) for (k = 1; k <= 2; k++)
  printf "%d\thttps://bbb%d.example.org/presentation/rec-%d/thumbnails/thumb-%d.png\t176\t136\tSlide %d\t%d\n", i, i % 5, i, k, k, k }' > "$WORK/thumbnails.tsv"
"${PSQL[@]}" scalelite >/dev/null <<SQL
\copy recording_metadata (recording_id, key, value) FROM '$WORK/metadata.tsv'
\copy playback_formats (id, recording_id, format, url, processing_time, duration, size) FROM '$WORK/formats.tsv'
\copy thumbnails (playback_format_id, url, width, height, alt, sequence) FROM '$WORK/thumbnails.tsv'
SELECT setval(pg_get_serial_sequence('playback_formats', 'id'), $N);
VACUUM ANALYZE;
SQL
load_end=$(date +%s.%N)
counts=$("${PSQL[@]}" scalelite -c "SELECT (SELECT count(*) FROM recordings) || ' recordings, ' || (SELECT count(*) FROM recording_metadata) || ' metadata rows, ' || (SELECT count(*) FROM thumbnails) || ' thumbnails'")
printf 'Loaded %s in %.1f s\n\n' "$counts" "$(echo "$load_end - $load_start" | bc)"

COLS="r.id, r.record_id, r.meeting_id, r.internal_meeting_id, r.name, r.is_breakout, r.published, r.state, r.start_time, r.end_time, r.participants, r.raw_size, r.protected"
BASE="SELECT $COLS FROM recordings r WHERE r.tenant_id = '' AND r.state = ANY('{published,unpublished}')"
ORDER="ORDER BY r.start_time DESC, r.id DESC"
OLDEST=$("${PSQL[@]}" scalelite -c "SELECT start_time || '|' || id FROM recordings ORDER BY start_time, id OFFSET 150 LIMIT 1")
declare -A Q=(
  [1_meetingID]="$BASE AND r.meeting_id = 'meeting-0042' $ORDER LIMIT 100"
  [2_meta]="$BASE AND EXISTS (SELECT 1 FROM recording_metadata m WHERE m.recording_id = r.id AND m.key = 'course' AND m.value = 'course-0042') $ORDER LIMIT 100"
  [3_recordID_prefix]="$BASE AND (r.record_id LIKE 'rec-0a1%') $ORDER LIMIT 100"
  [3b_recordID_prefix_broad]="$BASE AND (r.record_id LIKE 'rec-0a%') $ORDER LIMIT 100"
  [4_deep_page_filtered]="SELECT $COLS FROM recordings r WHERE r.id IN (${BASE/SELECT $COLS/SELECT r.id} AND EXISTS (SELECT 1 FROM recording_metadata m WHERE m.recording_id = r.id AND m.key = 'course' AND m.value = 'course-0042') $ORDER LIMIT 10 OFFSET 90) $ORDER"
  [5_deep_page_keyset]="$BASE AND r.start_time <= '${OLDEST%|*}' AND (r.start_time < '${OLDEST%|*}' OR r.id < ${OLDEST#*|}) $ORDER LIMIT 100"
  [6_page_details_100]="SELECT recording_id, key, value FROM recording_metadata WHERE recording_id = ANY(ARRAY(SELECT generate_series(50001, 50100)::bigint)) ORDER BY recording_id, id"
  [7_deep_page_offset_unfiltered]="SELECT $COLS FROM recordings r WHERE r.id IN (${BASE/SELECT $COLS/SELECT r.id} $ORDER LIMIT 100 OFFSET $((N - 150))) $ORDER"
)
printf '%-32s %10s %10s %6s  %s\n' query median_ms max_ms rows "plan (indexes)"
for name in $(printf '%s\n' "${!Q[@]}" | sort); do
  times=()
  for _ in $(seq 1 "$RUNS"); do
    plan=$("${PSQL[@]}" scalelite -c "EXPLAIN (ANALYZE, FORMAT JSON) ${Q[$name]}")
    times+=("$(echo "$plan" | jq '.[0]["Execution Time"]')")
    rows=$(echo "$plan" | jq '.[0].Plan["Actual Rows"]')
  done
  indexes=$(echo "$plan" | jq -r '[.. | objects | select(has("Index Name")) | .["Index Name"]] | unique | join(",")')
  scans=$(echo "$plan" | jq -r '[.. | objects | select(.["Node Type"] == "Seq Scan") | .["Relation Name"]] | if length > 0 then " SEQ SCAN: " + join(",") else "" end')
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  printf '%-32s %10.3f %10.3f %6s  %s%s\n' "$name" "$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")" "$(echo "$sorted" | tail -n 1)" "$rows" "$indexes" "$scans"
done

# End to end: the API's answer against nginx serving the same bytes.
QUERY="meetingID=meeting-0042"
CHECKSUM=$(printf 'getRecordings%s%s' "$QUERY" "$SECRET" | sha256sum | cut -d' ' -f1)
API_PATH="/bigbluebutton/api/getRecordings?$QUERY&checksum=$CHECKSUM"
mkdir -p "$WORK/www"; chmod 755 "$WORK/www"
curl -sf "http://127.0.0.1:$APIPORT$API_PATH" -o "$WORK/www/recordings.xml"
chmod 644 "$WORK/www/recordings.xml"
grep -o "<recording>" "$WORK/www/recordings.xml" | wc -l | xargs printf '\nHTTP: getRecordings?%s answers %s recordings, ' "$QUERY"
printf '%s bytes\n' "$(stat -c %s "$WORK/www/recordings.xml")"
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1; pid $WORK/nginx.pid; error_log $WORK/nginx.err;
events { worker_connections 1024; }
http { access_log off; default_type text/xml;
  server { listen 127.0.0.1:$NGINXPORT; root $WORK/www; location / { try_files /recordings.xml =404; } } }
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK"
sleep 0.3
rps() { wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" | awk '/Requests\/sec/ { r = $2 } /^ +50%/ { l = $2 } END { print r, l }'; }
rps "http://127.0.0.1:$APIPORT$API_PATH" >/dev/null # warm-up
api_rps=(); ngx_rps=(); api_p50=(); ngx_p50=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="api nginx"; else order="nginx api"; fi
  for who in $order; do
    if [ "$who" = api ]; then read -r r l < <(rps "http://127.0.0.1:$APIPORT$API_PATH"); api_rps+=("$r"); api_p50+=("$l")
    else read -r r l < <(rps "http://127.0.0.1:$NGINXPORT/bigbluebutton/api/getRecordings"); ngx_rps+=("$r"); ngx_p50+=("$l"); fi
  done
  echo "  round $round: api ${api_rps[-1]} req/s (p50 ${api_p50[-1]}), nginx ${ngx_rps[-1]} req/s (p50 ${ngx_p50[-1]})"
done
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
am=$(median "${api_rps[@]}"); nm=$(median "${ngx_rps[@]}")
printf 'median req/s: api %s, nginx static %s, ratio api/nginx %.3f\n' "$am" "$nm" "$(echo "$am / $nm" | bc -l)"

# Streaming: every recording in one answer.
QUERY="state=any"
CHECKSUM=$(printf 'getRecordings%s%s' "$QUERY" "$SECRET" | sha256sum | cut -d' ' -f1)
rss_before=$(awk '/VmRSS/ { print $2 }' "/proc/$API_PID/status")
curl -s -o "$WORK/all.xml" -w 'all %{size_download} bytes in %{time_total} s (first byte after %{time_starttransfer} s)\n' \
  "http://127.0.0.1:$APIPORT/bigbluebutton/api/getRecordings?$QUERY&checksum=$CHECKSUM" | sed 's/^/\nUnfiltered getRecordings: /'
printf 'recordings in the answer: %s; API RSS before %s MiB, peak (VmHWM) %s MiB\n' "$(grep -o '<recording>' "$WORK/all.xml" | wc -l)" \
  "$((rss_before / 1024))" "$(( $(awk '/VmHWM/ { print $2 }' "/proc/$API_PID/status") / 1024 ))"
