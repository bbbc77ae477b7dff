-- wrk script for bench/run. From the environment:
--   BENCH_BODY   a form body (POST) or empty (GET); "{}" in it is replaced by a pool value
--   BENCH_AUTH   an Authorization header value, optional
--   BENCH_POOL   a file of one-time values (authorization codes, refresh tokens), one per line,
--                split between wrk's threads; each request uses one up. A thread whose share
--                runs out stops, but wrk's clock does not: bench/run refuses such a run
--   BENCH_CHAIN  with a pool: put each response's refresh_token back (rotation, so a pool of a
--                few per connection lasts for the whole run)
--   BENCH_THREADS  wrk's -t, to split the pool
-- Prints one JSON line with the counts and latency percentiles.
local body = os.getenv("BENCH_BODY") or ""
local auth = os.getenv("BENCH_AUTH") or ""
local pool_file = os.getenv("BENCH_POOL") or ""
local chain = (os.getenv("BENCH_CHAIN") or "") ~= ""

local headers = {}
if auth ~= "" then headers["Authorization"] = auth end
if body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  headers["Content-Type"] = "application/x-www-form-urlencoded"
end
for k, v in pairs(headers) do wrk.headers[k] = v end

local next_id = 0
function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

local pool, head, tail = {}, 1, 0
function init(args)
  if pool_file == "" then return end
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local i = 0
  for line in io.lines(pool_file) do
    if line ~= "" then
      if i % threads == thread_id then
        tail = tail + 1
        pool[tail] = line
      end
      i = i + 1
    end
  end
end

if pool_file ~= "" then
  function request()
    if head > tail then
      -- This thread's share is used up: stop it (the request returned here is never counted).
      wrk.thread:stop()
      return wrk.format("GET", "/.well-known/openid-configuration")
    end
    local value = pool[head]
    pool[head] = nil
    head = head + 1
    return wrk.format("POST", wrk.path, headers, (body:gsub("{}", value)))
  end
end

if chain then
  function response(status, _, resp_body)
    if status == 200 then
      local rt = resp_body:match('"refresh_token"%s*:%s*"([^"]+)"')
      if rt then
        tail = tail + 1
        pool[tail] = rt
      end
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"non2xx":%d,"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
