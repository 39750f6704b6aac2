-- tollgate: one admission decision, atomically (see store/redis.rs).
--
-- KEYS[i], ARGV[2i-1], ARGV[2i] describe step i, of the kind given by the i-th character of
-- ARGV[#ARGV-1]:
--   'b' a GCRA bucket: KEYS[i] holds its theoretical arrival time (microseconds on Redis's
--       clock); ARGV = emission interval, burst tolerance (microseconds)
--   'q' a quota counter: KEYS[i] holds the count of the period; ARGV = limit, expiry (Unix s)
-- ARGV[#ARGV] is the usage field ("" for none); the usage hash is the key after the steps.
--
-- Every step is checked before any is taken, so a refusal takes nothing.
-- Admitted: {0, r1, t1, r2, t2, ...}: per step, a bucket's tokens left and microseconds until
-- it is full, or a quota's count after this request and 0.
-- Refused:  {1, step, retry_after_us}.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local kinds = ARGV[#ARGV - 1]
local usage = ARGV[#ARGV]
local n = string.len(kinds)
local next_tat = {}
local out = {0}

for i = 1, n do
  local kind = string.sub(kinds, i, i)
  local a = tonumber(ARGV[2 * i - 1])
  local b = tonumber(ARGV[2 * i])
  if kind == 'b' then
    local tat = tonumber(redis.call('GET', KEYS[i]) or now)
    if tat < now then tat = now end
    local nxt = tat + a
    local ahead = nxt - now
    if ahead > b then
      return {1, i, ahead - b}
    end
    next_tat[i] = nxt
    out[#out + 1] = math.floor((b - ahead) / a)
    out[#out + 1] = ahead
  else
    local used = tonumber(redis.call('GET', KEYS[i]) or '0')
    if used >= a then
      return {1, i, 0}
    end
    out[#out + 1] = used + 1
    out[#out + 1] = 0
  end
end

for i = 1, n do
  if string.sub(kinds, i, i) == 'b' then
    local ttl = math.ceil((next_tat[i] - now) / 1000) + 1000
    redis.call('SET', KEYS[i], string.format('%.0f', next_tat[i]), 'PX', ttl)
  else
    redis.call('INCR', KEYS[i])
    redis.call('EXPIREAT', KEYS[i], ARGV[2 * i])
  end
end

if usage ~= '' then
  redis.call('HINCRBY', KEYS[n + 1], usage, 1)
end

return out
