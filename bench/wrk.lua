-- wrk script shared by the HTTP benchmarks (see bench/wrk.py).
--
-- BENCH_BODIES (optional): a file with one JSON body per line; each request is a POST of a
--   random line to BENCH_PATH. Without it, each request is a GET of BENCH_PATH.
-- BENCH_TOKEN (optional): sent as "Authorization: Bearer ...".
-- BENCH_MAX_REQUESTS: a cap per thread, so a run is bounded in count as well as in time.
-- done() prints one line "BENCH {json}" that bench/wrk.py parses (latencies in microseconds).

local path = os.getenv("BENCH_PATH") or "/"
local bodies_file = os.getenv("BENCH_BODIES")
local token = os.getenv("BENCH_TOKEN")
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "1000000")

local prepared = {}
local sent = 0
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_id", thread_counter)
end

function init(args)
  math.randomseed(1000 + (thread_id or 0))
  local headers = {}
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  if bodies_file and bodies_file ~= "" then
    headers["Content-Type"] = "application/json"
    for line in io.lines(bodies_file) do
      if line ~= "" then
        prepared[#prepared + 1] = wrk.format("POST", path, headers, line)
      end
    end
  else
    prepared[1] = wrk.format("GET", path, headers)
  end
end

function request()
  sent = sent + 1
  if sent > max_requests then
    wrk.thread:stop()
  end
  if #prepared == 1 then
    return prepared[1]
  end
  return prepared[math.random(#prepared)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean
  ))
end
