-- wrk script for bench/run.sh.
--   TOKEN        API token, sent as `Authorization: Bearer $TOKEN`
--   BENCH_PATHS  space-separated request paths, taken in turn by each connection's thread
-- When done, prints one machine-readable line starting with `BENCH `.
local token = os.getenv("TOKEN")
if token == nil or token == "" then
  error("TOKEN is not set")
end

local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "", "%S+") do
  paths[#paths + 1] = p
end
if #paths == 0 then
  error("BENCH_PATHS is empty")
end

wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/json"

local threads = 0
function setup(thread)
  -- Each thread starts at a different path, so that the mix is even from the start.
  thread:set("next_index", threads % #paths)
  threads = threads + 1
end

next_index = 0
function request()
  next_index = next_index % #paths + 1
  return wrk.format("GET", paths[next_index])
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
