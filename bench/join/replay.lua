-- Replays pre-signed request paths round-robin (wrk's Lua has no SHA, so the paths are signed beforehand).
--   URLS=file     one path per line (required)
--   COUNT=1       also count status codes and print them (costs wrk some CPU: used for the check pass only)
-- At the end it prints one line "RESULT {json}" with the figures run.sh reads.

local paths = {}
local file = os.getenv("URLS") or error("URLS is not set")
for line in io.lines(file) do
  if #line > 0 then paths[#paths + 1] = line end
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  -- Threads start at different offsets so that they do not send the same URL at the same time.
  index = (id - 1) * math.floor(#paths / 8)
  statuses = {}
  requests = {}
  for i, p in ipairs(paths) do
    requests[i] = wrk.format("GET", p)
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end

if os.getenv("COUNT") == "1" then
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, reqs)
  local codes = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for code, n in pairs(s) do
        codes[tostring(code)] = (codes[tostring(code)] or 0) + n
      end
    end
  end
  local parts = {}
  for code, n in pairs(codes) do parts[#parts + 1] = string.format('"%s":%d', code, n) end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ",")))
end
