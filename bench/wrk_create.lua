-- wrk script for the create benchmark: POST a ConfigMap with a unique name on every request.
-- Usage: wrk ... -s bench/wrk_create.lua <url> -- <unique-prefix>
-- The prefix (one per wrk run) plus the thread number and a per-thread counter make every name unique.

local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  prefix = args[1] or "cm"
  counter = 0
end

function request()
  counter = counter + 1
  local name = prefix .. "-" .. tid .. "-" .. counter
  local body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"' .. name ..
    '","labels":{"app":"bench"}},"data":{"key":"value","other":"some more data"}}'
  return wrk.format("POST", nil, nil, body)
end
