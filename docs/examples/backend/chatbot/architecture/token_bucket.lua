-- KEYS: one hash per bucket.  ARGV[1]: now in ms ('' = server clock).
-- Then three ARGV per key: capacity, refill per second, cost (negative = refund).
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local level, wait = {}, 0
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[i * 3 - 1])
  local rate = tonumber(ARGV[i * 3])
  local cost = tonumber(ARGV[i * 3 + 1])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1]) or capacity
  local elapsed = math.max(0, now - (tonumber(state[2]) or now))
  tokens = math.min(capacity, tokens + elapsed * rate / 1000)
  level[i] = tokens
  if cost > capacity then
    return {0, -1}                      -- can never fit: reject, don't ask to retry
  elseif cost > tokens then
    wait = math.max(wait, math.ceil((cost - tokens) * 1000 / rate))
  end
end
if wait > 0 then
  return {0, wait}                      -- spend nothing from any bucket
end
local result = {1, 0}
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[i * 3 - 1])
  local rate = tonumber(ARGV[i * 3])
  local tokens = math.min(capacity, level[i] - tonumber(ARGV[i * 3 + 1]))
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
  -- Expire once the bucket would be full again: an idle user costs no memory.
  redis.call('PEXPIRE', key, math.ceil((capacity - tokens) * 1000 / rate) + 1000)
  result[#result + 1] = math.floor(tokens)
end
return result
