-- Replays pre-signed request paths (wrk's Lua has no SHA, so the paths are signed beforehand).
--   URLS=file   one path per line (required)
--   UNIQUE=1    every path is sent at most once: thread k of T sends lines k, k+T, k+2T, ...; a thread that runs
--               out starts over and counts the repeats in "wrapped" (run.sh rejects such a slice: more URLs needed)
--               UNIQUE=0: round-robin from a per-thread offset, repeats intended (the join benchmark)
--   COUNT=1     also count status codes (costs wrk some CPU: check passes only)
-- At the end it prints one line "RESULT {json}".
local paths = {}
local file = os.getenv("URLS") or error("URLS is not set")
for line in io.lines(file) do
  if #line > 0 then paths[#paths + 1] = line end
end
local unique = os.getenv("UNIQUE") == "1"

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  -- Each thread runs its own Lua state: setup()'s counter is not visible here, so the thread count comes from run.sh.
  nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  statuses = {}
  wrapped = 0
  if unique then
    index = id - nthreads   -- first request: line id
  else
    index = (id - 1) * math.floor(#paths / 8)
  end
end

function request()
  if unique then
    index = index + nthreads
    if index > #paths then
      wrapped = wrapped + 1
      index = ((index - 1) % #paths) + 1
    end
  else
    index = index % #paths + 1
  end
  return wrk.format("GET", paths[index])
end

if os.getenv("COUNT") == "1" then
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, reqs)
  local codes = {}
  local wraps = 0
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for code, n in pairs(s) do codes[tostring(code)] = (codes[tostring(code)] or 0) + n end
    end
    wraps = wraps + (t:get("wrapped") or 0)
  end
  local parts = {}
  for code, n in pairs(codes) do parts[#parts + 1] = string.format('"%s":%d', code, n) end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"urls":%d,"wrapped":%d,' ..
    '"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, #paths, wraps,
    summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ",")))
end
