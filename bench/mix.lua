-- wrk script for bench/nodes: the token-endpoint mix. Each thread sends, in turn:
--   client_credentials (ES256 client), authorization_code exchange (a seeded code),
--   refresh_token (rotation: each response's refresh token goes back into the pool),
--   introspection (of one access token, by its client).
-- From the environment:
--   BENCH_CODES, BENCH_REFRESH  files of codes and refresh tokens, one per line
--   BENCH_TOKEN                 the access token to introspect
--   BENCH_AUTH_SVC, BENCH_AUTH_WEB, BENCH_AUTH_PW   Authorization header values
--   BENCH_THREADS               wrk's -t
--   BENCH_SHARD                 "i/n": this is wrk process i of n; pools are split between all
--                               processes' threads
--   BENCH_REDIRECT              the web client's redirect URI
-- Prints one JSON line with counts and latency percentiles; "exhausted" is true when a thread
-- ran out of codes (the run is then not valid: its clock kept running).
local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local function with_auth(env)
  local h = { ["Content-Type"] = form["Content-Type"], ["Authorization"] = os.getenv(env) }
  return h
end
local svc, web, pw = with_auth("BENCH_AUTH_SVC"), with_auth("BENCH_AUTH_WEB"), with_auth("BENCH_AUTH_PW")
local token = os.getenv("BENCH_TOKEN") or ""
local redirect = os.getenv("BENCH_REDIRECT") or ""

local threads = {}
local next_id = 0
function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function load(file, slot, slots)
  local pool, n, i = {}, 0, 0
  for line in io.lines(file) do
    if line ~= "" then
      if i % slots == slot then
        n = n + 1
        pool[n] = line
      end
      i = i + 1
    end
  end
  return { items = pool, head = 1, tail = n }
end

local codes, refresh
exhausted = false
function init(args)
  local per = tonumber(os.getenv("BENCH_THREADS") or "1")
  local shard, shards = (os.getenv("BENCH_SHARD") or "0/1"):match("(%d+)/(%d+)")
  local slot, slots = tonumber(shard) * per + thread_id, tonumber(shards) * per
  codes = load(os.getenv("BENCH_CODES"), slot, slots)
  refresh = load(os.getenv("BENCH_REFRESH"), slot, slots)
end

local function take(pool)
  if pool.head > pool.tail then return nil end
  local v = pool.items[pool.head]
  pool.items[pool.head] = nil
  pool.head = pool.head + 1
  return v
end

-- Stops this thread when a pool is used up (the request returned here is never counted).
local function used_up()
  exhausted = true
  wrk.thread:stop()
  return wrk.format("GET", "/healthz")
end

local turn = 0
function request()
  turn = turn % 4 + 1
  if turn == 1 then
    return wrk.format("POST", "/token", svc, "grant_type=client_credentials&scope=api")
  elseif turn == 2 then
    local code = take(codes)
    if not code then return used_up() end
    return wrk.format("POST", "/token", web, "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" .. redirect)
  elseif turn == 3 then
    local rt = take(refresh)
    if not rt then return used_up() end
    return wrk.format("POST", "/token", web, "grant_type=refresh_token&refresh_token=" .. rt)
  else
    return wrk.format("POST", "/introspect", pw, "token=" .. token)
  end
end

function response(status, _, body)
  if status == 200 then
    local rt = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if rt then
      refresh.tail = refresh.tail + 1
      refresh.items[refresh.tail] = rt
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = false
  for _, t in ipairs(threads) do out = out or t:get("exhausted") end
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"non2xx":%d,"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f,"exhausted":%s}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, tostring(out)))
end
